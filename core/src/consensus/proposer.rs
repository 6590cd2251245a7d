//! Who proposes at each height and round: `proposer(h, r)` of Algorithm 1.
//!
//! Every validator must compute the same proposer from what it already agrees on
//! (the validator set, the height, the round) with no communication, and over time
//! each validator should propose in proportion to its voting power.
//!
//! The rule: lay the validators, in set order, along a line of length
//! `total_power`, each covering a segment as long as its power. Slot `k = height +
//! round` points at `frac(k / φ) · total_power` on that line (a golden-ratio Weyl
//! sequence), and the validator whose segment holds that point proposes.
//!
//! Why this and not a hash: a hash of `(height, round)` picks fairly only on
//! average, with an error that grows like √K over K slots; the golden-ratio
//! sequence is the most evenly spread sequence on a line (three-distance theorem),
//! so every validator's share of any K consecutive slots is within O(log K) of its
//! power share. Why not Tendermint's proposer-priority rotation: that is a state
//! carried from height to height, whereas this is a pure function of the set, the
//! height and the round, so any node (or a light client) can compute any slot.
//!
//! Consecutive slots are 0.382 of the line apart, so when no validator holds more
//! than 38% of the power, the next round of a height (after a silent or faulty
//! proposer) always goes to another validator.

use super::{Validator, ValidatorSet};

/// `2^64 / φ`, rounded to odd: the step of the Weyl sequence as a 64-bit fraction.
const GOLDEN_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// The validator that proposes at `height` and `round` under `set`.
pub fn proposer(set: &ValidatorSet, height: u64, round: u32) -> &Validator {
    let slot = height.wrapping_add(u64::from(round));
    let point = point_on_power_line(slot, set.total_power());
    let mut end: u64 = 0;
    for validator in set.validators() {
        end += validator.power; // cannot overflow: the set's total fits a u64
        if point < end {
            return validator;
        }
    }
    unreachable!("the point lies below the total power, which the segments cover")
}

/// Where slot `k` falls on a line of length `total`: `frac(k / φ) · total`, in
/// `0..total`. The fraction has 64 bits, so rounding skews no validator's share by
/// more than `total / 2^64`.
fn point_on_power_line(slot: u64, total: u64) -> u64 {
    let fraction = slot.wrapping_mul(GOLDEN_STEP);
    ((u128::from(fraction) * u128::from(total)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::validator_set::tests::set_with;
    use alloc::vec;

    /// Proves each validator's share of 10,000 consecutive slots tracks its share
    /// of the power to within a few slots, with very unequal powers.
    #[test]
    fn shares_track_power() {
        let powers = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
        let (set, _) = set_with(&powers);
        let slots = 10_000u64;
        let mut counts = vec![0u64; set.len()];
        for k in 0..slots {
            let who = proposer(&set, 1_000_000 + k, 0);
            counts[set.index_of(&who.key).unwrap()] += 1;
        }
        for (v, count) in set.validators().iter().zip(&counts) {
            let expected = slots as f64 * v.power as f64 / set.total_power() as f64;
            assert!(
                (*count as f64 - expected).abs() <= 10.0,
                "power {} proposed {count} times, expected {expected:.1}",
                v.power
            );
        }
    }

    /// Proves the choice is a pure function: the same inputs give the same
    /// proposer, whatever was computed before.
    #[test]
    fn deterministic() {
        let (set, _) = set_with(&[3, 1, 4, 1, 5]);
        let first: vec::Vec<_> = (0..50).map(|r| proposer(&set, 42, r).key).collect();
        let again: vec::Vec<_> = (0..50).map(|r| proposer(&set, 42, r).key).collect();
        assert_eq!(first, again);
    }

    /// Proves that with equal powers, any window of a few slots spreads over
    /// several validators, and that consecutive rounds of a height always change
    /// proposer when no validator holds 38% of the power (so one silent proposer
    /// cannot stall two rounds in a row).
    #[test]
    fn consecutive_rounds_change_proposer() {
        let (set, _) = set_with(&[1, 1, 1, 1, 1, 1, 1]);
        for height in 0..500 {
            for round in 0..8 {
                assert_ne!(
                    proposer(&set, height, round).key,
                    proposer(&set, height, round + 1).key
                );
            }
        }
        let (uneven, _) = set_with(&[37, 30, 33]);
        for height in 0..500 {
            assert_ne!(proposer(&uneven, height, 0).key, proposer(&uneven, height, 1).key);
        }
    }

    /// Proves huge powers (near `u64::MAX` in total) neither overflow nor starve
    /// anyone.
    #[test]
    fn huge_powers() {
        let (set, _) = set_with(&[u64::MAX / 2, u64::MAX / 4, u64::MAX / 4]);
        let mut seen = vec![false; 3];
        for k in 0..20 {
            seen[set.index_of(&proposer(&set, k, 0).key).unwrap()] = true;
        }
        assert_eq!(seen, [true; 3]);
    }
}
