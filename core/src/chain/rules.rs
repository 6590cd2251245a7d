//! Who may sign a block and which certificate it must carry, as the parent's
//! staking registry says. Shared by building and checking, so a built block
//! passes the checks by construction.

use crate::consensus::{CommitCertificate, ValidatorSet};
use crate::crypto::SequencerPublicKey;
use crate::staking::{Authority, StakingState};
use crate::types::{Block, BlockError, Hash, Header};

use super::ChainError;

/// What the registry after `parent` requires of its child.
pub(super) struct ChildRules<'a> {
    authority: Authority<'a>,
    /// The set that certified the parent, when the child must carry its
    /// certificate: only between two proof-of-stake blocks.
    parent_set: Option<&'a ValidatorSet>,
}

impl<'a> ChildRules<'a> {
    /// The rules for the block after `parent`, from the registry in its state.
    pub fn of(registry: &'a StakingState, parent: &Header) -> Result<Self, ChainError> {
        let height = parent.height.saturating_add(1);
        let authority =
            registry.authority_for(height).ok_or(ChainError::UnknownAuthority { height })?;
        let parent_set = match authority {
            Authority::Validators(_) if parent.validators != Hash::ZERO => {
                Some(parent_set(registry, parent)?)
            }
            _ => None,
        };
        Ok(Self { authority, parent_set })
    }

    /// What the child's header's `validators` must be.
    pub fn validators(&self) -> Hash {
        match self.authority {
            Authority::Sequencer(_) => Hash::ZERO,
            Authority::Validators(set) => set.hash(),
        }
    }

    /// `proposer` must be the sequencer, or a member of the set.
    pub fn check_proposer(&self, proposer: &SequencerPublicKey) -> Result<(), ChainError> {
        match self.authority {
            Authority::Sequencer(expected) if expected != *proposer => {
                let found = *proposer;
                Err(ChainError::Block(BlockError::UnexpectedProposer { expected, found }))
            }
            Authority::Validators(set) if set.get(proposer).is_none() => {
                Err(ChainError::NotAValidator(*proposer))
            }
            _ => Ok(()),
        }
    }

    /// The child carries `certificate` for `parent`: it must carry one exactly
    /// when the parent and the child are both proof-of-stake blocks, and it must
    /// make the parent final under the set that certified it.
    pub fn check_parent_commit(
        &self,
        certificate: Option<&CommitCertificate>,
        parent: &Header,
    ) -> Result<(), ChainError> {
        match (self.parent_set, certificate) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(ChainError::UnexpectedParentCommit),
            (Some(_), None) => Err(ChainError::MissingParentCommit),
            (Some(set), Some(cert)) => cert
                .verify(&parent.chain_id, set, parent.height, &parent.hash())
                .map(|_| ())
                .map_err(ChainError::ParentCommit),
        }
    }

    /// Every rule for `block`: validators hash, proposer, seal (chain, signature,
    /// transaction root, certificate digest) and parent certificate.
    pub fn check(&self, block: &Block, parent: &Header) -> Result<(), ChainError> {
        let header = &block.header;
        let expected = self.validators();
        if header.validators != expected {
            return Err(ChainError::WrongValidators { expected, found: header.validators });
        }
        self.check_proposer(&header.proposer)?;
        block.verify_seal(&parent.chain_id, &header.proposer).map_err(ChainError::Block)?;
        self.check_parent_commit(block.parent_commit.as_ref(), parent)
    }
}

/// The set that certified `parent`, which its header names.
fn parent_set<'a>(
    registry: &'a StakingState,
    parent: &Header,
) -> Result<&'a ValidatorSet, ChainError> {
    match registry.authority_for(parent.height) {
        Some(Authority::Validators(set)) if set.hash() == parent.validators => Ok(set),
        _ => Err(ChainError::UnknownParentSet(parent.validators)),
    }
}

/// Checks the child links to `parent`: next height, parent hash, time not before.
pub(super) fn check_link(header: &Header, parent: &Header) -> Result<(), ChainError> {
    let parent_hash = parent.hash();
    if parent.height.checked_add(1) != Some(header.height) || header.parent_hash != parent_hash {
        return Err(ChainError::NotChild {
            parent_height: parent.height,
            height: header.height,
            expected_parent: parent_hash,
            parent: header.parent_hash,
        });
    }
    if header.timestamp_ms < parent.timestamp_ms {
        return Err(ChainError::TimeWentBack {
            parent_ms: parent.timestamp_ms,
            block_ms: header.timestamp_ms,
        });
    }
    Ok(())
}
