//! Key bits inside the AIR: how the write, split and Merkle components tie the
//! bits that order a path to the address whose path it is.
//!
//! A [`Key`](crate::state::Key) is the 31 low bits of each of the address's
//! eight field elements ("limbs"), most significant first: key bit `d` is bit
//! `30 − t` of limb `j`, where `d = 31·j + t`, `0 ≤ t ≤ 30`. The components
//! never decompose a whole key: the Merkle component builds each limb's bits
//! up one level at a time and checks a limb once, where its last bit is read;
//! the write and split components decompose the one limb they need with the
//! gadgets here.
//!
//! # The zero-limb rule
//!
//! Over M31, `2^31 − 1 ≡ 0`, so a limb equal to zero has *two* 31-bit
//! decompositions: all zeros, and all ones. A canonical limb is at most
//! `2^31 − 2`, so its canonical decomposition always has a zero bit, and the
//! all-ones one is the only other way to reach the same field element (any
//! 31-bit pattern sums to an integer in `0..2^31`, and only `0` and `2^31 − 1`
//! fall in the same class). Every decomposition checked against a limb
//! therefore also shows, with an inverse witness, that its bits are not all
//! ones: here `(Σ bits − 31)·inv = 1`, and in the Merkle component
//! `(q + b − 2^30)·inv = 1` at a limb's last bit (the prefix `q` of the first
//! 30 bits plus the last bit `b` is `2^30` exactly when all 31 bits are ones).
//! With that, the bits are *the* binary digits of the limb: the key bits.

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::EvalAtRow;

use crate::hash::{M31, hash_to_elements};
use crate::types::Address;

/// Key bits taken from each limb of an address.
pub const LIMB_BITS: usize = 31;

/// Limbs in an address.
pub const LIMBS: usize = 8;

/// The deepest node the AIR can name: `31·7 + 30`, the last bit of the last
/// limb. A leaf below it would need `j = 8`.
pub const MAX_NODE_DEPTH: usize = LIMB_BITS * LIMBS - 1;

/// The eight limbs of an address, as the AIR sees them.
pub fn address_limbs(address: &Address) -> [M31; LIMBS] {
    hash_to_elements(&address.as_hash())
}

/// `(t, j)` with `depth = 31·j + t`, `0 ≤ t ≤ 30`.
pub const fn depth_parts(depth: usize) -> (usize, usize) {
    (depth % LIMB_BITS, depth / LIMB_BITS)
}

/// The 31 key bits of a limb, most significant first.
pub fn limb_bits(limb: M31) -> [bool; LIMB_BITS] {
    core::array::from_fn(|i| (limb.value() >> (LIMB_BITS - 1 - i)) & 1 == 1)
}

/// The number formed by the first `t` key bits of `limb` (`t ≤ 31`).
pub const fn prefix(limb: M31, t: usize) -> u32 {
    if t == 0 { 0 } else { limb.value() >> (LIMB_BITS - t) }
}

/// `1/(Σ bits − 31)`: the zero-limb rule's witness for a canonical limb, whose
/// bits are never all ones.
pub fn bits_inverse(limb: M31) -> M31 {
    let ones = limb_bits(limb).iter().filter(|b| **b).count() as u32;
    (M31::new(ones) - M31::new(LIMB_BITS as u32))
        .inverse()
        .expect("a canonical limb has a zero bit")
}

/// A constant as a column expression.
pub(super) fn constant<F: From<BaseField>>(value: u32) -> F {
    F::from(BaseField::from_u32_unchecked(value))
}

/// `Σ coefficients_k · values_k`.
pub(super) fn dot<F>(selectors: &[F], values: &[F]) -> F
where
    F: Clone + From<BaseField> + core::ops::Add<Output = F> + core::ops::Mul<Output = F>,
{
    selectors.iter().zip(values).fold(constant(0), |acc, (s, v)| acc + s.clone() * v.clone())
}

/// `Σ k · selectors_k`: the index a one-hot selects.
pub(super) fn index<F>(selectors: &[F]) -> F
where
    F: Clone + From<BaseField> + core::ops::Add<Output = F> + core::ops::Mul<BaseField, Output = F>,
{
    selectors
        .iter()
        .enumerate()
        .fold(constant(0), |acc, (k, s)| acc + s.clone() * BaseField::from_u32_unchecked(k as u32))
}

/// Constrains `x` to be 0 or 1.
pub(super) fn boolean<E: EvalAtRow>(eval: &mut E, x: &E::F) {
    eval.add_constraint(x.clone() * (x.clone() - constant(1)));
}

/// Constrains `selectors` to be a one-hot vector on an enabled row and all zero
/// on a padding row (`Σ = enabled`, each boolean). Degree 2.
pub(super) fn one_hot<E: EvalAtRow>(eval: &mut E, selectors: &[E::F], enabled: &E::F) {
    for s in selectors {
        boolean(eval, s);
    }
    let sum = selectors.iter().fold(constant::<E::F>(0), |acc, s| acc + s.clone());
    eval.add_constraint(sum - enabled.clone());
}

/// `Σ_{i<k} bits_i · 2^{k−1−i}` for every `k` in `0..=31`: the number formed by
/// the first `k` bits (index 31 is the whole limb). Linear in the bits.
pub(super) fn prefixes<F>(bits: &[F; LIMB_BITS]) -> [F; LIMB_BITS + 1]
where
    F: Clone + From<BaseField> + core::ops::Add<Output = F> + core::ops::Mul<BaseField, Output = F>,
{
    let mut out: [F; LIMB_BITS + 1] = core::array::from_fn(|_| constant(0));
    for i in 0..LIMB_BITS {
        out[i + 1] = out[i].clone() * BaseField::from_u32_unchecked(2) + bits[i].clone();
    }
    out
}

/// Constrains `bits` to be the key bits of `limb` (an expression of degree at
/// most 2) on enabled rows: each boolean, `Σ 2^{30−i}·bits_i = limb`, and the
/// zero-limb rule `enabled·((Σ bits − 31)·inv − 1) = 0` (degree 3). On a padding
/// row (all zero) every constraint holds.
pub(super) fn limb_decomposition<E: EvalAtRow>(
    eval: &mut E,
    bits: &[E::F; LIMB_BITS],
    limb: E::F,
    inv: &E::F,
    enabled: &E::F,
) {
    for b in bits {
        boolean(eval, b);
    }
    let whole = prefixes(bits)[LIMB_BITS].clone();
    eval.add_constraint(whole - limb);
    let ones = bits.iter().fold(constant::<E::F>(0), |acc, b| acc + b.clone());
    eval.add_constraint(
        enabled.clone() * ((ones - constant(LIMB_BITS as u32)) * inv.clone() - constant(1)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{KEY_BITS, Key};

    fn address(limbs: [u32; 8]) -> Address {
        Address(crate::hash::elements_to_hash(&limbs.map(M31::new)).0)
    }

    /// Proves the bits, prefixes and depth parts here are the state tree's key
    /// bits, for every depth of a key with a zero limb and an all-but-one-ones
    /// limb.
    #[test]
    fn bits_are_the_trees_key_bits() {
        let a = address([0x4000_0001, 0, 0x7fff_fffe, 5, 0x1234_5678, 1, 0x7000_0000, 0x2aaa_aaaa]);
        let key = Key::of(&a);
        let limbs = address_limbs(&a);
        for d in 0..KEY_BITS {
            let (t, j) = depth_parts(d);
            assert_eq!(31 * j + t, d);
            assert_eq!(limb_bits(limbs[j])[t], key.bit(d), "depth {d}");
            // The prefix of t + 1 bits is twice the prefix of t plus the bit.
            let next = prefix(limbs[j], t + 1);
            assert_eq!(next, 2 * prefix(limbs[j], t) + u32::from(key.bit(d)));
        }
        assert_eq!(prefix(limbs[0], 31), limbs[0].value());
        assert_eq!(MAX_NODE_DEPTH, KEY_BITS - 1);
    }

    /// Proves the zero-limb witness exists for canonical limbs, including zero
    /// and the largest, and that the all-ones pattern is the one it excludes.
    #[test]
    fn zero_limb_witness() {
        for limb in [0, 1, 0x7fff_fffe, 0x4000_0000] {
            let inv = bits_inverse(M31::new(limb));
            let ones = limb_bits(M31::new(limb)).iter().filter(|b| **b).count() as u32;
            assert_eq!((M31::new(ones) - M31::new(31)) * inv, M31::ONE);
        }
        // All ones sums to 31: no inverse, so the rule refuses it.
        assert_eq!(M31::new(31) - M31::new(31), M31::ZERO);
        // And all ones is the limb zero in the field.
        assert_eq!(M31::new((1u32 << 31) - 1), M31::ZERO);
    }
}
