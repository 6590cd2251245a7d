//! The parameter set of the Poseidon2 instance Starling uses: Mersenne-31, width 16,
//! S-box x^5, 8 full rounds (4 + 4) and 14 partial rounds.
//!
//! Round numbers: R_F = 8 and R_P = 14 are the 128-bit-security numbers the
//! Poseidon2 paper's round-number rules give for a 31-bit prime field at width 16
//! with α = 5 (Grassi, Khovratovich, Schofnegger, "Poseidon2: A Faster Version of the
//! Poseidon Hash Function", ePrint 2023/323, including its +2 full rounds and +7.5%
//! partial rounds security margin); Plonky3 uses the same numbers for this field.
//!
//! Round constants: generated with the Grain LFSR procedure of the reference scripts
//! (`poseidon2_rust_params.sage` in HorizenLabs' `poseidon2` repository, following
//! the original Poseidon `generate_parameters_grain.sage`) seeded with field = 1
//! (prime), S-box = 0 (x^α), n = 31, t = 16, R_F = 8, R_P = 14: 80-bit register,
//! first 160 bits discarded, self-shrinking output, 31-bit big-endian candidates,
//! rejection of values ≥ p. Poseidon2 draws t constants per full round and one per
//! partial round, in round order. The test below re-runs that procedure
//! (`super::grain`) and compares every entry; the table also equals, entry for
//! entry, the width-16 Mersenne-31 constants Plonky3 publishes in
//! `mersenne-31/src/poseidon2.rs` (`MERSENNE31_POSEIDON2_RC_16_*`), which were
//! produced independently from the same procedure.
//!
//! Internal diagonal: Plonky3's published width-16 vector for this field,
//! `V = [-2, 2^0, 2^1, …, 2^8, 2^10, 2^12, 2^13, 2^14, 2^15, 2^16]`, chosen so that
//! multiplying by an entry is a shift; the internal matrix is `1 + Diag(V)` (the
//! all-ones matrix plus the diagonal).

use super::m31::M31;

/// State width t.
pub const WIDTH: usize = 16;

/// Full rounds before, and again after, the partial rounds (R_F / 2).
pub const HALF_FULL_ROUNDS: usize = 4;

/// Partial rounds R_P.
pub const PARTIAL_ROUNDS: usize = 14;

/// The internal matrix diagonal `V[1..]` as shifts: `V[i] = 2^INTERNAL_DIAG_SHIFTS[i - 1]`.
/// `V[0] = -2` is handled separately.
pub const INTERNAL_DIAG_SHIFTS: [u32; WIDTH - 1] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16];

/// Converts a table row at compile time; every entry is checked to be below p.
const fn row<const N: usize>(values: [u32; N]) -> [M31; N] {
    let mut out = [M31::ZERO; N];
    let mut i = 0;
    while i < N {
        out[i] = match M31::from_canonical(values[i]) {
            Some(x) => x,
            None => panic!("round constant is not below p"),
        };
        i += 1;
    }
    out
}

/// Constants of the first four full rounds, one per state element.
pub const EXTERNAL_INITIAL: [[M31; WIDTH]; HALF_FULL_ROUNDS] = [
    row([
        0x768bab52, 0x70e0ab7d, 0x3d266c8a, 0x6da42045, 0x600fef22, 0x41dace6b, 0x64f9bdd4,
        0x5d42d4fe, 0x76b1516d, 0x6fc9a717, 0x70ac4fb6, 0x00194ef6, 0x22b644e2, 0x1f7916d5,
        0x47581be2, 0x2710a123,
    ]),
    row([
        0x6284e867, 0x018d3afe, 0x5df99ef3, 0x4c1e467b, 0x566f6abc, 0x2994e427, 0x538a6d42,
        0x5d7bf2cf, 0x7fda2dab, 0x0fd854c4, 0x46922fca, 0x3d7763a1, 0x19fd05ca, 0x0a4bbb43,
        0x15075851, 0x3d903d76,
    ]),
    row([
        0x2d290ff7, 0x40809fa0, 0x59dac6ec, 0x127927a2, 0x6bbf0ea0, 0x0294140f, 0x24742976,
        0x6e84c081, 0x22484f4a, 0x354cae59, 0x0453ffe1, 0x3f47a3cc, 0x0088204e, 0x6066e109,
        0x3b7c4b80, 0x6b55665d,
    ]),
    row([
        0x3bc4b897, 0x735bf378, 0x508daf42, 0x1884fc2b, 0x7214f24c, 0x7498be0a, 0x1a60e640,
        0x3303f928, 0x29b46376, 0x5c96bb68, 0x65d097a5, 0x1d358e9f, 0x4a9a9017, 0x4724cf76,
        0x347af70f, 0x1e77e59a,
    ]),
];

/// Constants of the partial rounds, added to element 0 only.
pub const INTERNAL: [M31; PARTIAL_ROUNDS] = row([
    0x7f7ec4bf, 0x0421926f, 0x5198e669, 0x34db3148, 0x4368bafd, 0x66685c7f, 0x78d3249a, 0x60187881,
    0x76dad67a, 0x0690b437, 0x1ea95311, 0x40e5369a, 0x38f103fc, 0x1d226a21,
]);

/// Constants of the last four full rounds, one per state element.
pub const EXTERNAL_FINAL: [[M31; WIDTH]; HALF_FULL_ROUNDS] = [
    row([
        0x57090613, 0x1fa42108, 0x17bbef50, 0x1ff7e11c, 0x047b24ca, 0x4e140275, 0x4fa086f5,
        0x079b309c, 0x1159bd47, 0x6d37e4e5, 0x075d8dce, 0x12121ca0, 0x7f6a7c40, 0x68e182ba,
        0x5493201b, 0x0444a80e,
    ]),
    row([
        0x0064f4c6, 0x6467abe6, 0x66975762, 0x2af68f9b, 0x345b33be, 0x1b70d47f, 0x053db717,
        0x381189cb, 0x43b915f8, 0x20df3694, 0x0f459d26, 0x77a0e97b, 0x2f73e739, 0x1876c2f9,
        0x65a0e29a, 0x4cabefbe,
    ]),
    row([
        0x5abd1268, 0x4d34a760, 0x12771799, 0x69a0c9ac, 0x39091e55, 0x7f611cd0, 0x3af055da,
        0x7ac0bbdf, 0x6e0f3a24, 0x41e3b6f7, 0x49b3756d, 0x568bc538, 0x20c079d8, 0x1701c72c,
        0x7670dc6c, 0x5a439035,
    ]),
    row([
        0x7c93e00e, 0x561fbb4d, 0x1178907b, 0x02737406, 0x32fb24f1, 0x6323b60a, 0x6ab12418,
        0x42c99cea, 0x155a0b97, 0x53d1c6aa, 0x2bd20347, 0x279b3d73, 0x4f5f3c70, 0x0245af6c,
        0x238359d3, 0x49966a59,
    ]),
];

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::super::grain::{Grain, GrainParams};
    use super::super::m31::P;
    use super::*;

    /// Proves the embedded table is exactly what the Grain procedure produces for
    /// this instance, in the order the reference script consumes it: 64 constants
    /// for the first full rounds, 14 for the partial rounds, 64 for the last.
    #[test]
    fn round_constants_rederive_from_grain() {
        let mut grain = Grain::new(&GrainParams {
            field: 1,
            sbox: 0,
            field_bits: 31,
            width: WIDTH as u128,
            full_rounds: 2 * HALF_FULL_ROUNDS as u128,
            partial_rounds: PARTIAL_ROUNDS as u128,
        });
        let count = 2 * HALF_FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS;
        let derived = grain.field_elements(count, 31, u64::from(P));
        let embedded: Vec<u64> = EXTERNAL_INITIAL
            .iter()
            .flatten()
            .chain(INTERNAL.iter())
            .chain(EXTERNAL_FINAL.iter().flatten())
            .map(|c| u64::from(c.value()))
            .collect();
        assert_eq!(derived, embedded);
    }

    /// Spot-checks entries against Plonky3's published Mersenne-31 width-16 table
    /// (first and last of each of its three arrays), an independent derivation.
    #[test]
    fn round_constants_match_plonky3_spot_checks() {
        assert_eq!(EXTERNAL_INITIAL[0][0].value(), 0x768bab52);
        assert_eq!(EXTERNAL_INITIAL[3][15].value(), 0x1e77e59a);
        assert_eq!(INTERNAL[0].value(), 0x7f7ec4bf);
        assert_eq!(INTERNAL[13].value(), 0x1d226a21);
        assert_eq!(EXTERNAL_FINAL[0][0].value(), 0x57090613);
        assert_eq!(EXTERNAL_FINAL[3][15].value(), 0x49966a59);
    }
}
