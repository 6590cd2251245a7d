//! The account state: a sparse Merkle tree over addresses, hashed with Poseidon2.
//!
//! - [`Account`]: balance, nonce and staking commitment of one address.
//! - [`StateTree`]: every account in memory, with its root; what a sequencer or a
//!   full node holds. It proves accounts ([`MerkleProof`]) and builds
//!   [`Witness`]es for blocks.
//! - [`PartialState`]: the accounts a witness proves, updatable, with the root
//!   recomputed from the proofs; what a browser holds to check a block it cannot
//!   otherwise verify.
//! - [`StateView`]: what execution needs from either, so the same transaction rules
//!   run on both.
//!
//! The tree has depth [`TREE_DEPTH`] = 64 and is keyed by a 64-bit path taken from
//! the address ([`path_of`]). A leaf commits to the full address and the account;
//! where no account is, the leaf is the fixed [`EMPTY_LEAF`] digest, and a whole
//! empty subtree has a fixed digest per depth ([`EMPTY_SUBTREES`]), which is what
//! makes a tree of 2^64 leaves cheap to hold and to prove.

mod account;
mod error;
mod node;
mod partial;
mod proof;
mod tree;
mod witness;

pub use account::{Account, leaf_digest};
pub use error::StateError;
pub use node::{EMPTY_LEAF, EMPTY_SUBTREES, TREE_DEPTH, path_of};
pub use partial::PartialState;
pub use proof::MerkleProof;
pub use tree::StateTree;
pub use witness::{MAX_WITNESS_PROOFS, Witness};

use crate::types::{Address, Hash};

/// Read and write access to accounts, as transaction execution needs it.
///
/// Implemented by [`StateTree`] (never fails to read) and [`PartialState`] (fails
/// with [`StateError::MissingWitness`] outside its witness), so execution code is
/// written once, generic over where the state comes from.
pub trait StateView {
    /// The account at `address`; the empty account if there is none.
    fn account(&self, address: &Address) -> Result<Account, StateError>;

    /// Stores `account` at `address`; an empty account removes it.
    fn set_account(&mut self, address: Address, account: Account) -> Result<(), StateError>;

    /// The state root with every write so far applied. Takes `&mut self` so an
    /// implementation may defer hashing until the root is asked for.
    fn state_root(&mut self) -> Hash;
}
