//! The round-skip rule (Algorithm 1, line 55): when validators holding more than a
//! third of the power have been heard in a higher round, at least one correct
//! validator is there, so waiting out the timeouts of the rounds in between would
//! only delay the height. Jump.
//!
//! The paper counts messages of one round. This tracker keeps, per validator, only
//! the highest round any of its (authenticated) messages named, and jumps to the
//! highest round `R` such that validators holding more than a third of the power
//! were heard in `R` or later. It is the same guarantee (a correct validator has
//! reached `R`), but costs one entry per validator however far ahead anyone is, so
//! the driver can drop the *bodies* of votes far in the future (bounded memory)
//! without losing the ability to catch up with them.
//!
//! Round changes never endanger safety (only the voting rules do), so skipping on
//! evidence from mixed rounds is safe; it only makes the skip come sooner.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::ValidatorSet;

/// The highest round each validator of the height has been heard in.
#[derive(Debug, Default)]
pub(crate) struct SkipTracker {
    /// By validator index.
    highest: Vec<Option<u32>>,
    /// Power by highest round, over all validators heard.
    power_at: BTreeMap<u32, u64>,
}

impl SkipTracker {
    /// Notes that validator `index` sent an authenticated message for `round`.
    /// Returns whether its highest round rose.
    pub fn heard(&mut self, set: &ValidatorSet, index: usize, round: u32) -> bool {
        if self.highest.is_empty() {
            self.highest.resize(set.len(), None);
        }
        let previous = self.highest[index];
        if previous.is_some_and(|p| p >= round) {
            return false;
        }
        let power = set.validators()[index].power;
        if let Some(p) = previous {
            let left = self.power_at.get_mut(&p).expect("every highest round has its power");
            *left -= power;
            if *left == 0 {
                self.power_at.remove(&p);
            }
        }
        *self.power_at.entry(round).or_default() += power;
        self.highest[index] = Some(round);
        true
    }

    /// Whether a message of validator `index` for `round` would tell nothing new:
    /// it was already heard in `round` or later.
    pub fn knows(&self, index: usize, round: u32) -> bool {
        self.highest.get(index).copied().flatten().is_some_and(|highest| highest >= round)
    }

    /// The highest round above `current` that more than a third of the power has
    /// reached, if any: the round to skip to.
    pub fn skip_to(&self, set: &ValidatorSet, current: u32) -> Option<u32> {
        let mut power = 0u64;
        for (&round, &at) in self.power_at.range(current.checked_add(1)?..).rev() {
            power += at;
            if set.is_one_third(power) {
                return Some(round);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::validator_set::tests::set_with;

    /// Proves the rule's threshold (line 55, "f+1"): one of four equal validators
    /// ahead is not enough, two are; and the jump goes to the highest round that
    /// more than a third has reached, not beyond.
    #[test]
    fn skips_on_more_than_a_third_ahead() {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let mut tracker = SkipTracker::default();
        tracker.heard(&set, 0, 5);
        assert_eq!(tracker.skip_to(&set, 0), None);
        tracker.heard(&set, 1, 3);
        assert_eq!(tracker.skip_to(&set, 0), Some(3), "one at 5 and one at 3: both at 3 or later");
        assert_eq!(tracker.skip_to(&set, 3), None, "never to the current round or below");
        tracker.heard(&set, 1, 9);
        assert_eq!(tracker.skip_to(&set, 3), Some(5));
    }

    /// Proves the threshold is by power: one validator with 40% is enough alone,
    /// and a validator's power moves with its highest round instead of counting
    /// twice, while an older round does not lower its highest.
    #[test]
    fn power_moves_with_the_highest_round() {
        let (set, keys) = set_with(&[4, 3, 3]);
        let [heavy, light] = [0, 1].map(|i| set.index_of(&keys[i].public_key()).unwrap());
        let mut tracker = SkipTracker::default();
        assert!(tracker.heard(&set, light, 2));
        assert!(tracker.heard(&set, light, 4));
        assert!(!tracker.heard(&set, light, 3));
        assert_eq!(tracker.skip_to(&set, 0), None, "30% alone is not more than a third");
        tracker.heard(&set, heavy, 2);
        assert_eq!(tracker.skip_to(&set, 0), Some(2));
        assert_eq!(tracker.skip_to(&set, 2), None);
    }
}
