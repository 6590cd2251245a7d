//! The Mersenne-31 field: integers modulo `p = 2^31 - 1`.
//!
//! Why this field: stwo proves over it, so every hash computed here can be
//! recomputed inside a STARK at native cost, and `2^31 ≡ 1 (mod p)` makes reduction
//! a shift, a mask and an add, with no division and no Montgomery form.
//!
//! Every [`M31`] holds its canonical representative in `0..p`, so equality is
//! plain integer equality and [`M31::value`] is free. The arithmetic is written as
//! `const fn`s so that fixed digests (the empty-subtree table of the state tree)
//! can be computed at compile time; the operator traits call the same functions.

use core::fmt;
use core::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// The modulus `p = 2^31 - 1`.
pub const P: u32 = (1 << 31) - 1;

/// An element of the field `GF(2^31 - 1)`, always stored in canonical form `0..p`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct M31(u32);

impl M31 {
    pub const ZERO: Self = Self(0);
    pub const ONE: Self = Self(1);

    /// Reduces any `u32` into the field.
    #[inline]
    pub const fn new(value: u32) -> Self {
        // value = hi·2^31 + lo ≡ hi + lo, with hi ∈ {0, 1}; the sum is at most 2^31,
        // so one conditional subtraction finishes the job.
        let folded = (value & P) + (value >> 31);
        Self::from_below_2p(folded)
    }

    /// The element equal to `value` if `value` is already canonical (`< p`), so a
    /// decoder can refuse the second encoding of a value instead of silently
    /// reducing it.
    #[inline]
    pub const fn from_canonical(value: u32) -> Option<Self> {
        if value < P { Some(Self(value)) } else { None }
    }

    /// Reduces any `u64` into the field. Used after accumulating several products or
    /// sums in 64 bits so that only one reduction is paid for many operations.
    #[inline]
    pub const fn from_u64(value: u64) -> Self {
        const MASK: u64 = P as u64;
        // Each fold maps x = hi·2^31 + lo to hi + lo (same residue). A u64 becomes
        // < 2^33 + 2^31 after one fold and ≤ 2^31 + 4 after the second.
        let once = (value & MASK) + (value >> 31);
        let twice = (once & MASK) + (once >> 31);
        Self::from_below_2p(twice as u32)
    }

    /// The canonical representative, in `0..p`.
    #[inline]
    pub const fn value(self) -> u32 {
        self.0
    }

    /// `self + rhs`.
    #[inline]
    pub const fn add(self, rhs: Self) -> Self {
        // Both below 2^31 - 1, so the sum fits a u32 and is below 2p.
        Self::from_below_2p(self.0 + rhs.0)
    }

    /// `self - rhs`.
    #[inline]
    pub const fn sub(self, rhs: Self) -> Self {
        if self.0 >= rhs.0 { Self(self.0 - rhs.0) } else { Self(self.0 + P - rhs.0) }
    }

    /// `-self`.
    #[inline]
    pub const fn neg(self) -> Self {
        if self.0 == 0 { self } else { Self(P - self.0) }
    }

    /// `self · rhs`.
    #[inline]
    pub const fn mul(self, rhs: Self) -> Self {
        Self::from_u62(self.0 as u64 * rhs.0 as u64)
    }

    /// `self^2`.
    #[inline]
    pub const fn square(self) -> Self {
        self.mul(self)
    }

    /// `self^5`, the Poseidon2 S-box for this field: 5 is the smallest exponent
    /// coprime to `p - 1 = 2·3²·7·11·31·151·331`, so `x ↦ x^5` is a bijection.
    #[inline]
    pub const fn pow5(self) -> Self {
        let x2 = self.square();
        let x4 = x2.square();
        x4.mul(self)
    }

    /// `self^exponent` by square-and-multiply (for tests and one-off uses; the
    /// hash needs only [`M31::pow5`]).
    pub const fn pow(self, mut exponent: u64) -> Self {
        let mut base = self;
        let mut acc = Self::ONE;
        while exponent > 0 {
            if exponent & 1 == 1 {
                acc = acc.mul(base);
            }
            base = base.square();
            exponent >>= 1;
        }
        acc
    }

    /// The multiplicative inverse, `None` for zero (Fermat: `x^(p-2)`).
    pub const fn inverse(self) -> Option<Self> {
        if self.0 == 0 { None } else { Some(self.pow(P as u64 - 2)) }
    }

    /// Reduces a value below `2^62 - 1`, such as a product of two canonical
    /// elements (at most `(p-1)^2`) or a linear combination with small
    /// coefficients. Cheaper than [`M31::from_u64`]: one fold instead of two.
    #[inline]
    pub const fn from_u62(value: u64) -> Self {
        debug_assert!(value < (1 << 62) - 1);
        // One fold gives lo + hi with lo ≤ p and hi < 2^31, so the sum is at most
        // 2p, and it equals 2p only for value = p·(2^31 + 1) = 2^62 - 1, excluded.
        let folded = (value & P as u64) + (value >> 31);
        Self::from_below_2p(folded as u32)
    }

    /// Reduces a value known to be below `2p` with one conditional subtraction.
    #[inline]
    const fn from_below_2p(value: u32) -> Self {
        if value >= P { Self(value - P) } else { Self(value) }
    }
}

impl fmt::Debug for M31 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for M31 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for M31 {
    /// Reduces modulo `p`.
    fn from(value: u32) -> Self {
        Self::new(value)
    }
}

impl Add for M31 {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        M31::add(self, rhs)
    }
}

impl Sub for M31 {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        M31::sub(self, rhs)
    }
}

impl Mul for M31 {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        M31::mul(self, rhs)
    }
}

impl Neg for M31 {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        M31::neg(self)
    }
}

impl AddAssign for M31 {
    #[inline]
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign for M31 {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl MulAssign for M31 {
    #[inline]
    fn mul_assign(&mut self, rhs: Self) {
        *self = *self * rhs;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const P64: u64 = P as u64;

    fn element() -> impl Strategy<Value = M31> {
        // Mix the edges of the range in with uniform values: the reductions are
        // most likely to go wrong at 0, 1, p - 1 and 2^31.
        prop_oneof![
            (0..P).prop_map(M31::new),
            prop::sample::select(vec![0, 1, 2, P - 2, P - 1]).prop_map(M31::new),
        ]
    }

    /// Proves reduction of any u32 and any u64 agrees with `%` and is canonical.
    #[test]
    fn reduction_edges() {
        for v in [0, 1, P - 1, P, P + 1, 1 << 31, u32::MAX - 1, u32::MAX] {
            assert_eq!(M31::new(v).value(), v % P, "u32 {v}");
        }
        for v in [0, P64, P64 * P64, (P64 - 1) * (P64 - 1), u64::MAX, u64::MAX - 1, 1 << 62] {
            assert_eq!(M31::from_u64(v).value() as u64, v % P64, "u64 {v}");
        }
        for v in [0, P64, 2 * P64, P64 * P64, (1 << 62) - 2, (1 << 62) - P64 - 3] {
            assert_eq!(M31::from_u62(v).value() as u64, v % P64, "u62 {v}");
        }
        assert_eq!(M31::from_canonical(P), None);
        assert_eq!(M31::from_canonical(P - 1), Some(M31::new(P - 1)));
    }

    /// Proves `pow5` is the S-box it claims to be and is invertible (gcd(5, p-1) = 1).
    #[test]
    fn pow5_is_a_bijection_with_known_inverse() {
        // 5·d ≡ 1 (mod p-1) gives the inverse exponent d.
        let d = (1..5u64).map(|k| k * (P64 - 1) + 1).find(|n| n % 5 == 0).unwrap() / 5;
        for v in [0, 1, 2, 12345, P - 1] {
            let x = M31::new(v);
            assert_eq!(x.pow5(), x.pow(5));
            assert_eq!(x.pow5().pow(d), x);
        }
    }

    proptest! {
        /// Proves add, sub and mul agree with integer arithmetic modulo p.
        #[test]
        fn ops_match_integer_arithmetic(a in element(), b in element()) {
            let (x, y) = (a.value() as u64, b.value() as u64);
            prop_assert_eq!((a + b).value() as u64, (x + y) % P64);
            prop_assert_eq!((a - b).value() as u64, (x + P64 - y) % P64);
            prop_assert_eq!((a * b).value() as u64, (x * y) % P64);
            prop_assert_eq!((-a).value() as u64, (P64 - x) % P64);
        }

        /// Proves the field laws: associativity, commutativity, distributivity,
        /// identities and inverses.
        #[test]
        fn field_laws(a in element(), b in element(), c in element()) {
            prop_assert_eq!((a + b) + c, a + (b + c));
            prop_assert_eq!((a * b) * c, a * (b * c));
            prop_assert_eq!(a + b, b + a);
            prop_assert_eq!(a * b, b * a);
            prop_assert_eq!(a * (b + c), a * b + a * c);
            prop_assert_eq!(a + M31::ZERO, a);
            prop_assert_eq!(a * M31::ONE, a);
            prop_assert_eq!(a + (-a), M31::ZERO);
            prop_assert_eq!(a - b + b, a);
            if let Some(inv) = a.inverse() {
                prop_assert_eq!(a * inv, M31::ONE);
            } else {
                prop_assert_eq!(a, M31::ZERO);
            }
        }

        /// Proves every u32 and u64 reduces to its residue.
        #[test]
        fn reduction_matches_modulo(v in any::<u32>(), w in any::<u64>(), x in 0..(1u64 << 62) - 1) {
            prop_assert_eq!(M31::new(v).value(), v % P);
            prop_assert_eq!(M31::from_u64(w).value() as u64, w % P64);
            prop_assert_eq!(M31::from_u62(x).value() as u64, x % P64);
        }
    }
}
