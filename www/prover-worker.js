// A block-proving Web Worker (an ES module worker):
//
//   const worker = new Worker("prover-worker.js", { type: "module" });
//   worker.postMessage({ id, input, prover });
//
// `input` is a proving job's bytes as a node hands them out (a Uint8Array:
// parent header, block, witness), `prover` the hex reward address the proof
// is bound to; `id` is anything, echoed in every answer. For each request the
// worker posts, in order:
//
//   { id, phase: "started" }
//   { id, phase: "recorded", job: { height, block_hash, pre_root, post_root, transactions }, ms }
//   { id, phase: "proved", proof: Uint8Array, ms, prove_ms }
//
// or, as soon as anything fails, `{ id, error: "the reason" }` (a bad input, a
// block that does not apply on its witness, a module that did not load). `ms`
// counts from "started"; `prove_ms` is the proof alone.
//
// The prover is starling-core's, compiled to WebAssembly with SIMD
// (starling_prover.js and starling_prover_bg.wasm, written next to this file
// by `cargo xtask build-web`; the page's own module does not carry it). It
// proves on one thread and blocks this worker while it runs, so requests are
// answered one after another; the page runs one worker per core.

import init, { ProvingJob } from "./starling_prover.js";

// Loaded once, on the first request; a failure is reported to every request.
let ready;

self.onmessage = async (event) => {
  const { id, input, prover } = event.data ?? {};
  const answer = (message, transfer = []) => self.postMessage({ id, ...message }, transfer);
  try {
    if (!(input instanceof Uint8Array)) throw new Error("the request's input must be a Uint8Array");
    if (typeof prover !== "string") throw new Error("the request's prover must be a hex string");
    ready ??= init();
    await ready;
    const started = performance.now();
    answer({ phase: "started" });
    const job = new ProvingJob(input);
    try {
      answer({ phase: "recorded", job: job.summary(), ms: performance.now() - started });
      const proving = performance.now();
      const proof = job.prove(prover);
      const now = performance.now();
      answer({ phase: "proved", proof, ms: now - started, prove_ms: now - proving }, [proof.buffer]);
    } finally {
      job.free();
    }
  } catch (error) {
    answer({ error: error instanceof Error ? error.message : String(error) });
  }
};
