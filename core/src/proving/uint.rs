//! `u64` arithmetic on 16-bit limbs, as the AIR does it.
//!
//! A `u64` is four 16-bit limbs, least significant first (the leaf's layout,
//! [`crate::state::u64_limbs`]). A limb the prover *creates* is committed as
//! its two bytes, `limb = low + 256·high`, each of which is looked up in the
//! byte table; so the limb is in `0..2^16` by construction and the limb itself
//! is the linear expression, not a column of its own.
//!
//! A sum of several `u64`s equal to a sum of others is checked limb by limb
//! with carries:
//!
//! ```text
//!     Σ lhs_i + c_{i−1} = Σ rhs_i + 2^16·c_i      (i = 0..3, c_{−1} = c_3 = 0)
//! ```
//!
//! Weighting limb `i` by `2^{16i}` and adding telescopes the carries into
//! `Σ lhs + 0 = Σ rhs + 2^64·c_3`, so with no final carry the two sums are equal
//! *as integers* — provided each limb equation holds over the integers, not only
//! modulo `p = 2^31 − 1`. It does when every operand limb is in `0..2^16` and
//! the carries are small (each side is then far below `p` in absolute value),
//! which is why every carry is pinned to the few values it can take
//! ([`constrain_in`]): `{0, 1}` for two addends, `{0, 1, 2}` for three,
//! `{−1, 0, 1}` when the sides are `a + b` and `c + d`.

use core::ops::{Add, Mul};

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::EvalAtRow;

use crate::hash::M31;

/// Limbs in a `u64`.
pub const LIMBS: usize = 4;
/// Bytes in a `u64`: two per limb, `[low_0, high_0, low_1, high_1, …]`.
pub const BYTES: usize = 2 * LIMBS;
/// Carries between limbs (the last limb may not carry out).
pub const CARRIES: usize = LIMBS - 1;

/// `2^16`, the weight of a carry.
const LIMB_BASE: BaseField = BaseField::from_u32_unchecked(1 << 16);
/// `2^8`, the weight of a high byte.
const BYTE_BASE: BaseField = BaseField::from_u32_unchecked(1 << 8);

/// The limbs `low + 256·high` whose bytes are `bytes`.
pub fn limbs_from_bytes<F>(bytes: &[F; BYTES]) -> [F; LIMBS]
where
    F: Clone + Add<Output = F> + Mul<BaseField, Output = F>,
{
    core::array::from_fn(|i| bytes[2 * i].clone() + bytes[2 * i + 1].clone() * BYTE_BASE)
}

/// Constrains `lhs + carry_in = rhs + 2^16·carry_out` for each limb, where
/// `lhs` and `rhs` are the limb-wise sums of each side's operands; the first
/// limb has no carry in, the last no carry out. Degree: that of the sums.
pub fn constrain_sum<E: EvalAtRow>(
    eval: &mut E,
    lhs: [E::F; LIMBS],
    rhs: [E::F; LIMBS],
    carries: &[E::F; CARRIES],
) {
    for (i, (l, r)) in lhs.into_iter().zip(rhs).enumerate() {
        let mut constraint = l - r;
        if i > 0 {
            constraint += carries[i - 1].clone();
        }
        if i < CARRIES {
            constraint = constraint - carries[i].clone() * LIMB_BASE;
        }
        eval.add_constraint(constraint);
    }
}

/// Constrains `x` to be one of `values`: `Π (x − v) = 0`, of degree
/// `values.len()`.
pub fn constrain_in<E: EvalAtRow>(eval: &mut E, x: &E::F, values: &[i32]) {
    let mut product: Option<E::F> = None;
    for &v in values {
        let factor = x.clone() - E::F::from(base_of(v));
        product = Some(match product {
            None => factor,
            Some(p) => p * factor,
        });
    }
    if let Some(p) = product {
        eval.add_constraint(p);
    }
}

/// A small signed integer as a field element.
pub const fn base_of(v: i32) -> BaseField {
    BaseField::from_u32_unchecked(signed(v as i64).value())
}

/// A small signed integer as a field element (`−1` is `p − 1`).
pub const fn signed(v: i64) -> M31 {
    let p = crate::hash::m31::P as i64;
    M31::new(v.rem_euclid(p) as u32)
}

/// The 16-bit limbs of `value`, least significant first, as integers.
pub const fn limbs(value: u64) -> [i64; LIMBS] {
    let mut out = [0; LIMBS];
    let mut i = 0;
    while i < LIMBS {
        out[i] = ((value >> (16 * i)) & 0xffff) as i64;
        i += 1;
    }
    out
}

/// The carries of `Σ lhs = Σ rhs` limb by limb (see the [module](self)), and
/// whether the sums are equal (every limb divides out and nothing carries out
/// of the last). Where they differ the carries are rounded down, so a row
/// built for a false sum still gets carries: its constraints then fail on the
/// limb where the sides part.
pub fn carries(lhs: &[u64], rhs: &[u64]) -> ([i64; CARRIES], bool) {
    let mut out = [0; CARRIES];
    let mut carry = 0i64;
    let mut exact = true;
    for i in 0..LIMBS {
        let left: i64 = lhs.iter().map(|v| limbs(*v)[i]).sum();
        let right: i64 = rhs.iter().map(|v| limbs(*v)[i]).sum();
        let excess = left + carry - right;
        exact &= excess.rem_euclid(1 << 16) == 0;
        carry = excess.div_euclid(1 << 16);
        match out.get_mut(i) {
            Some(slot) => *slot = carry,
            None => exact &= carry == 0,
        }
    }
    (out, exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the carries of true sums are exact and within the ranges the
    /// module documents, and that a false sum is reported.
    #[test]
    fn carries_of_sums() {
        let max = u64::MAX;
        // Three addends: carries up to 2.
        let (c, exact) = carries(&[max - 2, 1, 1], &[max]);
        assert!(exact);
        assert_eq!(c, [0, 0, 0]);
        let (c, exact) = carries(&[0xffff_ffff_ffff, 1], &[1 << 48]);
        assert!(exact);
        assert_eq!(c, [1, 1, 1]);
        let (c, exact) = carries(&[0xffff, 0xffff, 0xffff], &[3 * 0xffff]);
        assert!(exact);
        assert_eq!(c, [2, 0, 0]);
        // a + b = c + d with a borrow: −1.
        let (c, exact) = carries(&[0x1_0000, 0], &[1, 0xffff]);
        assert!(exact);
        assert_eq!(c, [-1, 0, 0]);
        // Overflow past 2^64 is not a sum of u64s.
        assert!(!carries(&[max, 1], &[0]).1);
        assert!(!carries(&[5, 1], &[7]).1);
    }

    /// Proves signed small integers map to the field as `v mod p`.
    #[test]
    fn signed_values() {
        assert_eq!(signed(-1), M31::new(crate::hash::m31::P - 1));
        assert_eq!(signed(2), M31::new(2));
        assert_eq!(base_of(-1), BaseField::from_u32_unchecked(crate::hash::m31::P - 1));
    }
}
