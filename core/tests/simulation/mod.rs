//! A deterministic simulation of a whole Starling validator network in one
//! process, driving `starling_core::consensus::Driver` through its public API only.
//!
//! Time is simulated: an event queue ordered by (time, sequence number) delivers
//! messages after random link delays and fires timeouts when asked. All chance
//! comes from one seeded [`rng::Rng`], so a seed replays a run exactly: a failing
//! seed is a reproducible bug report.
//!
//! Each node has a simulated host ([`host`]) that does what a real one must: sign
//! what its driver asks (an honest host refuses to sign two different votes for
//! one step), broadcast it and hand it back, build blocks, judge them, keep
//! messages of the next height until it starts, gossip what it has seen, and catch
//! up on missed heights from peers' commit certificates. Faulty validators
//! ([`Fault`]) equivocate, stay silent, propose invalid blocks or send garbage.
//!
//! Every run checks, as it goes: no two honest nodes decide different blocks at a
//! height (safety), every decision's certificate verifies against the validator
//! set, no honest node decides an invalid block, honest hosts are never asked to
//! double-sign, double-signing evidence only ever names faulty validators, honest
//! messages are never refused as forged; and once the network heals, every honest
//! node reaches the target height within a bound (liveness).

#![allow(dead_code)] // each test binary uses part of this module

mod byzantine;
mod host;
mod network;
pub mod rng;
pub mod scenario;

use starling_core::consensus::TimeoutConfig;
use starling_core::types::Hash;

pub use host::run;

/// How a validator behaves. Faulty validators together hold less than a third
/// of the power in every scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Honest,
    /// Sends nothing, ever.
    Silent,
    /// Signs two different votes (and proposals) per step and shows each to a
    /// different half of the network.
    Equivocate,
    /// Proposes blocks that fail the chain's checks.
    InvalidBlocks,
    /// Besides its votes, sends junk: bad signatures, other chains, other heights,
    /// random rounds and values, strangers' keys, proposals out of turn.
    Garbage,
}

/// Link behaviour: every message takes a uniform delay in `min..=max`
/// milliseconds; before the network heals, a share of messages is dropped; at
/// any time, a share is delivered twice.
#[derive(Clone, Copy, Debug)]
pub struct Links {
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
    pub drop_per_mille: u64,
    pub duplicate_per_mille: u64,
}

/// One simulated network and what to ask of it.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Voting power per validator.
    pub powers: Vec<u64>,
    /// Behaviour per validator (same length as `powers`).
    pub faults: Vec<Fault>,
    /// Nodes that follow without a key.
    pub observers: usize,
    pub links: Links,
    /// Partition group per node (validators, then observers) until the heal;
    /// messages between groups are lost. `None`: no partition.
    pub partition: Option<Vec<u8>>,
    /// When drops and the partition end.
    pub heal_at_ms: u64,
    /// Each node sends its height and every message it accepted at that height to
    /// one random peer this often (`None`: no gossip; then nothing lost is resent).
    pub gossip_every_ms: Option<u64>,
    /// Every honest node must decide at least this many heights...
    pub min_heights: u64,
    /// ...and this many more than any honest node had decided at the heal...
    pub heights_after_heal: u64,
    /// ...within this long after the heal.
    pub liveness_bound_ms: u64,
    pub timeouts: TimeoutConfig,
    /// `false`: drivers skip signature checks (for very large networks, where
    /// every node verifying every vote in one process would take hours).
    pub check_signatures: bool,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every decision by an honest node: (time, node, height, block).
    pub decisions: Vec<(u64, usize, u64, Hash)>,
    /// Per honest node and height decided by its own driver: milliseconds from
    /// starting the height to deciding it.
    pub latencies_ms: Vec<u64>,
    /// Heights an honest node caught up on from a peer's certificate.
    pub synced: usize,
    pub equivocations_reported: usize,
    pub rejected: usize,
    pub delivered: usize,
    pub end_ms: u64,
}

/// A block built by `proposer` for `height`/`round`; `variant` tells apart the
/// different blocks a faulty proposer signs. Its first byte says whether it is
/// valid, so every host judges it alike.
pub fn block(height: u64, round: u32, proposer: usize, valid: bool, variant: u8) -> Hash {
    let mut bytes = [0u8; 32];
    bytes[0] = if valid { 1 } else { 0xBD };
    bytes[1..9].copy_from_slice(&height.to_le_bytes());
    bytes[9..13].copy_from_slice(&round.to_le_bytes());
    bytes[13..17].copy_from_slice(&(proposer as u32).to_le_bytes());
    bytes[17] = variant;
    Hash(bytes)
}

/// The host's verdict on a block: whether it passes the chain's checks.
pub fn is_valid(block: &Hash) -> bool {
    block.0[0] == 1
}

/// The median and 99th percentile of `samples`.
pub fn median_and_p99(samples: &[u64]) -> (u64, u64) {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Simulated finality latency for each `(validators, heights)`: a table of the
/// median and 99th percentile, in milliseconds of simulated time, of the time
/// from a node starting a height to deciding it, on healthy 50 ms links (see
/// [`scenario::latency`]), with the real time each network took to simulate.
pub fn finality_latency_table(sizes: &[(usize, u64)]) -> String {
    let mut table = String::from("validators  median_ms  p99_ms  wall_s\n");
    for &(n, heights) in sizes {
        let started = std::time::Instant::now();
        let report = run(&scenario::latency(n, heights, 42)).expect("a healthy network decides");
        let (median, p99) = median_and_p99(&report.latencies_ms);
        let wall = started.elapsed().as_secs_f64();
        table.push_str(&format!("{n:>10}  {median:>9}  {p99:>6}  {wall:>6.1}\n"));
    }
    table
}

/// The seeds in `seeds` whose run of `trouble` (with a validator count drawn from
/// `validators`) breaks a property, each with what broke.
pub fn failing_seeds(
    seeds: std::ops::Range<u64>,
    trouble: scenario::Trouble,
    validators: (u64, u64),
) -> Vec<String> {
    seeds
        .filter_map(|seed| {
            let config = scenario::random(seed, trouble, validators);
            run(&config).err().map(|e| format!("seed {seed} ({trouble:?}): {e}"))
        })
        .collect()
}
