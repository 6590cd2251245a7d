//! Stark-curve ECDSA verification that cannot panic.
//!
//! `starknet-crypto` 0.8's `verify` unwraps the conversion of `zw·G ± rw·Q` to affine
//! coordinates, which fails when that sum is the point at infinity. Anyone holding
//! a key can pick `s = 1, r = −z·q⁻¹ mod n` so that `zG + rQ = O`: one transaction
//! would crash every node that checks it. This is the same check (same ranges, same
//! two candidate points, so it accepts exactly the signatures `starknet-crypto`
//! makes and accepts) with the point at infinity treated as "does not match".

use starknet_curve::curve_params::{ALPHA, BETA, EC_ORDER, GENERATOR};
use starknet_types_core::curve::ProjectivePoint;
use starknet_types_core::felt::{Felt, NonZeroFelt};

use super::SignatureError;

/// 2^251: the bound Starknet's ECDSA (after StarkWare's reference implementation)
/// puts on messages and on `r`, `s` and `w`.
const ELEMENT_UPPER_BOUND: Felt =
    Felt::from_hex_unchecked("0x800000000000000000000000000000000000000000000000000000000000000");

/// The curve point with x-coordinate `x` (either of its two y's; ECDSA checks
/// both `P + Q` and `P − Q`, which covers the other).
fn point_with_x(x: &Felt) -> Option<ProjectivePoint> {
    let y = (x.square() * x + ALPHA * x + BETA).sqrt()?;
    ProjectivePoint::from_affine(*x, y).ok()
}

/// Checks `(r, s)` on `message` for `public_key` (x-coordinates and scalars as field elements).
pub(super) fn verify(
    public_key: &Felt,
    message: &Felt,
    r: &Felt,
    s: &Felt,
) -> Result<(), SignatureError> {
    let in_range = |v: &Felt| *v != Felt::ZERO && *v < ELEMENT_UPPER_BOUND;
    if *message >= ELEMENT_UPPER_BOUND || !in_range(r) || !in_range(s) {
        return Err(SignatureError::Malformed);
    }
    let q = point_with_x(public_key).ok_or(SignatureError::InvalidKey)?;
    let order = NonZeroFelt::try_from(EC_ORDER).expect("the curve order is not zero");
    let w = s.mod_inverse(&order).filter(in_range).ok_or(SignatureError::Malformed)?;
    let g = ProjectivePoint::from_affine(GENERATOR.x(), GENERATOR.y())
        .expect("the generator is on the curve");
    let zw_g = &g * message.mul_mod(&w, &order);
    let rw_q = &q * r.mul_mod(&w, &order);
    let matches = |p: ProjectivePoint| p.to_affine().is_ok_and(|a| a.x() == *r);
    if matches(&zw_g + &rw_q) || matches(&zw_g - &rw_q) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> NonZeroFelt {
        NonZeroFelt::try_from(EC_ORDER).unwrap()
    }

    #[test]
    fn accepts_what_starknet_crypto_signs_and_rejects_changes() {
        let key = Felt::from(123_456_789u64);
        let public = starknet_crypto::get_public_key(&key);
        let message = Felt::from(42u64);
        let k = starknet_crypto::rfc6979_generate_k(&message, &key, None);
        let sig = starknet_crypto::sign(&key, &message, &k).unwrap();
        assert_eq!(verify(&public, &message, &sig.r, &sig.s), Ok(()));
        let other = Felt::from(43u64);
        assert_eq!(verify(&public, &other, &sig.r, &sig.s), Err(SignatureError::Mismatch));
        assert_eq!(verify(&public, &message, &sig.r, &Felt::ZERO), Err(SignatureError::Malformed));
    }

    /// The signature that makes `zG + rQ` the point at infinity: `s = 1` and
    /// `r = −z·q⁻¹ mod n`. `starknet_crypto::verify` panics on it; ours refuses it.
    #[test]
    fn the_point_at_infinity_is_a_mismatch_not_a_panic() {
        let message = Felt::from(0xdead_beef_u64);
        let mut tried = 0;
        for secret in 2u64..50 {
            let q = Felt::from(secret);
            let q_inv = q.mod_inverse(&order()).unwrap();
            let r = EC_ORDER - message.mul_mod(&q_inv, &order());
            if r >= ELEMENT_UPPER_BOUND {
                continue; // r must be below 2^251 to reach the point arithmetic
            }
            tried += 1;
            let public = starknet_crypto::get_public_key(&q);
            assert_eq!(verify(&public, &message, &r, &Felt::ONE), Err(SignatureError::Mismatch));
        }
        assert!(tried > 0, "found keys for which the crafted r is in range");
    }
}
