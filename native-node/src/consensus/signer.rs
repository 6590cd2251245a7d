//! A validator's key behind its write-ahead log: nothing is signed that the log
//! has not durably recorded, and nothing is signed that contradicts it.

use anyhow::Result;
use starling_core::consensus::{Proposal, SignedProposal, SignedVote, Vote, VoteKind};
use starling_core::crypto::SequencerKey;
use starling_core::encoding::Message;

use super::wal::{Record, Slot, Step, Wal};

pub struct Signer {
    key: SequencerKey,
    wal: Wal,
}

impl Signer {
    pub fn new(key: SequencerKey, wal: Wal) -> Self {
        Self { key, wal }
    }

    pub fn key(&self) -> &SequencerKey {
        &self.key
    }

    pub fn wal(&mut self) -> &mut Wal {
        &mut self.wal
    }

    /// Signs `vote` once its slot and value are durably logged; refuses a vote
    /// that contradicts one signed before (see [`Wal::sign`]).
    pub fn vote(&mut self, vote: Vote) -> Result<SignedVote> {
        let step = match vote.kind {
            VoteKind::Prevote => Step::Prevote,
            VoteKind::Precommit => Step::Precommit,
        };
        let slot = Slot { height: vote.height, round: vote.round, step };
        let value = vote.value;
        let signed = vote.sign(&self.key);
        self.wal.sign(slot, value, &signed.encode_message())?;
        Ok(signed)
    }

    /// Signs `proposal` under the same rule, at the round's propose step.
    pub fn proposal(&mut self, proposal: Proposal) -> Result<SignedProposal> {
        let slot = Slot { height: proposal.height, round: proposal.round, step: Step::Propose };
        let value = Some(proposal.block_hash);
        let signed = proposal.sign(&self.key);
        self.wal.sign(slot, value, &signed.encode_message())?;
        Ok(signed)
    }
}

/// A signed message found in the log, to send again after a restart.
pub enum Resent {
    Proposal(SignedProposal),
    Vote(SignedVote),
}

/// The signed messages among `records`, decoded.
pub fn signed_messages(records: &[Record]) -> Vec<Resent> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Signed { slot, message, .. } if slot.step == Step::Propose => {
                SignedProposal::decode_message(message).ok().map(Resent::Proposal)
            }
            Record::Signed { message, .. } => {
                SignedVote::decode_message(message).ok().map(Resent::Vote)
            }
            _ => None,
        })
        .collect()
}
