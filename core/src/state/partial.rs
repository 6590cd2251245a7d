//! The part of the state a witness proves: enough to re-execute a block and
//! compute its new root without holding the rest of the tree.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::staking::{REGISTRY, StakingState};
use crate::types::{Address, Hash};

use super::account::{Account, check_canonical};
use super::node::{Internal, Key, Node};
use super::proof::MerkleProof;
use super::registry::{HeldRegistry, check_preimage, check_write, commitment_of};
use super::witness::Witness;
use super::{StateError, StateView};

/// Accounts proven by a [`Witness`], updatable, with a root kept current.
///
/// It is the same tree as [`super::StateTree`], spelled out only along the
/// witnessed paths: every subtree off those paths is an opaque node holding just
/// its digest (or an empty node, when its digest is the empty digest: then it is
/// known to hold nothing, and addresses in it are known to be absent). Paths share
/// their upper nodes, and one path's sibling may be a node on another witnessed
/// path, so an update rehashes with the current digests of whatever it meets.
///
/// It reads and writes any address whose path ends in a known node: inserting
/// into an empty subtree, updating a leaf, or splitting a leaf of another address
/// into two. A read or write whose path enters an opaque subtree fails with
/// [`StateError::MissingWitness`]. Removing an account fails with
/// [`StateError::UnsupportedRemoval`] when its leaf's sibling is opaque (whether
/// the remaining subtree is one account to lift or more cannot be told from a
/// digest); execution never removes accounts, so no block needs it.
///
/// It holds the staking registry when the witness proves the registry account,
/// from the preimage the witness carries.
#[derive(Clone, Debug)]
pub struct PartialState {
    root: Node,
    registry: Option<HeldRegistry>,
}

impl PartialState {
    /// Checks every proof of `witness` against `root` and keeps what they prove.
    ///
    /// Each proof must verify against `root` on its own
    /// ([`StateError::InvalidProof`], naming the address of the first one that does
    /// not, so a witness for another state, or mixing proofs from two, is refused
    /// at its first bad proof). Its path is then spelled out in one tree shared by
    /// all proofs, where proofs that meet must agree on every node they share
    /// ([`StateError::InconsistentWitness`] otherwise: a check that holds unless
    /// two proofs of one root disagree, which takes a hash collision). If the
    /// registry account is proven and not empty, the witness must carry the
    /// registry's preimage, matching the proven commitment; otherwise it must
    /// carry none ([`StateError::RegistryMismatch`]).
    pub fn from_witness(root: Hash, witness: &Witness) -> Result<Self, StateError> {
        let mut tree = Node::from_digest(root);
        for (address, proof) in witness.proofs() {
            let digests = proof.path_digests(address)?;
            if digests[0] != root {
                return Err(StateError::InvalidProof {
                    address: *address,
                    reason: "root mismatch",
                });
            }
            expand(&mut tree, address, proof, &digests)?;
        }
        debug_assert_eq!(tree.digest(), root);
        let mut state = Self { root: tree, registry: None };
        let proven = match witness.addresses().any(|a| *a == REGISTRY) {
            true => Some(state.get(&REGISTRY)?),
            false => None,
        };
        state.registry = check_preimage(proven.as_ref(), witness.registry())?;
        Ok(state)
    }

    /// The account at `address`, or [`StateError::MissingWitness`] if the witness
    /// does not cover its path.
    pub fn get(&self, address: &Address) -> Result<Account, StateError> {
        self.root.get(&Key::of(address), address)
    }

    /// Stores `account` at `address` and rehashes its path; an empty account
    /// removes the address. Same rules as [`super::StateTree::set`], and fails,
    /// changing nothing, where the witness does not cover the path (or, for a
    /// removal, the leaf's sibling; see [`PartialState`]).
    pub fn set(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        check_write(&address, &account, self.registry.as_ref())?;
        self.write(address, account)
    }

    fn write(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        check_canonical(&address, &account)?;
        let key = Key::of(&address);
        if account.is_empty() {
            self.root.remove(0, &key, &address)?;
        } else {
            self.root.insert(0, &key, &address, &account)?;
        }
        Ok(())
    }

    /// A proof of `address`'s account (or of its absence) against [`Self::root`],
    /// or [`StateError::MissingWitness`] if the witness does not cover its path.
    pub fn prove(&self, address: &Address) -> Result<MerkleProof, StateError> {
        self.root.prove(&Key::of(address), address)
    }

    /// The root of the whole state, with every update so far applied.
    pub fn root(&self) -> Hash {
        self.root.digest()
    }

    /// The staking registry, if the witness proved the registry account; fails
    /// with [`StateError::MissingWitness`] if it did not.
    pub fn registry(&self) -> Result<Option<&StakingState>, StateError> {
        let account = self.get(&REGISTRY)?;
        if account.staking != commitment_of(self.registry.as_ref()) {
            // The account is known through another proof, its preimage is not.
            return Err(StateError::MissingWitness(REGISTRY));
        }
        Ok(self.registry.as_ref().map(HeldRegistry::state))
    }

    /// The registry with its commitment, to copy into a full state.
    pub(crate) fn held_registry(&self) -> Option<&HeldRegistry> {
        self.registry.as_ref()
    }
}

/// Spells out `proof`'s path (for `address`, with node digests `digests` from
/// [`MerkleProof::path_digests`]) in `tree`: an opaque node on the path becomes an
/// inner node whose children are the next node on the path and the sibling, both
/// known by digest, and an opaque terminal becomes the proof's leaf or empty node.
/// A node already spelled out by another proof must have the same digest and, on
/// the path, be an inner node with the same sibling digest, or at the terminal the
/// same leaf (or empty node).
fn expand(
    tree: &mut Node,
    address: &Address,
    proof: &MerkleProof,
    digests: &[Hash],
) -> Result<(), StateError> {
    let inconsistent = || StateError::InconsistentWitness(*address);
    let key = Key::of(address);
    let siblings: Vec<Hash> = proof.siblings().map(|(_, digest)| digest).collect();
    let mut slot = tree;
    for (depth, sibling) in siblings.iter().enumerate() {
        if slot.digest() != digests[depth] {
            return Err(inconsistent());
        }
        let side = usize::from(key.bit(depth));
        if matches!(slot, Node::Opaque(_)) {
            let mut children = [Node::Empty, Node::Empty];
            children[side] = Node::from_digest(digests[depth + 1]);
            children[1 - side] = Node::from_digest(*sibling);
            // `digests[depth]` is the compression of these two: the proof's
            // digests were computed that way.
            *slot = Node::Internal(Box::new(Internal { children, digest: digests[depth] }));
        }
        let Node::Internal(internal) = slot else {
            return Err(inconsistent());
        };
        if internal.children[1 - side].digest() != *sibling {
            return Err(inconsistent());
        }
        slot = &mut internal.children[side];
    }
    if slot.digest() != digests[proof.depth()] {
        return Err(inconsistent());
    }
    match (&*slot, proof.occupant()) {
        (Node::Opaque(_), None) => *slot = Node::Empty,
        (Node::Opaque(_), Some((occupant, account))) => *slot = Node::leaf(*occupant, *account),
        (Node::Empty, None) => {}
        (Node::Leaf(leaf), Some((occupant, account)))
            if leaf.address == *occupant && leaf.account == *account => {}
        _ => return Err(inconsistent()),
    }
    Ok(())
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

    fn read_registry(&self) -> Result<Option<&StakingState>, StateError> {
        self.registry()
    }

    fn write_registry(&mut self, registry: StakingState, escrow: u64) -> Result<(), StateError> {
        let current = self.get(&REGISTRY)?;
        let held = HeldRegistry::new(registry);
        self.write(REGISTRY, held.account(escrow, current.nonce))?;
        self.registry = Some(held);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::state::StateTree;
    use crate::state::node::EMPTY;
    use crate::state::tree::tests::{MAX_ELEMENT, account, address, address_strategy, spread};

    fn setup(addresses: &[Address]) -> StateTree {
        let mut tree = StateTree::new();
        for (i, a) in addresses.iter().enumerate() {
            tree.set(*a, account(i as u64 + 10)).unwrap();
        }
        tree
    }

    /// Another canonical address with the same first seven elements as `a`: its
    /// key parts from `a`'s only in the last 31 bits.
    fn twin(a: &Address, salt: u32) -> Address {
        let mut out = *a;
        let last = u32::from_le_bytes(a.0[28..].try_into().unwrap());
        let new = (last + salt % MAX_ELEMENT + 1) % (MAX_ELEMENT + 1);
        out.0[28..].copy_from_slice(&new.to_le_bytes());
        out
    }

    /// Proves reads and writes of witnessed addresses work and others are refused
    /// without changing anything.
    #[test]
    fn reads_need_a_witness() {
        let addresses: Vec<Address> = (0..64).map(spread).collect();
        let tree = setup(&addresses);
        let fresh = spread(1000);
        let witness = tree.witness(&[addresses[0], fresh]);
        let mut partial = PartialState::from_witness(tree.root(), &witness).unwrap();
        assert_eq!(partial.get(&addresses[0]), Ok(account(10)));
        assert_eq!(partial.get(&fresh), Ok(Account::default()));
        assert_eq!(partial.root(), tree.root());
        let mut refused = 0;
        for a in &addresses[1..] {
            match partial.get(a) {
                Err(StateError::MissingWitness(missing)) => {
                    assert_eq!(missing, *a);
                    assert_eq!(partial.set(*a, account(1)), Err(StateError::MissingWitness(*a)));
                    assert_eq!(
                        partial.set(*a, Account::default()),
                        Err(StateError::MissingWitness(*a))
                    );
                    refused += 1;
                }
                // Its path ends in a node a witnessed path spelled out.
                known => assert_eq!(known, Ok(tree.get(a))),
            }
        }
        assert!(refused > 50, "{refused}");
        assert_eq!(partial.root(), tree.root());
    }

    /// Proves an empty witness proves nothing of a non-empty state, and everything
    /// (every address absent) of the empty one.
    #[test]
    fn empty_witness() {
        let tree = setup(&[spread(1)]);
        let partial = PartialState::from_witness(tree.root(), &Witness::default()).unwrap();
        assert_eq!(partial.get(&spread(1)), Err(StateError::MissingWitness(spread(1))));
        assert_eq!(partial.root(), tree.root());

        let mut partial = PartialState::from_witness(EMPTY, &Witness::default()).unwrap();
        let mut tree = StateTree::new();
        for i in 0..5 {
            assert_eq!(partial.get(&spread(i)), Ok(Account::default()));
            partial.set(spread(i), account(i + 1)).unwrap();
            tree.set(spread(i), account(i + 1)).unwrap();
            assert_eq!(partial.root(), tree.root());
        }
    }

    /// Proves a witness for another root, a witness mixing proofs from two roots,
    /// and a malformed proof are refused, naming the first bad proof's address.
    #[test]
    fn bad_witnesses_are_refused() {
        let addresses: Vec<Address> = (0..8).map(spread).collect();
        let tree = setup(&addresses);
        let mut other = tree.clone();
        other.set(addresses[0], account(99)).unwrap();

        let witness = tree.witness(&addresses);
        let first = witness.proofs()[0].0;
        assert_eq!(
            PartialState::from_witness(other.root(), &witness).map(|_| ()),
            Err(StateError::InvalidProof { address: first, reason: "root mismatch" })
        );
        assert!(PartialState::from_witness(tree.root(), &witness).is_ok());

        // Proofs of one address, and of two addresses, from two states.
        for second in [addresses[0], addresses[2]] {
            let mixed = Witness::new(alloc::vec![
                (addresses[1], tree.prove(&addresses[1])),
                (second, other.prove(&second)),
            ]);
            assert_eq!(
                PartialState::from_witness(tree.root(), &mixed).map(|_| ()),
                Err(StateError::InvalidProof { address: second, reason: "root mismatch" })
            );
        }
        // A proof made for another address (here it does not share the path).
        let far = addresses
            .iter()
            .find(|a| Key::of(a).common_prefix(&Key::of(&addresses[3])) == 0)
            .unwrap();
        let wrong = Witness::new(alloc::vec![(addresses[3], tree.prove(far))]);
        assert!(matches!(
            PartialState::from_witness(tree.root(), &wrong),
            Err(StateError::InvalidProof { .. })
        ));
    }

    /// Proves proofs that disagree about a node they share are refused where they
    /// meet: at a node on both paths, at a shared sibling, and at the terminal.
    /// (Two proofs that each verify against one root cannot disagree without a
    /// hash collision, so this exercises the check with doctored node digests.)
    #[test]
    fn inconsistent_proofs_are_refused() {
        let a = address([4, 4, 4, 4, 4, 4, 4, 0x10]);
        let b = twin(&a, 0);
        let c = address([4, 4, 4, 4, 5, 5, 5, 5]);
        let tree = setup(&[a, b, c, spread(1), spread(2)]);
        let expanded = || {
            let mut node = Node::from_digest(tree.root());
            let proof = tree.prove(&a);
            expand(&mut node, &a, &proof, &proof.path_digests(&a).unwrap()).unwrap();
            node
        };
        let proof = tree.prove(&c);
        let digests = proof.path_digests(&c).unwrap();
        // Agreeing proofs meet without complaint.
        expand(&mut expanded(), &c, &proof, &digests).unwrap();
        let shared = Key::of(&a).common_prefix(&Key::of(&c));
        assert!(shared > 100 && shared < proof.depth());
        for level in [1, shared, proof.depth()] {
            let mut doctored = digests.clone();
            doctored[level].0[0] ^= 1;
            assert_eq!(
                expand(&mut expanded(), &c, &proof, &doctored),
                Err(StateError::InconsistentWitness(c)),
                "level {level}"
            );
        }
        // The same leaf claimed with another account.
        let mut other = tree.clone();
        other.set(b, account(77)).unwrap();
        let mut node = expanded();
        let proof = other.prove(&b);
        let mut digests = proof.path_digests(&b).unwrap();
        digests[..proof.depth()]
            .copy_from_slice(&tree.prove(&b).path_digests(&b).unwrap()[..proof.depth()]);
        assert_eq!(
            expand(&mut node, &b, &proof, &digests),
            Err(StateError::InconsistentWitness(b))
        );
    }

    /// Proves writes to addresses whose keys share long prefixes (differing only in
    /// the last element), including inserts that split an occupant's leaf deep
    /// down and updates that reuse each other's fresh digests, track the full tree.
    #[test]
    fn neighbouring_updates_share_nodes() {
        let base = address([7, 7, 7, 7, 7, 7, 7, 0x100]);
        let addresses = [base, twin(&base, 0), twin(&base, 2), spread(5), spread(6)];
        let mut tree = setup(&addresses);
        let newcomer = twin(&base, 1);
        let deeper = twin(&base, 0x10_0000);
        let mut touched = addresses.to_vec();
        touched.extend([newcomer, deeper]);
        let mut partial = PartialState::from_witness(tree.root(), &tree.witness(&touched)).unwrap();
        let writes = [
            (addresses[0], account(1)),
            (newcomer, account(5)),
            (deeper, account(6)),
            (addresses[2], account(7)),
            (addresses[0], account(2)),
            (addresses[3], account(3)),
        ];
        for (address, account) in writes {
            tree.set(address, account).unwrap();
            partial.set(address, account).unwrap();
            assert_eq!(partial.root(), tree.root());
            assert_eq!(partial.get(&address), Ok(account));
        }
    }

    /// Proves a former "path twin" (same first 64 key bits as a funded account)
    /// receives funds in the partial state as in the full tree: the proof of its
    /// absence ends at the other account's leaf, which the write splits.
    #[test]
    fn former_path_twin_receives_funds() {
        let occupant = address([0x0123_4567, 0x0abc_def0, 0x2000_0000, 1, 2, 3, 4, 5]);
        let squatted = address([0x0123_4567, 0x0abc_def0, 0x2000_0001, 9, 9, 9, 9, 9]);
        let mut tree = setup(&[occupant, spread(1), spread(2)]);
        let witness = tree.witness(&[squatted]);
        assert_eq!(witness.proofs()[0].1.occupant().map(|o| o.0), Some(occupant));
        let mut partial = PartialState::from_witness(tree.root(), &witness).unwrap();
        assert_eq!(partial.get(&squatted), Ok(Account::default()));
        assert_eq!(partial.get(&occupant), Ok(account(10)), "the terminal leaf is known");
        partial.set(squatted, account(1)).unwrap();
        tree.set(squatted, account(1)).unwrap();
        assert_eq!(partial.root(), tree.root());
        assert_eq!(partial.get(&squatted), Ok(account(1)));
        assert_eq!(partial.get(&occupant), Ok(account(10)));
    }

    /// Proves removal works where the remaining subtree is known (a witnessed leaf
    /// is lifted) and is refused, changing nothing, where the leaf's sibling is
    /// opaque.
    #[test]
    fn removal_needs_a_known_sibling() {
        let a = address([3, 3, 3, 3, 3, 3, 3, 0x10]);
        let b = twin(&a, 0);
        let addresses = [a, b, spread(1), spread(2), spread(3)];
        let mut tree = setup(&addresses);

        let mut partial = PartialState::from_witness(tree.root(), &tree.witness(&[a])).unwrap();
        let root = partial.root();
        assert_eq!(partial.set(a, Account::default()), Err(StateError::UnsupportedRemoval(a)));
        assert_eq!(partial.root(), root);
        assert_eq!(partial.get(&a), Ok(account(10)));

        let mut partial = PartialState::from_witness(tree.root(), &tree.witness(&[a, b])).unwrap();
        partial.set(a, Account::default()).unwrap();
        tree.set(a, Account::default()).unwrap();
        assert_eq!(partial.root(), tree.root(), "b's leaf lifted 248 levels");
        assert_eq!(partial.get(&a), Ok(Account::default()));
    }

    /// Proves the registry is readable only with a proof of its account (and its
    /// preimage), and that writing it through the state view tracks the full tree.
    #[test]
    fn the_registry_needs_its_proof() {
        let mut tree = setup(&[spread(1), spread(2)]);
        tree.set_registry(crate::staking::testing::busy_registry()).unwrap();
        let without = PartialState::from_witness(tree.root(), &tree.witness(&[spread(1)])).unwrap();
        assert!(matches!(without.registry(), Err(StateError::MissingWitness(_))));
        let witness = tree.witness(&[spread(1), REGISTRY]);
        let mut partial = PartialState::from_witness(tree.root(), &witness).unwrap();
        assert_eq!(partial.registry(), Ok(tree.registry()));
        let other = crate::staking::testing::tampered(tree.registry().unwrap());
        partial.write_registry(other.clone(), 77).unwrap();
        tree.write_registry(other, 77).unwrap();
        assert_eq!(partial.root(), tree.root());
        assert_eq!(partial.get(&REGISTRY).map(|a| a.balance), Ok(77));
        let forged = Account { balance: 1, ..partial.get(&REGISTRY).unwrap() };
        assert!(matches!(
            partial.set(REGISTRY, Account { staking: Hash::ZERO, ..forged }),
            Err(StateError::RegistryMismatch(_))
        ));
        partial.set(REGISTRY, forged).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Proves a partial state built from a witness tracks the full tree exactly
        /// through any sequence of writes to witnessed addresses: same results,
        /// same root after every write. Witnessed addresses include absent ones,
        /// some sharing all but the last element with an existing account, so
        /// writes split occupant leaves deep in the tree.
        #[test]
        fn partial_state_tracks_full_tree(
            initial in prop::collection::btree_set(address_strategy(), 0..30),
            extra in prop::collection::vec((address_strategy(), any::<bool>(), any::<u32>()), 0..10),
            writes in prop::collection::vec((any::<prop::sample::Index>(), 0u64..5), 1..30),
        ) {
            let existing: Vec<Address> = initial.iter().copied().collect();
            let mut tree = setup(&existing);
            let mut touched = existing.clone();
            for (i, (a, near, salt)) in extra.iter().enumerate() {
                if *near && !existing.is_empty() {
                    touched.push(twin(&existing[i % existing.len()], *salt));
                } else {
                    touched.push(*a);
                }
            }
            prop_assume!(!touched.is_empty());
            let mut partial =
                PartialState::from_witness(tree.root(), &tree.witness(&touched)).unwrap();
            prop_assert_eq!(partial.root(), tree.root());
            for (index, balance) in writes {
                let address = touched[index.index(touched.len())];
                let value = account(balance);
                let result = partial.set(address, value);
                if result == Err(StateError::UnsupportedRemoval(address)) {
                    prop_assert!(value.is_empty());
                } else {
                    prop_assert_eq!(result, tree.set(address, value));
                }
                prop_assert_eq!(partial.root(), tree.root());
                for a in &touched {
                    prop_assert_eq!(partial.get(a), Ok(tree.get(a)));
                }
            }
        }
    }
}
