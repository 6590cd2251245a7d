// The block prover in WebAssembly against the same prover native, on one
// thread each, proving the same blocks for the same prover in one run:
//
//   cargo xtask bench-wasm-prover [-- --runs 9 --transfers 4,128,1024 --also-native BIN]
//
// (which builds what this needs: the release proving fixture and the prover
// module, with simd128). Each size gets a real block of that many signed
// transfers (wasm/src/test_chain.rs). Runs alternate native and wasm, so
// drift in the machine's load hits both alike. Each side times two steps with
// its own clock, as `ProvingJob` splits them: "record" (decode the input and
// re-execute the block, Stark-ECDSA signature checks included) and "prove"
// (trace generation and the STARK: the prover proper). Native times come from
// the fixture process (wasm/examples/proving_fixture.rs `prove`), so process
// start is not counted; wasm times from `performance.now()` in this Node
// process. One wasm proof per size is made first and not counted (V8 compiles
// the module's hot functions on first use). `--also-native BIN` times a second
// native build of the fixture too (say one built with `-C target-cpu=native`).
// Every wasm proof is checked to be byte for byte the native one.
// The same module also runs where volunteers run it: in the proving Web Worker
// (www/prover-worker.js) in headless Chromium, served from the site, timed
// by the worker's own clock (its `prove_ms`, and the rest of its `ms` as
// record), one warm-up proof per size first as in Node.
// Prints medians, minima and maxima in ms, and wasm / native of the medians.

import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { launchBrowser } from "./harness.mjs";
import { fixture, loadProver, PROVER_DIR, PROVING_FIXTURE, serveSite } from "./proving.mjs";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "9" },
    transfers: { type: "string", default: "4,128,1024" },
    "also-native": { type: "string" },
  },
});
const runs = Number(values.runs);
const sizes = values.transfers.split(",").map(Number);
const natives = [{ label: "native", bin: PROVING_FIXTURE }];
if (values["also-native"]) natives.push({ label: "native 2", bin: values["also-native"] });
const PROVER = "0x" + "21".repeat(32);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (x) => (x < 10 ? x.toFixed(1) : x.toFixed(0));
const spread = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;
const ratio = (a, b) => (median(a) / median(b)).toFixed(2);

for (const n of natives) console.log(`${n.label}: ${n.bin}`);
console.log(`wasm: ${path.join(PROVER_DIR, "starling_prover_bg.wasm")} (Node ${process.version})`);
console.log(`machine: ${cpus()[0]?.model ?? "?"}, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(2)}`);
const prover = await loadProver();
const dir = await mkdtemp(path.join(tmpdir(), "starling-prover-bench-"));
const rows = [];
// The worker as the site ships it, beside the module built for this bench.
const jobs = { "/prover-worker.js": await readFile(new URL("../../www/prover-worker.js", import.meta.url)) };
const server = await serveSite(PROVER_DIR, jobs);
const browser = await launchBrowser();
const page = await browser.newPage();
await page.goto(server.url);
console.log(`chromium: ${browser.version()}, the proving worker`);

/** Proves the job served at `name` in the page's worker: { record_ms, prove_ms, sha256 } (of the proof). */
function proveInChromium(name) {
  return page.evaluate(
    async ({ name, prover }) => {
      const input = new Uint8Array(await (await fetch(name)).arrayBuffer());
      window.worker ??= new Worker("/prover-worker.js", { type: "module" });
      return new Promise((resolve, reject) => {
        const id = `${name}-${performance.now()}`;
        window.worker.addEventListener("message", function listen({ data }) {
          if (data.id !== id || !(data.error || data.phase === "proved")) return;
          window.worker.removeEventListener("message", listen);
          if (data.error) reject(new Error(data.error));
          else
            crypto.subtle.digest("SHA-256", data.proof).then((digest) =>
              resolve({
                record_ms: data.ms - data.prove_ms,
                prove_ms: data.prove_ms,
                sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
              }),
            );
        });
        window.worker.postMessage({ id, input, prover });
      });
    },
    { name, prover: PROVER },
  );
}

try {
  for (const transfers of sizes) {
    const sub = path.join(dir, `t${transfers}`);
    const facts = await fixture(["write", sub, "--blocks", "1", "--transfers", String(transfers)]);
    const inputPath = facts.inputs[0];
    const input = await readFile(inputPath);
    const out = path.join(sub, "proof.bin");
    const served = `/job-${transfers}.bin`;
    jobs[served] = input;
    prover.proveBlock(input, PROVER); // warm-ups, not counted
    await proveInChromium(served);
    const times = Object.fromEntries(
      [...natives.map((n) => n.label), "wasm", "chromium"].map((label) => [label, { record: [], prove: [] }]),
    );
    let proof;
    for (let i = 0; i < runs; i++) {
      for (const n of natives) {
        const t = await fixture(["prove", inputPath, PROVER, out], n.bin);
        times[n.label].record.push(t.record_ms);
        times[n.label].prove.push(t.prove_ms);
      }
      const started = performance.now();
      const job = new prover.ProvingJob(input);
      const recorded = performance.now();
      proof = job.prove(PROVER);
      const proved = performance.now();
      job.free();
      times.wasm.record.push(recorded - started);
      times.wasm.prove.push(proved - recorded);
      const inChromium = await proveInChromium(served);
      times.chromium.record.push(inChromium.record_ms);
      times.chromium.prove.push(inChromium.prove_ms);
      if (i === 0) {
        const native = await readFile(out);
        if (!Buffer.from(proof).equals(native)) {
          throw new Error(`the wasm and native proofs of the ${transfers}-transfer block differ`);
        }
        if (inChromium.sha256 !== createHash("sha256").update(native).digest("hex")) {
          throw new Error(`the Chromium and native proofs of the ${transfers}-transfer block differ`);
        }
      }
    }
    // The encoding's header holds the six components' log2 row counts.
    const rowsLog = Math.max(...proof.subarray(33, 39));
    rows.push({ transfers, rowsLog, bytes: proof.length, times });
    console.log(`${transfers} transfers: largest component 2^${rowsLog} rows, proof ${(proof.length / 1024).toFixed(0)} KiB`);
    for (const [label, t] of Object.entries(times)) {
      console.log(`  ${label.padEnd(8)} prove ${spread(t.prove)} ms, record ${spread(t.record)} ms`);
    }
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}

console.log(`\nmedians of ${runs} runs, ms, one thread each, load now ${loadavg()[0].toFixed(2)}:`);
const labels = natives.map((n) => n.label);
const wasms = [["wasm", "Node"], ["chromium", "Chromium"]];
console.log(
  `| block | largest trace | ${labels.map((l) => `prove, ${l}`).join(" | ")} | ` +
    `${wasms.map(([, w]) => `prove, wasm in ${w}`).join(" | ")} | ` +
    `${wasms.flatMap(([, w]) => labels.map((l) => `${w} / ${l}`)).join(" | ")} | ` +
    `record, native | ${wasms.map(([, w]) => `record, ${w}`).join(" | ")} | proof |`,
);
console.log(`|${" --- |".repeat(6 + 3 * labels.length + 2)}`);
for (const { transfers, rowsLog, bytes, times } of rows) {
  console.log(
    `| ${transfers} transfers | 2^${rowsLog} rows | ${labels.map((l) => fmt(median(times[l].prove))).join(" | ")} | ` +
      `${wasms.map(([w]) => fmt(median(times[w].prove))).join(" | ")} | ` +
      `${wasms.flatMap(([w]) => labels.map((l) => ratio(times[w].prove, times[l].prove))).join(" | ")} | ` +
      `${fmt(median(times.native.record))} | ${wasms.map(([w]) => fmt(median(times[w].record))).join(" | ")} | ` +
      `${(bytes / 1024).toFixed(0)} KiB |`,
  );
}
