//! The Grain LFSR that generates Poseidon and Poseidon2 round constants, written
//! from the procedure in the reference parameter scripts (the original Poseidon
//! `generate_parameters_grain.sage`, and HorizenLabs' `poseidon2_rust_params.sage`
//! for Poseidon2). Compiled only for tests: its one job is to re-derive the table
//! embedded in [`super::constants`] so anyone can see it is not hand-picked.
//!
//! The procedure:
//! 1. An 80-bit register is initialised with the parameters, most significant bit
//!    first: field type (2 bits, 1 = prime field), S-box type (4 bits, 0 = x^α),
//!    field size n (12 bits), width t (12), R_F (10), R_P (10), then 30 ones.
//! 2. The register is clocked with feedback `b62 ⊕ b51 ⊕ b38 ⊕ b23 ⊕ b13 ⊕ b0`
//!    (b0 the oldest bit) and its first 160 outputs are discarded.
//! 3. Output bits pass a self-shrinking filter: bits are taken in pairs, and the
//!    second of a pair is emitted only when the first is 1.
//! 4. A constant is n emitted bits read most significant first; values ≥ p are
//!    rejected and the next n bits are tried.
//! 5. Poseidon2 draws `R_F·t + R_P` constants in round order: t per full round and
//!    one per partial round (the script then pads each partial round with t-1 zeros,
//!    which draws nothing).

use alloc::vec::Vec;

/// The 80 seed bits, first bit of the sequence at bit 0 of the result.
fn initial_register(params: &GrainParams) -> u128 {
    // (value, bit width), most significant bit first.
    let fields = [
        (params.field, 2),
        (params.sbox, 4),
        (u128::from(params.field_bits), 12),
        (params.width, 12),
        (params.full_rounds, 10),
        (params.partial_rounds, 10),
        ((1u128 << 30) - 1, 30),
    ];
    let mut register = 0u128;
    let mut position = 0;
    for (value, width) in fields {
        assert!(value < 1 << width, "parameter does not fit its field");
        for i in (0..width).rev() {
            register |= ((value >> i) & 1) << position;
            position += 1;
        }
    }
    assert_eq!(position, 80);
    register
}

/// The Grain self-shrinking generator over an 80-bit register.
pub struct Grain {
    /// Bit i of the register is bit i of the sequence window (bit 0 the oldest).
    register: u128,
}

/// Parameters that seed the register.
pub struct GrainParams {
    /// 0 for GF(2^n), 1 for a prime field.
    pub field: u128,
    /// 0 for x^α, 1 for x^(-1).
    pub sbox: u128,
    /// Bits per field element.
    pub field_bits: u32,
    pub width: u128,
    pub full_rounds: u128,
    pub partial_rounds: u128,
}

impl Grain {
    /// The register seeded with `params` and clocked past its first 160 outputs.
    pub fn new(params: &GrainParams) -> Self {
        let mut grain = Self { register: initial_register(params) };
        for _ in 0..160 {
            grain.clock();
        }
        grain
    }

    /// Shifts the register once and returns the new bit.
    fn clock(&mut self) -> bool {
        let r = self.register;
        let bit = ((r >> 62) ^ (r >> 51) ^ (r >> 38) ^ (r >> 23) ^ (r >> 13) ^ r) & 1;
        self.register = (r >> 1) | (bit << 79);
        bit == 1
    }

    /// The next bit after self-shrinking.
    pub fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.clock();
            let bit = self.clock();
            if keep {
                return bit;
            }
        }
    }

    /// `bits` output bits as an integer, first bit most significant.
    pub fn next_bits(&mut self, bits: u32) -> u64 {
        (0..bits).fold(0, |acc, _| (acc << 1) | u64::from(self.next_bit()))
    }

    /// The next value below `modulus`, by rejection sampling.
    pub fn next_field_element(&mut self, bits: u32, modulus: u64) -> u64 {
        loop {
            let candidate = self.next_bits(bits);
            if candidate < modulus {
                return candidate;
            }
        }
    }

    /// `count` field elements in order.
    pub fn field_elements(&mut self, count: usize, bits: u32, modulus: u64) -> Vec<u64> {
        (0..count).map(|_| self.next_field_element(bits, modulus)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the seed is laid out as the reference script lays it out: the
    /// parameters' bits, most significant first, in the documented order.
    #[test]
    fn seed_layout_matches_reference() {
        let params = GrainParams {
            field: 1,
            sbox: 0,
            field_bits: 31,
            width: 16,
            full_rounds: 8,
            partial_rounds: 14,
        };
        let register = initial_register(&params);
        let bits: alloc::string::String =
            (0..80).map(|i| if (register >> i) & 1 == 1 { '1' } else { '0' }).collect();
        let expected = alloc::format!(
            "{:02b}{:04b}{:012b}{:012b}{:010b}{:010b}{}",
            1,
            0,
            31,
            16,
            8,
            14,
            "1".repeat(30)
        );
        assert_eq!(bits, expected);
    }
}
