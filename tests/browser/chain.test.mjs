// End-to-end: the real `starling devnet` daemon serves the real page, and headless
// Chromium (Debian's, driven by playwright-core) runs it.
//
// What these tests prove:
// 1. The page follows a live chain (the height rises) and verifies the daemon's
//    blocks in WebAssembly: signed blocks with transactions come out "verified",
//    none "rejected", and a block's transactions can be opened.
// 2. Verification is real: when one `starling_getBlock` response is tampered with
//    in transit (one byte of the sequencer's signature flipped), the page shows
//    that block as rejected with the reason. A block is verified only on top of
//    an accepted parent, so every block after it is shown rejected too ("builds
//    on rejected block N"): the page cannot tell a transit fault from a bad block
//    and does not re-fetch, so it never calls a descendant of a rejected block
//    verified (a reload checks again).
// 3. A page that joins a chain longer than its window labels its first block
//    "anchor (assumed)", not verified, and says so in its trust note.
// 4. The chain identity is pinned by the first status: when the node's status
//    later names another genesis, the page stops with a banner.
// 5. The JS package built into pkg/ (the same verifier, for plain JavaScript)
//    accepts the daemon's blocks in Node and throws the reason for a forged one.
// 6. When the node goes away, the page says so instead of freezing silently.
//
// Inputs (set by `cargo xtask test`/`browser-test`): STARLING_BIN (the daemon),
// STARLING_WEB_DIR (the built site), CHROMIUM (default /usr/bin/chromium).
// Run alone: node --test tests/browser/

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
const STARLING_BIN = process.env.STARLING_BIN || path.join(targetDir, "debug", "starling");
const WEB_DIR = process.env.STARLING_WEB_DIR || path.join(targetDir, "site");
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

let daemon; // { child, url, log: string[], exited: Promise }
let dataDir;
let browser;

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

/** Starts `starling devnet` and resolves once it prints the page URL. */
async function startDaemon() {
  dataDir = await mkdtemp(path.join(tmpdir(), "starling-browser-test-"));
  const port = await freePort();
  const args = ["devnet", "--data-dir", dataDir, "--http-port", String(port), "--web-dir", WEB_DIR];
  const child = spawn(STARLING_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no URL line from the daemon within 60 s:\n${log.join("\n")}`)),
      60_000,
    );
    let pending = "";
    child.stdout.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        log.push(line);
        const match = line.trim().match(/^(https?:\/\/\S+)$/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    });
    child.stderr.on("data", (chunk) => log.push(...String(chunk).trimEnd().split("\n")));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${STARLING_BIN}: ${e.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code ?? signal}) before printing its URL:\n${log.join("\n")}`));
    });
  });
  return { child, url, log, exited };
}

async function stopDaemon() {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill("SIGTERM");
  const killer = setTimeout(() => daemon.child.kill("SIGKILL"), 5_000);
  await daemon.exited;
  clearTimeout(killer);
}

// Whatever happens to the test process, do not leave a daemon running.
process.on("exit", () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill("SIGKILL");
});

before(async () => {
  daemon = await startDaemon();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await stopDaemon();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/**
 * Runs `body(page)` in a fresh browser context. On failure, saves a screenshot
 * and prints the daemon's last log lines and the page's errors before rethrowing.
 */
async function withPage(name, body) {
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

/** The latest height the page verified itself (not the node's claimed head). */
async function shownHeight(page) {
  return Number(await page.locator("#height").textContent());
}

/** Every listed row as [height, verdict, reason], newest first. */
async function listedVerdicts(page) {
  return page.locator("tr[data-block-height]").evaluateAll((rows) =>
    rows.map((r) => [
      Number(r.dataset.blockHeight),
      r.dataset.verdict,
      r.querySelector("[data-reason]")?.dataset.reason ?? null,
    ]),
  );
}

/** The page's window length (web-ui `tracker::WINDOW`). */
const WINDOW = 20;

/**
 * Flips one byte of the sequencer's Ed25519 signature inside a hex-encoded block.
 * The block encoding (starling-core `encoding`, `types::block`) is: wire version
 * (1 byte), then the header — chain id (u32 LE length + bytes), height (8), parent
 * hash (32), state root (32), tx root (32), timestamp (8), proposer key (32) — then
 * the 64-byte signature, then the transactions.
 */
function flipSignatureByte(blockHex) {
  const bytes = Buffer.from(blockHex.replace(/^0x/, ""), "hex");
  const chainIdLen = bytes.readUInt32LE(1);
  const signatureStart = 1 + 4 + chainIdLen + 8 + 32 + 32 + 32 + 8 + 32;
  assert.ok(bytes.length >= signatureStart + 64, "block too short to hold a signature");
  bytes[signatureStart + 5] ^= 0x01;
  return "0x" + bytes.toString("hex");
}

test("the page follows the live chain and verifies the daemon's blocks in wasm", { timeout: 120_000 }, async () => {
  await withPage("live", async (page, pageErrors) => {
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#chain-id").textContent(), "starling-devnet");
    assert.equal(await page.locator("#mode").textContent(), "single");

    const first = await shownHeight(page);
    await page.waitForFunction(
      (h) => Number(document.querySelector("#height")?.textContent) > h,
      first,
      { timeout: 15_000 },
    );
    assert.ok((await shownHeight(page)) > first, "the height rises as the devnet makes blocks");

    // A verified block with transactions: the signature, every transaction's
    // signature and the re-executed state root all checked out in the browser.
    const withTxs = page
      .locator('tr[data-verdict="verified"]')
      .filter({ has: page.locator("td:nth-child(4)", { hasNotText: /^0$/ }) });
    await withTxs.first().waitFor({ timeout: 30_000 });
    const row = withTxs.first();
    const height = Number(await row.getAttribute("data-block-height"));
    assert.ok(height >= 1, `verified block height ${height} is past genesis`);
    const txCount = Number(await row.locator("td:nth-child(4)").textContent());
    assert.ok(txCount >= 1);

    assert.equal(await page.locator('tr[data-verdict="rejected"]').count(), 0, "an honest node's blocks all verify");
    const nodeHeight = Number(await page.locator("#node-height").textContent());
    assert.ok((await shownHeight(page)) <= nodeHeight, "the verified height never runs ahead of the node");

    await row.click();
    const detail = page.locator(`#block-detail[data-block-height="${height}"]`);
    await detail.waitFor();
    assert.equal(await detail.locator("tr[data-tx-hash]").count(), txCount, "the detail lists every transaction");
    const firstTx = (await detail.locator("tr[data-tx-hash]").first().getAttribute("data-tx-hash")) ?? "";
    assert.match(firstTx, /^0x[0-9a-f]{64}$/);

    assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
  });
});

test("a block whose signature was tampered with in transit is shown as rejected", { timeout: 120_000 }, async () => {
  await withPage("tampered", async (page) => {
    let target = null; // the height to tamper with, chosen once the page is live
    let tamperedResponses = 0;
    await page.route("**/rpc", async (route) => {
      let call = null;
      try {
        call = route.request().postDataJSON();
      } catch {
        // not JSON: pass it through untouched
      }
      if (target === null || call?.method !== "starling_getBlock" || call.params?.[0] !== target) {
        return route.continue();
      }
      const response = await route.fetch();
      const json = await response.json();
      if (json.result?.block) {
        json.result.block = flipSignatureByte(json.result.block);
        tamperedResponses += 1;
      }
      return route.fulfill({ response, json });
    });

    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    // A block a few seconds in the future: the page will fetch it as a new block.
    target = (await shownHeight(page)) + 3;

    const rejected = page.locator(`tr[data-block-height="${target}"]`);
    await rejected.waitFor({ timeout: 30_000 });
    assert.equal(await rejected.getAttribute("data-verdict"), "rejected");
    const reason = (await rejected.locator("[data-reason]").getAttribute("data-reason")) ?? "";
    assert.match(reason, /signature/, `the reason names the failed check: ${reason}`);
    assert.match(await rejected.textContent(), /rejected ✗/);
    assert.ok(tamperedResponses >= 1, "the route really served a tampered block");

    // Nothing builds on a rejected block: the next one is shown rejected because of
    // its parent, even though the node's genuine copy of the parent was valid.
    const child = page.locator(`tr[data-block-height="${target + 1}"]`);
    await child.waitFor({ timeout: 30_000 });
    assert.equal(await child.getAttribute("data-verdict"), "rejected");
    assert.equal(await child.locator("[data-reason]").getAttribute("data-reason"), `builds on rejected block ${target}`);
    assert.equal(await shownHeight(page), target - 1, "the verified height stops before the rejected block");

    // Below the rejected block: verified (or genesis, or the assumed anchor at the
    // bottom of the window). Above it: rejected because of it.
    const verdicts = await listedVerdicts(page);
    const lowest = Math.min(...verdicts.map(([h]) => h));
    for (const [h, verdict, why] of verdicts) {
      if (h > target) assert.equal(why, `builds on rejected block ${target}`, `block ${h}`);
      else if (h < target && h === lowest && verdict !== "verified") assert.match(verdict, /^(genesis|anchor)$/);
      else if (h < target) assert.equal(verdict, "verified", `block ${h}`);
    }
  });
});

/** Resolves once the node's head is at least `height`. */
async function waitForNodeHeight(height) {
  while ((await rpc("starling_status", [])).height < height) {
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("a page joining mid-chain labels its first block an assumed anchor", { timeout: 120_000 }, async () => {
  await waitForNodeHeight(WINDOW + 2);
  await withPage("anchor", async (page) => {
    // Hold the reported head still: on a live chain the anchor, the oldest of the
    // window's rows, scrolls out of the list with the next block.
    let frozenHeight = null;
    await page.route("**/rpc", async (route) => {
      let call = null;
      try {
        call = route.request().postDataJSON();
      } catch {
        // not JSON: pass it through untouched
      }
      if (call?.method !== "starling_status") return route.continue();
      const response = await route.fetch();
      const json = await response.json();
      frozenHeight ??= json.result.height;
      json.result.height = frozenHeight;
      return route.fulfill({ response, json });
    });
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    const anchor = page.locator('tr[data-verdict="anchor"]');
    await anchor.waitFor({ timeout: 30_000 });
    assert.equal(await anchor.count(), 1);
    assert.match(await anchor.textContent(), /anchor \(assumed\)/);
    const anchorHeight = Number(await anchor.getAttribute("data-block-height"));
    assert.equal(anchorHeight, frozenHeight - (WINDOW - 1), "the anchor is the window's first block");
    assert.ok(anchorHeight > 0, "the anchor is not genesis");
    assert.equal(await shownHeight(page), frozenHeight, "the blocks on top of the anchor verified");
    assert.match(await page.locator("#trust").textContent(), new RegExp(`block ${anchorHeight} is its anchor`));
    for (const [h, verdict] of await listedVerdicts(page)) {
      if (h !== anchorHeight) {
        assert.ok(h > anchorHeight, "the anchor is the oldest listed block");
        assert.equal(verdict, "verified", `block ${h}`);
      }
    }
  });
});

test("the page stops with a banner when the node switches to another chain", { timeout: 120_000 }, async () => {
  await withPage("switched", async (page) => {
    let switched = false;
    await page.route("**/rpc", async (route) => {
      let call = null;
      try {
        call = route.request().postDataJSON();
      } catch {
        // not JSON: pass it through untouched
      }
      if (!switched || call?.method !== "starling_status") return route.continue();
      const response = await route.fetch();
      const json = await response.json();
      json.result.genesis_hash = "0x" + "ab".repeat(32);
      return route.fulfill({ response, json });
    });

    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    const genesis = await page.locator("#genesis-hash").textContent();
    switched = true;

    const banner = page.locator("#chain-switched");
    await banner.waitFor({ timeout: 15_000 });
    assert.match(await banner.textContent(), /switched to a different chain\/sequencer/);
    assert.match(await banner.textContent(), /reload to follow it/);
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "stopped");
    assert.equal(await page.locator("#genesis-hash").textContent(), genesis, "the pinned genesis is kept");

    // Stopped for good: no more blocks are listed.
    const listed = await page.locator("tr[data-block-height]").count();
    await page.waitForTimeout(3_000);
    assert.equal(await page.locator("tr[data-block-height]").count(), listed);
  });
});

/** One JSON-RPC call to the daemon from Node. */
async function rpc(method, params) {
  const response = await fetch(new URL("rpc", daemon.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
  return body.result;
}

test("the pkg/ JS package verifies the daemon's blocks in Node", { timeout: 60_000 }, async () => {
  const pkg = path.join(repo, "pkg");
  const { default: init, ChainVerifier, checkGenesis } = await import(
    pathToFileURL(path.join(pkg, "starling_wasm.js")).href
  );
  await init({ module_or_path: await readFile(path.join(pkg, "starling_wasm_bg.wasm")) });

  let status = await rpc("starling_status", []);
  while (status.height < 3) {
    await new Promise((r) => setTimeout(r, 500));
    status = await rpc("starling_status", []);
  }
  const verifier = new ChainVerifier(status.chain_id, status.sequencer);
  let parent = await rpc("starling_getBlock", [0]);
  assert.equal(checkGenesis(parent.block, status.genesis_hash).hash, status.genesis_hash);
  for (let height = 1; height <= 3; height++) {
    const block = await rpc("starling_getBlock", [height]);
    const summary = verifier.verifyBlock(block.block, parent.block, block.witness);
    assert.equal(summary.height, height);
    assert.equal(summary.hash, block.hash, "the hash computed in wasm matches the node's");
    if (height === 3) {
      assert.throws(
        () => verifier.verifyBlock(flipSignatureByte(block.block), parent.block, block.witness),
        /signature/,
      );
      // Starting mid-chain: the seal of an anchor checks out without its parent.
      assert.equal(verifier.verifySeal(block.block).height, height);
      assert.throws(() => verifier.verifySeal(flipSignatureByte(block.block)), /signature/);
    }
    parent = block;
  }
});

test("the page reports a lost connection when the node stops", { timeout: 60_000 }, async () => {
  await withPage("disconnected", async (page) => {
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    await stopDaemon();
    const banner = page.locator("#connection-error");
    await banner.waitFor({ timeout: 15_000 });
    assert.match(await banner.textContent(), /cannot reach the node/);
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "error");
    assert.ok((await page.locator("tr[data-block-height]").count()) > 0, "what was shown stays shown");
  });
});
