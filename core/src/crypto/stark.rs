//! Stark-curve ECDSA for account transactions (via `starknet-crypto`).

use core::fmt;

use starknet_crypto::Felt;

use super::SignatureError;
use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::hash::{Domain, hash_bytes, hash_to_elements};
use crate::types::{Address, Hash, digest::bytes32};

bytes32! {
    /// A Stark-curve public key: the x-coordinate of the point, big-endian.
    StarkPublicKey
}

/// A Stark-curve secret key. Debug output never shows the scalar.
#[derive(Clone)]
pub struct StarkSecretKey(Felt);

/// An ECDSA signature `(r, s)` on the Stark curve, each a big-endian field element.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct StarkSignature {
    pub r: Hash,
    pub s: Hash,
}

/// Reads 32 big-endian bytes as a field element, refusing non-canonical encodings
/// (values ≥ the Stark prime), so each `(r, s)` has exactly one encoding. ECDSA itself
/// stays malleable (`(r, n − s)` also verifies), which is why a block's transaction
/// root commits to the signatures, not only to the transaction hashes.
fn canonical_felt(bytes: &[u8; 32]) -> Option<Felt> {
    let felt = Felt::from_bytes_be(bytes);
    (felt.to_bytes_be() == *bytes).then_some(felt)
}

/// The message a transaction signature signs: the transaction digest's eight 31-bit
/// limbs packed into one 248-bit integer, which is below the Stark prime.
fn message_felt(digest: &Hash) -> Felt {
    let mut bytes = [0u8; 32];
    let mut acc: u128 = 0;
    let mut bits = 0;
    let mut pos = 32;
    for limb in hash_to_elements(digest) {
        acc |= u128::from(limb.value()) << bits;
        bits += 31;
        while bits >= 8 {
            pos -= 1;
            bytes[pos] = acc as u8;
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        pos -= 1;
        bytes[pos] = acc as u8;
    }
    Felt::from_bytes_be(&bytes)
}

impl StarkSecretKey {
    /// A key from 32 big-endian bytes; zero and values ≥ the curve order are refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, SignatureError> {
        let felt = canonical_felt(bytes).ok_or(SignatureError::InvalidKey)?;
        let order = Felt::from_hex_unchecked(
            "0x0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f",
        );
        if felt == Felt::ZERO || felt >= order {
            return Err(SignatureError::InvalidKey);
        }
        Ok(Self(felt))
    }

    /// Derives a valid key from 32 bytes of host entropy by hashing until the value
    /// is a valid scalar (almost always the first try).
    pub fn from_entropy(entropy: &[u8; 32]) -> Self {
        let mut candidate = *entropy;
        loop {
            candidate[0] &= 0x07; // below 2^251, so nearly always below the order
            if let Ok(key) = Self::from_bytes(&candidate) {
                return key;
            }
            candidate = hash_bytes(Domain::KeyDerivation, &candidate).0;
        }
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes_be()
    }

    pub fn public_key(&self) -> StarkPublicKey {
        StarkPublicKey(starknet_crypto::get_public_key(&self.0).to_bytes_be())
    }

    /// Signs a digest with an RFC 6979 deterministic nonce.
    pub fn sign(&self, digest: &Hash) -> StarkSignature {
        let message = message_felt(digest);
        let k = starknet_crypto::rfc6979_generate_k(&message, &self.0, None);
        let signature = starknet_crypto::sign(&self.0, &message, &k)
            .expect("RFC 6979 nonces for a valid key and a 248-bit message always sign");
        StarkSignature { r: Hash(signature.r.to_bytes_be()), s: Hash(signature.s.to_bytes_be()) }
    }
}

impl fmt::Debug for StarkSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StarkSecretKey(..)")
    }
}

impl StarkPublicKey {
    /// The account address this key controls.
    pub fn address(&self) -> Address {
        Address(hash_bytes(Domain::Address, &self.0).0)
    }

    /// Checks `signature` over `digest` by this key.
    pub fn verify(&self, digest: &Hash, signature: &StarkSignature) -> Result<(), SignatureError> {
        let key = canonical_felt(&self.0).ok_or(SignatureError::InvalidKey)?;
        let r = canonical_felt(&signature.r.0).ok_or(SignatureError::Malformed)?;
        let s = canonical_felt(&signature.s.0).ok_or(SignatureError::Malformed)?;
        super::stark_ecdsa::verify(&key, &message_felt(digest), &r, &s)
    }
}

impl Encode for StarkSignature {
    fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
        self.r.encode_to(out);
        self.s.encode_to(out);
    }
}

impl Decode for StarkSignature {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { r: Hash::decode_from(reader)?, s: Hash::decode_from(reader)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> StarkSecretKey {
        StarkSecretKey::from_entropy(&[seed; 32])
    }

    #[test]
    fn signatures_verify_and_bind_key_and_message() {
        let (a, b) = (key(1), key(2));
        let digest = hash_bytes(Domain::Transaction, b"pay 5");
        let other = hash_bytes(Domain::Transaction, b"pay 6");
        let sig = a.sign(&digest);
        assert_eq!(a.public_key().verify(&digest, &sig), Ok(()));
        assert_eq!(a.public_key().verify(&other, &sig), Err(SignatureError::Mismatch));
        assert_eq!(b.public_key().verify(&digest, &sig), Err(SignatureError::Mismatch));
    }

    #[test]
    fn signing_is_deterministic() {
        let digest = hash_bytes(Domain::Transaction, b"x");
        assert_eq!(key(3).sign(&digest), key(3).sign(&digest));
    }

    #[test]
    fn non_canonical_signature_scalars_are_malformed() {
        let digest = hash_bytes(Domain::Transaction, b"x");
        let mut sig = key(4).sign(&digest);
        sig.r = Hash([0xff; 32]);
        assert_eq!(key(4).public_key().verify(&digest, &sig), Err(SignatureError::Malformed));
    }

    #[test]
    fn secret_key_bytes_round_trip_and_invalid_keys_are_refused() {
        let k = key(5);
        let again = StarkSecretKey::from_bytes(&k.to_bytes()).unwrap();
        assert_eq!(again.public_key(), k.public_key());
        assert!(StarkSecretKey::from_bytes(&[0; 32]).is_err());
        assert!(StarkSecretKey::from_bytes(&[0xff; 32]).is_err());
    }

    #[test]
    fn message_packing_is_injective_on_limbs() {
        let a = hash_bytes(Domain::Transaction, b"a");
        let b = hash_bytes(Domain::Transaction, b"b");
        assert_ne!(message_felt(&a), message_felt(&b));
    }
}
