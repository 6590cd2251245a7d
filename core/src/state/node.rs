//! Keys, nodes and the operations the full tree and the partial tree share.
//!
//! The construction, and why proofs over it are sound, are described in the
//! [module documentation](super).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::hash::m31::M31;
use crate::hash::{Domain, compress, hash_elements};
use crate::types::{Address, Hash};

use super::StateError;
use super::account::{Account, leaf_digest};
use super::proof::MerkleProof;

/// Bits in a key, which is the depth of the deepest possible node: the 31 bits of
/// each of the 8 field elements of an address.
pub const KEY_BITS: usize = 248;

/// Bits of a key taken from each element of the address.
const LIMB_BITS: usize = 31;

/// The low 31 bits of a limb: all of a canonical element.
const LIMB_MASK: u32 = 0x7fff_ffff;

/// Digest of a subtree holding no account (the whole tree, when the state is
/// empty): the [`Domain::EmptyLeaf`] sponge digest of the single element 1.
///
/// Not of *no* input: a one-permutation sponge whose rate half is all zero
/// permutes exactly the state `compress(ZERO, capacity)` does, and feed-forward
/// adds zero, so that digest would trivially also be a `compress` output. With a
/// non-zero rate input the two differ by the feed-forward term.
pub const EMPTY: Hash = hash_elements(Domain::EmptyLeaf, &[M31::ONE]);

/// The position of an address in the tree: its 248-bit path from the root, read
/// most significant bit first: the 31 bits of the address's first field element
/// (its first little-endian 4-byte limb), then the second's, and so on to the
/// eighth.
///
/// Why from the elements rather than the bytes: an address is a Poseidon2 digest
/// whose limbs are all below 2^31 - 1, so the top bit of every byte-level limb is
/// always zero. The block proofs see the address as field elements and read the
/// same bits from them. Two distinct canonical addresses always have distinct keys;
/// a non-canonical address (a limb ≥ 2^31 - 1) may share a key with a canonical one,
/// but cannot hold an account, and every lookup compares whole addresses.
///
/// Keys order like the paths they name: [`Ord`] is left-to-right leaf order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key([u32; 8]);

impl Key {
    /// The key of `address`.
    pub fn of(address: &Address) -> Self {
        let b = &address.0;
        Self(core::array::from_fn(|i| {
            u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]) & LIMB_MASK
        }))
    }

    /// The key bit that chooses the child of the node at `depth` on this key's path
    /// (`false`: left, `true`: right). `depth` is below [`KEY_BITS`].
    pub fn bit(&self, depth: usize) -> bool {
        debug_assert!(depth < KEY_BITS);
        (self.0[depth / LIMB_BITS] >> (LIMB_BITS - 1 - depth % LIMB_BITS)) & 1 == 1
    }

    /// How many leading bits this key shares with `other` ([`KEY_BITS`] if equal):
    /// the depth at which their paths part.
    pub fn common_prefix(&self, other: &Key) -> usize {
        for (i, (a, b)) in self.0.iter().zip(&other.0).enumerate() {
            let differ = a ^ b;
            if differ != 0 {
                // Limbs use their low 31 bits, so the top bit never differs.
                return i * LIMB_BITS + differ.leading_zeros() as usize - 1;
            }
        }
        KEY_BITS
    }
}

/// The key of `address`: its path in the tree. Same as [`Key::of`].
pub fn path_of(address: &Address) -> Key {
    Key::of(address)
}

/// The digest of a parent from its child on a path (`on_path`) and that child's
/// sibling: `on_path` is the right child when the path's `bit` at the parent is set.
pub(super) fn parent_digest(bit: bool, on_path: &Hash, sibling: &Hash) -> Hash {
    if bit { compress(sibling, on_path) } else { compress(on_path, sibling) }
}

/// What [`Node::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Insert {
    /// The address already held that account.
    Unchanged,
    /// The address's account was replaced.
    Updated,
    /// The address had no account and now has one.
    Added,
}

/// A node of the compressed tree, with the digests of stored subtrees cached so
/// that a write rehashes only its own path.
///
/// Invariant (the *canonical shape*): a subtree with no account is [`Node::Empty`],
/// one with a single account is that account's [`Node::Leaf`], and only a subtree
/// with two or more accounts is [`Node::Internal`]. A [`Node::Opaque`] subtree is one
/// a partial state knows only by its (non-empty) digest; [`super::StateTree`] never
/// holds one.
#[derive(Clone, Debug)]
pub(super) enum Node {
    Empty,
    Leaf(Box<Leaf>),
    Internal(Box<Internal>),
    Opaque(Box<Hash>),
}

#[derive(Clone, Debug)]
pub(super) struct Leaf {
    pub address: Address,
    pub account: Account,
    /// `leaf_digest(address, account)`.
    pub digest: Hash,
}

#[derive(Clone, Debug)]
pub(super) struct Internal {
    /// Left (key bit 0) and right (key bit 1) subtrees.
    pub children: [Node; 2],
    /// `compress(children[0], children[1])`.
    pub digest: Hash,
}

impl Internal {
    fn rehash(&mut self) {
        self.digest = compress(&self.children[0].digest(), &self.children[1].digest());
    }
}

impl Node {
    /// A leaf holding a non-empty `account`.
    pub fn leaf(address: Address, account: Account) -> Self {
        debug_assert!(!account.is_empty());
        Self::Leaf(Box::new(Leaf { address, account, digest: leaf_digest(&address, &account) }))
    }

    /// An inner node over two children, its digest computed.
    pub fn internal(children: [Node; 2]) -> Self {
        let digest = compress(&children[0].digest(), &children[1].digest());
        Self::Internal(Box::new(Internal { children, digest }))
    }

    /// A subtree known only by `digest`: [`Node::Empty`] when that is [`EMPTY`].
    pub fn from_digest(digest: Hash) -> Self {
        if digest == EMPTY { Self::Empty } else { Self::Opaque(Box::new(digest)) }
    }

    /// This subtree's digest (cached, never recomputed here).
    pub fn digest(&self) -> Hash {
        match self {
            Self::Empty => EMPTY,
            Self::Leaf(leaf) => leaf.digest,
            Self::Internal(internal) => internal.digest,
            Self::Opaque(digest) => **digest,
        }
    }

    /// The account of `address` (key `key`) in this subtree, which sits on the
    /// key's path; the empty account if there is none. Fails with
    /// [`StateError::MissingWitness`] where the path runs into an opaque subtree.
    pub fn get(&self, key: &Key, address: &Address) -> Result<Account, StateError> {
        let mut node = self;
        let mut depth = 0;
        loop {
            match node {
                Self::Empty => return Ok(Account::default()),
                Self::Leaf(leaf) if leaf.address == *address => return Ok(leaf.account),
                // The only account under this node, which is on the key's path, is
                // another address's: `address` has none.
                Self::Leaf(_) => return Ok(Account::default()),
                Self::Internal(internal) => {
                    node = &internal.children[usize::from(key.bit(depth))];
                    depth += 1;
                }
                Self::Opaque(_) => return Err(StateError::MissingWitness(*address)),
            }
        }
    }

    /// Stores the non-empty `account` at `address` in this subtree at `depth`,
    /// rehashing the path. Fails, changing nothing, where the path runs into an
    /// opaque subtree.
    pub fn insert(
        &mut self,
        depth: usize,
        key: &Key,
        address: &Address,
        account: &Account,
    ) -> Result<Insert, StateError> {
        match self {
            Self::Empty => {
                *self = Self::leaf(*address, *account);
                Ok(Insert::Added)
            }
            Self::Leaf(leaf) if leaf.address == *address => {
                if leaf.account == *account {
                    return Ok(Insert::Unchanged);
                }
                leaf.account = *account;
                leaf.digest = leaf_digest(address, account);
                Ok(Insert::Updated)
            }
            Self::Leaf(_) => {
                let Self::Leaf(occupant) = core::mem::replace(self, Self::Empty) else {
                    unreachable!("matched a leaf");
                };
                *self = split(depth, key, Self::leaf(*address, *account), occupant);
                Ok(Insert::Added)
            }
            Self::Internal(internal) => {
                let side = usize::from(key.bit(depth));
                let done = internal.children[side].insert(depth + 1, key, address, account)?;
                if done != Insert::Unchanged {
                    internal.rehash();
                }
                Ok(done)
            }
            Self::Opaque(_) => Err(StateError::MissingWitness(*address)),
        }
    }

    /// Removes `address`'s account from this subtree at `depth`, lifting a leaf
    /// left alone in its subtree as high as it goes, and rehashing the path.
    /// Returns whether anything changed. Fails, changing nothing, where the path
    /// runs into an opaque subtree, or where the removed leaf's sibling is opaque:
    /// then the parent is left with that sibling's accounts only, and whether they
    /// are one account (whose leaf must be lifted) or more cannot be told from a
    /// digest ([`StateError::UnsupportedRemoval`]).
    pub fn remove(
        &mut self,
        depth: usize,
        key: &Key,
        address: &Address,
    ) -> Result<bool, StateError> {
        let Self::Internal(internal) = self else {
            return match self {
                Self::Empty => Ok(false),
                Self::Leaf(leaf) if leaf.address != *address => Ok(false),
                Self::Leaf(_) => {
                    *self = Self::Empty;
                    Ok(true)
                }
                Self::Opaque(_) => Err(StateError::MissingWitness(*address)),
                Self::Internal(_) => unreachable!("handled above"),
            };
        };
        let side = usize::from(key.bit(depth));
        if let Self::Leaf(leaf) = &internal.children[side]
            && leaf.address == *address
            && matches!(internal.children[1 - side], Self::Opaque(_))
        {
            return Err(StateError::UnsupportedRemoval(*address));
        }
        if !internal.children[side].remove(depth + 1, key, address)? {
            return Ok(false);
        }
        // With one account left (or none), this node becomes what it holds. An
        // opaque sibling is never left alone: a child becomes empty only when it was
        // the removed leaf (an inner node holds two or more accounts), and that case
        // was refused above.
        let collapses = matches!(
            &internal.children,
            [Self::Empty, Self::Empty | Self::Leaf(_)] | [Self::Leaf(_), Self::Empty]
        );
        if collapses {
            let [left, right] =
                core::mem::replace(&mut internal.children, [Self::Empty, Self::Empty]);
            *self = if matches!(left, Self::Empty) { right } else { left };
        } else {
            internal.rehash();
        }
        Ok(true)
    }

    /// The proof of `address` (key `key`): the digests of the siblings of the
    /// key's path, root first, down to the node where the path ends (an empty
    /// subtree or a single leaf), and that node's occupant. Fails where the path
    /// runs into an opaque subtree.
    pub fn prove(&self, key: &Key, address: &Address) -> Result<MerkleProof, StateError> {
        let mut siblings = Vec::new();
        let mut node = self;
        loop {
            let occupant = match node {
                Self::Empty => None,
                Self::Leaf(leaf) => Some((leaf.address, leaf.account)),
                Self::Internal(internal) => {
                    let side = usize::from(key.bit(siblings.len()));
                    siblings.push(internal.children[1 - side].digest());
                    node = &internal.children[side];
                    continue;
                }
                Self::Opaque(_) => return Err(StateError::MissingWitness(*address)),
            };
            return Ok(MerkleProof::new(&siblings, occupant));
        }
    }

    /// Every account in this subtree, in key order.
    pub fn leaves(&self) -> Leaves<'_> {
        Leaves { stack: alloc::vec![self] }
    }

    /// Leaves and inner nodes stored in this subtree (for tests and memory
    /// accounting).
    pub fn count(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        let mut stack = alloc::vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Self::Leaf(_) => counts.0 += 1,
                Self::Internal(internal) => {
                    counts.1 += 1;
                    stack.extend(internal.children.iter());
                }
                Self::Empty | Self::Opaque(_) => {}
            }
        }
        counts
    }
}

/// The subtree at `depth` holding exactly two leaves: `new` (at `key`) and
/// `occupant` (another address whose key shares `key`'s first `depth` bits). Both
/// hang below the node where their keys part; above it, down from `depth`, each
/// inner node has the other two-account node on one side and nothing on the other.
fn split(depth: usize, key: &Key, new: Node, occupant: Box<Leaf>) -> Node {
    let parting = key.common_prefix(&Key::of(&occupant.address));
    // Distinct canonical addresses have distinct keys, and only canonical
    // addresses are stored.
    assert!(parting >= depth && parting < KEY_BITS, "split of two leaves with one key");
    let mut children = [Node::Empty, Node::Empty];
    let side = usize::from(key.bit(parting));
    children[side] = new;
    children[1 - side] = Node::Leaf(occupant);
    let mut node = Node::internal(children);
    for above in (depth..parting).rev() {
        let mut children = [Node::Empty, Node::Empty];
        children[usize::from(key.bit(above))] = node;
        node = Node::internal(children);
    }
    node
}

/// Iterator over the accounts of a subtree in key order (left before right).
pub(super) struct Leaves<'a> {
    stack: Vec<&'a Node>,
}

impl Iterator for Leaves<'_> {
    type Item = (Address, Account);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.stack.pop()? {
                Node::Leaf(leaf) => return Some((leaf.address, leaf.account)),
                Node::Internal(internal) => {
                    self.stack.push(&internal.children[1]);
                    self.stack.push(&internal.children[0]);
                }
                Node::Empty | Node::Opaque(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{M31, elements_to_hash};

    fn address(elements: [u32; 8]) -> Address {
        Address(elements_to_hash(&elements.map(M31::new)).0)
    }

    /// Proves key bits are the 31 bits of each element, most significant first,
    /// element after element.
    #[test]
    fn key_bits_come_from_elements() {
        let key = Key::of(&address([0x4000_0001, 0, 0, 0, 0, 0, 0, 1]));
        assert!(key.bit(0));
        assert!(!key.bit(1));
        assert!(key.bit(30));
        assert!(!key.bit(31));
        assert!(!key.bit(246));
        assert!(key.bit(247));
        let key = Key::of(&address([0, 0x4000_0000, 0, 0, 0, 0, 0, 0]));
        assert!(key.bit(31));
        assert_eq!((0..KEY_BITS).filter(|d| key.bit(*d)).count(), 1);
    }

    /// Proves the common prefix is where two keys' paths part.
    #[test]
    fn common_prefix_is_where_paths_part() {
        let a = Key::of(&address([5, 6, 7, 8, 9, 10, 11, 12]));
        assert_eq!(a.common_prefix(&a), KEY_BITS);
        let b = Key::of(&address([5, 6, 7, 8, 9, 10, 11, 13]));
        assert_eq!(a.common_prefix(&b), KEY_BITS - 1);
        let c = Key::of(&address([0x4000_0000, 6, 7, 8, 9, 10, 11, 12]));
        assert_eq!(a.common_prefix(&c), 0);
        let d = Key::of(&address([5, 0x7fff_fffe, 7, 8, 9, 10, 11, 12]));
        assert_eq!(a.common_prefix(&d), 31);
        for (x, y) in [(a, b), (a, c), (a, d), (b, d)] {
            let at = x.common_prefix(&y);
            assert!((0..at).all(|i| x.bit(i) == y.bit(i)));
            assert_ne!(x.bit(at), y.bit(at));
        }
    }

    /// Proves key order is path order: comparing keys compares their first
    /// differing bit.
    #[test]
    fn key_order_is_path_order() {
        let a = Key::of(&address([1, 0x7fff_fffe, 0, 0, 0, 0, 0, 0]));
        let b = Key::of(&address([2, 0, 0, 0, 0, 0, 0, 0]));
        assert!(a < b);
        assert!(!a.bit(a.common_prefix(&b)) && b.bit(a.common_prefix(&b)));
    }

    /// Proves the empty digest is the empty-leaf sponge digest, not a compress
    /// output of two empties, and that the node helpers agree with it.
    #[test]
    fn empty_digest_is_fixed() {
        assert_eq!(EMPTY, hash_elements(Domain::EmptyLeaf, &[M31::ONE]));
        assert_ne!(EMPTY, compress(&EMPTY, &EMPTY));
        // The trivial identity the non-empty input avoids: an empty-input sponge
        // digest is `compress(ZERO, its initial capacity)`.
        let empty_input = hash_elements(Domain::EmptyLeaf, &[]);
        let capacity = crate::hash::elements_to_hash(&[
            Domain::EmptyLeaf.tag(),
            M31::new(2),
            M31::ZERO,
            M31::ZERO,
            M31::ZERO,
            M31::ZERO,
            M31::ZERO,
            M31::ZERO,
        ]);
        assert_eq!(empty_input, compress(&Hash::ZERO, &capacity));
        assert_ne!(EMPTY, compress(&Hash::ZERO, &capacity));
        assert!(matches!(Node::from_digest(EMPTY), Node::Empty));
        assert_eq!(Node::Empty.digest(), EMPTY);
    }
}
