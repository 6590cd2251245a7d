//! Building a component's trace columns row by row, for the prover.
//!
//! Components lay out their rows as plain `M31` values; this turns them into
//! the bit-reversed circle evaluations stwo commits to. Rows past the last
//! real one are padding: each component fills them with a row its constraints
//! accept and its lookups ignore (multiplicity 0).

use alloc::vec::Vec;

use stwo::core::fields::m31::BaseField;
use stwo::core::poly::circle::CanonicCoset;
use stwo::prover::backend::simd::SimdBackend;
use stwo::prover::backend::simd::column::BaseColumn;
use stwo::prover::backend::simd::m31::LOG_N_LANES;
use stwo::prover::poly::BitReversedOrder;
use stwo::prover::poly::circle::CircleEvaluation;

use crate::hash::M31;

/// A committed column, as stwo's prover takes it.
pub type Evaluation = CircleEvaluation<SimdBackend, BaseField, BitReversedOrder>;

/// The log2 of the rows a component with `rows` real rows needs: at least one
/// SIMD vector of rows.
pub fn log_size_for(rows: usize) -> u32 {
    rows.next_power_of_two().trailing_zeros().max(LOG_N_LANES)
}

/// An M31 element as stwo's base field element.
pub fn base(value: M31) -> BaseField {
    BaseField::from_u32_unchecked(value.value())
}

/// Columns of `1 << log_size` rows, written one cell at a time.
pub struct TraceColumns {
    log_size: u32,
    columns: Vec<Vec<BaseField>>,
}

impl TraceColumns {
    /// `width` zero columns of `1 << log_size` rows.
    pub fn new(log_size: u32, width: usize) -> Self {
        let zeros = alloc::vec![BaseField::from_u32_unchecked(0); 1 << log_size];
        Self { log_size, columns: alloc::vec![zeros; width] }
    }

    pub fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Writes `row`'s cells from `values`, starting at column 0.
    pub fn set_row(&mut self, row: usize, values: &[M31]) {
        debug_assert_eq!(values.len(), self.columns.len());
        for (column, value) in self.columns.iter_mut().zip(values) {
            column[row] = base(*value);
        }
    }

    /// The value at `row` of `column`.
    pub fn get(&self, row: usize, column: usize) -> BaseField {
        self.columns[column][row]
    }

    /// The columns as SIMD columns (for interaction traces, which read them).
    pub fn simd_columns(&self) -> Vec<BaseColumn> {
        self.columns.iter().map(|c| c.iter().copied().collect()).collect()
    }

    /// The columns as evaluations over the trace domain, ready to commit.
    pub fn into_evaluations(self) -> Vec<Evaluation> {
        let domain = CanonicCoset::new(self.log_size).circle_domain();
        self.columns
            .into_iter()
            .map(|c| CircleEvaluation::new(domain, c.into_iter().collect::<BaseColumn>()))
            .collect()
    }
}
