//! A staker's own stake: `Stake`, `IncreaseStake`, `UnstakeIntent`, `Unstake`.

use crate::crypto::SequencerPublicKey;
use crate::types::Address;

use super::registry::MAX_STAKERS;
use super::{Flow, Staker, StakingError, StakingState};

impl StakingState {
    /// `Stake`: `sender` becomes a staker voting with `key`. It enters the first
    /// set fixed after this epoch ends: that of epoch `e + 3` for a stake made in
    /// epoch `e`.
    pub(super) fn stake(
        &mut self,
        sender: Address,
        key: SequencerPublicKey,
        amount: u64,
        commission_bps: u16,
    ) -> Result<Flow, StakingError> {
        let min = self.params.min_stake;
        if amount < min {
            return Err(StakingError::StakeBelowMinimum { min, found: amount });
        }
        let max = self.params.max_commission_bps;
        if commission_bps > max {
            return Err(StakingError::CommissionTooHigh { max, found: commission_bps });
        }
        let Err(at) = self.staker_index(&sender) else {
            return Err(StakingError::AlreadyStaker(sender));
        };
        if self.staker_by_key(&key).is_some() {
            return Err(StakingError::ConsensusKeyTaken(key));
        }
        if self.stakers.len() >= MAX_STAKERS {
            return Err(StakingError::RegistryFull { what: "stakers", max: MAX_STAKERS });
        }
        let staker = Staker {
            address: sender,
            consensus_key: key,
            stake: amount,
            delegated: 0,
            commission_bps,
            joined_epoch: self.epoch,
            exit_epoch: None,
            slashed: false,
            reward_per_token: 0,
            checkpoint: 0,
            unclaimed: 0,
        };
        self.stakers.insert(at, staker);
        Ok(Flow::deposit(amount))
    }

    /// `IncreaseStake`: adds `amount` to an active staker's own stake.
    pub(super) fn increase_stake(
        &mut self,
        sender: &Address,
        amount: u64,
    ) -> Result<Flow, StakingError> {
        let staker = self.active_staker_mut(sender)?;
        nonzero(amount)?;
        staker.settle();
        staker.stake = staker.stake.checked_add(amount).ok_or(StakingError::Overflow)?;
        Ok(Flow::deposit(amount))
    }

    /// `UnstakeIntent`: starts the exit window. Sets fixed from now on leave the
    /// staker out; those already fixed keep it (and it stays slashable).
    pub(super) fn unstake_intent(&mut self, sender: &Address) -> Result<Flow, StakingError> {
        let epoch = self.epoch;
        let staker = self.staker_mut(sender)?;
        if staker.exit_epoch.is_some() {
            return Err(StakingError::AlreadyExiting(*sender));
        }
        staker.exit_epoch = Some(epoch);
        Ok(Flow::NONE)
    }

    /// `Unstake`: once the exit window has passed, the stake and its rewards go
    /// back to the staker's balance. The record stays while delegators still have
    /// tokens in the pool (they withdraw on their own schedule).
    pub(super) fn unstake(&mut self, sender: &Address) -> Result<Flow, StakingError> {
        let (epoch, window) = (self.epoch, self.params.exit_window_epochs);
        let staker = self.staker_mut(sender)?;
        let since = staker.exit_epoch.ok_or(StakingError::NotExiting(*sender))?;
        window_passed(since, window, epoch)?;
        staker.settle();
        let amount = staker.stake.checked_add(staker.unclaimed).ok_or(StakingError::Overflow)?;
        if amount == 0 {
            return Err(StakingError::NothingToWithdraw);
        }
        staker.stake = 0;
        staker.unclaimed = 0;
        self.prune_staker(sender);
        Ok(Flow::withdraw(amount))
    }

    pub(super) fn staker_mut(&mut self, address: &Address) -> Result<&mut Staker, StakingError> {
        match self.staker_index(address) {
            Ok(i) => Ok(&mut self.stakers[i]),
            Err(_) => Err(StakingError::NotAStaker(*address)),
        }
    }

    /// A staker that may still grow: not exiting and not slashed.
    pub(super) fn active_staker_mut(
        &mut self,
        address: &Address,
    ) -> Result<&mut Staker, StakingError> {
        let staker = self.staker_mut(address)?;
        if staker.exit_epoch.is_some() {
            return Err(StakingError::Exiting(*address));
        }
        if staker.slashed {
            return Err(StakingError::Slashed(*address));
        }
        Ok(staker)
    }

    /// Removes a staker that has left and that nothing refers to any more.
    pub(super) fn prune_staker(&mut self, address: &Address) {
        if let Ok(i) = self.staker_index(address) {
            let s = &self.stakers[i];
            if s.exit_epoch.is_some() && s.stake == 0 && s.delegated == 0 && s.unclaimed == 0 {
                self.stakers.remove(i);
            }
        }
    }
}

pub(super) fn nonzero(amount: u64) -> Result<(), StakingError> {
    if amount == 0 { Err(StakingError::ZeroAmount) } else { Ok(()) }
}

/// Whether an exit announced in epoch `since` may complete in epoch `now`.
pub(super) fn window_passed(since: u64, window: u64, now: u64) -> Result<(), StakingError> {
    let until_epoch = since.saturating_add(window);
    if now < until_epoch {
        return Err(StakingError::ExitWindowOpen { until_epoch, epoch: now });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::{addr, consensus, registry};

    /// Proves a stake below the minimum, a commission above the maximum, a
    /// second stake by one account and a reused consensus key are refused.
    #[test]
    fn stake_rules() {
        let mut r = registry();
        let min = r.params.min_stake;
        assert_eq!(
            r.stake(addr(1), consensus(1), min - 1, 0),
            Err(StakingError::StakeBelowMinimum { min, found: min - 1 })
        );
        let max = r.params.max_commission_bps;
        assert_eq!(
            r.stake(addr(1), consensus(1), min, max + 1),
            Err(StakingError::CommissionTooHigh { max, found: max + 1 })
        );
        assert_eq!(r.stake(addr(1), consensus(1), min, 0), Ok(Flow::deposit(min)));
        assert_eq!(
            r.stake(addr(1), consensus(2), min, 0),
            Err(StakingError::AlreadyStaker(addr(1)))
        );
        assert_eq!(
            r.stake(addr(2), consensus(1), min, 0),
            Err(StakingError::ConsensusKeyTaken(consensus(1)))
        );
        assert_eq!(r.stakers().len(), 1);
    }

    /// Proves unstaking before the window has passed is refused, and after it
    /// returns the stake; increasing an exiting stake is refused.
    #[test]
    fn unstake_waits_for_the_exit_window() {
        let mut r = registry();
        let min = r.params.min_stake;
        r.stake(addr(1), consensus(1), min, 0).unwrap();
        assert_eq!(r.unstake(&addr(1)), Err(StakingError::NotExiting(addr(1))));
        r.unstake_intent(&addr(1)).unwrap();
        assert_eq!(r.unstake_intent(&addr(1)), Err(StakingError::AlreadyExiting(addr(1))));
        assert_eq!(r.increase_stake(&addr(1), 5), Err(StakingError::Exiting(addr(1))));
        let until_epoch = r.epoch + r.params.exit_window_epochs;
        r.epoch = until_epoch - 1;
        assert_eq!(
            r.unstake(&addr(1)),
            Err(StakingError::ExitWindowOpen { until_epoch, epoch: until_epoch - 1 })
        );
        r.epoch = until_epoch;
        assert_eq!(r.unstake(&addr(1)), Ok(Flow::withdraw(min)));
        assert!(r.stakers().is_empty(), "nothing refers to it any more");
        assert_eq!(r.unstake(&addr(1)), Err(StakingError::NotAStaker(addr(1))));
    }

    /// Proves a zero increase is refused and a positive one adds up.
    #[test]
    fn increase_stake_adds() {
        let mut r = registry();
        let min = r.params.min_stake;
        r.stake(addr(1), consensus(1), min, 0).unwrap();
        assert_eq!(r.increase_stake(&addr(1), 0), Err(StakingError::ZeroAmount));
        assert_eq!(r.increase_stake(&addr(2), 1), Err(StakingError::NotAStaker(addr(2))));
        assert_eq!(r.increase_stake(&addr(1), 7), Ok(Flow::deposit(7)));
        assert_eq!(r.staker(&addr(1)).unwrap().stake, min + 7);
    }
}
