//! The byte range-check component: yields `Byte [v]` for `0 ≤ v < 256`.
//!
//! 256 rows; row `i` holds `i` as eight bit columns (each constrained
//! boolean) and a multiplicity column `mult`, and yields `[Σ bit_k·2^k]` with
//! multiplicity `−mult`. Every value a row can yield is a byte by
//! construction, so no preprocessed table is needed and nothing ties row `i`
//! to the value `i`: a prover that repeats or skips values only changes which
//! bytes it can account for, never lets a non-byte through. The honest trace
//! puts value `i` in row `i` with `mult` the number of times it was used.
//!
//! 9 columns per row; constraints of degree 2 (the bit checks).

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::relations::Relations;

/// Bits of a byte.
pub const BITS: usize = 8;
/// Main-trace columns per row: the bits, least significant first, then `mult`.
pub const N_COLUMNS: usize = BITS + 1;
/// Column of the multiplicity.
pub const MULT_COLUMN: usize = BITS;
/// log2 of the rows: one per byte value.
pub const LOG_SIZE: u32 = BITS as u32;

/// The byte component's constraints.
#[derive(Clone, Debug)]
pub struct ByteEval {
    /// Always [`LOG_SIZE`] for a trace from [`gen_trace`]; a field so every
    /// component is assembled the same way.
    pub log_size: u32,
    pub relations: Relations,
}

/// The byte component, as the prover and verifier take it.
pub type ByteComponent = FrameworkComponent<ByteEval>;

impl FrameworkEval for ByteEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Degree-2 constraints: a quotient domain twice the trace.
    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + 1
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let bits: [E::F; BITS] = core::array::from_fn(|_| eval.next_trace_mask());
        let mult = eval.next_trace_mask();
        let mut value = E::F::from(BaseField::from_u32_unchecked(0));
        for (k, bit) in bits.into_iter().enumerate() {
            eval.add_constraint(bit.clone() * bit.clone() - bit.clone());
            value += bit * BaseField::from_u32_unchecked(1 << k);
        }
        eval.add_to_relation(RelationEntry::new(
            &self.relations.byte,
            -E::EF::from(mult),
            &[value],
        ));
        eval.finalize_logup();
        eval
    }
}

#[cfg(feature = "prover")]
pub use prover::{ByteTrace, gen_trace};

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;
    use stwo::core::poly::circle::CanonicCoset;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo::prover::backend::simd::m31::{LOG_N_LANES, PackedBaseField};
    use stwo::prover::backend::simd::qm31::PackedSecureField;
    use stwo::prover::poly::circle::CircleEvaluation;
    use stwo_constraint_framework::{LogupTraceGenerator, Relation};

    use super::*;
    use crate::proving::trace::Evaluation;

    /// The byte component's main trace.
    pub struct ByteTrace {
        columns: Vec<BaseColumn>,
    }

    /// Row `i`: the bits of `i` and how many times `i` was range-checked.
    ///
    /// Counts are taken into the field: a count of `p = 2^31 − 1` or more
    /// would wrap, far beyond any block (LogUp itself needs the total
    /// multiplicity of a relation to stay below `p`).
    pub fn gen_trace(counts: &[u32; 256]) -> ByteTrace {
        let cell = |v: u32| BaseField::from_u32_unchecked(v);
        let bits = (0..BITS).map(|k| (0..256u32).map(|i| cell((i >> k) & 1)).collect());
        let mult = counts.iter().map(|&c| BaseField::from(c)).collect();
        ByteTrace { columns: bits.chain([mult]).collect() }
    }

    impl ByteTrace {
        pub fn log_size(&self) -> u32 {
            LOG_SIZE
        }

        /// The main trace columns, ready to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            let domain = CanonicCoset::new(LOG_SIZE).circle_domain();
            self.columns.iter().map(|c| CircleEvaluation::new(domain, c.clone())).collect()
        }

        /// The LogUp interaction columns and the claimed sum `Σ −mult/combine([v])`.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let mut logup = LogupTraceGenerator::new(LOG_SIZE);
            logup.col_from_iter((0..1 << (LOG_SIZE - LOG_N_LANES)).map(|v| {
                let value = (0..BITS)
                    .fold(PackedBaseField::from(BaseField::from_u32_unchecked(0)), |acc, k| {
                        acc + self.columns[k].data[v] * BaseField::from_u32_unchecked(1 << k)
                    });
                let denominator: PackedSecureField = relations.byte.combine(&[value]);
                (-PackedSecureField::from(self.columns[MULT_COLUMN].data[v]), denominator)
            }));
            logup.finalize_last()
        }
    }
}

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;
    use stwo::core::poly::circle::CanonicCoset;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo::prover::poly::circle::CircleEvaluation;
    use stwo_constraint_framework::Relation;

    use super::*;
    use crate::proving::config::ProofConfig;
    use crate::proving::single::{ComponentProof, prove_component, verify_component};
    use crate::proving::testing::{self, constraint_degrees, cpu};

    const M31_ONE: BaseField = BaseField::from_u32_unchecked(1);
    const QM31_ZERO: SecureField = SecureField::from_u32_unchecked(0, 0, 0, 0);
    const QM31_ONE: SecureField = SecureField::from_u32_unchecked(1, 0, 0, 0);

    /// Uneven counts, some zero: value `v` used `(v·37) mod 11` times.
    fn counts() -> [u32; 256] {
        core::array::from_fn(|v| (v as u32 * 37) % 11)
    }

    /// The first constraint `main` breaks, if any.
    fn constraint_failure(
        main: &[Vec<BaseField>],
        interaction: &[Vec<BaseField>],
        claimed_sum: SecureField,
    ) -> Option<String> {
        let eval = ByteEval { log_size: LOG_SIZE, relations: Relations::dummy() };
        testing::constraint_failure(&eval, main, interaction, claimed_sum)
    }

    /// Proves row `i` holds the bits of `i` (least significant first) and
    /// the count of `i`.
    #[test]
    fn trace_rows_are_bytes_and_counts() {
        let counts = counts();
        let trace = gen_trace(&counts);
        assert_eq!(trace.log_size(), LOG_SIZE);
        let columns = cpu(&trace.evaluations());
        assert_eq!(columns.len(), N_COLUMNS);
        for (row, &count) in counts.iter().enumerate() {
            let value: u32 = (0..BITS).map(|k| columns[k][row].0 << k).sum();
            assert_eq!(value, row as u32);
            assert_eq!(columns[MULT_COLUMN][row], BaseField::from(count));
        }
    }

    /// Proves the trace satisfies the constraints and the LogUp sum, and that
    /// a bit set to 2 breaks that bit's check. (A flipped bit or a changed
    /// multiplicity breaks the LogUp constraint instead, which
    /// `assert_constraints_on_trace` reports by aborting the process: see
    /// `prover_refuses_a_changed_cell`.)
    #[test]
    fn constraints_hold_and_catch_single_changes() {
        let trace = gen_trace(&counts());
        let main = cpu(&trace.evaluations());
        let (interaction, claimed_sum) = trace.interaction(&Relations::dummy());
        let interaction = cpu(&interaction);
        assert_eq!(constraint_failure(&main, &interaction, claimed_sum), None);

        let flip = |x: BaseField| M31_ONE - x;
        let two = BaseField::from(2u32);
        for row in [1, 100, 255] {
            for bit in [0, 3, 7] {
                let mut tampered = main.clone();
                tampered[bit][row] = two;
                let failure = constraint_failure(&tampered, &interaction, claimed_sum)
                    .unwrap_or_else(|| panic!("bit {bit} row {row}: accepted"));
                assert!(
                    failure.contains(&format!("row: #{row}, constraint #{bit}\n")),
                    "bit {bit} row {row}: {failure}"
                );
            }
        }

        // A value used zero times yields nothing, so its row may hold any
        // byte: harmless, and no constraint needs to care.
        assert_eq!(counts()[0], 0);
        let mut other_byte = main.clone();
        other_byte[3][0] = flip(other_byte[3][0]);
        assert_eq!(constraint_failure(&other_byte, &interaction, claimed_sum), None);
    }

    /// Proves the constraints are degree 2 (framework degree tooling), which
    /// the declared bound `log_size + 1` covers.
    #[test]
    fn constraint_degree_matches_declared_bound() {
        let eval = ByteEval { log_size: LOG_SIZE, relations: Relations::dummy() };
        let degrees = constraint_degrees(&eval);
        assert_eq!(degrees.len(), BITS + 1);
        assert_eq!(degrees.iter().max(), Some(&2));
        assert_eq!(eval.max_constraint_log_degree_bound(), LOG_SIZE + 1);
    }

    /// `Σ sign·count_v/combine([v])`, from the counts alone.
    fn counts_sum(counts: &[u32; 256], relations: &Relations, sign: SecureField) -> SecureField {
        (0..256u32)
            .map(|v| {
                let denominator: SecureField = relations.byte.combine(&[BaseField::from(v)]);
                sign * BaseField::from(counts[v as usize]) / denominator
            })
            .sum()
    }

    /// Proves the claimed sum is `Σ −count_v/combine([v])`, computed
    /// independently, and zero when nothing was range-checked.
    #[test]
    fn claimed_sum_is_the_counts() {
        let relations = Relations::dummy();
        let counts = counts();
        let (_, claimed_sum) = gen_trace(&counts).interaction(&relations);
        assert_eq!(claimed_sum, counts_sum(&counts, &relations, -QM31_ONE));
        let (_, empty) = gen_trace(&[0; 256]).interaction(&relations);
        assert_eq!(empty, QM31_ZERO);
    }

    fn prove_bytes(counts: &[u32; 256], config: &ProofConfig) -> ComponentProof {
        let trace = gen_trace(counts);
        prove_component(
            counts,
            trace.evaluations(),
            |relations| trace.interaction(relations),
            |relations| ByteEval { log_size: LOG_SIZE, relations },
            config,
        )
        .expect("an honest trace satisfies the constraints")
    }

    /// The verifier uses each byte as often as the counts say.
    fn verify_bytes(
        counts: &[u32; 256],
        proof: &ComponentProof,
        config: &ProofConfig,
    ) -> Result<(), String> {
        verify_component(
            counts,
            |relations| ByteEval { log_size: LOG_SIZE, relations },
            |relations| counts_sum(counts, relations, QM31_ONE),
            proof,
            config,
        )
    }

    /// Proves a main trace with one cell changed after the interaction was
    /// derived (a flipped bit or a changed multiplicity in a used row, a bit
    /// changed in an unused one with its multiplicity raised) cannot be
    /// proven: the LogUp constraint no longer holds there.
    #[test]
    fn prover_refuses_a_changed_cell() {
        let config = ProofConfig::STANDARD;
        let counts = counts();
        let trace = gen_trace(&counts);
        let flip = |x: BaseField| M31_ONE - x;
        type Change<'a> = &'a dyn Fn(&mut [Vec<BaseField>]);
        let changes: [Change; 3] =
            [&|c| c[3][100] = flip(c[3][100]), &|c| c[MULT_COLUMN][255] += M31_ONE, &|c| {
                c[0][0] = M31_ONE;
                c[MULT_COLUMN][0] = M31_ONE;
            }];
        for (i, change) in changes.into_iter().enumerate() {
            let mut main = cpu(&trace.evaluations());
            change(&mut main);
            let domain = CanonicCoset::new(LOG_SIZE).circle_domain();
            let main = main
                .into_iter()
                .map(|c| CircleEvaluation::new(domain, BaseColumn::from_cpu(&c)))
                .collect();
            let proof = prove_component(
                &counts,
                main,
                |relations| trace.interaction(relations),
                |relations| ByteEval { log_size: LOG_SIZE, relations },
                &config,
            );
            assert!(proof.is_err(), "change {i} was proven");
        }
    }

    /// Proves an end-to-end STARK proof of the byte component verifies under
    /// the standard configuration (with real counts balanced by the verifier,
    /// and with all multiplicities 0), and that a changed queried value,
    /// commitment or claimed sum, or other counts, are rejected.
    #[test]
    fn proof_verifies_and_tampering_fails() {
        let config = ProofConfig::STANDARD;
        verify_bytes(&[0; 256], &prove_bytes(&[0; 256], &config), &config).unwrap();

        let counts = counts();
        let prove = || prove_bytes(&counts, &config);
        verify_bytes(&counts, &prove(), &config).unwrap();

        let mut proof = prove();
        proof.proof.0.queried_values[1][MULT_COLUMN][0] += M31_ONE;
        assert!(verify_bytes(&counts, &proof, &config).is_err(), "queried value");

        let mut proof = prove();
        proof.proof.0.commitments[2].0[31] ^= 0x80;
        assert!(verify_bytes(&counts, &proof, &config).is_err(), "commitment");

        let mut proof = prove();
        proof.claimed_sum += QM31_ONE;
        assert!(verify_bytes(&counts, &proof, &config).is_err(), "claimed sum");

        let mut other = counts;
        other[200] += 1;
        assert!(verify_bytes(&other, &prove(), &config).is_err(), "other counts");
    }
}
