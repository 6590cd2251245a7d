//! The driver: one node's consensus, one height at a time, as the host sees it.
//!
//! The host hands in [`Input`]s (messages, fired timeouts, blocks it built) and
//! carries out the [`Effect`]s that come back. In between, the driver
//!
//! 1. admits a message (`admission`): right chain, this height, signed by a
//!    validator of the set (the round's proposer, for a proposal), not seen
//!    before, signature valid. Cheap checks come first, so repeats cost no
//!    signature check;
//! 2. records it: votes in the [`VoteKeeper`], proposals in the
//!    [`ProposalKeeper`], the sender's round in the [`SkipTracker`];
//! 3. works out which upon-rules of Algorithm 1 now hold and applies them to the
//!    [`State`] until none fires, turning what they ask for into effects.
//!
//! Only messages for the current height are taken in: the driver does not know a
//! later height's validators, so the host keeps those (see [`Reject::FutureHeight`])
//! and hands them in after `start_height`. Within the height, votes and proposals
//! up to [`ROUNDS_KEPT_AHEAD`] rounds past the current one are kept whole; later
//! ones only count towards the round-skip rule, so a faulty validator cannot make
//! the driver store votes for arbitrarily many rounds.
//!
//! The driver never signs: it asks the host to ([`Effect::SignVote`],
//! [`Effect::SignProposal`]), so that the host can record what it signs before
//! signing and refuse ever to sign a conflicting message, even across restarts.
//! The host then broadcasts the signed message and hands it back in like any other.
//!
//! ## What the host must do
//!
//! - Sign only what the driver asks, recording it first, and never sign two
//!   different proposals, prevotes or precommits for one height and round.
//! - Hand a proposal in only once it holds the block body, with its verdict.
//! - Keep messages for the next height and hand them in after `start_height`.
//! - Gossip. Like the paper, the driver is live only if every message a correct
//!   validator took in eventually reaches every correct validator: the host keeps
//!   re-sending what its driver accepted at the current height (`try_handle`
//!   returned `Ok`) until the height ends. Two refusals are "not yet" rather than
//!   "never", and gossip covers them: a faulty proposer's second proposal
//!   ([`Reject::UnsupportedProposal`]) and a double-signer's further vote for a
//!   block whose proposal has not arrived ([`Reject::Duplicate`]).
//! - Catch up: a node that missed a height takes the block and its commit
//!   certificate from a peer, checks the certificate and starts the next height.

use alloc::vec::Vec;

use crate::crypto::SequencerPublicKey;
use crate::types::{ChainId, Hash};

use super::proposal_keeper::{ProposalKeeper, StoredProposal};
use super::skip_tracker::SkipTracker;
use super::state_machine::{Event, Output, State};
use super::vote_keeper::{Added, VoteKeeper};
use super::{
    CommitCertificate, Proposal, Reject, RoundValue, SignedProposal, SignedVote, Step, Timeout,
    TimeoutConfig, Validator, ValidatorSet, Vote, VoteKind, proposer,
};
use admission::{Admitted, counts_if_conflicting};

/// How many rounds past the current one the driver keeps messages for in full.
pub const ROUNDS_KEPT_AHEAD: u32 = 4;

/// What the host hands the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A proposal with the host's verdict on the block it names: `valid` means the
    /// host holds the block body and it passed the chain's checks on top of the
    /// decided parent. The host hands a proposal in only once it holds the body.
    Proposal {
        proposal: SignedProposal,
        valid: bool,
    },
    Vote(SignedVote),
    /// A timeout the driver asked for, whose time has come.
    Timeout(Timeout),
    /// The host's answer to [`Effect::BuildProposal`]: the hash of a block it built
    /// (and will gossip).
    ProposalBlock {
        height: u64,
        round: u32,
        block_hash: Hash,
    },
}

/// What the driver asks of the host.
// Evidence is rare and effects are short-lived: boxing it would only make every
// host's `match` clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Build a block for this height and round, and answer with
    /// [`Input::ProposalBlock`]. Asked only when there is no valid value to
    /// re-propose (line 18).
    BuildProposal { height: u64, round: u32 },
    /// Sign and broadcast this proposal, then hand it back as [`Input::Proposal`].
    SignProposal(Proposal),
    /// Sign and broadcast this vote, then hand it back as [`Input::Vote`].
    SignVote(Vote),
    /// Hand `timeout` back as [`Input::Timeout`] after `after_ms` milliseconds.
    ScheduleTimeout { timeout: Timeout, after_ms: u64 },
    /// The height is decided: `certificate` holds more than two thirds of the
    /// precommits for `block_hash`. The driver ignores this height from now on;
    /// the host applies the block and calls [`Driver::start_height`] for the next.
    Decide { height: u64, round: u32, block_hash: Hash, certificate: CommitCertificate },
    /// Two conflicting signed votes by one validator: evidence for slashing.
    Equivocation(SignedVote, SignedVote),
}

/// Everything that lives for one height.
#[derive(Debug)]
struct HeightState {
    validators: ValidatorSet,
    /// Our key, if we are a validator of this height; `None`: we only observe.
    voter: Option<SequencerPublicKey>,
    state: State,
    votes: VoteKeeper,
    proposals: ProposalKeeper,
    skip: SkipTracker,
}

/// One node's Tendermint consensus, one height at a time.
#[derive(Debug)]
pub struct Driver {
    chain_id: ChainId,
    config: TimeoutConfig,
    me: Option<SequencerPublicKey>,
    check_signatures: bool,
    current: HeightState,
}

impl Driver {
    /// A driver for `chain_id`. `me` is this node's consensus key; `None` makes an
    /// observer that follows and decides but never votes or proposes (as does a
    /// key that is not in a height's validator set).
    pub fn new(chain_id: ChainId, config: TimeoutConfig, me: Option<SequencerPublicKey>) -> Self {
        Self {
            chain_id,
            config,
            me,
            check_signatures: true,
            current: HeightState::new(0, ValidatorSet::default(), None),
        }
    }

    /// Skips signature checks, for hosts that verify every signature before
    /// handing a message in (a verifying gossip layer, a batch verifier on another
    /// core) so that each is checked once, and for simulations that run many
    /// nodes in one process. Every other check still applies.
    pub fn assume_signatures_verified(mut self) -> Self {
        self.check_signatures = false;
        self
    }

    /// Starts `height` with that height's validator set, forgetting the previous
    /// height (decided here or, if the host caught up from a peer's certificate,
    /// not). Returns the first effects: a request to build a block if we propose
    /// in round 0, and the propose timeout.
    pub fn start_height(&mut self, height: u64, validators: ValidatorSet) -> Vec<Effect> {
        let voter = self.me.filter(|key| validators.get(key).is_some());
        self.current = HeightState::new(height, validators, voter);
        let proposer = self.proposes(0);
        self.advance(Some(Event::StartRound { round: 0, proposer }), None)
    }

    /// Takes `input` in and returns what to do. Messages that are not taken in
    /// are ignored; [`Self::try_handle`] says why.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        self.try_handle(input).unwrap_or_default()
    }

    /// Like [`Self::handle`], but says why a proposal or vote was not taken in.
    /// Stale timeouts and blocks are not errors: they just do nothing.
    pub fn try_handle(&mut self, input: Input) -> Result<Vec<Effect>, Reject> {
        match input {
            Input::Proposal { proposal, valid } => self.on_proposal(proposal, valid),
            Input::Vote(vote) => self.on_vote(vote),
            Input::Timeout(timeout) => Ok(self.on_timeout(timeout)),
            Input::ProposalBlock { height, round, block_hash } => {
                Ok(self.on_block(height, round, block_hash))
            }
        }
    }

    /// Whether [`Self::handle`] would take `vote` in, without taking it in.
    pub fn check_vote(&self, vote: &SignedVote) -> Result<(), Reject> {
        self.admit_vote(vote).map(|_| ())
    }

    /// Whether [`Self::handle`] would take `proposal` in, without taking it in.
    pub fn check_proposal(&self, proposal: &SignedProposal) -> Result<(), Reject> {
        self.admit_proposal(proposal).map(|_| ())
    }

    /// The height being decided (or just decided, at [`Step::Commit`]).
    pub fn height(&self) -> u64 {
        self.current.state.height
    }

    /// The current round of the height.
    pub fn round(&self) -> u32 {
        self.current.state.round
    }

    /// The step within the round.
    pub fn step(&self) -> Step {
        self.current.state.step
    }

    /// The value this node is locked on, and since which round.
    pub fn locked(&self) -> Option<RoundValue> {
        self.current.state.locked
    }

    /// The latest value a quorum prevoted, and in which round.
    pub fn valid(&self) -> Option<RoundValue> {
        self.current.state.valid
    }

    /// The current height's validators.
    pub fn validators(&self) -> &ValidatorSet {
        &self.current.validators
    }

    /// Who proposes in `round` of `height`, if `height` is the current height
    /// (only its validator set is known here; [`proposer`] computes any).
    pub fn proposer(&self, height: u64, round: u32) -> Option<&Validator> {
        let started = self.step() != Step::Unstarted;
        (started && height == self.height())
            .then(|| proposer(&self.current.validators, height, round))
    }

    fn on_proposal(&mut self, signed: SignedProposal, valid: bool) -> Result<Vec<Effect>, Reject> {
        let admitted = self.admit_proposal(&signed)?;
        let round = signed.proposal.round;
        let now = &mut self.current;
        now.skip.heard(&now.validators, admitted.index(), round);
        if let Admitted::Keep { .. } = admitted {
            now.proposals.insert(StoredProposal { signed, valid });
        }
        Ok(self.advance(None, Some(round)))
    }

    fn on_vote(&mut self, signed: SignedVote) -> Result<Vec<Effect>, Reject> {
        let admitted = self.admit_vote(&signed)?;
        let Vote { round, kind, value, .. } = signed.vote;
        let now = &mut self.current;
        now.skip.heard(&now.validators, admitted.index(), round);
        let mut effects = Vec::new();
        if let Admitted::Keep { index } = admitted {
            let count_conflicting = counts_if_conflicting(&now.proposals, round, value);
            let added = now.votes.add(&now.validators, index, &signed, count_conflicting);
            if let Added::Conflict { first, .. } = added {
                let first = first.to_signed(
                    &self.chain_id,
                    now.state.height,
                    round,
                    kind,
                    signed.vote.validator,
                );
                effects.push(Effect::Equivocation(first, signed));
            }
        }
        effects.extend(self.advance(None, Some(round)));
        Ok(effects)
    }

    /// Lines 57-67: a timeout of another height is stale; the state machine
    /// ignores one of another round or step.
    fn on_timeout(&mut self, timeout: Timeout) -> Vec<Effect> {
        if timeout.height != self.height() {
            return Vec::new();
        }
        self.advance(Some(Event::Timeout { round: timeout.round, step: timeout.step }), None)
    }

    fn on_block(&mut self, height: u64, round: u32, value: Hash) -> Vec<Effect> {
        if height != self.height() {
            return Vec::new();
        }
        self.advance(Some(Event::ValueBuilt { round, value }), None)
    }

    /// Whether we propose in `round` of the current height.
    fn proposes(&self, round: u32) -> bool {
        let now = &self.current;
        now.voter.is_some_and(|me| proposer(&now.validators, now.state.height, round).key == me)
    }

    /// Applies `first` (if any), then every rule that holds until none fires, and
    /// returns the effects. `touched` is the round of the message just recorded.
    fn advance(&mut self, first: Option<Event>, touched: Option<u32>) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut check_skip = touched.is_some_and(|r| r > self.round());
        let mut fired = first.and_then(|event| self.current.state.apply(event));
        loop {
            if let Some(outputs) = fired {
                let round = self.round();
                for output in outputs {
                    self.emit(output, &mut effects);
                }
                check_skip |= self.round() != round;
            }
            let events = self.events(touched, check_skip);
            fired = events.into_iter().find_map(|event| self.current.state.apply(event));
            if fired.is_none() {
                return effects;
            }
        }
    }

    /// The events whose messages have arrived, given the current round: the
    /// decision rule for the current round and the round just touched (line 49),
    /// the skip rule when a message of a higher round arrived or the round changed
    /// (line 55), and the rules of the current round (lines 22-47).
    fn events(&self, touched: Option<u32>, check_skip: bool) -> Vec<Event> {
        let now = &self.current;
        let round = now.state.round;
        let mut events = Vec::new();
        events.extend(self.commit_event(round));
        if touched != Some(round) {
            events.extend(touched.and_then(|r| self.commit_event(r)));
        }
        if check_skip {
            events.extend(
                now.skip.skip_to(&now.validators, round).map(|round| Event::SkipRound { round }),
            );
        }
        events.extend(self.proposal_event(round));
        if now.votes.quorum_any(&now.validators, round, VoteKind::Prevote) {
            events.push(Event::PolkaAny { round });
        }
        match now.votes.quorum_value(round, VoteKind::Prevote) {
            Some(Some(value)) => events.extend(
                (now.proposals.for_value(round, value)).map(|p| Event::ProposalAndPolka {
                    round,
                    value,
                    valid: p.valid,
                }),
            ),
            Some(None) => events.push(Event::PolkaNil { round }),
            None => {}
        }
        if now.votes.quorum_any(&now.validators, round, VoteKind::Precommit) {
            events.push(Event::PrecommitAny { round });
        }
        events
    }

    /// Line 49: a proposal of `round` whose block more than two thirds precommitted.
    fn commit_event(&self, round: u32) -> Option<Event> {
        let now = &self.current;
        let Some(Some(value)) = now.votes.quorum_value(round, VoteKind::Precommit) else {
            return None;
        };
        let proposal = now.proposals.for_value(round, value)?;
        Some(Event::ProposalAndCommit { round, value, valid: proposal.valid })
    }

    /// Lines 22 and 28: the first proposal of the round, with its valid round's
    /// prevote quorum if it names one.
    fn proposal_event(&self, round: u32) -> Option<Event> {
        let now = &self.current;
        let stored = now.proposals.first(round)?;
        let (value, valid) = (stored.value(), stored.valid);
        match stored.signed.proposal.valid_round {
            None => Some(Event::Proposal { round, value, valid }),
            Some(valid_round) => (now.votes.quorum_value(valid_round, VoteKind::Prevote)
                == Some(Some(value)))
            .then_some(Event::ProposalWithPolka { round, value, valid, valid_round }),
        }
    }

    /// Turns what a rule asked for into effects for the host; starting a round
    /// is done here at once, since only the driver knows who proposes.
    fn emit(&mut self, output: Output, effects: &mut Vec<Effect>) {
        let height = self.height();
        match output {
            Output::BuildValue { round } => effects.push(Effect::BuildProposal { height, round }),
            Output::Propose { round, value, valid_round } => {
                if let Some(me) = self.current.voter {
                    effects.push(Effect::SignProposal(Proposal {
                        chain_id: self.chain_id.clone(),
                        height,
                        round,
                        block_hash: value,
                        valid_round,
                        proposer: me,
                    }));
                }
            }
            Output::Vote { round, kind, value } => {
                if let Some(me) = self.current.voter {
                    let chain_id = self.chain_id.clone();
                    effects.push(Effect::SignVote(Vote {
                        chain_id,
                        height,
                        round,
                        kind,
                        value,
                        validator: me,
                    }));
                }
            }
            Output::ScheduleTimeout { round, step } => effects.push(Effect::ScheduleTimeout {
                timeout: Timeout { height, round, step },
                after_ms: self.config.duration_ms(step, round),
            }),
            Output::NewRound { round } => {
                let proposer = self.proposes(round);
                let started = self.current.state.apply(Event::StartRound { round, proposer });
                for output in started.into_iter().flatten() {
                    self.emit(output, effects);
                }
            }
            Output::Decide { round, value } => {
                let now = &self.current;
                let precommits =
                    now.votes.precommits_for(&self.chain_id, &now.validators, height, round, value);
                let certificate = CommitCertificate::from_precommits(
                    &now.validators,
                    height,
                    round,
                    value,
                    &precommits,
                );
                effects.push(Effect::Decide { height, round, block_hash: value, certificate });
            }
        }
    }
}

impl HeightState {
    fn new(height: u64, validators: ValidatorSet, voter: Option<SequencerPublicKey>) -> Self {
        Self {
            validators,
            voter,
            state: State::new(height),
            votes: VoteKeeper::default(),
            proposals: ProposalKeeper::default(),
            skip: SkipTracker::default(),
        }
    }
}

mod admission;
#[cfg(test)]
mod tests;
