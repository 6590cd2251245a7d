// End-to-end: the page's settlement panel against a devnet whose blocks are
// proven by a native prover worker (`starling devnet --provers 1`).
//
// What this test proves: the page shows the node's finalized height and its
// proven height (the settlement verifier's), and the proven height rises on
// the page as the prover's proofs are verified and settled by the node.
//
// Run alone: node --test tests/browser/settlement.test.mjs (see harness.mjs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { launchBrowser, startDaemon, withPage as withPageOf } from "./harness.mjs";

let daemon;
let browser;

before(async () => {
  daemon = await startDaemon(["--provers", "1"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.remove();
});

/** The proven height the settlement panel shows, or -1 before it has one. */
async function shownProven(page) {
  const h = await page.locator('[data-testid="proven-height"]').getAttribute("data-height");
  return h === null ? -1 : Number(h);
}

test("the settlement panel shows the proven height rising with the finalized height", { timeout: 120_000 }, async () => {
  await withPageOf(browser, daemon, "settlement", async (page, pageErrors) => {
    await page.goto(daemon.url);
    const panel = page.locator('[data-testid="settlement"]');
    await panel.waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="proven-height"]')?.dataset.height ?? -1) >= 2,
      null,
      { timeout: 60_000 },
    );
    const first = await shownProven(page);
    await page.waitForFunction(
      (h) => Number(document.querySelector('[data-testid="proven-height"]')?.dataset.height ?? -1) > h,
      first,
      { timeout: 30_000 },
    );
    const [proven, finalized] = await page.evaluate(() => [
      Number(document.querySelector('[data-testid="proven-height"]').dataset.height),
      Number(document.querySelector('[data-testid="finalized-claim"]').textContent),
    ]);
    assert.ok(proven <= finalized, `proven ${proven} never passes finalized ${finalized}`);
    assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
  });
});
