//! The chain of checks on real chains built by `starling-core`'s block builder:
//! honest ones, and ones damaged in transit or by a lying sequencer.

use super::*;
use crate::peer::verdict::Verdict;
use crate::test_chain::{CHAIN, TestChain};

fn identity(chain: &TestChain) -> ChainIdentity {
    ChainIdentity::parse(CHAIN, &chain.genesis.hash().to_string(), &chain.sequencer_hex()).unwrap()
}

/// What a peer serves for `height`.
fn synced(chain: &TestChain, height: u64) -> SyncedBlock {
    SyncedBlock {
        block: chain.block(height).clone(),
        witness: chain.witness(height).cloned(),
        certificate: None,
    }
}

/// A chain started at the head `head` claims, fed every block from there on.
fn follow(chain: &TestChain, head: u64) -> Chain {
    let mut c = Chain::new(identity(chain));
    let start = c.start(head);
    take(&mut c, chain, start..=head);
    c
}

fn take(c: &mut Chain, chain: &TestChain, heights: impl IntoIterator<Item = u64>) {
    for h in heights {
        c.ingest(&synced(chain, h)).expect("the chain expects this block");
    }
}

fn verdicts(c: &Chain) -> Vec<(u64, &'static str)> {
    c.rows().iter().map(|r| (r.height, r.verdict.attr())).collect()
}

fn reason(c: &Chain, height: u64) -> String {
    match c.row(height).map(|r| r.verdict.clone()) {
        Some(Verdict::Rejected(reason)) => reason,
        other => panic!("block {height} is not rejected: {other:?}"),
    }
}

/// Proves a short chain starts at genesis, verifies each block once, and shows
/// the newest verified block as the head.
#[test]
fn follows_a_growing_chain_from_genesis() {
    let chain = TestChain::build(5, 7);
    let mut c = follow(&chain, 3);
    assert_eq!(
        verdicts(&c),
        vec![(3, "verified"), (2, "verified"), (1, "verified"), (0, "genesis")]
    );
    assert_eq!(c.start(5), 4, "only the first start counts");
    take(&mut c, &chain, [4, 5]);
    assert_eq!(c.rows()[0].summary.as_ref().unwrap().transactions.len(), 1);
    assert_eq!(c.anchor(), None, "a chain shorter than the window starts at genesis");
    let head = c.verified_head().unwrap();
    assert_eq!((head.height, &head.hash), (5, &chain.block(5).hash().to_string()));
}

/// Proves a long chain is joined at the window's first block, which is labelled
/// an anchor (assumed), and the blocks after it are verified.
#[test]
fn joins_a_long_chain_at_an_anchor_that_is_assumed_not_verified() {
    let chain = TestChain::build(30, 7);
    let c = follow(&chain, 30);
    let rows = verdicts(&c);
    assert_eq!(rows.len(), WINDOW as usize);
    assert_eq!(rows.last(), Some(&(11, "anchor")), "the window's first block is the anchor");
    assert_eq!(rows[rows.len() - 2], (12, "verified"), "a child of the anchor is verified");
    assert!(rows[..rows.len() - 1].iter().all(|&(_, v)| v == "verified"), "{rows:?}");
    assert_eq!(c.anchor(), Some(11));
    assert_eq!(c.verified_head().unwrap().height, 30);
}

/// Proves a lie at the anchor itself is not caught (it cannot be without the
/// history before it): the anchor is labelled assumed, never verified.
#[test]
fn the_anchor_s_state_root_is_the_trust_assumption() {
    let lying = TestChain::with_lie_at(30, 7, Some(11));
    let c = follow(&lying, 30);
    assert_eq!(c.rows().last().unwrap().verdict, Verdict::Anchor);
    assert_ne!(c.verified_head().unwrap().height, 11);
}

/// Proves an anchor whose signature was damaged is rejected, and so is every
/// block after it; nothing is shown as verified or anchored.
#[test]
fn an_anchor_with_a_bad_signature_is_rejected_and_so_is_everything_after_it() {
    let chain = TestChain::build(25, 7);
    let mut c = Chain::new(identity(&chain));
    assert_eq!(c.start(25), 6);
    let mut forged = synced(&chain, 6);
    forged.block.signature.0[0] ^= 1;
    c.ingest(&forged).unwrap();
    take(&mut c, &chain, 7..=25);
    assert!(reason(&c, 6).contains("signature"), "{}", reason(&c, 6));
    assert_eq!(reason(&c, 25), "builds on rejected block 6");
    assert_eq!((c.anchor(), c.verified_head()), (None, None));
}

/// Proves a block signed with a false state root is rejected, and so is every
/// block built on it, though each of those is consistent with the false state.
#[test]
fn a_wrong_state_root_rejects_the_block_and_every_block_built_on_it() {
    let lying = TestChain::with_lie_at(5, 7, Some(2));
    let c = follow(&lying, 5);
    assert_eq!(
        verdicts(&c),
        vec![
            (5, "rejected"),
            (4, "rejected"),
            (3, "rejected"),
            (2, "rejected"),
            (1, "verified"),
            (0, "genesis")
        ]
    );
    assert!(reason(&c, 2).contains("state root"), "{}", reason(&c, 2));
    for h in 3..=5 {
        assert_eq!(reason(&c, h), "builds on rejected block 2");
    }
    assert!(c.rows()[0].summary.is_some(), "rejected blocks still show what they claim");
    assert_eq!(c.verified_head().unwrap().height, 1, "the facts show the last good block");
}

/// Proves a block whose signature was changed after signing is rejected with a
/// reason naming the signature, and its descendants are rejected because of it.
#[test]
fn a_tampered_block_is_rejected_and_so_are_its_descendants() {
    let chain = TestChain::build(4, 7);
    let mut c = follow(&chain, 1);
    let mut forged = synced(&chain, 2);
    forged.block.signature.0[3] ^= 0x40;
    let row = c.ingest(&forged).unwrap();
    assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("signature")), "{row:?}");
    take(&mut c, &chain, [3, 4]);
    assert_eq!(
        verdicts(&c),
        vec![(4, "rejected"), (3, "rejected"), (2, "rejected"), (1, "verified"), (0, "genesis")]
    );
    assert_eq!(reason(&c, 4), "builds on rejected block 2");
}

/// Proves a genesis that does not hash to the pinned genesis is rejected.
#[test]
fn a_genesis_that_does_not_match_the_chain_is_rejected() {
    let chain = TestChain::build(1, 7);
    let other = TestChain::build(1, 9);
    let mut c = Chain::new(identity(&chain));
    c.start(1);
    let row = c.ingest(&synced(&other, 0)).unwrap();
    assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("genesis")), "{row:?}");
}

/// Proves a block sent without its witness is rejected, saying so.
#[test]
fn a_missing_witness_is_a_rejection_reason() {
    let chain = TestChain::build(1, 7);
    let mut c = follow(&chain, 0);
    let no_witness = SyncedBlock { witness: None, ..synced(&chain, 1) };
    let row = c.ingest(&no_witness).unwrap();
    assert_eq!(row.verdict, Verdict::Rejected("the peer sent no witness for block 1".into()));
}

/// Proves blocks are taken only at the expected height: before the start, and
/// out of order, they are ignored.
#[test]
fn blocks_out_of_order_or_before_the_start_are_ignored() {
    let chain = TestChain::build(3, 7);
    let mut c = Chain::new(identity(&chain));
    assert_eq!(c.ingest(&synced(&chain, 0)), None, "not started");
    c.start(3);
    assert_eq!(c.ingest(&synced(&chain, 1)), None, "genesis comes first");
    take(&mut c, &chain, [0, 1]);
    assert_eq!(c.ingest(&synced(&chain, 3)), None, "block 2 comes first");
    assert_eq!(c.last_taken(), Some(1));
}

/// Proves a start at `u64::MAX` neither overflows nor takes anything after it.
#[test]
fn a_head_at_u64_max_neither_overflows_nor_allocates_without_bound() {
    let chain = TestChain::build(1, 7);
    let mut c = Chain::new(identity(&chain));
    assert_eq!(c.start(u64::MAX), u64::MAX - (WINDOW - 1));
    let mut block = synced(&chain, 1);
    for h in (u64::MAX - (WINDOW - 1))..=u64::MAX {
        block.block.header.height = h;
        c.ingest(&block).unwrap();
    }
    assert_eq!(c.rows()[0].height, u64::MAX);
    assert_eq!(c.next(), None, "nothing after u64::MAX");
    assert_eq!(c.ingest(&block), None);
}

/// Proves only the most recent window of rows is kept.
#[test]
fn the_list_keeps_only_the_most_recent_window() {
    let chain = TestChain::build(25, 7);
    let mut c = follow(&chain, 5);
    take(&mut c, &chain, 6..=25);
    let rows = c.rows();
    assert_eq!(rows.len(), WINDOW as usize);
    assert_eq!((rows[0].height, rows[19].height), (25, 6));
    assert!(rows.iter().all(|r| r.verdict == Verdict::Verified));
    assert!(c.row(5).is_none() && c.row(6).is_some());
}

/// Proves a block whose header names another chain is rejected even when the
/// sequencer's key signed it.
#[test]
fn a_block_of_another_chain_is_rejected() {
    let chain = TestChain::build(2, 7);
    let mut id = identity(&chain);
    id.chain_id = starling_core::types::ChainId::new("starling-other").unwrap();
    id.genesis_hash = chain.genesis.hash();
    let mut c = Chain::new(id);
    c.start(2);
    take(&mut c, &chain, [0, 1]);
    assert_eq!(c.row(0).unwrap().verdict, Verdict::Genesis);
    let why = reason(&c, 1);
    assert!(why.contains("chain"), "{why}");
}

// --- proof of stake ---------------------------------------------------------------

mod pos {
    use starling_core::staking::Mode;

    use super::*;
    use crate::Finality;
    use crate::test_chain::PosChain;

    const SWITCH: u64 = PosChain::SWITCH;

    fn identity(chain: &PosChain) -> ChainIdentity {
        ChainIdentity::parse(CHAIN, &chain.genesis.hash().to_string(), &chain.sequencer_hex())
            .unwrap()
    }

    /// A chain started at the head `head` claims, fed `chain`'s blocks up to it.
    fn follow(chain: &PosChain, head: u64) -> Chain {
        let mut c = Chain::new(identity(chain));
        let start = c.start(head);
        take(&mut c, chain, start..=head);
        c
    }

    fn take(c: &mut Chain, chain: &PosChain, heights: impl IntoIterator<Item = u64>) {
        for h in heights {
            c.ingest(&chain.synced(h)).expect("the chain expects this block");
        }
    }

    fn certified(signers: usize) -> Finality {
        let total = 4 * PosChain::STAKE;
        Finality::Certified {
            round: 0,
            signers,
            power: signers as u64 * PosChain::STAKE,
            total_power: total,
            validators: 4,
        }
    }

    /// Proves the page follows a chain from genesis across the switch to proof
    /// of stake: the sequencer's blocks are final by its signature, every block
    /// from the switch on is verified with a certificate of all four validators,
    /// and the page holds the verified registry, in proof of stake.
    #[test]
    fn follows_a_chain_across_the_switch_to_proof_of_stake() {
        let chain = PosChain::build(SWITCH as usize + 4);
        let head = SWITCH + 4;
        assert_eq!(chain.block(SWITCH - 1).header.validators, starling_core::types::Hash::ZERO);
        assert_ne!(chain.block(SWITCH).header.validators, starling_core::types::Hash::ZERO);
        let c = follow(&chain, head);
        for row in c.rows() {
            match row.height {
                0 => assert_eq!(row.verdict, Verdict::Genesis),
                h if h < SWITCH => assert_eq!(
                    (&row.verdict, &row.finality),
                    (&Verdict::Verified, &Some(Finality::Sequencer)),
                    "block {h}"
                ),
                h => assert_eq!(
                    (&row.verdict, &row.finality),
                    (&Verdict::Verified, &Some(certified(4))),
                    "block {h}"
                ),
            }
        }
        assert_eq!(c.finalized(), Some(head));
        assert_eq!(c.verified_head().unwrap().height, head);
        let known = c.registry().unwrap();
        assert_eq!((known.height, known.verified), (head, true));
        assert_eq!(known.registry.mode(), Mode::Pos);
        assert_eq!(known.registry.mode_since().since_epoch * PosChain::EPOCH_LENGTH, SWITCH);
    }

    /// Proves a proof-of-stake block that comes without its certificate is
    /// rejected, though the block itself is valid, and so is every block after it.
    #[test]
    fn a_pos_block_without_its_certificate_is_rejected_and_so_are_its_descendants() {
        let chain = PosChain::build(SWITCH as usize + 3);
        let mut c = follow(&chain, SWITCH);
        let bare = SyncedBlock { certificate: None, ..chain.synced(SWITCH + 1) };
        let row = c.ingest(&bare).unwrap();
        assert_eq!(
            row.verdict,
            Verdict::Rejected(format!(
                "proof-of-stake block {} came without its commit certificate",
                SWITCH + 1
            ))
        );
        assert_eq!(row.finality, None);
        take(&mut c, &chain, [SWITCH + 2, SWITCH + 3]);
        assert_eq!(reason(&c, SWITCH + 3), format!("builds on rejected block {}", SWITCH + 1));
        assert_eq!(c.finalized(), Some(SWITCH), "the last final block is the one before");
    }

    /// Proves certificates that do not make the block final are rejected: short
    /// of a quorum (two of four), for another block, with a forged precommit,
    /// and a single-stage certificate's worth of nothing (no signatures).
    #[test]
    fn certificates_that_do_not_make_the_block_final_are_rejected() {
        let chain = PosChain::build(SWITCH as usize + 1);
        let height = SWITCH + 1;
        let set = chain.set(height).unwrap();
        let block = chain.block(height);
        let short = chain.certify(set, block, 2);
        let of_parent = chain.certify(set, chain.block(SWITCH), 4);
        let mut forged = chain.certify(set, block, 4);
        forged.signatures[1].signature = forged.signatures[0].signature;
        let mut empty = chain.certify(set, block, 4);
        empty.signatures.clear();
        let cases = [
            (short, "not more than 2/3"),
            (of_parent, "certificate is for height"),
            (forged, "precommit of validator #1"),
            (empty, "0 of 512 power"),
        ];
        for (certificate, expected) in cases {
            let mut c = follow(&chain, SWITCH);
            let bad = SyncedBlock { certificate: Some(certificate), ..chain.synced(height) };
            let why = match c.ingest(&bad).unwrap().verdict {
                Verdict::Rejected(why) => why,
                other => panic!("accepted with a bad certificate: {other:?}"),
            };
            assert!(why.starts_with("commit certificate: "), "{why}");
            assert!(why.contains(expected), "{why} should say {expected}");
        }
        // The honest certificate passes on the same parent.
        let mut c = follow(&chain, SWITCH);
        assert_eq!(c.ingest(&chain.synced(height)).unwrap().verdict, Verdict::Verified);
    }

    /// Proves a certificate signed by three of four (more than two thirds of the
    /// power) is enough, and the row says how much signed.
    #[test]
    fn three_of_four_validators_make_a_block_final() {
        let chain = PosChain::build(SWITCH as usize + 1);
        let height = SWITCH + 1;
        let three = chain.certify(chain.set(height).unwrap(), chain.block(height), 3);
        let mut c = follow(&chain, SWITCH);
        let row = c.ingest(&SyncedBlock { certificate: Some(three), ..chain.synced(height) });
        let row = row.unwrap();
        assert_eq!((row.verdict, row.finality), (Verdict::Verified, Some(certified(3))));
    }

    /// Proves a proof-of-stake block signed by a key outside the set (here the
    /// old sequencer, whose blocks the page accepted until the switch) is
    /// rejected.
    #[test]
    fn a_pos_block_signed_by_the_old_sequencer_is_rejected() {
        let chain = PosChain::build(SWITCH as usize);
        let mut c = follow(&chain, SWITCH - 1);
        let good = chain.block(SWITCH);
        let header = starling_core::types::Header {
            proposer: chain.sequencer.public_key(),
            ..good.header.clone()
        };
        let forged = header.seal_with(&chain.sequencer, good.transactions.clone(), None);
        let synced = SyncedBlock { block: forged, ..chain.synced(SWITCH) };
        let why = match c.ingest(&synced).unwrap().verdict {
            Verdict::Rejected(why) => why,
            other => panic!("{other:?}"),
        };
        assert!(why.contains("not in the validator set"), "{why}");
    }

    /// Proves a page joining a long proof-of-stake chain takes its anchor with
    /// the anchor's certificate checked against the set the header names (read
    /// from the registry in the anchor's witness, assumed with it), and verifies
    /// the blocks after it.
    #[test]
    fn joins_a_pos_chain_at_a_certified_anchor() {
        let head = SWITCH + WINDOW + 1;
        let chain = PosChain::build(head as usize);
        let c = follow(&chain, head);
        let anchor = head - (WINDOW - 1);
        assert_eq!(c.anchor(), Some(anchor));
        let rows = c.rows();
        assert_eq!(rows.last().unwrap().verdict, Verdict::Anchor);
        assert_eq!(rows.last().unwrap().finality, Some(certified(4)));
        assert!(rows[..rows.len() - 1].iter().all(|r| r.verdict == Verdict::Verified));
        assert_eq!(c.finalized(), Some(head));
        assert!(c.registry().unwrap().verified, "the registry of a verified block");
    }

    /// Proves a proof-of-stake anchor without a certificate, with a bad one, or
    /// without the registry that names its set, is rejected.
    #[test]
    fn a_pos_anchor_must_be_certified() {
        let head = SWITCH + WINDOW + 1;
        let chain = PosChain::build(head as usize);
        let anchor = head - (WINDOW - 1);
        let set = chain.set(anchor).unwrap();
        let short = chain.certify(set, chain.block(anchor), 2);
        let cases = [
            (SyncedBlock { certificate: None, ..chain.synced(anchor) }, "without its commit"),
            (SyncedBlock { certificate: Some(short), ..chain.synced(anchor) }, "2/3"),
            (SyncedBlock { witness: None, ..chain.synced(anchor) }, "no staking registry"),
        ];
        for (synced, expected) in cases {
            let mut c = Chain::new(identity(&chain));
            c.start(head);
            let row = c.ingest(&synced).unwrap();
            assert!(
                matches!(&row.verdict, Verdict::Rejected(why) if why.contains(expected)),
                "{:?} should say {expected}",
                row.verdict
            );
            assert_eq!(c.anchor(), None);
        }
    }

    /// Proves the registry the page holds before the switch says when it comes.
    #[test]
    fn the_registry_before_the_switch_schedules_it() {
        let chain = PosChain::build(5);
        let c = follow(&chain, 5);
        let known = c.registry().unwrap();
        assert_eq!(known.registry.mode(), Mode::Single);
        assert_eq!(known.registry.mode_at(SWITCH / PosChain::EPOCH_LENGTH), Some(Mode::Pos));
        assert_eq!(c.finalized(), Some(5), "sequencer blocks are final by their signature");
    }
}
