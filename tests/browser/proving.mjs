// Shared by prover.test.mjs and prover-bench.mjs: the native proving fixture
// (wasm/examples/proving_fixture.rs) and the wasm prover module
// (starling_prover.js + starling_prover_bg.wasm, which `cargo xtask build-web`
// writes into the site), loaded into Node or served to Chromium with the
// proving worker.
//
// Inputs: PROVING_FIXTURE (the example binary; default
// <target dir>/debug/examples/proving_fixture), PROVER_MODULE_DIR (where the
// prover module is; default the site, STARLING_WEB_DIR).

import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { repo, WEB_DIR } from "./harness.mjs";

const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const PROVING_FIXTURE =
  process.env.PROVING_FIXTURE || path.join(targetDir, "debug", "examples", "proving_fixture");
export const PROVER_DIR = process.env.PROVER_MODULE_DIR || WEB_DIR;

/**
 * Runs the fixture (`bin`, by default PROVING_FIXTURE) with `args`; resolves
 * with the JSON line it prints, or rejects with what it wrote on stderr (its
 * reason) and its exit status.
 */
export function fixture(args, bin = PROVING_FIXTURE) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const failure = new Error(`proving_fixture ${args[0]}: ${stderr.trim() || error.message}`);
        failure.code = error.code;
        failure.stderr = stderr;
        reject(failure);
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`proving_fixture ${args[0]} printed no JSON: ${stdout}`));
      }
    });
  });
}

/** Imports the prover module from `dir` and instantiates its wasm in Node. */
export async function loadProver(dir = PROVER_DIR) {
  const module = await import(pathToFileURL(path.join(dir, "starling_prover.js")).href);
  await module.default({ module_or_path: await readFile(path.join(dir, "starling_prover_bg.wasm")) });
  return module;
}

/**
 * Serves `root` over HTTP on loopback, with the MIME types module workers and
 * streaming wasm compilation require, a blank page at `/` (the site's index
 * would start the whole app), and `files` (a map from a path such as
 * "/job.bin" to its bytes) besides.
 */
export async function serveSite(root, files = {}) {
  const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
  const server = createServer(async (request, response) => {
    const name = new URL(request.url, "http://x").pathname;
    if (name === "/") {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<!doctype html><title>prover worker</title>");
      return;
    }
    if (files[name]) {
      response.writeHead(200, { "content-type": types[path.extname(name)] ?? "application/octet-stream" });
      response.end(files[name]);
      return;
    }
    const file = path.join(root, path.normalize(name));
    if (!file.startsWith(root + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
