//! The Poseidon2 permutation over Mersenne-31 at width 16 (ePrint 2023/323).
//!
//! Structure, as in the paper and its reference implementation:
//!
//! ```text
//! M_E · state
//! 4 × full round:    state += c_r;      state_i = state_i^5 for all i;  state = M_E · state
//! 14 × partial round: state_0 += c_r;   state_0 = state_0^5;            state = M_I · state
//! 4 × full round (as above, with the final constants)
//! ```
//!
//! `M_E = circ(2·M4, M4, M4, M4)` with the paper's
//! `M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]]`, and `M_I = 1 + Diag(V)` (the
//! all-ones matrix plus a diagonal) with the vector in [`super::constants`].
//!
//! Speed: the linear layers accumulate in `u64` without reducing (every entry of
//! both matrices is small, so sums stay far below 2^64) and reduce once per element
//! per layer. Everything is a `const fn` so fixed digests can be computed at compile
//! time; at run time it is ordinary straight-line code.

use super::constants::{
    EXTERNAL_FINAL, EXTERNAL_INITIAL, HALF_FULL_ROUNDS, INTERNAL, INTERNAL_DIAG_SHIFTS,
    PARTIAL_ROUNDS, WIDTH,
};
use super::m31::{M31, P};

/// Applies the permutation in place.
pub const fn permute(state: &mut [M31; WIDTH]) {
    external_linear_layer(state);
    let mut round = 0;
    while round < HALF_FULL_ROUNDS {
        full_round(state, &EXTERNAL_INITIAL[round]);
        round += 1;
    }
    let mut round = 0;
    while round < PARTIAL_ROUNDS {
        partial_round(state, INTERNAL[round]);
        round += 1;
    }
    let mut round = 0;
    while round < HALF_FULL_ROUNDS {
        full_round(state, &EXTERNAL_FINAL[round]);
        round += 1;
    }
}

/// Constants and S-box on every element, then the external matrix.
const fn full_round(state: &mut [M31; WIDTH], constants: &[M31; WIDTH]) {
    let mut i = 0;
    while i < WIDTH {
        state[i] = state[i].add(constants[i]).pow5();
        i += 1;
    }
    external_linear_layer(state);
}

/// Constant and S-box on element 0 only, then the internal matrix.
const fn partial_round(state: &mut [M31; WIDTH], constant: M31) {
    state[0] = state[0].add(constant).pow5();
    internal_linear_layer(state);
}

/// The paper's M4 on one block of four canonical values, unreduced. Each output is
/// at most 16·(p-1) < 2^35.
#[inline(always)]
const fn apply_m4(x: [u64; 4]) -> [u64; 4] {
    [
        5 * x[0] + 7 * x[1] + x[2] + 3 * x[3],
        4 * x[0] + 6 * x[1] + x[2] + x[3],
        x[0] + 3 * x[1] + 5 * x[2] + 7 * x[3],
        x[0] + x[1] + 4 * x[2] + 6 * x[3],
    ]
}

/// `state ← circ(2·M4, M4, M4, M4) · state`.
///
/// Output block i is `2·M4·v_i + Σ_{j≠i} M4·v_j = M4·v_i + Σ_j M4·v_j`, so after
/// applying M4 to each block, element i gets the sum of the elements in its
/// position across all four blocks added to it.
const fn external_linear_layer(state: &mut [M31; WIDTH]) {
    let mut mixed = [0u64; WIDTH];
    let mut block = 0;
    while block < WIDTH {
        let out = apply_m4([
            state[block].value() as u64,
            state[block + 1].value() as u64,
            state[block + 2].value() as u64,
            state[block + 3].value() as u64,
        ]);
        mixed[block] = out[0];
        mixed[block + 1] = out[1];
        mixed[block + 2] = out[2];
        mixed[block + 3] = out[3];
        block += 4;
    }
    let mut sums = [0u64; 4];
    let mut i = 0;
    while i < WIDTH {
        sums[i % 4] += mixed[i];
        i += 1;
    }
    // Each sum is below 4·2^35, so each result is below 5·2^35, far below 2^62.
    let mut i = 0;
    while i < WIDTH {
        state[i] = M31::from_u62(mixed[i] + sums[i % 4]);
        i += 1;
    }
}

/// `state ← (1 + Diag(V)) · state`: every element gets the sum of all elements plus
/// its own diagonal multiple, with `V[0] = -2` and `V[i] = 2^shift` otherwise.
const fn internal_linear_layer(state: &mut [M31; WIDTH]) {
    let mut sum = 0u64;
    let mut i = 0;
    while i < WIDTH {
        sum += state[i].value() as u64;
        i += 1;
    }
    // sum - 2·s0 ≡ (sum - s0) + (p - s0), kept non-negative.
    let s0 = state[0].value() as u64;
    state[0] = M31::from_u62(sum - s0 + (P as u64 - s0));
    let mut i = 1;
    while i < WIDTH {
        // At most 16·2^31 + 2^31·2^16 < 2^48.
        let scaled = (state[i].value() as u64) << INTERNAL_DIAG_SHIFTS[i - 1];
        state[i] = M31::from_u62(sum + scaled);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    type Matrix = [[M31; WIDTH]; WIDTH];

    /// The paper's 4×4 block (Poseidon2 §5.1, also HorizenLabs' reference).
    const PAPER_M4: [[u32; 4]; 4] = [[5, 7, 1, 3], [4, 6, 1, 1], [1, 3, 5, 7], [1, 1, 4, 6]];

    /// The 4×4 block Plonky3 uses for its default Mersenne-31 permutation
    /// (`MDSMat4` in `poseidon2/src/external.rs`): circ(2, 3, 1, 1).
    const PLONKY3_M4: [[u32; 4]; 4] = [[2, 3, 1, 1], [1, 2, 3, 1], [1, 1, 2, 3], [3, 1, 1, 2]];

    /// circ(2·M4, M4, M4, M4) written out as a dense matrix.
    fn external_matrix(m4: [[u32; 4]; 4]) -> Matrix {
        let mut m = [[M31::ZERO; WIDTH]; WIDTH];
        for (r, row) in m.iter_mut().enumerate() {
            for (c, entry) in row.iter_mut().enumerate() {
                let scale = if r / 4 == c / 4 { 2 } else { 1 };
                *entry = M31::new(scale * m4[r % 4][c % 4]);
            }
        }
        m
    }

    /// The all-ones matrix plus Diag(V), V[0] = -2, V[i] = 2^shift.
    fn internal_matrix() -> Matrix {
        let mut m = [[M31::ONE; WIDTH]; WIDTH];
        m[0][0] = M31::ONE - M31::new(2);
        for i in 1..WIDTH {
            m[i][i] = M31::ONE + M31::new(1 << INTERNAL_DIAG_SHIFTS[i - 1]);
        }
        m
    }

    fn mat_vec(m: &Matrix, v: &[M31; WIDTH]) -> [M31; WIDTH] {
        core::array::from_fn(|r| (0..WIDTH).fold(M31::ZERO, |acc, c| acc + m[r][c] * v[c]))
    }

    /// A second, deliberately naive implementation: dense matrices, one field
    /// operation at a time, the round structure written out again from the paper.
    fn reference_permute(input: [M31; WIDTH], m4: [[u32; 4]; 4]) -> [M31; WIDTH] {
        let external = external_matrix(m4);
        let internal = internal_matrix();
        let mut s = mat_vec(&external, &input);
        for constants in &EXTERNAL_INITIAL {
            for (x, c) in s.iter_mut().zip(constants) {
                *x = (*x + *c).pow(5);
            }
            s = mat_vec(&external, &s);
        }
        for c in &INTERNAL {
            s[0] = (s[0] + *c).pow(5);
            s = mat_vec(&internal, &s);
        }
        for constants in &EXTERNAL_FINAL {
            for (x, c) in s.iter_mut().zip(constants) {
                *x = (*x + *c).pow(5);
            }
            s = mat_vec(&external, &s);
        }
        s
    }

    fn counting_input() -> [M31; WIDTH] {
        core::array::from_fn(|i| M31::new(i as u32))
    }

    fn values(state: &[M31; WIDTH]) -> [u32; WIDTH] {
        state.map(M31::value)
    }

    /// Proves the reference implementation (constants, S-box, internal matrix,
    /// round structure, block-circulant external layer) against Plonky3's published
    /// known-answer vector for its default Mersenne-31 width-16 permutation
    /// (`test_default_mersenne31_poseidon2_width_16` in
    /// `mersenne-31/src/poseidon2.rs`), which uses the same Grain constants and
    /// internal diagonal but the circ(2,3,1,1) block in place of the paper's M4.
    /// Swapping that one block in makes the reference reproduce their output.
    #[test]
    fn reference_matches_plonky3_known_answer() {
        let expected = [
            0x0b2c803a, 0x5b1ee4d1, 0x49c6b1e3, 0x2cdc280c, 0x310a60c8, 0x530a729e, 0x4e61bcb4,
            0x2e84d3c3, 0x58709c08, 0x7e82ac42, 0x2162bcef, 0x6d153ab6, 0x742cf0e3, 0x2f21632d,
            0x61adce1e, 0x1973d6f1,
        ];
        assert_eq!(values(&reference_permute(counting_input(), PLONKY3_M4)), expected);
    }

    /// Freezes Starling's permutation (paper M4) on input [0, 1, …, 15]. No
    /// published vector exists for exactly this combination (paper M4 with the
    /// Mersenne-31 Grain constants and Plonky3's diagonal); the other tests tie each
    /// part of it to published data.
    #[test]
    fn permutation_fixed_vector() {
        let mut state = counting_input();
        permute(&mut state);
        let expected = [
            0x6a2c2993, 0x7f72a2b0, 0x623a9b42, 0x5684e396, 0x73ba19ae, 0x2150c130, 0x795c4bba,
            0x351f2365, 0x2f08432a, 0x551239f7, 0x122cfb42, 0x2412df91, 0x4b521208, 0x51b72550,
            0x0ab3e2be, 0x2815136b,
        ];
        assert_eq!(values(&state), expected, "got {:#010x?}", values(&state));
    }

    /// Proves the fast external layer is exactly circ(2·M4, M4, M4, M4) with the
    /// paper's M4, on the extreme input (all p - 1) where overflow would show.
    #[test]
    fn external_layer_matches_dense_matrix() {
        let m = external_matrix(PAPER_M4);
        for input in [[M31::new(P - 1); WIDTH], counting_input()] {
            let mut fast = input;
            external_linear_layer(&mut fast);
            assert_eq!(fast, mat_vec(&m, &input));
        }
    }

    /// Proves the fast internal layer is exactly 1 + Diag(V).
    #[test]
    fn internal_layer_matches_dense_matrix() {
        let m = internal_matrix();
        for input in [[M31::new(P - 1); WIDTH], counting_input()] {
            let mut fast = input;
            internal_linear_layer(&mut fast);
            assert_eq!(fast, mat_vec(&m, &input));
        }
    }

    proptest! {
        /// Proves the optimised permutation equals the naive reference on random
        /// states.
        #[test]
        fn permutation_matches_reference(raw in prop::array::uniform16(0..P)) {
            let input = raw.map(M31::new);
            let mut fast = input;
            permute(&mut fast);
            prop_assert_eq!(fast, reference_permute(input, PAPER_M4));
        }

        /// Proves both linear layers agree with their dense matrices everywhere.
        #[test]
        fn linear_layers_match_dense(raw in prop::array::uniform16(0..P)) {
            let input = raw.map(M31::new);
            let mut e = input;
            external_linear_layer(&mut e);
            prop_assert_eq!(e, mat_vec(&external_matrix(PAPER_M4), &input));
            let mut i = input;
            internal_linear_layer(&mut i);
            prop_assert_eq!(i, mat_vec(&internal_matrix(), &input));
        }
    }
}
