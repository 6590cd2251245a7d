//! Fixtures shared by the staking tests.

use alloc::vec::Vec;

use crate::consensus::{Validator, ValidatorSet};
use crate::crypto::{SequencerKey, SequencerPublicKey};
use crate::types::{Address, ChainId};

use super::{Delegation, Staker, StakingParams, StakingState, Unbonding};

pub(crate) fn test_chain() -> ChainId {
    ChainId::new("starling-test").unwrap()
}

/// A distinct canonical address per seed.
pub(crate) fn addr(seed: u8) -> Address {
    Address([seed; 32])
}

pub(crate) fn consensus_key(seed: u8) -> SequencerKey {
    SequencerKey::from_seed(&[seed; 32])
}

pub(crate) fn consensus(seed: u8) -> SequencerPublicKey {
    consensus_key(seed).public_key()
}

/// A fresh registry with the default parameters.
pub(crate) fn registry() -> StakingState {
    StakingState::genesis(StakingParams::default(), consensus(200))
}

/// One record of each kind with every field set.
pub(crate) fn sample_records() -> (Staker, Delegation, Unbonding) {
    let staker = Staker {
        address: addr(1),
        consensus_key: consensus(1),
        stake: 5_000,
        delegated: 300,
        commission_bps: 250,
        joined_epoch: 2,
        exit_epoch: Some(9),
        slashed: false,
        reward_per_token: u128::MAX - 3,
        checkpoint: 1 << 70,
        unclaimed: 12,
    };
    let delegation = Delegation {
        delegator: addr(2),
        staker: addr(1),
        amount: 300,
        checkpoint: 5,
        unclaimed: 1,
    };
    let unbonding = Unbonding { delegator: addr(2), staker: addr(1), amount: 40, since_epoch: 7 };
    (staker, delegation, unbonding)
}

/// A registry with stakers, delegations, a withdrawal and sets in every slot.
pub(crate) fn busy_registry() -> StakingState {
    let mut r = registry();
    let min = r.params.min_stake;
    for i in 1..=3 {
        r.stake(addr(i), consensus(i), min * u64::from(i), 100).unwrap();
    }
    r.delegate(addr(7), addr(1), 50).unwrap();
    r.delegate(addr(7), addr(2), 60).unwrap();
    r.undelegate_intent(addr(7), addr(2), 10).unwrap();
    for _ in 0..4 {
        r.roll_epoch(0);
    }
    r.stakers[0].pay(1_000);
    r
}

/// Another registry, differing from `registry` in one field.
pub(crate) fn tampered(registry: &StakingState) -> StakingState {
    let mut other = registry.clone();
    other.epoch += 1;
    other
}

/// A set of validators with seeds 1..=n, the given powers and stakers `addr(i)`.
pub(crate) fn set_of(powers: &[u64]) -> ValidatorSet {
    let validators: Vec<Validator> = (1..=powers.len())
        .map(|i| Validator { key: consensus(i as u8), staker: addr(i as u8), power: powers[i - 1] })
        .collect();
    ValidatorSet::new(validators).unwrap()
}
