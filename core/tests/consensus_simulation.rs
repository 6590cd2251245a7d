//! Whole networks of Tendermint validators in one process, under simulated time,
//! lossy links, partitions and faulty validators, driven through the public
//! `Driver` API only. See `simulation/mod.rs` for what every run checks: safety
//! (no two honest nodes decide differently), valid certificates, validity, no
//! double-signing asked of honest hosts, evidence only against faulty
//! validators, and liveness once the network heals.
//!
//! A failing seed replays exactly: run `simulation::run(&scenario::random(seed,
//! ...))` for it alone.

mod simulation;

use simulation::scenario::{self, Trouble};
use simulation::{Fault, failing_seeds, run};

/// Runs `seeds` scenarios of `trouble` and fails with every broken seed.
fn run_seeds(seeds: std::ops::Range<u64>, trouble: Trouble, validators: (u64, u64)) {
    let failures = failing_seeds(seeds, trouble, validators);
    assert!(failures.is_empty(), "{} failing seeds:\n{}", failures.len(), failures.join("\n"));
}

/// Proves honest networks of 4-6 validators (equal or unequal stake) agree and
/// keep deciding with links that drop up to 25% of messages for up to 2 s,
/// duplicate up to 10% and reorder freely.
#[test]
fn honest_networks_agree_over_lossy_links() {
    run_seeds(0..400, Trouble::LossyLinks, (4, 6));
}

/// Proves faulty validators holding less than a third of the power (silent,
/// double-signing, proposing invalid blocks, sending junk) break neither safety
/// nor liveness, in 4-validator networks where one validator is faulty.
#[test]
fn byzantine_minority_of_four() {
    run_seeds(1_000..1_800, Trouble::Byzantine, (4, 4));
}

/// As above with 5-7 validators and unequal stake, so that the faulty minority
/// is several validators with mixed behaviours.
#[test]
fn byzantine_minority_of_up_to_seven() {
    run_seeds(2_000..2_300, Trouble::Byzantine, (5, 7));
}

/// Proves partitions (with a faulty minority) never cause disagreement, and that
/// once they heal, every honest node, including those left behind, decides new
/// heights within the bound (catching up on missed heights from certificates).
#[test]
fn partitions_heal_and_everyone_catches_up() {
    run_seeds(3_000..3_400, Trouble::Partition, (4, 6));
}

/// Proves a run is a pure function of its seed: the same seed gives the same
/// decisions at the same simulated times.
#[test]
fn runs_are_deterministic() {
    for seed in [7, 1_234] {
        let config = scenario::random(seed, Trouble::Partition, (4, 7));
        assert_eq!(run(&config).unwrap(), run(&config).unwrap());
    }
}

/// Proves the simulation would notice a broken protocol: with faulty validators
/// holding more than a third of the power and silent, no height is decided (the
/// liveness check fails), which shows the checks are live rather than vacuous.
#[test]
fn silent_third_stalls_the_network() {
    let mut config = scenario::random(9, Trouble::LossyLinks, (4, 4));
    config.powers = vec![1; 4];
    config.faults = vec![Fault::Silent, Fault::Silent, Fault::Honest, Fault::Honest];
    config.liveness_bound_ms = 5_000;
    let error = run(&config).unwrap_err();
    assert!(error.starts_with("liveness"), "{error}");
}
