//! State snapshots: how a node starts from a recent state instead of replaying
//! the whole history.
//!
//! A serving node freezes its state at some height ([`StateSnapshot`]) and hands
//! it out in chunks: runs of accounts in address order, each with its Merkle proof
//! against that height's state root. A joining node ([`SnapshotRebuild`]) checks
//! every proof against the root of a header it trusts (signed by the chain's
//! sequencer), checks the chunks follow each other without gaps or overlaps, and
//! at the end checks that the rebuilt tree has exactly that root, which proves no
//! account was left out. The chunk holding the registry account carries the
//! staking registry's preimage, checked against the proven commitment, so the
//! joining node has the validator sets and stakes too.

use alloc::vec::Vec;
use core::fmt;

use crate::staking::REGISTRY;
use crate::types::{Address, Hash};

use super::registry::check_preimage;
use super::{StateError, StateTree, Witness};

/// A frozen state, served in chunks.
#[derive(Clone, Debug)]
pub struct StateSnapshot {
    tree: StateTree,
    /// Every account's address, sorted: the order chunks follow.
    addresses: Vec<Address>,
}

impl StateSnapshot {
    pub fn new(tree: StateTree) -> Self {
        let mut addresses: Vec<Address> = tree.accounts().map(|(a, _)| a).collect();
        addresses.sort_unstable();
        Self { tree, addresses }
    }

    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// Up to `count` accounts from `start` on (in address order) with their proofs
    /// (and the registry preimage, in the chunk proving the registry account), and
    /// where the next chunk starts (`None` after the last account).
    pub fn chunk(&self, start: &Address, count: usize) -> (Witness, Option<Address>) {
        let from = self.addresses.partition_point(|a| a < start);
        let to = from.saturating_add(count).min(self.addresses.len());
        (self.tree.witness(&self.addresses[from..to]), self.addresses.get(to).copied())
    }
}

/// Why a snapshot chunk or the rebuilt state was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// A chunk arrived after the last one.
    AlreadyComplete,
    /// A chunk's accounts are not in strictly increasing address order from the
    /// chunk's start, or its next start does not come after them.
    OutOfOrder(Address),
    /// A proof does not hold against the trusted root, or proves an empty account.
    Proof(StateError),
    /// All chunks arrived but the accounts do not make the trusted root: some
    /// were left out.
    RootMismatch { expected: Hash, rebuilt: Hash },
    /// The rebuild was finished before the last chunk.
    Incomplete,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyComplete => f.write_str("a chunk arrived after the last one"),
            Self::OutOfOrder(a) => write!(f, "account {a} is out of order in its chunk"),
            Self::Proof(e) => write!(f, "{e}"),
            Self::RootMismatch { expected, rebuilt } => {
                write!(
                    f,
                    "the snapshot rebuilds root {rebuilt}, the trusted header says {expected}"
                )
            }
            Self::Incomplete => f.write_str("the snapshot is incomplete"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SnapshotError {}

/// Rebuilds a state from chunks, checking each against a trusted root.
#[derive(Clone, Debug)]
pub struct SnapshotRebuild {
    root: Hash,
    tree: StateTree,
    /// Where the next chunk must start; `None` once the last chunk is in.
    cursor: Option<Address>,
}

impl SnapshotRebuild {
    /// Starts rebuilding the state whose root is `root` (from a trusted header).
    pub fn new(root: Hash) -> Self {
        Self { root, tree: StateTree::new(), cursor: Some(Address::ZERO) }
    }

    /// Where the next chunk starts, or `None` when complete.
    pub fn cursor(&self) -> Option<Address> {
        self.cursor
    }

    /// Accounts rebuilt so far.
    pub fn accounts(&self) -> usize {
        self.tree.len()
    }

    /// Checks and adds one chunk (which must start at [`Self::cursor`]); on error
    /// nothing is added. A chunk proving the registry account must carry the
    /// registry's preimage, matching the proven commitment; others carry none.
    pub fn add_chunk(
        &mut self,
        chunk: &Witness,
        next: Option<Address>,
    ) -> Result<(), SnapshotError> {
        let cursor = self.cursor.ok_or(SnapshotError::AlreadyComplete)?;
        let mut accounts = Vec::with_capacity(chunk.len());
        let mut floor: Option<Address> = None;
        for (address, proof) in chunk.proofs() {
            let in_order = match floor {
                None => *address >= cursor,
                Some(previous) => *address > previous,
            };
            if !in_order {
                return Err(SnapshotError::OutOfOrder(*address));
            }
            let account = proof.verify(&self.root, address).map_err(SnapshotError::Proof)?;
            if account.is_empty() {
                let reason = "a snapshot chunk lists an empty account";
                return Err(SnapshotError::Proof(StateError::InvalidProof {
                    address: *address,
                    reason,
                }));
            }
            accounts.push((*address, account));
            floor = Some(*address);
        }
        // The next chunk starts after everything here (after the cursor, if empty).
        let next_in_order = |n: Address| match floor {
            Some(last) => n > last,
            None => n > cursor,
        };
        if let Some(n) = next.filter(|n| !next_in_order(*n)) {
            return Err(SnapshotError::OutOfOrder(n));
        }
        let proven = accounts.iter().find(|(a, _)| *a == REGISTRY).map(|(_, account)| account);
        let registry = check_preimage(proven, chunk.registry()).map_err(SnapshotError::Proof)?;
        if let Some(held) = registry {
            self.tree.hold_registry(held, None).map_err(SnapshotError::Proof)?;
        }
        for (address, account) in accounts {
            self.tree.set(address, account).map_err(SnapshotError::Proof)?;
        }
        self.cursor = next;
        Ok(())
    }

    /// The rebuilt state, once complete and only if it has the trusted root.
    pub fn finish(self) -> Result<StateTree, SnapshotError> {
        if self.cursor.is_some() {
            return Err(SnapshotError::Incomplete);
        }
        let rebuilt = self.tree.root();
        if rebuilt != self.root {
            return Err(SnapshotError::RootMismatch { expected: self.root, rebuilt });
        }
        Ok(self.tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tree::tests::{account, spread};

    fn state(n: u64) -> StateTree {
        let mut tree = StateTree::new();
        for i in 0..n {
            tree.set(spread(i), account(i + 1)).unwrap();
        }
        tree
    }

    fn rebuild(snapshot: &StateSnapshot, chunk_size: usize) -> Result<StateTree, SnapshotError> {
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        while let Some(start) = rebuild.cursor() {
            let (chunk, next) = snapshot.chunk(&start, chunk_size);
            rebuild.add_chunk(&chunk, next)?;
        }
        rebuild.finish()
    }

    /// Proves a state served in chunks of any size rebuilds to the same root.
    #[test]
    fn chunks_rebuild_the_state() {
        let tree = state(50);
        let snapshot = StateSnapshot::new(tree.clone());
        for size in [1, 7, 50, 1000] {
            assert_eq!(rebuild(&snapshot, size).unwrap().root(), tree.root());
        }
        let empty = StateSnapshot::new(StateTree::new());
        assert_eq!(rebuild(&empty, 10).unwrap().root(), StateTree::new().root());
    }

    /// Proves a chunk proven against another root is refused and changes nothing.
    #[test]
    fn chunks_of_another_state_are_refused() {
        let snapshot = StateSnapshot::new(state(20));
        let mut other = state(20);
        other.set(spread(3), account(999)).unwrap();
        let forged = StateSnapshot::new(other);
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        let (chunk, next) = forged.chunk(&Address::ZERO, 10);
        assert!(matches!(rebuild.add_chunk(&chunk, next), Err(SnapshotError::Proof(_))));
        assert_eq!(rebuild.accounts(), 0);
        assert_eq!(rebuild.cursor(), Some(Address::ZERO));
    }

    /// Proves a peer that skips accounts is caught: by order within a chunk, or by
    /// the root at the end.
    #[test]
    fn skipped_accounts_are_caught() {
        let snapshot = StateSnapshot::new(state(20));
        let (first, next) = snapshot.chunk(&Address::ZERO, 5);
        let (second, _) = snapshot.chunk(&next.unwrap(), 5);
        // A valid chunk that ends early and claims to be the last.
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        rebuild.add_chunk(&first, None).unwrap();
        assert!(matches!(rebuild.finish(), Err(SnapshotError::RootMismatch { .. })));
        // A chunk out of order.
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        rebuild.add_chunk(&second, next).unwrap_err();
        let mut reversed = first.proofs().to_vec();
        reversed.reverse();
        let reversed = Witness::new(reversed);
        if reversed.proofs().first() != first.proofs().first() {
            assert!(matches!(
                rebuild.add_chunk(&reversed, next),
                Err(SnapshotError::OutOfOrder(_))
            ));
        }
        // Finishing early.
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        rebuild.add_chunk(&first, next).unwrap();
        assert_eq!(rebuild.clone().finish().unwrap_err(), SnapshotError::Incomplete);
        // A next start that goes backwards.
        assert!(matches!(
            rebuild.add_chunk(&Witness::default(), Some(Address::ZERO)),
            Err(SnapshotError::OutOfOrder(_))
        ));
    }

    /// Proves a proof of absence (an empty account) is not accepted as an account.
    #[test]
    fn empty_accounts_are_refused() {
        let tree = state(5);
        let snapshot = StateSnapshot::new(tree.clone());
        let absent = spread(100);
        let chunk = Witness::new(alloc::vec![(absent, tree.prove(&absent))]);
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        assert!(matches!(rebuild.add_chunk(&chunk, None), Err(SnapshotError::Proof(_))));
    }

    /// Proves the registry preimage travels in the chunk with the registry
    /// account and rebuilds with the state, and that a chunk with a tampered or
    /// missing preimage is refused, adding nothing.
    #[test]
    fn the_registry_comes_with_its_chunk() {
        let mut tree = state(20);
        tree.set_registry(crate::staking::testing::busy_registry()).unwrap();
        let snapshot = StateSnapshot::new(tree.clone());
        for size in [1, 6, 100] {
            let rebuilt = rebuild(&snapshot, size).unwrap();
            assert_eq!(rebuilt.registry(), tree.registry());
            assert_eq!(rebuilt.root(), tree.root());
        }
        let (chunk, next) = snapshot.chunk(&REGISTRY, 1);
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        rebuild.cursor = Some(REGISTRY);
        let tampered = crate::staking::testing::tampered(tree.registry().unwrap());
        for preimage in [Some(tampered), None] {
            let forged = Witness::with_registry(chunk.proofs().to_vec(), preimage);
            assert!(matches!(
                rebuild.add_chunk(&forged, next),
                Err(SnapshotError::Proof(StateError::RegistryMismatch(_)))
            ));
            assert_eq!(rebuild.accounts(), 0);
        }
        rebuild.add_chunk(&chunk, next).unwrap();
        assert_eq!(rebuild.tree.registry(), tree.registry());
    }

    /// Proves nothing is accepted after the last chunk.
    #[test]
    fn nothing_after_the_last_chunk() {
        let snapshot = StateSnapshot::new(state(3));
        let mut rebuild = SnapshotRebuild::new(snapshot.root());
        let (chunk, next) = snapshot.chunk(&Address::ZERO, 10);
        assert_eq!(next, None);
        rebuild.add_chunk(&chunk, None).unwrap();
        assert_eq!(rebuild.add_chunk(&chunk, None), Err(SnapshotError::AlreadyComplete));
    }
}
