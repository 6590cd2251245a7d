//! Poseidon2 over Mersenne-31: every digest Starling computes.
//!
//! One permutation ([`poseidon2::permute`], width 16) serves three uses:
//!
//! - [`hash_bytes`] and [`hash_elements`]: a sponge with rate 8 and capacity 8
//!   (about 124 bits of collision resistance from the 248-bit capacity), for
//!   addresses, transactions, headers and tree leaves.
//! - [`compress`]: a 2-to-1 compression for Merkle tree nodes.
//! - [`Domain`]: every sponge digest is tagged with what it is a digest of, so a
//!   transaction hash can never equal a header hash or a leaf of the state tree
//!   even if their encodings coincide.
//!
//! Chosen because stwo proves over Mersenne-31: the block proofs recompute every
//! Merkle path with this exact function at a few hundred constraints per hash.
//!
//! A [`Hash`](struct@Hash) holds eight field elements, each as four little-endian bytes.

pub mod constants;
#[cfg(test)]
mod grain;
pub mod m31;
pub mod poseidon2;

pub use m31::M31;
pub use poseidon2::permute;

use constants::WIDTH;

use crate::types::Hash;

/// Field elements absorbed per permutation.
pub const RATE: usize = 8;

/// Field elements in a digest.
pub const DIGEST_ELEMENTS: usize = 8;

/// What a digest is a digest of. Each variant's tag is written into the sponge's
/// capacity before anything is absorbed, so digests of different domains are
/// independent functions of their input.
///
/// The tag numbers are part of the protocol: changing one changes every digest of
/// that domain. A new variant takes a new number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// An account address, from a public key.
    Address,
    /// A transaction body.
    Transaction,
    /// A block header.
    Header,
    /// The transaction Merkle root of a block.
    TxRoot,
    /// A leaf of the state tree holding an account.
    Leaf,
    /// The leaf of the state tree where no account is.
    EmptyLeaf,
    /// Deriving a secret key from host entropy.
    KeyDerivation,
    /// A whole signed transaction (body and signature): the leaves of a block's
    /// transaction root, so a block hash commits to its signatures too.
    SignedTransaction,
    /// A consensus vote (prevote or precommit), which validators sign.
    Vote,
    /// A consensus proposal, which the round's proposer signs.
    Proposal,
    /// A validator set, committed to by hash.
    ValidatorSet,
    /// The staking registry, committed to by its account's `staking` field.
    Staking,
    /// A commit certificate, committed to by the header of the block carrying it.
    CommitCertificate,
    /// A block proof's bytes, named by hash when a node announces it settled.
    BlockProof,
}

impl Domain {
    /// The field element that separates this domain.
    pub const fn tag(self) -> M31 {
        M31::new(match self {
            Self::Address => 1,
            Self::Transaction => 2,
            Self::Header => 3,
            Self::TxRoot => 4,
            Self::Leaf => 5,
            Self::EmptyLeaf => 6,
            Self::KeyDerivation => 7,
            Self::SignedTransaction => 8,
            Self::Vote => 9,
            Self::Proposal => 10,
            Self::ValidatorSet => 11,
            Self::Staking => 12,
            Self::CommitCertificate => 13,
            Self::BlockProof => 14,
        })
    }
}

/// What kind of input a sponge absorbs, written into the capacity next to the
/// domain tag. Bytes are packed into elements, so without this a byte string and
/// an element list could absorb the same elements.
#[derive(Clone, Copy)]
enum InputKind {
    Bytes = 1,
    Elements = 2,
}

/// Bytes packed into one field element: 24 bits, always below p.
const BYTES_PER_ELEMENT: usize = 3;

/// A sponge over the permutation. The capacity (elements 8..16) starts as
/// `[domain tag, input kind, length as three 24-bit limbs, 0, 0, 0]`; input
/// elements are added into the rate (elements 0..8), eight per permutation, and the
/// last block is padded with zeros. The length is fixed before absorbing starts,
/// so zero padding cannot make two inputs of different lengths collide, and no
/// padding block is needed when the input fills the last block exactly.
struct Sponge {
    state: [M31; WIDTH],
    /// Elements in the current, not yet permuted, block.
    position: usize,
    /// Whether any block has been permuted; an empty input still permutes once.
    permuted: bool,
}

impl Sponge {
    const fn new(domain: Domain, kind: InputKind, length: u64) -> Self {
        let mut state = [M31::ZERO; WIDTH];
        state[RATE] = domain.tag();
        state[RATE + 1] = M31::new(kind as u32);
        // 3 × 24 bits cover any u64 length, each limb below p.
        state[RATE + 2] = M31::new((length & 0xff_ffff) as u32);
        state[RATE + 3] = M31::new(((length >> 24) & 0xff_ffff) as u32);
        state[RATE + 4] = M31::new((length >> 48) as u32);
        Self { state, position: 0, permuted: false }
    }

    const fn absorb(&mut self, element: M31) {
        self.state[self.position] = self.state[self.position].add(element);
        self.position += 1;
        if self.position == RATE {
            permute(&mut self.state);
            self.position = 0;
            self.permuted = true;
        }
    }

    const fn finish(mut self) -> Hash {
        if self.position > 0 || !self.permuted {
            permute(&mut self.state);
        }
        let mut digest = [M31::ZERO; DIGEST_ELEMENTS];
        let mut i = 0;
        while i < DIGEST_ELEMENTS {
            digest[i] = self.state[i];
            i += 1;
        }
        elements_to_hash(&digest)
    }
}

/// The digest of a byte string in `domain`. Bytes are packed three to a field
/// element, little-endian, the last element zero-padded.
pub fn hash_bytes(domain: Domain, bytes: &[u8]) -> Hash {
    let mut sponge = Sponge::new(domain, InputKind::Bytes, bytes.len() as u64);
    for chunk in bytes.chunks(BYTES_PER_ELEMENT) {
        let packed = chunk.iter().rev().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        sponge.absorb(M31::new(packed));
    }
    sponge.finish()
}

/// The digest of a list of field elements in `domain`.
pub const fn hash_elements(domain: Domain, elements: &[M31]) -> Hash {
    let mut sponge = Sponge::new(domain, InputKind::Elements, elements.len() as u64);
    let mut i = 0;
    while i < elements.len() {
        sponge.absorb(elements[i]);
        i += 1;
    }
    sponge.finish()
}

/// The parent of two Merkle nodes.
///
/// The state is `left ‖ right` (8 + 8 elements, filling the whole width, so one
/// permutation per node); the output is the first 8 elements of the permuted state
/// plus `left` (feed-forward). Without the feed-forward the map would be a
/// truncated permutation, and anyone could run the permutation backwards from a
/// chosen output; adding the input back makes it one-way, as in the
/// Davies–Meyer construction.
///
/// Node compression carries no domain tag: a tree fixes at which depth each value
/// sits, and leaves are sponge digests tagged [`Domain::Leaf`], a different
/// function of their input.
pub const fn compress(left: &Hash, right: &Hash) -> Hash {
    let l = hash_to_elements(left);
    let r = hash_to_elements(right);
    let mut state = [M31::ZERO; WIDTH];
    let mut i = 0;
    while i < DIGEST_ELEMENTS {
        state[i] = l[i];
        state[DIGEST_ELEMENTS + i] = r[i];
        i += 1;
    }
    permute(&mut state);
    let mut out = [M31::ZERO; DIGEST_ELEMENTS];
    let mut i = 0;
    while i < DIGEST_ELEMENTS {
        out[i] = state[i].add(l[i]);
        i += 1;
    }
    elements_to_hash(&out)
}

/// The eight field elements of a digest.
///
/// Every digest this module produces is canonical (each 4-byte limb below p), but
/// a [`Hash`](struct@Hash) can hold any 32 bytes. A limb ≥ p is *reduced* here, so this never
/// fails; where a second encoding of the same elements would matter (a value that
/// is compared as bytes after being hashed as elements, such as an address in the
/// state tree), check [`is_canonical`] first.
pub const fn hash_to_elements(hash: &Hash) -> [M31; DIGEST_ELEMENTS] {
    let mut out = [M31::ZERO; DIGEST_ELEMENTS];
    let mut i = 0;
    while i < DIGEST_ELEMENTS {
        let b = &hash.0;
        let limb = u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        out[i] = M31::new(limb);
        i += 1;
    }
    out
}

/// The digest holding these eight elements (the inverse of [`hash_to_elements`]
/// on canonical digests).
pub const fn elements_to_hash(elements: &[M31; DIGEST_ELEMENTS]) -> Hash {
    let mut bytes = [0u8; 32];
    let mut i = 0;
    while i < DIGEST_ELEMENTS {
        let limb = elements[i].value().to_le_bytes();
        bytes[4 * i] = limb[0];
        bytes[4 * i + 1] = limb[1];
        bytes[4 * i + 2] = limb[2];
        bytes[4 * i + 3] = limb[3];
        i += 1;
    }
    Hash(bytes)
}

/// Whether every 4-byte limb of `hash` is below p, i.e. whether it is the one
/// encoding of its elements (`elements_to_hash(&hash_to_elements(h)) == h`).
pub const fn is_canonical(hash: &Hash) -> bool {
    let b = &hash.0;
    let mut i = 0;
    while i < DIGEST_ELEMENTS {
        let limb = u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        if M31::from_canonical(limb).is_none() {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    const ALL_DOMAINS: [Domain; 7] = [
        Domain::Address,
        Domain::Transaction,
        Domain::Header,
        Domain::TxRoot,
        Domain::Leaf,
        Domain::EmptyLeaf,
        Domain::KeyDerivation,
    ];

    /// Proves every domain has its own tag and its own digests of the same bytes.
    #[test]
    fn domains_separate() {
        let tags: BTreeSet<u32> = ALL_DOMAINS.iter().map(|d| d.tag().value()).collect();
        assert_eq!(tags.len(), ALL_DOMAINS.len());
        let digests: BTreeSet<Hash> =
            ALL_DOMAINS.iter().map(|d| hash_bytes(*d, b"starling")).collect();
        assert_eq!(digests.len(), ALL_DOMAINS.len());
    }

    /// Proves zero padding is not ambiguous: inputs that pack to the same elements
    /// but differ in length hash differently, at and around block boundaries.
    #[test]
    fn padding_is_unambiguous() {
        let d = Domain::Transaction;
        assert_ne!(hash_bytes(d, b""), hash_bytes(d, b"\0"));
        assert_ne!(hash_bytes(d, b"ab"), hash_bytes(d, b"ab\0"));
        assert_ne!(hash_bytes(d, b"abc"), hash_bytes(d, b"abc\0"));
        let mut seen = BTreeSet::new();
        for len in 0..=60 {
            assert!(seen.insert(hash_bytes(d, &alloc::vec![0u8; len])), "zeros of length {len}");
        }
        let mut seen = BTreeSet::new();
        for len in 0..=20 {
            let zeros = alloc::vec![M31::ZERO; len];
            assert!(seen.insert(hash_elements(d, &zeros)), "zero elements, length {len}");
        }
    }

    /// Proves a byte string and the element list it packs to hash differently.
    #[test]
    fn bytes_and_elements_are_separated() {
        // b"\x01\0\0" packs to the single element 1.
        assert_ne!(hash_bytes(Domain::Leaf, &[1, 0, 0]), hash_elements(Domain::Leaf, &[M31::ONE]));
    }

    /// Proves bytes are packed little-endian, three to an element: a change in any
    /// byte position changes the digest.
    #[test]
    fn every_byte_matters() {
        let base = [7u8; 25];
        let reference = hash_bytes(Domain::Header, &base);
        for i in 0..base.len() {
            let mut changed = base;
            changed[i] ^= 0x80;
            assert_ne!(hash_bytes(Domain::Header, &changed), reference, "byte {i}");
        }
    }

    /// Freezes the sponge and compression on fixed inputs.
    #[test]
    fn fixed_vectors() {
        let cases: [(Hash, &str); 4] = [
            (
                hash_bytes(Domain::Transaction, b""),
                "0x00a22d1bf77c613ee3c7430e2582ec43b5b19e6af0711a60b0494409ff42c531",
            ),
            (
                hash_bytes(Domain::Transaction, b"starling"),
                "0x72c5ba4bf1efd256ea1aee4bd97e4e6592253779a4377d6324ef871a0a70de5d",
            ),
            (
                hash_elements(Domain::Leaf, &[M31::new(1), M31::new(2), M31::new(3)]),
                "0x499bd622209bd80a8838e3184dcb1a1d61601a1ea38ba61b1e0f2712a8a6af7f",
            ),
            (
                compress(&Hash::ZERO, &Hash::ZERO),
                "0x9932197cf7cbf41b7b2ba5458287c6724f0ede0bc0a91c5cb3c5b7711c139578",
            ),
        ];
        let got: Vec<alloc::string::String> =
            cases.iter().map(|(h, _)| alloc::format!("{h}")).collect();
        let want: Vec<&str> = cases.iter().map(|(_, w)| *w).collect();
        assert_eq!(got, want);
    }

    /// Proves the sponge lays out its state as documented: input in the rate,
    /// `[tag, kind, length limbs…]` in the capacity, digest = first 8 elements.
    /// (The block proofs re-implement this layout, so it is pinned here.)
    #[test]
    fn sponge_layout_is_as_documented() {
        let input = [M31::new(11), M31::new(22), M31::new(33)];
        let mut state = [M31::ZERO; WIDTH];
        state[..3].copy_from_slice(&input);
        state[RATE] = Domain::Leaf.tag();
        state[RATE + 1] = M31::new(InputKind::Elements as u32);
        state[RATE + 2] = M31::new(3);
        permute(&mut state);
        let expected: [M31; DIGEST_ELEMENTS] = core::array::from_fn(|i| state[i]);
        assert_eq!(hash_elements(Domain::Leaf, &input), elements_to_hash(&expected));

        // Bytes: "abcd" packs to [0x636261, 0x64], length 4.
        let mut state = [M31::ZERO; WIDTH];
        state[0] = M31::new(0x63_6261);
        state[1] = M31::new(0x64);
        state[RATE] = Domain::Header.tag();
        state[RATE + 1] = M31::new(InputKind::Bytes as u32);
        state[RATE + 2] = M31::new(4);
        permute(&mut state);
        let expected: [M31; DIGEST_ELEMENTS] = core::array::from_fn(|i| state[i]);
        assert_eq!(hash_bytes(Domain::Header, b"abcd"), elements_to_hash(&expected));

        // Compression: permute(left ‖ right), first half plus left.
        let left = hash_bytes(Domain::Leaf, b"l");
        let right = hash_bytes(Domain::Leaf, b"r");
        let (l, r) = (hash_to_elements(&left), hash_to_elements(&right));
        let mut state = [M31::ZERO; WIDTH];
        state[..8].copy_from_slice(&l);
        state[8..].copy_from_slice(&r);
        permute(&mut state);
        let expected: [M31; DIGEST_ELEMENTS] = core::array::from_fn(|i| state[i] + l[i]);
        assert_eq!(compress(&left, &right), elements_to_hash(&expected));
    }

    /// Proves compression depends on both children and on their order.
    #[test]
    fn compress_is_ordered() {
        let a = hash_bytes(Domain::Leaf, b"a");
        let b = hash_bytes(Domain::Leaf, b"b");
        assert_ne!(compress(&a, &b), compress(&b, &a));
        assert_ne!(compress(&a, &b), compress(&a, &a));
        assert!(is_canonical(&compress(&a, &b)));
    }

    /// Proves non-canonical limbs are reduced and detected.
    #[test]
    fn non_canonical_limbs_reduce() {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&m31::P.to_le_bytes());
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let h = Hash(bytes);
        assert!(!is_canonical(&h));
        let e = hash_to_elements(&h);
        assert_eq!((e[0].value(), e[1].value()), (0, 1));
        assert!(is_canonical(&elements_to_hash(&e)));
    }

    proptest! {
        /// Proves elements → hash → elements is the identity, and digests are canonical.
        #[test]
        fn element_round_trip(raw in prop::array::uniform8(0..m31::P)) {
            let elements = raw.map(M31::new);
            let h = elements_to_hash(&elements);
            prop_assert!(is_canonical(&h));
            prop_assert_eq!(hash_to_elements(&h), elements);
        }

        /// Proves hashes of arbitrary bytes are canonical and deterministic.
        #[test]
        fn digests_are_canonical(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let h = hash_bytes(Domain::Address, &bytes);
            prop_assert!(is_canonical(&h));
            prop_assert_eq!(h, hash_bytes(Domain::Address, &bytes));
        }
    }
}
