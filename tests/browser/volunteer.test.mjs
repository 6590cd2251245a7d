// End-to-end: volunteers prove a running devnet's blocks from a headless
// Chromium tab (the volunteer panel: Web Workers running the wasm prover) and
// from a native `starling prover` process, side by side.
//
// What this test proves:
// - pressing Prove with a reward address makes the tab lease jobs, prove them
//   in its workers and have the node accept the proofs (the node verifies
//   each against its own copy of the block before it counts);
// - leaving the page mid-proof gives its leases back at once: the job it was
//   proving is the next one any other prover is offered (not held until the
//   lease would have expired);
// - with a tab and a native prover both proving, both get proofs settled and
//   the node's proven height catches up with a finalized height seen while
//   they run;
// - the tab's address is paid on chain for its proofs, and the panel shows it.
//
// Run alone: node --test tests/browser/volunteer.test.mjs (see harness.mjs).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { launchBrowser, startDaemon, startProver, withPage } from "./harness.mjs";

// Two reward addresses (any 32 bytes whose words are field elements will do).
const VOLUNTEER = "0x" + "11".repeat(32);
const NATIVE = "0x" + "22".repeat(32);

let daemon;
let browser;
let prover;

before(async () => {
  daemon = await startDaemon();
  browser = await launchBrowser();
});

after(async () => {
  await prover?.stop();
  await browser?.close();
  await daemon?.remove();
});

async function status() {
  return daemon.rpc("starling_status", []);
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Opens the page and presses Prove for `address` with two workers. */
async function startProving(page, address) {
  await page.goto(daemon.url);
  const panel = page.locator('[data-testid="volunteer"]');
  await panel.waitFor({ timeout: 30_000 });
  await page.fill('[data-testid="prover-address"]', address);
  await page.fill('[data-testid="prover-workers"]', "2");
  await page.click('[data-testid="prove-button"]');
  await page.locator('[data-testid="prove-button"][data-state="proving"]').waitFor();
  assert.equal(await page.locator('[data-testid="prover-worker"]').count(), 2, "one row per worker");
}

/** Whether the node holds a settled proof of block `height`. */
async function settled(height) {
  return (await fetch(new URL(`proofs/${height}`, daemon.url))).ok;
}

/**
 * The heights of every job `prover` can lease now up to `highest` (the open
 * ones, lowest first), given back at once.
 */
async function leaseAll(prover, highest) {
  const taken = [];
  try {
    for (;;) {
      // Null when nothing more is open; an error past the leases one prover may hold.
      const job = await daemon.rpc("starling_leaseJob", [prover]).catch(() => null);
      if (job === null) break;
      taken.push(job.height);
      if (job.height >= highest) break;
    }
  } finally {
    for (const height of taken) await daemon.rpc("starling_releaseLease", [height, prover]);
  }
  return taken;
}

/** The reward address a settled proof of block `height` is bound to. */
async function proverOf(height) {
  const response = await fetch(new URL(`proofs/${height}`, daemon.url));
  assert.ok(response.ok, `block ${height} is proven, so its proof is served`);
  // The encoding: a version byte, then the prover's 32-byte address.
  const bytes = new Uint8Array(await response.arrayBuffer());
  return "0x" + Buffer.from(bytes.subarray(1, 33)).toString("hex");
}

test("a browser tab and a native prover both prove the devnet's blocks", { timeout: 240_000 }, async () => {
  // A backlog of jobs, so the tab has work at once.
  await until("a few blocks", async () => (await status()).height >= 4, 60_000);

  await withPage(browser, daemon, "volunteer", async (page, pageErrors) => {
    await page.goto(daemon.url);
    await page.locator('[data-testid="volunteer"]').waitFor({ timeout: 30_000 });
    await page.click('[data-testid="prove-button"]');
    await page.locator('[data-testid="prover-error"]').waitFor();
    assert.equal(
      await page.locator('[data-testid="prove-button"]').getAttribute("data-state"),
      "idle",
      "without a reward address nothing starts",
    );

    await startProving(page, VOLUNTEER);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="proofs-accepted"]')?.dataset.count) >= 2,
      null,
      { timeout: 120_000 },
    );
    const refused = Number(await page.locator('[data-testid="proofs-refused"]').getAttribute("data-count"));
    assert.equal(refused, 0, "the node refused none of the tab's proofs");

    // Leave mid-proof: the heights the workers hold go back to the pool.
    const held = await until(
      "a worker busy on a job",
      () =>
        page.$$eval('[data-testid="prover-worker"]', (rows) => {
          const busy = rows.filter((r) => ["recording", "proving"].includes(r.dataset.phase));
          return busy.length ? busy.map((r) => Number(r.dataset.height)) : undefined;
        }),
      60_000,
    );
    await page.goto("about:blank");
    // Leases last a minute; within seconds every job the tab held is either
    // settled (its proof went in just before) or offered to another prover.
    await until(
      `the jobs the tab held (${held}) to be free again`,
      async () => {
        const offered = await leaseAll(NATIVE, Math.max(...held));
        const free = await Promise.all(held.map(async (h) => offered.includes(h) || (await settled(h))));
        return free.every(Boolean);
      },
      15_000,
    );
    assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
  });

  // Both kinds of volunteer at once.
  prover = startProver(daemon, NATIVE);
  await withPage(browser, daemon, "volunteer-with-native", async (page, pageErrors) => {
    const from = (await status()).proven_height;
    await startProving(page, VOLUNTEER);
    const seen = (await status()).finalized_height;
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="proofs-accepted"]')?.dataset.count) >= 1,
      null,
      { timeout: 120_000 },
    );
    // Who proved each block settled since: the node's own stored proofs say.
    await until(
      "settled proofs by both the tab and the native prover",
      async () => {
        const top = (await status()).proven_height;
        const by = new Set();
        for (let h = from + 1; h <= top; h++) by.add(await proverOf(h));
        return by.has(VOLUNTEER) && by.has(NATIVE);
      },
      120_000,
    ).catch((e) => {
      throw new Error(`${e.message}; prover log:\n${prover.log.slice(-30).join("\n")}`);
    });
    // The devnet pays each settled proof's prover by a transfer in a later
    // block: the node reports it, the chain holds it, and the tab shows it.
    const paid = await until(
      "a reward paid to the tab's address",
      async () => {
        const rewards = await daemon.rpc("starling_getProverRewards", [VOLUNTEER]);
        return rewards.rewards_paid > 0 ? rewards : undefined;
      },
      60_000,
    );
    assert.equal(paid.rewards_paid % paid.reward_per_proof, 0, "rewards are paid a whole proof at a time");
    const balance = BigInt((await daemon.rpc("starling_getAccount", [VOLUNTEER])).balance);
    assert.ok(balance >= BigInt(paid.rewards_paid), `the chain holds what the node says it paid (${balance})`);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="rewards-earned"]')?.dataset.paid) > 0,
      null,
      { timeout: 30_000 },
    );
    await until("the proven height to reach the finalized one seen", async () => (await status()).proven_height >= seen, 120_000);
    const now = await status();
    assert.ok(now.proven_height <= now.finalized_height, "proofs never pass finality");
    assert.deepEqual(pageErrors, [], "no uncaught errors or console errors on the page");
  });
});
