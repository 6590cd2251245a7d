//! A long soak of the consensus simulation: 16 200 more seeds than the test suite
//! runs (up to 10 validators under lossy links, Byzantine minorities and
//! partitions, and 200 networks of 16 to 25 validators), with the same checks
//! on every run. Exits non-zero naming every seed that broke a property.
//!
//! Run: `cargo run --release -p starling-core --example consensus_soak` (about 15
//! minutes on this machine).

#[path = "../tests/simulation/mod.rs"]
mod simulation;

use simulation::failing_seeds;
use simulation::scenario::Trouble;

fn main() {
    let batches = [
        (100_000..104_000, Trouble::LossyLinks, (4, 10)),
        (200_000..208_000, Trouble::Byzantine, (4, 10)),
        (300_000..304_000, Trouble::Partition, (4, 10)),
        (400_000..400_200, Trouble::Byzantine, (16, 25)),
    ];
    let mut failures = Vec::new();
    for (seeds, trouble, validators) in batches {
        eprintln!("{} seeds of {trouble:?}, {validators:?} validators...", seeds.end - seeds.start);
        failures.extend(failing_seeds(seeds, trouble, validators));
    }
    if !failures.is_empty() {
        eprintln!("{} failing seeds:\n{}", failures.len(), failures.join("\n"));
        std::process::exit(1);
    }
    println!("every seed held");
}
