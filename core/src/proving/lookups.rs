//! What the components use from the Poseidon and byte components, counted
//! while their traces are built: the Poseidon component then gets one row per
//! permutation used, and the byte table a multiplicity per value.

use alloc::vec::Vec;

use crate::hash::{M31, permute};

/// One permutation some row uses: its input, and whether it uses the whole
/// output (`full`, a sponge that absorbs more) or only the first half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermutationUse {
    pub input: [M31; 16],
    pub full: bool,
}

/// Uses counted while the using components' traces are built.
#[derive(Clone, Debug)]
pub struct LookupCounts {
    /// In the order they were used: the Poseidon component's rows.
    pub permutations: Vec<PermutationUse>,
    /// How many times each byte value was range-checked.
    pub bytes: [u32; 256],
}

impl Default for LookupCounts {
    fn default() -> Self {
        Self { permutations: Vec::new(), bytes: [0; 256] }
    }
}

impl LookupCounts {
    /// Counts a use of the permutation on `input` and returns its output.
    pub fn permutation(&mut self, input: [M31; 16], full: bool) -> [M31; 16] {
        self.record(input, full);
        let mut state = input;
        permute(&mut state);
        state
    }

    /// Counts a use of the permutation on `input` whose output the caller
    /// already has (hashing is most of building the traces: never twice).
    pub fn record(&mut self, input: [M31; 16], full: bool) {
        self.permutations.push(PermutationUse { input, full });
    }

    /// Counts a range check of `value` as one byte.
    pub fn byte(&mut self, value: u8) {
        self.bytes[usize::from(value)] += 1;
    }

    /// Counts a range check of a 16-bit limb as its two bytes (low, high).
    pub fn limb(&mut self, value: u16) {
        let [low, high] = value.to_le_bytes();
        self.byte(low);
        self.byte(high);
    }
}
