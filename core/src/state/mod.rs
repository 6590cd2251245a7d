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
//! Both also hold the staking registry ([`crate::staking::StakingState`]): the
//! preimage of the [`REGISTRY`](crate::staking::REGISTRY) account's `staking`
//! commitment, kept consistent with it. The root commits to the registry only
//! through that account, so it stays exactly the Merkle root of the accounts;
//! witnesses and snapshot chunks that prove the registry account carry the
//! preimage, checked against the proven commitment.
//!
//! # The tree
//!
//! The state is a binary tree over the 248-bit [`Key`] of every address, compressed
//! the way Diem's Jellyfish tree is: a subtree holding one account is not spelled
//! out down to depth 248 but ends in that account's leaf as high as it can. The
//! digest of a subtree is
//!
//! - [`EMPTY`] if it holds no account;
//! - [`leaf_digest`]`(address, account)` if it holds exactly one, whatever its depth;
//! - `compress(left, right)` of its two halves if it holds two or more.
//!
//! So the root is a function of the *set* of accounts alone (not of the order they
//! were written in), and a path is as long as the longest prefix its key shares
//! with another account's key: about `log2(accounts)` levels, not 248.
//!
//! # Why it is sound
//!
//! The three cases are three different functions: a leaf digest is the Poseidon2
//! *sponge* over the leaf's 24 elements, with [`Domain::Leaf`] and the length in
//! its capacity; [`EMPTY`] is the sponge over the one element 1 in [`Domain::EmptyLeaf`];
//! an inner digest is the 2-to-1 feed-forward [`compress`] of two digests, which
//! has no capacity and permutes once. A leaf digest equal to some `compress(x, y)`,
//! or either equal to [`EMPTY`], is a collision between two of these functions on
//! 248-bit outputs: no easier than the collisions the tree must rule out anyway
//! (about 2^124 work). So a verifier hashes a proof up with `compress` without
//! being told which siblings are leaves and which are inner nodes: a proof that
//! claimed a leaf where an inner node is (or the reverse), or that ended its path
//! at another depth than the real tree does, reaches the root only through such a
//! collision. A leaf commits to the *whole* address, so the occupant of a subtree
//! is known exactly; and two distinct canonical addresses have distinct keys, so
//! any two accounts coexist, split at their first differing key bit.
//!
//! What an adversary *can* do is fund addresses crafted to share long key prefixes
//! with a victim's, lengthening the victim's path up to [`KEY_BITS`] levels (one
//! funded address per level). That costs a transfer per level and makes the
//! victim's proofs and updates at most [`KEY_BITS`] compressions long, bounded and
//! priced into [`MerkleProof::MAX_ENCODED_LEN`]; it blocks nothing.
//!
//! [`Domain::Leaf`]: crate::hash::Domain::Leaf
//! [`Domain::EmptyLeaf`]: crate::hash::Domain::EmptyLeaf
//! [`compress`]: crate::hash::compress

mod account;
mod error;
mod node;
mod partial;
mod proof;
mod registry;
mod snapshot;
mod tree;
mod witness;

pub use account::{Account, leaf_digest, u64_limbs};
pub use error::StateError;
pub use node::{EMPTY, KEY_BITS, Key, path_of};
pub use partial::PartialState;
pub use proof::MerkleProof;
pub use snapshot::{SnapshotError, SnapshotRebuild, StateSnapshot};
pub use tree::StateTree;
pub use witness::{MAX_WITNESS_PROOFS, Witness};

use crate::staking::StakingState;
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

    /// The staking registry; `None` if the registry account is empty (a state
    /// that did not start from a genesis). A partial state fails with
    /// [`StateError::MissingWitness`] unless its witness proves the registry account.
    fn read_registry(&self) -> Result<Option<&StakingState>, StateError>;

    /// Stores `registry` and writes the registry account: its commitment, and
    /// `escrow` as its balance. The only way the registry account changes.
    fn write_registry(&mut self, registry: StakingState, escrow: u64) -> Result<(), StateError>;
}
