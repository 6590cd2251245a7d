// Shared by the browser tests and the timing script: start the real
// `starling devnet` daemon (and the lying sequencer), launch headless Chromium
// (Debian's, driven by playwright-core), open pages, read what they show.
//
// Inputs (set by `cargo xtask test`/`browser-test`): STARLING_BIN (the daemon),
// STARLING_WEB_DIR (the built site), LYING_SEQUENCER (the example binary),
// CHROMIUM (default /usr/bin/chromium). Defaults follow CARGO_TARGET_DIR.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const STARLING_BIN = process.env.STARLING_BIN || path.join(targetDir, "debug", "starling");
export const WEB_DIR = process.env.STARLING_WEB_DIR || path.join(targetDir, "site");
export const LYING_SEQUENCER =
  process.env.LYING_SEQUENCER || path.join(targetDir, "debug", "examples", "lying_sequencer");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// Flags that let Debian's Chromium run as root in a sandboxed CI machine with no
// outside network (without the networking ones it keeps trying to phone home).
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A TCP port that was free a moment ago (the daemon binds it next). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `bin args` and resolves with the first stdout line `match` accepts
 * (its result) once it appears; rejects with the process's output if it exits
 * first or says nothing in time.
 */
function spawnUntil(bin, args, what, match, env = process.env) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const log = [];
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within 60 s:\n${log.join("\n")}`)), 60_000);
    let pending = "";
    child.stdout.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        log.push(line);
        const found = match(line.trim());
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
    child.stderr.on("data", (chunk) => log.push(...String(chunk).trimEnd().split("\n")));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${e.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) too early:\n${log.join("\n")}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  };
  // Whatever happens to the test process, do not leave it running.
  process.on("exit", () => child.exitCode === null && child.kill("SIGKILL"));
  return { child, log, ready, stop };
}

/**
 * Starts `starling devnet` with `extraArgs` (say `--validators 4`); resolves once
 * it prints the page URL (with validators, validator 0's: validator i serves on
 * the port after validator i - 1's, found free by the devnet itself).
 */
export async function startDaemon(extraArgs = []) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "starling-browser-test-"));
  // A cluster needs consecutive free ports: the devnet finds them (port 0).
  const port = extraArgs.includes("--validators") ? 0 : await freePort();
  const args = ["devnet", "--data-dir", dataDir, "--http-port", String(port), "--web-dir", WEB_DIR, ...extraArgs];
  const p = spawnUntil(STARLING_BIN, args, "the daemon", (line) => line.match(/^(https?:\/\/\S+)$/)?.[1]);
  const url = await p.ready;
  return {
    url,
    log: p.log,
    stop: p.stop,
    async remove() {
      await p.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    /** One JSON-RPC call to the daemon from Node. */
    async rpc(method, params) {
      const response = await fetch(new URL("rpc", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      const body = await response.json();
      if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
      return body.result;
    },
  };
}

/**
 * Starts a native `starling prover` worker against `daemon`, its proofs bound
 * to `address`. It prints nothing to wait for: it leases as soon as it runs.
 */
export function startProver(daemon, address) {
  const args = ["prover", "--rpc", new URL("rpc", daemon.url).href, "--reward-address", address, "--workers", "1"];
  const p = spawnUntil(STARLING_BIN, args, "the prover", () => undefined);
  // It never announces itself; an early exit shows in its log.
  p.ready.catch(() => {});
  return { log: p.log, stop: p.stop };
}

/**
 * Starts the lying sequencer (wasm/examples/lying_sequencer.rs); resolves with
 * what it announces: { chain_id, genesis_hash, sequencer, genesis_block, listen }.
 */
export async function startLyingSequencer(args) {
  const p = spawnUntil(LYING_SEQUENCER, args, "the lying sequencer", (line) => {
    try {
      return JSON.parse(line);
    } catch {
      return undefined;
    }
  });
  return { identity: await p.ready, log: p.log, stop: p.stop };
}

/** Reads a JSON-RPC request the page sends, or null if it is not one. */
export function rpcCall(route) {
  try {
    return route.request().postDataJSON();
  } catch {
    return null;
  }
}

/** What the page's network panel shows (see web-ui/src/network.rs). */
export async function networkFacts(page) {
  return page.evaluate(() => {
    const t = (id) => document.querySelector(`[data-testid="${id}"]`);
    const ms = (el, attr = "ms") => (el?.dataset[attr] ? Number(el.dataset[attr]) : null);
    return {
      transport: t("transport")?.textContent,
      remoteAddr: t("remote-addr")?.textContent,
      peerCount: Number(t("peer-count")?.textContent),
      dialMs: ms(t("time-to-connect"), "dialMs"),
      connectMs: ms(t("time-to-connect")),
      firstBlockMs: ms(t("time-to-first-block")),
      statusMs: ms(t("time-to-first-block"), "statusMs"),
      blocksMs: ms(t("time-to-first-block"), "blocksMs"),
    };
  });
}

/** Resolves once the page shows a first verified block (its time is set). */
export async function waitForFirstBlock(page, timeout) {
  await page.locator('[data-testid="time-to-first-block"][data-ms]').waitFor({ timeout });
}

/**
 * Runs `body(page, pageErrors)` in a fresh context of `browser`. On failure,
 * saves a screenshot and prints the page's errors and the last lines of
 * `daemon`'s log before rethrowing.
 */
export async function withPage(browser, daemon, name, body) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(`console: ${m.text()}`));
  try {
    await body(page, pageErrors);
  } catch (error) {
    const shot = path.join(tmpdir(), `starling-${name}-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`screenshot of the failing page: ${shot}`);
    console.error(`page errors:\n  ${pageErrors.join("\n  ") || "(none)"}`);
    console.error(`daemon log (last 40 lines):\n  ${daemon.log.slice(-40).join("\n  ")}`);
    throw error;
  } finally {
    await context.close();
  }
}
