//! The split component: one row per write that splits a lifted leaf.
//!
//! It uses the [`Split`](super::relations::Split) tuple
//! `[w, address, c, occupant]` the write component yields, and shows:
//!
//! - `occupant = leaf_digest(occupant_address, occupant_account)`: the leaf is
//!   opened (the three sponge permutations are used from the Poseidon
//!   component), so the occupant is a definite address;
//! - `c` is where the two keys part: with `c = 31·j + t` (one-hots), limbs
//!   `0 .. j` of the two addresses are equal, and in limb `j` the first `t`
//!   key bits are equal and bit `t` differs. Both limbs `j` are decomposed
//!   into 31 bits with the zero-limb rule of [`super::key_bits`], so the bits
//!   compared are the key bits.
//!
//! The bit that differs makes the occupant another address than the written
//! one. Why `c` and the occupant pin the new tree: see [`super::merkle`].
//!
//! # Columns (177 per row)
//!
//! `enabled`, `w`, `address` (8), `occupant` (8: the occupant's digest, the
//! last permutation's output), `occupant_address` (8), `occupant_account`
//! (16), `s1` (16), `s2` (16), `t_sel` (31), `j_sel` (8), `bits` (31: our
//! limb `j`), `occupant_bits` (31), `bits_inv`, `occupant_bits_inv`.
//!
//! # Lookups (4, batched in pairs)
//!
//! The leaf's three permutation uses and the `Split` use, all ×enabled.

use alloc::vec::Vec;

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::key_bits::{
    LIMB_BITS, LIMBS, boolean, constant, dot, index, limb_decomposition, one_hot,
};
use super::relations::Relations;
use super::write::{ACCOUNT_ELEMENTS, WIDTH, sponge_start, use_leaf_tail, use_permutation};
use crate::hash::DIGEST_ELEMENTS;

pub use super::write::TraceError;

/// Columns of one split row.
pub const N_COLUMNS: usize = 177;

/// One split row's cells, in column order.
pub(super) struct SplitColumns<T> {
    pub enabled: T,
    pub w: T,
    pub address: [T; LIMBS],
    pub occupant: [T; DIGEST_ELEMENTS],
    pub occupant_address: [T; LIMBS],
    pub occupant_account: [T; ACCOUNT_ELEMENTS],
    pub s1: [T; WIDTH],
    pub s2: [T; WIDTH],
    pub t_sel: [T; LIMB_BITS],
    pub j_sel: [T; LIMBS],
    pub bits: [T; LIMB_BITS],
    pub occupant_bits: [T; LIMB_BITS],
    pub bits_inv: T,
    pub occupant_bits_inv: T,
}

impl<T> SplitColumns<T> {
    pub fn read(mut next: impl FnMut() -> T) -> Self {
        Self {
            enabled: next(),
            w: next(),
            address: core::array::from_fn(|_| next()),
            occupant: core::array::from_fn(|_| next()),
            occupant_address: core::array::from_fn(|_| next()),
            occupant_account: core::array::from_fn(|_| next()),
            s1: core::array::from_fn(|_| next()),
            s2: core::array::from_fn(|_| next()),
            t_sel: core::array::from_fn(|_| next()),
            j_sel: core::array::from_fn(|_| next()),
            bits: core::array::from_fn(|_| next()),
            occupant_bits: core::array::from_fn(|_| next()),
            bits_inv: next(),
            occupant_bits_inv: next(),
        }
    }

    #[cfg(any(test, feature = "prover"))]
    pub fn cells(self) -> Vec<T> {
        let mut out = Vec::with_capacity(N_COLUMNS);
        out.extend([self.enabled, self.w]);
        out.extend(self.address);
        out.extend(self.occupant);
        out.extend(self.occupant_address);
        out.extend(self.occupant_account);
        out.extend(self.s1);
        out.extend(self.s2);
        out.extend(self.t_sel);
        out.extend(self.j_sel);
        out.extend(self.bits);
        out.extend(self.occupant_bits);
        out.extend([self.bits_inv, self.occupant_bits_inv]);
        out
    }
}

/// The split component's constraints.
#[derive(Clone, Debug)]
pub struct SplitEval {
    pub log_size: u32,
    pub relations: Relations,
}

pub type SplitComponent = FrameworkComponent<SplitEval>;

impl FrameworkEval for SplitEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Every constraint has degree at most 3 (checked by a test).
    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + 1
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let c = SplitColumns::read(|| eval.next_trace_mask());
        let enabled = c.enabled.clone();
        boolean(&mut eval, &enabled);
        one_hot(&mut eval, &c.t_sel, &enabled);
        one_hot(&mut eval, &c.j_sel, &enabled);

        // Both limbs j, as key bits.
        let ours = dot(&c.j_sel, &c.address);
        let theirs = dot(&c.j_sel, &c.occupant_address);
        limb_decomposition(&mut eval, &c.bits, ours, &c.bits_inv, &enabled);
        limb_decomposition(&mut eval, &c.occupant_bits, theirs, &c.occupant_bits_inv, &enabled);

        // Limbs before j are equal: `Σ_{m>k} j_sel_m` is 1 exactly when k < j.
        for k in 0..LIMBS - 1 {
            let before =
                c.j_sel[k + 1..].iter().fold(constant::<E::F>(0), |acc, s| acc + s.clone());
            eval.add_constraint(before * (c.address[k].clone() - c.occupant_address[k].clone()));
        }
        // In limb j, bits before t are equal, and bit t differs.
        for i in 0..LIMB_BITS - 1 {
            let before =
                c.t_sel[i + 1..].iter().fold(constant::<E::F>(0), |acc, s| acc + s.clone());
            eval.add_constraint(before * (c.bits[i].clone() - c.occupant_bits[i].clone()));
        }
        let differs = (0..LIMB_BITS).fold(constant::<E::F>(0), |acc, i| {
            let (a, o) = (c.bits[i].clone(), c.occupant_bits[i].clone());
            let xor = a.clone() + o.clone() - a * o * BaseField::from_u32_unchecked(2);
            acc + c.t_sel[i].clone() * xor
        });
        eval.add_constraint(differs - enabled.clone());

        // The occupant's leaf.
        let p = &self.relations.permutation;
        use_permutation(&mut eval, p, enabled.clone(), sponge_start(&c.occupant_address), &c.s1);
        use_leaf_tail(&mut eval, p, &enabled, &c.s1, &c.occupant_account, &c.s2, &c.occupant);

        let common =
            index(&c.j_sel) * BaseField::from_u32_unchecked(LIMB_BITS as u32) + index(&c.t_sel);
        let split: Vec<E::F> = core::iter::once(c.w.clone())
            .chain(c.address.iter().cloned())
            .chain(core::iter::once(common))
            .chain(c.occupant.iter().cloned())
            .collect();
        eval.add_to_relation(RelationEntry::new(
            &self.relations.split,
            E::EF::from(enabled),
            &split,
        ));

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

    use super::super::key_bits::{address_limbs, bits_inverse, depth_parts, limb_bits};
    use super::super::lookups::LookupCounts;
    use super::super::relations::Relations;
    use super::super::trace::{Evaluation, TraceColumns, log_size_for};
    use super::super::witness::BlockWitness;
    use super::super::write::{
        Kind, WritePlan, account_elements, evaluations, interaction, leaf_tail, plans,
        sponge_start_values,
    };
    use super::*;
    use crate::hash::M31;

    /// The split component's trace.
    pub struct SplitTrace {
        columns: TraceColumns,
    }

    /// The split rows of `witness`'s writes, counting the permutations they
    /// use.
    pub fn gen_trace(
        witness: &BlockWitness,
        counts: &mut LookupCounts,
    ) -> Result<SplitTrace, TraceError> {
        Ok(trace_from(&plans(witness)?, counts))
    }

    fn bits_of(limb: M31) -> [M31; LIMB_BITS] {
        limb_bits(limb).map(|b| M31::new(u32::from(b)))
    }

    /// The rows of `plans`' splits, as they claim (no checks).
    pub(in crate::proving) fn trace_from(
        plans: &[WritePlan],
        counts: &mut LookupCounts,
    ) -> SplitTrace {
        let splits: Vec<_> = plans
            .iter()
            .filter_map(|plan| match &plan.kind {
                Kind::Split { occupant, account, common } => {
                    Some((plan, occupant, account, *common))
                }
                _ => None,
            })
            .collect();
        let mut columns = TraceColumns::new(log_size_for(splits.len()), N_COLUMNS);
        for (row, (plan, occupant, account, common)) in splits.into_iter().enumerate() {
            let address = address_limbs(&plan.address);
            let occupant_address = address_limbs(occupant);
            let occupant_account = account_elements(account);
            let s1 = counts.permutation(sponge_start_values(&occupant_address), true);
            let (s2, digest) = leaf_tail(counts, &s1, &occupant_account);
            debug_assert_eq!(digest, plan.old_node());
            let (t, j) = depth_parts(common);
            let cells = SplitColumns {
                enabled: M31::ONE,
                w: M31::new(plan.w),
                address,
                occupant: digest,
                occupant_address,
                occupant_account,
                s1,
                s2,
                t_sel: core::array::from_fn(|k| M31::new(u32::from(k == t))),
                j_sel: core::array::from_fn(|k| M31::new(u32::from(k == j))),
                bits: bits_of(address[j]),
                occupant_bits: bits_of(occupant_address[j]),
                bits_inv: bits_inverse(address[j]),
                occupant_bits_inv: bits_inverse(occupant_address[j]),
            };
            columns.set_row(row, &cells.cells());
        }
        SplitTrace { columns }
    }

    impl SplitTrace {
        pub fn log_size(&self) -> u32 {
            self.columns.log_size()
        }

        /// The main trace columns, ready to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            evaluations(&self.columns)
        }

        /// The LogUp columns for `relations`, and their claimed sum.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let eval = SplitEval { log_size: self.log_size(), relations: relations.clone() };
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

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::vec::Vec;

    use crate::proving::testing::constraint_degrees;

    use super::super::merkle::fixtures::*;
    use super::super::relations::Relations;
    use super::super::write::Kind;
    use super::*;
    use crate::hash::M31;

    fn layout() -> SplitColumns<usize> {
        let mut next = 0..;
        SplitColumns::read(|| next.next().unwrap())
    }

    /// Proves the row layout reads and writes the same columns, `N_COLUMNS`
    /// of them.
    #[test]
    fn layout_round_trips() {
        assert_eq!(layout().cells(), (0..N_COLUMNS).collect::<Vec<_>>());
    }

    /// Proves every split constraint, LogUp's included, has degree at most 3.
    #[test]
    fn degree_at_most_three() {
        let eval = SplitEval { log_size: 4, relations: Relations::dummy() };
        let degrees = constraint_degrees(&eval);
        assert_eq!(degrees.iter().max(), Some(&3), "{degrees:?}");
    }

    /// Proves the honest split trace (two splits, parting at 45 and at the
    /// occupant's depth) satisfies every constraint (stwo's own check, with
    /// the LogUp columns), with relations drawn from a channel.
    #[test]
    fn honest_trace_satisfies_constraints() {
        let witness = scenario();
        let traces = traces(&witness);
        let relations = drawn();
        let eval = SplitEval { log_size: traces.split.log_size(), relations: relations.clone() };
        assert_constraints(
            &eval,
            traces.split.columns(),
            N_COLUMNS,
            traces.split.interaction(&relations),
        );
        let c = layout();
        assert_eq!(cell(traces.split.columns(), 0, c.enabled), M31::ONE);
        assert_eq!(cell(traces.split.columns(), 1, c.enabled), M31::ONE);
        assert_eq!(cell(traces.split.columns(), 2, c.enabled), M31::ZERO);
    }

    /// Proves a change to any single one of these cells of an honest split
    /// trace is refused: the parting depth's one-hots, a key bit of either
    /// limb, an address limb of either side, the occupant's account and
    /// digest, `w`.
    #[test]
    fn single_cell_changes_are_refused() {
        let witness = scenario();
        let traces0 = traces(&witness);
        let c = layout();
        // Row 0 parts at 45 = 31 + 14.
        assert_eq!(cell(traces0.split.columns(), 0, c.t_sel[14]), M31::ONE);
        let cases: Vec<CellChange> = alloc::vec![
            ("t one-hot off", 0, c.t_sel[14], Some(M31::ZERO)),
            ("t one-hot doubled", 0, c.t_sel[15], Some(M31::ONE)),
            ("j", 0, c.j_sel[1], Some(M31::ZERO)),
            ("our bit", 0, c.bits[14], None),
            ("their bit", 0, c.occupant_bits[14], None),
            ("their earlier bit", 0, c.occupant_bits[2], None),
            ("our address", 0, c.address[0], None),
            ("their address", 0, c.occupant_address[0], None),
            ("their later address limb", 1, c.occupant_address[7], None),
            ("their account", 1, c.occupant_account[0], None),
            ("their digest", 1, c.occupant[4], None),
            ("w", 1, c.w, None),
        ];
        assert_changes_refused(&witness, N_COLUMNS, |t| t.split.columns_mut(), cases);
    }

    /// Proves a split claimed to part one bit earlier or later than the keys
    /// do is refused, however consistently the rest is laid out.
    #[test]
    fn wrong_parting_depth_is_refused() {
        let witness = scenario();
        for (index, plan) in honest_plans(&witness).iter().enumerate() {
            let Kind::Split { occupant, account, common } = plan.kind.clone() else { continue };
            for wrong in [common - 1, common + 1] {
                let mut plans = honest_plans(&witness);
                plans[index].kind = Kind::Split { occupant, account, common: wrong };
                if wrong < plans[index].depth {
                    continue;
                }
                assert!(verdict(&witness, &traces_from(&plans)).is_err(), "c = {wrong} accepted");
            }
        }
    }
}
