//! Merkle proofs of one account (or of its absence) against a state root.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::hash::is_canonical;
use crate::types::{Address, Hash};

use super::StateError;
use super::account::{Account, check_canonical, leaf_digest};
use super::node::{EMPTY, KEY_BITS, Key, parent_digest};

/// Proof that an address holds a given account, or none, under a state root.
///
/// The path of the address's [`Key`] runs from the root down to the first subtree
/// that holds at most one account, at some depth `d` (about `log2(accounts)`; at
/// most [`KEY_BITS`]). The proof carries the digests of the `d` siblings of that
/// path and what the subtree at depth `d` holds, its *terminal*:
///
/// - nothing: the address is absent;
/// - one account, the *occupant*: the address's own (present), or another
///   address's whose key shares the first `d` bits (the address is absent: had it
///   an account, the subtree would hold two and be split further).
///
/// Verifying hashes the terminal (its [`leaf_digest`], or [`EMPTY`]) up to the root
/// with the siblings. Siblings that are empty subtrees are common near the bottom
/// of a path (where two keys share a long prefix) and have a known digest, so a
/// bitmap says which siblings are not empty and only those are listed.
///
/// There is one proof per address and root, with one encoding: the decoder and
/// [`MerkleProof::verify`] refuse a proof whose deepest sibling is empty (the
/// terminal would then have been lifted one level up), and any other difference
/// changes the root computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof {
    /// `d`: the depth of the terminal.
    depth: u8,
    /// Bit `k - 1` is set when the sibling at depth `k` is not an empty subtree.
    non_empty: [u64; 4],
    /// The non-empty siblings, root first (shallowest first).
    siblings: Vec<Hash>,
    /// The account in the terminal subtree, if any (possibly another address's).
    occupant: Option<(Address, Account)>,
}

/// Terminal tags in the encoding.
const NO_OCCUPANT: u8 = 0;
const OCCUPANT: u8 = 1;

/// Bytes of the sibling bitmap for a path of `depth` levels.
const fn bitmap_bytes(depth: usize) -> usize {
    depth.div_ceil(8)
}

impl MerkleProof {
    /// Largest possible encoding: depth, full bitmap, [`KEY_BITS`] siblings, tag,
    /// address and account. A path that deep needs someone to have funded
    /// [`KEY_BITS`] addresses crafted to share ever longer prefixes; typical
    /// proofs list about `log2(accounts)` siblings (some 700 bytes for a million
    /// accounts).
    pub const MAX_ENCODED_LEN: usize =
        1 + bitmap_bytes(KEY_BITS) + KEY_BITS * 32 + 1 + 32 + Account::ENCODED_LEN;

    /// Smallest possible encoding: depth 0 and an empty terminal (the empty state).
    pub const MIN_ENCODED_LEN: usize = 1 + 1;

    /// Builds a proof from every sibling digest, root first (index `k - 1` for
    /// depth `k`), and the terminal's occupant. Empty siblings are left out of the
    /// stored list.
    pub(super) fn new(siblings_by_depth: &[Hash], occupant: Option<(Address, Account)>) -> Self {
        debug_assert!(siblings_by_depth.len() <= KEY_BITS);
        let mut non_empty = [0u64; 4];
        let mut siblings = Vec::new();
        for (index, digest) in siblings_by_depth.iter().enumerate() {
            if *digest != EMPTY {
                non_empty[index / 64] |= 1 << (index % 64);
                siblings.push(*digest);
            }
        }
        Self { depth: siblings_by_depth.len() as u8, non_empty, siblings, occupant }
    }

    /// The depth of the terminal: how many siblings the path has.
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }

    /// The account in the terminal subtree, if any (possibly another address's).
    pub fn occupant(&self) -> Option<&(Address, Account)> {
        self.occupant.as_ref()
    }

    /// Whether the sibling at `depth` (1 to [`Self::depth`]) is listed.
    fn listed(&self, depth: usize) -> bool {
        let index = depth - 1;
        self.non_empty[index / 64] >> (index % 64) & 1 == 1
    }

    /// Every sibling digest with its depth, root first, empty subtrees included.
    pub fn siblings(&self) -> impl Iterator<Item = (usize, Hash)> + '_ {
        let mut listed = self.siblings.iter();
        (1..=self.depth()).map(move |depth| {
            let digest =
                if self.listed(depth) { listed.next().copied().unwrap_or(EMPTY) } else { EMPTY };
            (depth, digest)
        })
    }

    /// Checks the proof against `root` and returns the account of `address`: the
    /// proven one, or the empty account when the proof shows the address absent.
    pub fn verify(&self, root: &Hash, address: &Address) -> Result<Account, StateError> {
        if self.path_digests(address)?[0] != *root {
            return Err(StateError::InvalidProof { address: *address, reason: "root mismatch" });
        }
        Ok(self.account_of(address))
    }

    /// The account the terminal gives `address`: the occupant's if it is
    /// `address`, the empty one otherwise.
    pub(super) fn account_of(&self, address: &Address) -> Account {
        match &self.occupant {
            Some((occupant, account)) if occupant == address => *account,
            _ => Account::default(),
        }
    }

    /// The digest of every node on `address`'s path that this proof implies, from
    /// the root (index 0) down to the terminal (index [`Self::depth`]), after
    /// checking the proof is well formed: the occupant, if any, shares the first
    /// `d` key bits with `address` and is stored in canonical form, and the
    /// deepest sibling is not empty. Does not look at any root.
    pub(super) fn path_digests(&self, address: &Address) -> Result<Vec<Hash>, StateError> {
        let invalid = |reason| StateError::InvalidProof { address: *address, reason };
        let depth = self.depth();
        if depth > KEY_BITS {
            return Err(invalid("the path is longer than a key"));
        }
        let listed: u32 = self.non_empty.iter().map(|word| word.count_ones()).sum();
        if listed as usize != self.siblings.len() || (depth..KEY_BITS).any(|i| self.listed(i + 1)) {
            return Err(invalid("the sibling list does not match its bitmap"));
        }
        if depth > 0 && !self.listed(depth) {
            return Err(invalid("the deepest sibling is empty, so the terminal is too deep"));
        }
        let key = Key::of(address);
        let terminal = match &self.occupant {
            None => EMPTY,
            Some((occupant, account)) => {
                if account.is_empty() {
                    return Err(invalid("an empty account is stored as no occupant"));
                }
                check_canonical(occupant, account).map_err(|_| invalid("non-canonical leaf"))?;
                if Key::of(occupant).common_prefix(&key) < depth {
                    return Err(invalid("the occupant is not on the address's path"));
                }
                leaf_digest(occupant, account)
            }
        };
        let mut digests = alloc::vec![terminal; depth + 1];
        for (level, sibling) in self.siblings().collect::<Vec<_>>().into_iter().rev() {
            // `level` is the sibling's depth; its parent, on the path, is one up.
            digests[level - 1] = parent_digest(key.bit(level - 1), &digests[level], &sibling);
        }
        Ok(digests)
    }
}

impl Encode for MerkleProof {
    /// Depth `d` (one byte), the bitmap of non-empty siblings in `ceil(d / 8)`
    /// bytes (bit `j` of byte `i` for depth `8i + j + 1`), the listed siblings root
    /// first, then the terminal: tag 0, or tag 1 with the occupant's address and
    /// account.
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.depth);
        for i in 0..bitmap_bytes(self.depth()) {
            out.push((self.non_empty[i / 8] >> (8 * (i % 8))) as u8);
        }
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
    /// Accepts only the one canonical encoding of a well-formed proof: a depth of
    /// at most [`KEY_BITS`], no bitmap bit past it, the deepest sibling listed, as
    /// many siblings as the bitmap has bits and none of them [`EMPTY`] or
    /// non-canonical, and an occupant only with a canonical address and a
    /// non-empty account.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let invalid = |reason| DecodeError::InvalidValue { field: "merkle proof", reason };
        let depth = reader.u8()?;
        let levels = usize::from(depth);
        if levels > KEY_BITS {
            return Err(invalid("the path is longer than a key"));
        }
        let mut non_empty = [0u64; 4];
        for (i, byte) in reader.take(bitmap_bytes(levels))?.iter().enumerate() {
            non_empty[i / 8] |= u64::from(*byte) << (8 * (i % 8));
        }
        let bitmap = Self { depth, non_empty, siblings: Vec::new(), occupant: None };
        if (levels..8 * bitmap_bytes(levels)).any(|i| bitmap.listed(i + 1)) {
            return Err(invalid("a bitmap bit past the path's depth is set"));
        }
        if levels > 0 && !bitmap.listed(levels) {
            return Err(invalid("the deepest sibling is empty, so the terminal is too deep"));
        }
        let count = non_empty.iter().map(|word| word.count_ones() as usize).sum::<usize>();
        if count * 32 > reader.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: count * 32,
                remaining: reader.remaining(),
            });
        }
        let mut siblings = Vec::with_capacity(count);
        for _ in 0..count {
            let digest = Hash::decode_from(reader)?;
            if digest == EMPTY || !is_canonical(&digest) {
                return Err(invalid("a listed sibling is the empty digest, or not canonical"));
            }
            siblings.push(digest);
        }
        let occupant = match reader.u8()? {
            NO_OCCUPANT => None,
            OCCUPANT => {
                let address = Address::decode_from(reader)?;
                let account = Account::decode_from(reader)?;
                if account.is_empty() || !is_canonical(&address.as_hash()) {
                    return Err(invalid("an empty occupant account, or a non-canonical address"));
                }
                Some((address, account))
            }
            tag => {
                return Err(DecodeError::UnknownTag { field: "merkle proof terminal", tag });
            }
        };
        Ok(Self { depth, non_empty, siblings, occupant })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::state::StateTree;
    use crate::state::tree::tests::{account, address, address_strategy, spread};

    /// A tree of `n` accounts at spread-out addresses, and those addresses.
    fn tree(n: u64) -> (StateTree, Vec<Address>) {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> = (0..n).map(spread).collect();
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

    /// Proves the two kinds of absence verify as the empty account: a path ending
    /// in an empty subtree, and one ending at another address's leaf that shares
    /// the path so far (here a former "path twin": same first 64 key bits).
    #[test]
    fn absent_account_verifies() {
        let (mut tree, addresses) = tree(100);
        let nobody = (100..).map(spread).find(|a| tree.prove(a).occupant().is_none()).unwrap();
        let proof = tree.prove(&nobody);
        assert!(proof.depth() > 0);
        assert_eq!(proof.verify(&tree.root(), &nobody), Ok(Account::default()));

        let occupant = address([0x1234_5678, 0x2345_6789, 7, 7, 7, 7, 7, 1]);
        let twin = address([0x1234_5678, 0x2345_6789, 7, 7, 7, 7, 7, 2]);
        tree.set(occupant, account(9)).unwrap();
        let proof = tree.prove(&twin);
        assert_eq!(proof.occupant(), Some(&(occupant, account(9))));
        assert_eq!(proof.verify(&tree.root(), &twin), Ok(Account::default()));
        assert_eq!(tree.prove(&addresses[0]).verify(&tree.root(), &addresses[0]), Ok(account(1)));

        // The empty state and a state of one account: proofs of depth 0.
        let mut small = StateTree::new();
        let proof = small.prove(&twin);
        assert_eq!((proof.depth(), proof.occupant()), (0, None));
        assert_eq!(proof.verify(&EMPTY, &twin), Ok(Account::default()));
        small.set(occupant, account(9)).unwrap();
        for a in [occupant, twin] {
            let proof = small.prove(&a);
            assert_eq!(proof.depth(), 0);
            assert_eq!(proof.verify(&small.root(), &a), Ok(small.get(&a)));
        }
    }

    /// Proves a proof fails against another root, with a changed sibling, with a
    /// changed account, without its occupant, and with an occupant that does not
    /// share the path.
    #[test]
    fn tampering_is_detected() {
        let (tree, addresses) = tree(50);
        let a = addresses[7];
        let proof = tree.prove(&a);
        let root = tree.root();
        let mismatch = Err(StateError::InvalidProof { address: a, reason: "root mismatch" });
        assert!(proof.depth() > 1);

        assert_eq!(proof.verify(&EMPTY, &a), mismatch);

        let mut bad = proof.clone();
        bad.siblings[0].0[0] ^= 1;
        assert_eq!(bad.verify(&root, &a), mismatch);

        let mut bad = proof.clone();
        let last = bad.siblings.len() - 1;
        bad.siblings[last].0[5] ^= 1;
        assert_eq!(bad.verify(&root, &a), mismatch);

        let mut bad = proof.clone();
        bad.occupant = Some((a, Account { balance: 1_000_000, ..account(8) }));
        assert_eq!(bad.verify(&root, &a), mismatch);

        let mut bad = proof.clone();
        bad.occupant = None;
        assert_eq!(bad.verify(&root, &a), mismatch);

        // Another account that really is in the tree, but elsewhere.
        let other = addresses.iter().find(|o| Key::of(o).common_prefix(&Key::of(&a)) == 0);
        let mut bad = proof.clone();
        bad.occupant = Some((*other.unwrap(), account(1)));
        assert_eq!(
            bad.verify(&root, &a),
            Err(StateError::InvalidProof {
                address: a,
                reason: "the occupant is not on the address's path"
            })
        );

        // A path cut short or made longer.
        let mut bad = proof.clone();
        bad.depth -= 1;
        assert!(bad.verify(&root, &a).is_err());
        let mut bad = proof;
        bad.depth += 1;
        assert!(bad.verify(&root, &a).is_err());
    }

    /// Proves the compressed encoding round-trips and is short.
    #[test]
    fn encoding_round_trips_compactly() {
        let (tree, addresses) = tree(1000);
        let proof = tree.prove(&addresses[3]);
        let bytes = proof.to_bytes();
        assert_eq!(decode(&bytes), Ok(proof.clone()));
        // About log2(1000) ≈ 10 levels, not 248.
        assert!(proof.depth() < 25, "depth {}", proof.depth());
        assert!(bytes.len() < 25 * 32 + 100, "{} bytes", bytes.len());
        assert_eq!(proof.siblings().count(), proof.depth());

        let absent = tree.prove(&spread(5000));
        assert_eq!(decode(&absent.to_bytes()), Ok(absent));
        let empty = StateTree::new().prove(&spread(1));
        assert_eq!(empty.to_bytes(), [0, NO_OCCUPANT]);
        assert_eq!(empty.to_bytes().len(), MerkleProof::MIN_ENCODED_LEN);
        assert_eq!(decode(&empty.to_bytes()), Ok(empty));
    }

    /// Proves the decoder accepts only the canonical encoding of a well-formed
    /// proof.
    #[test]
    fn decoder_refuses_non_canonical_proofs() {
        let (tree, addresses) = tree(10);
        let proof = tree.prove(&addresses[0]);
        let good = proof.to_bytes();
        let invalid = |bytes: &[u8]| matches!(decode(bytes), Err(DecodeError::InvalidValue { .. }));

        // An empty digest listed as if it were not empty (every sibling but the
        // last is empty on the path of two accounts whose keys part at the end).
        let mut deep = StateTree::new();
        deep.set(address([9, 9, 9, 9, 9, 9, 9, 0x10]), account(1)).unwrap();
        deep.set(address([9, 9, 9, 9, 9, 9, 9, 0x11]), account(2)).unwrap();
        let deep_proof = deep.prove(&address([9, 9, 9, 9, 9, 9, 9, 0x10]));
        assert_eq!(decode(&deep_proof.to_bytes()), Ok(deep_proof.clone()));
        let mut listed_empty = deep_proof;
        listed_empty.non_empty[0] |= 1;
        listed_empty.siblings.insert(0, EMPTY);
        assert!(invalid(&listed_empty.to_bytes()));

        // A sibling with a limb ≥ p.
        let mut non_canonical = proof.clone();
        non_canonical.siblings[0] = Hash([0xff; 32]);
        assert!(invalid(&non_canonical.to_bytes()));

        // The deepest sibling empty: the terminal should have been lifted.
        let mut too_deep = proof.clone();
        too_deep.depth += 1;
        assert!(invalid(&too_deep.to_bytes()));

        // A bitmap bit past the depth.
        let mut bytes = good.clone();
        let last_map_byte = bitmap_bytes(proof.depth());
        if proof.depth() % 8 != 0 {
            bytes[last_map_byte] |= 0x80;
            assert!(invalid(&bytes));
        }

        // A depth past the key.
        let mut bytes = good.clone();
        bytes[0] = KEY_BITS as u8 + 1;
        assert!(invalid(&bytes));

        // An occupant holding the empty account, or at a non-canonical address.
        let empty =
            MerkleProof { occupant: Some((addresses[0], Account::default())), ..proof.clone() };
        assert!(invalid(&empty.to_bytes()));
        let bad_address =
            MerkleProof { occupant: Some((Address([0xff; 32]), account(1))), ..proof };
        assert!(invalid(&bad_address.to_bytes()));

        // An unknown terminal tag, and truncation anywhere.
        let mut bad_tag = good.clone();
        let tag_at = good.len() - 1 - 32 - Account::ENCODED_LEN;
        bad_tag[tag_at] = 2;
        assert!(matches!(decode(&bad_tag), Err(DecodeError::UnknownTag { .. })));
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
    }

    /// Proves the deepest possible proof (two accounts differing only in the last
    /// key bit) verifies and encodes within the documented maximum.
    #[test]
    fn deepest_proof_fits() {
        let a = address([9, 9, 9, 9, 9, 9, 9, 0x10]);
        let b = address([9, 9, 9, 9, 9, 9, 9, 0x11]);
        let mut tree = StateTree::new();
        tree.set(a, account(1)).unwrap();
        tree.set(b, account(2)).unwrap();
        let proof = tree.prove(&a);
        assert_eq!(proof.depth(), KEY_BITS);
        assert_eq!(proof.verify(&tree.root(), &a), Ok(account(1)));
        assert_eq!(decode(&proof.to_bytes()), Ok(proof.clone()));
        assert!(proof.to_bytes().len() <= MerkleProof::MAX_ENCODED_LEN);
        let full = MerkleProof::new(&[Hash([1; 32]); KEY_BITS], Some((a, account(1))));
        assert_eq!(full.to_bytes().len(), MerkleProof::MAX_ENCODED_LEN);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Proves proofs of members and of random non-members verify in random
        /// trees, including addresses sharing long key prefixes.
        #[test]
        fn proofs_verify_in_random_trees(
            members in prop::collection::btree_set(address_strategy(), 1..40),
            probes in prop::collection::vec(address_strategy(), 1..10),
        ) {
            let mut tree = StateTree::new();
            for (i, a) in members.iter().enumerate() {
                tree.set(*a, account(i as u64 + 1)).unwrap();
            }
            for a in members.iter().chain(&probes) {
                let proof = tree.prove(a);
                prop_assert_eq!(proof.verify(&tree.root(), a), Ok(tree.get(a)));
                prop_assert_eq!(decode(&proof.to_bytes()), Ok(proof));
            }
        }
    }
}
