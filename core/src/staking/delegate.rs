//! Delegation: `Delegate`, `UndelegateIntent`, `Undelegate`.
//!
//! A delegator adds tokens to a staker's pool: the pool's power grows by them
//! (in sets fixed from then on) and they earn a share of the pool's rewards,
//! after the staker's commission. Leaving takes two steps, like unstaking: an
//! intent moves tokens out of the pool into the delegator's one withdrawal entry
//! for that pool (restarting its window), and after the exit window `Undelegate`
//! pays the entry out.

use crate::types::Address;

use super::registry::{MAX_DELEGATIONS, MAX_UNBONDING};
use super::stake::{nonzero, window_passed};
use super::{Delegation, Flow, StakingError, StakingState, Unbonding};

impl StakingState {
    /// `Delegate`: bonds `amount` of `sender`'s tokens to `staker`'s pool.
    pub(super) fn delegate(
        &mut self,
        sender: Address,
        staker: Address,
        amount: u64,
    ) -> Result<Flow, StakingError> {
        nonzero(amount)?;
        let position = self.delegation_index(&sender, &staker);
        if position.is_err() && self.delegations.len() >= MAX_DELEGATIONS {
            return Err(StakingError::RegistryFull { what: "delegations", max: MAX_DELEGATIONS });
        }
        let pool = self.active_staker_mut(&staker)?;
        // Every bonded token is in the escrow, a u64: totals cannot overflow.
        pool.delegated = pool.delegated.checked_add(amount).ok_or(StakingError::Overflow)?;
        let reward_per_token = pool.reward_per_token;
        match position {
            Ok(i) => {
                let d = &mut self.delegations[i];
                d.settle(reward_per_token);
                d.amount = d.amount.checked_add(amount).ok_or(StakingError::Overflow)?;
            }
            Err(at) => {
                let d = Delegation {
                    delegator: sender,
                    staker,
                    amount,
                    checkpoint: reward_per_token,
                    unclaimed: 0,
                };
                self.delegations.insert(at, d);
            }
        }
        Ok(Flow::deposit(amount))
    }

    /// `UndelegateIntent`: moves `amount` out of the pool into the withdrawal
    /// entry, which matures `exit_window_epochs` after this epoch.
    pub(super) fn undelegate_intent(
        &mut self,
        sender: Address,
        staker: Address,
        amount: u64,
    ) -> Result<Flow, StakingError> {
        nonzero(amount)?;
        let Ok(i) = self.delegation_index(&sender, &staker) else {
            return Err(StakingError::NoDelegation { staker });
        };
        let delegated = self.delegations[i].amount;
        if amount > delegated {
            return Err(StakingError::ExceedsDelegation { delegated, requested: amount });
        }
        let entry = self.unbonding_index(&sender, &staker);
        if entry.is_err() && self.unbonding.len() >= MAX_UNBONDING {
            return Err(StakingError::RegistryFull { what: "unbonding", max: MAX_UNBONDING });
        }
        let pool = self.staker_mut(&staker)?;
        pool.delegated -= amount;
        let reward_per_token = pool.reward_per_token;
        let d = &mut self.delegations[i];
        d.settle(reward_per_token);
        d.amount -= amount;
        if d.amount == 0 && d.unclaimed == 0 {
            self.delegations.remove(i);
        }
        let since_epoch = self.epoch;
        match entry {
            Ok(j) => {
                let u = &mut self.unbonding[j];
                u.amount = u.amount.checked_add(amount).ok_or(StakingError::Overflow)?;
                u.since_epoch = since_epoch;
            }
            Err(at) => {
                let u = Unbonding { delegator: sender, staker, amount, since_epoch };
                self.unbonding.insert(at, u);
            }
        }
        self.prune_staker(&staker);
        Ok(Flow::NONE)
    }

    /// `Undelegate`: pays out the withdrawal entry for `staker`'s pool once its
    /// window has passed.
    pub(super) fn undelegate(
        &mut self,
        sender: Address,
        staker: Address,
    ) -> Result<Flow, StakingError> {
        let Ok(i) = self.unbonding_index(&sender, &staker) else {
            return Err(StakingError::NoUnbonding { staker });
        };
        let entry = self.unbonding[i];
        window_passed(entry.since_epoch, self.params.exit_window_epochs, self.epoch)?;
        self.unbonding.remove(i);
        Ok(Flow::withdraw(entry.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::{addr, consensus, registry};

    /// Proves delegation raises the pool's delegated total, an intent moves
    /// tokens out at once and they come back only after the window.
    #[test]
    fn delegation_round_trip() {
        let mut r = registry();
        let min = r.params.min_stake;
        r.stake(addr(1), consensus(1), min, 0).unwrap();
        assert_eq!(r.delegate(addr(2), addr(9), 5), Err(StakingError::NotAStaker(addr(9))));
        assert_eq!(r.delegate(addr(2), addr(1), 0), Err(StakingError::ZeroAmount));
        assert_eq!(r.delegate(addr(2), addr(1), 50), Ok(Flow::deposit(50)));
        r.delegate(addr(2), addr(1), 25).unwrap();
        assert_eq!(r.staker(&addr(1)).unwrap().delegated, 75);
        assert_eq!(
            r.undelegate_intent(addr(2), addr(1), 76),
            Err(StakingError::ExceedsDelegation { delegated: 75, requested: 76 })
        );
        assert_eq!(
            r.undelegate_intent(addr(3), addr(1), 1),
            Err(StakingError::NoDelegation { staker: addr(1) })
        );
        r.undelegate_intent(addr(2), addr(1), 30).unwrap();
        assert_eq!(r.staker(&addr(1)).unwrap().delegated, 45);
        let view = r.delegation(&addr(2), &addr(1)).unwrap();
        let matures = r.epoch + r.params.exit_window_epochs;
        assert_eq!((view.amount, view.unbonding), (45, Some((30, matures))));
        assert!(matches!(r.undelegate(addr(2), addr(1)), Err(StakingError::ExitWindowOpen { .. })));
        r.epoch = matures;
        assert_eq!(r.undelegate(addr(2), addr(1)), Ok(Flow::withdraw(30)));
        assert_eq!(
            r.undelegate(addr(2), addr(1)),
            Err(StakingError::NoUnbonding { staker: addr(1) })
        );
    }

    /// Proves a second intent adds to the one withdrawal entry and restarts its
    /// window, and that delegating to an exiting staker is refused.
    #[test]
    fn intents_merge_and_exiting_pools_refuse_delegations() {
        let mut r = registry();
        let min = r.params.min_stake;
        r.stake(addr(1), consensus(1), min, 0).unwrap();
        r.delegate(addr(2), addr(1), 50).unwrap();
        r.undelegate_intent(addr(2), addr(1), 10).unwrap();
        r.epoch += 2;
        r.undelegate_intent(addr(2), addr(1), 10).unwrap();
        assert_eq!(r.unbonding().len(), 1);
        assert_eq!(r.unbonding()[0].amount, 20);
        assert_eq!(r.unbonding()[0].since_epoch, r.epoch);
        r.unstake_intent(&addr(1)).unwrap();
        assert_eq!(r.delegate(addr(3), addr(1), 5), Err(StakingError::Exiting(addr(1))));
    }
}
