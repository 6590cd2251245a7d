//! The follower on real chains built by `starling-core`'s block builder, driven
//! the way the browser's event loop drives it.

use starling_core::crypto::SequencerKey;
use starling_core::encoding::Message;
use starling_net::libp2p::identity::Keypair;

use super::*;
use crate::peer::chain::WINDOW;
use crate::peer::verdict::Verdict;
use crate::test_chain::{CHAIN, TestChain};

fn peer(i: u8) -> PeerId {
    Keypair::ed25519_from_bytes([i; 32]).unwrap().public().to_peer_id()
}

fn follower(chain: &TestChain) -> Follower {
    let id = ChainIdentity::parse(CHAIN, &chain.genesis.hash().to_string(), &chain.sequencer_hex())
        .unwrap();
    Follower::new(id, chain.genesis.clone())
}

fn status(chain: &TestChain, head: u64) -> PeerStatus {
    PeerStatus {
        genesis_hash: chain.genesis.hash(),
        head_height: head,
        head_hash: chain.block(head).hash(),
        snapshot_height: None,
    }
}

/// What a full node serves for `from..from + count`.
fn served(chain: &TestChain, from: u64, count: u32) -> Vec<SyncedBlock> {
    (from..from + u64::from(count))
        .map(|h| SyncedBlock {
            block: chain.block(h).clone(),
            witness: chain.witness(h).cloned(),
            certificate: None,
        })
        .collect()
}

/// The gossip payload announcing the block at `height`.
fn header(chain: &TestChain, height: u64) -> Vec<u8> {
    SignedHeader::of(chain.block(height)).encode_message()
}

fn id(i: u8) -> MessageId {
    MessageId::new(&[i])
}

/// Answers every request the follower makes from `chain`, as an honest peer does.
fn serve_all(f: &mut Follower, chain: &TestChain, now: u64) {
    while let Some((p, request)) = f.poll(now) {
        let SyncRequest::Blocks { from, count, witnesses: true } = request else {
            panic!("the browser asks for blocks with witnesses, not {request:?}");
        };
        f.on_blocks(p, &served(chain, from, count), now).unwrap();
    }
}

fn acceptances(f: &mut Follower) -> Vec<(MessageId, MessageAcceptance)> {
    f.take_validations().into_iter().map(|v| (v.id, v.acceptance)).collect()
}

/// Proves a peer's status of a short chain starts the follower at the
/// bootstrap genesis, and the blocks after it are asked for with witnesses from
/// that peer and verified.
#[test]
fn a_short_chain_starts_at_genesis_and_asks_for_the_rest() {
    let chain = TestChain::build(5, 7);
    let mut f = follower(&chain);
    assert_eq!(f.poll(0), None, "nothing to ask before a peer claims a head");
    f.on_status(peer(1), &status(&chain, 5)).unwrap();
    assert_eq!(
        f.poll(0),
        Some((peer(1), SyncRequest::Blocks { from: 1, count: 5, witnesses: true }))
    );
    assert_eq!(f.on_blocks(peer(1), &served(&chain, 1, 5), 1), Ok(5));
    let rows: Vec<_> = f.chain().rows().iter().map(|r| r.verdict.attr()).collect();
    assert_eq!(rows, ["verified", "verified", "verified", "verified", "verified", "genesis"]);
    assert_eq!(f.claimed_head(), Some(5));
    assert_eq!(f.poll(2), None, "nothing more to ask");
}

/// Proves a long chain is joined at the anchor, a window below the head.
#[test]
fn a_long_chain_is_joined_at_the_anchor() {
    let chain = TestChain::build(30, 7);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 30)).unwrap();
    let (p, request) = f.poll(0).unwrap();
    assert_eq!(request, SyncRequest::Blocks { from: 11, count: WINDOW as u32, witnesses: true });
    f.on_blocks(p, &served(&chain, 11, WINDOW as u32), 0).unwrap();
    assert_eq!(f.chain().anchor(), Some(11));
    assert_eq!(f.chain().verified_head().unwrap().height, 30);
}

/// Proves a peer whose status names another genesis is refused and starts
/// nothing.
#[test]
fn a_peer_of_another_chain_is_refused() {
    let chain = TestChain::build(2, 7);
    let other = TestChain::build(2, 9);
    let mut f = follower(&chain);
    let err = f.on_status(peer(1), &status(&other, 2)).unwrap_err();
    assert_eq!(err.found, other.genesis.hash());
    assert!(!f.chain().is_started());
    assert_eq!(f.poll(0), None);
}

/// Proves headers that do not decode, are signed by another key, or are for
/// another chain are rejected at once, and claim nothing.
#[test]
fn bad_headers_are_rejected_at_once() {
    let chain = TestChain::build(2, 7);
    let impostor = TestChain::build(2, 9);
    let mut forged = SignedHeader::of(chain.block(2));
    forged.signature.0[0] ^= 1;
    let mut f = follower(&chain);
    f.on_header(peer(1), id(1), &[1, 2, 3], 0);
    f.on_header(peer(1), id(2), &forged.encode_message(), 0);
    f.on_header(peer(1), id(3), &header(&impostor, 2), 0);
    let other_key = SequencerKey::from_seed(&[42; 32]);
    let resigned = SignedHeader::of(&chain.block(2).header.clone().seal(&other_key, vec![]));
    f.on_header(peer(1), id(4), &resigned.encode_message(), 0);
    assert_eq!(
        acceptances(&mut f),
        (1..=4).map(|i| (id(i), MessageAcceptance::Reject)).collect::<Vec<_>>()
    );
    assert_eq!(f.claimed_head(), None);
    assert!(!f.chain().is_started());
}

/// Proves a valid header is held until its block is fetched and verified, then
/// accepted; and a header of a block already taken is decided at once.
#[test]
fn a_header_is_accepted_only_after_its_block_verified() {
    let chain = TestChain::build(4, 7);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 2)).unwrap();
    serve_all(&mut f, &chain, 0);
    f.on_header(peer(1), id(3), &header(&chain, 3), 1);
    assert_eq!(acceptances(&mut f), vec![], "held until block 3 is checked");
    assert_eq!(f.claimed_head(), Some(3));
    let (_, request) = f.poll(1).unwrap();
    assert_eq!(request, SyncRequest::Blocks { from: 3, count: 1, witnesses: true });
    f.on_blocks(peer(1), &served(&chain, 3, 1), 2).unwrap();
    assert_eq!(acceptances(&mut f), vec![(id(3), MessageAcceptance::Accept)]);
    f.on_header(peer(2), id(2), &header(&chain, 2), 3);
    assert_eq!(acceptances(&mut f), vec![(id(2), MessageAcceptance::Accept)]);
}

/// Proves the header of a block that failed verification (a sequencer that
/// signed a false state root, and a block built on it) is rejected, not forwarded.
#[test]
fn a_header_of_a_rejected_block_is_rejected() {
    let lying = TestChain::with_lie_at(3, 7, Some(2));
    let mut f = follower(&lying);
    f.on_status(peer(1), &status(&lying, 1)).unwrap();
    serve_all(&mut f, &lying, 0);
    f.on_header(peer(1), id(2), &header(&lying, 2), 1);
    f.on_header(peer(1), id(3), &header(&lying, 3), 1);
    serve_all(&mut f, &lying, 2);
    assert_eq!(
        acceptances(&mut f),
        vec![(id(2), MessageAcceptance::Reject), (id(3), MessageAcceptance::Reject)]
    );
    assert!(matches!(f.chain().row(2).unwrap().verdict, Verdict::Rejected(_)));
}

/// Proves headers this browser cannot judge are ignored: another block at a
/// height it took, and a block below where it started.
#[test]
fn headers_it_cannot_judge_are_ignored() {
    let chain = TestChain::build(30, 7);
    let fork = TestChain::build(30, 9);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 30)).unwrap();
    serve_all(&mut f, &chain, 0);
    // Same key, another chain of blocks: a signed header at a height already taken.
    let mut fork_header = SignedHeader::of(fork.block(20));
    fork_header.header.proposer = chain.sequencer.public_key();
    fork_header.signature = chain.sequencer.sign(&fork_header.hash().0);
    f.on_header(peer(1), id(1), &fork_header.encode_message(), 1);
    f.on_header(peer(1), id(2), &header(&chain, 5), 1);
    assert_eq!(
        acceptances(&mut f),
        vec![(id(1), MessageAcceptance::Ignore), (id(2), MessageAcceptance::Ignore)]
    );
}

/// Proves held headers are bounded and expire: the oldest is ignored when the
/// queue is full, and the rest once their block did not come in time.
#[test]
fn held_headers_are_bounded_and_expire() {
    let chain = TestChain::build(1, 7);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 0)).unwrap();
    let mut far = SignedHeader::of(chain.block(1));
    for i in 0..=MAX_ANNOUNCED as u64 {
        far.header.height = 100 + i;
        far.signature = chain.sequencer.sign(&far.hash().0);
        f.on_header(peer(1), MessageId::new(&i.to_le_bytes()), &far.encode_message(), 0);
    }
    let evicted = acceptances(&mut f);
    assert_eq!(evicted, vec![(MessageId::new(&0u64.to_le_bytes()), MessageAcceptance::Ignore)]);
    f.expire(ANNOUNCED_TTL_MS);
    assert_eq!(acceptances(&mut f), vec![], "not expired yet");
    f.expire(ANNOUNCED_TTL_MS + 1);
    let expired = acceptances(&mut f);
    assert_eq!(expired.len(), MAX_ANNOUNCED);
    assert!(expired.iter().all(|(_, a)| *a == MessageAcceptance::Ignore));
}

/// Proves an answer that is not the range asked for is refused and the peer is
/// asked again after a rest, and an answer from a peer not asked is ignored.
#[test]
fn wrong_answers_are_refused_and_asked_again() {
    let chain = TestChain::build(3, 7);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 3)).unwrap();
    f.poll(0).unwrap();
    assert_eq!(f.on_blocks(peer(2), &served(&chain, 1, 3), 0), Err(BadAnswer::NotAsked));
    let skipped = served(&chain, 2, 2);
    assert!(matches!(
        f.on_blocks(peer(1), &skipped, 0),
        Err(BadAnswer::WrongRange { first: Some(2), count: 2, .. })
    ));
    assert_eq!(f.on_blocks(peer(1), &[], 0), Err(BadAnswer::NotAsked), "nothing in flight now");
    assert_eq!(f.poll(1), None, "the peer rests");
    assert!(f.poll(SYNC.rest_ms).is_some(), "and is asked again");
    assert_eq!(f.chain().last_taken(), Some(0), "nothing from the bad answer was taken");
}

/// Proves a refusal and a failure each rest the peer, and a disconnect forgets it.
#[test]
fn refusals_failures_and_disconnects() {
    let chain = TestChain::build(3, 7);
    let mut f = follower(&chain);
    f.on_status(peer(1), &status(&chain, 3)).unwrap();
    f.on_status(peer(2), &status(&chain, 3)).unwrap();
    let (first, _) = f.poll(0).unwrap();
    f.on_refused(first, 0);
    let (second, _) = f.poll(1).unwrap();
    assert_ne!(first, second, "the refusing peer's claim is forgotten");
    f.on_failed(second, 1);
    assert_eq!(f.poll(2), None, "the failing peer rests");
    f.peer_gone(&second);
    assert_eq!(f.poll(SYNC.rest_ms + 2), None, "a gone peer is not asked");
}

// --- proof of stake ---------------------------------------------------------------

mod pos {
    use starling_core::consensus::{VoteKind, proposer};
    use starling_core::types::Hash;

    use super::*;
    use crate::Finality;
    use crate::test_chain::PosChain;

    const SWITCH: u64 = PosChain::SWITCH;

    fn follower(chain: &PosChain) -> Follower {
        let genesis = chain.genesis.hash().to_string();
        let id = ChainIdentity::parse(CHAIN, &genesis, &chain.sequencer_hex()).unwrap();
        Follower::new(id, chain.genesis.clone())
    }

    fn status(chain: &PosChain, head: u64) -> PeerStatus {
        PeerStatus {
            genesis_hash: chain.genesis.hash(),
            head_height: head,
            head_hash: chain.block(head).hash(),
            snapshot_height: None,
        }
    }

    fn serve_all(f: &mut Follower, chain: &PosChain, now: u64) {
        while let Some((p, request)) = f.poll(now) {
            let SyncRequest::Blocks { from, count, .. } = request else { panic!("{request:?}") };
            let blocks: Vec<SyncedBlock> =
                (from..from + u64::from(count)).map(|h| chain.synced(h)).collect();
            f.on_blocks(p, &blocks, now).unwrap();
        }
    }

    fn header(chain: &PosChain, height: u64) -> Vec<u8> {
        SignedHeader::of(chain.block(height)).encode_message()
    }

    /// Proves the follower crosses the switch: a header signed by its
    /// validator-proposer is held like the sequencer's, then accepted once its
    /// block verified with its certificate.
    #[test]
    fn validator_signed_headers_are_followed_past_the_switch() {
        let chain = PosChain::build(SWITCH as usize + 3);
        let mut f = follower(&chain);
        f.on_status(peer(1), &status(&chain, SWITCH - 2)).unwrap();
        serve_all(&mut f, &chain, 0);
        for height in SWITCH - 1..=SWITCH + 3 {
            f.on_header(peer(1), id(height as u8), &header(&chain, height), 1);
            assert_eq!(acceptances(&mut f), vec![], "block {height} is held");
            serve_all(&mut f, &chain, 2);
            assert_eq!(acceptances(&mut f), vec![(id(height as u8), MessageAcceptance::Accept)]);
        }
        let row = f.chain().row(SWITCH + 3).unwrap();
        assert_eq!(row.verdict, Verdict::Verified);
        assert!(matches!(row.finality, Some(Finality::Certified { signers: 4, .. })));
        assert_eq!(f.chain().finalized(), Some(SWITCH + 3));
    }

    /// Proves a proof-of-stake header is rejected when its signer may not sign
    /// it: before the page holds a registry, only a bad signature over its own
    /// proposer counts; once it holds one, a header signed by a key outside the
    /// set, naming another set, or claiming the sequencer at a validators' height.
    #[test]
    fn headers_whose_signer_may_not_sign_are_rejected() {
        let chain = PosChain::build(SWITCH as usize + 2);
        let outsider = SequencerKey::from_seed(&[77; 32]);
        let target = chain.block(SWITCH + 2);
        let signed_by = |key: &SequencerKey, validators: Hash| {
            let header = starling_core::types::Header {
                proposer: key.public_key(),
                validators,
                ..target.header.clone()
            };
            SignedHeader::of(&header.seal(key, vec![])).encode_message()
        };
        // No registry yet: a header naming a set is checked against its proposer.
        let mut fresh = follower(&chain);
        fresh.on_header(peer(1), id(1), &signed_by(&outsider, target.header.validators), 0);
        let mut forged = SignedHeader::of(target);
        forged.signature.0[0] ^= 1;
        fresh.on_header(peer(1), id(2), &forged.encode_message(), 0);
        assert_eq!(acceptances(&mut fresh), vec![(id(2), MessageAcceptance::Reject)]);

        let mut f = follower(&chain);
        f.on_status(peer(1), &status(&chain, SWITCH)).unwrap();
        serve_all(&mut f, &chain, 0);
        assert!(f.chain().registry().is_some());
        f.on_header(peer(1), id(3), &signed_by(&outsider, target.header.validators), 0);
        f.on_header(peer(1), id(4), &signed_by(&chain.sequencer, Hash::ZERO), 0);
        let member = chain.key_of(target.header.proposer);
        f.on_header(peer(1), id(5), &signed_by(member, Hash([7; 32])), 0);
        f.on_header(peer(1), id(6), &header(&chain, SWITCH + 2), 0);
        assert_eq!(
            acceptances(&mut f),
            (3..=5).map(|i| (id(i), MessageAcceptance::Reject)).collect::<Vec<_>>(),
            "the honest header (6) is held for its block"
        );
    }

    /// Proves the follower routes proposals and votes to the consensus view and
    /// answers gossip for each: a valid vote and proposal are accepted, a forged
    /// one rejected; the view then shows the tally, the round's proposer and,
    /// once the block verified, its finality latency.
    #[test]
    fn proposals_and_votes_are_checked_tallied_and_timed() {
        let chain = PosChain::build(SWITCH as usize + 2);
        let mut f = follower(&chain);
        f.on_status(peer(1), &status(&chain, SWITCH + 1)).unwrap();
        serve_all(&mut f, &chain, 0);
        let height = SWITCH + 2;
        let set = chain.set(height).unwrap();
        let proposer_key = chain.key_of(proposer(set, height, 0).key);
        let proposal = chain.proposal(proposer_key, height, 0).encode_message();
        f.on_proposal(peer(1), id(1), &proposal, 1_000);
        for (i, v) in set.validators().iter().enumerate() {
            let vote = chain.vote(chain.key_of(v.key), height, 0, VoteKind::Prevote, None);
            f.on_vote(peer(1), id(10 + i as u8), &vote.encode_message());
        }
        let mut forged = chain.vote(proposer_key, height, 0, VoteKind::Precommit, None);
        forged.vote.round = 9;
        f.on_vote(peer(1), id(20), &forged.encode_message());
        let got = acceptances(&mut f);
        assert_eq!(got.len(), 6);
        assert!(got[..5].iter().all(|(_, a)| *a == MessageAcceptance::Accept), "{got:?}");
        assert_eq!(got[5], (id(20), MessageAcceptance::Reject));

        f.on_status(peer(1), &status(&chain, height)).unwrap();
        serve_all(&mut f, &chain, 1_750);
        let view = f.consensus_view();
        assert_eq!(view.finalized, Some(height));
        assert_eq!(view.latency.unwrap().median_ms, 750);
        assert_eq!(view.tallies[0].prevotes.count, 4);
        let latest = view.latest.unwrap();
        assert_eq!(latest.proposer, Some(proposer_key.public_key().to_string()));
        assert!(latest.proposal_seen);
        assert_eq!(view.validators.unwrap().members.len(), 4);
    }
}
