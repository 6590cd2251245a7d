//! Merkle proofs of one account (or of its absence) against a state root.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::hash::is_canonical;
use crate::types::{Address, Hash};

use super::StateError;
use super::account::{Account, check_canonical, leaf_digest};
use super::node::{EMPTY_LEAF, EMPTY_SUBTREES, NodeId, TREE_DEPTH, parent_digest, path_of};

/// Proof that an address holds a given account, or none, under a state root.
///
/// It carries the leaf's occupant and the 64 sibling digests on the path, compressed:
/// most siblings deep in a sparse tree are empty subtrees, whose digests everyone
/// knows, so a bitmap says which siblings are not empty and only those are listed
/// (about `log2(accounts)` of them, some 600 bytes for a million accounts instead of
/// 2 KiB).
///
/// The occupant is the account stored on the address's path: `None` when the path
/// is empty, the queried address itself, or a *different* address with the same
/// 64-bit path. The last case proves the queried address absent just as well, and
/// tells a writer that storing it would be a path collision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof {
    /// Bit `d - 1` is set when the sibling at depth `d` is not an empty subtree.
    non_empty: u64,
    /// The non-empty siblings, deepest first.
    siblings: Vec<Hash>,
    occupant: Option<(Address, Account)>,
}

/// Occupant tags in the encoding.
const NO_OCCUPANT: u8 = 0;
const OCCUPANT: u8 = 1;

impl MerkleProof {
    /// Largest possible encoding: bitmap, 64 siblings, tag, address and account.
    pub const MAX_ENCODED_LEN: usize = 8 + TREE_DEPTH * 32 + 1 + 32 + Account::ENCODED_LEN;

    /// Smallest possible encoding: bitmap and an empty tag.
    pub const MIN_ENCODED_LEN: usize = 8 + 1;

    /// Builds a proof from the sibling digests, indexed by depth - 1, and the
    /// occupant. Empty siblings are left out of the stored list.
    pub(super) fn new(
        siblings_by_depth: &[Hash; TREE_DEPTH],
        occupant: Option<(Address, Account)>,
    ) -> Self {
        let mut non_empty = 0u64;
        let mut siblings = Vec::new();
        for depth in (1..=TREE_DEPTH).rev() {
            let digest = siblings_by_depth[depth - 1];
            if digest != EMPTY_SUBTREES[depth] {
                non_empty |= 1 << (depth - 1);
                siblings.push(digest);
            }
        }
        Self { non_empty, siblings, occupant }
    }

    /// The account stored on the proven path, if any (possibly another address's).
    pub fn occupant(&self) -> Option<&(Address, Account)> {
        self.occupant.as_ref()
    }

    /// Every sibling digest with its depth, deepest first, empty subtrees included.
    pub fn siblings(&self) -> impl Iterator<Item = (usize, Hash)> + '_ {
        let mut listed = self.siblings.iter();
        (1..=TREE_DEPTH).rev().map(move |depth| {
            let digest = if self.non_empty >> (depth - 1) & 1 == 1 {
                listed.next().copied().unwrap_or(EMPTY_SUBTREES[depth])
            } else {
                EMPTY_SUBTREES[depth]
            };
            (depth, digest)
        })
    }

    /// Checks the proof against `root` and returns the account of `address`: the
    /// proven one, or the empty account when the proof shows the address absent.
    pub fn verify(&self, root: &Hash, address: &Address) -> Result<Account, StateError> {
        let path = path_of(address);
        let leaf = self.leaf(address, path)?;
        let computed = self.fold_path(path, leaf, |_, _| Ok(()))?;
        if computed != *root {
            return Err(StateError::InvalidProof { address: *address, reason: "root mismatch" });
        }
        Ok(self.account_of(address))
    }

    /// The account the occupant gives `address`: its own, or empty.
    fn account_of(&self, address: &Address) -> Account {
        match &self.occupant {
            Some((occupant, account)) if occupant == address => *account,
            _ => Account::default(),
        }
    }

    /// The leaf digest at `path`, after checking the occupant belongs there and is
    /// stored in canonical form.
    pub(super) fn leaf(&self, address: &Address, path: u64) -> Result<Hash, StateError> {
        let invalid = |reason| StateError::InvalidProof { address: *address, reason };
        match &self.occupant {
            None => Ok(EMPTY_LEAF),
            Some((occupant, account)) => {
                if path_of(occupant) != path {
                    return Err(invalid("the occupant is on another path"));
                }
                if account.is_empty() {
                    return Err(invalid("an empty account is stored as no occupant"));
                }
                check_canonical(occupant, account).map_err(|_| invalid("non-canonical leaf"))?;
                Ok(leaf_digest(occupant, account))
            }
        }
    }

    /// Hashes `leaf` up to the root along `path`, calling `visit` with every node
    /// digest on the path (leaf to root) and every sibling digest, and returns the
    /// root.
    pub(super) fn fold_path(
        &self,
        path: u64,
        leaf: Hash,
        mut visit: impl FnMut(NodeId, Hash) -> Result<(), StateError>,
    ) -> Result<Hash, StateError> {
        let mut digest = leaf;
        for (depth, sibling_digest) in self.siblings() {
            let node = NodeId::on_path(path, depth);
            visit(node, digest)?;
            visit(node.sibling(), sibling_digest)?;
            digest = parent_digest(node, &digest, &sibling_digest);
        }
        visit(NodeId::ROOT, digest)?;
        Ok(digest)
    }
}

impl Encode for MerkleProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.non_empty.encode_to(out);
        for sibling in &self.siblings {
            sibling.encode_to(out);
        }
        match &self.occupant {
            None => out.push(NO_OCCUPANT),
            Some((address, account)) => {
                out.push(OCCUPANT);
                address.encode_to(out);
                account.encode_to(out);
            }
        }
    }
}

impl Decode for MerkleProof {
    /// Accepts only the one canonical encoding of a proof: as many siblings as the
    /// bitmap has bits, none of them an empty-subtree digest or non-canonical, and
    /// an occupant only when its account is not empty.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let non_empty = reader.u64()?;
        let count = non_empty.count_ones() as usize;
        if count * 32 > reader.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: count * 32,
                remaining: reader.remaining(),
            });
        }
        let mut siblings = Vec::with_capacity(count);
        for depth in (1..=TREE_DEPTH).rev() {
            if non_empty >> (depth - 1) & 1 == 0 {
                continue;
            }
            let digest = Hash::decode_from(reader)?;
            if digest == EMPTY_SUBTREES[depth] || !is_canonical(&digest) {
                return Err(DecodeError::InvalidValue {
                    field: "merkle proof sibling",
                    reason: "an empty-subtree digest listed, or a non-canonical digest",
                });
            }
            siblings.push(digest);
        }
        let occupant = match reader.u8()? {
            NO_OCCUPANT => None,
            OCCUPANT => {
                let address = Address::decode_from(reader)?;
                let account = Account::decode_from(reader)?;
                if account.is_empty() || !is_canonical(&address.as_hash()) {
                    return Err(DecodeError::InvalidValue {
                        field: "merkle proof occupant",
                        reason: "empty account, or non-canonical address",
                    });
                }
                Some((address, account))
            }
            tag => {
                return Err(DecodeError::UnknownTag { field: "merkle proof occupant", tag });
            }
        };
        Ok(Self { non_empty, siblings, occupant })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::state::StateTree;
    use crate::state::tree::tests::{MAX_PATH, account, address_on_path};

    /// A tree of `n` accounts at spread-out paths, and their addresses.
    fn tree(n: u64) -> (StateTree, Vec<Address>) {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> = (0..n)
            .map(|i| address_on_path(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % MAX_PATH, 0))
            .collect();
        for (i, a) in addresses.iter().enumerate() {
            tree.set(*a, account(i as u64 + 1)).unwrap();
        }
        (tree, addresses)
    }

    fn decode(bytes: &[u8]) -> Result<MerkleProof, DecodeError> {
        let mut reader = Reader::new(bytes);
        let proof = MerkleProof::decode_from(&mut reader)?;
        reader.finish()?;
        Ok(proof)
    }

    /// Proves a present account's proof verifies and yields the account.
    #[test]
    fn present_account_verifies() {
        let (tree, addresses) = tree(100);
        for (i, a) in addresses.iter().enumerate() {
            let proof = tree.prove(a);
            assert_eq!(proof.verify(&tree.root(), a), Ok(account(i as u64 + 1)));
            assert_eq!(proof.occupant(), Some(&(*a, account(i as u64 + 1))));
        }
    }

    /// Proves absence on an empty path, and absence shown by another address on the
    /// same path, both verify as the empty account.
    #[test]
    fn absent_account_verifies() {
        let (mut tree, addresses) = tree(100);
        let nobody = address_on_path(0x5555_5555_5555_5555, 0);
        let proof = tree.prove(&nobody);
        assert_eq!(proof.occupant(), None);
        assert_eq!(proof.verify(&tree.root(), &nobody), Ok(Account::default()));

        let occupant = address_on_path(0x1234_5678_9abc_def0, 1);
        let squatter = address_on_path(0x1234_5678_9abc_def0, 2);
        tree.set(occupant, account(9)).unwrap();
        let proof = tree.prove(&squatter);
        assert_eq!(proof.occupant(), Some(&(occupant, account(9))));
        assert_eq!(proof.verify(&tree.root(), &squatter), Ok(Account::default()));
        assert_eq!(tree.prove(&addresses[0]).verify(&tree.root(), &addresses[0]), Ok(account(1)));
    }

    /// Proves a proof fails against another root, with a changed sibling, with a
    /// changed account and with an occupant moved to another path.
    #[test]
    fn tampering_is_detected() {
        let (tree, addresses) = tree(50);
        let a = addresses[7];
        let proof = tree.prove(&a);
        let root = tree.root();
        let mismatch = Err(StateError::InvalidProof { address: a, reason: "root mismatch" });

        assert_eq!(proof.verify(&EMPTY_SUBTREES[0], &a), mismatch);

        let mut bad = proof.clone();
        bad.siblings[0].0[0] ^= 1;
        assert_eq!(bad.verify(&root, &a), mismatch);

        let mut bad = proof.clone();
        bad.non_empty ^= 1 << 63;
        assert!(bad.verify(&root, &a).is_err());

        let mut bad = proof.clone();
        bad.occupant = Some((a, Account { balance: 1_000_000, ..account(8) }));
        assert_eq!(bad.verify(&root, &a), mismatch);

        let mut bad = proof.clone();
        bad.occupant = None;
        assert_eq!(bad.verify(&root, &a), mismatch);

        let other = addresses[8];
        let mut bad = proof;
        bad.occupant = Some((other, account(9)));
        assert!(matches!(bad.verify(&root, &a), Err(StateError::InvalidProof { .. })));
    }

    /// Proves the compressed encoding round-trips and lists only non-empty siblings.
    #[test]
    fn encoding_round_trips_compactly() {
        let (tree, addresses) = tree(1000);
        let proof = tree.prove(&addresses[3]);
        let bytes = proof.to_bytes();
        assert_eq!(decode(&bytes), Ok(proof.clone()));
        // About log2(1000) ≈ 10 non-empty siblings, not 64.
        assert!(proof.siblings.len() < 20, "{} siblings", proof.siblings.len());
        assert!(bytes.len() < 20 * 32 + 100, "{} bytes", bytes.len());
        assert_eq!(proof.siblings().count(), TREE_DEPTH);

        let absent = tree.prove(&address_on_path(77, 0));
        assert_eq!(decode(&absent.to_bytes()), Ok(absent));
    }

    /// Proves the decoder accepts only the canonical encoding.
    #[test]
    fn decoder_refuses_non_canonical_proofs() {
        let (tree, addresses) = tree(10);
        let proof = tree.prove(&addresses[0]);
        let good = proof.to_bytes();

        // An empty-subtree digest listed as if it were not empty (depth 64).
        let mut listed_empty =
            MerkleProof { non_empty: proof.non_empty | 1 << 63, ..proof.clone() };
        listed_empty.siblings.insert(0, EMPTY_SUBTREES[TREE_DEPTH]);
        assert!(matches!(decode(&listed_empty.to_bytes()), Err(DecodeError::InvalidValue { .. })));

        // A sibling with a limb ≥ p.
        let mut non_canonical = proof.clone();
        non_canonical.siblings[0] = Hash([0xff; 32]);
        assert!(matches!(decode(&non_canonical.to_bytes()), Err(DecodeError::InvalidValue { .. })));

        // An occupant holding the empty account.
        let empty = MerkleProof { occupant: Some((addresses[0], Account::default())), ..proof };
        assert!(matches!(decode(&empty.to_bytes()), Err(DecodeError::InvalidValue { .. })));

        // An unknown occupant tag, and truncation anywhere.
        let mut bad_tag = good.clone();
        let tag_at = good.len() - 1 - 32 - Account::ENCODED_LEN;
        bad_tag[tag_at] = 2;
        assert!(matches!(decode(&bad_tag), Err(DecodeError::UnknownTag { .. })));
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Proves proofs of members and of random non-members verify in random trees.
        #[test]
        fn proofs_verify_in_random_trees(
            members in prop::collection::btree_set(0..=MAX_PATH, 1..40),
            probes in prop::collection::vec(0..=MAX_PATH, 1..10),
        ) {
            let mut tree = StateTree::new();
            for path in &members {
                tree.set(address_on_path(*path, 0), account(*path % 1000 + 1)).unwrap();
            }
            for path in members.iter().chain(&probes) {
                let a = address_on_path(*path, 0);
                let proof = tree.prove(&a);
                prop_assert_eq!(proof.verify(&tree.root(), &a), Ok(tree.get(&a)));
                prop_assert_eq!(decode(&proof.to_bytes()), Ok(proof));
            }
        }
    }
}
