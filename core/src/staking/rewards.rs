//! Rewards: paying pools per block, and claiming.
//!
//! A pool is one staker's own stake plus what is delegated to it. Paying a pool
//! takes the staker's commission off the top and shares the rest over every
//! bonded token, without visiting a single delegator: the pool keeps
//! `reward_per_token`, the total reward one token has earned since the pool
//! began, and each position (the staker's own stake, each delegation) keeps the
//! value it had when the position was last *settled*. A position is owed
//! `tokens × (reward_per_token − checkpoint)`; it is settled (that amount moved to
//! its `unclaimed` and its checkpoint reset) whenever its token count changes.
//! So a block's payout costs O(1) per pool, however many delegators it has.
//!
//! `reward_per_token` is a 64.64 fixed-point number in a `u128` that wraps: only
//! differences are ever used, and a difference is exact as long as fewer than
//! 2^64 tokens of reward are owed at once. Shares are rounded down; the dust stays
//! in the registry's escrow, owed to nobody.

use crate::consensus::Validator;
use crate::types::Address;

use super::params::share;
use super::{Delegation, Flow, Staker, StakingError, StakingState};

/// The reward `tokens` earned while the pool's `reward_per_token` went from
/// `checkpoint` to `now` (at most `u64::MAX`).
pub(crate) fn accrued(now: u128, checkpoint: u128, tokens: u64) -> u64 {
    let delta = now.wrapping_sub(checkpoint);
    let tokens = u128::from(tokens);
    // delta × tokens / 2^64, exactly, without a 256-bit product.
    let high = (delta >> 64) * tokens;
    let low = ((delta & u128::from(u64::MAX)) * tokens) >> 64;
    u64::try_from(high.saturating_add(low)).unwrap_or(u64::MAX)
}

impl Staker {
    /// Moves what the staker's own stake earned into `unclaimed`.
    pub(super) fn settle(&mut self) {
        let earned = accrued(self.reward_per_token, self.checkpoint, self.stake);
        self.unclaimed = self.unclaimed.saturating_add(earned);
        self.checkpoint = self.reward_per_token;
    }

    /// Pays `amount` into the pool: commission first, the rest per bonded token
    /// (all to the staker while nothing is bonded).
    pub(super) fn pay(&mut self, amount: u64) {
        let commission = share(amount, self.commission_bps);
        let rest = amount - commission;
        let tokens = self.stake.saturating_add(self.delegated);
        if tokens == 0 {
            self.unclaimed = self.unclaimed.saturating_add(amount);
            return;
        }
        self.unclaimed = self.unclaimed.saturating_add(commission);
        let per_token = (u128::from(rest) << 64) / u128::from(tokens);
        self.reward_per_token = self.reward_per_token.wrapping_add(per_token);
    }
}

impl Delegation {
    /// Moves what the delegation earned in a pool at `reward_per_token` into
    /// `unclaimed`.
    pub(super) fn settle(&mut self, reward_per_token: u128) {
        let earned = accrued(reward_per_token, self.checkpoint, self.amount);
        self.unclaimed = self.unclaimed.saturating_add(earned);
        self.checkpoint = reward_per_token;
    }
}

impl StakingState {
    /// Pays a block's `amount` (reward plus fees): the proposer's share to its
    /// pool, the rest to the pools of the parent certificate's signers by power;
    /// rounding remainders, and the whole when nobody signed, go to the proposer.
    /// Returns what was paid into pools: a pool whose staker has left (or a
    /// proposer outside the set) is not paid.
    pub(super) fn pay_block(
        &mut self,
        proposer: Option<&Validator>,
        signers: &[Validator],
        amount: u64,
    ) -> u64 {
        let signer_power: u128 = signers.iter().map(|v| u128::from(v.power)).sum();
        let to_signers =
            if signer_power == 0 { 0 } else { amount - share(amount, self.params.proposer_bps) };
        let mut paid = 0;
        let mut given = 0;
        for signer in signers {
            let part = (u128::from(to_signers) * u128::from(signer.power) / signer_power) as u64;
            given += part;
            paid += self.pay_pool(&signer.staker, part);
        }
        paid + proposer.map_or(0, |p| self.pay_pool(&p.staker, amount - given))
    }

    /// Pays `amount` into `staker`'s pool; returns what was paid.
    fn pay_pool(&mut self, staker: &Address, amount: u64) -> u64 {
        match self.staker_index(staker) {
            Ok(i) => {
                self.stakers[i].pay(amount);
                amount
            }
            Err(_) => 0,
        }
    }

    /// `ClaimRewards`: everything `sender` is owed, as a staker and as a
    /// delegator, goes to its balance.
    pub(super) fn claim_rewards(&mut self, sender: &Address) -> Result<Flow, StakingError> {
        let mut total: u64 = 0;
        if let Ok(i) = self.staker_index(sender) {
            let staker = &mut self.stakers[i];
            staker.settle();
            total = core::mem::take(&mut staker.unclaimed);
        }
        let first = self.delegations.partition_point(|d| d.delegator < *sender);
        let count = self.delegations[first..].iter().take_while(|d| d.delegator == *sender).count();
        for i in first..first + count {
            let pool = self.staker(&self.delegations[i].staker).map_or(0, |s| s.reward_per_token);
            let delegation = &mut self.delegations[i];
            delegation.settle(pool);
            total = total
                .checked_add(core::mem::take(&mut delegation.unclaimed))
                .ok_or(StakingError::Overflow)?;
        }
        if total == 0 {
            return Err(StakingError::NothingToClaim);
        }
        self.delegations.retain(|d| d.amount > 0 || d.unclaimed > 0);
        self.prune_staker(sender);
        Ok(Flow::withdraw(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::{addr, consensus, registry, set_of};

    /// Proves the fixed-point arithmetic: a pool of 3 tokens paid 3 owes each
    /// token 1, differences survive wrapping, and huge deltas saturate.
    #[test]
    fn accrual_is_exact_and_wraps() {
        let per_token = (3u128 << 64) / 3;
        assert_eq!(accrued(per_token, 0, 3), 3);
        assert_eq!(accrued(per_token, 0, 1), 1);
        let start = u128::MAX - 5;
        assert_eq!(accrued(start.wrapping_add(per_token), start, 2), 2);
        assert_eq!(accrued(u128::MAX, 0, u64::MAX), u64::MAX);
        assert_eq!(accrued(7, 7, 1000), 0);
    }

    /// Proves a pool pays the commission to the staker and shares the rest by
    /// bonded token: 2 500 into a pool of 1 000 own and 3 000 delegated tokens
    /// at 20% gives the staker 500 + 500 and the delegator 1 500, claimable once.
    #[test]
    fn pools_share_after_commission() {
        let mut r = registry();
        r.stake(addr(1), consensus(1), 1_000, 2_000).unwrap();
        r.delegate(addr(2), addr(1), 3_000).unwrap();
        r.stakers[0].pay(2_500);
        assert_eq!(r.staker_rewards(&addr(1)), Some(1_000));
        assert_eq!(r.delegation(&addr(2), &addr(1)).unwrap().pending_rewards, 1_500);
        assert_eq!(r.claim_rewards(&addr(2)), Ok(Flow::withdraw(1_500)));
        assert_eq!(r.claim_rewards(&addr(2)), Err(StakingError::NothingToClaim));
        assert_eq!(r.claim_rewards(&addr(1)), Ok(Flow::withdraw(1_000)));
        // A delegation joining later does not share what was paid before it.
        r.delegate(addr(3), addr(1), 4_000).unwrap();
        assert_eq!(r.delegation(&addr(3), &addr(1)).unwrap().pending_rewards, 0);
        assert_eq!(r.claim_rewards(&addr(3)), Err(StakingError::NothingToClaim));
    }

    /// Proves a block's payment: `proposer_bps` to the proposer, the rest to the
    /// signers by power with the remainder to the proposer, everything to the
    /// proposer when nobody signed, and nothing to a pool whose staker is gone.
    #[test]
    fn blocks_pay_the_proposer_and_signers_by_power() {
        let mut r = registry();
        r.params.proposer_bps = 2_000;
        for i in 1..=3 {
            r.stake(addr(i), consensus(i), 1_024, 0).unwrap();
        }
        let set = set_of(&[1, 1, 2]);
        let v = set.validators().to_vec();
        let by_staker = |r: &StakingState, i: u8| r.staker_rewards(&addr(i)).unwrap();
        let proposer = *set.get(&consensus(1)).unwrap();
        assert_eq!(r.pay_block(Some(&proposer), &v, 1_000), 1_000);
        // 200 to the proposer, 800 by power 1:1:2.
        assert_eq!([by_staker(&r, 1), by_staker(&r, 2), by_staker(&r, 3)], [400, 200, 400]);
        assert_eq!(r.pay_block(Some(&proposer), &[], 1_024), 1_024);
        assert_eq!(by_staker(&r, 1), 400 + 1_024);
        let gone = crate::consensus::Validator { staker: addr(9), ..v[0] };
        assert_eq!(r.pay_block(Some(&proposer), &[gone], 1_000), 200);
    }
}
