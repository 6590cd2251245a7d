//! Building the next block.

use alloc::vec::Vec;

use crate::consensus::CommitCertificate;
use crate::crypto::SequencerKey;
use crate::exec::{Receipt, TxError, apply_transaction};
use crate::staking::{BlockEnd, Issuance, finish_block};
use crate::state::{StateTree, Witness};
use crate::types::{Hash, Header, Transaction, certificate_digest, tx_root};

use super::rules::ChildRules;
use super::{ChainError, touched_accounts};

/// A block just built, with what a stateless checker needs.
pub struct BuiltBlock {
    pub block: crate::types::Block,
    pub receipts: Vec<Receipt>,
    /// Proofs of every touched account against the parent's state root, with
    /// the staking registry's preimage.
    pub witness: Witness,
    /// Candidates that failed to execute and were left out, with the reason.
    pub rejected: Vec<(Hash, TxError)>,
    /// Tokens the block minted and burned.
    pub issuance: Issuance,
}

/// Inputs to [`build_block`] that are not state.
pub struct BlockTemplate<'a> {
    pub parent: &'a Header,
    pub timestamp_ms: u64,
    /// The genesis sequencer's key in the single stage; under proof of stake, the
    /// consensus key of a validator of the block's epoch.
    pub key: &'a SequencerKey,
    /// The certificate that made `parent` final: required when the parent and
    /// this block are proof-of-stake blocks, refused otherwise.
    pub parent_commit: Option<CommitCertificate>,
}

/// Builds and signs the next block from `candidates` (already checked statelessly,
/// e.g. by the mempool), applying them to `state` in order, then the staking
/// hook. A candidate that fails for any reason (say, its sender's balance was
/// spent by an earlier one) is left out and reported, and leaves the state as it
/// was; the rest still go in. So no transaction, however crafted, can stop a
/// block from being built.
///
/// Fails, leaving `state` alone, if `key` may not sign the block or the parent
/// certificate is missing, extra or does not make the parent final (the rules
/// of [`super::validate_block`]).
pub fn build_block(
    state: &mut StateTree,
    template: BlockTemplate<'_>,
    candidates: Vec<Transaction>,
) -> Result<BuiltBlock, ChainError> {
    let parent = template.parent;
    let proposer = template.key.public_key();
    let parent_commit = template.parent_commit;
    let validators = {
        let rules = ChildRules::of(state.registry().ok_or(ChainError::NoRegistry)?, parent)?;
        rules.check_proposer(&proposer)?;
        rules.check_parent_commit(parent_commit.as_ref(), parent)?;
        rules.validators()
    };
    let height = parent.height.checked_add(1).expect("a chain does not reach 2^64 blocks");
    // Proofs are taken before any change (they prove the parent state), for every
    // candidate's accounts; those of left-out candidates are dropped below.
    let mut witness = state.witness(&touched_accounts(&candidates));
    let mut receipts = Vec::with_capacity(candidates.len());
    let mut included = Vec::with_capacity(candidates.len());
    let mut rejected = Vec::new();
    for tx in candidates {
        match apply_transaction(state, &tx) {
            Ok(receipt) => {
                receipts.push(receipt);
                included.push(tx);
            }
            Err(e) => rejected.push((tx.hash(), e)),
        }
    }
    let fees = receipts.iter().fold(0u64, |sum, r| sum.saturating_add(r.fee));
    let timestamp_ms = template.timestamp_ms.max(parent.timestamp_ms);
    let end =
        BlockEnd { height, timestamp_ms, proposer, parent_commit: parent_commit.as_ref(), fees };
    let issuance = finish_block(state, &end)?;
    let touched = touched_accounts(&included);
    witness.retain(|a| touched.binary_search(a).is_ok());
    let header = Header {
        chain_id: parent.chain_id.clone(),
        height,
        parent_hash: parent.hash(),
        state_root: state.root(),
        tx_root: tx_root(&included),
        timestamp_ms,
        proposer,
        validators,
        parent_commit: certificate_digest(parent_commit.as_ref()),
    };
    let block = header.seal_with(template.key, included, parent_commit);
    Ok(BuiltBlock { block, receipts, witness, rejected, issuance })
}
