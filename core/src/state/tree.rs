//! The full account state: a sparse Merkle tree of depth 64 held in memory.
//!
//! Storage is proportional to the number of accounts, not to the depth. Accounts
//! sit in one ordered map by path. Node digests are kept only for nodes whose
//! *parent* has at least two accounts below it: about 2.5 per account. A node not
//! kept has either nothing below it (its digest is a known empty-subtree constant)
//! or a single account below it with nothing else (its digest is that account's
//! leaf hashed up with empty siblings). Keeping every non-empty node instead would
//! cost about 48 digests per account at a hundred thousand accounts.
//!
//! A write rehashes its path to the root (64 compressions, plus up to one lone-leaf
//! chain when an insert splits a subtree that held one account), so [`StateTree::root`]
//! is always current and costs nothing.

use alloc::collections::BTreeMap;
use alloc::collections::BTreeSet;

use crate::types::{Address, Hash};

use super::account::{Account, check_canonical, leaf_digest};
use super::node::{EMPTY_SUBTREES, NodeId, TREE_DEPTH, lone_leaf_digest, parent_digest, path_of};
use super::proof::MerkleProof;
use super::witness::Witness;
use super::{StateError, StateView};

/// Every account, with its Merkle root kept current.
#[derive(Clone, Debug)]
pub struct StateTree {
    /// Non-empty accounts by path.
    leaves: BTreeMap<u64, (Address, Account)>,
    /// Digests of the nodes whose parent has two or more accounts below it.
    nodes: BTreeMap<NodeId, Hash>,
    root: Hash,
}

impl Default for StateTree {
    fn default() -> Self {
        Self::new()
    }
}

impl StateTree {
    /// The empty state.
    pub fn new() -> Self {
        Self { leaves: BTreeMap::new(), nodes: BTreeMap::new(), root: EMPTY_SUBTREES[0] }
    }

    /// The account at `address`; the empty account if there is none.
    pub fn get(&self, address: &Address) -> Account {
        match self.leaves.get(&path_of(address)) {
            Some((occupant, account)) if occupant == address => *account,
            _ => Account::default(),
        }
    }

    /// Stores `account` at `address`; an empty account removes the address.
    ///
    /// Fails, changing nothing, if another address already holds the same path
    /// ([`StateError::PathCollision`]) or if the address or the staking commitment
    /// is not a canonical digest.
    pub fn set(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        let path = path_of(&address);
        if let Some((occupant, _)) = self.leaves.get(&path)
            && *occupant != address
        {
            if account.is_empty() {
                // `address` holds nothing already; nothing to remove.
                return Ok(());
            }
            return Err(StateError::PathCollision { address, occupant: *occupant });
        }
        check_canonical(&address, &account)?;
        let changed = if account.is_empty() {
            self.leaves.remove(&path).is_some()
        } else {
            self.leaves.insert(path, (address, account)) != Some((address, account))
        };
        if changed {
            self.rehash_path(path);
        }
        Ok(())
    }

    /// The Merkle root of all accounts.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// Number of non-empty accounts.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Every non-empty account, in path order.
    pub fn accounts(&self) -> impl Iterator<Item = (Address, Account)> + '_ {
        self.leaves.values().copied()
    }

    /// A proof of `address`'s account (or of its absence) against [`Self::root`].
    pub fn prove(&self, address: &Address) -> MerkleProof {
        let path = path_of(address);
        let reach = self.neighbour_reach(path);
        let mut siblings = [Hash::ZERO; TREE_DEPTH];
        for depth in 1..=TREE_DEPTH {
            let sibling = NodeId::on_path(path, depth).sibling();
            let count = self.sibling_count(sibling, reach);
            siblings[depth - 1] = self.digest(sibling, count);
        }
        MerkleProof::new(&siblings, self.leaves.get(&path).copied())
    }

    /// Proofs of every distinct address in `addresses`, for re-executing a block
    /// that touches them without the rest of the state.
    pub fn witness<'a>(&self, addresses: impl IntoIterator<Item = &'a Address>) -> Witness {
        let distinct: BTreeSet<&Address> = addresses.into_iter().collect();
        Witness::new(distinct.into_iter().map(|a| (*a, self.prove(a))).collect())
    }

    /// The deepest level, counted from the root, at which any other account's path
    /// still agrees with `path`: the length of the longest common prefix with a
    /// neighbour in key order. `None` when there is no other account.
    ///
    /// Below that level every sibling of `path` is empty, which spares most
    /// lookups: only the top ~log2(accounts) levels need the maps.
    fn neighbour_reach(&self, path: u64) -> Option<u32> {
        let before = self.leaves.range(..path).next_back().map(|(p, _)| *p);
        let after = self.leaves.range(path.saturating_add(1)..).next().map(|(p, _)| *p);
        let after = after.filter(|p| *p != path);
        [before, after].into_iter().flatten().map(|other| (other ^ path).leading_zeros()).max()
    }

    /// How many accounts are under `sibling` (a sibling of a node on `path`),
    /// counting only up to 2.
    fn sibling_count(&self, sibling: NodeId, reach: Option<u32>) -> usize {
        // The sibling at depth d holds the accounts whose common prefix with the
        // path is exactly d - 1 bits, so it is empty when no account reaches that deep.
        match reach {
            Some(reach) if reach + 1 >= u32::from(sibling.depth) => {
                let (first, last) = sibling.path_range();
                self.leaves.range(first..=last).take(2).count()
            }
            _ => 0,
        }
    }

    /// The digest of `node`, which has `count` (capped at 2) accounts below it.
    fn digest(&self, node: NodeId, count: usize) -> Hash {
        if count == 0 {
            return EMPTY_SUBTREES[usize::from(node.depth)];
        }
        if let Some(digest) = self.nodes.get(&node) {
            return *digest;
        }
        // Not kept, so a single account is below it (two or more below a node
        // means its parent has two or more, and then the node is kept).
        debug_assert_eq!(count, 1, "a node with several accounts below must be kept");
        let (first, last) = node.path_range();
        match self.leaves.range(first..=last).next() {
            Some((path, (address, account))) => {
                lone_leaf_digest(*path, leaf_digest(address, account), usize::from(node.depth))
            }
            None => EMPTY_SUBTREES[usize::from(node.depth)],
        }
    }

    /// Recomputes the digests on `path` after its leaf changed, updates which nodes
    /// are kept, and sets the root.
    fn rehash_path(&mut self, path: u64) {
        let reach = self.neighbour_reach(path);
        let mut digest = match self.leaves.get(&path) {
            Some((address, account)) => leaf_digest(address, account),
            None => EMPTY_SUBTREES[TREE_DEPTH],
        };
        // Accounts below the current node of the path, capped at 2.
        let mut count = usize::from(self.leaves.contains_key(&path));
        for depth in (1..=TREE_DEPTH).rev() {
            let node = NodeId::on_path(path, depth);
            let sibling = node.sibling();
            let sibling_count = self.sibling_count(sibling, reach);
            let sibling_digest = self.digest(sibling, sibling_count);
            let parent_count = (count + sibling_count).min(2);
            if parent_count >= 2 {
                self.keep(node, digest, count);
                self.keep(sibling, sibling_digest, sibling_count);
            } else if reach.is_some_and(|reach| reach + 1 >= depth as u32) {
                // The parent may have held two accounts before this write (this
                // path's old leaf and another); forget what was kept for that.
                // Deeper down no other account shares the parent, before or after
                // the write, so nothing was kept there and the lookups are skipped.
                self.nodes.remove(&node);
                self.nodes.remove(&sibling);
            }
            digest = parent_digest(node, &digest, &sibling_digest);
            count = parent_count;
        }
        self.root = digest;
    }

    /// Keeps `node`'s digest if anything is below it, forgets it otherwise.
    fn keep(&mut self, node: NodeId, digest: Hash, count: usize) {
        if count == 0 {
            self.nodes.remove(&node);
        } else {
            self.nodes.insert(node, digest);
        }
    }

    /// Number of node digests kept (for tests and memory accounting).
    pub fn stored_nodes(&self) -> usize {
        self.nodes.len()
    }
}

impl StateView for StateTree {
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        Ok(self.get(address))
    }

    fn set_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        self.set(address, account)
    }

    fn state_root(&mut self) -> Hash {
        self.root()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::hash::{M31, elements_to_hash};

    /// A canonical address whose 64-bit path is `path` (with `tail` filling the
    /// elements the path does not use).
    pub(crate) fn address_on_path(path: u64, tail: u32) -> Address {
        let e0 = (path >> 33) as u32;
        let e1 = ((path >> 2) & 0x7fff_ffff) as u32;
        let e2 = (((path & 3) as u32) << 29) | (tail & 0x0fff_ffff);
        let elements = [e0, e1, e2, tail % 1000, 5, 6, 7, 8].map(M31::new);
        let address = Address(elements_to_hash(&elements).0);
        assert_eq!(
            path_of(&address),
            path,
            "path {path:#x} is not reachable by a canonical address"
        );
        address
    }

    /// The largest path a canonical address can have: no element reaches p.
    pub(crate) const MAX_PATH: u64 = (0x7fff_fffe << 33) | (0x7fff_fffe << 2) | 3;

    pub(crate) fn account(balance: u64) -> Account {
        Account { balance, nonce: balance % 7, staking: Hash::ZERO }
    }

    /// The root computed the slow, obvious way: hash every level of the full
    /// sparse tree from the sorted leaves.
    fn naive_root(accounts: &[(Address, Account)]) -> Hash {
        let mut level: BTreeMap<u64, Hash> = accounts
            .iter()
            .filter(|(_, a)| !a.is_empty())
            .map(|(address, a)| (path_of(address), leaf_digest(address, a)))
            .collect();
        for depth in (1..=TREE_DEPTH).rev() {
            let mut parents = BTreeMap::new();
            for (&prefix, digest) in &level {
                let node = NodeId { depth: depth as u8, prefix };
                let sibling = node.sibling();
                let sibling_digest =
                    level.get(&sibling.prefix).copied().unwrap_or(EMPTY_SUBTREES[depth]);
                parents.insert(prefix >> 1, parent_digest(node, digest, &sibling_digest));
            }
            level = parents;
        }
        level.get(&0).copied().unwrap_or(EMPTY_SUBTREES[0])
    }

    /// Freezes the empty root.
    #[test]
    fn empty_root_is_fixed() {
        assert_eq!(StateTree::new().root(), EMPTY_SUBTREES[0]);
        assert_eq!(
            StateTree::new().root().to_string(),
            "0x1cac96682c2eaa66b381797537b7bb73018dba1be98aca0e2e66e77386875f03"
        );
    }

    /// Freezes the root after a few inserts (every field of the leaf in use).
    #[test]
    fn root_after_inserts_is_fixed() {
        let entries = [
            (
                "0x0000000800000000010000000100000005000000060000000700000008000000",
                Account { balance: 100, nonce: 2, staking: Hash::ZERO },
            ),
            (
                "0x0000001000000000020000000200000005000000060000000700000008000000",
                Account { balance: 250, nonce: 5, staking: Hash([3; 32]) },
            ),
            (
                "0x0000001800000000030000000300000005000000060000000700000008000000",
                Account { balance: u64::MAX, nonce: 1, staking: Hash::ZERO },
            ),
        ];
        let mut tree = StateTree::new();
        for (address, account) in entries {
            tree.set(address.parse().unwrap(), account).unwrap();
        }
        assert_eq!(
            tree.root().to_string(),
            "0x03b63065f2b8ea4ca04d966e958706763415f640ea2a4073f4ced5369b7d8676"
        );
    }

    /// Proves inserting then removing returns to the empty root and forgets every
    /// stored node.
    #[test]
    fn insert_then_remove_restores_empty_root() {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> =
            (0..50u64).map(|i| address_on_path(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), 0)).collect();
        for (i, a) in addresses.iter().enumerate() {
            tree.set(*a, account(i as u64 + 1)).unwrap();
        }
        assert_eq!(tree.len(), 50);
        for a in &addresses {
            tree.set(*a, Account::default()).unwrap();
        }
        assert_eq!(tree.root(), EMPTY_SUBTREES[0]);
        assert_eq!(tree.len(), 0);
        assert_eq!(tree.stored_nodes(), 0);
    }

    /// Proves get/set semantics: default when absent, last write wins, an empty
    /// account is the same as none.
    #[test]
    fn get_and_set() {
        let mut tree = StateTree::new();
        let a = address_on_path(42 << 20, 1);
        assert_eq!(tree.get(&a), Account::default());
        tree.set(a, account(5)).unwrap();
        assert_eq!(tree.get(&a), account(5));
        tree.set(a, account(6)).unwrap();
        assert_eq!(tree.get(&a), account(6));
        assert_eq!(tree.accounts().collect::<Vec<_>>(), [(a, account(6))]);
        tree.set(a, Account::default()).unwrap();
        assert!(tree.is_empty());
    }

    /// Proves two addresses on one path cannot both hold accounts, and that the
    /// refused write changes nothing.
    #[test]
    fn path_collision_is_refused() {
        let mut tree = StateTree::new();
        // Same first 64 path bits, different addresses.
        let first = address_on_path(0x0123_4567_89ab_cdef, 1);
        let second = address_on_path(0x0123_4567_89ab_cdef, 2);
        assert_ne!(first, second);
        tree.set(first, account(10)).unwrap();
        let root = tree.root();
        assert_eq!(
            tree.set(second, account(3)),
            Err(StateError::PathCollision { address: second, occupant: first })
        );
        assert_eq!(tree.root(), root);
        assert_eq!(tree.get(&second), Account::default());
        // Clearing the non-occupant is a no-op, not an error.
        assert_eq!(tree.set(second, Account::default()), Ok(()));
        assert_eq!(tree.get(&first), account(10));
    }

    /// Proves non-canonical addresses cannot hold accounts.
    #[test]
    fn non_canonical_address_is_refused() {
        let mut tree = StateTree::new();
        let bad = Address([0xff; 32]);
        assert_eq!(tree.set(bad, account(1)), Err(StateError::NonCanonicalAddress(bad)));
        assert_eq!(tree.get(&bad), Account::default());
    }

    /// Proves the incremental root matches the naive full-tree root, including
    /// siblings that differ only in the last path bit and long shared prefixes.
    #[test]
    fn incremental_root_matches_naive() {
        let paths = [0u64, 1, 2, 3, MAX_PATH, MAX_PATH - 1, 1 << 63, (1 << 63) | 1, 0x8000_0000];
        let mut tree = StateTree::new();
        let mut all = Vec::new();
        for (i, path) in paths.into_iter().enumerate() {
            let entry = (address_on_path(path, i as u32), account(i as u64 + 1));
            tree.set(entry.0, entry.1).unwrap();
            all.push(entry);
            assert_eq!(tree.root(), naive_root(&all), "after {} inserts", all.len());
        }
        while let Some((address, _)) = all.pop() {
            tree.set(address, Account::default()).unwrap();
            assert_eq!(tree.root(), naive_root(&all), "after removal, {} left", all.len());
        }
    }

    /// Proves storage stays near two digests per account, so 100k accounts need
    /// a few tens of megabytes, not gigabytes.
    #[test]
    fn storage_is_linear_in_accounts() {
        let mut tree = StateTree::new();
        let n = 2000u64;
        for i in 0..n {
            tree.set(address_on_path(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), 0), account(1))
                .unwrap();
        }
        assert!(tree.stored_nodes() <= 3 * n as usize, "{} nodes", tree.stored_nodes());
    }

    fn operations() -> impl Strategy<Value = Vec<(u64, u32, u64)>> {
        // Paths drawn from a small set of prefixes so that shared prefixes, splits
        // and collisions all happen; balance 0 means removal.
        let path = prop_oneof![
            0..=MAX_PATH,
            (0u64..8).prop_map(|x| x << 61),
            (0u64..8).prop_map(|x| (1 << 40) | x),
        ];
        prop::collection::vec((path, 0u32..3, 0u64..4), 1..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Proves the root depends only on the final set of accounts, not on the
        /// order they were written in, and matches the naive computation.
        #[test]
        fn root_is_order_independent(
            entries in prop::collection::btree_map(0..=MAX_PATH, 1u64..1000, 1..30),
            seed in any::<u64>(),
        ) {
            let accounts: Vec<(Address, Account)> = entries
                .iter()
                .map(|(path, balance)| (address_on_path(*path, 0), account(*balance)))
                .collect();
            let mut forward = StateTree::new();
            for (a, acc) in &accounts {
                forward.set(*a, *acc).unwrap();
            }
            let mut shuffled = accounts.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut backward = StateTree::new();
            for (a, acc) in &shuffled {
                backward.set(*a, *acc).unwrap();
            }
            prop_assert_eq!(forward.root(), backward.root());
            prop_assert_eq!(forward.root(), naive_root(&accounts));
        }

        /// Proves any sequence of writes, removals and refused collisions leaves the
        /// same root as building the surviving accounts from scratch.
        #[test]
        fn writes_match_rebuild(ops in operations()) {
            let mut tree = StateTree::new();
            for (path, tail, balance) in ops {
                let _ = tree.set(address_on_path(path, tail), account(balance));
            }
            let survivors: Vec<(Address, Account)> = tree.accounts().collect();
            let mut rebuilt = StateTree::new();
            for (a, acc) in &survivors {
                rebuilt.set(*a, *acc).unwrap();
            }
            prop_assert_eq!(tree.root(), rebuilt.root());
            prop_assert_eq!(tree.root(), naive_root(&survivors));
            prop_assert_eq!(tree.stored_nodes(), rebuilt.stored_nodes());
        }
    }
}
