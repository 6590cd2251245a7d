//! Keys and signatures.
//!
//! Two schemes, each where it belongs:
//! - [`stark`]: ECDSA on the Stark curve signs *account transactions*. It is the curve
//!   every Starknet wallet uses, so existing keys and keystores work as they are.
//! - [`ed25519`]: Ed25519 signs *blocks and consensus votes* and names peers. It is
//!   about ten times cheaper to verify, and validators verify a great many votes.
//!
//! Nothing here draws randomness: secret keys come in as bytes from the host, and
//! Stark signatures use RFC 6979 deterministic nonces.

pub mod ed25519;
pub mod stark;
mod stark_ecdsa;

pub use ed25519::{SequencerKey, SequencerPublicKey, SequencerSignature};
pub use stark::{StarkPublicKey, StarkSecretKey, StarkSignature};

use core::fmt;

/// A signature that does not verify, or a key that is not a valid point or scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The bytes are not a valid key.
    InvalidKey,
    /// The bytes are not a well-formed signature.
    Malformed,
    /// Well-formed, but not made by this key over this message.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidKey => "invalid public or secret key",
            Self::Malformed => "malformed signature",
            Self::Mismatch => "signature does not match the key and message",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SignatureError {}
