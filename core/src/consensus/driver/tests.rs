//! One test per rule of Algorithm 1 (Buchman, Kwon, Milosevic, arXiv 1807.04938),
//! each driving a real [`Driver`] with signed messages from the other validators,
//! plus the admission rules. Line numbers are the paper's.

use super::*;
use crate::consensus::TimeoutStep;
use crate::consensus::validator_set::tests::set_with;
use crate::crypto::SequencerKey;

const H: u64 = 5;

fn chain() -> ChainId {
    ChainId::new("starling-test").unwrap()
}

fn block(n: u8) -> Hash {
    Hash([n; 32])
}

const A: Option<Hash> = Some(Hash([0xA; 32]));
const B: Option<Hash> = Some(Hash([0xB; 32]));
const NIL: Option<Hash> = None;

/// One driver among four validators of equal power (or given powers), acting as
/// its own host: it signs what the driver asks and hands it back. The test plays
/// the other validators.
struct Harness {
    driver: Driver,
    set: ValidatorSet,
    /// In set order.
    keys: Vec<SequencerKey>,
    me: usize,
}

impl Harness {
    /// A validator that proposes in none of rounds 0-2, so it waits for others.
    fn follower() -> (Self, Vec<Effect>) {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let busy: Vec<_> = (0..3).map(|r| proposer(&set, H, r).key).collect();
        let me = (0..4).find(|&i| !busy.contains(&set.validators()[i].key)).unwrap();
        Self::new(&[1, 1, 1, 1], Some(me))
    }

    /// The validator that proposes in `round`.
    fn proposer_of(round: u32) -> (Self, Vec<Effect>) {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let me = set.index_of(&proposer(&set, H, round).key).unwrap();
        Self::new(&[1, 1, 1, 1], Some(me))
    }

    /// Validator `me` (index in set order; `None`: an observer) of a set with
    /// `powers`, started at height `H`.
    fn new(powers: &[u64], me: Option<usize>) -> (Self, Vec<Effect>) {
        let (set, mut keys) = set_with(powers);
        keys.sort_by_key(|k| k.public_key());
        let key = me.map(|i| keys[i].public_key());
        let driver = Driver::new(chain(), TimeoutConfig::default(), key);
        let mut harness = Self { driver, set: set.clone(), keys, me: me.unwrap_or(usize::MAX) };
        let effects = harness.driver.start_height(H, set);
        let effects = harness.answer(effects);
        (harness, effects)
    }

    /// Hands `input` in and acts as the host for our own messages.
    fn feed(&mut self, input: Input) -> Vec<Effect> {
        let effects = self.driver.handle(input);
        self.answer(effects)
    }

    /// Signs and hands back what the driver asked to sign; returns every effect.
    fn answer(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut all = Vec::new();
        for effect in effects {
            let more = match &effect {
                Effect::SignVote(vote) => {
                    self.driver.handle(Input::Vote(vote.clone().sign(&self.keys[self.me])))
                }
                Effect::SignProposal(p) => {
                    let proposal = p.clone().sign(&self.keys[self.me]);
                    self.driver.handle(Input::Proposal { proposal, valid: true })
                }
                _ => Vec::new(),
            };
            all.push(effect);
            all.extend(self.answer(more));
        }
        all
    }

    fn others(&self) -> Vec<usize> {
        (0..self.keys.len()).filter(|&i| i != self.me).collect()
    }

    fn vote(&self, who: usize, round: u32, kind: VoteKind, value: Option<Hash>) -> SignedVote {
        let validator = self.keys[who].public_key();
        Vote { chain_id: chain(), height: H, round, kind, value, validator }.sign(&self.keys[who])
    }

    /// Votes from each of `who`.
    fn votes(
        &mut self,
        who: &[usize],
        round: u32,
        kind: VoteKind,
        value: Option<Hash>,
    ) -> Vec<Effect> {
        who.iter().flat_map(|&i| self.feed(Input::Vote(self.vote(i, round, kind, value)))).collect()
    }

    /// Prevotes from `count` of the others.
    fn prevotes(&mut self, count: usize, round: u32, value: Option<Hash>) -> Vec<Effect> {
        let who = self.others()[..count].to_vec();
        self.votes(&who, round, VoteKind::Prevote, value)
    }

    /// Precommits from `count` of the others.
    fn precommits(&mut self, count: usize, round: u32, value: Option<Hash>) -> Vec<Effect> {
        let who = self.others()[..count].to_vec();
        self.votes(&who, round, VoteKind::Precommit, value)
    }

    fn signed_proposal(&self, round: u32, value: Hash, valid_round: Option<u32>) -> SignedProposal {
        let who = self.set.index_of(&proposer(&self.set, H, round).key).unwrap();
        let proposer = self.keys[who].public_key();
        Proposal { chain_id: chain(), height: H, round, block_hash: value, valid_round, proposer }
            .sign(&self.keys[who])
    }

    /// The round's proposer proposes `value`; `valid` is the host's verdict.
    fn propose(
        &mut self,
        round: u32,
        value: Option<Hash>,
        valid_round: Option<u32>,
        valid: bool,
    ) -> Vec<Effect> {
        let proposal = self.signed_proposal(round, value.unwrap(), valid_round);
        self.feed(Input::Proposal { proposal, valid })
    }

    fn time_out(&mut self, round: u32, step: TimeoutStep) -> Vec<Effect> {
        self.feed(Input::Timeout(Timeout { height: H, round, step }))
    }

    /// Locks on `value` in `round` (lines 36-43): its proposal, our prevote, and
    /// prevotes from two others.
    fn lock_on(&mut self, round: u32, value: Option<Hash>) {
        self.propose(round, value, None, true);
        let effects = self.prevotes(2, round, value);
        assert_eq!(my_votes(&effects), [(round, VoteKind::Precommit, value)]);
    }

    /// Moves to `round + 1` through the precommit timeout (lines 65-67), first
    /// timing out the earlier steps if still there.
    fn next_round(&mut self, round: u32) {
        self.time_out(round, TimeoutStep::Propose);
        self.time_out(round, TimeoutStep::Prevote);
        self.time_out(round, TimeoutStep::Precommit);
        assert_eq!(self.driver.round(), round + 1);
    }
}

/// The votes we asked to sign, as (round, kind, value).
fn my_votes(effects: &[Effect]) -> Vec<(u32, VoteKind, Option<Hash>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SignVote(v) => Some((v.round, v.kind, v.value)),
            _ => None,
        })
        .collect()
}

/// The timeouts we asked for, as (round, step).
fn timeouts(effects: &[Effect]) -> Vec<(u32, TimeoutStep)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ScheduleTimeout { timeout, .. } => Some((timeout.round, timeout.step)),
            _ => None,
        })
        .collect()
}

fn decision(effects: &[Effect]) -> Option<(u32, Hash, &CommitCertificate)> {
    effects.iter().find_map(|e| match e {
        Effect::Decide { round, block_hash, certificate, .. } => {
            Some((*round, *block_hash, certificate))
        }
        _ => None,
    })
}

/// Line 16: a proposer with a valid value re-proposes it with its valid round.
#[test]
fn line_16_proposer_re_proposes_its_valid_value() {
    let (set, _) = set_with(&[1, 1, 1, 1]);
    let round_1 = set.index_of(&proposer(&set, H, 1).key).unwrap();
    let (mut h, _) = Harness::new(&[1, 1, 1, 1], Some(round_1));
    h.lock_on(0, A);
    let effects =
        h.feed(Input::Timeout(Timeout { height: H, round: 0, step: TimeoutStep::Precommit }));
    let proposed: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::SignProposal(p) => Some((p.round, Some(p.block_hash), p.valid_round)),
            _ => None,
        })
        .collect();
    assert_eq!(proposed, [(1, A, Some(0))]);
    assert!(!effects.iter().any(|e| matches!(e, Effect::BuildProposal { .. })));
}

/// Line 18: a proposer without a valid value asks the host for a block and
/// proposes it (valid round -1) once built; it then prevotes its own proposal.
#[test]
fn line_18_proposer_without_valid_value_asks_for_a_block() {
    let (mut h, effects) = Harness::proposer_of(0);
    assert!(effects.contains(&Effect::BuildProposal { height: H, round: 0 }));
    let effects = h.feed(Input::ProposalBlock { height: H, round: 0, block_hash: block(7) });
    let proposed = effects.iter().find_map(|e| match e {
        Effect::SignProposal(p) => Some(p.clone()),
        _ => None,
    });
    let proposed = proposed.expect("proposes the built block");
    assert_eq!((proposed.block_hash, proposed.valid_round), (block(7), None));
    assert_eq!(my_votes(&effects), [(0, VoteKind::Prevote, Some(block(7)))]);
    // A second answer, or one for another round, proposes nothing more.
    assert!(h.feed(Input::ProposalBlock { height: H, round: 0, block_hash: block(8) }).is_empty());
}

/// Line 21: a validator that does not propose schedules the propose timeout.
#[test]
fn line_21_others_schedule_the_propose_timeout() {
    let (_, effects) = Harness::follower();
    assert_eq!(timeouts(&effects), [(0, TimeoutStep::Propose)]);
    assert!(!effects.iter().any(|e| matches!(e, Effect::BuildProposal { .. })));
}

/// Lines 22-27: an unlocked validator prevotes a valid fresh proposal.
#[test]
fn lines_22_27_prevote_the_proposal_when_unlocked() {
    let (mut h, _) = Harness::follower();
    let effects = h.propose(0, A, None, true);
    assert_eq!(my_votes(&effects), [(0, VoteKind::Prevote, A)]);
    assert_eq!(h.driver.step(), Step::Prevote);
}

/// Lines 22-27: a validator locked on A prevotes nil for a fresh proposal of B,
/// and A when it is proposed again.
#[test]
fn lines_22_27_locked_validator_prevotes_only_its_lock() {
    let (mut h, _) = Harness::follower();
    h.lock_on(0, A);
    h.next_round(0);
    assert_eq!(my_votes(&h.propose(1, B, None, true)), [(1, VoteKind::Prevote, NIL)]);

    let (mut h, _) = Harness::follower();
    h.lock_on(0, A);
    h.next_round(0);
    assert_eq!(my_votes(&h.propose(1, A, None, true)), [(1, VoteKind::Prevote, A)]);
}

/// Lines 22-27 (`valid(v)`): a proposal the host judged invalid gets a nil prevote.
#[test]
fn lines_22_27_invalid_proposal_gets_a_nil_prevote() {
    let (mut h, _) = Harness::follower();
    assert_eq!(my_votes(&h.propose(0, A, None, false)), [(0, VoteKind::Prevote, NIL)]);
}

/// Lines 28-33: a validator locked on A in round 0 prevotes a re-proposal of B
/// whose valid round 1 (later than its lock) had a prevote quorum for B: it
/// unlocks on the newer evidence.
#[test]
fn lines_28_33_re_proposal_from_a_later_quorum_unlocks() {
    let (mut h, _) = Harness::follower();
    h.lock_on(0, A);
    h.next_round(0);
    h.prevotes(3, 1, B); // a quorum for B in round 1, whose proposal we never saw
    h.next_round(1);
    assert_eq!(my_votes(&h.propose(2, B, Some(1), true)), [(2, VoteKind::Prevote, B)]);
}

/// Lines 28-33: a validator locked on A in round 1 prevotes nil for a re-proposal
/// of B justified only by the older round 0.
#[test]
fn lines_28_33_re_proposal_from_an_older_quorum_gets_nil() {
    let (mut h, _) = Harness::follower();
    h.prevotes(3, 0, B); // round 0: B had a quorum, unseen proposal
    h.next_round(0);
    h.lock_on(1, A);
    h.next_round(1);
    assert_eq!(my_votes(&h.propose(2, B, Some(0), true)), [(2, VoteKind::Prevote, NIL)]);
}

/// Lines 28-33: a re-proposal whose valid round had no prevote quorum (yet) gets
/// no prevote; the quorum arriving later triggers it.
#[test]
fn lines_28_33_re_proposal_waits_for_its_valid_round_quorum() {
    let (mut h, _) = Harness::follower();
    h.next_round(0);
    assert!(my_votes(&h.propose(1, B, Some(0), true)).is_empty());
    assert!(my_votes(&h.prevotes(2, 0, B)).is_empty(), "two of four is no quorum");
    assert_eq!(my_votes(&h.prevotes(3, 0, B)), [(1, VoteKind::Prevote, B)]);
}

/// Lines 34-35: more than two thirds prevoting anything (here A, B and nil)
/// schedules the prevote timeout, once.
#[test]
fn line_34_prevote_timeout_on_any_prevote_quorum() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    let others = h.others();
    assert!(timeouts(&h.votes(&others[..1], 0, VoteKind::Prevote, B)).is_empty());
    let effects = h.votes(&others[1..2], 0, VoteKind::Prevote, NIL);
    assert_eq!(timeouts(&effects), [(0, TimeoutStep::Prevote)]);
    assert!(timeouts(&h.votes(&others[2..3], 0, VoteKind::Prevote, B)).is_empty());
}

/// Lines 36-43: a prevote quorum for the proposal makes a prevoting validator
/// lock on it, precommit it, and take it as its valid value.
#[test]
fn lines_36_43_precommit_and_lock_on_a_prevote_quorum() {
    let (mut h, _) = Harness::follower();
    h.lock_on(0, A);
    let expected = Some(RoundValue { value: A.unwrap(), round: 0 });
    assert_eq!((h.driver.locked(), h.driver.valid()), (expected, expected));
    assert_eq!(h.driver.step(), Step::Precommit);
}

/// Lines 36-43: a quorum arriving after this validator precommitted nil only
/// updates its valid value; it does not lock or precommit again.
#[test]
fn lines_36_43_late_quorum_updates_only_the_valid_value() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    h.time_out(0, TimeoutStep::Prevote);
    assert!(my_votes(&h.prevotes(2, 0, A)).is_empty());
    assert_eq!(h.driver.valid(), Some(RoundValue { value: A.unwrap(), round: 0 }));
    assert_eq!(h.driver.locked(), None);
}

/// Lines 36-43 in a later round: a validator locked on A re-locks on B when B's
/// proposal gets a prevote quorum in a later round.
#[test]
fn lines_36_43_relock_on_a_later_quorum() {
    let (mut h, _) = Harness::follower();
    h.lock_on(0, A);
    h.next_round(0);
    h.propose(1, B, None, true); // we prevote nil: locked on A
    assert_eq!(my_votes(&h.prevotes(3, 1, B)), [(1, VoteKind::Precommit, B)]);
    assert_eq!(h.driver.locked(), Some(RoundValue { value: B.unwrap(), round: 1 }));
}

/// Lines 36-43 (`valid(v)`): a prevote quorum for a block the host judged
/// invalid is never precommitted.
#[test]
fn lines_36_43_no_precommit_for_an_invalid_block() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, false);
    assert!(my_votes(&h.prevotes(3, 0, A)).is_empty());
    assert_eq!(h.driver.locked(), None);
}

/// Lines 44-46: a nil prevote quorum makes a prevoting validator precommit nil.
#[test]
fn lines_44_46_precommit_nil_on_a_nil_prevote_quorum() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    assert_eq!(my_votes(&h.prevotes(3, 0, NIL)), [(0, VoteKind::Precommit, NIL)]);
    assert_eq!(h.driver.step(), Step::Precommit);
}

/// Lines 47-48: more than two thirds precommitting anything schedules the
/// precommit timeout once, whatever the step.
#[test]
fn line_47_precommit_timeout_on_any_precommit_quorum() {
    let (mut h, _) = Harness::follower();
    let others = h.others();
    h.votes(&others[..1], 0, VoteKind::Precommit, A);
    assert!(timeouts(&h.votes(&others[1..2], 0, VoteKind::Precommit, B)).is_empty());
    let effects = h.votes(&others[2..3], 0, VoteKind::Precommit, NIL);
    assert_eq!(timeouts(&effects), [(0, TimeoutStep::Precommit)]);
    assert_eq!(h.driver.step(), Step::Propose, "scheduled while still waiting for a proposal");
    assert!(timeouts(&h.propose(0, A, None, true)).is_empty());
}

/// Lines 49-54: a proposal and a precommit quorum for it decide, in any round
/// (here round 0, reached while we are in round 2), with a certificate that
/// verifies; the proposal may come after the precommits.
#[test]
fn lines_49_54_decide_in_any_round_with_a_certificate() {
    let (mut h, _) = Harness::follower();
    h.next_round(0);
    h.next_round(1);
    assert!(decision(&h.precommits(3, 0, A)).is_none(), "no decision without the proposal");
    let effects = h.propose(0, A, None, true);
    let (round, value, certificate) = decision(&effects).expect("decides");
    assert_eq!((round, Some(value)), (0, A));
    assert_eq!(certificate.verify(&chain(), &h.set, H, &value), Ok(3));
    assert_eq!(h.driver.step(), Step::Commit);
    // The height is over: further messages are refused, timeouts do nothing.
    let late = h.vote(h.others()[0], 2, VoteKind::Prevote, A);
    assert_eq!(h.driver.try_handle(Input::Vote(late)), Err(Reject::Decided));
    assert!(h.time_out(2, TimeoutStep::Propose).is_empty());
}

/// Lines 49-54 (`valid(v)`): even a precommit quorum does not decide a block
/// the host judged invalid.
#[test]
fn lines_49_54_never_decide_an_invalid_block() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, false);
    assert!(decision(&h.precommits(3, 0, A)).is_none());
}

/// Lines 55-56: messages from more than a third of the power in a higher round
/// move this validator there; a third or less does not. Rounds too far ahead to
/// keep still count.
#[test]
fn lines_55_56_skip_to_a_round_more_than_a_third_reached() {
    let (mut h, _) = Harness::follower();
    let others = h.others();
    h.votes(&others[..1], 3, VoteKind::Prevote, A);
    assert_eq!(h.driver.round(), 0);
    let effects = h.votes(&others[1..2], 3, VoteKind::Precommit, NIL);
    assert_eq!(h.driver.round(), 3);
    assert_eq!(h.driver.step(), Step::Propose);
    assert_eq!(timeouts(&effects), [(3, TimeoutStep::Propose)]);

    // Too far ahead to keep: counted for skipping, and a repeat is a duplicate
    // spotted before any signature check.
    let far = 3 + ROUNDS_KEPT_AHEAD + 100;
    let ahead = h.vote(others[0], far, VoteKind::Prevote, A);
    h.feed(Input::Vote(ahead.clone()));
    assert_eq!(h.driver.try_handle(Input::Vote(ahead)), Err(Reject::Duplicate));
    h.votes(&others[1..2], far, VoteKind::Prevote, A);
    assert_eq!(h.driver.round(), far);
}

/// Lines 57-60: the propose timeout of the current round prevotes nil; a stale
/// one (another round, height or step) does nothing.
#[test]
fn line_57_propose_timeout_prevotes_nil() {
    let (mut h, _) = Harness::follower();
    assert!(h.time_out(1, TimeoutStep::Propose).is_empty());
    assert!(
        h.feed(Input::Timeout(Timeout { height: H - 1, round: 0, step: TimeoutStep::Propose }))
            .is_empty()
    );
    assert!(h.time_out(0, TimeoutStep::Prevote).is_empty());
    assert_eq!(my_votes(&h.time_out(0, TimeoutStep::Propose)), [(0, VoteKind::Prevote, NIL)]);
    assert!(h.time_out(0, TimeoutStep::Propose).is_empty());
}

/// Lines 61-64: the prevote timeout, while prevoting, precommits nil.
#[test]
fn line_61_prevote_timeout_precommits_nil() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    assert_eq!(my_votes(&h.time_out(0, TimeoutStep::Prevote)), [(0, VoteKind::Precommit, NIL)]);
    assert_eq!(h.driver.step(), Step::Precommit);
}

/// Lines 65-67: the precommit timeout starts the next round, which waits for its
/// proposal; a later proposal of the old round changes nothing.
#[test]
fn line_65_precommit_timeout_starts_the_next_round() {
    let (mut h, _) = Harness::follower();
    let effects = h.time_out(0, TimeoutStep::Precommit);
    assert_eq!((h.driver.round(), h.driver.step()), (1, Step::Propose));
    assert_eq!(timeouts(&effects), [(1, TimeoutStep::Propose)]);
    assert!(my_votes(&h.propose(0, A, None, true)).is_empty());
}

/// A validator's vote counts once: the same prevote three times from one other
/// validator, plus ours, is two of four, no quorum.
#[test]
fn votes_count_once_per_validator() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    let vote = h.vote(h.others()[0], 0, VoteKind::Prevote, A);
    h.feed(Input::Vote(vote.clone()));
    for _ in 0..2 {
        assert_eq!(h.driver.try_handle(Input::Vote(vote.clone())), Err(Reject::Duplicate));
    }
    assert_eq!(h.driver.step(), Step::Prevote);
    assert_eq!(h.driver.locked(), None);
}

/// Double-signing is reported once, as both signed votes. The double-signer
/// counts once towards "anything" (its two prevotes here do not make a prevote
/// quorum of anything with ours), and its further votes count only towards nil
/// and proposed blocks (the only values a rule can act on): a vote for an
/// unproposed block is a duplicate, one for the proposal counts.
#[test]
fn double_signing_is_reported_once_and_counted_once_per_value() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    let cheat = h.others()[0];
    let first = h.vote(cheat, 0, VoteKind::Prevote, B);
    let second = h.vote(cheat, 0, VoteKind::Prevote, NIL);
    h.feed(Input::Vote(first.clone()));
    let effects = h.feed(Input::Vote(second.clone()));
    assert_eq!(effects, [Effect::Equivocation(first, second)], "no prevote timeout: 2 of 4");
    let unproposed = h.vote(cheat, 0, VoteKind::Prevote, Some(block(0xC)));
    assert_eq!(h.driver.try_handle(Input::Vote(unproposed)), Err(Reject::Duplicate));
    assert!(
        my_votes(&h.votes(&[cheat], 0, VoteKind::Prevote, A)).is_empty(),
        "A: ours and the cheat's"
    );
    let third = h.others()[1];
    assert_eq!(
        my_votes(&h.votes(&[third], 0, VoteKind::Prevote, A)),
        [(0, VoteKind::Precommit, A)]
    );
}

/// Lines 28-33 against a double-signer: it prevoted nil and A in round 0, and we
/// got its nil first. Its A prevote still counts towards the quorum that
/// justifies re-proposing A with valid round 0, once A's round-0 proposal is
/// known; otherwise a locked validator could never be released (found by the
/// simulation).
#[test]
fn lines_28_33_a_double_signer_cannot_hide_the_valid_round_quorum() {
    let (mut h, _) = Harness::follower();
    h.next_round(0);
    let [cheat, b, c] = [0, 1, 2].map(|i| h.others()[i]);
    h.votes(&[cheat], 0, VoteKind::Prevote, NIL);
    let hidden = h.vote(cheat, 0, VoteKind::Prevote, A);
    h.feed(Input::Vote(hidden.clone())); // reported, not counted: A has no proposal yet
    h.votes(&[b, c], 0, VoteKind::Prevote, A);
    h.propose(0, A, None, true);
    assert!(my_votes(&h.propose(1, A, Some(0), true)).is_empty(), "2 of 4 counted for A");
    assert_eq!(my_votes(&h.feed(Input::Vote(hidden))), [(1, VoteKind::Prevote, A)]);
}

/// Messages with a bad signature, for another chain or height, from a stranger,
/// or a proposal from the wrong proposer or with a valid round not below its
/// round are refused, with the reason, and change nothing.
#[test]
fn forged_and_foreign_messages_are_refused() {
    let (mut h, _) = Harness::follower();
    let other = h.others()[0];
    let mut forged = h.vote(other, 0, VoteKind::Prevote, A);
    forged.signature.0[0] ^= 1;
    let stranger = SequencerKey::from_seed(&[99; 32]);
    let strange =
        Vote { validator: stranger.public_key(), ..h.vote(other, 0, VoteKind::Prevote, A).vote };
    let foreign = Vote {
        chain_id: ChainId::new("elsewhere").unwrap(),
        ..h.vote(other, 0, VoteKind::Prevote, A).vote
    };
    let future = Vote { height: H + 1, ..h.vote(other, 0, VoteKind::Prevote, A).vote };
    let past = Vote { height: H - 1, ..h.vote(other, 0, VoteKind::Prevote, A).vote };
    let cases = [
        (forged, Reject::BadSignature(crate::crypto::SignatureError::Mismatch)),
        (strange.sign(&stranger), Reject::NotValidator),
        (foreign.sign(&h.keys[other]), Reject::WrongChain),
        (future.sign(&h.keys[other]), Reject::FutureHeight),
        (past.sign(&h.keys[other]), Reject::PastHeight),
    ];
    for (vote, reason) in cases {
        assert_eq!(h.driver.check_vote(&vote), Err(reason));
        assert_eq!(h.driver.try_handle(Input::Vote(vote)), Err(reason));
    }

    let round_0 = h.set.index_of(&proposer(&h.set, H, 0).key).unwrap();
    let impostor = (0..4).find(|&i| i != round_0).unwrap();
    let wrong = Proposal {
        proposer: h.keys[impostor].public_key(),
        ..h.signed_proposal(0, block(1), None).proposal
    };
    let bad_vr = h.signed_proposal(0, block(1), Some(0));
    let proposals =
        [(wrong.sign(&h.keys[impostor]), Reject::NotProposer), (bad_vr, Reject::BadValidRound)];
    for (proposal, reason) in proposals {
        assert_eq!(h.driver.check_proposal(&proposal), Err(reason));
        assert_eq!(h.driver.try_handle(Input::Proposal { proposal, valid: true }), Err(reason));
    }
    assert_eq!(h.driver.step(), Step::Propose, "nothing was prevoted");
}

/// A proposer's second proposal for a round is kept only once some validator
/// voted for its block, and can then be decided: a faulty proposer cannot make
/// the driver keep unboundedly many, nor keep it from deciding the one that won.
#[test]
fn second_proposal_is_kept_only_when_voted_for() {
    let (mut h, _) = Harness::follower();
    h.propose(0, A, None, true);
    let second = h.signed_proposal(0, B.unwrap(), None);
    let input = Input::Proposal { proposal: second.clone(), valid: true };
    assert_eq!(h.driver.try_handle(input.clone()), Err(Reject::UnsupportedProposal));
    h.precommits(3, 0, B);
    let effects = h.feed(input);
    assert_eq!(decision(&effects).map(|(r, v, _)| (r, Some(v))), Some((0, B)));
}

/// An observer (no key) follows the rounds and decides, but never asks to build,
/// sign or vote.
#[test]
fn observer_decides_without_voting() {
    let (mut h, effects) = Harness::new(&[1, 1, 1, 1], None);
    let mut all = effects;
    h.me = 0; // plays validators 1-3 through `others`
    all.extend(h.propose(0, A, None, true));
    all.extend(h.prevotes(3, 0, A));
    all.extend(h.precommits(3, 0, A));
    assert!(decision(&all).is_some());
    assert!(all.iter().all(|e| !matches!(
        e,
        Effect::SignVote(_) | Effect::SignProposal(_) | Effect::BuildProposal { .. }
    )));
}

/// Power, not head count: with powers 1, 1, 1, 3 the heavy validator and one
/// light one precommitting (4 of 6) do not decide; a second light one (5 of 6)
/// does.
#[test]
fn quorums_are_by_power() {
    let (set, keys) = set_with(&[1, 1, 1, 3]);
    let heavy = set.index_of(&keys[3].public_key()).unwrap();
    let me = (0..4).find(|&i| i != heavy).unwrap();
    let (mut h, _) = Harness::new(&[1, 1, 1, 3], Some(me));
    h.propose(0, A, None, true);
    let light: Vec<usize> = (0..4).filter(|&i| i != heavy && i != me).collect();
    assert!(decision(&h.votes(&[heavy, light[0]], 0, VoteKind::Precommit, A)).is_none());
    assert!(decision(&h.votes(&light[1..], 0, VoteKind::Precommit, A)).is_some());
}

/// The status view: height, round, step and the round's proposer.
#[test]
fn status_view() {
    let (h, _) = Harness::follower();
    assert_eq!((h.driver.height(), h.driver.round(), h.driver.step()), (H, 0, Step::Propose));
    assert_eq!(h.driver.proposer(H, 1).map(|v| v.key), Some(proposer(&h.set, H, 1).key));
    assert_eq!(h.driver.proposer(H + 1, 0), None);
    let idle = Driver::new(chain(), TimeoutConfig::default(), None);
    assert_eq!(idle.step(), Step::Unstarted);
    assert_eq!(idle.check_vote(&h.vote(0, 0, VoteKind::Prevote, A)), Err(Reject::NotStarted));
}
