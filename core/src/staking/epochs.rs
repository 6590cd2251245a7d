//! Epochs: fixing validator sets ahead of time, and rolling to the next epoch.
//!
//! At the end of the last block of epoch `e` the registry rolls: the set of
//! epoch `e + 3` is computed from the stakes as they are at that moment, the held
//! sets shift by one (`e + 1` becomes current, `e` previous), and the mode of
//! epoch `e + 1` is decided from its (long fixed) set. So every set is known two
//! whole epochs before it signs anything, as with Starknet's K = 2: nodes and
//! browsers learn who their validators are well ahead, and nothing done during
//! an epoch changes who certifies its blocks.

use alloc::vec::Vec;

use crate::consensus::{Validator, ValidatorSet};

use super::Mode;
use super::StakingState;
use super::mode::next_mode;
use super::registry::HELD_SETS;

impl StakingState {
    /// Rolls to the next epoch (see the [module docs](self)).
    ///
    /// `span_ms` is how long the ending epoch took, from the previous epoch's
    /// last block to its own. A proof-of-stake epoch that produced under two thirds of the blocks
    /// expected in that time hands the next epoch to the genesis sequencer (the
    /// liveness fallback); the epoch after goes back to proof of stake by the
    /// usual rule, if its set still qualifies. So the fallback lasts one epoch at
    /// a time, and is decided from block times that honest validators bound (they
    /// refuse proposals from the future), not by any one party.
    pub(super) fn roll_epoch(&mut self, span_ms: u64) {
        let slow = self.mode.mode == Mode::Pos && self.params.epoch_too_slow(span_ms);
        let furthest = self.compute_set();
        self.sets.rotate_left(1);
        self.sets[HELD_SETS - 1] = furthest;
        self.epoch += 1;
        let mode = if slow {
            Mode::Single
        } else {
            next_mode(self.mode.mode, self.validator_set(self.epoch), &self.params)
        };
        if mode != self.mode.mode {
            self.mode.mode = mode;
            self.mode.since_epoch = self.epoch;
        }
    }

    /// The set the current stakes give: stakers that are not leaving, not
    /// slashed and hold at least `min_stake` themselves, by power (own stake plus
    /// delegations) then key, the first `max_validators` of them. `None` if no
    /// staker is eligible.
    pub(super) fn compute_set(&self) -> Option<ValidatorSet> {
        let min = self.params.min_stake;
        let mut eligible: Vec<Validator> = self
            .stakers
            .iter()
            .filter(|s| s.exit_epoch.is_none() && !s.slashed && s.stake >= min)
            .map(|s| Validator {
                key: s.consensus_key,
                staker: s.address,
                power: s.stake.saturating_add(s.delegated),
            })
            .collect();
        eligible.sort_unstable_by(|a, b| b.power.cmp(&a.power).then(a.key.cmp(&b.key)));
        eligible.truncate(self.params.max_validators as usize);
        // Cannot fail for a non-empty list: keys are unique and every bonded token
        // is in the escrow, a u64, so the total power fits.
        ValidatorSet::new(eligible).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::Mode;
    use crate::staking::testing::{addr, consensus, registry};

    /// Proves a stake made in epoch `e` is in the set of `e + 3`, fixed when `e`
    /// ends, and in none before.
    #[test]
    fn stake_enters_the_set_fixed_at_the_next_roll() {
        let mut r = registry();
        let e = r.epoch;
        r.stake(addr(1), consensus(1), r.params.min_stake, 0).unwrap();
        assert!(r.validator_set(e + 2).is_none(), "already fixed, without it");
        r.roll_epoch(0);
        assert!(r.validator_set(e + 2).is_none());
        let set = r.validator_set(e + 3).expect("fixed at the roll");
        assert_eq!(set.validators()[0].staker, addr(1));
        r.roll_epoch(0);
        r.roll_epoch(0);
        assert_eq!(r.epoch, e + 3);
        assert!(r.validator_set(r.epoch).is_some());
    }

    /// Proves the set takes the strongest stakers up to `max_validators`, ties
    /// by key, counting delegations, leaving out exiting, slashed and
    /// under-staked ones.
    #[test]
    fn sets_take_the_strongest_eligible_stakers() {
        let mut r = registry();
        r.params.max_validators = 2;
        let min = r.params.min_stake;
        for i in 1..=5 {
            r.stake(addr(i), consensus(i), min, 0).unwrap();
        }
        r.delegate(addr(9), addr(5), 1).unwrap();
        r.unstake_intent(&addr(4)).unwrap();
        r.stakers[2].slashed = true;
        let set = r.compute_set().unwrap();
        let mut members: Vec<_> = set.validators().iter().map(|v| v.staker).collect();
        members.sort_unstable();
        let tie_winner = if consensus(1) < consensus(2) { addr(1) } else { addr(2) };
        let mut expected = alloc::vec![tie_winner, addr(5)];
        expected.sort_unstable();
        assert_eq!(members, expected);
        r.stakers.iter_mut().for_each(|s| s.stake = min - 1);
        assert_eq!(r.compute_set(), None);
    }

    /// Proves the mode switches at the first roll into an epoch whose set meets
    /// the thresholds, and not before.
    #[test]
    fn pos_starts_with_the_first_qualifying_epoch() {
        let mut r = registry();
        r.params.activation_stake = 2 * r.params.min_stake;
        r.params.min_validators = 2;
        let min = r.params.min_stake;
        r.stake(addr(1), consensus(1), min, 0).unwrap();
        r.stake(addr(2), consensus(2), min, 0).unwrap();
        let staked_in = r.epoch;
        for _ in 0..2 {
            r.roll_epoch(0);
            assert_eq!(r.mode(), Mode::Single);
        }
        assert_eq!(r.mode_at(staked_in + 3), Some(Mode::Pos), "predicted from the fixed set");
        r.roll_epoch(0);
        assert_eq!(r.epoch, staked_in + 3);
        assert_eq!(r.mode(), Mode::Pos);
        assert_eq!(r.mode_since().since_epoch, r.epoch);
        assert_eq!(r.mode_at(r.epoch - 1), Some(Mode::Single));
    }
}
