//! Positions in the state tree: key paths, node ids and the digests of empty
//! subtrees.

use crate::hash::{Domain, compress, hash_elements, hash_to_elements};
use crate::types::{Address, Hash};

/// Depth of the state tree: leaves sit 64 levels below the root.
///
/// Why 64: the block proofs pay for every level of every accessed path (one
/// Poseidon2 compression each), so the path should be as short as safety allows.
/// Paths are not secret and addresses are digests, so the only attack on a short
/// path is to grind public keys until one lands on a victim's path, a targeted
/// 2^64 search; and even that only blocks the victim's slot, because a leaf commits
/// to the *whole* address: a second address on an occupied path is refused
/// ([`super::StateError::PathCollision`]), never confused with the first.
pub const TREE_DEPTH: usize = 64;

/// The 64-bit key path of an address, read most significant bit first from the
/// root: the 31 bits of the address's first field element, then the 31 bits of the
/// second, then the top 2 bits of the third.
///
/// Why from the elements rather than the first 8 bytes: an address is a Poseidon2
/// digest whose 32-bit limbs are all below 2^31 - 1, so the top bit of every limb is
/// always zero. The first 8 bytes would hold only 62 bits of entropy, two tree
/// levels would always have an empty side, and the block proofs, which see the
/// address as field elements, would have to reorder bytes to find the path.
pub fn path_of(address: &Address) -> u64 {
    let e = hash_to_elements(&address.as_hash());
    (u64::from(e[0].value()) << 33) | (u64::from(e[1].value()) << 2) | u64::from(e[2].value() >> 29)
}

/// A node of the tree: its depth (0 for the root, [`TREE_DEPTH`] for leaves) and
/// the first `depth` bits of the paths below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub depth: u8,
    pub prefix: u64,
}

impl NodeId {
    /// The root.
    pub const ROOT: Self = Self { depth: 0, prefix: 0 };

    /// The node at `depth` on the way to `path`.
    pub fn on_path(path: u64, depth: usize) -> Self {
        debug_assert!(depth <= TREE_DEPTH);
        let prefix = if depth == 0 { 0 } else { path >> (TREE_DEPTH - depth) };
        Self { depth: depth as u8, prefix }
    }

    /// The other child of this node's parent. Not defined for the root.
    pub fn sibling(self) -> Self {
        debug_assert!(self.depth > 0);
        Self { depth: self.depth, prefix: self.prefix ^ 1 }
    }

    /// Whether this node is its parent's right child (its last path bit is 1).
    pub fn is_right(self) -> bool {
        self.prefix & 1 == 1
    }

    /// The first and last path under this node, inclusive.
    pub fn path_range(self) -> (u64, u64) {
        let below = TREE_DEPTH - usize::from(self.depth);
        if below == TREE_DEPTH {
            return (0, u64::MAX);
        }
        let first = self.prefix << below;
        let span = if below == 0 { 0 } else { u64::MAX >> (TREE_DEPTH - below) };
        (first, first | span)
    }
}

/// Combines a node's digest with its sibling's into their parent's digest, in the
/// order the node's position dictates.
pub fn parent_digest(node: NodeId, digest: &Hash, sibling: &Hash) -> Hash {
    if node.is_right() { compress(sibling, digest) } else { compress(digest, sibling) }
}

/// Digest of the leaf where no account is.
pub const EMPTY_LEAF: Hash = hash_elements(Domain::EmptyLeaf, &[]);

/// `EMPTY_SUBTREES[d]` is the digest of a node at depth `d` with no account below
/// it: the empty leaf at depth 64, and each level above the compression of two
/// copies of the level below. Computed at compile time.
pub const EMPTY_SUBTREES: [Hash; TREE_DEPTH + 1] = empty_subtrees();

const fn empty_subtrees() -> [Hash; TREE_DEPTH + 1] {
    let mut table = [EMPTY_LEAF; TREE_DEPTH + 1];
    let mut depth = TREE_DEPTH;
    while depth > 0 {
        table[depth - 1] = compress(&table[depth], &table[depth]);
        depth -= 1;
    }
    table
}

/// The digest of a subtree at `top` depth holding one leaf (digest `leaf`, at
/// `path`) and nothing else: the leaf hashed up with empty siblings.
pub fn lone_leaf_digest(path: u64, leaf: Hash, top: usize) -> Hash {
    let mut digest = leaf;
    for depth in (top + 1..=TREE_DEPTH).rev() {
        digest = parent_digest(NodeId::on_path(path, depth), &digest, &EMPTY_SUBTREES[depth]);
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{M31, elements_to_hash};

    fn address(elements: [u32; 8]) -> Address {
        Address(elements_to_hash(&elements.map(M31::new)).0)
    }

    /// Proves the path takes 31 + 31 + 2 bits from the first three elements.
    #[test]
    fn path_bits_come_from_elements() {
        let a = address([0x7fff_fffe, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(path_of(&a), 0x7fff_fffe << 33);
        let a = address([0, 0x4000_0001, 0x6000_0000, 9, 9, 9, 9, 9]);
        assert_eq!(path_of(&a), (0x4000_0001 << 2) | 3);
        let a = address([1, 0, 0x1fff_ffff, 0, 0, 0, 0, 0]);
        assert_eq!(path_of(&a), 1 << 33, "bits below the top two of element 2 are ignored");
    }

    /// Proves node ids, siblings and ranges line up with paths.
    #[test]
    fn node_positions() {
        let path = 0b1011u64 << 60;
        assert_eq!(NodeId::on_path(path, 0), NodeId::ROOT);
        assert_eq!(NodeId::on_path(path, 1), NodeId { depth: 1, prefix: 1 });
        assert_eq!(NodeId::on_path(path, 4), NodeId { depth: 4, prefix: 0b1011 });
        assert_eq!(NodeId::on_path(path, 64).prefix, path);
        assert_eq!(NodeId::on_path(path, 4).sibling().prefix, 0b1010);
        assert!(NodeId::on_path(path, 4).is_right());
        assert!(!NodeId::on_path(path, 2).is_right());
        assert_eq!(NodeId::ROOT.path_range(), (0, u64::MAX));
        assert_eq!(NodeId::on_path(path, 64).path_range(), (path, path));
        assert_eq!(NodeId::on_path(path, 4).path_range(), (0b1011 << 60, (0b1100 << 60) - 1));
    }

    /// Proves the compile-time table equals the recursive definition at run time.
    #[test]
    fn empty_subtrees_match_definition() {
        assert_eq!(EMPTY_SUBTREES[TREE_DEPTH], hash_elements(Domain::EmptyLeaf, &[]));
        let mut digest = EMPTY_LEAF;
        for depth in (0..TREE_DEPTH).rev() {
            digest = compress(&digest, &digest);
            assert_eq!(EMPTY_SUBTREES[depth], digest, "depth {depth}");
        }
    }

    /// Proves a lone leaf hashed up from any depth agrees with hashing level by level.
    #[test]
    fn lone_leaf_digest_matches_manual_walk() {
        let leaf = hash_elements(Domain::Leaf, &[M31::ONE]);
        let path = 0xdead_beef_0123_4567;
        let mut digest = leaf;
        for depth in (0..TREE_DEPTH).rev() {
            let child = NodeId::on_path(path, depth + 1);
            digest = parent_digest(child, &digest, &EMPTY_SUBTREES[depth + 1]);
            assert_eq!(lone_leaf_digest(path, leaf, depth), digest, "depth {depth}");
        }
    }
}
