//! The Merkle component: one row per level of each write's path.
//!
//! The row at depth `d` of write `w`'s path *uses* the child tuple
//! ([`Node`](super::relations::Node)) at depth `d + 1` — the leaf the write
//! component yields, or the parent a lower row yields — and *yields* the
//! parent at depth `d`; the top row (`d = 0`) instead uses the
//! [`Root`](super::relations::Root) `(w, old root)` and yields
//! `(w + 1, new root)`. The verifier yields `(0, pre-state root)` and uses
//! `(writes, post-state root)`.
//!
//! Rows come in three kinds:
//!
//! - **normal**: `old_parent = compress(ordered(old_child, sibling))`, the same
//!   for `new` with the same sibling; the child is the right input when the
//!   row's key bit `b` is 1. Uses a child of phase 0 or 1, yields phase 0.
//! - **split bottom** (at `d = c`, where the keys part): the old node passes
//!   through (`old_parent = old_child`, the occupant's leaf), and the new
//!   sibling *is* the old child: the new leaf and the occupant become siblings.
//!   Uses phase 2 (only a split write yields it), yields phase 1.
//! - **split mid** (between the occupant's old depth and `c`): the old node
//!   passes through, the new sibling is [`EMPTY`](crate::state::EMPTY). Uses
//!   phase 1, yields phase 1.
//!
//! Compressions are half [`Permutation`](super::relations::Permutation) uses
//! (the last eight tuple elements zero) with feed-forward:
//! `parent = out[0..8] + left`; the old one is used only by normal rows.
//!
//! # Key bits
//!
//! Tuples carry `(d, t, j, q)` with `d = 31·j + t` and `q` the key bits
//! `[31·j, d)` as a number. A row has its key bit `b` (boolean) and a
//! `boundary` flag; the child's `(t, j, q)` is
//!
//! - off a boundary: `(t + 1, j, 2·q + b)`;
//! - at a boundary (`t = 30`, the last bit of limb `j`; the child starts limb
//!   `j + 1`): `(0, j + 1, 0)`, and the limb is complete: `2·q + b = addr_j`
//!   (selected with a one-hot over `j`), with the zero-limb rule
//!   `(q + b − 2^30)·inv = 1` (see [`super::key_bits`]).
//!
//! The top row has `t = j = q = 0`.
//!
//! # Why it is sound
//!
//! Assumed from the other components: each `Permutation` tuple used is yielded
//! by the Poseidon component only for a true Poseidon2 evaluation; the
//! transaction component uses the `Write` tuples `w = 0 .. W − 1`, each once;
//! and the state tree's own argument ([`crate::state`], "Why it is sound"):
//! leaf digests, [`EMPTY`](crate::state::EMPTY) and `compress` outputs do not
//! collide with each other or among themselves.
//!
//! 1. **Chains.** Multiplicities are 0 or 1 and rows are far fewer than `p`,
//!    so a balanced relation matches its yields and uses one to one. A Merkle
//!    row uses one `Node` and yields one `Node` (or, on top, a `Root`); a
//!    write row yields one `Node`. A tuple's depth `d = 31·j + t` drops by
//!    exactly one from a row's child to its parent, so following uses upward
//!    never cycles (that would take `p` rows): the rows split into chains,
//!    each from one write row up to one top row, with one `w` and one address
//!    (each row copies them from the tuple it uses to the one it yields).
//! 2. **Roots.** Top rows turn `(w, old)` into `(w + 1, new)`; with the
//!    verifier's `(0, R)` and `(W, R′)`, balance leaves one path
//!    `0 → 1 → … → W` (`w` only grows, so no cycles): exactly one top row per
//!    `w < W`, each starting from the root the previous one left, the last
//!    ending at `R′`. Write rows have distinct `w` (the transaction
//!    component), so chain `w` is write `w`'s.
//! 3. **Depths and key bits.** From the top (`t = j = q = 0`) down, `t` grows
//!    by one per row and returns to 0 only at a boundary, which needs
//!    `t = 30`. A row with `t = 30` that is not a boundary would leave the
//!    child `t = 31`, and below it `t` only grows (a boundary would need it to
//!    wrap around `p`), but the leaf's `t` is a one-hot in `0..=30`: so every
//!    limb's last bit is a boundary, `t` stays in `0..=30`, `d` is the row's
//!    true depth in its chain, the chain has exactly `D_e` rows, and `q` is
//!    the number formed by the bits `b` the chain read in limb `j` so far. At
//!    a boundary those 31 bits sum to `addr_j` and are not all ones, so they
//!    are its canonical binary digits: the key bits of limb `j`. For the
//!    leaf's own limb, the write row shows `q` is the first `t` canonical bits
//!    of `addr_j`. (`j` never reaches 8: no row yields such a tuple.) So every
//!    row orders its compression by the address's true key bit.
//! 4. **The old path, and so `D` and the kind.** Phases fix the row kinds
//!    along a chain: a phase-0 leaf (update, insert into an empty subtree)
//!    feeds only normal rows (split rows need phase 1 or 2, yielded only by
//!    split rows and split writes); a phase-2 leaf (split, at depth `c + 1`)
//!    feeds the split-bottom row at `c` (the only user of phase 2), then split
//!    mid rows down to some depth `D′`, then normal rows (a normal row yields
//!    phase 0, which no split row uses). The old values are therefore the
//!    write's old node at depth `D′` (`D′ = D_e` without a split) hashed up
//!    along the address's key with the prover's siblings — to the root the
//!    previous write left (2). The real tree has one path along that key,
//!    ending at depth `D` in its terminal; reaching the same root without a
//!    collision makes every sibling the real one and the node at `D′` the
//!    real node there, which forces `D′ = D` (a shallower `D′` would equal an
//!    inner digest to a leaf or `EMPTY`, a deeper one an inner digest to the
//!    terminal). Then an *update* shows the address's real leaf holds `old`;
//!    an *insert into an empty subtree* shows its subtree is empty (old = 0 is
//!    right); a *split* shows the occupant's leaf, which the split component
//!    opens to another address (its key differs at bit `c`) sharing the first
//!    `c ≥ D` key bits: the address holds nothing (old = 0 is right). So the
//!    `Write` tuple's old account is the real one.
//! 5. **The new tree.** The new values hash the new leaf up with the same
//!    (real) siblings: an update keeps the shape; an insert puts the leaf in
//!    the empty subtree at `D` (whose parent keeps two or more accounts on
//!    the other side, so the leaf is as high as it goes); a split builds, from
//!    `D` down, inner nodes with an empty side to `c`, and at `c` the two
//!    leaves ordered by bit `c` — what `StateTree` builds. The new root is
//!    the canonical tree with the write applied, which the next write's path
//!    starts from (2).
//!
//! Not checked here: that the new account is not empty (a write that
//! empties an account would, in the canonical tree, remove its leaf and lift
//! its sibling, which these rows do not model). The transaction rules never
//! produce one for the accounts they constrain (a sender's nonce grows, a
//! credit is positive); the witness recorder refuses one.
//!
//! # Columns (85 per row)
//!
//! `enabled`, `top`, `w`, `t`, `j_sel` (8), `q`, `q_child`, `bit`,
//! `boundary`, kind one-hot `normal, bottom, mid` (3), `child_phase`,
//! `address` (8), `sibling` (8), `old_child` (8), `new_child` (8), `old_left`
//! (8), `new_left` (8), `old_parent` (8), `new_parent` (8), `inv`. The right
//! inputs are `child + sibling − left` (linear), so every lookup denominator
//! is linear in the columns.
//!
//! # Lookups (6, batched in pairs)
//!
//! Use of the child `Node` `[w, d + 1, t + 1 − 31·boundary, j + boundary,
//! q_child, child_phase, address, old_child, new_child]` (×enabled), yield of
//! the parent `[w, d, t, j, q, bottom + mid, address, old_parent, new_parent]`
//! (×(enabled − top)); `Root` use `[w, old_parent]` and yield
//! `[w + 1, new_parent]` (×top); `Permutation` uses
//! `[old_left, old_right, old_parent − old_left]` (×normal) and the same for
//! `new` (×enabled).

use alloc::vec::Vec;

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::key_bits::{LIMB_BITS, LIMBS, boolean, constant, dot, index, one_hot};
use super::relations::Relations;
use super::write::{EMPTY_ELEMENTS, use_permutation};
use crate::hash::DIGEST_ELEMENTS;

pub use super::write::TraceError;

/// Columns of one Merkle row.
pub const N_COLUMNS: usize = 85;

/// One Merkle row's cells, in column order.
pub(super) struct MerkleColumns<T> {
    pub enabled: T,
    pub top: T,
    pub w: T,
    pub t: T,
    pub j_sel: [T; LIMBS],
    pub q: T,
    pub q_child: T,
    pub bit: T,
    pub boundary: T,
    /// `normal, bottom, mid`.
    pub kind: [T; 3],
    pub child_phase: T,
    pub address: [T; LIMBS],
    pub sibling: [T; DIGEST_ELEMENTS],
    pub old_child: [T; DIGEST_ELEMENTS],
    pub new_child: [T; DIGEST_ELEMENTS],
    pub old_left: [T; DIGEST_ELEMENTS],
    pub new_left: [T; DIGEST_ELEMENTS],
    pub old_parent: [T; DIGEST_ELEMENTS],
    pub new_parent: [T; DIGEST_ELEMENTS],
    pub inv: T,
}

impl<T> MerkleColumns<T> {
    pub fn read(mut next: impl FnMut() -> T) -> Self {
        Self {
            enabled: next(),
            top: next(),
            w: next(),
            t: next(),
            j_sel: core::array::from_fn(|_| next()),
            q: next(),
            q_child: next(),
            bit: next(),
            boundary: next(),
            kind: core::array::from_fn(|_| next()),
            child_phase: next(),
            address: core::array::from_fn(|_| next()),
            sibling: core::array::from_fn(|_| next()),
            old_child: core::array::from_fn(|_| next()),
            new_child: core::array::from_fn(|_| next()),
            old_left: core::array::from_fn(|_| next()),
            new_left: core::array::from_fn(|_| next()),
            old_parent: core::array::from_fn(|_| next()),
            new_parent: core::array::from_fn(|_| next()),
            inv: next(),
        }
    }

    #[cfg(any(test, feature = "prover"))]
    pub fn cells(self) -> Vec<T> {
        let mut out = Vec::with_capacity(N_COLUMNS);
        out.extend([self.enabled, self.top, self.w, self.t]);
        out.extend(self.j_sel);
        out.extend([self.q, self.q_child, self.bit, self.boundary]);
        out.extend(self.kind);
        out.push(self.child_phase);
        out.extend(self.address);
        out.extend(self.sibling);
        out.extend(self.old_child);
        out.extend(self.new_child);
        out.extend(self.old_left);
        out.extend(self.new_left);
        out.extend(self.old_parent);
        out.extend(self.new_parent);
        out.push(self.inv);
        out
    }
}

/// The Merkle component's constraints.
#[derive(Clone, Debug)]
pub struct MerkleEval {
    pub log_size: u32,
    pub relations: Relations,
}

pub type MerkleComponent = FrameworkComponent<MerkleEval>;

impl FrameworkEval for MerkleEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Every constraint has degree at most 3 (checked by a test).
    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + 1
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let c = MerkleColumns::read(|| eval.next_trace_mask());
        let enabled = c.enabled.clone();
        let [normal, bottom, mid] = c.kind.clone();
        let k = |v: u32| BaseField::from_u32_unchecked(v);

        for flag in [&enabled, &c.top, &c.bit, &c.boundary] {
            boolean(&mut eval, flag);
        }
        eval.add_constraint(c.top.clone() * (constant::<E::F>(1) - enabled.clone()));
        one_hot(&mut eval, &c.kind, &enabled);
        one_hot(&mut eval, &c.j_sel, &enabled);
        let j = index(&c.j_sel);

        // The top is the root: depth 0, no bits read.
        eval.add_constraint(c.top.clone() * c.t.clone());
        eval.add_constraint(c.top.clone() * j.clone());
        eval.add_constraint(c.top.clone() * c.q.clone());

        // Key bits: the child's prefix, and a limb's last bit.
        let extended = c.q.clone() * k(2) + c.bit.clone();
        let not_boundary = constant::<E::F>(1) - c.boundary.clone();
        eval.add_constraint(
            c.boundary.clone() * (c.t.clone() - constant::<E::F>(LIMB_BITS as u32 - 1)),
        );
        eval.add_constraint(c.boundary.clone() * c.q_child.clone());
        eval.add_constraint(not_boundary * (c.q_child.clone() - extended.clone()));
        eval.add_constraint(c.boundary.clone() * (extended - dot(&c.j_sel, &c.address)));
        let all_ones = c.q.clone() + c.bit.clone() - constant::<E::F>(1 << (LIMB_BITS - 1));
        eval.add_constraint(c.boundary.clone() * (all_ones * c.inv.clone() - constant::<E::F>(1)));

        // The compression inputs, ordered by the bit.
        let right = |child: &[E::F; DIGEST_ELEMENTS], left: &[E::F; DIGEST_ELEMENTS]| {
            core::array::from_fn::<E::F, DIGEST_ELEMENTS, _>(|i| {
                child[i].clone() + c.sibling[i].clone() - left[i].clone()
            })
        };
        for i in 0..DIGEST_ELEMENTS {
            for (left, child) in [(&c.old_left, &c.old_child), (&c.new_left, &c.new_child)] {
                let chosen =
                    child[i].clone() + c.bit.clone() * (c.sibling[i].clone() - child[i].clone());
                eval.add_constraint(left[i].clone() - chosen);
            }
        }

        // Split rows: the old node passes through; the new sibling is the
        // occupant at the bottom, EMPTY above it.
        let split = bottom.clone() + mid.clone();
        for (i, empty) in EMPTY_ELEMENTS.iter().enumerate() {
            eval.add_constraint(bottom.clone() * (c.sibling[i].clone() - c.old_child[i].clone()));
            eval.add_constraint(
                mid.clone() * (c.sibling[i].clone() - constant::<E::F>(empty.value())),
            );
            eval.add_constraint(split.clone() * (c.old_parent[i].clone() - c.old_child[i].clone()));
        }

        // The phase of the child each kind uses.
        let phase = c.child_phase.clone();
        eval.add_constraint(bottom.clone() * (phase.clone() - constant::<E::F>(2)));
        eval.add_constraint(mid.clone() * (phase.clone() - constant::<E::F>(1)));
        eval.add_constraint(normal.clone() * phase.clone() * (phase.clone() - constant::<E::F>(1)));

        let depth = j.clone() * k(LIMB_BITS as u32) + c.t.clone();
        let node = |d: E::F, t: E::F, j: E::F, q: E::F, phase: E::F, old: &[E::F], new: &[E::F]| {
            [c.w.clone(), d, t, j, q, phase]
                .into_iter()
                .chain(c.address.iter().cloned())
                .chain(old.iter().cloned())
                .chain(new.iter().cloned())
                .collect::<Vec<E::F>>()
        };
        let child = node(
            depth.clone() + constant::<E::F>(1),
            c.t.clone() + constant::<E::F>(1) - c.boundary.clone() * k(LIMB_BITS as u32),
            j.clone() + c.boundary.clone(),
            c.q_child.clone(),
            phase,
            &c.old_child,
            &c.new_child,
        );
        let parent = node(depth, c.t.clone(), j, c.q.clone(), split, &c.old_parent, &c.new_parent);
        let relations = &self.relations;
        eval.add_to_relation(RelationEntry::new(
            &relations.node,
            E::EF::from(enabled.clone()),
            &child,
        ));
        eval.add_to_relation(RelationEntry::new(
            &relations.node,
            E::EF::from(c.top.clone() - enabled.clone()),
            &parent,
        ));

        let root = |s: E::F, digest: &[E::F]| {
            core::iter::once(s).chain(digest.iter().cloned()).collect::<Vec<E::F>>()
        };
        let old_root = root(c.w.clone(), &c.old_parent);
        let new_root = root(c.w.clone() + constant::<E::F>(1), &c.new_parent);
        eval.add_to_relation(RelationEntry::new(
            &relations.root,
            E::EF::from(c.top.clone()),
            &old_root,
        ));
        eval.add_to_relation(RelationEntry::new(
            &relations.root,
            E::EF::from(-c.top.clone()),
            &new_root,
        ));

        for (multiplicity, left, child, parent) in [
            (normal, &c.old_left, &c.old_child, &c.old_parent),
            (enabled, &c.new_left, &c.new_child, &c.new_parent),
        ] {
            let right = right(child, left);
            let input =
                core::array::from_fn(
                    |i| if i < 8 { left[i].clone() } else { right[i - 8].clone() },
                );
            let output: [E::F; DIGEST_ELEMENTS] =
                core::array::from_fn(|i| parent[i].clone() - left[i].clone());
            use_permutation(&mut eval, &relations.permutation, multiplicity, input, &output);
        }

        eval.finalize_logup_in_pairs();
        eval
    }
}

#[cfg(feature = "prover")]
pub use prover::*;

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;

    use super::super::key_bits::{LIMB_BITS, address_limbs, depth_parts, prefix};
    use super::super::lookups::LookupCounts;
    use super::super::relations::Relations;
    use super::super::trace::{Evaluation, TraceColumns, log_size_for};
    use super::super::witness::BlockWitness;
    use super::super::write::{
        Digest, Level, LevelKind, WritePlan, evaluations, interaction, plans,
    };
    use super::*;
    use crate::hash::M31;

    /// The Merkle component's trace.
    pub struct MerkleTrace {
        columns: TraceColumns,
    }

    /// The Merkle rows of `witness`'s writes, counting the permutations they
    /// use.
    pub fn gen_trace(
        witness: &BlockWitness,
        counts: &mut LookupCounts,
    ) -> Result<MerkleTrace, TraceError> {
        Ok(trace_from(&plans(witness)?, counts))
    }

    /// The rows of `plans`, as they claim (no checks).
    pub(in crate::proving) fn trace_from(
        plans: &[WritePlan],
        counts: &mut LookupCounts,
    ) -> MerkleTrace {
        let paths: Vec<_> = plans.iter().map(WritePlan::levels).collect();
        trace_from_levels(plans, &paths, counts)
    }

    /// The rows of `plans` whose path levels (`paths`, one per plan) are
    /// already hashed: the parents are read from them, not hashed again.
    pub(in crate::proving) fn trace_from_levels(
        plans: &[WritePlan],
        paths: &[Vec<Level>],
        counts: &mut LookupCounts,
    ) -> MerkleTrace {
        debug_assert_eq!(plans.len(), paths.len());
        let levels: Vec<_> = plans
            .iter()
            .zip(paths)
            .flat_map(|(plan, levels)| levels.iter().map(move |level| (plan, level)))
            .collect();
        let mut columns = TraceColumns::new(log_size_for(levels.len()), N_COLUMNS);
        for (row, (plan, level)) in levels.iter().enumerate() {
            let address = address_limbs(&plan.address);
            let (t, j) = depth_parts(level.depth);
            let bit = M31::new(u32::from(level.bit));
            let q = M31::new(prefix(address[j], t));
            let boundary = t == LIMB_BITS - 1;
            let ordered = |child: &Digest| {
                if level.bit { (level.sibling, *child) } else { (*child, level.sibling) }
            };
            let (old_left, old_right) = ordered(&level.old_child);
            let (new_left, new_right) = ordered(&level.new_child);
            let (kind, child_phase) = match level.kind {
                LevelKind::Normal { child_phase } => (0, child_phase),
                LevelKind::SplitBottom => (1, 2),
                LevelKind::SplitMid => (2, 1),
            };
            let mut compress = |left: &Digest, right: &Digest, parent: &Digest| {
                let input = core::array::from_fn(|i| if i < 8 { left[i] } else { right[i - 8] });
                counts.record(input, false);
                debug_assert_eq!(compressed(input, left), *parent);
            };
            if kind == 0 {
                compress(&old_left, &old_right, &level.old_parent);
            }
            compress(&new_left, &new_right, &level.new_parent);
            let inv = if boundary {
                (q + bit - M31::new(1 << (LIMB_BITS - 1)))
                    .inverse()
                    .expect("a canonical limb is not all ones")
            } else {
                M31::ZERO
            };
            let cells = MerkleColumns {
                enabled: M31::ONE,
                top: M31::new(u32::from(level.depth == 0)),
                w: M31::new(plan.w),
                t: M31::new(t as u32),
                j_sel: core::array::from_fn(|k| M31::new(u32::from(k == j))),
                q,
                q_child: if boundary { M31::ZERO } else { q + q + bit },
                bit,
                boundary: M31::new(u32::from(boundary)),
                kind: core::array::from_fn(|k| M31::new(u32::from(k == kind))),
                child_phase: M31::new(child_phase),
                address,
                sibling: level.sibling,
                old_child: level.old_child,
                new_child: level.new_child,
                old_left,
                new_left,
                old_parent: level.old_parent,
                new_parent: level.new_parent,
                inv,
            };
            columns.set_row(row, &cells.cells());
        }
        MerkleTrace { columns }
    }

    /// The parent `compress` yields from `input` (left child then right):
    /// the permutation's first half plus the left child (feed-forward).
    fn compressed(input: [M31; 16], left: &Digest) -> Digest {
        let mut state = input;
        crate::hash::permute(&mut state);
        core::array::from_fn(|i| state[i] + left[i])
    }

    impl MerkleTrace {
        pub fn log_size(&self) -> u32 {
            self.columns.log_size()
        }

        /// The main trace columns, ready to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            evaluations(&self.columns)
        }

        /// The LogUp columns for `relations`, and their claimed sum.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let eval = MerkleEval { log_size: self.log_size(), relations: relations.clone() };
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
}

/// Block witnesses and checks shared by the tree components' tests.
#[cfg(all(test, feature = "prover"))]
pub(in crate::proving) mod fixtures {
    use alloc::collections::BTreeMap;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use stwo::core::channel::Blake2sChannel;
    use stwo::core::fields::FieldExpOps;
    use stwo::core::fields::m31::BaseField;
    use stwo::core::fields::qm31::SecureField;
    use stwo::core::pcs::TreeVec;
    use stwo::prover::backend::Column;
    use stwo_constraint_framework::relation_tracker::{
        RelationTrackerEntry, add_to_relation_entries,
    };
    use stwo_constraint_framework::{
        FrameworkComponent, FrameworkEval, Relation, TraceLocationAllocator,
        assert_constraints_on_trace,
    };

    use super::super::lookups::LookupCounts;
    use super::super::relations::Relations;
    use super::super::trace::{Evaluation, TraceColumns};
    use super::super::witness::BlockWitness;
    use super::super::write::{WritePlan, eval_row, plans};
    use super::super::{merkle, split, write};
    use crate::chain::{BlockTemplate, Genesis, build_block};
    use crate::crypto::{SequencerKey, StarkSecretKey};
    use crate::hash::{M31, elements_to_hash, hash_to_elements, permute};
    use crate::staking::StakingParams;
    use crate::state::StateTree;
    use crate::types::{Address, Call, ChainId, Header, Transaction, TxBody};

    /// The address with these limbs (each at most 2^31 − 2).
    pub fn address(limbs: [u32; 8]) -> Address {
        assert!(limbs.iter().all(|l| *l < (1 << 31) - 1), "non-canonical {limbs:?}");
        Address(elements_to_hash(&limbs.map(M31::new)).0)
    }

    /// `a` with key bit `depth` flipped.
    pub fn flip(a: &Address, depth: usize) -> Address {
        let mut limbs = hash_to_elements(&a.as_hash()).map(M31::value);
        limbs[depth / 31] ^= 1 << (30 - depth % 31);
        address(limbs)
    }

    /// A single-stage chain with three funded users and `extra` allocations.
    pub struct Chain {
        chain_id: ChainId,
        key: SequencerKey,
        pub users: Vec<StarkSecretKey>,
        pub state: StateTree,
        pub head: Header,
        nonces: Vec<u64>,
    }

    impl Chain {
        pub fn new(extra: &[(Address, u64)]) -> Self {
            let key = SequencerKey::from_seed(&[1; 32]);
            let users: Vec<StarkSecretKey> =
                (10..13).map(|i| StarkSecretKey::from_entropy(&[i; 32])).collect();
            let mut allocations: Vec<crate::chain::Allocation> = users
                .iter()
                .map(|u| crate::chain::Allocation {
                    address: u.public_key().address(),
                    balance: 1_000_000,
                })
                .collect();
            allocations.extend(extra.iter().map(|(address, balance)| crate::chain::Allocation {
                address: *address,
                balance: *balance,
            }));
            let genesis = Genesis {
                chain_id: ChainId::new("starling-test").unwrap(),
                sequencer: key.public_key(),
                timestamp_ms: 1_000,
                allocations,
                staking: StakingParams::default(),
            };
            let (block, state) = genesis.block().unwrap();
            Self {
                chain_id: genesis.chain_id,
                key,
                users,
                state,
                head: block.header,
                nonces: alloc::vec![0; 3],
            }
        }

        pub fn user(&self, i: usize) -> Address {
            self.users[i].public_key().address()
        }

        /// A transfer from user `from` (its next nonce), fee 1.
        pub fn pay(&mut self, from: usize, to: Address, amount: u64) -> Transaction {
            let body = TxBody {
                chain_id: self.chain_id.clone(),
                sender_key: self.users[from].public_key(),
                nonce: self.nonces[from],
                fee: 1,
                call: Call::Transfer { to, amount },
            };
            self.nonces[from] += 1;
            body.sign(&self.users[from])
        }

        /// Builds the next block from `txs` (all must apply) and records its
        /// witness from the parent state.
        pub fn block(&mut self, txs: Vec<Transaction>) -> BlockWitness {
            let parent_state = self.state.clone();
            let template = BlockTemplate {
                parent: &self.head,
                timestamp_ms: self.head.timestamp_ms + 1000,
                key: &self.key,
                parent_commit: None,
            };
            let built = build_block(&mut self.state, template, txs).unwrap();
            assert!(built.rejected.is_empty(), "{:?}", built.rejected);
            let witness =
                BlockWitness::from_state(&built.block, &self.head, &parent_state).unwrap();
            self.head = built.block.header;
            witness
        }
    }

    /// Crafted addresses: `A` and `B` share their first 40 key bits (a zero
    /// first limb, so 31 zero bits); `G` and `H` share 41, and `G`'s second
    /// limb is zero.
    pub fn crafted() -> [(Address, u64); 4] {
        let a = address([0, 0x2345_6789, 0, 0, 0, 0, 0, 1]);
        let b = flip(&a, 40);
        let g = address([0x5555_5555, 0, 7, 7, 7, 7, 7, 7]);
        let h = flip(&g, 41);
        [(a, 500), (b, 500), (g, 500), (h, 500)]
    }

    /// One block with every kind of write: updates at shallow depth and deep
    /// (past a limb boundary, and in a zero limb), inserts into empty subtrees
    /// at depths 11 and 36, a split whose keys part at 45 (mid rows across the
    /// limb boundary) and one that parts right at the occupant's depth.
    pub fn scenario() -> BlockWitness {
        let [(a, _), _, (g, _), _] = crafted();
        let mut chain = Chain::new(&crafted());
        let c1 = address([1 << 20, 5, 5, 5, 5, 5, 5, 5]);
        let c2 = flip(&address([0, 0x2345_6789, 9, 9, 9, 9, 9, 9]), 35);
        let e = flip(&chain.user(0), 45);
        let f = flip(&chain.user(1), chain.state.prove(&chain.user(1)).depth());
        let txs = alloc::vec![
            chain.pay(0, a, 10),
            chain.pay(1, c1, 11),
            chain.pay(2, c2, 12),
            chain.pay(0, e, 13),
            chain.pay(2, f, 14),
            chain.pay(1, chain.user(2), 15),
            chain.pay(2, g, 16),
        ];
        chain.block(txs)
    }

    /// The three components' traces of a witness, and what they used.
    pub struct Traces {
        pub write: write::WriteTrace,
        pub merkle: merkle::MerkleTrace,
        pub split: split::SplitTrace,
        pub counts: LookupCounts,
    }

    pub fn traces(witness: &BlockWitness) -> Traces {
        let mut counts = LookupCounts::default();
        let write = write::gen_trace(witness, &mut counts).unwrap();
        let merkle = merkle::gen_trace(witness, &mut counts).unwrap();
        let split = split::gen_trace(witness, &mut counts).unwrap();
        Traces { write, merkle, split, counts }
    }

    /// The traces of `plans`, laid out as they claim (for cheating provers).
    pub fn traces_from(plans: &[WritePlan]) -> Traces {
        let mut counts = LookupCounts::default();
        let write = write::trace_from(plans, &mut counts);
        let merkle = merkle::trace_from(plans, &mut counts);
        let split = split::trace_from(plans, &mut counts);
        Traces { write, merkle, split, counts }
    }

    pub fn honest_plans(witness: &BlockWitness) -> Vec<WritePlan> {
        plans(witness).unwrap()
    }

    /// Relations drawn from a channel, as a proof would.
    pub fn drawn() -> Relations {
        let mut channel = Blake2sChannel::default();
        Relations::draw(&mut channel)
    }

    /// The columns, column-major.
    pub fn column_values(columns: &TraceColumns, width: usize) -> Vec<Vec<BaseField>> {
        (0..width)
            .map(|c| (0..1 << columns.log_size()).map(|r| columns.get(r, c)).collect())
            .collect()
    }

    /// Overwrites one cell.
    pub fn set_cell(
        columns: &mut TraceColumns,
        width: usize,
        row: usize,
        column: usize,
        value: M31,
    ) {
        let mut cells: Vec<M31> = (0..width).map(|c| M31::new(columns.get(row, c).0)).collect();
        cells[column] = value;
        columns.set_row(row, &cells);
    }

    pub fn cell(columns: &TraceColumns, row: usize, column: usize) -> M31 {
        M31::new(columns.get(row, column).0)
    }

    /// One cell to change: what it is, its row and column, and its new value
    /// (`None`: the old value plus one).
    pub type CellChange = (&'static str, usize, usize, Option<M31>);

    /// Proves each change, made alone to the honest traces of `witness` in
    /// the component `pick` selects (`width` columns wide), is refused.
    pub fn assert_changes_refused(
        witness: &BlockWitness,
        width: usize,
        pick: impl Fn(&mut Traces) -> &mut TraceColumns,
        cases: Vec<CellChange>,
    ) {
        for (name, row, column, value) in cases {
            let mut traces = traces(witness);
            let columns = pick(&mut traces);
            let old = cell(columns, row, column);
            let value = value.unwrap_or(old + M31::ONE);
            assert_ne!(old, value, "{name}: not a change");
            set_cell(columns, width, row, column, value);
            assert!(verdict(witness, &traces).is_err(), "{name}: accepted");
        }
    }

    /// stwo's own check of every constraint, LogUp included, on every row.
    pub fn assert_constraints<C: FrameworkEval + Sync>(
        eval: &C,
        columns: &TraceColumns,
        width: usize,
        interaction: (Vec<Evaluation>, SecureField),
    ) {
        let main = column_values(columns, width);
        let logup: Vec<Vec<BaseField>> = interaction.0.iter().map(|e| e.values.to_cpu()).collect();
        let trace =
            TreeVec::new(alloc::vec![Vec::new(), main.iter().collect(), logup.iter().collect()]);
        assert_constraints_on_trace(
            &trace,
            columns.log_size(),
            |row| {
                eval.evaluate(row);
            },
            interaction.1,
        );
    }

    /// `(row, constraint)` of every constraint broken (LogUp's excepted).
    pub fn violations<C: FrameworkEval>(
        eval: &C,
        columns: &TraceColumns,
        width: usize,
    ) -> Vec<(usize, usize)> {
        (0..1 << columns.log_size())
            .flat_map(|row| {
                eval_row(eval, columns, width, row).1.into_iter().map(move |c| (row, c))
            })
            .collect()
    }

    /// Every relation entry of a component's rows.
    pub fn entries<C: FrameworkEval>(
        eval: C,
        columns: &TraceColumns,
        width: usize,
    ) -> Vec<RelationTrackerEntry> {
        let component = FrameworkComponent::new(
            &mut TraceLocationAllocator::default(),
            eval,
            SecureField::default(),
        );
        let main = column_values(columns, width);
        let trace = TreeVec::new(alloc::vec![Vec::new(), main.iter().collect()]);
        add_to_relation_entries(&component, &trace)
    }

    /// Every relation entry of the three components.
    pub fn all_entries(traces: &Traces) -> Vec<RelationTrackerEntry> {
        let relations = Relations::dummy();
        let mut out = entries(
            write::WriteEval { log_size: traces.write.log_size(), relations: relations.clone() },
            traces.write.columns(),
            write::N_COLUMNS,
        );
        out.extend(entries(
            merkle::MerkleEval { log_size: traces.merkle.log_size(), relations: relations.clone() },
            traces.merkle.columns(),
            merkle::N_COLUMNS,
        ));
        out.extend(entries(
            split::SplitEval { log_size: traces.split.log_size(), relations },
            traces.split.columns(),
            split::N_COLUMNS,
        ));
        out
    }

    /// Why the traces would not make a proof, or `Ok`: a broken constraint in
    /// any component; a `Node`, `Root` (with the verifier's pre- and post-root
    /// entries) or `Split` tuple used and yielded unequally often; or a
    /// `Permutation` tuple used that is not a true Poseidon2 evaluation (the
    /// Poseidon component yields nothing else). `Write` is left to the
    /// transaction component.
    pub fn verdict(witness: &BlockWitness, traces: &Traces) -> Result<(), String> {
        let relations = Relations::dummy();
        let broken = [
            violations(
                &write::WriteEval {
                    log_size: traces.write.log_size(),
                    relations: relations.clone(),
                },
                traces.write.columns(),
                write::N_COLUMNS,
            ),
            violations(
                &merkle::MerkleEval {
                    log_size: traces.merkle.log_size(),
                    relations: relations.clone(),
                },
                traces.merkle.columns(),
                merkle::N_COLUMNS,
            ),
            violations(
                &split::SplitEval { log_size: traces.split.log_size(), relations },
                traces.split.columns(),
                split::N_COLUMNS,
            ),
        ];
        for (name, broken) in ["write", "merkle", "split"].iter().zip(&broken) {
            if !broken.is_empty() {
                return Err(alloc::format!("{name} constraints broken at {broken:?}"));
            }
        }
        let mut ledger: BTreeMap<(String, Vec<u32>), BaseField> = BTreeMap::new();
        let statement = &witness.statement;
        let public = [
            (
                -BaseField::from(1u32),
                core::iter::once(0).chain(hash_to_elements(&statement.pre_root).map(M31::value)),
            ),
            (
                BaseField::from(1u32),
                core::iter::once(statement.writes)
                    .chain(hash_to_elements(&statement.post_root).map(M31::value)),
            ),
        ];
        for (mult, values) in public {
            *ledger.entry(("Root".to_string(), values.collect())).or_default() += mult;
        }
        for entry in all_entries(traces) {
            if entry.mult == BaseField::from(0u32) {
                continue;
            }
            let mut values: Vec<u32> = entry.values.iter().map(|v| v.0).collect();
            if entry.relation == "Permutation" {
                let input: [M31; 16] = core::array::from_fn(|i| M31::new(values[i]));
                let mut state = input;
                permute(&mut state);
                values.resize(32, 0);
                let full = values[24..].iter().any(|v| *v != 0);
                let expected: Vec<u32> =
                    (0..16).map(|i| if i < 8 || full { state[i].value() } else { 0 }).collect();
                if values[16..] != expected[..] {
                    return Err(alloc::format!(
                        "a permutation use is not a Poseidon2 evaluation: {values:?}"
                    ));
                }
                continue;
            }
            if entry.relation == "Write" {
                continue;
            }
            *ledger.entry((entry.relation.clone(), values)).or_default() += entry.mult;
        }
        let unbalanced: Vec<_> =
            ledger.iter().filter(|(_, m)| **m != BaseField::from(0u32)).collect();
        if unbalanced.is_empty() {
            Ok(())
        } else {
            Err(alloc::format!("unbalanced: {unbalanced:?}"))
        }
    }

    /// Sum of `mult / combine(values)` over the Poseidon yields of `counts`
    /// and the transaction component's `Write` uses, as those components
    /// would add them.
    pub fn others_sum(
        witness: &BlockWitness,
        counts: &LookupCounts,
        relations: &Relations,
    ) -> SecureField {
        let mut sum = SecureField::default();
        for used in &counts.permutations {
            let mut state = used.input;
            permute(&mut state);
            let values: Vec<BaseField> = used
                .input
                .iter()
                .chain(state.iter().take(if used.full { 16 } else { 8 }))
                .map(|v| BaseField::from(v.value()))
                .collect();
            let denominator: SecureField = relations.permutation.combine(&values);
            sum -= denominator.inverse();
        }
        for (w, write) in witness.writes.iter().enumerate() {
            let mut values = alloc::vec![BaseField::from(w as u32)];
            values.extend(
                hash_to_elements(&write.address.as_hash()).map(|v| BaseField::from(v.value())),
            );
            values.extend(
                super::super::write::account_elements(&write.old)
                    .map(|v| BaseField::from(v.value())),
            );
            values.extend(
                super::super::write::account_elements(&write.new)
                    .map(|v| BaseField::from(v.value())),
            );
            let denominator: SecureField = relations.write.combine(&values);
            sum += denominator.inverse();
        }
        let statement = &witness.statement;
        let root = |s: u32, hash| {
            let values: Vec<BaseField> = core::iter::once(BaseField::from(s))
                .chain(hash_to_elements(hash).map(|v| BaseField::from(v.value())))
                .collect();
            let denominator: SecureField = relations.root.combine(&values);
            denominator.inverse()
        };
        sum - root(0, &statement.pre_root) + root(statement.writes, &statement.post_root)
    }
}

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::vec::Vec;

    use crate::proving::testing::constraint_degrees;

    use super::super::relations::Relations;
    use super::super::write::{Kind, LevelKind};
    use super::fixtures::*;
    use super::*;
    use crate::hash::M31;

    /// Column indices of a Merkle row, by name.
    fn layout() -> MerkleColumns<usize> {
        let mut next = 0..;
        MerkleColumns::read(|| next.next().unwrap())
    }

    /// Proves the row layout reads and writes the same columns, `N_COLUMNS`
    /// of them.
    #[test]
    fn layout_round_trips() {
        assert_eq!(layout().cells(), (0..N_COLUMNS).collect::<Vec<_>>());
    }

    /// Proves every Merkle constraint, LogUp's included, has degree at most
    /// 3, as `max_constraint_log_degree_bound = log_size + 1` assumes.
    #[test]
    fn degree_at_most_three() {
        let eval = MerkleEval { log_size: 4, relations: Relations::dummy() };
        let degrees = constraint_degrees(&eval);
        assert_eq!(degrees.iter().max(), Some(&3), "{degrees:?}");
    }

    /// Proves the scenario block has every kind of write and level it is
    /// meant to: deep updates, inserts into empty subtrees at depths 11 and
    /// 36, a split parting at 45 with mid rows across the limb boundary and a
    /// split with no mid row.
    #[test]
    fn scenario_covers_every_kind() {
        let plans = honest_plans(&scenario());
        let kinds: Vec<(usize, usize, &str)> = plans
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    Kind::Update => "update",
                    Kind::InsertEmpty => "empty",
                    Kind::Split { .. } => "split",
                };
                (p.depth, p.leaf_depth(), kind)
            })
            .collect();
        assert!(kinds.contains(&(41, 41, "update")), "{kinds:?}");
        assert!(kinds.contains(&(42, 42, "update")), "{kinds:?}");
        assert!(kinds.contains(&(11, 11, "empty")), "{kinds:?}");
        assert!(kinds.contains(&(36, 36, "empty")), "{kinds:?}");
        assert!(kinds.iter().any(|(d, e, k)| *k == "split" && *e == 46 && *d < 31), "{kinds:?}");
        assert!(kinds.iter().any(|(d, e, k)| *k == "split" && *e == d + 1), "{kinds:?}");
        let levels: Vec<_> = plans.iter().flat_map(|p| p.levels()).collect();
        assert!(levels.iter().any(|l| l.kind == LevelKind::SplitMid && l.depth == 30));
        assert!(levels.iter().any(|l| l.kind == LevelKind::Normal { child_phase: 1 }));
    }

    /// Proves the honest Merkle trace satisfies every constraint (stwo's own
    /// check, with the LogUp columns), with relations drawn from a channel.
    #[test]
    fn honest_trace_satisfies_constraints() {
        let witness = scenario();
        let traces = traces(&witness);
        let relations = drawn();
        let eval = MerkleEval { log_size: traces.merkle.log_size(), relations: relations.clone() };
        assert_constraints(
            &eval,
            traces.merkle.columns(),
            N_COLUMNS,
            traces.merkle.interaction(&relations),
        );
        assert!(violations(&eval, traces.merkle.columns(), N_COLUMNS).is_empty());
        // Padding rows exist and are zero.
        let rows: usize = honest_plans(&witness).iter().map(|p| p.leaf_depth()).sum();
        assert!(rows < 1 << traces.merkle.log_size());
        assert_eq!(cell(traces.merkle.columns(), rows, 0), M31::ZERO);
    }

    /// Proves the Node, Root and Split relations balance across the write,
    /// Merkle and split components with the verifier's root pair, and that
    /// every permutation used is a true Poseidon2 evaluation.
    #[test]
    fn relations_balance() {
        let witness = scenario();
        assert_eq!(verdict(&witness, &traces(&witness)), Ok(()));
    }

    /// Proves the three components' claimed sums, computed with one set of
    /// drawn relations, cancel against what the others add: the Poseidon
    /// component's yields, the transaction component's `Write` uses and the
    /// verifier's root pair.
    #[test]
    fn claimed_sums_cancel() {
        let witness = scenario();
        let traces = traces(&witness);
        let relations = drawn();
        let total = traces.write.interaction(&relations).1
            + traces.merkle.interaction(&relations).1
            + traces.split.interaction(&relations).1
            + others_sum(&witness, &traces.counts, &relations);
        assert_eq!(total, stwo::core::fields::qm31::SecureField::default());
    }

    /// Proves a proof of two blocks in a row chains: the second block's
    /// writes (including updates of accounts the first inserted deep in the
    /// tree) balance too.
    #[test]
    fn second_block_balances() {
        let [(a, _), ..] = crafted();
        let mut chain = Chain::new(&crafted());
        let deep = flip(&a, 39);
        let first = alloc::vec![chain.pay(0, deep, 5)];
        let first = chain.block(first);
        assert_eq!(verdict(&first, &traces(&first)), Ok(()));
        let second = alloc::vec![chain.pay(1, deep, 6), chain.pay(0, a, 7)];
        let second = chain.block(second);
        assert_eq!(verdict(&second, &traces(&second)), Ok(()));
    }

    /// The row of the first level at `depth` matching `kind`, in the honest
    /// trace of `witness`.
    fn row_where(
        witness: &BlockWitness,
        pick: impl Fn(&WritePlanRef, usize, LevelKind) -> bool,
    ) -> usize {
        let plans = honest_plans(witness);
        let mut row = 0;
        for plan in &plans {
            for level in plan.levels() {
                if pick(plan, level.depth, level.kind) {
                    return row;
                }
                row += 1;
            }
        }
        panic!("no such row");
    }

    type WritePlanRef = super::super::write::WritePlan;
    use super::super::witness::BlockWitness;

    /// Proves a change to any single one of these cells of an honest Merkle
    /// trace is refused (by a constraint, or by a relation that no longer
    /// balances): a sibling element, a key bit, `q`, `q_child`, a kind flag, the
    /// child's phase, the top flag, a boundary flag, an old parent element, an
    /// address limb, `w`.
    #[test]
    fn single_cell_changes_are_refused() {
        let witness = scenario();
        let columns = layout();
        let update_41 = row_where(&witness, |p, d, _| {
            p.depth == 41 && matches!(p.kind, Kind::Update) && d == 35
        });
        let boundary = row_where(&witness, |p, d, _| p.depth == 41 && d == 30);
        let top = row_where(&witness, |p, d, _| p.depth == 41 && d == 0);
        let above_split = row_where(&witness, |_, _, k| k == LevelKind::Normal { child_phase: 1 });
        let mid = row_where(&witness, |_, _, k| k == LevelKind::SplitMid);
        let bottom = row_where(&witness, |_, _, k| k == LevelKind::SplitBottom);
        let cases: Vec<CellChange> = alloc::vec![
            ("sibling", update_41, columns.sibling[3], None),
            ("bit", update_41, columns.bit, None),
            ("bit at a boundary", boundary, columns.bit, None),
            ("q", update_41, columns.q, None),
            ("q_child", update_41, columns.q_child, None),
            ("normal flag", update_41, columns.kind[0], Some(M31::ZERO)),
            ("mid flag on a normal row", update_41, columns.kind[2], Some(M31::ONE)),
            ("normal as mid", mid, columns.kind[0], Some(M31::ONE)),
            ("bottom as mid", bottom, columns.kind[2], Some(M31::ONE)),
            ("phase above a split", above_split, columns.child_phase, Some(M31::ZERO)),
            ("phase of a mid row", mid, columns.child_phase, Some(M31::new(2))),
            ("top flag", top, columns.top, Some(M31::ZERO)),
            ("top flag below the top", update_41, columns.top, Some(M31::ONE)),
            ("boundary flag", boundary, columns.boundary, Some(M31::ZERO)),
            ("boundary flag off a boundary", update_41, columns.boundary, Some(M31::ONE)),
            ("old parent", update_41, columns.old_parent[0], None),
            ("new parent", mid, columns.new_parent[7], None),
            ("mid sibling", mid, columns.sibling[0], None),
            ("address", update_41, columns.address[2], None),
            ("w", update_41, columns.w, None),
            ("t", update_41, columns.t, None),
            ("j", boundary, columns.j_sel[0], Some(M31::ZERO)),
            ("enabled", update_41, columns.enabled, Some(M31::ZERO)),
        ];
        assert_changes_refused(&witness, N_COLUMNS, |t| t.merkle.columns_mut(), cases);
    }

    /// Proves the zero-limb rule is what stops a zero limb being read as all
    /// ones: at the boundary of address `A`'s zero first limb, the bits
    /// `q = 2^30 − 1, b = 1` satisfy `2·q + b = 0` in the field, and with the
    /// row otherwise made consistent (the inputs reordered), exactly one
    /// constraint fails, whatever the inverse witness.
    #[test]
    fn zero_limb_rule_refuses_all_ones() {
        let witness = scenario();
        let columns = layout();
        let row = row_where(&witness, |p, d, _| {
            p.depth == 41 && matches!(p.kind, Kind::Update) && d == 30
        });
        let traces = traces(&witness);
        let m = traces.merkle.columns();
        assert_eq!(
            (cell(m, row, columns.t), cell(m, row, columns.j_sel[0])),
            (M31::new(30), M31::ONE)
        );
        assert_eq!(cell(m, row, columns.address[0]), M31::ZERO);
        let eval = MerkleEval { log_size: traces.merkle.log_size(), relations: Relations::dummy() };
        for inv in [M31::ZERO, M31::ONE, M31::new(12345)] {
            let mut traces = super::fixtures::traces(&witness);
            let m = traces.merkle.columns_mut();
            set_cell(m, N_COLUMNS, row, columns.q, M31::new((1 << 30) - 1));
            set_cell(m, N_COLUMNS, row, columns.bit, M31::ONE);
            set_cell(m, N_COLUMNS, row, columns.inv, inv);
            for i in 0..8 {
                let sibling = cell(m, row, columns.sibling[i]);
                set_cell(m, N_COLUMNS, row, columns.old_left[i], sibling);
                set_cell(m, N_COLUMNS, row, columns.new_left[i], sibling);
            }
            let broken = violations(&eval, traces.merkle.columns(), N_COLUMNS);
            assert_eq!(broken.len(), 1, "{broken:?}");
        }
    }

    /// Proves cheating provers that lay out a self-consistent trace from a
    /// false claim are refused by the relations: a write placed one level too
    /// high or too low, a wrong sibling, an update claimed as an insert into
    /// an empty subtree, an insert claimed as an update of an empty account, a
    /// split claimed as an insert into an empty subtree at the occupant's
    /// depth, and an insert into an empty subtree claimed one level deeper.
    #[test]
    fn false_claims_are_refused() {
        use crate::state::Account;
        let witness = scenario();
        let honest = honest_plans(&witness);
        assert_eq!(verdict(&witness, &traces_from(&honest)), Ok(()));
        let update = honest.iter().position(|p| p.depth == 41).unwrap();
        let empty = honest.iter().position(|p| matches!(p.kind, Kind::InsertEmpty)).unwrap();
        let split = honest.iter().position(|p| matches!(p.kind, Kind::Split { .. })).unwrap();
        type Cheat = fn(&mut super::super::write::WritePlan);
        let cheats: [(&str, usize, Cheat); 8] = [
            ("update one level up", update, |p| {
                p.depth -= 1;
                p.siblings.pop();
            }),
            ("update one level down", update, |p| {
                p.depth += 1;
                p.siblings.push(super::super::write::EMPTY_ELEMENTS);
            }),
            ("wrong sibling", update, |p| p.siblings[17][0] += M31::ONE),
            ("wrong top sibling", empty, |p| p.siblings[0][7] += M31::ONE),
            ("update as insert", update, |p| {
                p.old = Account::default();
                p.kind = Kind::InsertEmpty;
            }),
            ("insert as update", empty, |p| p.kind = Kind::Update),
            ("split as insert", split, |p| p.kind = Kind::InsertEmpty),
            ("insert one level down", empty, |p| {
                p.depth += 1;
                p.siblings.push(super::super::write::EMPTY_ELEMENTS);
            }),
        ];
        for (name, index, cheat) in cheats {
            let mut plans = honest.clone();
            cheat(&mut plans[index]);
            let verdict = verdict(&witness, &traces_from(&plans));
            assert!(verdict.is_err(), "{name}: accepted");
        }
    }

    /// Proves the component handles an empty block's single write (the
    /// block end) and pads to the minimum size.
    #[test]
    fn block_end_alone() {
        let mut chain = Chain::new(&[]);
        let witness = chain.block(Vec::new());
        assert_eq!(witness.writes.len(), 1);
        let traces = traces(&witness);
        assert_eq!(traces.write.log_size(), 4);
        assert_eq!(verdict(&witness, &traces), Ok(()));
    }

    /// Proves the three components prove and verify together with stwo (the
    /// standard configuration, relations drawn after the main trace is
    /// committed): the degree bounds they declare are the ones the prover
    /// needs, and the LogUp columns match the constraints on the whole
    /// evaluation domain, not only on the trace rows. (The relations are
    /// checked to balance by the other tests; stwo leaves the sum to the
    /// caller.)
    #[test]
    fn proves_and_verifies() {
        use stwo::core::air::Component;
        use stwo::core::channel::Blake2sChannel;
        use stwo::core::pcs::{CommitmentSchemeVerifier, TreeVec};
        use stwo::core::poly::circle::CanonicCoset;
        use stwo::core::vcs_lifted::blake2_merkle::Blake2sMerkleChannel;
        use stwo::core::verifier::verify;
        use stwo::prover::backend::simd::SimdBackend;
        use stwo::prover::poly::circle::PolyOps;
        use stwo::prover::{CommitmentSchemeProver, prove};
        use stwo_constraint_framework::TraceLocationAllocator;

        use super::super::config::ProofConfig;
        use super::super::{split, write};

        let witness = scenario();
        let traces = traces(&witness);
        let config = ProofConfig::STANDARD.pcs();
        let largest = [traces.write.log_size(), traces.merkle.log_size(), traces.split.log_size()]
            .into_iter()
            .max()
            .unwrap();
        let twiddles = SimdBackend::precompute_twiddles(
            CanonicCoset::new(largest + 1 + config.fri_config.log_blowup_factor)
                .circle_domain()
                .half_coset,
        );
        let channel = &mut Blake2sChannel::default();
        let mut scheme =
            CommitmentSchemeProver::<SimdBackend, Blake2sMerkleChannel>::new(config, &twiddles);
        scheme.tree_builder().commit(channel);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(traces.write.evaluations());
        tree.extend_evals(traces.merkle.evaluations());
        tree.extend_evals(traces.split.evaluations());
        tree.commit(channel);
        let relations = Relations::draw(channel);
        let (write_logup, write_sum) = traces.write.interaction(&relations);
        let (merkle_logup, merkle_sum) = traces.merkle.interaction(&relations);
        let (split_logup, split_sum) = traces.split.interaction(&relations);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(write_logup);
        tree.extend_evals(merkle_logup);
        tree.extend_evals(split_logup);
        tree.commit(channel);

        let components = |relations: &Relations| {
            let allocator = &mut TraceLocationAllocator::default();
            let write = write::WriteComponent::new(
                allocator,
                write::WriteEval {
                    log_size: traces.write.log_size(),
                    relations: relations.clone(),
                },
                write_sum,
            );
            let merkle = MerkleComponent::new(
                allocator,
                MerkleEval { log_size: traces.merkle.log_size(), relations: relations.clone() },
                merkle_sum,
            );
            let split = split::SplitComponent::new(
                allocator,
                split::SplitEval {
                    log_size: traces.split.log_size(),
                    relations: relations.clone(),
                },
                split_sum,
            );
            (write, merkle, split)
        };
        let (w, m, s) = components(&relations);
        let proof =
            prove::<SimdBackend, Blake2sMerkleChannel>(&[&w, &m, &s], channel, scheme).unwrap();

        let channel = &mut Blake2sChannel::default();
        let verifier = &mut CommitmentSchemeVerifier::<Blake2sMerkleChannel>::new(config);
        let sizes = TreeVec::concat_cols(
            [w.trace_log_degree_bounds(), m.trace_log_degree_bounds(), s.trace_log_degree_bounds()]
                .into_iter(),
        );
        verifier.commit(proof.commitments[0], &sizes[0], channel);
        verifier.commit(proof.commitments[1], &sizes[1], channel);
        let drawn = Relations::draw(channel);
        assert_eq!(drawn, relations);
        verifier.commit(proof.commitments[2], &sizes[2], channel);
        let (w, m, s) = components(&drawn);
        verify(&[&w, &m, &s], channel, verifier, proof).unwrap();
    }
}
