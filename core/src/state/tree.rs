//! The full account state: the compressed sparse Merkle tree, all in memory.
//!
//! Storage is proportional to the number of accounts: one leaf per account and one
//! inner node per branching (fewer than 1.5 per account for random addresses, plus
//! a chain of inner nodes where two keys share a long prefix). Each node caches its
//! digest, so a write rehashes only its own path, about `log2(accounts)`
//! compressions plus the leaf, and [`StateTree::root`] is always current and costs
//! nothing. See the [`node`](super::node) module for the construction.

use alloc::collections::BTreeSet;

use crate::staking::{REGISTRY, StakingState};
use crate::types::{Address, Hash};

use super::account::{Account, check_canonical};
use super::node::{Insert, Key, Node};
use super::proof::MerkleProof;
use super::registry::{HeldRegistry, check_write};
use super::witness::Witness;
use super::{StateError, StateView};

/// Every account, with its Merkle root kept current, and the staking registry.
#[derive(Clone, Debug)]
pub struct StateTree {
    /// Never holds an opaque node.
    root: Node,
    len: usize,
    /// The preimage of the registry account's commitment, if it has one.
    registry: Option<HeldRegistry>,
}

impl Default for StateTree {
    fn default() -> Self {
        Self::new()
    }
}

impl StateTree {
    /// The empty state.
    pub fn new() -> Self {
        Self { root: Node::Empty, len: 0, registry: None }
    }

    /// The account at `address`; the empty account if there is none.
    pub fn get(&self, address: &Address) -> Account {
        // A full tree has no opaque subtree, so the walk cannot fail.
        self.root.get(&Key::of(address), address).unwrap_or_default()
    }

    /// Stores `account` at `address`; an empty account removes the address.
    ///
    /// Fails, changing nothing, if the address or the staking commitment is not a
    /// canonical digest, or if it would change the registry account's commitment
    /// (that takes [`Self::set_registry`]). Any two canonical addresses can hold
    /// accounts at once.
    pub fn set(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        check_write(&address, &account, self.registry.as_ref())?;
        self.write(address, account)
    }

    fn write(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        check_canonical(&address, &account)?;
        let key = Key::of(&address);
        if account.is_empty() {
            if self.root.remove(0, &key, &address)? {
                self.len -= 1;
            }
        } else {
            if self.root.insert(0, &key, &address, &account)? == Insert::Added {
                self.len += 1;
            }
        }
        Ok(())
    }

    /// The staking registry, if the chain has one (every chain started from a
    /// genesis does).
    pub fn registry(&self) -> Option<&StakingState> {
        self.registry.as_ref().map(HeldRegistry::state)
    }

    /// Stores `registry` and writes its commitment into the registry account
    /// (keeping the account's balance). Hosts restoring a stored state call it
    /// before setting the stored registry account.
    pub fn set_registry(&mut self, registry: StakingState) -> Result<(), StateError> {
        self.hold_registry(HeldRegistry::new(registry), None)
    }

    /// Stores an already hashed registry, and `escrow` as the registry account's
    /// balance if given.
    pub(crate) fn hold_registry(
        &mut self,
        held: HeldRegistry,
        escrow: Option<u64>,
    ) -> Result<(), StateError> {
        let current = self.get(&REGISTRY);
        let account = held.account(escrow.unwrap_or(current.balance), current.nonce);
        self.write(REGISTRY, account)?;
        self.registry = Some(held);
        Ok(())
    }

    /// The registry with its commitment, for copying into another state.
    pub(crate) fn held_registry(&self) -> Option<&HeldRegistry> {
        self.registry.as_ref()
    }

    /// The Merkle root of all accounts.
    pub fn root(&self) -> Hash {
        self.root.digest()
    }

    /// Number of non-empty accounts.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every non-empty account, in key order (see [`Key`]).
    pub fn accounts(&self) -> impl Iterator<Item = (Address, Account)> + '_ {
        self.root.leaves()
    }

    /// A proof of `address`'s account (or of its absence) against [`Self::root`].
    pub fn prove(&self, address: &Address) -> MerkleProof {
        self.root.prove(&Key::of(address), address).expect("a full tree has no opaque subtree")
    }

    /// Proofs of every distinct address in `addresses`, for re-executing a block
    /// that touches them without the rest of the state; with the registry's
    /// preimage if the registry account is among them.
    pub fn witness<'a>(&self, addresses: impl IntoIterator<Item = &'a Address>) -> Witness {
        let distinct: BTreeSet<&Address> = addresses.into_iter().collect();
        let registry = distinct.contains(&REGISTRY).then(|| self.registry().cloned()).flatten();
        let proofs = distinct.into_iter().map(|a| (*a, self.prove(a))).collect();
        Witness::with_registry(proofs, registry)
    }

    /// Leaves and inner nodes stored (for tests and memory accounting).
    pub fn node_count(&self) -> (usize, usize) {
        self.root.count()
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

    fn read_registry(&self) -> Result<Option<&StakingState>, StateError> {
        Ok(self.registry())
    }

    fn write_registry(&mut self, registry: StakingState, escrow: u64) -> Result<(), StateError> {
        self.hold_registry(HeldRegistry::new(registry), Some(escrow))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::hash::{M31, compress, elements_to_hash};
    use crate::state::account::leaf_digest;
    use crate::state::node::{EMPTY, KEY_BITS};

    /// The largest canonical element.
    pub(crate) const MAX_ELEMENT: u32 = 0x7fff_fffe;

    /// The address with these eight field elements (each at most [`MAX_ELEMENT`]).
    pub(crate) fn address(elements: [u32; 8]) -> Address {
        assert!(elements.iter().all(|e| *e <= MAX_ELEMENT), "non-canonical {elements:?}");
        Address(elements_to_hash(&elements.map(M31::new)).0)
    }

    /// A deterministic, well spread canonical address.
    pub(crate) fn spread(i: u64) -> Address {
        let mut state = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555;
        address(core::array::from_fn(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(MAX_ELEMENT + 1)) as u32
        }))
    }

    /// Addresses for property tests: fully random ones, and ones from a few
    /// clusters sharing long key prefixes (the first element only, all but the
    /// last element, or all but the last few bits), so splits, deep paths and
    /// lifts all happen.
    pub(crate) fn address_strategy() -> impl Strategy<Value = Address> {
        let element = 0..=MAX_ELEMENT;
        prop_oneof![
            prop::array::uniform8(element.clone()).prop_map(address),
            (0u32..4, prop::array::uniform7(element.clone())).prop_map(|(first, rest)| address([
                first << 29,
                rest[0],
                rest[1],
                rest[2],
                rest[3],
                rest[4],
                rest[5],
                rest[6]
            ])),
            (0u32..2, element.clone()).prop_map(|(c, last)| address([c, 1, 2, 3, 4, 5, 6, last])),
            (0u32..2, 0u32..8).prop_map(|(c, last)| address([c, 1, 2, 3, 4, 5, 6, last])),
        ]
    }

    pub(crate) fn account(balance: u64) -> Account {
        Account { balance, nonce: balance % 7, staking: Hash::ZERO }
    }

    /// The root computed straight from the definition, from the set of accounts:
    /// empty, a lone leaf, or the compression of the two halves.
    pub(crate) fn naive_root(accounts: &[(Address, Account)]) -> Hash {
        fn subtree(entries: &[(Key, Hash)], depth: usize) -> Hash {
            match entries {
                [] => EMPTY,
                [(_, leaf)] => *leaf,
                _ => {
                    let (left, right): (Vec<_>, Vec<_>) =
                        entries.iter().partition(|(key, _)| !key.bit(depth));
                    compress(&subtree(&left, depth + 1), &subtree(&right, depth + 1))
                }
            }
        }
        let entries: Vec<(Key, Hash)> = accounts
            .iter()
            .filter(|(_, a)| !a.is_empty())
            .map(|(address, a)| (Key::of(address), leaf_digest(address, a)))
            .collect();
        subtree(&entries, 0)
    }

    /// Freezes the empty root: the empty digest.
    #[test]
    fn empty_root_is_fixed() {
        assert_eq!(StateTree::new().root(), EMPTY);
        assert_eq!(
            StateTree::new().root().to_string(),
            "0xcbb70c28a5b650708a93680da0c29826d3bd9b2d04d6100163d0ad43ed66040b"
        );
    }

    /// Freezes the root after a few inserts (every field of the leaf in use). The
    /// value changed when the tree went from 64-bit paths to compressed 248-bit
    /// keys; it changes again with any change to the layout or the hashes.
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
            "0x40085e26846cf84f3c1e1b6f1bc9912eb4024c0f8f0f6e4f6455143f3c773f22"
        );
        // One account alone: the root is its leaf.
        let mut one = StateTree::new();
        let (address, account) = entries[0];
        let address = address.parse().unwrap();
        one.set(address, account).unwrap();
        assert_eq!(one.root(), leaf_digest(&address, &account));
    }

    /// Proves inserting then removing returns to the empty root and stores nothing.
    #[test]
    fn insert_then_remove_restores_empty_root() {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> = (0..50).map(spread).collect();
        for (i, a) in addresses.iter().enumerate() {
            tree.set(*a, account(i as u64 + 1)).unwrap();
        }
        assert_eq!(tree.len(), 50);
        for a in &addresses {
            tree.set(*a, Account::default()).unwrap();
        }
        assert_eq!(tree.root(), EMPTY);
        assert_eq!(tree.len(), 0);
        assert_eq!(tree.node_count(), (0, 0));
    }

    /// Proves get/set semantics: default when absent, last write wins, an empty
    /// account is the same as none, and rewriting a value changes nothing.
    #[test]
    fn get_and_set() {
        let mut tree = StateTree::new();
        let a = spread(1);
        assert_eq!(tree.get(&a), Account::default());
        tree.set(a, account(5)).unwrap();
        assert_eq!(tree.get(&a), account(5));
        tree.set(a, account(6)).unwrap();
        tree.set(a, account(6)).unwrap();
        assert_eq!(tree.get(&a), account(6));
        assert_eq!(tree.len(), 1);
        assert_eq!(tree.accounts().collect::<Vec<_>>(), [(a, account(6))]);
        tree.set(spread(2), Account::default()).unwrap();
        assert_eq!(tree.len(), 1);
        tree.set(a, Account::default()).unwrap();
        assert!(tree.is_empty());
    }

    /// Proves two addresses that used to share a tree path (same first 64 key
    /// bits: the first two elements and the top two bits of the third), and two
    /// differing only in the very last key bit, both hold accounts: no address can
    /// be squatted by funding a neighbour.
    #[test]
    fn former_path_twins_coexist() {
        let victim = address([0x0123_4567, 0x89ab_cdef >> 1, 0x1234_5678, 4, 5, 6, 7, 8]);
        let twin = address([0x0123_4567, 0x89ab_cdef >> 1, 0x1234_5679, 9, 9, 9, 9, 9]);
        let last_bit = address([0x0123_4567, 0x89ab_cdef >> 1, 0x1234_5678, 4, 5, 6, 7, 9]);
        let mut tree = StateTree::new();
        tree.set(twin, account(1)).unwrap();
        tree.set(victim, account(10)).unwrap();
        tree.set(last_bit, account(3)).unwrap();
        assert_eq!(tree.get(&twin), account(1));
        assert_eq!(tree.get(&victim), account(10));
        assert_eq!(tree.get(&last_bit), account(3));
        assert_eq!(tree.len(), 3);
        let all = [(twin, account(1)), (victim, account(10)), (last_bit, account(3))];
        assert_eq!(tree.root(), naive_root(&all));
        assert_eq!(tree.prove(&last_bit).depth(), KEY_BITS);
        for (a, acc) in all {
            assert_eq!(tree.prove(&a).verify(&tree.root(), &a), Ok(acc));
        }
    }

    /// Proves non-canonical addresses cannot hold accounts, and reading one that
    /// shares a key with a stored address does not return that address's account.
    #[test]
    fn non_canonical_address_is_refused() {
        let mut tree = StateTree::new();
        let bad = Address([0xff; 32]);
        assert_eq!(tree.set(bad, account(1)), Err(StateError::NonCanonicalAddress(bad)));
        assert_eq!(tree.get(&bad), Account::default());
        // The top bit of every limb set: not canonical, and the same key as the
        // canonical address without those bits.
        let good = address([MAX_ELEMENT; 8]);
        let mut alias = good;
        for limb in alias.0.chunks_mut(4) {
            limb[3] |= 0x80;
        }
        assert_eq!(Key::of(&alias), Key::of(&good));
        tree.set(good, account(2)).unwrap();
        assert_eq!(tree.get(&alias), Account::default());
        assert_eq!(tree.prove(&alias).verify(&tree.root(), &alias), Ok(Account::default()));
        assert_eq!(tree.set(alias, Account::default()), Ok(()));
        assert_eq!(tree.get(&good), account(2));
    }

    /// Proves the incremental root matches the definition through inserts and
    /// removals, including keys that part at the first bit, the last bit and in
    /// between, and removals that lift a leaf several levels.
    #[test]
    fn incremental_root_matches_naive() {
        let elements = [
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0, 3],
            [MAX_ELEMENT; 8],
            [MAX_ELEMENT, MAX_ELEMENT, 0, 0, 0, 0, 0, 0],
            [1 << 30, 0, 0, 0, 0, 0, 0, 0],
            [1 << 30, 0, 1, 0, 0, 0, 0, 0],
            [0, 1 << 30, 0, 0, 0, 0, 0, 0],
            [5, 6, 7, 8, 9, 10, 11, 12],
        ];
        let mut tree = StateTree::new();
        let mut all = Vec::new();
        for (i, e) in elements.into_iter().enumerate() {
            let entry = (address(e), account(i as u64 + 1));
            tree.set(entry.0, entry.1).unwrap();
            all.push(entry);
            assert_eq!(tree.root(), naive_root(&all), "after {} inserts", all.len());
        }
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.rotate_left(3);
        for i in order {
            tree.set(all[i].0, Account::default()).unwrap();
            all[i].1 = Account::default();
            assert_eq!(tree.root(), naive_root(&all), "after removing {i}");
        }
        assert_eq!(tree.node_count(), (0, 0));
    }

    /// Proves `accounts` lists accounts in key order.
    #[test]
    fn accounts_are_in_key_order() {
        let mut tree = StateTree::new();
        for i in 0..200 {
            tree.set(spread(i), account(i + 1)).unwrap();
        }
        let keys: Vec<Key> = tree.accounts().map(|(a, _)| Key::of(&a)).collect();
        assert_eq!(keys.len(), 200);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    /// Proves storage stays near one leaf and 1.5 inner nodes per account, so
    /// 100k accounts need tens of megabytes, and paths stay short.
    #[test]
    fn storage_is_linear_in_accounts() {
        let mut tree = StateTree::new();
        let n = 2000;
        for i in 0..n {
            tree.set(spread(i), account(1)).unwrap();
        }
        let (leaves, internals) = tree.node_count();
        assert_eq!(leaves, n as usize);
        assert!(internals < 2 * n as usize, "{internals} inner nodes");
        let deepest = (0..n).map(|i| tree.prove(&spread(i)).depth()).max().unwrap();
        assert!(deepest < 40, "deepest path {deepest}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Proves the root depends only on the final set of accounts, not on the
        /// order they were written in, and matches the definition.
        #[test]
        fn root_is_order_independent(
            entries in prop::collection::btree_map(address_strategy(), 1u64..1000, 1..30),
            seed in any::<u64>(),
        ) {
            let accounts: Vec<(Address, Account)> =
                entries.iter().map(|(a, balance)| (*a, account(*balance))).collect();
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
            prop_assert_eq!(forward.len(), accounts.len());
        }

        /// Proves inserting a set of accounts and then removing them again, in any
        /// order, returns to the root before (removals lifting leaves back up),
        /// passing through the root of the definition at every step.
        #[test]
        fn insert_then_remove_restores_root(
            base in prop::collection::btree_map(address_strategy(), 1u64..1000, 0..20),
            extra in prop::collection::btree_set(address_strategy(), 1..20),
            seed in any::<u64>(),
        ) {
            let mut tree = StateTree::new();
            for (a, balance) in &base {
                tree.set(*a, account(*balance)).unwrap();
            }
            let before = tree.root();
            let added: Vec<Address> =
                extra.iter().filter(|a| !base.contains_key(a)).copied().collect();
            for (i, a) in added.iter().enumerate() {
                tree.set(*a, account(i as u64 + 1)).unwrap();
            }
            let mut order = added.clone();
            let mut state = seed | 1;
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for a in order {
                tree.set(a, Account::default()).unwrap();
                let survivors: Vec<(Address, Account)> = tree.accounts().collect();
                prop_assert_eq!(tree.root(), naive_root(&survivors));
            }
            prop_assert_eq!(tree.root(), before);
            prop_assert_eq!(tree.len(), base.len());
        }

        /// Proves any sequence of writes and removals leaves the same root and the
        /// same stored nodes as building the surviving accounts from scratch.
        #[test]
        fn writes_match_rebuild(
            ops in prop::collection::vec((address_strategy(), 0u64..4), 1..40),
        ) {
            let mut tree = StateTree::new();
            for (a, balance) in ops {
                tree.set(a, account(balance)).unwrap();
            }
            let survivors: Vec<(Address, Account)> = tree.accounts().collect();
            let mut rebuilt = StateTree::new();
            for (a, acc) in &survivors {
                rebuilt.set(*a, *acc).unwrap();
            }
            prop_assert_eq!(tree.root(), rebuilt.root());
            prop_assert_eq!(tree.root(), naive_root(&survivors));
            prop_assert_eq!(tree.node_count(), rebuilt.node_count());
            prop_assert_eq!(tree.len(), survivors.len());
        }
    }
}
