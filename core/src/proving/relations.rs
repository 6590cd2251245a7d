//! The lookup relations that tie the block proof's components together.
//!
//! Each relation is a multiset argument (LogUp): a component *yields* tuples
//! (multiplicity −1 per use, or −m for a row yielding m uses) and another
//! *uses* them (multiplicity +1). The proof is valid only if, over all
//! components plus the public data the verifier adds itself, every relation
//! sums to zero — every tuple used was yielded exactly as often.
//!
//! The tuple layouts below are the protocol: a component that yields and one
//! that uses must lay out the same elements in the same order. Sign convention
//! (as in stwo): **use = +1, yield = −1**.

use stwo_constraint_framework::relation;

/// Field elements in a [`Permutation`] tuple.
pub const PERMUTATION_SIZE: usize = 32;
/// Field elements in a [`Node`] tuple.
pub const NODE_SIZE: usize = 30;
/// Field elements in a [`Root`] tuple.
pub const ROOT_SIZE: usize = 9;
/// Field elements in a [`Write`] tuple.
pub const WRITE_SIZE: usize = 41;
/// Field elements in a [`Split`] tuple.
pub const SPLIT_SIZE: usize = 18;
/// Field elements in a [`Transaction`] tuple.
pub const TRANSACTION_SIZE: usize = 35;

relation!(Permutation, 32);
relation!(Byte, 1);
relation!(Node, 30);
relation!(Root, 9);
relation!(Write, 41);
relation!(Split, 18);
relation!(Transaction, 35);

/// Every relation's random elements, drawn from the channel once the main
/// trace is committed, in this order.
///
/// - [`Permutation`] `[in_0..in_15, out_0..out_7, full·out_8..full·out_15]`:
///   one Poseidon2 permutation, `out = permute(in)`. `full` is 1 when the
///   user needs the whole output state (a sponge absorbing more) and 0 when it
///   needs only the first half (a Merkle compression, a sponge's last block):
///   users of the first half put zeros in the last eight places. Yielded by the
///   Poseidon component, used by the write, split and Merkle components.
/// - [`Byte`] `[v]`: `0 ≤ v < 256`. Yielded by the range-check component from
///   its preprocessed table, used by the transaction component (a 16-bit limb
///   is range-checked as two bytes).
/// - [`Node`] `[w, d, t, j, q, phase, addr_0..addr_7, old_0..old_7, new_0..new_7]`:
///   the node at depth `d` on the path of write `w`'s address, before (`old`)
///   and after (`new`) the write. `d = 31·j + t` with `0 ≤ t ≤ 30`, and `q` is
///   the number formed by the key bits `[31·j, d)` (the first `t` bits of
///   address limb `j`, most significant first). `phase` says which Merkle row
///   may use it: 0 — an ordinary level (old and new both hashed); 2 — the
///   bottom of a split (the new leaf and the old occupant become siblings);
///   1 — above a split's bottom, below the old occupant's depth, or an ordinary
///   level. Yielded by the write component (the leaf) and by Merkle rows (the
///   parent), used by Merkle rows (the child).
/// - [`Root`] `[s, root_0..root_7]`: the state root after `s` writes. The
///   Merkle row at the top of write `w`'s path uses `(w, old root)` and yields
///   `(w + 1, new root)`; the verifier yields `(0, pre-state root)` and uses
///   `(writes, post-state root)`.
/// - [`Write`] `[w, addr_0..addr_7, old balance limbs 0..3, old nonce limbs
///   0..3, old staking_0..7, new balance limbs 0..3, new nonce limbs 0..3,
///   new staking_0..7]`: write `w` changed `addr`'s account from old to new
///   (u64 fields as four 16-bit limbs, least significant first, as in the
///   leaf). Yielded by the write component, used by the transaction component.
/// - [`Split`] `[w, addr_0..addr_7, c, occ_0..occ_7]`: write `w` inserts
///   `addr` where another account's leaf `occ` was, and their keys first differ
///   at bit `c`. Yielded by the write component, used by the split component
///   (which opens `occ` and checks the keys).
/// - [`Transaction`] `[index, kind, first_write, sender_0..7, to_0..7, amount
///   limbs 0..3, fee limbs 0..3, nonce limbs 0..3, next nonce limbs 0..3]`: the
///   block's transaction `index` (the block end is one more entry after the
///   last transaction). Yielded by the verifier from the block it holds, used
///   by the transaction component. See [`super::statement`].
#[derive(Clone, Debug, PartialEq)]
pub struct Relations {
    pub permutation: Permutation,
    pub byte: Byte,
    pub node: Node,
    pub root: Root,
    pub write: Write,
    pub split: Split,
    pub transaction: Transaction,
}

impl Relations {
    /// Draws every relation's elements, in the documented order.
    pub fn draw(channel: &mut impl stwo::core::channel::Channel) -> Self {
        Self {
            permutation: Permutation::draw(channel),
            byte: Byte::draw(channel),
            node: Node::draw(channel),
            root: Root::draw(channel),
            write: Write::draw(channel),
            split: Split::draw(channel),
            transaction: Transaction::draw(channel),
        }
    }

    /// Fixed elements, for constraint tests that do not run the protocol.
    pub fn dummy() -> Self {
        Self {
            permutation: Permutation::dummy(),
            byte: Byte::dummy(),
            node: Node::dummy(),
            root: Root::dummy(),
            write: Write::dummy(),
            split: Split::dummy(),
            transaction: Transaction::dummy(),
        }
    }
}
