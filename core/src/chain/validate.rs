//! Checking a block: on a state at hand, from a witness, or applying a peer's.

use alloc::vec::Vec;

use crate::exec::{Receipt, apply_transactions};
use crate::staking::{BlockEnd, Issuance, finish_block};
use crate::state::{Account, PartialState, StateTree, StateView, Witness};
use crate::types::{Address, Block, ChainId, Header};

use super::rules::{ChildRules, check_link};
use super::{ChainError, touched_accounts};

/// Checks `block` against its `parent` header and applies it to `state` (the
/// parent's state): linkage, then who signed it and the parent certificate (as
/// the registry in `state` requires), then the transactions and the staking hook,
/// then the state root. On error `state` may be partly updated: callers apply to
/// a copy or discard it (a [`PartialState`] from a witness is cheap to rebuild).
pub fn validate_block<S: StateView>(
    block: &Block,
    parent: &Header,
    state: &mut S,
) -> Result<Vec<Receipt>, ChainError> {
    execute(block, parent, state).map(|(receipts, _)| receipts)
}

fn execute<S: StateView>(
    block: &Block,
    parent: &Header,
    state: &mut S,
) -> Result<(Vec<Receipt>, Issuance), ChainError> {
    let header = &block.header;
    check_link(header, parent)?;
    ChildRules::of(state.read_registry()?.ok_or(ChainError::NoRegistry)?, parent)?
        .check(block, parent)?;
    let receipts = apply_transactions(state, &parent.chain_id, &block.transactions)
        .map_err(ChainError::Exec)?;
    let fees = receipts.iter().fold(0u64, |sum, r| sum.saturating_add(r.fee));
    let end = BlockEnd {
        height: header.height,
        timestamp_ms: header.timestamp_ms,
        proposer: header.proposer,
        parent_commit: block.parent_commit.as_ref(),
        fees,
    };
    let issuance = finish_block(state, &end)?;
    let computed = state.state_root();
    if computed != header.state_root {
        return Err(ChainError::StateRootMismatch { header: header.state_root, computed });
    }
    Ok((receipts, issuance))
}

/// Checks a block without holding the chain's state: the witness proves the
/// touched accounts (and the staking registry, whose preimage it carries)
/// against the parent's state root, and the block is re-executed on just those.
/// This is how a browser checks what the sequencer or a validator signed; it
/// needs no key: who signs is in the registry.
pub fn verify_block(
    block: &Block,
    parent: &Header,
    witness: &Witness,
    chain_id: &ChainId,
) -> Result<(), ChainError> {
    if &parent.chain_id != chain_id {
        return Err(ChainError::ParentOnOtherChain {
            expected: chain_id.clone(),
            found: parent.chain_id.clone(),
        });
    }
    // Checked before any proof is hashed, so an oversized witness costs nothing.
    if !witness.addresses().eq(touched_accounts(&block.transactions).iter()) {
        return Err(ChainError::WitnessMismatch);
    }
    let mut state = PartialState::from_witness(parent.state_root, witness)?;
    validate_block(block, parent, &mut state).map(|_| ())
}

/// What applying a peer's block changed, for the store.
pub struct AppliedBlock {
    pub receipts: Vec<Receipt>,
    /// Proofs of the touched accounts against the parent's root: what this node
    /// serves to stateless verifiers.
    pub witness: Witness,
    /// The touched accounts as the block left them (the registry account among
    /// them; its preimage is [`StateTree::registry`]).
    pub accounts: Vec<(Address, Account)>,
    /// Tokens the block minted and burned.
    pub issuance: Issuance,
}

/// Checks a block received from a peer against `parent` and applies it to `state`
/// (the parent's full state). The block is executed once, on a partial state built
/// from `state`'s own proofs of the accounts it touches, so an invalid block leaves
/// `state` exactly as it was; only a valid block's accounts (and registry) are
/// written back.
pub fn apply_block(
    block: &Block,
    parent: &Header,
    state: &mut StateTree,
) -> Result<AppliedBlock, ChainError> {
    let touched = touched_accounts(&block.transactions);
    let witness = state.witness(&touched);
    let mut partial = PartialState::from_witness(parent.state_root, &witness)?;
    let (receipts, issuance) = execute(block, parent, &mut partial)?;
    let mut accounts = Vec::with_capacity(touched.len());
    for address in touched {
        accounts.push((address, partial.get(&address)?));
    }
    // Cannot fail after the checks above; if it ever did, `state` would be partly
    // written, which the root check reports so the caller reloads its state.
    if let Some(held) = partial.held_registry()
        && state.held_registry().map(|h| h.commitment()) != Some(held.commitment())
    {
        state.hold_registry(held.clone(), None)?;
    }
    for (address, account) in &accounts {
        state.set(*address, *account)?;
    }
    let computed = state.root();
    if computed != block.header.state_root {
        return Err(ChainError::StateRootMismatch { header: block.header.state_root, computed });
    }
    Ok(AppliedBlock { receipts, witness, accounts, issuance })
}
