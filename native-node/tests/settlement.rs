//! The settlement verifier against the real binary: provers (`starling prove`,
//! `starling prover`, `devnet --provers`) prove committed blocks over HTTP, the
//! node verifies every proof against its own blocks, the proven height follows
//! the finalized height, bad proofs change nothing, and settled proofs survive
//! a kill -9.

mod common;

use std::io::Read;

use common::{Daemon, Prover, demo_key, metric_at, prove_with_cli};
use serde_json::{Value, json};

fn proven_height(d: &Daemon) -> u64 {
    d.result("starling_status", json!([]))["proven_height"].as_u64().unwrap()
}

/// Posts `body` as a proof of block `height`; returns the HTTP status and answer.
fn submit(d: &Daemon, height: u64, body: &[u8]) -> (u16, Value) {
    let url = format!("{}proofs/{height}", d.url);
    match ureq::post(&url).send_bytes(body) {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
        Err(e) => panic!("cannot reach {url}: {e}"),
    }
}

/// A bad submission: what it is, the height it claims, its bytes, the HTTP
/// status it must get and the reasons that may be given.
type Refusal<'a> = (&'a str, u64, &'a [u8], u16, &'a [&'a str]);

fn reward_address() -> String {
    demo_key().public_key().address().to_string()
}

/// Proves a proof made by `starling prove` settles only for its own block,
/// that truncated, tampered, misplaced, early and repeated submissions are
/// refused with their reasons and settle nothing, that a prover worker then
/// brings the proven height up to the finalized height, and that settled
/// proofs and the proven height survive a kill -9.
#[test]
fn proofs_settle_blocks_and_bad_proofs_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::devnet(dir.path(), &["--block-time-ms", "300"]);
    d.wait_for(60, "three blocks", |d| d.height() >= 3);
    assert_eq!(proven_height(&d), 0, "nothing is proven before a prover comes");

    let proof = prove_with_cli(&d, 1, &reward_address(), dir.path());

    let mut tampered = proof.clone();
    tampered[proof.len() / 2] ^= 0x40;
    let refusals: [Refusal; 5] = [
        ("truncated", 1, &proof[..proof.len() / 2], 422, &["malformed"]),
        ("tampered", 1, &tampered, 422, &["malformed", "invalid"]),
        ("for another block", 2, &proof, 422, &["invalid"]),
        ("for an unknown job", 1_000_000, &proof, 409, &["future"]),
        ("empty", 1, &[], 422, &["malformed"]),
    ];
    for (what, height, body, status, reasons) in refusals {
        let (code, answer) = submit(&d, height, body);
        assert_eq!(code, status, "{what}: {answer}");
        assert_eq!(answer["accepted"], false, "{what}: {answer}");
        let reason = answer["reason"].as_str().unwrap();
        assert!(reasons.contains(&reason), "{what}: reason {reason}: {answer}");
        assert!(!answer["error"].as_str().unwrap().is_empty(), "{what}: no explanation");
    }
    assert_eq!(proven_height(&d), 0, "a refused proof settles nothing");
    assert_eq!(metric_at(&d.url, "starling_proofs_accepted_total"), 0.0);
    let missing = ureq::get(&format!("{}proofs/1", d.url)).call();
    assert!(matches!(missing, Err(ureq::Error::Status(404, _))), "no proof is served yet");

    let (code, answer) = submit(&d, 1, &proof);
    assert_eq!((code, answer["accepted"].clone()), (200, json!(true)), "{answer}");
    assert_eq!(answer["proven_height"], 1);
    let (code, answer) = submit(&d, 1, &proof);
    assert_eq!((code, answer["reason"].clone()), (409, json!("duplicate")), "{answer}");

    let _prover = Prover::start(&d, &reward_address());
    let target = d.height() + 3;
    d.wait_for(120, "the proven height to pass the finalized height seen", |d| {
        proven_height(d) >= target
    });
    let proven = proven_height(&d);
    assert!(proven <= d.height(), "only committed blocks are proven");
    d.wait_for(5, "the metric to show it", |d| {
        metric_at(&d.url, "starling_proven_height") >= target as f64
    });

    d.kill();
    let d = Daemon::devnet(dir.path(), &["--block-time-ms", "300"]);
    assert!(proven_height(&d) >= proven, "the proven height survives a kill -9");
    let served = ureq::get(&format!("{}proofs/1", d.url)).call().unwrap();
    let mut bytes = Vec::new();
    served.into_reader().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, proof, "the settled proof is served as it was verified");
}

/// Proves `starling devnet --provers 1` proves every block as it is finalized:
/// the proven height keeps following the head.
#[test]
fn devnet_provers_follow_the_finalized_height() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::devnet(dir.path(), &["--block-time-ms", "400", "--provers", "1"]);
    d.wait_for(120, "ten proven blocks", |d| proven_height(d) >= 10);
    let head = d.height();
    d.wait_for(60, "the proven height to reach the head seen", |d| proven_height(d) >= head);
}

/// Proves proofs travel between nodes: with two validators and one prover
/// (which works against validator 0 only), validator 1 settles the same blocks
/// from the announcements it receives, fetching and verifying each proof itself.
#[test]
fn settled_proofs_reach_the_other_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--block-time-ms", "400", "--provers", "1"];
    let (mut devnet, _, urls) = common::Watched::validator_devnet(dir.path(), 2, &flags);
    let proven = |url: &str| {
        let status = Daemon::try_call(&format!("{url}rpc"), "starling_status", json!([]));
        status.and_then(|s| s["result"]["proven_height"].as_u64()).unwrap_or(0)
    };
    devnet.wait_until(180, "validator 0 to prove five blocks", |_| proven(&urls[0]) >= 5);
    devnet.wait_until(60, "validator 1 to settle them from gossip", |_| proven(&urls[1]) >= 5);
    assert!(metric_at(&urls[1], "starling_proofs_accepted_total") >= 5.0);
    let _ = devnet.terminate(30);
}

/// Proves a node that missed proofs' announcements still settles those
/// blocks: a follower that joins after the devnet has proven several blocks
/// (their announcements long gone) asks its peer for the proof of its lowest
/// unsettled block, verifies each itself and catches up.
#[test]
fn a_node_that_joins_late_catches_up_on_missed_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let seq_dir = dir.path().join("seq");
    let flags = ["--block-time-ms", "400", "--provers", "1", "--no-discovery"];
    let seq = Daemon::devnet(&seq_dir, &flags);
    seq.wait_for(120, "five proven blocks", |d| proven_height(d) >= 5);
    let proven_before_join = proven_height(&seq);
    let genesis = seq_dir.join("genesis.json");
    let late = Daemon::follower(&dir.path().join("late"), &genesis, &seq.p2p_addr("tcp"));
    late.wait_for(120, "the late follower to settle what was proven before it joined", |d| {
        proven_height(d) >= proven_before_join
    });
    assert!(late.metric("starling_proofs_accepted_total") >= proven_before_join as f64);
}
