//! Proposals: the block a round's proposer puts forward, signed.
//!
//! A proposal names its block by hash; the body travels separately and the host
//! judges it (see [`crate::consensus::Input::Proposal`]). `valid_round` is the
//! paper's `vr` (Algorithm 1, line 19): the round in which the proposer saw more
//! than two thirds prevote this same block, or `None` for a fresh block. A locked
//! validator may prevote a re-proposal only on the strength of that round.

use alloc::vec::Vec;

use crate::crypto::{SequencerKey, SequencerPublicKey, SequencerSignature, SignatureError};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::hash::{Domain, hash_bytes};
use crate::types::{ChainId, Hash};

/// What a proposer says: "at this height and round, decide this block".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Binds the proposal to one chain: a signature is never valid on another.
    pub chain_id: ChainId,
    pub height: u64,
    pub round: u32,
    pub block_hash: Hash,
    /// The round whose prevotes justify re-proposing this block (`vr`), if any.
    pub valid_round: Option<u32>,
    /// The proposer's consensus key; must be the round's proposer.
    pub proposer: SequencerPublicKey,
}

/// A proposal with its proposer's Ed25519 signature over [`Proposal::signing_digest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedProposal {
    pub proposal: Proposal,
    pub signature: SequencerSignature,
}

impl Proposal {
    /// What the proposer signs: the domain-separated digest of the encoding, so a
    /// proposal signature can never pass as a vote or header signature.
    pub fn signing_digest(&self) -> Hash {
        hash_bytes(Domain::Proposal, &self.to_bytes())
    }

    /// Signs with `key`, which must be the key named in `proposer`.
    pub fn sign(self, key: &SequencerKey) -> SignedProposal {
        debug_assert_eq!(key.public_key(), self.proposer, "signing another validator's proposal");
        let signature = key.sign(&self.signing_digest().0);
        SignedProposal { proposal: self, signature }
    }
}

impl SignedProposal {
    /// Checks the signature against the proposal's own proposer key. Whether that
    /// key proposes this round is the driver's business.
    pub fn verify(&self) -> Result<(), SignatureError> {
        self.proposal.proposer.verify(&self.proposal.signing_digest().0, &self.signature)
    }
}

impl Encode for Proposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.height.encode_to(out);
        self.round.encode_to(out);
        self.block_hash.encode_to(out);
        self.valid_round.encode_to(out);
        self.proposer.encode_to(out);
    }
}

impl Decode for Proposal {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: ChainId::decode_from(reader)?,
            height: reader.u64()?,
            round: reader.u32()?,
            block_hash: Hash::decode_from(reader)?,
            valid_round: Option::<u32>::decode_from(reader)?,
            proposer: SequencerPublicKey::decode_from(reader)?,
        })
    }
}

impl Encode for SignedProposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.proposal.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedProposal {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: Proposal::decode_from(reader)?,
            signature: SequencerSignature::decode_from(reader)?,
        })
    }
}

impl Message for SignedProposal {
    /// A proposal is under 200 bytes; the chain id is the only variable part.
    const MAX_BYTES: usize = 512;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(key: &SequencerKey, valid_round: Option<u32>) -> Proposal {
        Proposal {
            chain_id: ChainId::new("starling-test").unwrap(),
            height: 7,
            round: 3,
            block_hash: Hash([1; 32]),
            valid_round,
            proposer: key.public_key(),
        }
    }

    /// Proves a signed proposal round-trips through its encoding and verifies, and
    /// that changing any signed field (the valid round included) breaks it.
    #[test]
    fn signed_proposals_round_trip_and_bind_every_field() {
        let key = SequencerKey::from_seed(&[5; 32]);
        for valid_round in [None, Some(1)] {
            let signed = proposal(&key, valid_round).sign(&key);
            let bytes = signed.encode_message();
            assert!(bytes.len() <= SignedProposal::MAX_BYTES);
            let back = SignedProposal::decode_message(&bytes).unwrap();
            assert_eq!(back, signed);
            back.verify().unwrap();
        }
        let signed = proposal(&key, Some(1)).sign(&key);
        let tamperings: [fn(&mut Proposal); 4] = [
            |p| p.round += 1,
            |p| p.valid_round = None,
            |p| p.block_hash = Hash([2; 32]),
            |p| p.height += 1,
        ];
        for tamper in tamperings {
            let mut tampered = signed.clone();
            tamper(&mut tampered.proposal);
            assert_eq!(tampered.verify(), Err(SignatureError::Mismatch));
        }
    }

    /// Proves a proposal signature is not a vote signature over the same bytes:
    /// the digests are domain-separated.
    #[test]
    fn proposal_digest_is_domain_separated() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let p = proposal(&key, None);
        assert_ne!(p.signing_digest(), hash_bytes(Domain::Vote, &p.to_bytes()));
    }
}
