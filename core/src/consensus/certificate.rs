//! Commit certificates: the precommits that make a block final.
//!
//! A block is final once validators holding more than two thirds of its epoch's
//! voting power have precommitted its hash in one round. Those signed precommits,
//! stored with the block and served to every peer, are its certificate: anyone
//! holding the epoch's validator set can check finality without having seen the
//! votes arrive.

use alloc::vec::Vec;
use core::fmt;

use crate::crypto::{SequencerSignature, SignatureError};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::types::{ChainId, Hash};

use super::validator_set::MAX_VALIDATORS;
use super::{SignedVote, ValidatorSet, Vote, VoteKind};

/// One validator's precommit signature, naming the validator by its index in the
/// epoch's [`ValidatorSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitSignature {
    pub validator: u16,
    pub signature: SequencerSignature,
}

/// Precommits for `block_hash` at `height` and `round`, sorted by validator index,
/// each validator at most once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitCertificate {
    pub height: u64,
    pub round: u32,
    pub block_hash: Hash,
    pub signatures: Vec<CommitSignature>,
}

/// Why a certificate does not prove a block final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateError {
    /// It certifies another block or height than the one it came with.
    WrongBlock {
        expected: Hash,
        found: Hash,
    },
    WrongHeight {
        expected: u64,
        found: u64,
    },
    /// Indices are not strictly increasing (a validator counted twice).
    NotSorted,
    /// An index names no validator of the set.
    UnknownValidator(u16),
    /// A precommit signature does not verify.
    BadSignature {
        validator: u16,
        error: SignatureError,
    },
    /// The signers hold two thirds of the power or less.
    NoQuorum {
        power: u64,
        total: u64,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongBlock { expected, found } => {
                write!(f, "certificate is for block {found}, expected {expected}")
            }
            Self::WrongHeight { expected, found } => {
                write!(f, "certificate is for height {found}, expected {expected}")
            }
            Self::NotSorted => f.write_str("certificate signers are not sorted or repeat"),
            Self::UnknownValidator(i) => {
                write!(f, "certificate names validator #{i}, not in the set")
            }
            Self::BadSignature { validator, error } => {
                write!(f, "precommit of validator #{validator}: {error}")
            }
            Self::NoQuorum { power, total } => {
                write!(f, "certificate signers hold {power} of {total} power, not more than 2/3")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CertificateError {}

impl CommitCertificate {
    /// Builds a certificate from precommits for `block_hash` at `height`/`round`
    /// by members of `set`; other votes are ignored. Does not check the quorum or
    /// the signatures (the votes were checked on arrival); [`Self::verify`] does.
    pub fn from_precommits<'a>(
        set: &ValidatorSet,
        height: u64,
        round: u32,
        block_hash: Hash,
        votes: impl IntoIterator<Item = &'a SignedVote>,
    ) -> Self {
        let mut signatures: Vec<CommitSignature> = votes
            .into_iter()
            .filter(|v| {
                v.vote.kind == VoteKind::Precommit
                    && v.vote.height == height
                    && v.vote.round == round
                    && v.vote.value == Some(block_hash)
            })
            .filter_map(|v| {
                let index = set.index_of(&v.vote.validator)?;
                Some(CommitSignature { validator: index as u16, signature: v.signature })
            })
            .collect();
        signatures.sort_unstable_by_key(|s| s.validator);
        signatures.dedup_by_key(|s| s.validator);
        Self { height, round, block_hash, signatures }
    }

    /// The precommit validator `index` of `set` signed, as it would be verified.
    fn precommit(&self, chain_id: &ChainId, set: &ValidatorSet, index: u16) -> Option<Vote> {
        let validator = set.validators().get(usize::from(index))?;
        Some(Vote {
            chain_id: chain_id.clone(),
            height: self.height,
            round: self.round,
            kind: VoteKind::Precommit,
            value: Some(self.block_hash),
            validator: validator.key,
        })
    }

    /// Checks that this certificate makes block `block_hash` at `height` final
    /// under `set`: every signature verifies, no validator counts twice, and the
    /// signers hold more than two thirds of the power. Returns the signers' power.
    pub fn verify(
        &self,
        chain_id: &ChainId,
        set: &ValidatorSet,
        height: u64,
        block_hash: &Hash,
    ) -> Result<u64, CertificateError> {
        if self.height != height {
            return Err(CertificateError::WrongHeight { expected: height, found: self.height });
        }
        if &self.block_hash != block_hash {
            return Err(CertificateError::WrongBlock {
                expected: *block_hash,
                found: self.block_hash,
            });
        }
        if self.signatures.windows(2).any(|w| w[0].validator >= w[1].validator) {
            return Err(CertificateError::NotSorted);
        }
        // The quorum is checked before any signature: a certificate that could not
        // pass costs no verification.
        let mut power: u64 = 0;
        for s in &self.signatures {
            let validator = set
                .validators()
                .get(usize::from(s.validator))
                .ok_or(CertificateError::UnknownValidator(s.validator))?;
            power += validator.power; // cannot overflow: the set's total fits a u64
        }
        if !set.is_quorum(power) {
            return Err(CertificateError::NoQuorum { power, total: set.total_power() });
        }
        for s in &self.signatures {
            let vote = self
                .precommit(chain_id, set, s.validator)
                .ok_or(CertificateError::UnknownValidator(s.validator))?;
            vote.validator.verify(&vote.signing_digest().0, &s.signature).map_err(|error| {
                CertificateError::BadSignature { validator: s.validator, error }
            })?;
        }
        Ok(power)
    }

    /// The signers' indices in the validator set, in order.
    pub fn signers(&self) -> impl Iterator<Item = usize> + '_ {
        self.signatures.iter().map(|s| usize::from(s.validator))
    }
}

impl Encode for CommitSignature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.validator.to_le_bytes());
        self.signature.encode_to(out);
    }
}

impl Decode for CommitSignature {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            validator: u16::from_le_bytes(reader.array()?),
            signature: SequencerSignature::decode_from(reader)?,
        })
    }
}

impl Encode for CommitCertificate {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.round.encode_to(out);
        self.block_hash.encode_to(out);
        crate::encoding::put_list(out, &self.signatures);
    }
}

impl Decode for CommitCertificate {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64()?,
            round: reader.u32()?,
            block_hash: Hash::decode_from(reader)?,
            signatures: reader.list("commit signatures", MAX_VALIDATORS, 66)?,
        })
    }
}

impl Message for CommitCertificate {
    const MAX_BYTES: usize = 1 + 8 + 4 + 32 + 4 + MAX_VALIDATORS * 66;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::validator_set::tests::set_with;
    use crate::crypto::SequencerKey;

    fn chain() -> ChainId {
        ChainId::new("starling-test").unwrap()
    }

    fn precommit(key: &SequencerKey, round: u32, value: Hash) -> SignedVote {
        Vote {
            chain_id: chain(),
            height: 9,
            round,
            kind: VoteKind::Precommit,
            value: Some(value),
            validator: key.public_key(),
        }
        .sign(key)
    }

    /// Proves a certificate of 3 of 4 equal validators verifies and round-trips,
    /// and that 2 of 4 (exactly half) is refused for lack of quorum.
    #[test]
    fn three_of_four_is_final_two_is_not() {
        let (set, keys) = set_with(&[1, 1, 1, 1]);
        let block = Hash([4; 32]);
        let votes: Vec<SignedVote> = keys[..3].iter().map(|k| precommit(k, 1, block)).collect();
        let cert = CommitCertificate::from_precommits(&set, 9, 1, block, &votes);
        assert_eq!(cert.verify(&chain(), &set, 9, &block), Ok(3));
        assert_eq!(CommitCertificate::decode_message(&cert.encode_message()).unwrap(), cert);
        let short = CommitCertificate::from_precommits(&set, 9, 1, block, &votes[..2]);
        assert_eq!(
            short.verify(&chain(), &set, 9, &block),
            Err(CertificateError::NoQuorum { power: 2, total: 4 })
        );
    }

    /// Proves votes for other rounds or blocks are left out, a repeated signer is
    /// refused, a forged signature is refused, and so is a certificate presented
    /// for another block or height.
    #[test]
    fn forged_or_misused_certificates_are_refused() {
        let (set, keys) = set_with(&[1, 1, 1, 1]);
        let block = Hash([4; 32]);
        let mut votes: Vec<SignedVote> = keys[..3].iter().map(|k| precommit(k, 1, block)).collect();
        votes.push(precommit(&keys[3], 2, block));
        let cert = CommitCertificate::from_precommits(&set, 9, 1, block, &votes);
        assert_eq!(cert.signatures.len(), 3, "the round-2 vote is not part of round 1");

        let mut repeated = cert.clone();
        repeated.signatures[1] = repeated.signatures[0];
        assert_eq!(repeated.verify(&chain(), &set, 9, &block), Err(CertificateError::NotSorted));

        let mut forged = cert.clone();
        forged.signatures[2].signature = forged.signatures[1].signature;
        assert!(matches!(
            forged.verify(&chain(), &set, 9, &block),
            Err(CertificateError::BadSignature { .. })
        ));
        assert!(matches!(
            cert.verify(&chain(), &set, 9, &Hash([5; 32])),
            Err(CertificateError::WrongBlock { .. })
        ));
        assert!(matches!(
            cert.verify(&chain(), &set, 10, &block),
            Err(CertificateError::WrongHeight { .. })
        ));
        let mut unknown = cert;
        unknown.signatures[2].validator = 9;
        assert_eq!(
            unknown.verify(&chain(), &set, 9, &block),
            Err(CertificateError::UnknownValidator(9))
        );
    }

    /// Proves power, not head count, decides: one validator with 70% is final on
    /// its own; the three others together (30%) are not.
    #[test]
    fn quorum_is_by_power() {
        let (set, keys) = set_with(&[70, 10, 10, 10]);
        let block = Hash([4; 32]);
        let big = set.index_of(&keys[0].public_key()).unwrap();
        let all: Vec<SignedVote> = keys.iter().map(|k| precommit(k, 0, block)).collect();
        let heavy: Vec<SignedVote> =
            all.iter().filter(|v| set.index_of(&v.vote.validator) == Some(big)).cloned().collect();
        let light: Vec<SignedVote> =
            all.iter().filter(|v| set.index_of(&v.vote.validator) != Some(big)).cloned().collect();
        let cert = CommitCertificate::from_precommits(&set, 9, 0, block, &heavy);
        assert_eq!(cert.verify(&chain(), &set, 9, &block), Ok(70));
        let cert = CommitCertificate::from_precommits(&set, 9, 0, block, &light);
        assert!(matches!(
            cert.verify(&chain(), &set, 9, &block),
            Err(CertificateError::NoQuorum { .. })
        ));
    }
}
