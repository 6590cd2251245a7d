//! Real multi-process networks on loopback: a sequencer and followers that know
//! only each other, checking that blocks and transactions cross several hops of
//! libp2p and that a node that was away catches up from its peers.

mod common;

use common::Daemon;
use serde_json::json;
use starling_core::encoding::Message;
use starling_core::types::{Address, Call, ChainId, TxBody};

/// Every node holds the same block hash and state root at every height up to `height`.
fn assert_same_chain(nodes: &[&Daemon], height: u64) {
    for node in nodes {
        node.wait_for(60, "the node to reach the height", |d| d.height() >= height);
    }
    for h in 0..=height {
        let reference = nodes[0].block_id(h);
        for (i, node) in nodes.iter().enumerate().skip(1) {
            assert_eq!(node.block_id(h), reference, "node {i} differs at height {h}");
        }
    }
}

/// Proves a chain of peers (sequencer - f1 - f2 - f3, each connected only to its
/// neighbours) carries blocks down and transactions up: the far follower holds
/// the sequencer's exact chain, and a transfer submitted to it is included by the
/// sequencer it has never connected to. Then the far follower is killed, misses
/// blocks, restarts and catches up from its one peer.
#[test]
fn a_chain_of_followers_follows_the_sequencer_and_catches_up_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let seq_dir = dir.path().join("seq");
    let seq =
        Daemon::devnet(&seq_dir, &["--demo-tps", "4", "--block-time-ms", "300", "--no-discovery"]);
    let genesis = seq_dir.join("genesis.json");
    let f1 = Daemon::follower(&dir.path().join("f1"), &genesis, &seq.p2p_addr("tcp"));
    let f2 = Daemon::follower(&dir.path().join("f2"), &genesis, &f1.p2p_addr("tcp"));
    let f3_dir = dir.path().join("f3");
    let mut f3 = Daemon::follower(&f3_dir, &genesis, &f2.p2p_addr("tcp"));

    f3.wait_for(60, "the far follower to follow", |d| d.height() >= 5);
    assert_eq!(seq.peers(), 1, "the sequencer knows only f1");
    assert_eq!(f2.peers(), 2, "f2 knows f1 and f3");
    assert_eq!(f3.peers(), 1, "f3 knows only f2");
    assert_eq!(f3.status()["producing"], false);

    // A transfer submitted to f3 travels f3 -> f2 -> f1 -> sequencer by gossip.
    let key = common::demo_key();
    let chain_id = ChainId::new(seq.status()["chain_id"].as_str().unwrap()).unwrap();
    let body = TxBody {
        chain_id,
        sender_key: key.public_key(),
        nonce: 0,
        fee: 3,
        call: Call::Transfer { to: Address([7; 32]), amount: 42 },
    };
    let hex = format!("0x{}", hex::encode(body.sign(&key).encode_message()));
    let hash = f3.result("starling_addTransaction", json!([hex]))["transaction_hash"].clone();
    let included = |d: &Daemon| {
        d.call("starknet_getTransactionStatus", json!([hash]))["result"]["finality_status"]
            == "ACCEPTED_ON_L2"
    };
    seq.wait_for(60, "the sequencer to include f3's transaction", included);
    f3.wait_for(60, "f3 to see its transaction in a block", included);

    assert_same_chain(&[&seq, &f1, &f2, &f3], seq.height());

    f3.kill();
    let missed_from = seq.height();
    seq.wait_for(60, "blocks while f3 is down", |d| d.height() >= missed_from + 5);
    let f3 = Daemon::follower(&f3_dir, &genesis, &f2.p2p_addr("tcp"));
    let target = seq.height();
    assert_same_chain(&[&seq, &f3], target);
}

/// Proves a new node starts from a peer's state snapshot instead of replaying
/// history: it holds no block below the snapshot, has the sequencer's exact state
/// (same root, same balances), and then follows new blocks.
#[test]
fn a_new_node_starts_from_a_verified_snapshot_and_follows() {
    let dir = tempfile::tempdir().unwrap();
    let seq_dir = dir.path().join("seq");
    let seq = Daemon::devnet(
        &seq_dir,
        &[
            "--demo-tps",
            "4",
            "--block-time-ms",
            "200",
            "--no-discovery",
            "--snapshot-interval",
            "10",
        ],
    );
    seq.wait_for(60, "a snapshot past genesis", |d| d.height() >= 11);
    let joiner = Daemon::start(&[
        "node",
        "--data-dir",
        dir.path().join("joiner").to_str().unwrap(),
        "--genesis",
        seq_dir.join("genesis.json").to_str().unwrap(),
        "--http-port",
        "0",
        "--bootstrap",
        &seq.p2p_addr("tcp"),
        "--no-discovery",
        "--from-snapshot",
    ]);
    let missing = joiner.call("starknet_getBlockWithTxHashes", json!([{ "block_number": 1 }]));
    assert!(missing.get("error").is_some(), "block 1 was not replayed: {missing}");
    let target = seq.height() + 3;
    joiner.wait_for(60, "the joiner to follow new blocks", |d| d.height() >= target);
    assert_eq!(joiner.block_id(target), seq.block_id(target));
    // Demo account 0 is never touched by the demo traffic: its balance is stable.
    let account0 = common::demo_key().public_key().address().to_string();
    let balance =
        |d: &Daemon| d.result("starling_getAccount", json!([account0]))["balance"].clone();
    assert_eq!(balance(&joiner), balance(&seq));
}
