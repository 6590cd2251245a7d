//! The registry: every staking record of the chain, held as the preimage of the
//! registry account's `staking` commitment.

use alloc::vec::Vec;

use crate::consensus::{MAX_VALIDATORS, ValidatorSet};
use crate::crypto::SequencerPublicKey;
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader, put_list};
use crate::hash::{Domain, hash_bytes};
use crate::types::{Address, Hash};

use super::mode::{Mode, ModeSince};
use super::params::PARAMS_BYTES;
use super::records::{DELEGATION_BYTES, STAKER_BYTES, UNBONDING_BYTES};
use super::rewards::accrued;
use super::{Delegation, Staker, StakingParams, Unbonding};

/// Most stakers the registry holds (bounds decoding and every per-staker loop).
pub const MAX_STAKERS: usize = 4096;
/// Most delegations the registry holds.
pub const MAX_DELEGATIONS: usize = 65_536;
/// Most withdrawals under way the registry holds.
pub const MAX_UNBONDING: usize = 65_536;

/// Validator sets held: the previous epoch's, the current one's and the next two.
pub(crate) const HELD_SETS: usize = 4;

/// The whole staking state of the chain. See the [module docs](super).
///
/// Stakers are sorted by address; delegations and withdrawals by delegator, then
/// staker; each key at most once. The encoding refuses anything else, so every
/// registry has one encoding and one commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakingState {
    pub(super) params: StakingParams,
    /// Signs blocks in [`Mode::Single`].
    pub(super) sequencer: SequencerPublicKey,
    pub(super) mode: ModeSince,
    /// The epoch of the next block.
    pub(super) epoch: u64,
    /// The time of the last block of the previous epoch (ms): the start of the
    /// current one, for the liveness fallback.
    pub(super) epoch_started_ms: u64,
    /// Sets of epochs `epoch - 1 ..= epoch + 2`; `None` where no staker was
    /// eligible (or before the first epoch).
    pub(super) sets: [Option<ValidatorSet>; HELD_SETS],
    pub(super) stakers: Vec<Staker>,
    pub(super) delegations: Vec<Delegation>,
    pub(super) unbonding: Vec<Unbonding>,
}

/// A delegator's position in one pool, as a wallet shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DelegationView {
    pub staker: Address,
    /// Tokens bonded to the pool.
    pub amount: u64,
    /// Rewards claimable now.
    pub pending_rewards: u64,
    /// Tokens withdrawing, and the first epoch they can be taken back.
    pub unbonding: Option<(u64, u64)>,
}

impl StakingState {
    /// The registry a chain starts with: its parameters, the sequencer of the
    /// single stage, no stakers, and the epoch of block 1.
    pub fn genesis(params: StakingParams, sequencer: SequencerPublicKey) -> Self {
        Self {
            params,
            sequencer,
            mode: ModeSince { mode: Mode::Single, since_epoch: 0 },
            epoch: params.epoch_of(1),
            epoch_started_ms: 0,
            sets: Default::default(),
            stakers: Vec::new(),
            delegations: Vec::new(),
            unbonding: Vec::new(),
        }
    }

    /// The digest the registry account's `staking` field holds.
    pub fn commitment(&self) -> Hash {
        hash_bytes(Domain::Staking, &self.to_bytes())
    }

    pub fn params(&self) -> &StakingParams {
        &self.params
    }

    /// The key that signs blocks in [`Mode::Single`].
    pub fn sequencer(&self) -> SequencerPublicKey {
        self.sequencer
    }

    /// The epoch of the next block.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(super) fn set_index(&self, epoch: u64) -> Option<usize> {
        let first = self.epoch.checked_sub(1);
        let offset = match first {
            Some(first) => epoch.checked_sub(first)?,
            // Epoch 0 has no previous epoch: slot 0 stays empty.
            None => epoch.checked_add(1)?,
        };
        usize::try_from(offset).ok().filter(|i| *i < HELD_SETS)
    }

    /// The validator set of `epoch`, for the previous, current and next two
    /// epochs; `None` outside those or where nobody was eligible.
    pub fn validator_set(&self, epoch: u64) -> Option<&ValidatorSet> {
        self.sets[self.set_index(epoch)?].as_ref()
    }

    /// Every staker, by address.
    pub fn stakers(&self) -> &[Staker] {
        &self.stakers
    }

    pub fn staker(&self, address: &Address) -> Option<&Staker> {
        self.staker_index(address).ok().map(|i| &self.stakers[i])
    }

    /// The staker voting with `key`, if any.
    pub fn staker_by_key(&self, key: &SequencerPublicKey) -> Option<&Staker> {
        self.stakers.iter().find(|s| s.consensus_key == *key)
    }

    /// A staker's claimable rewards: commission and rewards on its own stake.
    pub fn staker_rewards(&self, address: &Address) -> Option<u64> {
        let s = self.staker(address)?;
        Some(s.unclaimed.saturating_add(accrued(s.reward_per_token, s.checkpoint, s.stake)))
    }

    /// Every pool `delegator` has tokens, rewards or a withdrawal in.
    pub fn delegations_of(&self, delegator: &Address) -> Vec<DelegationView> {
        let bonded = self.delegations.iter().filter(|d| d.delegator == *delegator);
        let unbonding = self.unbonding.iter().filter(|u| u.delegator == *delegator);
        let mut pools: Vec<Address> =
            bonded.map(|d| d.staker).chain(unbonding.map(|u| u.staker)).collect();
        pools.sort_unstable();
        pools.dedup();
        pools.iter().filter_map(|staker| self.delegation(delegator, staker)).collect()
    }

    /// `delegator`'s position in `staker`'s pool, if it has one.
    pub fn delegation(&self, delegator: &Address, staker: &Address) -> Option<DelegationView> {
        let bonded = self.delegation_index(delegator, staker).ok().map(|i| &self.delegations[i]);
        let unbonding = self.unbonding_index(delegator, staker).ok().map(|i| &self.unbonding[i]);
        if bonded.is_none() && unbonding.is_none() {
            return None;
        }
        let pool = self.staker(staker).map_or(0, |s| s.reward_per_token);
        Some(DelegationView {
            staker: *staker,
            amount: bonded.map_or(0, |d| d.amount),
            pending_rewards: bonded
                .map_or(0, |d| d.unclaimed.saturating_add(accrued(pool, d.checkpoint, d.amount))),
            unbonding: unbonding
                .map(|u| (u.amount, u.since_epoch + self.params.exit_window_epochs)),
        })
    }

    /// Withdrawals under way, by delegator and staker.
    pub fn unbonding(&self) -> &[Unbonding] {
        &self.unbonding
    }

    pub(super) fn staker_index(&self, address: &Address) -> Result<usize, usize> {
        self.stakers.binary_search_by(|s| s.address.cmp(address))
    }

    pub(super) fn delegation_index(
        &self,
        delegator: &Address,
        staker: &Address,
    ) -> Result<usize, usize> {
        self.delegations.binary_search_by(|d| (&d.delegator, &d.staker).cmp(&(delegator, staker)))
    }

    pub(super) fn unbonding_index(
        &self,
        delegator: &Address,
        staker: &Address,
    ) -> Result<usize, usize> {
        self.unbonding.binary_search_by(|u| (&u.delegator, &u.staker).cmp(&(delegator, staker)))
    }
}

impl Encode for StakingState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.params.encode_to(out);
        self.sequencer.encode_to(out);
        self.mode.encode_to(out);
        self.epoch.encode_to(out);
        self.epoch_started_ms.encode_to(out);
        for set in &self.sets {
            set.encode_to(out);
        }
        put_list(out, &self.stakers);
        put_list(out, &self.delegations);
        put_list(out, &self.unbonding);
    }
}

/// Refuses a list whose keys are not strictly increasing.
fn sorted<T, K: Ord>(
    items: Vec<T>,
    field: &'static str,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, DecodeError> {
    if items.windows(2).any(|w| key(&w[0]) >= key(&w[1])) {
        return Err(DecodeError::InvalidValue { field, reason: "not sorted, or a key repeats" });
    }
    Ok(items)
}

impl Decode for StakingState {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let params = StakingParams::decode_from(reader)?;
        let sequencer = SequencerPublicKey::decode_from(reader)?;
        let mode = ModeSince::decode_from(reader)?;
        let epoch = reader.u64()?;
        let epoch_started_ms = reader.u64()?;
        let mut sets: [Option<ValidatorSet>; HELD_SETS] = Default::default();
        for set in &mut sets {
            *set = Option::<ValidatorSet>::decode_from(reader)?;
        }
        let stakers = reader.list("stakers", MAX_STAKERS, STAKER_BYTES)?;
        let stakers = sorted(stakers, "stakers", |s: &Staker| s.address)?;
        let mut keys: Vec<SequencerPublicKey> = stakers.iter().map(|s| s.consensus_key).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            let reason = "two stakers share a consensus key";
            return Err(DecodeError::InvalidValue { field: "stakers", reason });
        }
        let delegations = reader.list("delegations", MAX_DELEGATIONS, DELEGATION_BYTES)?;
        let delegations =
            sorted(delegations, "delegations", |d: &Delegation| (d.delegator, d.staker))?;
        let unbonding = reader.list("unbonding", MAX_UNBONDING, UNBONDING_BYTES)?;
        let unbonding = sorted(unbonding, "unbonding", |u: &Unbonding| (u.delegator, u.staker))?;
        Ok(Self {
            params,
            sequencer,
            mode,
            epoch,
            epoch_started_ms,
            sets,
            stakers,
            delegations,
            unbonding,
        })
    }
}

impl Message for StakingState {
    /// Room for every list at its limit and every set at its largest.
    const MAX_BYTES: usize = 1
        + PARAMS_BYTES
        + 32
        + 9
        + 8
        + 8
        + HELD_SETS * (1 + 4 + MAX_VALIDATORS * 72)
        + 12
        + MAX_STAKERS * STAKER_BYTES
        + MAX_DELEGATIONS * DELEGATION_BYTES
        + MAX_UNBONDING * UNBONDING_BYTES;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::put_length;
    use crate::staking::testing::{busy_registry, sample_records};

    /// Proves a registry with every kind of record round-trips, and that its
    /// commitment changes with any record.
    #[test]
    fn registry_round_trips_and_commits_to_everything() {
        let registry = busy_registry();
        let bytes = registry.encode_message();
        assert_eq!(StakingState::decode_message(&bytes), Ok(registry.clone()));
        let mut changed = registry.clone();
        changed.delegations[0].unclaimed += 1;
        assert_ne!(changed.commitment(), registry.commitment());
    }

    /// Proves every strict prefix of an encoding is refused.
    #[test]
    fn truncations_are_refused() {
        let bytes = busy_registry().encode_message();
        for cut in 0..bytes.len() {
            assert!(StakingState::decode_message(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// Proves unsorted or repeated records, a shared consensus key, and counts
    /// over the limits are refused before anything is allocated.
    #[test]
    fn non_canonical_and_oversized_lists_are_refused() {
        let registry = busy_registry();
        let mut repeated = registry.clone();
        repeated.delegations.push(repeated.delegations[0]);
        assert!(StakingState::decode_message(&repeated.encode_message()).is_err());
        let mut shared_key = registry.clone();
        shared_key.stakers[1].consensus_key = shared_key.stakers[0].consensus_key;
        assert!(StakingState::decode_message(&shared_key.encode_message()).is_err());

        let (staker, _, _) = sample_records();
        let mut empty = StakingState::genesis(registry.params, registry.sequencer);
        empty.stakers.push(staker);
        let mut bytes = empty.encode_message();
        // The staker count sits right before the one staker (and two empty lists).
        let count_at = bytes.len() - 8 - STAKER_BYTES - 4;
        let mut over = Vec::new();
        put_length(&mut over, MAX_STAKERS + 1);
        bytes[count_at..count_at + 4].copy_from_slice(&over);
        assert!(matches!(
            StakingState::decode_message(&bytes),
            Err(DecodeError::TooLong { field: "stakers", .. })
        ));
        let mut forged = Vec::new();
        put_length(&mut forged, MAX_STAKERS);
        bytes[count_at..count_at + 4].copy_from_slice(&forged);
        assert!(matches!(
            StakingState::decode_message(&bytes),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    /// Proves the held sets cover the previous, current and next two epochs,
    /// and that epoch 0 has no previous one.
    #[test]
    fn held_sets_span_four_epochs() {
        let mut registry = busy_registry();
        registry.epoch = 5;
        assert_eq!(registry.set_index(3), None);
        assert_eq!(registry.set_index(4), Some(0));
        assert_eq!(registry.set_index(7), Some(3));
        assert_eq!(registry.set_index(8), None);
        registry.epoch = 0;
        assert_eq!(registry.set_index(0), Some(1));
        assert_eq!(registry.set_index(2), Some(3));
        assert_eq!(registry.set_index(u64::MAX), None);
    }
}
