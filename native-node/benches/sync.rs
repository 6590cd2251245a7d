//! How fast a fresh node syncs a chain from a peer over libp2p, verifying every
//! block (header signature, transaction root, every transaction signature,
//! re-execution to the state root), against a baseline measured in the same run:
//! the same blocks verified in-process with no network and no storage.
//!
//! Run: `cargo bench -p starling-node --bench sync` (about a minute). Prints the
//! median of several fresh followers, blocks/s and transactions/s, and the ratio
//! to the in-process baseline.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Daemon;
use serde_json::json;
use starling_core::chain::{Genesis, apply_block};
use starling_core::encoding::Message;
use starling_core::types::Block;

const BLOCKS: u64 = 400;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let seq_dir = dir.path().join("seq");
    eprintln!("building a {BLOCKS}-block chain with demo transfers...");
    let builder =
        Daemon::devnet(&seq_dir, &["--demo-tps", "100", "--block-time-ms", "40", "--no-discovery"]);
    builder.wait_for(300, "the chain to be built", |d| d.height() >= BLOCKS);
    drop(builder);
    // The same devnet again, now producing no new blocks while followers sync.
    let seq = Daemon::devnet(
        &seq_dir,
        &["--demo-tps", "0", "--block-time-ms", "100000000", "--no-discovery"],
    );
    let height = seq.height();
    let blocks: Vec<Block> = (1..=height).map(|h| fetch_block(&seq, h)).collect();
    let txs: usize = blocks.iter().map(|b| b.transactions.len()).sum();
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(seq_dir.join("genesis.json")).unwrap())
            .unwrap();

    let baseline = median((0..RUNS).map(|_| verify_in_process(&genesis, &blocks)).collect());
    let bootstrap = seq.p2p_addr("tcp");
    let synced = median(
        (0..RUNS)
            .map(|i| {
                let follower_dir = dir.path().join(format!("follower{i}"));
                let started = Instant::now();
                let f = Daemon::follower(&follower_dir, &seq_dir.join("genesis.json"), &bootstrap);
                f.wait_for(300, "the follower to sync", |d| d.height() >= height);
                started.elapsed()
            })
            .collect(),
    );
    let per_sec = |d: Duration, n: f64| n / d.as_secs_f64();
    println!("chain: {height} blocks, {txs} transfers");
    println!(
        "in-process verify (baseline): {:>8.1} blocks/s {:>8.1} tx/s  (median of {RUNS})",
        per_sec(baseline, height as f64),
        per_sec(baseline, txs as f64)
    );
    println!(
        "fresh follower over libp2p:   {:>8.1} blocks/s {:>8.1} tx/s  (median of {RUNS}, from process start)",
        per_sec(synced, height as f64),
        per_sec(synced, txs as f64)
    );
    println!("ratio sync/baseline: {:.2}", baseline.as_secs_f64() / synced.as_secs_f64());
}

fn fetch_block(d: &Daemon, height: u64) -> Block {
    let raw = d.result("starling_getBlock", json!([height]));
    let bytes = hex::decode(raw["block"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    Block::decode_message(&bytes).unwrap()
}

/// Verifies and applies every block on a full in-memory state, as a follower does.
fn verify_in_process(genesis: &Genesis, blocks: &[Block]) -> Duration {
    let (genesis_block, mut state) = genesis.block().unwrap();
    let started = Instant::now();
    let mut parent = genesis_block.header;
    for block in blocks {
        apply_block(block, &parent, &mut state).unwrap();
        parent = block.header.clone();
    }
    started.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
