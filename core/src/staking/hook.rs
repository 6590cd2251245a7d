//! The end-of-block hook: rewards, then the epoch roll.

use alloc::vec::Vec;

use crate::consensus::{CommitCertificate, Validator};
use crate::crypto::SequencerPublicKey;
use crate::state::{StateError, StateView};

use super::{Mode, REGISTRY, StakingState};

/// What the hook needs to know about the block just executed.
#[derive(Clone, Copy, Debug)]
pub struct BlockEnd<'a> {
    pub height: u64,
    /// The block's time, as its header says (ms since the Unix epoch).
    pub timestamp_ms: u64,
    pub proposer: SequencerPublicKey,
    /// The certificate the block carries for its parent (already verified).
    pub parent_commit: Option<&'a CommitCertificate>,
    /// The fees its transactions paid.
    pub fees: u64,
}

/// How the block changed the supply: `minted` new tokens, `burned` ones gone
/// (fees in the single stage; slashes are reported by nobody but the escrow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Issuance {
    pub minted: u64,
    pub burned: u64,
}

/// Runs after a block's transactions, when building and validating alike.
///
/// In [`Mode::Pos`] it pays `block_reward` plus the fees into pools (see
/// [`super::rewards`]); in [`Mode::Single`] the fees stay burned. After the
/// last block of an epoch it rolls the registry to the next epoch. A state
/// without a registry only burns the fees.
pub fn finish_block<S: StateView>(
    state: &mut S,
    block: &BlockEnd<'_>,
) -> Result<Issuance, StateError> {
    let burn_fees = Issuance { minted: 0, burned: block.fees };
    let Some(registry) = state.read_registry()? else {
        return Ok(burn_fees);
    };
    let ends_epoch = registry.params.ends_epoch(block.height);
    if registry.mode() == Mode::Single && !ends_epoch {
        return Ok(burn_fees);
    }
    let mut registry = registry.clone();
    let mut escrow = state.account(&REGISTRY)?.balance;
    let issuance = match registry.mode() {
        Mode::Single => burn_fees,
        Mode::Pos => {
            let reward = registry.params.block_reward;
            // The escrow is a u64; what would not fit is not minted.
            let amount = reward.saturating_add(block.fees).min(u64::MAX - escrow);
            let paid = registry.pay_for_block(block, amount);
            escrow += paid;
            let burned = reward.saturating_add(block.fees).saturating_sub(paid);
            Issuance { minted: reward, burned }
        }
    };
    if ends_epoch {
        // From the end of the previous epoch to the end of this one: every
        // interval of the epoch, including a stall before its first block.
        let span_ms = block.timestamp_ms.saturating_sub(registry.epoch_started_ms);
        registry.epoch_started_ms = block.timestamp_ms;
        registry.roll_epoch(span_ms);
    }
    state.write_registry(registry, escrow)?;
    Ok(issuance)
}

impl StakingState {
    /// Pays `amount` for `block` to its proposer's pool and its parent
    /// certificate's signers' pools; returns what was paid.
    fn pay_for_block(&mut self, block: &BlockEnd<'_>, amount: u64) -> u64 {
        let epoch = self.params.epoch_of(block.height);
        let proposer = self.validator_set(epoch).and_then(|set| set.get(&block.proposer)).copied();
        let signers: Vec<Validator> = match (block.parent_commit, block.height.checked_sub(1)) {
            (Some(cert), Some(parent)) => {
                let set = self.validator_set(self.params.epoch_of(parent));
                let members = set.map_or(&[][..], |s| s.validators());
                cert.signers().filter_map(|i| members.get(i)).copied().collect()
            }
            _ => Vec::new(),
        };
        self.pay_block(proposer.as_ref(), &signers, amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::{consensus, registry};
    use crate::state::StateTree;

    fn end(height: u64, fees: u64) -> BlockEnd<'static> {
        BlockEnd { height, timestamp_ms: 0, proposer: consensus(1), parent_commit: None, fees }
    }

    /// Proves that in the single stage the hook burns the fees and leaves the
    /// registry alone except at an epoch's last block, where it rolls; and that a
    /// state without a registry only burns fees.
    #[test]
    fn the_single_stage_burns_fees_and_rolls_epochs() {
        let mut state = StateTree::new();
        assert_eq!(finish_block(&mut state, &end(1, 5)), Ok(Issuance { minted: 0, burned: 5 }));
        state.set_registry(registry()).unwrap();
        let root = state.root();
        assert_eq!(finish_block(&mut state, &end(1, 5)), Ok(Issuance { minted: 0, burned: 5 }));
        assert_eq!(state.root(), root, "nothing to write mid-epoch");
        let last = state.registry().unwrap().params().epoch_length - 1;
        finish_block(&mut state, &end(last, 0)).unwrap();
        assert_eq!(state.registry().unwrap().epoch(), 1);
        assert_ne!(state.root(), root);
    }
}
