//! Slashing: anyone may prove a staker signed two conflicting votes.
//!
//! Two votes by one key for different values at the same height, round and step
//! are the one fault Tendermint's safety rests on excluding: with enough power
//! doing it, two blocks could be final at one height. The evidence is the two
//! signed votes themselves, so it needs no trust in whoever submits it. A staker
//! caught is slashed once (`slash_bps` of its own stake is burned; delegations
//! are not touched) and tombstoned: never in a set again and never slashed again,
//! whatever other evidence turns up, as in Cosmos. It may still exit and take the
//! rest of its stake back after the exit window.

use core::fmt;

use crate::consensus::SignedVote;
use crate::crypto::SignatureError;
use crate::types::ChainId;

use super::params::share;
use super::{Flow, StakingError, StakingState};

/// Why a pair of votes does not slash anyone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvidenceError {
    /// Not one key voting two values at one height, round and step.
    NotConflicting,
    /// The votes are for another chain.
    OtherChain,
    /// A vote's signature does not verify.
    BadSignature(SignatureError),
    /// No staker votes with this key.
    UnknownValidator,
    /// The staker was already slashed (tombstoned).
    AlreadySlashed,
    /// The votes are from an epoch before the key's staker staked.
    BeforeStake { vote_epoch: u64, joined_epoch: u64 },
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConflicting => {
                f.write_str("the votes are not two values by one key at one height, round and step")
            }
            Self::OtherChain => f.write_str("the votes are for another chain"),
            Self::BadSignature(e) => write!(f, "a vote's signature: {e}"),
            Self::UnknownValidator => f.write_str("no staker votes with this key"),
            Self::AlreadySlashed => f.write_str("the staker was already slashed"),
            Self::BeforeStake { vote_epoch, joined_epoch } => write!(
                f,
                "the votes are from epoch {vote_epoch}, before the staker joined in {joined_epoch}"
            ),
        }
    }
}

/// What can be checked without the registry: the votes conflict, are for
/// `chain_id`, and both signatures verify (two Ed25519 checks, about 60 µs).
pub fn check_evidence(
    a: &SignedVote,
    b: &SignedVote,
    chain_id: &ChainId,
) -> Result<(), EvidenceError> {
    if !a.vote.conflicts_with(&b.vote) {
        return Err(EvidenceError::NotConflicting);
    }
    if &a.vote.chain_id != chain_id {
        return Err(EvidenceError::OtherChain);
    }
    a.verify().map_err(EvidenceError::BadSignature)?;
    b.verify().map_err(EvidenceError::BadSignature)
}

impl StakingState {
    /// `Evidence`: slashes and tombstones the staker that signed `a` and `b`.
    pub(super) fn slash(
        &mut self,
        a: &SignedVote,
        b: &SignedVote,
        chain_id: &ChainId,
    ) -> Result<Flow, StakingError> {
        check_evidence(a, b, chain_id)?;
        let vote_epoch = self.params.epoch_of(a.vote.height);
        let slash_bps = self.params.slash_bps;
        let staker = self
            .stakers
            .iter_mut()
            .find(|s| s.consensus_key == a.vote.validator)
            .ok_or(EvidenceError::UnknownValidator)?;
        if staker.slashed {
            return Err(EvidenceError::AlreadySlashed.into());
        }
        if vote_epoch < staker.joined_epoch {
            let joined_epoch = staker.joined_epoch;
            return Err(EvidenceError::BeforeStake { vote_epoch, joined_epoch }.into());
        }
        staker.settle();
        let burned = share(staker.stake, slash_bps);
        staker.stake -= burned;
        staker.slashed = true;
        Ok(Flow::burn(burned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::{Vote, VoteKind};
    use crate::crypto::SequencerKey;
    use crate::staking::testing::{addr, consensus_key, registry, test_chain};
    use crate::types::Hash;

    fn vote(key: &SequencerKey, value: u8) -> SignedVote {
        Vote {
            chain_id: test_chain(),
            height: 3,
            round: 0,
            kind: VoteKind::Prevote,
            value: Some(Hash([value; 32])),
            validator: key.public_key(),
        }
        .sign(key)
    }

    /// Proves conflicting votes slash `slash_bps` of the stake once, and that a
    /// replay, a non-conflicting pair, a forged signature, another chain's votes
    /// and an unknown key are refused.
    #[test]
    fn evidence_slashes_once() {
        let mut r = registry();
        let key = consensus_key(1);
        r.stake(addr(1), key.public_key(), 10_000, 0).unwrap();
        let (a, b) = (vote(&key, 1), vote(&key, 2));
        let chain = test_chain();

        let same = r.slash(&a, &a.clone(), &chain);
        assert_eq!(same, Err(EvidenceError::NotConflicting.into()));
        let mut forged = b.clone();
        forged.signature = a.signature;
        assert!(matches!(
            r.slash(&a, &forged, &chain),
            Err(StakingError::Evidence(EvidenceError::BadSignature(_)))
        ));
        let other = ChainId::new("other").unwrap();
        assert_eq!(r.slash(&a, &b, &other), Err(EvidenceError::OtherChain.into()));
        let stranger = consensus_key(9);
        let unknown = r.slash(&vote(&stranger, 1), &vote(&stranger, 2), &chain);
        assert_eq!(unknown, Err(EvidenceError::UnknownValidator.into()));

        let burned = 10_000 * u64::from(r.params.slash_bps) / 10_000;
        assert_eq!(r.slash(&a, &b, &chain), Ok(Flow::burn(burned)));
        let staker = r.staker(&addr(1)).unwrap();
        assert!(staker.slashed);
        assert_eq!(staker.stake, 10_000 - burned);
        assert_eq!(r.slash(&a, &b, &chain), Err(EvidenceError::AlreadySlashed.into()));
        assert_eq!(r.slash(&b, &a, &chain), Err(EvidenceError::AlreadySlashed.into()));
    }
}
