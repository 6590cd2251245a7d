//! Bandwidth per node for a given block rate, against the size of the blocks
//! themselves measured in the same run.
//!
//! A devnet (1 block/s, demo transfers) and two followers in a line (sequencer -
//! f1 - f2, no discovery) run for a window; each node's libp2p byte counters
//! (`libp2p_bandwidth_bytes_total` at `/metrics`) are read at its start and end.
//! The baseline is the encoded size of the blocks produced in the window: the
//! ratio says how many times the chain's own bytes each node moves.
//!
//! Run: `cargo bench -p starling-node --bench bandwidth` (about a minute).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Daemon;
use serde_json::json;

const WINDOW: Duration = Duration::from_secs(30);

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let seq_dir = dir.path().join("seq");
    let seq =
        Daemon::devnet(&seq_dir, &["--demo-tps", "4", "--block-time-ms", "1000", "--no-discovery"]);
    let genesis = seq_dir.join("genesis.json");
    let f1 = Daemon::follower(&dir.path().join("f1"), &genesis, &seq.p2p_addr("tcp"));
    let f2 = Daemon::follower(&dir.path().join("f2"), &genesis, &f1.p2p_addr("tcp"));
    let start_height = seq.height() + 2;
    f2.wait_for(60, "the followers to catch up", |d| d.height() >= start_height);

    let nodes = [("sequencer", &seq), ("f1 (middle)", &f1), ("f2 (end)", &f2)];
    let before: Vec<(u64, u64)> = nodes.iter().map(|(_, d)| bytes(d)).collect();
    let from = seq.height();
    let started = Instant::now();
    std::thread::sleep(WINDOW);
    let elapsed = started.elapsed().as_secs_f64();
    let to = seq.height();
    let after: Vec<(u64, u64)> = nodes.iter().map(|(_, d)| bytes(d)).collect();

    let block_bytes: usize = (from + 1..=to).map(|h| encoded_size(&seq, h)).sum();
    let blocks = to - from;
    let chain_rate = block_bytes as f64 / elapsed;
    println!(
        "window {elapsed:.1} s: {blocks} blocks, {block_bytes} bytes of blocks ({chain_rate:.0} B/s, the baseline)"
    );
    for (((name, _), (in0, out0)), (in1, out1)) in nodes.iter().zip(&before).zip(&after) {
        let (rx, tx) = ((in1 - in0) as f64 / elapsed, (out1 - out0) as f64 / elapsed);
        println!(
            "{name:<12} in {rx:>8.0} B/s  out {tx:>8.0} B/s  ({:.1}x the block bytes in, {:.1}x out)",
            rx / chain_rate,
            tx / chain_rate
        );
    }
}

/// Bytes (in, out) the node's libp2p transports have moved.
fn bytes(d: &Daemon) -> (u64, u64) {
    let text = ureq::get(&format!("{}metrics", d.url)).call().unwrap().into_string().unwrap();
    let sum = |direction: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with("libp2p_bandwidth_bytes_total") && l.contains(direction))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    (sum("Inbound"), sum("Outbound"))
}

fn encoded_size(d: &Daemon, height: u64) -> usize {
    let raw = d.result("starling_getBlock", json!([height]));
    raw["block"].as_str().unwrap().trim_start_matches("0x").len() / 2
}
