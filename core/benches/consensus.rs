//! Finality latency of whole Tendermint networks in simulated time, from 4 to 1000
//! validators on 50 ms links, with the time each simulation took to run.
//!
//! The baseline, computed for the same links, is the protocol's floor: a block
//! needs three message delays after its height starts (the proposal, then the
//! prevotes, then the precommits), so each row is also shown as a ratio to
//! three link delays. The networks are simulated with the same harness as
//! `tests/consensus_simulation.rs` (the driver's public API, seeded links).
//!
//! Run: `cargo bench -p starling-core --bench consensus` (about two minutes).

#[path = "../tests/simulation/mod.rs"]
mod simulation;

/// (validators, heights decided) per row: fewer heights for the large networks,
/// which cost O(n²) messages per height to simulate.
const SIZES: [(usize, u64); 5] = [(4, 40), (16, 30), (64, 20), (256, 10), (1000, 5)];
/// One link delay of the simulated network, in ms.
const LINK_MS: f64 = 50.0;

fn main() {
    let table = simulation::finality_latency_table(&SIZES);
    println!(
        "simulated finality latency, links {LINK_MS} ms (floor: 3 delays = {} ms)",
        3.0 * LINK_MS
    );
    println!(
        "{:>10}  {:>9}  {:>6}  {:>15}  {:>6}",
        "validators", "median_ms", "p99_ms", "median/floor", "wall_s"
    );
    for line in table.lines().skip(1) {
        let cols: Vec<f64> = line.split_whitespace().map(|c| c.parse().unwrap()).collect();
        let (n, median, p99, wall) = (cols[0], cols[1], cols[2], cols[3]);
        println!("{n:>10}  {median:>9}  {p99:>6}  {:>15.2}  {wall:>6.1}", median / (3.0 * LINK_MS));
    }
}
