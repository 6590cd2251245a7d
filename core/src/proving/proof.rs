//! A block proof on the wire: the component sizes, their claimed LogUp sums
//! and stwo's STARK proof, in one length-limited encoding.

use alloc::vec::Vec;
use core::fmt;

use stwo::core::fields::m31::{BaseField, P};
use stwo::core::fields::qm31::SecureField;
use stwo::core::proof::StarkProof;
use stwo::core::vcs_lifted::blake2_merkle::Blake2sMerkleHasher;

use super::components::{ClaimedSums, LogSizes};
use crate::hash::{Domain, hash_bytes};
use crate::types::{Address, Hash};

/// Largest encoded proof accepted (a block proof is typically a few hundred KiB).
pub const MAX_PROOF_BYTES: usize = 8 << 20;

/// Largest component (log2 of rows) a proof may declare: bounds the verifier's
/// work before it has checked anything.
pub const MAX_LOG_SIZE: u32 = 24;

/// The name of a proof's encoding (its bytes as settled), by which nodes
/// announce the proofs they settled.
pub fn proof_digest(bytes: &[u8]) -> Hash {
    hash_bytes(Domain::BlockProof, bytes)
}

/// Encoding version.
const VERSION: u8 = 1;

/// Bytes before the STARK part: version, prover, sizes, claimed sums.
pub const HEADER_LEN: usize = 1 + 32 + 6 + 6 * 16;

/// A proof of one [`BlockStatement`](super::statement::BlockStatement).
#[derive(Clone, Debug)]
pub struct BlockProof {
    /// Who made the proof: the account its reward goes to. Bound into the
    /// proof's transcript, so it cannot be swapped.
    pub prover: Address,
    pub sizes: LogSizes,
    pub claimed_sums: ClaimedSums,
    pub stark: StarkProof<Blake2sMerkleHasher>,
}

/// Why bytes are not a block proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofDecodeError {
    TooLarge {
        len: usize,
    },
    Truncated,
    UnknownVersion(u8),
    /// A component size outside 4..=[`MAX_LOG_SIZE`].
    BadSize(u32),
    /// A claimed sum element is not below the field's modulus.
    NonCanonical,
    /// The STARK part does not parse.
    Stark,
    TrailingBytes,
}

impl fmt::Display for ProofDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => {
                write!(f, "proof of {len} bytes exceeds the {MAX_PROOF_BYTES}-byte limit")
            }
            Self::Truncated => f.write_str("proof is truncated"),
            Self::UnknownVersion(v) => write!(f, "unknown proof encoding version {v}"),
            Self::BadSize(s) => write!(f, "component size 2^{s} is out of range"),
            Self::NonCanonical => f.write_str("a field element or address is not canonical"),
            Self::Stark => f.write_str("the STARK proof does not parse"),
            Self::TrailingBytes => f.write_str("bytes after the end of the proof"),
        }
    }
}

impl BlockProof {
    /// `version ‖ prover (32) ‖ 6 sizes (u8) ‖ 6 claimed sums (4 × u32 LE each) ‖ STARK
    /// proof (postcard)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(VERSION);
        out.extend_from_slice(&self.prover.0);
        out.extend(self.sizes.to_array().map(|s| s as u8));
        for sum in self.claimed_sums.to_array() {
            for limb in sum.to_m31_array() {
                out.extend_from_slice(&limb.0.to_le_bytes());
            }
        }
        // Serializing into a Vec cannot fail.
        out.extend(postcard::to_allocvec(&self.stark).unwrap_or_default());
        out
    }

    /// The prover an encoded proof names, read from its header alone (the
    /// STARK part is not parsed): for indexing proofs already verified.
    pub fn prover_of(bytes: &[u8]) -> Result<Address, ProofDecodeError> {
        let header = bytes.get(..HEADER_LEN).ok_or(ProofDecodeError::Truncated)?;
        if header[0] != VERSION {
            return Err(ProofDecodeError::UnknownVersion(header[0]));
        }
        Ok(Address(header[1..33].try_into().expect("32 bytes")))
    }

    /// Decodes a proof, refusing anything over [`MAX_PROOF_BYTES`] before
    /// parsing it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofDecodeError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofDecodeError::TooLarge { len: bytes.len() });
        }
        let header_len = HEADER_LEN;
        let prover = Self::prover_of(bytes)?;
        if !crate::hash::is_canonical(&prover.as_hash()) {
            return Err(ProofDecodeError::NonCanonical);
        }
        let mut sizes = [0u32; 6];
        for (size, byte) in sizes.iter_mut().zip(&bytes[33..39]) {
            *size = u32::from(*byte);
            if !(4..=MAX_LOG_SIZE).contains(size) {
                return Err(ProofDecodeError::BadSize(*size));
            }
        }
        let mut sums = [SecureField::default(); 6];
        for (sum, chunk) in sums.iter_mut().zip(bytes[39..header_len].chunks_exact(16)) {
            *sum = decode_secure(chunk)?;
        }
        let (stark, rest) =
            postcard::take_from_bytes(&bytes[header_len..]).map_err(|e| match e {
                postcard::Error::DeserializeUnexpectedEnd => ProofDecodeError::Truncated,
                _ => ProofDecodeError::Stark,
            })?;
        if !rest.is_empty() {
            return Err(ProofDecodeError::TrailingBytes);
        }
        Ok(Self {
            prover,
            sizes: LogSizes::from_array(sizes),
            claimed_sums: ClaimedSums::from_array(sums),
            stark,
        })
    }
}

/// A secure field element from four little-endian canonical limbs.
fn decode_secure(chunk: &[u8]) -> Result<SecureField, ProofDecodeError> {
    let mut limbs = [BaseField::from_u32_unchecked(0); 4];
    for (limb, word) in limbs.iter_mut().zip(chunk.chunks_exact(4)) {
        let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        if value >= P {
            return Err(ProofDecodeError::NonCanonical);
        }
        *limb = BaseField::from_u32_unchecked(value);
    }
    Ok(SecureField::from_m31_array(limbs))
}
