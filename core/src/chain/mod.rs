//! The chain: genesis, building a block, and checking one.
//!
//! Everyone trusts nothing but the genesis. A block is accepted only if it
//! extends its parent, is signed by whoever the parent's state says signs it
//! (see below), commits to exactly its transactions, and re-executing those
//! transactions on the parent's state, followed by the staking hook
//! ([`crate::staking::finish_block`]), gives the state root in the header.
//!
//! Who signs is read from the staking registry in the parent's state
//! ([`crate::staking::StakingState::authority_for`]):
//!
//! - **Single stage**: the genesis sequencer signs every block; its header's
//!   `validators` is zero and it carries no certificate.
//! - **Proof of stake**: a member of the epoch's validator set proposes and signs
//!   the block; its header's `validators` is that set's hash. If its parent was a
//!   proof-of-stake block too, the block carries the parent's commit
//!   certificate (more than two thirds of the power of the set that certified the
//!   parent), and its header commits to it. The block's *own* certificate comes
//!   after it, from the votes on it; hosts store it beside the block and check it
//!   with [`crate::consensus::CommitCertificate::verify`] against the set
//!   `authority_for(height)` names.

mod build;
mod genesis;
mod rules;
mod validate;

#[cfg(test)]
mod pos_tests;
#[cfg(test)]
mod tests;

pub use build::{BlockTemplate, BuiltBlock, build_block};
pub use genesis::{Allocation, Genesis};
pub use validate::{AppliedBlock, apply_block, validate_block, verify_block};

use alloc::vec::Vec;
use core::fmt;

use crate::consensus::CertificateError;
use crate::crypto::SequencerPublicKey;
use crate::exec::BlockExecError;
use crate::staking::{ParamsError, REGISTRY};
use crate::state::StateError;
use crate::types::{Address, BlockError, ChainId, Hash, Transaction};

/// Why a block was not accepted (or could not be built).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// Signature, proposer, chain, transaction root or parent certificate digest
    /// is wrong.
    Block(BlockError),
    /// The block does not extend the given parent.
    NotChild { parent_height: u64, height: u64, expected_parent: Hash, parent: Hash },
    /// The block's time is before its parent's.
    TimeWentBack { parent_ms: u64, block_ms: u64 },
    /// A transaction failed to execute.
    Exec(BlockExecError),
    /// Execution succeeded but gave a different state root than the header's.
    StateRootMismatch { header: Hash, computed: Hash },
    /// The witness did not prove the parent state, or missed an account.
    State(StateError),
    /// The parent header given to check against belongs to another chain.
    ParentOnOtherChain { expected: ChainId, found: ChainId },
    /// A genesis lists the same address twice.
    DuplicateAllocation(Address),
    /// A genesis allocates to the staking registry's reserved address.
    ReservedAllocation(Address),
    /// The genesis staking parameters cannot run a chain.
    StakingParams(ParamsError),
    /// The witness does not prove exactly the accounts the block touches (sorted,
    /// each once): extra proofs would only cost the verifier work.
    WitnessMismatch,
    /// The parent state has no staking registry, so nobody may sign.
    NoRegistry,
    /// The parent state's registry does not know who signs at this height (the
    /// state is not the parent's).
    UnknownAuthority { height: u64 },
    /// The header names another validator set than the one that must certify it
    /// (zero in the single stage).
    WrongValidators { expected: Hash, found: Hash },
    /// Under proof of stake, the proposer is not in the epoch's validator set.
    NotAValidator(SequencerPublicKey),
    /// The parent was a proof-of-stake block, but its certificate is missing.
    MissingParentCommit,
    /// A certificate came where none belongs (the parent was signed by the
    /// sequencer, or this block is).
    UnexpectedParentCommit,
    /// The parent's certificate does not make the parent final.
    ParentCommit(CertificateError),
    /// The parent's header names a validator set the registry does not hold.
    UnknownParentSet(Hash),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Block(e) => write!(f, "{e}"),
            Self::NotChild { parent_height, height, expected_parent, parent } => write!(
                f,
                "block {height} with parent {parent} does not extend block {parent_height} ({expected_parent})"
            ),
            Self::TimeWentBack { parent_ms, block_ms } => {
                write!(f, "block time {block_ms} ms is before its parent's {parent_ms} ms")
            }
            Self::Exec(e) => write!(f, "{e}"),
            Self::StateRootMismatch { header, computed } => {
                write!(f, "state root {header} in header, {computed} after re-execution")
            }
            Self::State(e) => write!(f, "state witness: {e}"),
            Self::ParentOnOtherChain { expected, found } => {
                write!(f, "the parent header is on chain {found}, not {expected}")
            }
            Self::DuplicateAllocation(a) => write!(f, "genesis allocates to {a} twice"),
            Self::ReservedAllocation(a) => {
                write!(f, "genesis allocates to {a}, the staking registry's address")
            }
            Self::StakingParams(e) => write!(f, "genesis staking parameters: {e}"),
            Self::WitnessMismatch => {
                f.write_str("the witness does not prove exactly the accounts the block touches")
            }
            Self::NoRegistry => f.write_str("the parent state has no staking registry"),
            Self::UnknownAuthority { height } => {
                write!(f, "the parent state does not say who signs block {height}")
            }
            Self::WrongValidators { expected, found } => {
                write!(f, "header names validator set {found}, expected {expected}")
            }
            Self::NotAValidator(key) => write!(f, "proposer {key} is not in the validator set"),
            Self::MissingParentCommit => f.write_str("the parent's commit certificate is missing"),
            Self::UnexpectedParentCommit => {
                f.write_str("the block carries a parent certificate where none belongs")
            }
            Self::ParentCommit(e) => write!(f, "parent certificate: {e}"),
            Self::UnknownParentSet(hash) => {
                write!(f, "the parent names validator set {hash}, which the registry does not hold")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ChainError {}

impl From<StateError> for ChainError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

/// Every account a block with these transactions reads or writes, sorted: each
/// transaction's sender and recipient (or the registry, for a staking call), and
/// always the staking [`REGISTRY`], which the end-of-block hook reads.
pub fn touched_accounts(transactions: &[Transaction]) -> Vec<Address> {
    let mut out: Vec<Address> = Vec::with_capacity(transactions.len() * 2 + 1);
    out.push(REGISTRY);
    for tx in transactions {
        out.extend(tx.touched_accounts());
    }
    out.sort_unstable();
    out.dedup();
    out
}
