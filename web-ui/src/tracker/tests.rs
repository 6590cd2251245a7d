//! The tracker on real chains built by `starling-core`'s block builder: honest
//! ones, and ones damaged in transit or by a lying sequencer.

use starling_wasm::test_chain::{CHAIN, TestChain, hex_of};

use super::*;

fn status(chain: &TestChain, height: u64) -> Status {
    Status {
        chain_id: CHAIN.into(),
        genesis_hash: chain.genesis.hash().to_string(),
        height,
        head_hash: chain.block(height).hash().to_string(),
        state_root: chain.block(height).header.state_root.to_string(),
        mode: "single".into(),
        peers: 0,
        sequencer: chain.sequencer_hex(),
    }
}

/// What `starling_getBlock` returns for `height`.
fn response(chain: &TestChain, height: u64) -> BlockResponse {
    BlockResponse {
        height,
        hash: chain.block(height).hash().to_string(),
        block: hex_of(chain.block(height)),
        witness: chain.witness(height).map(hex_of),
    }
}

/// Does what the page's poll loop does with one status.
fn poll(tracker: &mut Tracker, chain: &TestChain, height: u64) -> Vec<u64> {
    let heights = tracker.on_status(&status(chain, height)).unwrap();
    for &h in &heights {
        tracker.ingest(h, &response(chain, h)).expect("the tracker asked for this block");
    }
    heights
}

fn verdicts(tracker: &Tracker) -> Vec<(u64, &'static str)> {
    tracker.rows().iter().map(|r| (r.height, r.verdict.attr())).collect()
}

fn reason(tracker: &Tracker, height: u64) -> String {
    match tracker.rows().into_iter().find(|r| r.height == height).map(|r| r.verdict) {
        Some(Verdict::Rejected(reason)) => reason,
        other => panic!("block {height} is not rejected: {other:?}"),
    }
}

#[test]
fn follows_a_growing_chain_fetching_each_block_once() {
    let chain = TestChain::build(5, 7);
    let mut tracker = Tracker::new();
    assert_eq!(poll(&mut tracker, &chain, 3), vec![0, 1, 2, 3]);
    assert_eq!(
        verdicts(&tracker),
        vec![(3, "verified"), (2, "verified"), (1, "verified"), (0, "genesis")]
    );
    assert_eq!(poll(&mut tracker, &chain, 3), Vec::<u64>::new());
    assert_eq!(poll(&mut tracker, &chain, 5), vec![4, 5]);
    assert_eq!(tracker.rows()[0].summary.as_ref().unwrap().transactions.len(), 1);
    assert_eq!(tracker.anchor(), None, "a chain shorter than the window starts at genesis");
    let head = tracker.verified_head().unwrap();
    assert_eq!((head.height, &head.hash), (5, &chain.block(5).hash().to_string()));
}

#[test]
fn joins_a_long_chain_at_an_anchor_that_is_assumed_not_verified() {
    let chain = TestChain::build(30, 7);
    let mut tracker = Tracker::new();
    assert_eq!(poll(&mut tracker, &chain, 30), (11..=30).collect::<Vec<_>>());
    let rows = verdicts(&tracker);
    assert_eq!(rows.len(), WINDOW as usize);
    assert_eq!(rows.last(), Some(&(11, "anchor")), "the window's first block is the anchor");
    assert_eq!(rows[rows.len() - 2], (12, "verified"), "a child of the anchor is verified");
    assert!(rows[..rows.len() - 1].iter().all(|&(_, v)| v == "verified"), "{rows:?}");
    assert_eq!(tracker.anchor(), Some(11));
    assert_eq!(tracker.verified_head().unwrap().height, 30);
}

#[test]
fn the_anchor_s_state_root_is_the_trust_assumption() {
    // A lie at the anchor itself cannot be caught without the history before it:
    // the page says so by labelling the anchor "assumed" instead of "verified".
    let lying = TestChain::with_lie_at(30, 7, Some(11));
    let mut tracker = Tracker::new();
    poll(&mut tracker, &lying, 30);
    assert_eq!(tracker.rows().last().unwrap().verdict, Verdict::Anchor);
    assert_ne!(tracker.verified_head().unwrap().height, 11);
}

#[test]
fn an_anchor_with_a_bad_signature_is_rejected_and_so_is_everything_after_it() {
    let chain = TestChain::build(25, 7);
    let mut tracker = Tracker::new();
    let heights = tracker.on_status(&status(&chain, 25)).unwrap();
    let mut forged = chain.block(6).clone();
    forged.signature.0[0] ^= 1;
    let tampered = BlockResponse { block: hex_of(&forged), ..response(&chain, 6) };
    assert_eq!(heights[0], 6);
    tracker.ingest(6, &tampered).unwrap();
    for &h in &heights[1..] {
        tracker.ingest(h, &response(&chain, h)).unwrap();
    }
    assert!(reason(&tracker, 6).contains("signature"), "{}", reason(&tracker, 6));
    assert_eq!(reason(&tracker, 25), "builds on rejected block 6");
    assert_eq!((tracker.anchor(), tracker.verified_head()), (None, None));
}

#[test]
fn a_wrong_state_root_rejects_the_block_and_every_block_built_on_it() {
    // The sequencer signs block 2 with a false root and keeps building on it.
    // Blocks 3..5 are consistent with that false state, so each would pass on its
    // own; they must not be shown as verified.
    let lying = TestChain::with_lie_at(5, 7, Some(2));
    let mut tracker = Tracker::new();
    poll(&mut tracker, &lying, 5);
    assert_eq!(
        verdicts(&tracker),
        vec![
            (5, "rejected"),
            (4, "rejected"),
            (3, "rejected"),
            (2, "rejected"),
            (1, "verified"),
            (0, "genesis")
        ]
    );
    assert!(reason(&tracker, 2).contains("state root"), "{}", reason(&tracker, 2));
    for h in 3..=5 {
        assert_eq!(reason(&tracker, h), "builds on rejected block 2");
    }
    assert!(tracker.rows()[0].summary.is_some(), "rejected blocks still show what they claim");
    assert_eq!(tracker.verified_head().unwrap().height, 1, "the facts show the last good block");
}

#[test]
fn a_block_tampered_in_transit_is_rejected_and_so_are_its_descendants() {
    // The page cannot tell a transit fault from a bad block, and does not re-fetch:
    // nothing after a rejected block is called verified.
    let chain = TestChain::build(4, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 1);
    assert_eq!(tracker.on_status(&status(&chain, 4)).unwrap(), vec![2, 3, 4]);

    let mut forged = chain.block(2).clone();
    forged.signature.0[3] ^= 0x40;
    let tampered = BlockResponse { block: hex_of(&forged), ..response(&chain, 2) };
    let row = tracker.ingest(2, &tampered).unwrap();
    assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("signature")), "{row:?}");
    assert!(row.summary.is_some(), "a rejected block still shows what it claims");
    for h in [3, 4] {
        tracker.ingest(h, &response(&chain, h)).unwrap();
    }
    assert_eq!(
        verdicts(&tracker),
        vec![(4, "rejected"), (3, "rejected"), (2, "rejected"), (1, "verified"), (0, "genesis")]
    );
    assert_eq!(reason(&tracker, 4), "builds on rejected block 2");
}

#[test]
fn a_genesis_that_does_not_match_the_chain_is_rejected() {
    let chain = TestChain::build(1, 7);
    let other = TestChain::build(1, 9);
    let mut tracker = Tracker::new();
    tracker.on_status(&status(&chain, 1)).unwrap();
    let row = tracker.ingest(0, &response(&other, 0)).unwrap();
    assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("genesis")), "{row:?}");
}

#[test]
fn a_missing_witness_is_a_rejection_reason() {
    let chain = TestChain::build(1, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 0);
    tracker.on_status(&status(&chain, 1)).unwrap();
    let no_witness = BlockResponse { witness: None, ..response(&chain, 1) };
    let row = tracker.ingest(1, &no_witness).unwrap();
    assert_eq!(row.verdict, Verdict::Rejected("the node sent no witness for block 1".into()));
}

#[test]
fn an_undecodable_block_is_listed_with_the_node_s_hash() {
    let chain = TestChain::build(1, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 0);
    tracker.on_status(&status(&chain, 1)).unwrap();
    let garbage = BlockResponse { block: "0x0102".into(), ..response(&chain, 1) };
    let row = tracker.ingest(1, &garbage).unwrap();
    assert!(row.summary.is_none());
    assert_eq!(row.hash, chain.block(1).hash().to_string(), "falls back to the node's hash");
    assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.starts_with("block does not decode")));
}

#[test]
fn a_block_of_another_height_is_rejected_and_blocks_out_of_order_are_ignored() {
    let chain = TestChain::build(2, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 0);
    tracker.on_status(&status(&chain, 2)).unwrap();
    assert_eq!(tracker.ingest(2, &response(&chain, 2)), None, "block 1 comes first");
    let row = tracker.ingest(1, &response(&chain, 2)).unwrap();
    assert!(
        matches!(&row.verdict, Verdict::Rejected(r) if r.contains("asked for block 1")),
        "{row:?}"
    );
}

#[test]
fn the_chain_is_pinned_by_the_first_status_and_a_switch_stops_the_tracker() {
    let first = TestChain::build(2, 7);
    let second = TestChain::build(3, 9);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &first, 1);
    let err = tracker.on_status(&status(&second, 3)).unwrap_err();
    assert!(matches!(&err, StatusError::Switched(s) if s.changes.len() == 2), "{err:?}");
    assert!(err.to_string().contains("reload to follow it"), "{err}");
    // Stopped for good: not even the original chain is followed any more.
    assert!(tracker.on_status(&status(&first, 2)).is_err());
    assert_eq!(tracker.ingest(2, &response(&first, 2)), None);
    assert_eq!(verdicts(&tracker), vec![(1, "verified"), (0, "genesis")], "what was shown stays");
    assert_eq!(tracker.identity().unwrap().genesis_hash, first.genesis.hash().to_string());
}

#[test]
fn a_node_behind_the_page_gives_nothing_to_fetch_and_resets_nothing() {
    let chain = TestChain::build(5, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 5);
    assert_eq!(poll(&mut tracker, &chain, 2), Vec::<u64>::new());
    assert_eq!(tracker.rows().len(), 6);
}

#[test]
fn a_page_far_behind_catches_up_a_window_at_a_time_without_skipping() {
    let chain = TestChain::build(50, 7);
    let mut tracker = Tracker::new();
    poll(&mut tracker, &chain, 2);
    assert_eq!(poll(&mut tracker, &chain, 50), (3..=22).collect::<Vec<_>>());
    assert_eq!(poll(&mut tracker, &chain, 50), (23..=42).collect::<Vec<_>>());
    assert_eq!(poll(&mut tracker, &chain, 50), (43..=50).collect::<Vec<_>>());
    assert!(tracker.rows().iter().all(|r| r.verdict == Verdict::Verified));
    assert_eq!(tracker.anchor(), None);
}

#[test]
fn a_head_at_u64_max_neither_overflows_nor_allocates_without_bound() {
    let chain = TestChain::build(1, 7);
    let mut tracker = Tracker::new();
    let heights = tracker.on_status(&status_at(&chain, u64::MAX)).unwrap();
    assert_eq!(heights, ((u64::MAX - (WINDOW - 1))..=u64::MAX).collect::<Vec<_>>());
    let garbage = BlockResponse { block: "0x00".into(), ..response(&chain, 1) };
    for &h in &heights {
        tracker.ingest(h, &garbage).unwrap();
    }
    assert_eq!(tracker.rows()[0].height, u64::MAX);
    assert_eq!(tracker.on_status(&status_at(&chain, u64::MAX)).unwrap(), Vec::<u64>::new());
}

/// A status claiming a head the chain does not have.
fn status_at(chain: &TestChain, height: u64) -> Status {
    Status { height, ..status(chain, 1) }
}

#[test]
fn the_list_keeps_only_the_most_recent_window() {
    let chain = TestChain::build(25, 7);
    let mut tracker = Tracker::new();
    for h in [5, 12, 25] {
        poll(&mut tracker, &chain, h);
    }
    let rows = tracker.rows();
    assert_eq!(rows.len(), WINDOW as usize);
    assert_eq!((rows[0].height, rows[19].height), (25, 6));
    assert!(rows.iter().all(|r| r.verdict == Verdict::Verified));
}
