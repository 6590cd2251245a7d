// End-to-end: the real `starling devnet` daemon serves the real page, and headless
// Chromium runs it. The page is a libp2p peer: after one `starling_status` (and
// the genesis block) over HTTP it dials the daemon over WebRTC-direct or
// WebSocket and gets every block over libp2p.
//
// What these tests prove:
// 1. Over each transport, forced with `?transport=webrtc` and `?transport=ws`,
//    the page connects, says how (transport, remote address, peers, times), follows
//    the live chain (the height rises) and verifies the daemon's blocks in
//    WebAssembly: signed blocks with transactions come out "verified", none
//    "rejected", and a block's transactions can be opened.
// 2. Left to choose, the page uses WebRTC-direct; when the WebRTC-direct address
//    does not answer, it falls back to WebSocket within seconds and lists the
//    failed dial.
// 3. Verification is real: a peer serving a chain whose sequencer signed a false
//    state root (wasm/examples/lying_sequencer.rs, a real libp2p peer) gets that
//    block shown rejected with the reason, and every block after it rejected
//    because of it ("builds on rejected block N").
// 4. A page that joins a chain longer than its window labels its first block
//    "anchor (assumed)", not verified, and says so in its trust note.
// 5. The chain identity is pinned from the node's status: a peer whose libp2p
//    status names another genesis stops the page with a banner.
// 6. The JS package built into pkg/ (the same verifier, for plain JavaScript)
//    accepts the daemon's blocks in Node and throws the reason for a forged one.
// 7. When the node goes away, the page says so instead of freezing silently.
//
// Run alone: node --test tests/browser/ (see harness.mjs for the inputs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

import {
  launchBrowser,
  networkFacts,
  repo,
  rpcCall,
  startDaemon,
  startLyingSequencer,
  waitForFirstBlock,
  withPage as withPageOf,
} from "./harness.mjs";

let daemon;
let browser;

before(async () => {
  daemon = await startDaemon();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.remove();
});

/** `withPage` of the harness, on this file's browser and daemon. */
const withPage = (name, body) => withPageOf(browser, daemon, name, body);

/** The latest height the page verified itself (not a peer's claimed head). */
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

/** The page's window length (wasm `peer::chain::WINDOW`). */
const WINDOW = 20;

const TRANSPORTS = [
  { query: "webrtc", name: "webrtc-direct", addr: /\/udp\/\d+\/webrtc-direct\/certhash\/[\w-]+\/p2p\/\w+$/ },
  { query: "ws", name: "websocket", addr: /\/tcp\/\d+\/ws\/p2p\/\w+$/ },
];

for (const transport of TRANSPORTS) {
  test(`over ${transport.name}, the page follows the live chain and verifies the daemon's blocks`, { timeout: 120_000 }, async () => {
    await withPage(`live-${transport.query}`, async (page, pageErrors) => {
      await page.goto(`${daemon.url}?transport=${transport.query}`);
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator("#chain-id").textContent(), "starling-devnet");
      assert.equal(await page.locator("#mode").textContent(), "single");

      // How it is connected, as the page shows it.
      await waitForFirstBlock(page, 30_000);
      const net = await networkFacts(page);
      assert.equal(net.transport, transport.name);
      assert.match(net.remoteAddr, transport.addr);
      assert.match(net.remoteAddr, /^\/ip4\/127\.0\.0\.1\//, "the page dials its own host");
      assert.equal(net.peerCount, 1);
      assert.equal(await page.locator("#peers").textContent(), "1");
      assert.ok(net.dialMs > 0 && net.connectMs >= net.dialMs, `dial ${net.dialMs} ms, connected ${net.connectMs} ms`);
      assert.ok(net.firstBlockMs >= net.connectMs, `first block at ${net.firstBlockMs} ms`);
      assert.equal(await page.locator('[data-testid="peer"]').count(), 1);

      const first = await shownHeight(page);
      await page.waitForFunction(
        (h) => Number(document.querySelector("#height")?.textContent) > h,
        first,
        { timeout: 15_000 },
      );
      assert.ok((await shownHeight(page)) > first, "the height rises as blocks arrive over libp2p");

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
      const claimed = Number(await page.locator("#node-height").textContent());
      assert.ok((await shownHeight(page)) <= claimed, "the verified height never runs ahead of the peers' claims");

      await row.click();
      const detail = page.locator(`#block-detail[data-block-height="${height}"]`);
      await detail.waitFor();
      assert.equal(await detail.locator("tr[data-tx-hash]").count(), txCount, "the detail lists every transaction");
      const firstTx = (await detail.locator("tr[data-tx-hash]").first().getAttribute("data-tx-hash")) ?? "";
      assert.match(firstTx, /^0x[0-9a-f]{64}$/);

      assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
    });
  });
}

test("left to choose, the page connects over WebRTC-direct", { timeout: 60_000 }, async () => {
  await withPage("auto", async (page) => {
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    assert.equal((await networkFacts(page)).transport, "webrtc-direct");
    assert.equal(await page.locator('[data-testid="dial-failures"]').count(), 0);
  });
});

test("when WebRTC-direct does not answer, the page falls back to WebSocket within seconds", { timeout: 60_000 }, async () => {
  await withPage("fallback", async (page) => {
    // The node's status lists a WebRTC-direct address on a port nobody serves.
    let deadAddr = null;
    await page.route("**/rpc", async (route) => {
      if (rpcCall(route)?.method !== "starling_status") return route.continue();
      const response = await route.fetch();
      const json = await response.json();
      json.result.listen = json.result.listen.map((a) => {
        if (!a.includes("/webrtc-direct/")) return a;
        const dead = a.replace(/\/udp\/\d+\//, "/udp/9/");
        if (a.startsWith("/ip4/127.0.0.1/")) deadAddr = dead;
        return dead;
      });
      return route.fulfill({ response, json });
    });
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20_000 });
    const net = await networkFacts(page);
    assert.equal(net.transport, "websocket");
    assert.ok(net.connectMs - net.dialMs < 10_000, `fell back after ${net.connectMs - net.dialMs} ms`);
    const failures = await page.locator('[data-testid="dial-failures"]').textContent();
    assert.ok(failures.includes(deadAddr), `the failed WebRTC-direct dial is listed: ${failures}`);
  });
});

test("a block signed with a false state root is shown rejected, and so is every block built on it", { timeout: 120_000 }, async () => {
  const LIE_AT = 6;
  const liar = await startLyingSequencer(["--lie-at", String(LIE_AT), "--start", "2", "--interval-ms", "400"]);
  try {
    await withPage("lying-sequencer", async (page) => {
      // The page pins the chain the lying sequencer signs and dials it: exactly
      // what a page served by a dishonest node would do.
      await page.route("**/rpc", async (route) => {
        const call = rpcCall(route);
        const response = await route.fetch();
        const json = await response.json();
        const id = liar.identity;
        if (call?.method === "starling_status") {
          Object.assign(json.result, {
            chain_id: id.chain_id,
            genesis_hash: id.genesis_hash,
            sequencer: id.sequencer,
            listen: id.listen,
            height: 2,
          });
        } else if (call?.method === "starling_getBlock") {
          json.result = { height: 0, hash: id.genesis_hash, block: id.genesis_block, witness: null };
        }
        return route.fulfill({ response, json });
      });
      await page.goto(`${daemon.url}?transport=ws`);

      const rejected = page.locator(`tr[data-block-height="${LIE_AT}"]`);
      await rejected.waitFor({ timeout: 30_000 });
      assert.equal(await rejected.getAttribute("data-verdict"), "rejected");
      const reason = (await rejected.locator("[data-reason]").getAttribute("data-reason")) ?? "";
      assert.match(reason, /state root/, `the reason names the failed check: ${reason}`);
      assert.match(await rejected.textContent(), /rejected ✗/);

      // Nothing builds on a rejected block: the next one is rejected because of
      // its parent, though it is consistent with the parent's false state.
      const child = page.locator(`tr[data-block-height="${LIE_AT + 1}"]`);
      await child.waitFor({ timeout: 30_000 });
      assert.equal(await child.getAttribute("data-verdict"), "rejected");
      assert.equal(await child.locator("[data-reason]").getAttribute("data-reason"), `builds on rejected block ${LIE_AT}`);
      assert.equal(await shownHeight(page), LIE_AT - 1, "the verified height stops before the rejected block");
      assert.equal((await networkFacts(page)).transport, "websocket");

      for (const [h, verdict, why] of await listedVerdicts(page)) {
        if (h > LIE_AT) assert.equal(why, `builds on rejected block ${LIE_AT}`, `block ${h}`);
        else if (h === 0) assert.equal(verdict, "genesis");
        else if (h < LIE_AT) assert.equal(verdict, "verified", `block ${h}`);
      }
    });
  } finally {
    await liar.stop();
  }
});

/** Resolves once the node's head is at least `height`. */
async function waitForNodeHeight(height) {
  while ((await daemon.rpc("starling_status", [])).height < height) {
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("a page joining mid-chain labels its first block an assumed anchor", { timeout: 120_000 }, async () => {
  await waitForNodeHeight(WINDOW + 2);
  await withPage("anchor", async (page) => {
    // Blocks keep coming, so the anchor scrolls out of the list a block later:
    // record every row the page ever shows.
    await page.addInitScript(() => {
      window.rowsSeen = new Map();
      new MutationObserver(() => {
        for (const r of document.querySelectorAll("tr[data-block-height]")) {
          window.rowsSeen.set(`${r.dataset.blockHeight}:${r.dataset.verdict}`, true);
        }
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
    await page.goto(daemon.url);
    const note = page.locator("#trust", { hasText: /is its anchor/ });
    await note.waitFor({ timeout: 30_000 });
    const anchorHeight = Number((await note.textContent()).match(/block (\d+) is its anchor/)[1]);
    assert.ok(anchorHeight > 0, "the anchor is not genesis");
    await page.waitForFunction((h) => Number(document.querySelector("#height")?.textContent) >= h, anchorHeight + WINDOW - 1);
    const seen = (await page.evaluate(() => [...window.rowsSeen.keys()])).map((k) => k.split(":"));
    const anchors = seen.filter(([, v]) => v === "anchor");
    assert.deepEqual(anchors, [[String(anchorHeight), "anchor"]], "exactly one anchor, the one the note names");
    for (const [h, verdict] of seen) {
      assert.ok(Number(h) >= anchorHeight, `nothing below the anchor is listed (block ${h})`);
      if (Number(h) > anchorHeight) assert.equal(verdict, "verified", `block ${h}`);
    }
  });
});

test("the page stops with a banner when its peer is on another chain", { timeout: 60_000 }, async () => {
  await withPage("wrong-chain", async (page) => {
    const pinned = "0x" + "ab".repeat(32);
    await page.route("**/rpc", async (route) => {
      if (rpcCall(route)?.method !== "starling_status") return route.continue();
      const response = await route.fetch();
      const json = await response.json();
      json.result.genesis_hash = pinned;
      return route.fulfill({ response, json });
    });
    await page.goto(daemon.url);
    const banner = page.locator("#stopped");
    await banner.waitFor({ timeout: 30_000 });
    assert.match(await banner.textContent(), /different chain/);
    assert.match(await banner.textContent(), /reload/);
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "stopped");
    assert.equal(await page.locator("#genesis-hash").textContent(), pinned, "the pinned genesis is kept");
    assert.equal(await page.locator('tr[data-verdict="verified"]').count(), 0, "nothing of that chain is verified");
  });
});

test("the pkg/ JS package verifies the daemon's blocks in Node", { timeout: 60_000 }, async () => {
  const pkg = path.join(repo, "pkg");
  const { default: init, ChainVerifier, checkGenesis } = await import(
    pathToFileURL(path.join(pkg, "starling_wasm.js")).href
  );
  await init({ module_or_path: await readFile(path.join(pkg, "starling_wasm_bg.wasm")) });

  await waitForNodeHeight(3);
  const status = await daemon.rpc("starling_status", []);
  const verifier = new ChainVerifier(status.chain_id, status.sequencer);
  let parent = await daemon.rpc("starling_getBlock", [0]);
  assert.equal(checkGenesis(parent.block, status.genesis_hash).hash, status.genesis_hash);
  for (let height = 1; height <= 3; height++) {
    const block = await daemon.rpc("starling_getBlock", [height]);
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

/**
 * Flips one byte of the sequencer's Ed25519 signature inside a hex-encoded block.
 * The block encoding (starling-core `encoding`, `types::block`) is: wire version
 * (1 byte), then the header — chain id (u32 LE length + bytes), height (8), parent
 * hash (32), state root (32), tx root (32), timestamp (8), proposer key (32),
 * validator set hash (32), parent certificate digest (32) — then the 64-byte
 * signature, then the transactions.
 */
function flipSignatureByte(blockHex) {
  const bytes = Buffer.from(blockHex.replace(/^0x/, ""), "hex");
  const chainIdLen = bytes.readUInt32LE(1);
  const signatureStart = 1 + 4 + chainIdLen + 8 + 32 + 32 + 32 + 8 + 32 + 32 + 32;
  assert.ok(bytes.length >= signatureStart + 64, "block too short to hold a signature");
  bytes[signatureStart + 5] ^= 0x01;
  return "0x" + bytes.toString("hex");
}

// Last: it stops the daemon.
test("the page reports a lost connection when the node stops", { timeout: 60_000 }, async () => {
  await withPage("disconnected", async (page) => {
    await page.goto(daemon.url);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    await waitForFirstBlock(page, 30_000);
    await daemon.stop();
    // WebRTC-direct does not report a dead peer: the page notices when its pings
    // (every 4 s, 4 s timeout, stream opening included) go unanswered.
    const banner = page.locator("#connection-error");
    await banner.waitFor({ timeout: 30_000 });
    assert.match(await banner.textContent(), /lost the connection to the node/);
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "error");
    assert.ok((await page.locator("tr[data-block-height]").count()) > 0, "what was shown stays shown");
  });
});
