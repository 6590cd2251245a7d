//! Votes: a validator's signed prevote or precommit for a block (or for nothing).

use alloc::vec::Vec;

use crate::crypto::{SequencerKey, SequencerPublicKey, SequencerSignature, SignatureError};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::hash::{Domain, hash_bytes};
use crate::types::{ChainId, Hash};

/// Which of a round's two voting steps a vote belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VoteKind {
    Prevote,
    Precommit,
}

/// What a validator says at one step of one round. `value` is the block hash voted
/// for, or `None` for nil ("no block this round").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Binds the vote to one chain: a signature is never valid on another.
    pub chain_id: ChainId,
    pub height: u64,
    pub round: u32,
    pub kind: VoteKind,
    pub value: Option<Hash>,
    /// The voter's consensus key.
    pub validator: SequencerPublicKey,
}

/// A vote with its validator's Ed25519 signature over [`Vote::signing_digest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedVote {
    pub vote: Vote,
    pub signature: SequencerSignature,
}

impl Vote {
    /// What the validator signs: the domain-separated digest of the encoding.
    pub fn signing_digest(&self) -> Hash {
        hash_bytes(Domain::Vote, &self.to_bytes())
    }

    /// Signs with `key`, which must be the key named in `validator`.
    pub fn sign(self, key: &SequencerKey) -> SignedVote {
        debug_assert_eq!(key.public_key(), self.validator, "signing another validator's vote");
        let signature = key.sign(&self.signing_digest().0);
        SignedVote { vote: self, signature }
    }

    /// Whether `other` is a different vote by the same validator for the same
    /// height, round and step: the double-signing that staking slashes. Two votes
    /// for different values, nil included, conflict; the same vote twice does not.
    pub fn conflicts_with(&self, other: &Vote) -> bool {
        self.chain_id == other.chain_id
            && self.height == other.height
            && self.round == other.round
            && self.kind == other.kind
            && self.validator == other.validator
            && self.value != other.value
    }
}

impl SignedVote {
    /// Checks the signature against the vote's own validator key. Whether that key
    /// may vote at this height is the validator set's business.
    pub fn verify(&self) -> Result<(), SignatureError> {
        self.vote.validator.verify(&self.vote.signing_digest().0, &self.signature)
    }
}

impl Encode for VoteKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(match self {
            Self::Prevote => 0,
            Self::Precommit => 1,
        });
    }
}

impl Decode for VoteKind {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8()? {
            0 => Ok(Self::Prevote),
            1 => Ok(Self::Precommit),
            tag => Err(DecodeError::UnknownTag { field: "vote kind", tag }),
        }
    }
}

impl Encode for Vote {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.height.encode_to(out);
        self.round.encode_to(out);
        self.kind.encode_to(out);
        self.value.encode_to(out);
        self.validator.encode_to(out);
    }
}

impl Decode for Vote {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: ChainId::decode_from(reader)?,
            height: reader.u64()?,
            round: reader.u32()?,
            kind: VoteKind::decode_from(reader)?,
            value: Option::<Hash>::decode_from(reader)?,
            validator: SequencerPublicKey::decode_from(reader)?,
        })
    }
}

impl Encode for SignedVote {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.vote.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedVote {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            vote: Vote::decode_from(reader)?,
            signature: SequencerSignature::decode_from(reader)?,
        })
    }
}

impl Message for SignedVote {
    /// A vote is under 200 bytes; the chain id is the only variable part.
    const MAX_BYTES: usize = 512;
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn vote(kind: VoteKind, value: Option<Hash>, key: &SequencerKey) -> Vote {
        Vote {
            chain_id: ChainId::new("starling-test").unwrap(),
            height: 7,
            round: 2,
            kind,
            value,
            validator: key.public_key(),
        }
    }

    /// Proves a signed vote round-trips through its encoding and verifies, and that
    /// changing any signed field breaks the signature.
    #[test]
    fn signed_votes_round_trip_and_bind_every_field() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let signed = vote(VoteKind::Precommit, Some(Hash([1; 32])), &key).sign(&key);
        let back = SignedVote::decode_message(&signed.encode_message()).unwrap();
        assert_eq!(back, signed);
        back.verify().unwrap();
        let mut tampered = signed.clone();
        tampered.vote.round = 3;
        assert_eq!(tampered.verify(), Err(SignatureError::Mismatch));
        let mut nil = signed.clone();
        nil.vote.value = None;
        assert_eq!(nil.verify(), Err(SignatureError::Mismatch));
        let mut prevote = signed;
        prevote.vote.kind = VoteKind::Prevote;
        assert_eq!(prevote.verify(), Err(SignatureError::Mismatch));
    }

    /// Proves which vote pairs count as double-signing: a different value (nil
    /// included) at the same height, round and step; not the same vote twice, and
    /// not votes at different steps or rounds.
    #[test]
    fn conflicts_are_different_values_at_one_step() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let a = vote(VoteKind::Prevote, Some(Hash([1; 32])), &key);
        let b = vote(VoteKind::Prevote, Some(Hash([2; 32])), &key);
        let nil = vote(VoteKind::Prevote, None, &key);
        assert!(a.conflicts_with(&b));
        assert!(a.conflicts_with(&nil));
        assert!(!a.conflicts_with(&a.clone()));
        let later = Vote { round: 3, ..b.clone() };
        assert!(!a.conflicts_with(&later));
        let precommit = Vote { kind: VoteKind::Precommit, ..b };
        assert!(!a.conflicts_with(&precommit));
    }

    /// Proves unknown vote kinds and option tags are refused.
    #[test]
    fn unknown_tags_are_refused() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let bytes = vote(VoteKind::Prevote, None, &key).sign(&key).encode_message();
        // The kind byte follows version, chain id (4-byte length + 13 bytes), height, round.
        let kind_at = 1 + 4 + 13 + 8 + 4;
        for (at, bad) in [(kind_at, 2u8), (kind_at + 1, 2u8)] {
            let mut broken = bytes.clone();
            broken[at] = bad;
            assert!(matches!(
                SignedVote::decode_message(&broken),
                Err(DecodeError::UnknownTag { .. })
            ));
        }
    }
}
