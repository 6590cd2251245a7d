//! The write component: one row per account write.
//!
//! Write `w` changes `address`'s account from `old` to `new`. The row hashes
//! both leaves (the Poseidon2 sponge of [`leaf_digest`], its permutations
//! *used* from the Poseidon component), and hands the leaf to the Merkle
//! component as the [`Node`](super::relations::Node) tuple at the depth
//! `D_e` where the path starts:
//!
//! | kind | `old` | old node at `D_e` | `D_e` | phase |
//! |---|---|---|---|---|
//! | update | the proven account | `leaf_digest(address, old)` | `D` | 0 |
//! | insert into an empty subtree | all zero | [`EMPTY`] | `D` | 0 |
//! | insert that splits a lifted leaf | all zero | the occupant's leaf | `c + 1` | 2 |
//!
//! (`D` is the depth of the path's terminal, `c` the common prefix of the two
//! keys.) It also yields the [`Write`](super::relations::Write) tuple for the
//! transaction component, and for a split the [`Split`](super::relations::Split)
//! tuple `[w, address, c, occupant digest]`, which the split component opens.
//!
//! `D_e = 31·j + t` is held as two one-hots; `q`, the first `t` key bits of
//! limb `j`, comes from the 31-bit decomposition of that limb (with the
//! zero-limb rule of [`super::key_bits`]). Together with the Merkle
//! component's boundary checks this binds every key bit on the path to the
//! address: see [`super::merkle`] for the whole soundness argument.
//!
//! # Columns (181 per row)
//!
//! `enabled`, `w`, `address` (8), `old` (16: balance limbs 4, nonce limbs 4,
//! staking 8), `new` (16), kind one-hot `update, insert_empty, split` (3),
//! `s1` (16: the first sponge permutation's output, shared by both leaves: it
//! depends only on the address), `old_s2` (16), `old_node` (8), `new_s2`
//! (16), `new_leaf` (8), `q`, `t_sel` (31), `j_sel` (8), `bits` (31: limb `j`
//! most significant first), `bits_inv`.
//!
//! `old_node` is the old leaf's digest (the output of its last permutation)
//! for an update, and otherwise carries [`EMPTY`] or the occupant's digest:
//! the old leaf's permutations are used only on update rows.
//!
//! # Lookups (8, batched in pairs)
//!
//! Permutation uses: `[address, Leaf tag, 2, 24, 0…] → s1` (full, ×enabled),
//! `[s1 + old[0..8], s1[8..]] → old_s2` (full, ×update),
//! `[old_s2 + old[8..], old_s2[8..]] → old_node` (half, ×update), the same
//! two for `new` (×enabled); yields of `Write` (×enabled), `Node`
//! `[w, D_e, t, j, q, 2·split, address, old_node, new_leaf]` (×enabled) and
//! `Split` `[w, address, D_e − 1, old_node]` (×split).

use alloc::vec::Vec;
use core::fmt;

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::key_bits::{
    LIMB_BITS, LIMBS, boolean, constant, dot, index, limb_decomposition, one_hot, prefixes,
};
use super::relations::{Permutation, Relations};
use crate::hash::{DIGEST_ELEMENTS, Domain, M31, hash_to_elements};
use crate::state::EMPTY;

/// Field elements of an account in a leaf: balance limbs, nonce limbs, staking.
pub(super) const ACCOUNT_ELEMENTS: usize = 16;

/// The sponge width (Poseidon2 state).
pub(super) const WIDTH: usize = 16;

/// Columns of one write row.
pub const N_COLUMNS: usize = 181;

/// The sponge's capacity for a leaf: `[Leaf tag, InputKind::Elements = 2,
/// length 24, 0, 0, 0, 0, 0]` (see [`crate::hash`]; pinned by the tests that
/// compare the rows with [`leaf_digest`]).
pub(super) const LEAF_CAPACITY: [u32; 8] = [Domain::Leaf.tag().value(), 2, 24, 0, 0, 0, 0, 0];

/// The elements of [`EMPTY`].
pub(super) const EMPTY_ELEMENTS: [M31; DIGEST_ELEMENTS] = hash_to_elements(&EMPTY);

/// One write row's cells, in column order. Generic so the evaluator reads and
/// the trace generator writes through the same layout.
pub(super) struct WriteColumns<T> {
    pub enabled: T,
    pub w: T,
    pub address: [T; LIMBS],
    pub old: [T; ACCOUNT_ELEMENTS],
    pub new: [T; ACCOUNT_ELEMENTS],
    /// `update, insert_empty, split`.
    pub kind: [T; 3],
    pub s1: [T; WIDTH],
    pub old_s2: [T; WIDTH],
    pub old_node: [T; DIGEST_ELEMENTS],
    pub new_s2: [T; WIDTH],
    pub new_leaf: [T; DIGEST_ELEMENTS],
    pub q: T,
    pub t_sel: [T; LIMB_BITS],
    pub j_sel: [T; LIMBS],
    pub bits: [T; LIMB_BITS],
    pub bits_inv: T,
}

impl<T> WriteColumns<T> {
    /// Reads the row, one cell at a time in column order.
    pub fn read(mut next: impl FnMut() -> T) -> Self {
        Self {
            enabled: next(),
            w: next(),
            address: core::array::from_fn(|_| next()),
            old: core::array::from_fn(|_| next()),
            new: core::array::from_fn(|_| next()),
            kind: core::array::from_fn(|_| next()),
            s1: core::array::from_fn(|_| next()),
            old_s2: core::array::from_fn(|_| next()),
            old_node: core::array::from_fn(|_| next()),
            new_s2: core::array::from_fn(|_| next()),
            new_leaf: core::array::from_fn(|_| next()),
            q: next(),
            t_sel: core::array::from_fn(|_| next()),
            j_sel: core::array::from_fn(|_| next()),
            bits: core::array::from_fn(|_| next()),
            bits_inv: next(),
        }
    }

    /// The cells in column order.
    #[cfg(any(test, feature = "prover"))]
    pub fn cells(self) -> Vec<T> {
        let mut out = Vec::with_capacity(N_COLUMNS);
        out.push(self.enabled);
        out.push(self.w);
        out.extend(self.address);
        out.extend(self.old);
        out.extend(self.new);
        out.extend(self.kind);
        out.extend(self.s1);
        out.extend(self.old_s2);
        out.extend(self.old_node);
        out.extend(self.new_s2);
        out.extend(self.new_leaf);
        out.push(self.q);
        out.extend(self.t_sel);
        out.extend(self.j_sel);
        out.extend(self.bits);
        out.push(self.bits_inv);
        out
    }
}

/// The write component's constraints.
#[derive(Clone, Debug)]
pub struct WriteEval {
    pub log_size: u32,
    pub relations: Relations,
}

pub type WriteComponent = FrameworkComponent<WriteEval>;

/// The leaf sponge's state before its first permutation: the address in the
/// rate, [`LEAF_CAPACITY`] in the capacity.
pub(super) fn sponge_start<F: Clone + From<BaseField>>(address: &[F; LIMBS]) -> [F; WIDTH] {
    core::array::from_fn(
        |i| if i < 8 { address[i].clone() } else { constant(LEAF_CAPACITY[i - 8]) },
    )
}

/// A permutation's output state with eight more elements added into its rate.
pub(super) fn absorb<F: Clone + core::ops::Add<Output = F>>(
    state: &[F; WIDTH],
    block: &[F],
) -> [F; WIDTH] {
    core::array::from_fn(
        |i| if i < 8 { state[i].clone() + block[i].clone() } else { state[i].clone() },
    )
}

/// Adds a use of the permutation `input → output` (`output`: 16 elements for a
/// full use, 8 for a half use, whose last eight tuple elements are zero).
pub(super) fn use_permutation<E: EvalAtRow>(
    eval: &mut E,
    relation: &Permutation,
    multiplicity: E::F,
    input: [E::F; WIDTH],
    output: &[E::F],
) {
    let values: Vec<E::F> = input.into_iter().chain(output.iter().cloned()).collect();
    eval.add_to_relation(RelationEntry::new(relation, E::EF::from(multiplicity), &values));
}

/// Uses the leaf sponge's second and third permutations for `account`, from
/// the first one's output `s1`, through `s2` to `digest`.
pub(super) fn use_leaf_tail<E: EvalAtRow>(
    eval: &mut E,
    relation: &Permutation,
    multiplicity: &E::F,
    s1: &[E::F; WIDTH],
    account: &[E::F; ACCOUNT_ELEMENTS],
    s2: &[E::F; WIDTH],
    digest: &[E::F; DIGEST_ELEMENTS],
) {
    use_permutation(eval, relation, multiplicity.clone(), absorb(s1, &account[..8]), s2);
    use_permutation(eval, relation, multiplicity.clone(), absorb(s2, &account[8..]), digest);
}

impl FrameworkEval for WriteEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Every constraint has degree at most 3 (checked by a test), so the
    /// quotient fits twice the trace size.
    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + 1
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let c = WriteColumns::read(|| eval.next_trace_mask());
        let enabled = c.enabled.clone();
        let [update, insert_empty, split] = c.kind.clone();

        boolean(&mut eval, &enabled);
        one_hot(&mut eval, &c.kind, &enabled);

        // An insert writes an address that had no account.
        let inserts = insert_empty.clone() + split.clone();
        for x in &c.old {
            eval.add_constraint(inserts.clone() * x.clone());
        }
        // The old node of an insert into an empty subtree is EMPTY.
        for (x, e) in c.old_node.iter().zip(EMPTY_ELEMENTS) {
            eval.add_constraint(insert_empty.clone() * (x.clone() - constant::<E::F>(e.value())));
        }

        // The leaf's depth D_e = 31·j + t, and q = the first t bits of limb j.
        one_hot(&mut eval, &c.t_sel, &enabled);
        one_hot(&mut eval, &c.j_sel, &enabled);
        let t = index(&c.t_sel);
        let j = index(&c.j_sel);
        let limb = dot(&c.j_sel, &c.address);
        limb_decomposition(&mut eval, &c.bits, limb, &c.bits_inv, &enabled);
        let q = dot(&c.t_sel, &prefixes(&c.bits)[..LIMB_BITS]);
        eval.add_constraint(c.q.clone() - q);
        let depth = j.clone() * BaseField::from_u32_unchecked(LIMB_BITS as u32) + t.clone();

        // The leaves: the first permutation is shared, the old leaf's other two
        // are used only by updates.
        let p = &self.relations.permutation;
        use_permutation(&mut eval, p, enabled.clone(), sponge_start(&c.address), &c.s1);
        use_leaf_tail(&mut eval, p, &update, &c.s1, &c.old, &c.old_s2, &c.old_node);
        use_leaf_tail(&mut eval, p, &enabled, &c.s1, &c.new, &c.new_s2, &c.new_leaf);

        let write: Vec<E::F> = core::iter::once(c.w.clone())
            .chain(c.address.iter().cloned())
            .chain(c.old.iter().cloned())
            .chain(c.new.iter().cloned())
            .collect();
        eval.add_to_relation(RelationEntry::new(
            &self.relations.write,
            E::EF::from(-enabled.clone()),
            &write,
        ));

        let node: Vec<E::F> = [
            c.w.clone(),
            depth.clone(),
            t,
            j,
            c.q.clone(),
            split.clone() * BaseField::from_u32_unchecked(2),
        ]
        .into_iter()
        .chain(c.address.iter().cloned())
        .chain(c.old_node.iter().cloned())
        .chain(c.new_leaf.iter().cloned())
        .collect();
        eval.add_to_relation(RelationEntry::new(
            &self.relations.node,
            E::EF::from(-enabled),
            &node,
        ));

        let split_tuple: Vec<E::F> = core::iter::once(c.w.clone())
            .chain(c.address.iter().cloned())
            .chain(core::iter::once(depth - constant::<E::F>(1)))
            .chain(c.old_node.iter().cloned())
            .collect();
        eval.add_to_relation(RelationEntry::new(
            &self.relations.split,
            E::EF::from(-split),
            &split_tuple,
        ));

        eval.finalize_logup_in_pairs();
        eval
    }
}

/// Why a block's writes could not be laid out as tree rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceError {
    /// The witness holds another number of writes than the statement counts.
    WriteCount { statement: u32, witness: usize },
    /// An address or staking commitment with a limb ≥ p.
    NonCanonical { write: u32 },
    /// The write would empty the account (removal is not modelled).
    RemovesAccount { write: u32 },
    /// The path ends at the root, or deeper than the AIR can name.
    Depth { write: u32, depth: usize },
    /// The old account is not what the path proves.
    OldAccount { write: u32 },
    /// The path's occupant is empty, or not on the address's path.
    Occupant { write: u32 },
    /// The path does not lead to the root the earlier writes left.
    Root { write: u32 },
    /// The last write does not leave the statement's post-state root.
    PostRoot,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WriteCount { statement, witness } => {
                write!(f, "the statement counts {statement} writes, the witness holds {witness}")
            }
            Self::NonCanonical { write } => {
                write!(f, "write {write} holds a non-canonical element")
            }
            Self::RemovesAccount { write } => write!(f, "write {write} removes an account"),
            Self::Depth { write, depth } => {
                write!(f, "write {write}'s leaf would sit at depth {depth}, outside the AIR")
            }
            Self::OldAccount { write } => {
                write!(f, "write {write}'s old account is not the one its path proves")
            }
            Self::Occupant { write } => write!(f, "write {write}'s path has an invalid occupant"),
            Self::Root { write } => {
                write!(f, "write {write}'s path does not lead to the root the earlier writes left")
            }
            Self::PostRoot => f.write_str("the writes do not end at the post-state root"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TraceError {}

#[cfg(feature = "prover")]
pub use prover::*;

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::core::Fraction;
    use stwo::core::fields::m31::BaseField;
    use stwo::core::fields::qm31::SecureField;
    use stwo::prover::backend::simd::m31::N_LANES;
    use stwo::prover::backend::simd::qm31::PackedSecureField;
    use stwo_constraint_framework::{
        EvalAtRow, FrameworkEval, LogupTraceGenerator, ORIGINAL_TRACE_IDX,
    };

    use super::super::key_bits::{
        MAX_NODE_DEPTH, address_limbs, bits_inverse, depth_parts, limb_bits, prefix,
    };
    use super::super::lookups::LookupCounts;
    use super::super::relations::Relations;
    use super::super::trace::{Evaluation, TraceColumns, log_size_for};
    use super::super::witness::{BlockWitness, MAX_PROVABLE_DEPTH};
    use super::*;
    use crate::hash::{compress, elements_to_hash, hash_elements, hash_to_elements, is_canonical};
    use crate::state::{Account, Key, u64_limbs};
    use crate::types::{Address, Hash};

    /// Eight field elements of a digest.
    pub(in crate::proving) type Digest = [M31; DIGEST_ELEMENTS];

    /// The elements of a digest.
    pub(in crate::proving) fn digest(hash: &Hash) -> Digest {
        hash_to_elements(hash)
    }

    /// The 16 elements an account contributes to its leaf.
    pub(in crate::proving) fn account_elements(account: &Account) -> [M31; ACCOUNT_ELEMENTS] {
        let mut out = [M31::ZERO; ACCOUNT_ELEMENTS];
        out[..4].copy_from_slice(&u64_limbs(account.balance));
        out[4..8].copy_from_slice(&u64_limbs(account.nonce));
        out[8..].copy_from_slice(&hash_to_elements(&account.staking));
        out
    }

    /// What a write does to its leaf's subtree.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(in crate::proving) enum Kind {
        Update,
        InsertEmpty,
        /// Another address's leaf sits where the path ends; the two keys share
        /// their first `common` bits.
        Split {
            occupant: Address,
            account: Account,
            common: usize,
        },
    }

    /// The shape of one level of a write's path, seen from its parent.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(in crate::proving) enum LevelKind {
        /// Old and new parents hashed with the same sibling; the child tuple has
        /// this phase (1 only right above a split).
        Normal { child_phase: u32 },
        /// The depth where the two keys part: the new leaf and the occupant
        /// become siblings; the old node passes through.
        SplitBottom,
        /// Between the occupant's old depth and the parting depth: new sibling
        /// EMPTY, the old node passes through.
        SplitMid,
    }

    /// One level of a write's path: the parent at `depth` of the child at
    /// `depth + 1`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(in crate::proving) struct Level {
        pub depth: usize,
        pub kind: LevelKind,
        /// The key bit at `depth`: the child is the right input when set.
        pub bit: bool,
        pub sibling: Digest,
        pub old_child: Digest,
        pub new_child: Digest,
        pub old_parent: Digest,
        pub new_parent: Digest,
    }

    /// One write, as the tree components lay it out.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(in crate::proving) struct WritePlan {
        pub w: u32,
        pub address: Address,
        pub old: Account,
        pub new: Account,
        pub kind: Kind,
        /// `D`: the depth of the path's terminal.
        pub depth: usize,
        /// The path's siblings, by depth (index `k − 1` for depth `k`).
        pub siblings: Vec<Digest>,
    }

    /// The leaf sponge over `address` and `account`, as the rows compute it:
    /// [`leaf_digest`] without its special case for the empty account (which
    /// the tree never stores; a cheating plan may still claim it).
    pub(in crate::proving) fn leaf_sponge(address: &Address, account: &Account) -> Digest {
        let mut elements = [M31::ZERO; 24];
        elements[..8].copy_from_slice(&address_limbs(address));
        elements[8..].copy_from_slice(&account_elements(account));
        digest(&hash_elements(Domain::Leaf, &elements))
    }

    /// `compress` of a child and its sibling, ordered by the key bit.
    fn parent(bit: bool, child: &Digest, sibling: &Digest) -> Digest {
        let (left, right) = if bit { (sibling, child) } else { (child, sibling) };
        digest(&compress(&elements_to_hash(left), &elements_to_hash(right)))
    }

    impl WritePlan {
        /// `D_e`: where the write's leaf is yielded.
        pub fn leaf_depth(&self) -> usize {
            match self.kind {
                Kind::Split { common, .. } => common + 1,
                _ => self.depth,
            }
        }

        /// The old node at `D_e` (see the module table).
        pub fn old_node(&self) -> Digest {
            match &self.kind {
                Kind::Update => leaf_sponge(&self.address, &self.old),
                Kind::InsertEmpty => EMPTY_ELEMENTS,
                Kind::Split { occupant, account, .. } => leaf_sponge(occupant, account),
            }
        }

        pub fn new_leaf(&self) -> Digest {
            leaf_sponge(&self.address, &self.new)
        }

        /// The path's levels, bottom (`D_e − 1`) first, hashed from what this
        /// plan claims; nothing here checks the claims.
        pub fn levels(&self) -> Vec<Level> {
            let key = Key::of(&self.address);
            let mut levels = Vec::with_capacity(self.leaf_depth());
            let (mut old, mut new) = (self.old_node(), self.new_leaf());
            let mut child_phase = 0;
            if let Kind::Split { common, .. } = self.kind {
                for depth in (self.depth..=common).rev() {
                    let (kind, sibling) = if depth == common {
                        (LevelKind::SplitBottom, old)
                    } else {
                        (LevelKind::SplitMid, EMPTY_ELEMENTS)
                    };
                    let bit = key.bit(depth);
                    let new_parent = parent(bit, &new, &sibling);
                    levels.push(Level {
                        depth,
                        kind,
                        bit,
                        sibling,
                        old_child: old,
                        new_child: new,
                        old_parent: old,
                        new_parent,
                    });
                    new = new_parent;
                }
                child_phase = 1;
            }
            for depth in (0..self.depth).rev() {
                let bit = key.bit(depth);
                let sibling = self.siblings[depth];
                let (old_parent, new_parent) =
                    (parent(bit, &old, &sibling), parent(bit, &new, &sibling));
                levels.push(Level {
                    depth,
                    kind: LevelKind::Normal { child_phase },
                    bit,
                    sibling,
                    old_child: old,
                    new_child: new,
                    old_parent,
                    new_parent,
                });
                (old, new, child_phase) = (old_parent, new_parent, 0);
            }
            levels
        }
    }

    /// Lays out every write of `witness`, checking each is what its path
    /// proves, that each path leads to the root the earlier writes left
    /// (starting from the statement's pre-state root), and that the last
    /// leaves the post-state root.
    pub(in crate::proving) fn plans(witness: &BlockWitness) -> Result<Vec<WritePlan>, TraceError> {
        Ok(plans_with_levels(witness)?.0)
    }

    /// [`plans`], and each one's path levels as checking it hashed them (so
    /// the Merkle rows need not hash every path again).
    pub(in crate::proving) fn plans_with_levels(
        witness: &BlockWitness,
    ) -> Result<(Vec<WritePlan>, Vec<Vec<Level>>), TraceError> {
        let statement = &witness.statement;
        if witness.writes.len() != statement.writes as usize {
            return Err(TraceError::WriteCount {
                statement: statement.writes,
                witness: witness.writes.len(),
            });
        }
        let mut root = digest(&statement.pre_root);
        let mut plans = Vec::with_capacity(witness.writes.len());
        let mut paths = Vec::with_capacity(witness.writes.len());
        for (w, write) in witness.writes.iter().enumerate() {
            let w = w as u32;
            let canonical = |a: &Address, acc: &Account| {
                is_canonical(&a.as_hash()) && is_canonical(&acc.staking)
            };
            if !canonical(&write.address, &write.old) || !canonical(&write.address, &write.new) {
                return Err(TraceError::NonCanonical { write: w });
            }
            if write.new.is_empty() {
                return Err(TraceError::RemovesAccount { write: w });
            }
            let depth = write.path.depth();
            if depth == 0 || depth > MAX_PROVABLE_DEPTH {
                return Err(TraceError::Depth { write: w, depth });
            }
            let kind = match write.path.occupant() {
                None if write.old.is_empty() => Kind::InsertEmpty,
                Some((a, account)) if *a == write.address && *account == write.old => Kind::Update,
                Some((a, account)) if *a != write.address && write.old.is_empty() => {
                    let common = Key::of(&write.address).common_prefix(&Key::of(a));
                    if account.is_empty() || !canonical(a, account) || common < depth {
                        return Err(TraceError::Occupant { write: w });
                    }
                    if common + 1 > MAX_NODE_DEPTH {
                        return Err(TraceError::Depth { write: w, depth: common + 1 });
                    }
                    Kind::Split { occupant: *a, account: *account, common }
                }
                _ => return Err(TraceError::OldAccount { write: w }),
            };
            let plan = WritePlan {
                w,
                address: write.address,
                old: write.old,
                new: write.new,
                kind,
                depth,
                siblings: write.path.siblings().map(|(_, h)| digest(&h)).collect(),
            };
            let levels = plan.levels();
            let top = levels.last().expect("a plan has at least one level");
            if top.old_parent != root {
                return Err(TraceError::Root { write: w });
            }
            root = top.new_parent;
            plans.push(plan);
            paths.push(levels);
        }
        if root != digest(&statement.post_root) {
            return Err(TraceError::PostRoot);
        }
        Ok((plans, paths))
    }

    /// The leaf sponge's state before its first permutation.
    pub(in crate::proving) fn sponge_start_values(address: &[M31; 8]) -> [M31; WIDTH] {
        core::array::from_fn(|i| if i < 8 { address[i] } else { M31::new(LEAF_CAPACITY[i - 8]) })
    }

    /// `state` with `block` added into its rate.
    pub(in crate::proving) fn absorb_values(state: &[M31; WIDTH], block: &[M31]) -> [M31; WIDTH] {
        core::array::from_fn(|i| if i < 8 { state[i] + block[i] } else { state[i] })
    }

    /// Hashes `account`'s leaf from the first permutation's output `s1`, using
    /// the two remaining permutations: `(s2, digest)`.
    pub(in crate::proving) fn leaf_tail(
        counts: &mut LookupCounts,
        s1: &[M31; WIDTH],
        account: &[M31; ACCOUNT_ELEMENTS],
    ) -> ([M31; WIDTH], Digest) {
        let s2 = counts.permutation(absorb_values(s1, &account[..8]), true);
        let out = counts.permutation(absorb_values(&s2, &account[8..]), false);
        (s2, core::array::from_fn(|i| out[i]))
    }

    /// The write component's trace.
    pub struct WriteTrace {
        columns: TraceColumns,
    }

    /// The write rows of `witness`, counting the permutations they use.
    pub fn gen_trace(
        witness: &BlockWitness,
        counts: &mut LookupCounts,
    ) -> Result<WriteTrace, TraceError> {
        Ok(trace_from(&plans(witness)?, counts))
    }

    /// The rows of `plans`, as they claim (no checks).
    pub(in crate::proving) fn trace_from(
        plans: &[WritePlan],
        counts: &mut LookupCounts,
    ) -> WriteTrace {
        let mut columns = TraceColumns::new(log_size_for(plans.len()), N_COLUMNS);
        for (row, plan) in plans.iter().enumerate() {
            columns.set_row(row, &row_of(plan, counts).cells());
        }
        WriteTrace { columns }
    }

    fn one_hot_values<const N: usize>(at: usize) -> [M31; N] {
        core::array::from_fn(|k| M31::new(u32::from(k == at)))
    }

    fn row_of(plan: &WritePlan, counts: &mut LookupCounts) -> WriteColumns<M31> {
        let address = address_limbs(&plan.address);
        let (old, new) = (account_elements(&plan.old), account_elements(&plan.new));
        let s1 = counts.permutation(sponge_start_values(&address), true);
        let (old_s2, old_node) = match plan.kind {
            Kind::Update => leaf_tail(counts, &s1, &old),
            _ => ([M31::ZERO; WIDTH], plan.old_node()),
        };
        let (new_s2, new_leaf) = leaf_tail(counts, &s1, &new);
        debug_assert_eq!(old_node, plan.old_node());
        debug_assert_eq!(new_leaf, plan.new_leaf());
        let kind = match plan.kind {
            Kind::Update => 0,
            Kind::InsertEmpty => 1,
            Kind::Split { .. } => 2,
        };
        let (t, j) = depth_parts(plan.leaf_depth());
        let limb = address[j];
        WriteColumns {
            enabled: M31::ONE,
            w: M31::new(plan.w),
            address,
            old,
            new,
            kind: one_hot_values(kind),
            s1,
            old_s2,
            old_node,
            new_s2,
            new_leaf,
            q: M31::new(prefix(limb, t)),
            t_sel: one_hot_values(t),
            j_sel: one_hot_values(j),
            bits: limb_bits(limb).map(|b| M31::new(u32::from(b))),
            bits_inv: bits_inverse(limb),
        }
    }

    impl WriteTrace {
        pub fn log_size(&self) -> u32 {
            self.columns.log_size()
        }

        /// The main trace columns, ready to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            evaluations(&self.columns)
        }

        /// The LogUp columns for `relations`, and their claimed sum.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let eval = WriteEval { log_size: self.log_size(), relations: relations.clone() };
            interaction(&eval, &self.columns, N_COLUMNS)
        }

        #[cfg(test)]
        pub(in crate::proving) fn columns(&self) -> &TraceColumns {
            &self.columns
        }

        #[cfg(test)]
        pub(in crate::proving) fn columns_mut(&mut self) -> &mut TraceColumns {
            &mut self.columns
        }
    }

    /// `columns` as evaluations over the trace domain.
    pub(in crate::proving) fn evaluations(columns: &TraceColumns) -> Vec<Evaluation> {
        use stwo::core::poly::circle::CanonicCoset;
        use stwo::prover::poly::circle::CircleEvaluation;
        let domain = CanonicCoset::new(columns.log_size()).circle_domain();
        columns.simd_columns().into_iter().map(|c| CircleEvaluation::new(domain, c)).collect()
    }

    /// Evaluates one row of a component outside any domain: records its LogUp
    /// fractions, in the order the component adds them, and counts the
    /// constraints it breaks.
    pub(in crate::proving) struct RowEval<'a> {
        row: &'a [BaseField],
        next: usize,
        pub fractions: Vec<(SecureField, SecureField)>,
        pub violations: Vec<usize>,
        constraints: usize,
    }

    impl<'a> RowEval<'a> {
        pub fn new(row: &'a [BaseField]) -> Self {
            Self { row, next: 0, fractions: Vec::new(), violations: Vec::new(), constraints: 0 }
        }
    }

    impl EvalAtRow for RowEval<'_> {
        type F = BaseField;
        type EF = SecureField;

        fn next_interaction_mask<const N: usize>(
            &mut self,
            interaction: usize,
            offsets: [isize; N],
        ) -> [Self::F; N] {
            assert_eq!(
                interaction, ORIGINAL_TRACE_IDX,
                "tree components read only their main trace"
            );
            let value = self.row[self.next];
            self.next += 1;
            offsets.map(|offset| {
                assert_eq!(offset, 0, "tree components read only their own row");
                value
            })
        }

        fn add_constraint<G>(&mut self, constraint: G)
        where
            Self::EF: core::ops::Mul<G, Output = Self::EF> + From<G>,
        {
            let zero = SecureField::from_m31_array([BaseField::from_u32_unchecked(0); 4]);
            if SecureField::from(constraint) != zero {
                self.violations.push(self.constraints);
            }
            self.constraints += 1;
        }

        fn combine_ef(values: [Self::F; 4]) -> Self::EF {
            SecureField::from_m31_array(values)
        }

        fn write_logup_frac(&mut self, fraction: Fraction<Self::EF, Self::EF>) {
            self.fractions.push((fraction.numerator, fraction.denominator));
        }

        fn finalize_logup_batched(&mut self, _batching: &Vec<usize>) {}

        fn finalize_logup(&mut self) {}

        fn finalize_logup_in_pairs(&mut self) {}
    }

    /// Runs `component` on row `row` of `columns`.
    #[cfg(test)]
    pub(in crate::proving) fn eval_row<C: FrameworkEval>(
        component: &C,
        columns: &TraceColumns,
        width: usize,
        row: usize,
    ) -> (Vec<(SecureField, SecureField)>, Vec<usize>) {
        eval_cells(component, &row_cells(columns, width, row))
    }

    /// Row `row` of `columns`' first `width` columns.
    fn row_cells(columns: &TraceColumns, width: usize, row: usize) -> Vec<BaseField> {
        (0..width).map(|c| columns.get(row, c)).collect()
    }

    /// Runs `component` on one row's `cells`: its LogUp fractions and the
    /// constraints the row breaks.
    fn eval_cells<C: FrameworkEval>(
        component: &C,
        cells: &[BaseField],
    ) -> (Vec<(SecureField, SecureField)>, Vec<usize>) {
        let done = component.evaluate(RowEval::new(cells));
        assert_eq!(done.next, cells.len(), "the component reads every column once");
        (done.fractions, done.violations)
    }

    /// A LogUp fraction: (numerator, denominator).
    type Frac = (SecureField, SecureField);

    /// `fractions` summed in pairs, in order (an odd last one alone).
    fn paired(fractions: &[Frac]) -> Vec<Frac> {
        fractions
            .chunks(2)
            .map(|pair| match pair {
                [(n0, d0), (n1, d1)] => (*n0 * *d1 + *n1 * *d0, *d0 * *d1),
                [single] => *single,
                _ => unreachable!("chunks of two"),
            })
            .collect()
    }

    /// The LogUp interaction columns of `component` over `columns`: its
    /// fractions summed in pairs, in the order it adds them (what
    /// `finalize_logup_in_pairs` constrains), and their claimed sum. A row
    /// equal to the one before (the padding, all alike) reuses its
    /// fractions rather than being evaluated again.
    pub(in crate::proving) fn interaction<C: FrameworkEval>(
        component: &C,
        columns: &TraceColumns,
        width: usize,
    ) -> (Vec<Evaluation>, SecureField) {
        let log_size = columns.log_size();
        let mut batches: Vec<Vec<Frac>> = Vec::new();
        // The last row evaluated, and its fractions in pairs.
        let mut previous: Option<(Vec<BaseField>, Vec<Frac>)> = None;
        for row in 0..1usize << log_size {
            let cells = row_cells(columns, width, row);
            if previous.as_ref().is_none_or(|(seen, _)| *seen != cells) {
                let pairs = paired(&eval_cells(component, &cells).0);
                previous = Some((cells, pairs));
            }
            let (_, pairs) = previous.as_ref().expect("set just above");
            batches.resize(pairs.len(), Vec::with_capacity(1 << log_size));
            for (batch, pair) in batches.iter_mut().zip(pairs) {
                batch.push(*pair);
            }
        }
        let mut generator = LogupTraceGenerator::new(log_size);
        for batch in &batches {
            let mut column = generator.new_col();
            for (vec_row, rows) in batch.chunks(N_LANES).enumerate() {
                let numerators = core::array::from_fn(|i| rows[i].0);
                let denominators = core::array::from_fn(|i| rows[i].1);
                column.write_frac(
                    vec_row,
                    PackedSecureField::from_array(numerators),
                    PackedSecureField::from_array(denominators),
                );
            }
            column.finalize_col();
        }
        generator.finalize_last()
    }
}

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::vec::Vec;

    use crate::proving::testing::constraint_degrees;

    use super::super::key_bits::address_limbs;
    use super::super::merkle::fixtures::*;
    use super::super::relations::Relations;
    use super::*;
    use crate::state::{Account, leaf_digest};

    fn layout() -> WriteColumns<usize> {
        let mut next = 0..;
        WriteColumns::read(|| next.next().unwrap())
    }

    /// Proves the row layout reads and writes the same columns, `N_COLUMNS`
    /// of them.
    #[test]
    fn layout_round_trips() {
        assert_eq!(layout().cells(), (0..N_COLUMNS).collect::<Vec<_>>());
    }

    /// Proves every write constraint, LogUp's included, has degree at most 3.
    #[test]
    fn degree_at_most_three() {
        let eval = WriteEval { log_size: 4, relations: Relations::dummy() };
        let degrees = constraint_degrees(&eval);
        assert_eq!(degrees.iter().max(), Some(&3), "{degrees:?}");
    }

    /// Proves the rows hash leaves exactly as the state tree does (the sponge
    /// layout the AIR re-implements): the new leaf of every write, and the old
    /// leaf of every update, are `leaf_digest`; an insert's old node is EMPTY
    /// or the occupant's leaf.
    #[test]
    fn rows_hash_leaves_like_the_state_tree() {
        let witness = scenario();
        let traces = traces(&witness);
        let c = layout();
        let m = traces.write.columns();
        for (row, write) in witness.writes.iter().enumerate() {
            let read = |columns: &[usize]| -> Vec<M31> {
                columns.iter().map(|k| cell(m, row, *k)).collect()
            };
            assert_eq!(
                read(&c.new_leaf),
                hash_to_elements(&leaf_digest(&write.address, &write.new))
            );
            let old_node = match write.path.occupant() {
                Some((a, account)) => leaf_digest(a, account),
                None => EMPTY,
            };
            assert_eq!(read(&c.old_node), hash_to_elements(&old_node));
            assert_eq!(read(&c.address), address_limbs(&write.address));
        }
        assert_eq!(leaf_digest(&witness.writes[0].address, &Account::default()), EMPTY);
    }

    /// Proves the honest write trace satisfies every constraint (stwo's own
    /// check, with the LogUp columns), with relations drawn from a channel.
    #[test]
    fn honest_trace_satisfies_constraints() {
        let witness = scenario();
        let traces = traces(&witness);
        let relations = drawn();
        let eval = WriteEval { log_size: traces.write.log_size(), relations: relations.clone() };
        assert_constraints(
            &eval,
            traces.write.columns(),
            N_COLUMNS,
            traces.write.interaction(&relations),
        );
    }

    /// The row of the first write matching `pick`.
    fn row_where(witness: &BlockWitness, pick: impl Fn(&WritePlan) -> bool) -> usize {
        honest_plans(witness).iter().position(pick).expect("no such write")
    }

    /// Proves a change to any single one of these cells of an honest write
    /// trace is refused (by a constraint, or by a relation that no longer
    /// balances): a key bit, `q`, a kind flag, the depth one-hots, an old and
    /// a new account element, an address limb, the old node of an insert, the
    /// new leaf, the shared first permutation's output, `w`.
    #[test]
    fn single_cell_changes_are_refused() {
        let witness = scenario();
        let c = layout();
        let deep = row_where(&witness, |p| p.depth == 41 && matches!(p.kind, Kind::Update));
        let empty = row_where(&witness, |p| matches!(p.kind, Kind::InsertEmpty));
        let split = row_where(&witness, |p| matches!(p.kind, Kind::Split { .. }));
        let cases: Vec<CellChange> = alloc::vec![
            ("key bit", deep, c.bits[3], None),
            ("last key bit", deep, c.bits[30], None),
            ("q", deep, c.q, None),
            ("update flag", deep, c.kind[0], Some(M31::ZERO)),
            ("update as insert", deep, c.kind[1], Some(M31::ONE)),
            ("insert as update", empty, c.kind[0], Some(M31::ONE)),
            ("split as insert", split, c.kind[1], Some(M31::ONE)),
            ("t", deep, c.t_sel[10], Some(M31::ZERO)),
            ("t moved", deep, c.t_sel[11], Some(M31::ONE)),
            ("j", deep, c.j_sel[1], Some(M31::ZERO)),
            ("old balance", deep, c.old[0], None),
            ("old staking", deep, c.old[15], None),
            ("new balance", deep, c.new[1], None),
            ("new nonce", empty, c.new[4], None),
            ("address", deep, c.address[0], None),
            ("old node of an insert", empty, c.old_node[2], None),
            ("occupant of a split", split, c.old_node[2], None),
            ("new leaf", split, c.new_leaf[7], None),
            ("first permutation", deep, c.s1[12], None),
            ("w", deep, c.w, None),
            ("enabled", empty, c.enabled, Some(M31::ZERO)),
        ];
        assert_changes_refused(&witness, N_COLUMNS, |t| t.write.columns_mut(), cases);
    }

    /// Proves the zero-limb rule is what stops a zero limb being decomposed as
    /// all ones: `G`'s leaf sits at depth 42 in its zero second limb; its bits
    /// set to all ones (with `q` to match) still sum to the limb in the field,
    /// and exactly one constraint fails, whatever the inverse witness.
    #[test]
    fn zero_limb_rule_refuses_all_ones() {
        let witness = scenario();
        let [_, _, (g, _), _] = crafted();
        let c = layout();
        let row = row_where(&witness, |p| p.address == g);
        let eval = WriteEval { log_size: 4, relations: Relations::dummy() };
        for inv in [M31::ZERO, M31::ONE, M31::new(777)] {
            let mut traces = traces(&witness);
            let m = traces.write.columns_mut();
            assert_eq!(cell(m, row, c.j_sel[1]), M31::ONE);
            assert_eq!(cell(m, row, c.t_sel[11]), M31::ONE);
            assert_eq!(cell(m, row, c.address[1]), M31::ZERO);
            for b in c.bits {
                set_cell(m, N_COLUMNS, row, b, M31::ONE);
            }
            set_cell(m, N_COLUMNS, row, c.q, M31::new((1 << 11) - 1));
            set_cell(m, N_COLUMNS, row, c.bits_inv, inv);
            let eval = WriteEval { log_size: m.log_size(), ..eval.clone() };
            let broken = super::super::merkle::fixtures::violations(&eval, m, N_COLUMNS);
            assert_eq!(broken.len(), 1, "{broken:?}");
        }
    }

    /// Proves gen_trace refuses witnesses whose writes are not what their
    /// paths prove: a missing write, a changed old account, a write that
    /// empties an account, writes out of order, a changed sibling, a wrong
    /// post-state root.
    #[test]
    fn inconsistent_witnesses_are_refused() {
        use crate::encoding::{Decode, Encode, Reader};
        use crate::state::MerkleProof;
        let witness = scenario();
        let refused = |w: &BlockWitness| gen_trace(w, &mut LookupCounts::default()).err();
        assert_eq!(refused(&witness), None);

        let mut bad = witness.clone();
        bad.writes.pop();
        assert!(matches!(refused(&bad), Some(TraceError::WriteCount { .. })));

        let mut bad = witness.clone();
        bad.writes[0].old.balance += 1;
        assert_eq!(refused(&bad), Some(TraceError::OldAccount { write: 0 }));

        let mut bad = witness.clone();
        bad.writes[1].new = Account::default();
        assert_eq!(refused(&bad), Some(TraceError::RemovesAccount { write: 1 }));

        let mut bad = witness.clone();
        bad.writes.swap(0, 2);
        assert!(matches!(refused(&bad), Some(TraceError::Root { .. })));

        let mut bad = witness.clone();
        let mut bytes = bad.writes[3].path.to_bytes();
        let first_sibling = 1 + bad.writes[3].path.depth().div_ceil(8);
        bytes[first_sibling] ^= 1;
        let mut reader = Reader::new(&bytes);
        bad.writes[3].path = MerkleProof::decode_from(&mut reader).unwrap();
        assert_eq!(refused(&bad), Some(TraceError::Root { write: 3 }));

        let mut bad = witness.clone();
        bad.statement.post_root = bad.statement.pre_root;
        assert_eq!(refused(&bad), Some(TraceError::PostRoot));

        let mut bad = witness;
        let other = bad.writes[2].path.clone();
        bad.writes[0].path = other;
        assert!(refused(&bad).is_some());
    }

    use super::super::lookups::LookupCounts;
    use super::super::witness::BlockWitness;
}
