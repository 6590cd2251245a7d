//! Admission: which messages the driver takes in, checked cheapest first so that
//! repeats and strangers cost no signature check.

use crate::consensus::proposal_keeper::ProposalKeeper;
use crate::consensus::{Reject, SignedProposal, SignedVote, Step, proposer};
use crate::crypto::{SequencerPublicKey, SignatureError};
use crate::types::{ChainId, Hash};

use super::{Driver, ROUNDS_KEPT_AHEAD};

/// A message that passed admission.
#[derive(Clone, Copy)]
pub(super) enum Admitted {
    /// Within the kept rounds: record it.
    Keep { index: usize },
    /// Too far ahead to keep: it only counts towards the round-skip rule.
    SkipOnly { index: usize },
}

impl Admitted {
    pub(super) fn index(self) -> usize {
        match self {
            Self::Keep { index } | Self::SkipOnly { index } => index,
        }
    }
}

impl Driver {
    /// The checks every message of the height passes: the driver is running, the
    /// chain and height are ours, the height is undecided, the signer is a
    /// validator. Returns the signer's index in the set.
    fn admit_signer(
        &self,
        chain_id: &ChainId,
        height: u64,
        signer: &SequencerPublicKey,
    ) -> Result<usize, Reject> {
        if self.step() == Step::Unstarted {
            return Err(Reject::NotStarted);
        }
        if chain_id != &self.chain_id {
            return Err(Reject::WrongChain);
        }
        match height.cmp(&self.height()) {
            core::cmp::Ordering::Less => return Err(Reject::PastHeight),
            core::cmp::Ordering::Greater => return Err(Reject::FutureHeight),
            core::cmp::Ordering::Equal => {}
        }
        if self.step() == Step::Commit {
            return Err(Reject::Decided);
        }
        self.current.validators.index_of(signer).ok_or(Reject::NotValidator)
    }

    /// A vote of this height by a validator, not yet kept, signed.
    pub(super) fn admit_vote(&self, signed: &SignedVote) -> Result<Admitted, Reject> {
        let vote = &signed.vote;
        let index = self.admit_signer(&vote.chain_id, vote.height, &vote.validator)?;
        let (votes, proposals) = (&self.current.votes, &self.current.proposals);
        if votes.has(vote.round, vote.kind, index, vote.value) {
            return Err(Reject::Duplicate);
        }
        // A further conflicting vote by a reported double-signer matters only if
        // it would count.
        let reported = votes.first(vote.round, vote.kind, index).is_some_and(|f| f.reported);
        if reported && !counts_if_conflicting(proposals, vote.round, vote.value) {
            return Err(Reject::Duplicate);
        }
        let admitted = self.admitted(vote.round, index)?;
        self.check_signature(|| signed.verify())?;
        Ok(admitted)
    }

    /// A proposal of this height by its round's proposer, with a valid round
    /// below its round, not yet kept and worth keeping, signed.
    pub(super) fn admit_proposal(&self, signed: &SignedProposal) -> Result<Admitted, Reject> {
        let p = &signed.proposal;
        let index = self.admit_signer(&p.chain_id, p.height, &p.proposer)?;
        if proposer(&self.current.validators, p.height, p.round).key != p.proposer {
            return Err(Reject::NotProposer);
        }
        if p.valid_round.is_some_and(|vr| vr >= p.round) {
            return Err(Reject::BadValidRound);
        }
        let admitted = self.admitted(p.round, index)?;
        if let Admitted::Keep { .. } = admitted {
            let proposals = &self.current.proposals;
            if proposals.contains(signed) {
                return Err(Reject::Duplicate);
            }
            let supported = self.current.votes.anyone_voted_for(p.round, p.block_hash);
            if !proposals.would_keep(p.round, p.block_hash, supported) {
                return Err(Reject::UnsupportedProposal);
            }
        }
        self.check_signature(|| signed.verify())?;
        Ok(admitted)
    }

    /// Whether a message of validator `index` for `round` is kept whole or only
    /// counts towards the skip rule; one that would not even tell the skip rule
    /// anything new is a duplicate (caught before its signature is checked).
    fn admitted(&self, round: u32, index: usize) -> Result<Admitted, Reject> {
        if round <= self.round().saturating_add(ROUNDS_KEPT_AHEAD) {
            Ok(Admitted::Keep { index })
        } else if self.current.skip.knows(index, round) {
            Err(Reject::Duplicate)
        } else {
            Ok(Admitted::SkipOnly { index })
        }
    }

    /// Runs `verify` unless the host vouches for signatures.
    fn check_signature(
        &self,
        verify: impl FnOnce() -> Result<(), SignatureError>,
    ) -> Result<(), Reject> {
        if !self.check_signatures {
            return Ok(());
        }
        verify().map_err(Reject::BadSignature)
    }
}

/// Whether a double-signer's vote for `value` in `round`, beyond its first, is
/// counted: for nil and for blocks with a proposal in that round, the only values
/// a rule can act on (see the vote keeper on why such votes count at all).
pub(super) fn counts_if_conflicting(
    proposals: &ProposalKeeper,
    round: u32,
    value: Option<Hash>,
) -> bool {
    value.is_none_or(|block| proposals.for_value(round, block).is_some())
}
