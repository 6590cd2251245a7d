//! The per-height state of Algorithm 1 and its transitions, as a pure function.
//!
//! The paper writes the protocol as "upon" rules: *upon* some messages have
//! arrived *while* the state is so, do this. This module holds the state (lines
//! 1-9: round, step, locked and valid value and round, decision) and, for each
//! rule, one [`Event`] saying that its messages have arrived. [`State::apply`]
//! checks the rule's *while* clause and performs its body. Which events hold is the
//! driver's business (it counts votes and keeps proposals); what they do is this
//! module's, so each rule can be read against its lines on its own (and is
//! tested so, through the driver, in `driver/tests.rs`).
//!
//! Values are block hashes (`id(v)` and `v` coincide: the host holds the bodies).

use alloc::vec;
use alloc::vec::Vec;

use crate::types::Hash;

use super::{TimeoutStep, VoteKind};

/// Where a validator is within a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// No height started yet.
    Unstarted,
    /// Waiting for the round's proposal.
    Propose,
    /// Prevoted; waiting for a prevote quorum.
    Prevote,
    /// Precommitted; waiting for a precommit quorum.
    Precommit,
    /// The height is decided; waiting for the host to start the next.
    Commit,
}

/// A value with the round it was seen in: `lockedValue`/`lockedRound` and
/// `validValue`/`validRound` of the paper, which are always set together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundValue {
    pub value: Hash,
    pub round: u32,
}

/// One validator's consensus state at one height.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub height: u64,
    pub round: u32,
    pub step: Step,
    /// The value this validator precommitted last and will not prevote against
    /// without a newer quorum (lines 36-43).
    pub locked: Option<RoundValue>,
    /// The latest value a quorum prevoted, which this validator re-proposes
    /// (lines 16 and 42-43).
    pub valid: Option<RoundValue>,
    pub decision: Option<RoundValue>,
    /// "For the first time" guards of lines 34, 36 and 47, and whether this round
    /// waits for the host to build our proposal; all reset by each new round.
    prevote_timeout_scheduled: bool,
    polka_seen: bool,
    precommit_timeout_scheduled: bool,
    awaiting_value: bool,
}

/// "The messages of this rule have arrived": one per upon-rule of Algorithm 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// `StartRound(round)`, lines 11-21; `proposer` says whether we propose.
    StartRound { round: u32, proposer: bool },
    /// The host built our block (`getValue()`, line 18, answered).
    ValueBuilt { round: u32, value: Hash },
    /// Line 22: the round's proposal, fresh (`vr = -1`).
    Proposal { round: u32, value: Hash, valid: bool },
    /// Line 28: the round's proposal re-proposing a value with a prevote quorum
    /// in its valid round `vr < round`.
    ProposalWithPolka { round: u32, value: Hash, valid: bool, valid_round: u32 },
    /// Line 34: more than two thirds prevoted in the round, for anything.
    PolkaAny { round: u32 },
    /// Line 36: the round's proposal and more than two thirds prevoting it.
    ProposalAndPolka { round: u32, value: Hash, valid: bool },
    /// Line 44: more than two thirds prevoted nil in the round.
    PolkaNil { round: u32 },
    /// Line 47: more than two thirds precommitted in the round, for anything.
    PrecommitAny { round: u32 },
    /// Line 49: a proposal of any round and more than two thirds precommitting it.
    ProposalAndCommit { round: u32, value: Hash, valid: bool },
    /// Line 55: more than a third of the power is in a higher round.
    SkipRound { round: u32 },
    /// Lines 57, 61 and 65: a timeout of this height fired.
    Timeout { round: u32, step: TimeoutStep },
}

/// What a transition asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// Ask the host for a block to propose (`getValue()`, line 18).
    BuildValue {
        round: u32,
    },
    /// Broadcast a proposal (line 19).
    Propose {
        round: u32,
        value: Hash,
        valid_round: Option<u32>,
    },
    /// Broadcast a prevote or precommit.
    Vote {
        round: u32,
        kind: VoteKind,
        value: Option<Hash>,
    },
    ScheduleTimeout {
        round: u32,
        step: TimeoutStep,
    },
    /// Start this round (lines 55-56 and 65-67 call `StartRound`); the driver
    /// knows whether we propose in it.
    NewRound {
        round: u32,
    },
    /// The height is decided (line 51).
    Decide {
        round: u32,
        value: Hash,
    },
}

impl State {
    /// The state before `StartRound(0)` (lines 1-9).
    pub fn new(height: u64) -> Self {
        Self {
            height,
            round: 0,
            step: Step::Unstarted,
            locked: None,
            valid: None,
            decision: None,
            prevote_timeout_scheduled: false,
            polka_seen: false,
            precommit_timeout_scheduled: false,
            awaiting_value: false,
        }
    }

    /// Performs `event`'s rule if its *while* clause holds. `None`: it does not
    /// (nothing changed); `Some`: the rule fired and these are its outputs. Every
    /// rule that fires changes the state (or, for [`Output::NewRound`], has the
    /// driver start a higher round at once), so re-applying the events that hold
    /// until none fires terminates.
    pub fn apply(&mut self, event: Event) -> Option<Vec<Output>> {
        if self.step == Step::Commit {
            return None;
        }
        match event {
            Event::StartRound { round, proposer } => self.start_round(round, proposer),
            _ if self.step == Step::Unstarted => None,
            Event::ValueBuilt { round, value } => self.value_built(round, value),
            Event::Proposal { round, value, valid } => {
                let acceptable = self.locked.is_none_or(|l| l.value == value);
                self.prevote_proposal(round, value, valid && acceptable)
            }
            Event::ProposalWithPolka { round, value, valid, valid_round } => {
                let acceptable =
                    self.locked.is_none_or(|l| l.round <= valid_round || l.value == value);
                let justified = valid_round < round;
                self.prevote_proposal(round, value, valid && acceptable && justified)
            }
            Event::PolkaAny { round } => self.polka_any(round),
            Event::ProposalAndPolka { round, value, valid } => self.polka_for(round, value, valid),
            Event::PolkaNil { round } => self.polka_nil(round),
            Event::PrecommitAny { round } => self.precommit_any(round),
            Event::ProposalAndCommit { round, value, valid } => self.commit(round, value, valid),
            Event::SkipRound { round } => {
                (round > self.round).then(|| vec![Output::NewRound { round }])
            }
            Event::Timeout { round, step } => self.timeout(round, step),
        }
    }

    /// Lines 11-21. A proposer re-proposes its valid value with its valid round
    /// (line 16) or asks for a new block (line 18).
    ///
    /// Deviation: the proposer also schedules `timeoutPropose` (the paper has only
    /// the others do). Building a block is a request to the host here, not a
    /// function call, and a host that never answers must not stall the proposer.
    fn start_round(&mut self, round: u32, proposer: bool) -> Option<Vec<Output>> {
        if self.step != Step::Unstarted && round <= self.round {
            return None;
        }
        self.round = round;
        self.step = Step::Propose;
        self.prevote_timeout_scheduled = false;
        self.polka_seen = false;
        self.precommit_timeout_scheduled = false;
        self.awaiting_value = proposer && self.valid.is_none();
        let mut outputs = Vec::with_capacity(2);
        match (proposer, self.valid) {
            (false, _) => {}
            (true, Some(valid)) => outputs.push(Output::Propose {
                round,
                value: valid.value,
                valid_round: Some(valid.round),
            }),
            (true, None) => outputs.push(Output::BuildValue { round }),
        }
        outputs.push(Output::ScheduleTimeout { round, step: TimeoutStep::Propose });
        Some(outputs)
    }

    /// Line 19 for a freshly built block (`validRound = -1`).
    fn value_built(&mut self, round: u32, value: Hash) -> Option<Vec<Output>> {
        if !(self.awaiting_value && self.is_at(round, Step::Propose)) {
            return None;
        }
        self.awaiting_value = false;
        Some(vec![Output::Propose { round, value, valid_round: None }])
    }

    /// Lines 22-27 and 28-33: prevote the proposal if `acceptable`, else nil.
    fn prevote_proposal(
        &mut self,
        round: u32,
        value: Hash,
        acceptable: bool,
    ) -> Option<Vec<Output>> {
        if !self.is_at(round, Step::Propose) {
            return None;
        }
        Some(self.vote_and_step(VoteKind::Prevote, acceptable.then_some(value)))
    }

    /// Lines 34-35.
    fn polka_any(&mut self, round: u32) -> Option<Vec<Output>> {
        if !self.is_at(round, Step::Prevote) || self.prevote_timeout_scheduled {
            return None;
        }
        self.prevote_timeout_scheduled = true;
        Some(vec![Output::ScheduleTimeout { round, step: TimeoutStep::Prevote }])
    }

    /// Lines 36-43: lock on and precommit a value a quorum prevoted (if still
    /// prevoting), and remember it as the valid value in any case.
    fn polka_for(&mut self, round: u32, value: Hash, valid: bool) -> Option<Vec<Output>> {
        let applies =
            round == self.round && valid && self.step >= Step::Prevote && !self.polka_seen;
        if !applies {
            return None;
        }
        self.polka_seen = true;
        let seen = RoundValue { value, round };
        self.valid = Some(seen);
        if self.step != Step::Prevote {
            return Some(Vec::new());
        }
        self.locked = Some(seen);
        Some(self.vote_and_step(VoteKind::Precommit, Some(value)))
    }

    /// Lines 44-46.
    fn polka_nil(&mut self, round: u32) -> Option<Vec<Output>> {
        self.is_at(round, Step::Prevote).then(|| self.vote_and_step(VoteKind::Precommit, None))
    }

    /// Lines 47-48.
    fn precommit_any(&mut self, round: u32) -> Option<Vec<Output>> {
        if round != self.round || self.precommit_timeout_scheduled {
            return None;
        }
        self.precommit_timeout_scheduled = true;
        Some(vec![Output::ScheduleTimeout { round, step: TimeoutStep::Precommit }])
    }

    /// Lines 49-54, in any round. Moving to the next height (line 54) is left to
    /// the host, which must first apply the block and learn the next validators.
    fn commit(&mut self, round: u32, value: Hash, valid: bool) -> Option<Vec<Output>> {
        if self.decision.is_some() || !valid {
            return None;
        }
        self.decision = Some(RoundValue { value, round });
        self.step = Step::Commit;
        Some(vec![Output::Decide { round, value }])
    }

    /// Lines 57-60 (propose: prevote nil), 61-64 (prevote: precommit nil) and
    /// 65-67 (precommit: next round), each only in the step and round it was
    /// scheduled for.
    fn timeout(&mut self, round: u32, step: TimeoutStep) -> Option<Vec<Output>> {
        match step {
            TimeoutStep::Propose if self.is_at(round, Step::Propose) => {
                Some(self.vote_and_step(VoteKind::Prevote, None))
            }
            TimeoutStep::Prevote if self.is_at(round, Step::Prevote) => {
                Some(self.vote_and_step(VoteKind::Precommit, None))
            }
            TimeoutStep::Precommit if round == self.round => {
                round.checked_add(1).map(|next| vec![Output::NewRound { round: next }])
            }
            _ => None,
        }
    }

    /// Votes in the current round and moves to the step that vote begins.
    fn vote_and_step(&mut self, kind: VoteKind, value: Option<Hash>) -> Vec<Output> {
        self.step = match kind {
            VoteKind::Prevote => Step::Prevote,
            VoteKind::Precommit => Step::Precommit,
        };
        vec![Output::Vote { round: self.round, kind, value }]
    }

    fn is_at(&self, round: u32, step: Step) -> bool {
        self.round == round && self.step == step
    }
}
