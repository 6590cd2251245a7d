//! Proposals and votes of a real proof-of-stake chain, checked against the
//! registry its blocks' witnesses carry, as the page receives them on gossip.

use starling_core::consensus::{Vote, VoteKind};
use starling_core::crypto::SequencerKey;
use starling_core::encoding::Message;
use starling_core::types::ChainId;

use super::*;
use crate::test_chain::{CHAIN, PosChain};

const SWITCH: u64 = PosChain::SWITCH;

/// The registry the page holds once it accepted the block at `height`.
fn known(chain: &PosChain, height: u64) -> KnownRegistry {
    let registry = chain.witnesses[height as usize - 1].registry().unwrap().clone();
    KnownRegistry { registry, height, verified: true }
}

fn consensus() -> Consensus {
    Consensus::new(ChainId::new(CHAIN).unwrap())
}

/// The validators of `height`'s set, in the set's order.
fn keys(chain: &PosChain, height: u64) -> Vec<&SequencerKey> {
    chain.set(height).unwrap().validators().iter().map(|v| chain.key_of(v.key)).collect()
}

fn vote(chain: &PosChain, key: &SequencerKey, height: u64, kind: VoteKind) -> Vec<u8> {
    let hash = chain.block(height).hash();
    chain.vote(key, height, 0, kind, Some(hash)).encode_message()
}

/// Proves valid votes of set members are accepted and tallied by power per
/// height, round and kind, a repeated vote counts once, and a vote for a height
/// the page already holds final is counted but ignored (not relayed).
#[test]
fn member_votes_are_accepted_and_tallied_by_power() {
    let chain = PosChain::build(SWITCH as usize + 2);
    let k = known(&chain, SWITCH + 1);
    let reg = Some(&k.registry);
    let mut c = consensus();
    let height = SWITCH + 2;
    let members = keys(&chain, height);
    for key in &members[..3] {
        let got = c.on_vote(&vote(&chain, key, height, VoteKind::Prevote), reg, Some(SWITCH + 1));
        assert_eq!(got, MessageAcceptance::Accept);
    }
    let precommit = vote(&chain, members[0], height, VoteKind::Precommit);
    assert_eq!(c.on_vote(&precommit, reg, Some(SWITCH + 1)), MessageAcceptance::Accept);
    assert_eq!(c.on_vote(&precommit, reg, Some(SWITCH + 1)), MessageAcceptance::Accept);
    let late = vote(&chain, members[3], SWITCH + 1, VoteKind::Precommit);
    assert_eq!(c.on_vote(&late, reg, Some(SWITCH + 1)), MessageAcceptance::Ignore, "final here");

    let view = c.view(Some(&k), Some(SWITCH + 1));
    assert_eq!(view.counts.votes, 6);
    let top = &view.tallies[0];
    assert_eq!((top.height, top.round, top.total_power), (height, 0, 4 * PosChain::STAKE));
    assert_eq!(top.prevotes.count, 3);
    assert_eq!(top.prevotes.power, 3 * PosChain::STAKE);
    assert!(top.is_quorum(&top.prevotes), "three of four is more than two thirds");
    assert_eq!(top.precommits.count, 1, "the repeated precommit counts once");
    assert!(!top.is_quorum(&top.precommits));
    assert_eq!(view.tallies[1].height, SWITCH + 1, "older heights after");
    let latest = view.latest.unwrap();
    assert_eq!((latest.height, latest.round), (height, 0));
    let expected = proposer(chain.set(height).unwrap(), height, 0).key.to_string();
    assert_eq!(latest.proposer, Some(expected));
}

/// Proves votes that fail a check are rejected and not tallied: garbage, another
/// chain's, a bad signature, a signer outside the set (the old sequencer); and
/// votes the page cannot check (a single-stage height, or no registry yet) are
/// ignored.
#[test]
fn bad_votes_are_rejected_and_unknowable_ones_ignored() {
    let chain = PosChain::build(SWITCH as usize + 1);
    let k = known(&chain, SWITCH + 1);
    let reg = Some(&k.registry);
    let height = SWITCH + 1;
    let member = keys(&chain, height)[0];
    let mut c = consensus();
    let mut forged = chain.vote(member, height, 0, VoteKind::Prevote, None);
    forged.vote.round = 1;
    let other_chain = Vote {
        chain_id: ChainId::new("starling-other").unwrap(),
        ..chain.vote(member, height, 0, VoteKind::Prevote, None).vote
    }
    .sign(member);
    let outsider = chain.vote(&chain.sequencer, height, 0, VoteKind::Prevote, None);
    let bad = [forged, other_chain, outsider].map(|v| v.encode_message());
    for data in std::iter::once(vec![1, 2, 3]).chain(bad) {
        assert_eq!(c.on_vote(&data, reg, None), MessageAcceptance::Reject);
    }
    let single_stage = vote(&chain, &chain.sequencer, SWITCH - 1, VoteKind::Prevote);
    assert_eq!(c.on_vote(&single_stage, reg, None), MessageAcceptance::Ignore);
    let honest = vote(&chain, member, height, VoteKind::Prevote);
    assert_eq!(c.on_vote(&honest, None, None), MessageAcceptance::Ignore, "no registry yet");
    let counts = c.counts();
    assert_eq!((counts.rejected, counts.unchecked, counts.votes), (4, 2, 0));
    assert!(c.view(Some(&k), None).tallies.is_empty());
}

/// Proves a proposal by the round's proposer is accepted, one signed by another
/// member (valid signature, wrong proposer) is rejected, and the time from the
/// first proposal of a height to its block verified here is the finality
/// latency, whose median is over the recent heights.
#[test]
fn proposals_start_the_finality_clock() {
    let chain = PosChain::build(SWITCH as usize + 4);
    let k = known(&chain, SWITCH);
    let reg = Some(&k.registry);
    let mut c = consensus();
    for (i, height) in (SWITCH + 1..=SWITCH + 3).enumerate() {
        let set = chain.set(height).unwrap();
        let right = chain.key_of(proposer(set, height, 0).key);
        let wrong = keys(&chain, height).into_iter().find(|k| k.public_key() != right.public_key());
        let wrong = chain.proposal(wrong.unwrap(), height, 0).encode_message();
        assert_eq!(c.on_proposal(&wrong, reg, Some(SWITCH), 0), MessageAcceptance::Reject);
        let start = 1_000 * height;
        let data = chain.proposal(right, height, 0).encode_message();
        assert_eq!(c.on_proposal(&data, reg, Some(SWITCH), start), MessageAcceptance::Accept);
        // The same proposal again, later: the clock keeps its first start.
        c.on_proposal(&data, reg, Some(SWITCH), start + 50);
        c.on_final(height, start + 100 * (i as u64 + 1));
    }
    let latency = c.latency().unwrap();
    assert_eq!((latency.median_ms, latency.samples, latency.last_ms), (200, 3, 300));
    assert_eq!(c.counts().proposals, 6);
    assert_eq!(c.counts().rejected, 3);
    let view = c.view(Some(&k), Some(SWITCH + 3));
    assert!(view.tallies.iter().all(|t| t.proposal_seen));
    // A height final without a proposal seen here gives no sample.
    c.on_final(SWITCH + 4, 99_999);
    assert_eq!(c.latency().unwrap().samples, 3);
}

/// Proves only the newest heights are tallied and a vote far above the final
/// height is not, so a validator cannot grow the page's memory.
#[test]
fn tallies_are_bounded() {
    let chain = PosChain::build(SWITCH as usize + 1);
    let k = known(&chain, SWITCH + 1);
    let reg = Some(&k.registry);
    let member = keys(&chain, SWITCH + 1)[0];
    let mut c = consensus();
    // Heights of the same epoch's set (the registry knows up to two epochs ahead).
    let first = SWITCH + 1;
    for height in first..first + TALLY_HEIGHTS as u64 + 2 {
        let data = chain.vote(member, height, 0, VoteKind::Prevote, None).encode_message();
        assert_eq!(c.on_vote(&data, reg, Some(SWITCH)), MessageAcceptance::Accept);
    }
    for round in 0..MAX_ROUNDS as u32 + 3 {
        let data = chain.vote(member, first + 7, round, VoteKind::Precommit, None).encode_message();
        c.on_vote(&data, reg, Some(SWITCH));
    }
    let far = chain.vote(member, SWITCH + 40, 0, VoteKind::Prevote, None).encode_message();
    c.on_vote(&far, reg, Some(SWITCH));
    let view = c.view(Some(&k), Some(SWITCH));
    let heights: std::collections::BTreeSet<u64> = view.tallies.iter().map(|t| t.height).collect();
    assert_eq!(heights.len(), TALLY_HEIGHTS);
    assert_eq!(heights.first(), Some(&(first + 2)), "the oldest heights were let go");
    let rounds = view.tallies.iter().filter(|t| t.height == first + 7).count();
    assert_eq!(rounds, MAX_ROUNDS);
    assert!(!heights.contains(&(SWITCH + 40)));
}

/// Proves the view names the mode, the epoch, the switch (scheduled before it,
/// done after) and the set: before the switch, the set that takes over; after
/// it, the set certifying the next block, each member with a quarter of the
/// power.
#[test]
fn the_view_names_the_mode_the_switch_and_the_set() {
    let chain = PosChain::build(SWITCH as usize + 2);
    let c = consensus();
    let before = c.view(Some(&known(&chain, 5)), Some(5));
    assert_eq!(before.mode, Some(Mode::Single));
    assert_eq!(before.epoch, Some(1));
    assert_eq!(before.switch, Some(Switch { height: SWITCH, done: false }));
    let set = before.validators.unwrap();
    assert_eq!(set.role, Role::Scheduled { from_height: SWITCH });
    assert_eq!(set.members.len(), 4);

    let after = c.view(Some(&known(&chain, SWITCH + 2)), Some(SWITCH + 2));
    assert_eq!(after.mode, Some(Mode::Pos));
    assert_eq!(after.epoch, Some((SWITCH + 2) / PosChain::EPOCH_LENGTH));
    assert_eq!(after.switch, Some(Switch { height: SWITCH, done: true }));
    assert_eq!((after.registry_height, after.registry_verified), (Some(SWITCH + 2), true));
    let set = after.validators.unwrap();
    assert_eq!(set.role, Role::Certifying);
    assert_eq!(set.set_hash, chain.set(SWITCH + 2).unwrap().hash().to_string());
    assert_eq!(set.total_power, 4 * PosChain::STAKE);
    assert!(set.members.iter().all(|m| m.share_bps == 2_500 && m.power == PosChain::STAKE));
    let mut stakers: Vec<String> = chain.stakers.iter().map(|a| a.to_string()).collect();
    let mut shown: Vec<String> = set.members.iter().map(|m| m.staker.clone()).collect();
    stakers.sort();
    shown.sort();
    assert_eq!(shown, stakers);

    let none = c.view(None, None);
    assert_eq!((none.mode, none.validators, none.switch), (None, None, None));
}

/// Proves shares are exact basis points and never divide by zero.
#[test]
fn shares_in_basis_points() {
    assert_eq!(share_bps(1, 3), 3_333);
    assert_eq!(share_bps(3, 3), 10_000);
    assert_eq!(share_bps(u64::MAX, u64::MAX), 10_000);
    assert_eq!(share_bps(1, 0), 0);
}
