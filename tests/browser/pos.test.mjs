// End-to-end, proof of stake: `starling devnet --validators 4` runs four real
// validator processes; validator 0 signs blocks as the sequencer until the four
// stakes count (the switch: block 30 with the devnet's 10-block epochs when the
// stakes land in epoch 0, an epoch later for each epoch they are late), then
// the validators propose, vote and certify every block. The page is served by
// validator 0 and opened while the sequencer still signs.
//
// What this proves:
// 1. The page keeps verifying blocks past the switch: every block it lists is
//    verified, those before the switch final by the sequencer's signature, those
//    from the switch on by a commit certificate checked in the browser against
//    the set the verified staking registry names.
// 2. The page shows consensus: mode "proof of stake" since the switch block (the
//    daemon's `starling_status` and `starling_getValidators` agree), a validator
//    set of 4 (the same keys the daemon lists) with a quarter of the power
//    each, votes arriving and tallied by power (some round reaching a quorum of
//    precommits), the round's proposer, and a finality latency.
//
// 3. A page that joins the proof-of-stake chain mid-way takes its anchor with the
//    anchor's certificate checked (labelled assumed, as any anchor) and verifies
//    every certified block after it.
//
// Run alone: node --test tests/browser/pos.test.mjs (see harness.mjs for the inputs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import {
  launchBrowser,
  startDaemon,
  waitForFirstBlock,
  withPage as withPageOf,
} from "./harness.mjs";

/** Where the devnet's defaults switch to proof of stake when stakes land in epoch 0. */
const USUAL_SWITCH = 30;

let daemon;
let browser;

before(async () => {
  daemon = await startDaemon(["--validators", "4", "--block-time-ms", "300"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.remove();
});

const testid = (id) => `[data-testid="${id}"]`;

/** The page's window length (wasm `peer::chain::WINDOW`). */
const WINDOW = 20;

/** Set by the first test: the block proof of stake began at. */
let switchHeight = null;

/** Records every block row the page ever shows, as [verdict, finality] by height. */
async function recordRows(page) {
  await page.addInitScript(() => {
    window.rowsSeen = new Map();
    new MutationObserver(() => {
      for (const r of document.querySelectorAll("tr[data-block-height]")) {
        window.rowsSeen.set(r.dataset.blockHeight, [r.dataset.verdict, r.dataset.finality ?? null]);
      }
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
}

async function rowsSeen(page) {
  return new Map(await page.evaluate(() => [...window.rowsSeen.entries()]));
}

/** `withPage` of the harness, on this file's browser and daemon. */
const withPage = (name, body) => withPageOf(browser, daemon, name, body);

test("the page follows the chain past the switch to proof of stake and shows consensus", { timeout: 90_000 }, async () => {
  await withPage("pos-switch", async (page, pageErrors) => {
    // Rows scroll out of the page's window as blocks come: record every row shown.
    await recordRows(page);
    await page.goto(`${daemon.url}?transport=ws`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    await waitForFirstBlock(page, 30_000);
    const startedAt = Number(await page.locator("#height").textContent());
    const modeAtStart = await page.locator(testid("consensus-mode")).getAttribute("data-mode");

    // The switch, as the page reads it from the verified registry, and as the
    // daemon reports it.
    await page.locator(`${testid("consensus-mode")}[data-mode="pos"]`).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator(testid("consensus-mode")).textContent(), "proof of stake");
    assert.equal(await page.locator("#mode").textContent(), "proof of stake");
    assert.equal(await page.locator("#mode").getAttribute("data-source"), "verified");
    const sw = page.locator(testid("switch-height"));
    assert.equal(await sw.getAttribute("data-done"), "true");
    const SWITCH = Number(await sw.getAttribute("data-height"));
    const node = await daemon.rpc("starling_getValidators", []);
    assert.equal(SWITCH, node.mode_since_epoch * node.params.epoch_length, "the daemon's switch block");
    if (SWITCH !== USUAL_SWITCH) console.log(`the stakes landed late: the switch is at block ${SWITCH}`);
    assert.equal((await daemon.rpc("starling_status", [])).mode, "pos");
    assert.ok(startedAt < SWITCH, `the page verified blocks before the switch (head ${startedAt} at first)`);
    assert.equal(modeAtStart, "single", "and showed the single stage then");

    // Blocks keep being verified past the switch, each with its certificate.
    await page.waitForFunction(
      (h) => Number(document.querySelector("#height")?.textContent) >= h,
      SWITCH + 5,
      { timeout: 40_000 },
    );
    const seen = new Map(await page.evaluate(() => [...window.rowsSeen.entries()]));
    for (const [h, [verdict, finality]] of seen) {
      const height = Number(h);
      if (height === 0) assert.equal(verdict, "genesis");
      else if (height < SWITCH) assert.deepEqual([verdict, finality], ["verified", "sequencer"], `block ${h}`);
      else assert.deepEqual([verdict, finality], ["verified", "certified"], `block ${h}`);
    }
    for (const h of [SWITCH - 1, SWITCH, SWITCH + 1]) assert.ok(seen.has(String(h)), `block ${h} was shown`);
    assert.equal(await page.locator('tr[data-verdict="rejected"]').count(), 0);
    const finalized = Number(await page.locator(testid("finalized-height")).textContent());
    assert.ok(finalized >= SWITCH + 5, `finalized (verified) height ${finalized}`);

    // The validator set, from the verified registry.
    const validators = page.locator(testid("validator"));
    assert.equal(await validators.count(), 4);
    for (const share of await validators.locator("td:nth-child(4)").allTextContents()) assert.equal(share, "25 %");
    assert.equal(await page.locator(testid("validators-source")).getAttribute("data-verified"), "true");
    const keys = (await daemon.rpc("starling_getValidators", [])).validators.map((v) => v.key).sort();
    const shown = (await validators.evaluateAll((rows) => rows.map((r) => r.dataset.key))).sort();
    assert.deepEqual(shown, keys, "the set the node reports, read independently in the browser");

    // Votes arriving, tallied by power; a round reaches a quorum of precommits.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="votes-seen"]')?.dataset.count) > 0,
      null,
      { timeout: 20_000 },
    );
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid="tally"]')].some(
          (t) => 3 * Number(t.dataset.precommitPower) > 2 * Number(t.dataset.totalPower),
        ),
      null,
      { timeout: 20_000 },
    );
    const round = page.locator(testid("round"));
    assert.ok(Number(await round.getAttribute("data-height")) > SWITCH);
    assert.match(await page.locator(testid("proposer")).textContent(), /^0x[0-9a-f]{64}/);
    await page.locator(`${testid("finality-latency")}[data-ms]`).waitFor({ timeout: 20_000 });
    const latency = Number(await page.locator(testid("finality-latency")).getAttribute("data-ms"));
    assert.ok(latency >= 0 && latency < 20_000, `finality latency ${latency} ms`);

    assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
    switchHeight = SWITCH;
  });
});

test("a page joining the proof-of-stake chain mid-way checks its anchor's certificate", { timeout: 60_000 }, async () => {
  assert.ok(switchHeight !== null, "runs after the switch test");
  const joinAt = switchHeight + WINDOW + 2;
  while ((await daemon.rpc("starling_status", [])).height < joinAt) await new Promise((r) => setTimeout(r, 300));
  await withPage("pos-anchor", async (page, pageErrors) => {
    await recordRows(page);
    await page.goto(`${daemon.url}?transport=ws`);
    const note = page.locator("#trust", { hasText: /is its anchor/ });
    await note.waitFor({ timeout: 30_000 });
    const anchor = Number((await note.textContent()).match(/block (\d+) is its anchor/)[1]);
    assert.ok(anchor > switchHeight, `the anchor ${anchor} is a proof-of-stake block`);
    await page.waitForFunction((h) => Number(document.querySelector("#height")?.textContent) >= h, anchor + 3);
    const seen = await rowsSeen(page);
    assert.deepEqual(seen.get(String(anchor)), ["anchor", "certified"], "the anchor's certificate checked");
    for (const [h, row] of seen) {
      if (Number(h) > anchor) assert.deepEqual(row, ["verified", "certified"], `block ${h}`);
    }
    assert.equal(await page.locator(testid("consensus-mode")).getAttribute("data-mode"), "pos");
    assert.equal(await page.locator(testid("validator")).count(), 4);
    assert.deepEqual(pageErrors, []);
  });
});
