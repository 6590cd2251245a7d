//! Ed25519 for sequencer blocks (and, later, consensus votes).

use core::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use super::SignatureError;
use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::types::digest::bytes32;

bytes32! {
    /// An Ed25519 public key of a sequencer (or, later, a validator).
    SequencerPublicKey
}

/// An Ed25519 signing key. Debug output never shows the secret.
#[derive(Clone)]
pub struct SequencerKey(SigningKey);

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SequencerSignature(pub [u8; 64]);

impl SequencerKey {
    /// The key whose secret seed is `seed` (32 bytes of host entropy).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> SequencerPublicKey {
        SequencerPublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` (callers pass a domain-separated digest, never raw data).
    pub fn sign(&self, message: &[u8]) -> SequencerSignature {
        SequencerSignature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SequencerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SequencerKey({})", self.public_key())
    }
}

impl SequencerPublicKey {
    /// Verifies strictly: small-order keys and non-canonical signatures are refused,
    /// so a signature cannot be malleated into a second valid one.
    pub fn verify(
        &self,
        message: &[u8],
        signature: &SequencerSignature,
    ) -> Result<(), SignatureError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::InvalidKey)?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &signature).map_err(|_| SignatureError::Mismatch)
    }
}

impl fmt::Debug for SequencerSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SequencerSignature({})", self)
    }
}

impl fmt::Display for SequencerSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl Encode for SequencerSignature {
    fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for SequencerSignature {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array().map(Self)
    }
}

impl serde::Serialize for SequencerSignature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_strictly() {
        let key = SequencerKey::from_seed(&[7; 32]);
        let sig = key.sign(b"header digest");
        assert_eq!(key.public_key().verify(b"header digest", &sig), Ok(()));
        assert_eq!(key.public_key().verify(b"other", &sig), Err(SignatureError::Mismatch));
        let mut bad = sig;
        bad.0[0] ^= 1;
        assert!(key.public_key().verify(b"header digest", &bad).is_err());
    }
}
