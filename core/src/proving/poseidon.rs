//! The Poseidon2 component: one row per permutation the other components use.
//!
//! Every digest the block proof recomputes (leaves, Merkle parents, sponge
//! blocks) is a [`crate::hash::permute`] call; the components that need one
//! *use* a [`Permutation`](super::relations::Permutation) tuple, and this
//! component *yields* each tuple after checking the permutation round by round.
//!
//! # Row layout
//!
//! | columns | what |
//! |---|---|
//! | 16 | the input state |
//! | 8 × 16 × 2 | each full-round S-box (4 rounds before, 4 after the partial rounds): its input squared, then its output |
//! | 14 × 2 | each partial-round S-box (element 0): its input squared, then its output |
//! | 1 | `full`: the user needs the whole output (boolean) |
//! | 1 | `enabled`: the row is a real use, not padding (boolean) |
//!
//! 302 columns. Every linear layer and round-constant addition is an
//! expression over earlier cells, not a column; so is the output (the last
//! external layer of the last round's S-box outputs). Each S-box `y = a^5`,
//! with `a` an affine expression of earlier cells, is two committed cells and
//! two constraints: `s = a·a` (degree 2) and `y = s·s·a` (degree 3).
//!
//! Why the square is committed: one degree-5 constraint per S-box would halve
//! the columns, but its quotient needs a domain four times the trace, so the
//! composition polynomial's halves are committed on a domain twice the
//! trace's; stwo 2.3 with the lifted Merkle commitments and no fixed lifting
//! size (as [`ProofConfig::STANDARD`](super::config::ProofConfig::STANDARD)
//! has it) answers every tree's queries at the composition tree's size, and
//! proving panics out of bounds on the smaller trace trees (stwo's own
//! Poseidon example is marked "degree >= 2 not supported yet in the lifted
//! protocol" for this). With degree 3 the composition halves are exactly the
//! trace's size, and stwo evaluates the constraints on the committed
//! evaluations directly, without re-extending the trace.
//!
//! The permutation is written once ([`permutation`]), generically over the
//! field type, with a hook called on each S-box input: the constraints read
//! the two committed cells there and constrain them, and trace generation (on
//! 16-row SIMD vectors) computes and writes them. So the constraints and the
//! trace cannot drift apart, and both read like the permutation on paper (see
//! [`crate::hash::poseidon2`]).
//!
//! Each row yields `[in_0..in_15, out_0..out_7, full·out_8..full·out_15]`
//! with multiplicity `−enabled`. Padding rows (past the last use, up to the
//! power of two) hold the permutation of the all-zero input with `full = 0`
//! and `enabled = 0`, so they satisfy the constraints and yield nothing.

use core::ops::{Add, AddAssign, Mul, Sub};

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::relations::{PERMUTATION_SIZE, Relations};
use crate::hash::M31;
use crate::hash::constants::{
    EXTERNAL_FINAL, EXTERNAL_INITIAL, HALF_FULL_ROUNDS, INTERNAL, INTERNAL_DIAG_SHIFTS,
    PARTIAL_ROUNDS, WIDTH,
};

/// S-boxes per permutation: 16 in each of the 8 full rounds, 1 in each of
/// the 14 partial rounds.
pub const SBOXES: usize = 2 * HALF_FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS;
/// Committed cells written by the rounds: per S-box, its input squared and
/// its output.
pub const ROUND_COLUMNS: usize = 2 * SBOXES;
/// Main-trace columns per row: the input, the round cells, `full`, `enabled`.
pub const N_COLUMNS: usize = WIDTH + ROUND_COLUMNS + 2;
/// Column of the `full` flag.
pub const FULL_COLUMN: usize = N_COLUMNS - 2;
/// Column of the `enabled` flag.
pub const ENABLED_COLUMN: usize = N_COLUMNS - 1;
/// Constraints are degree 3 at most (`y = s·s·a`; the LogUp constraint), so
/// their quotients need a domain twice the trace: `log_size + 1`. Checked in
/// the tests by running the constraint code on degrees.
pub const LOG_CONSTRAINT_EXPANSION: u32 = 1;

/// An M31 table as stwo's base field, at compile time.
const fn base_row<const N: usize>(row: &[M31; N]) -> [BaseField; N] {
    let mut out = [BaseField::from_u32_unchecked(0); N];
    let mut i = 0;
    while i < N {
        out[i] = BaseField::from_u32_unchecked(row[i].value());
        i += 1;
    }
    out
}

const fn base_rounds(
    rounds: &[[M31; WIDTH]; HALF_FULL_ROUNDS],
) -> [[BaseField; WIDTH]; HALF_FULL_ROUNDS] {
    let mut out = [[BaseField::from_u32_unchecked(0); WIDTH]; HALF_FULL_ROUNDS];
    let mut r = 0;
    while r < HALF_FULL_ROUNDS {
        out[r] = base_row(&rounds[r]);
        r += 1;
    }
    out
}

/// `V[i] = 2^shift` for `i ≥ 1`, as multipliers (index 0 unused: `V[0] = −2`).
const fn internal_diagonal() -> [BaseField; WIDTH] {
    let mut out = [BaseField::from_u32_unchecked(0); WIDTH];
    let mut i = 1;
    while i < WIDTH {
        out[i] = BaseField::from_u32_unchecked(1 << INTERNAL_DIAG_SHIFTS[i - 1]);
        i += 1;
    }
    out
}

/// The round constants of [`crate::hash::constants`], as the prover's field.
const FIRST_CONSTANTS: [[BaseField; WIDTH]; HALF_FULL_ROUNDS] = base_rounds(&EXTERNAL_INITIAL);
const PARTIAL_CONSTANTS: [BaseField; PARTIAL_ROUNDS] = base_row(&INTERNAL);
const LAST_CONSTANTS: [[BaseField; WIDTH]; HALF_FULL_ROUNDS] = base_rounds(&EXTERNAL_FINAL);
const DIAGONAL: [BaseField; WIDTH] = internal_diagonal();

/// What the permutation needs of a field type: the constraint evaluators'
/// `EvalAtRow::F` (expressions, packed columns, points) and the trace
/// generator's packed base field all qualify.
pub trait PermutationField:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Mul<BaseField, Output = Self>
    + AddAssign<BaseField>
{
}

impl<F> PermutationField for F where
    F: Clone
        + Add<Output = F>
        + Sub<Output = F>
        + Mul<Output = F>
        + Mul<BaseField, Output = F>
        + AddAssign<BaseField>
{
}

/// `a^5`, the S-box, as the trace computes it: its input squared, and its
/// output `(a²)²·a`.
pub fn sbox<F: PermutationField>(a: F) -> (F, F) {
    let square = a.clone() * a.clone();
    (square.clone(), square.clone() * square * a)
}

fn double<F: PermutationField>(x: F) -> F {
    x.clone() + x
}

/// The paper's `M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]]` on one block,
/// by the addition chain of the Poseidon2 paper (§5.1): additions only, which
/// is what both the constraint evaluation and the trace generation pay for.
fn m4<F: PermutationField>([x0, x1, x2, x3]: [F; 4]) -> [F; 4] {
    let t0 = x0 + x1.clone(); // x0 + x1
    let t1 = x2 + x3.clone(); // x2 + x3
    let t2 = double(x1) + t1.clone(); // 2x1 + x2 + x3
    let t3 = double(x3) + t0.clone(); // x0 + x1 + 2x3
    let t4 = double(double(t1)) + t3.clone(); // x0 + x1 + 4x2 + 6x3
    let t5 = double(double(t0)) + t2.clone(); // 4x0 + 6x1 + x2 + x3
    let t6 = t3 + t5.clone(); // 5x0 + 7x1 + x2 + 3x3
    let t7 = t2 + t4.clone(); // x0 + 3x1 + 5x2 + 7x3
    [t6, t5, t7, t4]
}

/// `state ← M_E · state` with `M_E = circ(2·M4, M4, M4, M4)`: M4 on each block
/// of four, then each element gets the sum of its position across the blocks
/// (the block on the diagonal thus counts twice).
pub fn external_layer<F: PermutationField>(state: &mut [F; WIDTH]) {
    for block in state.chunks_exact_mut(4) {
        let mixed = m4([block[0].clone(), block[1].clone(), block[2].clone(), block[3].clone()]);
        block.clone_from_slice(&mixed);
    }
    let sums: [F; 4] = core::array::from_fn(|j| {
        state[j].clone() + state[j + 4].clone() + state[j + 8].clone() + state[j + 12].clone()
    });
    for (i, x) in state.iter_mut().enumerate() {
        *x = x.clone() + sums[i % 4].clone();
    }
}

/// `state ← M_I · state` with `M_I = 1 + Diag(V)`: every element gets the sum
/// of all elements plus `V[i]` times itself, `V[0] = −2`, `V[i] = 2^shift`.
pub fn internal_layer<F: PermutationField>(state: &mut [F; WIDTH]) {
    let sum = state[1..].iter().fold(state[0].clone(), |acc, x| acc + x.clone());
    state[0] = sum.clone() - double(state[0].clone());
    for (x, v) in state.iter_mut().zip(DIAGONAL).skip(1) {
        *x = sum.clone() + x.clone() * v;
    }
}

/// A full round: constants and S-box on every element, then the external
/// layer.
pub fn full_round<F: PermutationField>(
    state: &mut [F; WIDTH],
    constants: &[BaseField; WIDTH],
    sbox: &mut impl FnMut(F) -> F,
) {
    for (x, c) in state.iter_mut().zip(constants) {
        let mut input = x.clone();
        input += *c;
        *x = sbox(input);
    }
    external_layer(state);
}

/// A partial round: constant and S-box on element 0 only, then the internal
/// layer.
pub fn partial_round<F: PermutationField>(
    state: &mut [F; WIDTH],
    constant: BaseField,
    sbox: &mut impl FnMut(F) -> F,
) {
    let mut input = state[0].clone();
    input += constant;
    state[0] = sbox(input);
    internal_layer(state);
}

/// The whole permutation, as [`crate::hash::permute`] computes it: initial
/// external layer, 4 full rounds, 14 partial rounds, 4 full rounds.
///
/// `sbox` is called on each S-box input, in column order, and returns its
/// output: the constraints return the committed output cell (having
/// constrained it and the square cell before it), trace generation computes
/// both cells with [`sbox`], stores them and returns the output.
pub fn permutation<F: PermutationField>(
    input: [F; WIDTH],
    sbox: &mut impl FnMut(F) -> F,
) -> [F; WIDTH] {
    let mut state = input;
    external_layer(&mut state);
    for constants in &FIRST_CONSTANTS {
        full_round(&mut state, constants, sbox);
    }
    for constant in PARTIAL_CONSTANTS {
        partial_round(&mut state, constant, sbox);
    }
    for constants in &LAST_CONSTANTS {
        full_round(&mut state, constants, sbox);
    }
    state
}

/// The tuple a row yields: `[in_0..in_15, out_0..out_7, full·out_8..full·out_15]`.
pub fn yielded_tuple<F: PermutationField>(
    input: &[F; WIDTH],
    output: &[F; WIDTH],
    full: &F,
) -> [F; PERMUTATION_SIZE] {
    core::array::from_fn(|i| match i {
        i if i < WIDTH => input[i].clone(),
        i if i < WIDTH + WIDTH / 2 => output[i - WIDTH].clone(),
        i => output[i - WIDTH].clone() * full.clone(),
    })
}

/// The Poseidon2 component's constraints.
#[derive(Clone, Debug)]
pub struct PoseidonEval {
    pub log_size: u32,
    pub relations: Relations,
}

/// The Poseidon2 component, as the prover and verifier take it.
pub type PoseidonComponent = FrameworkComponent<PoseidonEval>;

impl FrameworkEval for PoseidonEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + LOG_CONSTRAINT_EXPANSION
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let input: [E::F; WIDTH] = core::array::from_fn(|_| eval.next_trace_mask());
        let output = permutation(input.clone(), &mut |a: E::F| {
            let square = eval.next_trace_mask();
            eval.add_constraint(a.clone() * a.clone() - square.clone());
            let out = eval.next_trace_mask();
            eval.add_constraint(square.clone() * square * a - out.clone());
            out
        });
        let full = eval.next_trace_mask();
        let enabled = eval.next_trace_mask();
        // Boolean flags: `full = 2` would yield twice the output's second
        // half, and the multiplicity must count one use per row.
        eval.add_constraint(full.clone() * full.clone() - full.clone());
        eval.add_constraint(enabled.clone() * enabled.clone() - enabled.clone());

        let tuple = yielded_tuple(&input, &output, &full);
        eval.add_to_relation(RelationEntry::new(
            &self.relations.permutation,
            -E::EF::from(enabled),
            &tuple,
        ));
        eval.finalize_logup();
        eval
    }
}

#[cfg(feature = "prover")]
pub use prover::{PoseidonTrace, gen_trace};

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;
    use stwo::core::poly::circle::CanonicCoset;
    use stwo::prover::backend::Column;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo::prover::backend::simd::m31::{LOG_N_LANES, N_LANES, PackedBaseField};
    use stwo::prover::backend::simd::qm31::PackedSecureField;
    use stwo::prover::poly::circle::CircleEvaluation;
    use stwo_constraint_framework::{LogupTraceGenerator, Relation};

    use super::*;
    use crate::proving::lookups::PermutationUse;
    use crate::proving::trace::{Evaluation, base, log_size_for};

    const ZERO: BaseField = BaseField::from_u32_unchecked(0);

    fn flag(value: bool) -> BaseField {
        BaseField::from_u32_unchecked(u32::from(value))
    }

    /// SIMD vectors (of 16 rows) per unit of parallel work: large enough that
    /// scheduling is negligible, small enough to spread 2^12 rows over cores.
    const CHUNK_VECTORS: usize = 16;

    /// The Poseidon component's main trace, and what its interaction needs.
    pub struct PoseidonTrace {
        log_size: u32,
        /// The [`N_COLUMNS`] committed columns.
        columns: Vec<BaseColumn>,
        /// The output half of each row's tuple (`out_0..7`, `full·out_8..15`),
        /// kept from generation so the interaction need not recompute it.
        outputs: Vec<BaseColumn>,
    }

    /// Builds the trace: one row per use, in order, then padding rows.
    pub fn gen_trace(uses: &[PermutationUse]) -> PoseidonTrace {
        let log_size = log_size_for(uses.len());
        let rows = 1 << log_size;
        let mut columns: Vec<BaseColumn> =
            (0..N_COLUMNS).map(|_| BaseColumn::zeros(rows)).collect();
        let mut outputs: Vec<BaseColumn> = (0..WIDTH).map(|_| BaseColumn::zeros(rows)).collect();

        // Cut every column into the same chunks of rows, and hand each chunk's
        // slices (all columns, same rows) to one task: rows are independent.
        let n_chunks = (rows / N_LANES).div_ceil(CHUNK_VECTORS);
        let mut chunks: Vec<Vec<&mut [PackedBaseField]>> =
            (0..n_chunks).map(|_| Vec::with_capacity(N_COLUMNS + WIDTH)).collect();
        for column in columns.iter_mut().chain(outputs.iter_mut()) {
            for (chunk, part) in chunks.iter_mut().zip(column.data.chunks_mut(CHUNK_VECTORS)) {
                chunk.push(part);
            }
        }
        let fill = |(index, mut parts): (usize, Vec<&mut [PackedBaseField]>)| {
            fill_chunk(uses, index * CHUNK_VECTORS, &mut parts);
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            chunks.into_par_iter().enumerate().for_each(fill);
        }
        #[cfg(not(feature = "parallel"))]
        chunks.into_iter().enumerate().for_each(fill);

        PoseidonTrace { log_size, columns, outputs }
    }

    /// Fills the vectors `first_vector..` of every column: `parts` holds, per
    /// column (main columns, then output columns), that chunk's slice.
    fn fill_chunk(
        uses: &[PermutationUse],
        first_vector: usize,
        parts: &mut [&mut [PackedBaseField]],
    ) {
        let (main, outputs) = parts.split_at_mut(N_COLUMNS);
        for v in 0..main[0].len() {
            let row = (first_vector + v) * N_LANES;
            let lanes: [Option<&PermutationUse>; N_LANES] =
                core::array::from_fn(|l| uses.get(row + l));
            let input: [PackedBaseField; WIDTH] = core::array::from_fn(|i| {
                PackedBaseField::from_array(lanes.map(|u| u.map_or(ZERO, |u| base(u.input[i]))))
            });
            let full = PackedBaseField::from_array(lanes.map(|u| u.map_or(ZERO, |u| flag(u.full))));
            let enabled = PackedBaseField::from_array(lanes.map(|u| flag(u.is_some())));

            for (column, x) in main.iter_mut().zip(&input) {
                column[v] = *x;
            }
            let mut next = WIDTH;
            let output = permutation(input, &mut |a: PackedBaseField| {
                let (square, out) = sbox(a);
                main[next][v] = square;
                main[next + 1][v] = out;
                next += 2;
                out
            });
            debug_assert_eq!(next, FULL_COLUMN);
            main[FULL_COLUMN][v] = full;
            main[ENABLED_COLUMN][v] = enabled;
            for (i, column) in outputs.iter_mut().enumerate() {
                column[v] = if i < WIDTH / 2 { output[i] } else { output[i] * full };
            }
        }
    }

    impl PoseidonTrace {
        pub fn log_size(&self) -> u32 {
            self.log_size
        }

        /// The main trace columns, ready to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            let domain = CanonicCoset::new(self.log_size).circle_domain();
            self.columns.iter().map(|c| CircleEvaluation::new(domain, c.clone())).collect()
        }

        /// The LogUp interaction columns (one cumulative-sum column: four base
        /// columns) and this component's claimed sum, `Σ −enabled/combine(tuple)`.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let fraction = |v: usize| {
                let tuple: [PackedBaseField; PERMUTATION_SIZE] = core::array::from_fn(|i| {
                    if i < WIDTH {
                        self.columns[i].data[v]
                    } else {
                        self.outputs[i - WIDTH].data[v]
                    }
                });
                let denominator: PackedSecureField = relations.permutation.combine(&tuple);
                let numerator = -PackedSecureField::from(self.columns[ENABLED_COLUMN].data[v]);
                (numerator, denominator)
            };
            let vectors = 0..1 << (self.log_size - LOG_N_LANES);
            let mut logup = LogupTraceGenerator::new(self.log_size);
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                logup.col_from_par_iter(vectors.into_par_iter().map(fraction));
            }
            #[cfg(not(feature = "parallel"))]
            logup.col_from_iter(vectors.map(fraction));
            logup.finalize_last()
        }
    }
}

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;
    use stwo::core::poly::circle::CanonicCoset;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo::prover::poly::circle::CircleEvaluation;

    use super::*;
    use crate::hash::permute;
    use crate::proving::baseline::{
        prove_permutations, public_sum, sample_uses, statement, verify_permutations,
    };
    use crate::proving::config::ProofConfig;
    use crate::proving::lookups::PermutationUse;
    use crate::proving::single::prove_component;
    use crate::proving::testing::{self, cpu};
    use crate::proving::trace::base;

    const M31_ONE: BaseField = BaseField::from_u32_unchecked(1);
    const QM31_ZERO: SecureField = SecureField::from_u32_unchecked(0, 0, 0, 0);
    const QM31_ONE: SecureField = SecureField::from_u32_unchecked(1, 0, 0, 0);

    /// Index of the S-box of full round `round` (0..8), element `i`: the
    /// partial rounds' 14 sit between round 3 and round 4.
    fn full_sbox(round: usize, i: usize) -> usize {
        let partial = if round < HALF_FULL_ROUNDS { 0 } else { PARTIAL_ROUNDS };
        round * WIDTH + partial + i
    }

    fn partial_sbox(round: usize) -> usize {
        HALF_FULL_ROUNDS * WIDTH + round
    }

    /// The column of S-box `k`'s squared input; its output is the next one.
    /// Constraint `2k` checks the square, `2k + 1` the output.
    fn square_column(k: usize) -> usize {
        WIDTH + 2 * k
    }

    /// The first constraint `main` breaks, if any.
    fn constraint_failure(
        main: &[Vec<BaseField>],
        interaction: &[Vec<BaseField>],
        log_size: u32,
        claimed_sum: SecureField,
    ) -> Option<String> {
        let eval = PoseidonEval { log_size, relations: Relations::dummy() };
        testing::constraint_failure(&eval, main, interaction, claimed_sum)
    }

    /// Proves the trace is the permutation: on random inputs, each row holds
    /// its use's input and flags, and the output the AIR reads off the row
    /// (the external layer of the last committed state) equals
    /// `crate::hash::permute` of the input; padding rows hold the permutation
    /// of zero with both flags 0.
    #[test]
    fn trace_rows_are_the_permutation() {
        let uses = sample_uses(100, 1);
        let trace = gen_trace(&uses);
        assert_eq!(trace.log_size(), 7);
        let columns = cpu(&trace.evaluations());
        assert_eq!(columns.len(), N_COLUMNS);
        let zero_use = PermutationUse { input: [M31::ZERO; WIDTH], full: false };
        let rows = uses.iter().map(|u| (u, 1)).chain(core::iter::repeat((&zero_use, 0)));
        for (row, (u, enabled)) in rows.take(1 << trace.log_size()).enumerate() {
            let cell = |c: usize| columns[c][row];
            let input: [BaseField; WIDTH] = core::array::from_fn(cell);
            assert_eq!(input, u.input.map(base), "row {row}");
            let mut output: [BaseField; WIDTH] =
                core::array::from_fn(|i| cell(square_column(full_sbox(7, i)) + 1));
            external_layer(&mut output);
            let mut expected = u.input;
            permute(&mut expected);
            assert_eq!(output, expected.map(base), "row {row}");
            assert_eq!(cell(FULL_COLUMN), BaseField::from(u32::from(u.full)), "row {row}");
            assert_eq!(cell(ENABLED_COLUMN), BaseField::from(enabled), "row {row}");
        }
    }

    /// Proves the AIR's own permutation (the generic code the constraints and
    /// the trace share) equals `crate::hash::permute` on scalar field
    /// elements, independently of the trace layout.
    #[test]
    fn generic_permutation_matches_hash() {
        for u in sample_uses(20, 2) {
            let mut sboxes = 0;
            let out = permutation(u.input.map(base), &mut |a: BaseField| {
                sboxes += 1;
                sbox(a).1
            });
            let mut expected = u.input;
            permute(&mut expected);
            assert_eq!(out, expected.map(base));
            assert_eq!(sboxes, SBOXES);
        }
    }

    /// Proves a real trace (with padding) satisfies every constraint,
    /// including the LogUp sum, and that changing any single cell (an input,
    /// a square or output cell of a first, a middle or the last full round,
    /// of a partial round, the `full` or `enabled` flag set to 2), in a used
    /// row or a padding row, breaks exactly the constraint that checks it:
    /// the first failure is that constraint.
    #[test]
    fn constraints_hold_and_catch_single_changes() {
        let uses = sample_uses(40, 3);
        let trace = gen_trace(&uses);
        let log_size = trace.log_size();
        let main = cpu(&trace.evaluations());
        let (interaction, claimed_sum) = trace.interaction(&Relations::dummy());
        let interaction = cpu(&interaction);
        assert_eq!(constraint_failure(&main, &interaction, log_size, claimed_sum), None);

        // (column, new value, constraint expected to fail first). Constraint k
        // < ROUND_COLUMNS checks the cell in column WIDTH + k (an input
        // feeds every first-round S-box, so S-box 0's square fails first);
        // the flags' boolean checks follow.
        let two = BaseField::from(2u32);
        let mut cases = vec![
            (3, None, 0),
            (FULL_COLUMN, Some(two), ROUND_COLUMNS),
            (ENABLED_COLUMN, Some(two), ROUND_COLUMNS + 1),
        ];
        for k in
            [full_sbox(0, 0), full_sbox(2, 5), partial_sbox(6), partial_sbox(13), full_sbox(7, 15)]
        {
            for column in [square_column(k), square_column(k) + 1] {
                cases.push((column, None, column - WIDTH));
            }
        }
        // Row 5 is a use, row 50 padding: padding must be a real permutation too.
        for row in [5, 50] {
            for &(column, value, constraint) in &cases {
                let mut tampered = main.clone();
                let cell = &mut tampered[column][row];
                *cell = value.unwrap_or(*cell + M31_ONE);
                let failure = constraint_failure(&tampered, &interaction, log_size, claimed_sum)
                    .unwrap_or_else(|| panic!("column {column} row {row}: accepted"));
                assert!(
                    failure.contains(&format!("row: #{row}, constraint #{constraint}\n")),
                    "column {column} row {row}: {failure}"
                );
            }
        }
    }

    /// A polynomial's degree in the trace cells, standing in for a field
    /// element: sums keep the larger degree, products add them.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Degree(u32);

    impl Add for Degree {
        type Output = Self;
        fn add(self, rhs: Self) -> Self {
            Degree(self.0.max(rhs.0))
        }
    }

    impl Sub for Degree {
        type Output = Self;
        fn sub(self, rhs: Self) -> Self {
            Degree(self.0.max(rhs.0))
        }
    }

    impl Mul for Degree {
        type Output = Self;
        #[allow(clippy::suspicious_arithmetic_impl, reason = "degrees add under a product")]
        fn mul(self, rhs: Self) -> Self {
            Degree(self.0 + rhs.0)
        }
    }

    impl Mul<BaseField> for Degree {
        type Output = Self;
        fn mul(self, _: BaseField) -> Self {
            self
        }
    }

    impl AddAssign<BaseField> for Degree {
        fn add_assign(&mut self, _: BaseField) {}
    }

    /// Proves the constraints are degree 3 at most, so `log_size + 1` is a
    /// sufficient and tight bound: every S-box input is affine in the cells
    /// (degree 1), so its square constraint is degree 2 and its output
    /// constraint `s·s·a` degree 3; the flags' are 2, and the LogUp constraint
    /// (cumulative-sum difference times the tuple's combination, minus
    /// `−enabled`) is 1 + 2 = 3. Computed by running the very code the
    /// constraints use on degrees.
    ///
    /// The framework's `ExprEvaluator` cannot do this here: the partial
    /// rounds keep 15 elements as uncommitted expressions, each internal
    /// layer copies the sum of all 16 into each, and its boxed expression
    /// trees grow as 16^14. The framework's count of the constraints (its
    /// `InfoEvaluator`, which every component runs) is checked instead.
    #[test]
    fn constraint_degree_matches_declared_bound() {
        let (cell, mut constraints) = (Degree(1), Vec::new());
        let output = permutation([cell; WIDTH], &mut |a: Degree| {
            constraints.push(a * a - cell);
            constraints.push(cell * cell * a - cell);
            cell
        });
        assert_eq!(constraints, [Degree(2), Degree(3)].repeat(SBOXES));
        let flag = Degree(1);
        let boolean = flag * flag - flag;
        let tuple = yielded_tuple(&[Degree(1); WIDTH], &output, &flag);
        let denominator = tuple.into_iter().fold(Degree(0), |acc, x| acc + x);
        let logup = Degree(1) * denominator - flag;
        assert_eq!((boolean, denominator, logup), (Degree(2), Degree(2), Degree(3)));
        // A degree-d constraint's quotient needs 2^ceil(log2(d − 1)) times the trace.
        assert_eq!(2u32.next_power_of_two().trailing_zeros(), LOG_CONSTRAINT_EXPANSION);

        let eval = PoseidonEval { log_size: 4, relations: Relations::dummy() };
        assert_eq!(eval.max_constraint_log_degree_bound(), 4 + LOG_CONSTRAINT_EXPANSION);
        let component = PoseidonComponent::new(
            &mut stwo_constraint_framework::TraceLocationAllocator::default(),
            eval,
            QM31_ZERO,
        );
        assert_eq!(stwo::core::air::Component::n_constraints(&component), ROUND_COLUMNS + 3);
    }

    /// Proves the component's claimed sum is exactly `Σ −1/combine(tuple)`
    /// over the uses, computed independently (so the yielded tuples are
    /// right, and padding rows contribute nothing), and that an empty list
    /// claims zero.
    #[test]
    fn claimed_sum_is_the_uses() {
        let relations = Relations::dummy();
        for n in [1, 16, 17, 100] {
            let uses = sample_uses(n, 4 + n as u64);
            let (_, claimed_sum) = gen_trace(&uses).interaction(&relations);
            assert_eq!(claimed_sum, -public_sum(&uses, &relations), "{n} uses");
        }
        let (_, empty) = gen_trace(&[]).interaction(&relations);
        assert_eq!(empty, QM31_ZERO);
    }

    /// Proves a real end-to-end STARK proof of the component verifies under
    /// the standard configuration — with real uses balanced by the verifier,
    /// and with padding rows only (multiplicity 0, sum 0) — and that a proof
    /// with one queried value, one sampled value or one commitment changed,
    /// a wrong claimed sum, or a verifier holding other uses, is rejected,
    /// and a trace with one cell changed is not proven at all.
    #[test]
    fn proof_verifies_and_tampering_fails() {
        let config = ProofConfig::STANDARD;
        verify_permutations(&[], &prove_permutations(&[], &config).unwrap(), &config).unwrap();

        let uses = sample_uses(50, 5);
        let prove = || prove_permutations(&uses, &config).unwrap();
        verify_permutations(&uses, &prove(), &config).unwrap();

        let mut proof = prove();
        proof.proof.0.queried_values[1][7][0] += M31_ONE;
        assert!(verify_permutations(&uses, &proof, &config).is_err(), "queried value");

        let mut proof = prove();
        proof.proof.0.sampled_values[1][20][0] += QM31_ONE;
        assert!(verify_permutations(&uses, &proof, &config).is_err(), "sampled value");

        let mut proof = prove();
        proof.proof.0.commitments[1].0[0] ^= 1;
        assert!(verify_permutations(&uses, &proof, &config).is_err(), "commitment");

        let mut proof = prove();
        proof.claimed_sum += QM31_ONE;
        assert!(verify_permutations(&uses, &proof, &config).is_err(), "claimed sum");

        let mut other = uses.clone();
        other[10].input[3] += M31::ONE;
        assert!(verify_permutations(&other, &prove(), &config).is_err(), "other uses");

        let mut other = uses.clone();
        other[11].full = !other[11].full;
        assert!(verify_permutations(&other, &prove(), &config).is_err(), "other full flag");

        // One partial-round output changed after the interaction was derived:
        // the prover's own final check refuses it.
        let trace = gen_trace(&uses);
        let mut main = cpu(&trace.evaluations());
        main[square_column(partial_sbox(9)) + 1][30] += M31_ONE;
        let domain = CanonicCoset::new(trace.log_size()).circle_domain();
        let main = main
            .into_iter()
            .map(|c| CircleEvaluation::new(domain, BaseColumn::from_cpu(&c)))
            .collect();
        let log_size = trace.log_size();
        let changed = prove_component(
            &statement(&uses),
            main,
            |relations| trace.interaction(relations),
            |relations| PoseidonEval { log_size, relations },
            &config,
        );
        assert!(changed.is_err(), "changed cell was proven");
    }
}
