//! The proposals of one height, with the host's verdict on each block.
//!
//! A correct proposer sends one proposal per round; a faulty one may sign several
//! and show each to different validators. The first proposal received for a round
//! is the one this validator prevotes on (lines 22 and 28). A later, different one
//! is kept only if some validator has voted for its block in that round: then it
//! may be the block that gathers a quorum (lines 36 and 49), and without it this
//! validator could never decide. Since each validator votes once per round and
//! kind, that bounds the proposals kept per round by 1 + 2n, whatever a faulty
//! proposer signs.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::types::Hash;

use super::SignedProposal;

/// A proposal and whether its block passed the host's checks (`valid(v)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredProposal {
    pub signed: SignedProposal,
    pub valid: bool,
}

impl StoredProposal {
    pub fn value(&self) -> Hash {
        self.signed.proposal.block_hash
    }
}

/// Proposals by round, first received first.
#[derive(Debug, Default)]
pub(crate) struct ProposalKeeper {
    rounds: BTreeMap<u32, Vec<StoredProposal>>,
}

impl ProposalKeeper {
    /// The first proposal received for `round`: the one to prevote on.
    pub fn first(&self, round: u32) -> Option<&StoredProposal> {
        self.rounds.get(&round)?.first()
    }

    /// The proposal of `round` for block `value`, if one was kept.
    pub fn for_value(&self, round: u32, value: Hash) -> Option<&StoredProposal> {
        self.rounds.get(&round)?.iter().find(|p| p.value() == value)
    }

    /// Whether exactly this signed proposal is already kept.
    pub fn contains(&self, signed: &SignedProposal) -> bool {
        let round = signed.proposal.round;
        self.for_value(round, signed.proposal.block_hash).is_some_and(|p| &p.signed == signed)
    }

    /// Whether a proposal for `round` would be kept: the round has none yet, or
    /// its block has votes (`supported`) and no proposal for it is kept.
    pub fn would_keep(&self, round: u32, value: Hash, supported: bool) -> bool {
        match self.rounds.get(&round) {
            None => true,
            Some(_) => supported && self.for_value(round, value).is_none(),
        }
    }

    /// Keeps `proposal`; the caller checked [`Self::would_keep`].
    pub fn insert(&mut self, proposal: StoredProposal) {
        self.rounds.entry(proposal.signed.proposal.round).or_default().push(proposal);
    }
}
