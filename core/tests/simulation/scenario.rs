//! Random scenarios drawn from a seed: network sizes, stakes, faults, link
//! trouble and partitions, within the protocol's assumption (faulty validators
//! hold less than a third of the power).

use starling_core::consensus::TimeoutConfig;

use super::rng::Rng;
use super::{Config, Fault, Links};

/// What may go wrong in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// Honest validators only; lossy, duplicating, reordering links.
    LossyLinks,
    /// Faulty validators with less than a third of the power, on lossy links.
    Byzantine,
    /// A partition (none of whose sides may hold a quorum) that heals, with
    /// faulty validators too.
    Partition,
}

/// Timeouts short enough for many heights per second of simulated time, long
/// enough for the 1-100 ms links of the scenarios.
pub const TIMEOUTS: TimeoutConfig =
    TimeoutConfig { propose_ms: 300, prevote_ms: 150, precommit_ms: 150, delta_ms: 50 };

/// A scenario with `validators` in the given range, drawn from `seed`.
pub fn random(seed: u64, trouble: Trouble, validators: (u64, u64)) -> Config {
    let mut rng = Rng::new(seed ^ 0x5CE7_A410);
    let n = rng.between(validators.0, validators.1) as usize;
    let powers: Vec<u64> =
        if rng.chance(500) { vec![1; n] } else { (0..n).map(|_| rng.between(1, 10)).collect() };
    let faults = match trouble {
        Trouble::LossyLinks => vec![Fault::Honest; n],
        Trouble::Byzantine | Trouble::Partition => faulty_minority(&mut rng, &powers),
    };
    let observers = usize::from(rng.chance(300));
    let links = Links {
        min_delay_ms: 1,
        max_delay_ms: rng.between(10, 100),
        drop_per_mille: rng.below(250),
        duplicate_per_mille: rng.below(100),
    };
    let (partition, heal_at_ms) = match trouble {
        Trouble::Partition => {
            let groups = (0..n + observers).map(|_| rng.below(2) as u8).collect();
            (Some(groups), rng.between(500, 2_000))
        }
        _ => (None, rng.between(0, 600)),
    };
    Config {
        seed,
        powers,
        faults,
        observers,
        links,
        partition,
        heal_at_ms,
        gossip_every_ms: Some(250),
        min_heights: 2,
        heights_after_heal: 2,
        liveness_bound_ms: 30_000,
        timeouts: TIMEOUTS,
        check_signatures: true,
    }
}

/// Faults for a random set of validators holding less than a third of the power
/// (as much as fits, in random order), each with a random faulty behaviour.
fn faulty_minority(rng: &mut Rng, powers: &[u64]) -> Vec<Fault> {
    let total: u64 = powers.iter().sum();
    let kinds = [Fault::Silent, Fault::Equivocate, Fault::InvalidBlocks, Fault::Garbage];
    let mut faults = vec![Fault::Honest; powers.len()];
    let mut faulty_power = 0;
    let mut order: Vec<usize> = (0..powers.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for i in order {
        if 3 * (faulty_power + powers[i]) < total {
            faulty_power += powers[i];
            faults[i] = *rng.pick(&kinds);
        }
    }
    faults
}

/// A healthy network of `n` equal validators on links of 50 ms (± 5 ms): the
/// setting for finality latency figures. Signatures are left unchecked by the
/// drivers (latency is in simulated time; checking would only cost real time).
pub fn latency(n: usize, heights: u64, seed: u64) -> Config {
    Config {
        seed,
        powers: vec![1; n],
        faults: vec![Fault::Honest; n],
        observers: 0,
        links: Links {
            min_delay_ms: 45,
            max_delay_ms: 55,
            drop_per_mille: 0,
            duplicate_per_mille: 0,
        },
        partition: None,
        heal_at_ms: 0,
        gossip_every_ms: None,
        min_heights: heights,
        heights_after_heal: 0,
        liveness_bound_ms: 60_000 * heights,
        timeouts: TimeoutConfig::default(),
        check_signatures: false,
    }
}
