// Block proofs cross between WebAssembly and native code. A real chain
// (wasm/src/test_chain.rs: blocks of signed transfers made by the sequencer's
// block builder) gives proving inputs exactly as a node hands them to provers;
// the native fixture (wasm/examples/proving_fixture.rs) proves and verifies
// natively, the prover module (starling_prover.js, built by
// `cargo xtask build-web` with simd128) does the same in Node and, through the
// proving worker (www/prover-worker.js), in headless Chromium.
//
// What these tests prove:
// 1. A proof made natively verifies in wasm, which names its block and prover.
// 2. Wasm refuses, each with its reason, a proof whose bytes were tampered
//    with, one made under another configuration, a truncated one, one whose
//    prover address was swapped, a proof of another block, and an input that
//    does not decode.
// 3. A proof made in wasm verifies natively, and it is byte for byte the
//    native prover's proof of the same block for the same prover (the prover
//    is deterministic: wasm computes exactly what native code computes).
// 4. The worker, in headless Chromium, answers a job with its phases
//    (started, recorded with the job, proved) and a proof that verifies
//    natively; a bad job gets `{ error }` with the reason.
//
// Run alone: node --test tests/browser/prover.test.mjs (inputs: proving.mjs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { launchBrowser } from "./harness.mjs";
import { fixture, loadProver, PROVER_DIR, serveSite } from "./proving.mjs";

/** Where the wasm provers' proofs go: a canonical address (limbs below 2^31 - 1). */
const WASM_PROVER = "0x" + "21".repeat(32);

let dir;
let facts; // what the fixture wrote: { inputs, native_proof, prover, prove_ms }
let prover; // the prover module, instantiated in Node
let inputs; // the proving inputs' bytes, block 1 first
let nativeProof;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "starling-prover-test-"));
  facts = await fixture(["write", dir, "--blocks", "2", "--transfers", "4"]);
  prover = await loadProver();
  inputs = await Promise.all(facts.inputs.map((p) => readFile(p)));
  nativeProof = await readFile(facts.native_proof);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a native proof verifies in wasm", () => {
  const verified = prover.verifyBlockProof(inputs[0], nativeProof);
  assert.equal(verified.job.height, 1);
  assert.equal(verified.job.transactions, 4);
  assert.equal(verified.prover, facts.prover, "the proof names the native prover");
  assert.equal(verified.bytes, nativeProof.length);
  assert.notEqual(verified.job.pre_root, verified.job.post_root);
});

test("wasm refuses tampered, truncated, re-addressed and misplaced proofs, saying why", () => {
  const refuses = (proof, reason, input = inputs[0]) =>
    assert.throws(() => prover.verifyBlockProof(input, proof), (e) => {
      assert.ok(e instanceof Error, "refusals are thrown as Errors");
      assert.match(e.message, reason);
      return true;
    });
  // The encoding: version (1), prover (32), six sizes (6), six claimed sums
  // (6 x 16), then the STARK proof (postcard).
  const HEADER = 1 + 32 + 6 + 6 * 16;
  const flipped = (offset) => {
    const bytes = Uint8Array.from(nativeProof);
    bytes[offset] ^= 0x01;
    return bytes;
  };
  // A byte inside the STARK proof: it no longer verifies (or, where the byte
  // was part of a length or a field element, no longer parses).
  refuses(
    flipped(HEADER + Math.floor((nativeProof.length - HEADER) / 2)),
    /^proof of block 1( refused: invalid proof: |: the STARK proof does not parse)/,
  );
  // The STARK part starts with its configuration's proof-of-work bits.
  refuses(flipped(HEADER), /^proof of block 1 refused: proof made under another configuration/);
  // A claimed LogUp sum: caught before the STARK, as a proof of something else.
  refuses(flipped(1 + 32 + 6), /^proof of block 1 refused: the proof does not prove this block/);
  refuses(nativeProof.subarray(0, nativeProof.length - 100), /^proof of block 1: proof is truncated/);
  // Someone else's address on a valid proof: the address is bound into the
  // transcript, so the reward cannot be stolen by resending the proof.
  const stolen = Uint8Array.from(nativeProof);
  stolen.set(Buffer.from("21".repeat(32), "hex"), 1);
  refuses(stolen, /^proof of block 1 refused: /);
  // A valid proof, for block 1, offered for block 2.
  refuses(nativeProof, /^proof of block 2 refused: the proof does not prove this block: its roots or transactions differ/, inputs[1]);
  refuses(nativeProof, /^proving input does not decode: /, inputs[0].subarray(0, 50));
});

test("a wasm proof verifies natively and equals the native prover's", { timeout: 300_000 }, async () => {
  // Block 2, so the native side checks a proof it never made itself.
  const proof = prover.proveBlock(inputs[1], WASM_PROVER);
  assert.ok(proof instanceof Uint8Array && proof.length > 0);
  const proofPath = path.join(dir, "wasm-proof-2.bin");
  await writeFile(proofPath, proof);
  const verified = await fixture(["verify", facts.inputs[1], proofPath]);
  assert.equal(verified.job.height, 2);
  assert.equal(verified.prover, WASM_PROVER);

  const nativePath = path.join(dir, "native-proof-2.bin");
  await fixture(["prove", facts.inputs[1], WASM_PROVER, nativePath]);
  assert.ok(Buffer.from(proof).equals(await readFile(nativePath)), "wasm and native proofs differ");

  // And native code refuses a tampered wasm proof, with its reason.
  proof[proof.length - 40] ^= 0x01;
  await writeFile(proofPath, proof);
  await assert.rejects(fixture(["verify", facts.inputs[1], proofPath]), /proof of block 2/);
});

test("the prover refuses a bad input or reward address before proving", () => {
  assert.throws(() => prover.proveBlock(inputs[0].subarray(1), WASM_PROVER), /^Error: proving input does not decode/);
  assert.throws(() => prover.proveBlock(inputs[0], "0x" + "ff".repeat(32)), /prover address .* is not canonical/);
  assert.throws(() => prover.proveBlock(inputs[0], "0x1234"), /prover address/);
});

test("the proving worker proves a block in headless Chromium", { timeout: 300_000 }, async () => {
  const server = await serveSite(PROVER_DIR);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(server.url);
    const answers = await page.evaluate(
      async ({ input, prover }) => {
        const worker = new Worker("/prover-worker.js", { type: "module" });
        const run = (id, bytes) =>
          new Promise((resolve) => {
            const messages = [];
            worker.addEventListener("message", function listen(event) {
              if (event.data.id !== id) return;
              const { proof, ...rest } = event.data;
              // Hex, so the proof comes back out of the page intact.
              messages.push(proof ? { ...rest, proof: Array.from(proof, (b) => b.toString(16).padStart(2, "0")).join("") } : rest);
              if (event.data.error || event.data.phase === "proved") {
                worker.removeEventListener("message", listen);
                resolve(messages);
              }
            });
            worker.postMessage({ id, input: bytes, prover });
          });
        const good = await run("job-1", new Uint8Array(input));
        const bad = await run("job-2", new Uint8Array(input.slice(0, 40)));
        worker.terminate();
        return { good, bad };
      },
      { input: Array.from(inputs[0]), prover: WASM_PROVER },
    );
    assert.deepEqual(pageErrors, []);
    const { good, bad } = answers;
    assert.deepEqual(
      good.map((m) => m.phase ?? `error: ${m.error}`),
      ["started", "recorded", "proved"],
    );
    assert.equal(good[1].job.height, 1);
    assert.equal(good[1].job.transactions, 4);
    assert.ok(good[2].prove_ms > 0 && good[2].ms >= good[2].prove_ms);
    const proofPath = path.join(dir, "worker-proof-1.bin");
    await writeFile(proofPath, Buffer.from(good[2].proof, "hex"));
    const verified = await fixture(["verify", facts.inputs[0], proofPath]);
    assert.equal(verified.prover, WASM_PROVER);
    assert.deepEqual(bad.map((m) => m.phase ?? "error"), ["started", "error"]);
    assert.match(bad[1].error, /^proving input does not decode: /);
  } finally {
    await browser.close();
    await server.close();
  }
});
