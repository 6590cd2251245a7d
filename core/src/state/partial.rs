//! The part of the state a witness proves: enough to re-execute a block and
//! compute its new root without holding the rest of the tree.

use alloc::collections::BTreeMap;

use crate::types::{Address, Hash};

use super::account::{Account, check_canonical, leaf_digest};
use super::node::{EMPTY_LEAF, NodeId, TREE_DEPTH, parent_digest, path_of};
use super::witness::Witness;
use super::{StateError, StateView};

/// Accounts proven by a [`Witness`], updatable, with a root kept current.
///
/// It holds the digest of every node on every witnessed path and of every sibling
/// of those nodes, in one map by position. Paths share their upper nodes, and one
/// path's sibling may be a node on another witnessed path, so an update always
/// reads siblings from the map, which already holds what earlier updates wrote.
#[derive(Clone, Debug)]
pub struct PartialState {
    root: Hash,
    nodes: BTreeMap<NodeId, Hash>,
    /// Witnessed leaf slots by path, with their current occupant.
    slots: BTreeMap<u64, Option<(Address, Account)>>,
}

impl PartialState {
    /// Checks every proof of `witness` against `root` and keeps what they prove.
    pub fn from_witness(root: Hash, witness: &Witness) -> Result<Self, StateError> {
        let mut state = Self { root, nodes: BTreeMap::new(), slots: BTreeMap::new() };
        state.nodes.insert(NodeId::ROOT, root);
        for (address, proof) in witness.proofs() {
            let path = path_of(address);
            let leaf = proof.leaf(address, path)?;
            // The root is seeded with `root`, so a proof for another root fails at
            // its last step; a proof contradicting an earlier one fails where they meet.
            let nodes = &mut state.nodes;
            proof.fold_path(path, leaf, |node, digest| match nodes.insert(node, digest) {
                Some(known) if known != digest && node == NodeId::ROOT => {
                    Err(StateError::InvalidProof { address: *address, reason: "root mismatch" })
                }
                Some(known) if known != digest => Err(StateError::InconsistentWitness(*address)),
                _ => Ok(()),
            })?;
            let occupant = proof.occupant().copied();
            if let Some(known) = state.slots.insert(path, occupant)
                && known != occupant
            {
                return Err(StateError::InconsistentWitness(*address));
            }
        }
        Ok(state)
    }

    /// The account at `address`, or [`StateError::MissingWitness`] if the witness
    /// did not cover its path.
    pub fn get(&self, address: &Address) -> Result<Account, StateError> {
        match self.slots.get(&path_of(address)) {
            None => Err(StateError::MissingWitness(*address)),
            Some(Some((occupant, account))) if occupant == address => Ok(*account),
            Some(_) => Ok(Account::default()),
        }
    }

    /// Stores `account` at a witnessed `address` and rehashes its path. Same rules
    /// as [`super::StateTree::set`].
    pub fn set(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        let path = path_of(&address);
        let slot = *self.slots.get(&path).ok_or(StateError::MissingWitness(address))?;
        if let Some((occupant, _)) = slot
            && occupant != address
        {
            if account.is_empty() {
                return Ok(());
            }
            return Err(StateError::PathCollision { address, occupant });
        }
        check_canonical(&address, &account)?;
        let new_slot = (!account.is_empty()).then_some((address, account));
        if new_slot == slot {
            return Ok(());
        }
        let mut digest = match &new_slot {
            Some((address, account)) => leaf_digest(address, account),
            None => EMPTY_LEAF,
        };
        for depth in (1..=TREE_DEPTH).rev() {
            let node = NodeId::on_path(path, depth);
            // Every sibling of a witnessed path was recorded from its proof.
            let sibling =
                *self.nodes.get(&node.sibling()).ok_or(StateError::MissingWitness(address))?;
            self.nodes.insert(node, digest);
            digest = parent_digest(node, &digest, &sibling);
        }
        self.nodes.insert(NodeId::ROOT, digest);
        self.root = digest;
        self.slots.insert(path, new_slot);
        Ok(())
    }

    /// The root of the whole state, with every update so far applied.
    pub fn root(&self) -> Hash {
        self.root
    }
}

impl StateView for PartialState {
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        self.get(address)
    }

    fn set_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        self.set(address, account)
    }

    fn state_root(&mut self) -> Hash {
        self.root()
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::state::StateTree;
    use crate::state::tree::tests::{MAX_PATH, account, address_on_path};

    fn setup(paths: &[u64]) -> (StateTree, Vec<Address>) {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> = paths.iter().map(|p| address_on_path(*p, 0)).collect();
        for (i, a) in addresses.iter().enumerate() {
            tree.set(*a, account(i as u64 + 10)).unwrap();
        }
        (tree, addresses)
    }

    /// Proves reads of witnessed accounts work and others are refused.
    #[test]
    fn reads_need_a_witness() {
        let (tree, addresses) = setup(&[1 << 40, 2 << 40, 3 << 40]);
        let fresh = address_on_path(9 << 40, 0);
        let witness = tree.witness(&[addresses[0], fresh]);
        let mut partial = PartialState::from_witness(tree.root(), &witness).unwrap();
        assert_eq!(partial.get(&addresses[0]), Ok(account(10)));
        assert_eq!(partial.get(&fresh), Ok(Account::default()));
        assert_eq!(partial.get(&addresses[1]), Err(StateError::MissingWitness(addresses[1])));
        assert_eq!(
            partial.set(addresses[1], account(1)),
            Err(StateError::MissingWitness(addresses[1]))
        );
        assert_eq!(partial.root(), tree.root());
    }

    /// Proves a witness for another root, or with contradicting proofs, is refused.
    #[test]
    fn bad_witnesses_are_refused() {
        let (tree, addresses) = setup(&[1 << 40, 2 << 40]);
        let witness = tree.witness(&addresses);
        assert!(matches!(
            PartialState::from_witness(EMPTY_SUBTREES_ROOT, &witness),
            Err(StateError::InvalidProof { .. })
        ));
        let mut other = tree.clone();
        other.set(addresses[0], account(99)).unwrap();
        let mixed = Witness::new(alloc::vec![
            (addresses[0], tree.prove(&addresses[0])),
            (addresses[0], other.prove(&addresses[0])),
        ]);
        assert_eq!(
            PartialState::from_witness(tree.root(), &mixed).map(|_| ()),
            Err(StateError::InconsistentWitness(addresses[0]))
        );
    }

    const EMPTY_SUBTREES_ROOT: Hash = crate::state::EMPTY_SUBTREES[0];

    /// Proves updates to neighbouring paths (siblings at the deepest level, and
    /// paths sharing long prefixes) reuse each other's fresh digests.
    #[test]
    fn neighbouring_updates_share_nodes() {
        let paths = [0x10, 0x11, 0x13, 0x8000_0000_0000_0000];
        let (mut tree, addresses) = setup(&paths);
        let newcomer = address_on_path(0x12, 0);
        let mut touched = addresses.clone();
        touched.push(newcomer);
        let mut partial = PartialState::from_witness(tree.root(), &tree.witness(&touched)).unwrap();
        let writes = [
            (addresses[0], account(1)),
            (addresses[1], Account::default()),
            (newcomer, account(5)),
            (addresses[2], account(7)),
            (addresses[0], account(2)),
        ];
        for (address, account) in writes {
            tree.set(address, account).unwrap();
            partial.set(address, account).unwrap();
            assert_eq!(partial.root(), tree.root());
        }
    }

    /// Proves a collision is refused by the partial state as by the full tree.
    #[test]
    fn collisions_are_refused() {
        let (tree, addresses) = setup(&[0x77 << 30]);
        let squatter = address_on_path(0x77 << 30, 5);
        let mut partial =
            PartialState::from_witness(tree.root(), &tree.witness(&[squatter])).unwrap();
        assert_eq!(partial.get(&squatter), Ok(Account::default()));
        assert_eq!(
            partial.set(squatter, account(1)),
            Err(StateError::PathCollision { address: squatter, occupant: addresses[0] })
        );
        assert_eq!(partial.get(&addresses[0]), Ok(account(10)), "same slot, so known");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Proves a partial state built from a witness tracks the full tree exactly
        /// through any sequence of writes to witnessed addresses: same results,
        /// same errors, same root after every write.
        #[test]
        fn partial_state_tracks_full_tree(
            initial in prop::collection::btree_set(0..=MAX_PATH, 0..30),
            extra in prop::collection::vec((0..=MAX_PATH, 0u32..2), 0..10),
            writes in prop::collection::vec((any::<prop::sample::Index>(), 0u64..5), 1..30),
        ) {
            let paths: Vec<u64> = initial.iter().copied().collect();
            let (mut tree, mut touched) = setup(&paths);
            // Addresses not yet in the tree, some colliding with existing paths.
            for (i, (path, tail)) in extra.iter().enumerate() {
                let path = if *tail == 1 && !paths.is_empty() { paths[i % paths.len()] } else { *path };
                touched.push(address_on_path(path, 100 + i as u32));
            }
            prop_assume!(!touched.is_empty());
            let mut partial =
                PartialState::from_witness(tree.root(), &tree.witness(&touched)).unwrap();
            for (index, balance) in writes {
                let address = touched[index.index(touched.len())];
                let value = account(balance);
                prop_assert_eq!(partial.set(address, value), tree.set(address, value));
                prop_assert_eq!(partial.root(), tree.root());
                prop_assert_eq!(partial.get(&address), Ok(tree.get(&address)));
            }
        }
    }
}
