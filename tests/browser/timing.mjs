// How long the page takes, over each transport, from the moment it starts
// loading to connected and to its first verified block, as the page itself
// measures it (its network panel: web-ui/src/network.rs). Starts a devnet, opens
// the page `--runs` times per transport in fresh browser contexts, and prints
// the median, min and max of each figure.
//
//   node tests/browser/timing.mjs [--runs 10] [--transports webrtc,ws] [-- chromium flags…]
//
// Inputs as for the browser tests (harness.mjs): STARLING_BIN, STARLING_WEB_DIR,
// CHROMIUM, or their defaults under CARGO_TARGET_DIR.

import { launchBrowser, networkFacts, startDaemon, waitForFirstBlock } from "./harness.mjs";

function parseArgs(argv) {
  const o = { runs: 10, transports: ["webrtc", "ws"], chromium: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") {
      o.chromium = argv.slice(i + 1);
      break;
    }
    if (argv[i] === "--runs") o.runs = Number(argv[++i]);
    else if (argv[i] === "--transports") o.transports = argv[++i].split(",");
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!(o.runs >= 1)) throw new Error("--runs must be at least 1");
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const options = parseArgs(process.argv.slice(2));
const daemon = await startDaemon();
const browser = await launchBrowser(options.chromium);
try {
  // Let the devnet make a few blocks so every run has something to verify.
  await new Promise((r) => setTimeout(r, 3_000));
  const rows = [];
  for (const transport of options.transports) {
    const runs = [];
    for (let i = 0; i < options.runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${daemon.url}?transport=${transport}`);
        await waitForFirstBlock(page, 30_000);
        const n = await networkFacts(page);
        runs.push({
          dial: n.dialMs,
          connect: n.connectMs,
          handshake: n.connectMs - n.dialMs,
          status: n.statusMs - n.connectMs,
          blocks: n.blocksMs - n.statusMs,
          verify: n.firstBlockMs - n.blocksMs,
          firstBlock: n.firstBlockMs,
          transport: n.transport,
        });
      } catch (e) {
        console.error(`${transport} run ${i + 1} failed: ${e.message.split("\n")[0]}`);
      } finally {
        await context.close();
      }
    }
    const figure = (key) => {
      const xs = runs.map((r) => r[key]);
      return xs.length ? `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : "—";
    };
    rows.push({
      transport: runs[0]?.transport ?? transport,
      "ok runs": `${runs.length}/${options.runs}`,
      "page start → dial": figure("dial"),
      "dial → connected": figure("handshake"),
      "page start → connected": figure("connect"),
      "connected → peer status": figure("status"),
      "status → blocks": figure("blocks"),
      "blocks → verified": figure("verify"),
      "page start → first verified block": figure("firstBlock"),
    });
  }
  console.log(`milliseconds, median (min–max) over ${options.runs} runs per transport, loopback`);
  console.table(rows);
} finally {
  await browser.close();
  await daemon.remove();
}
