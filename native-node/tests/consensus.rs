//! Proof of stake with real processes: `starling devnet --validators 4` switches
//! from the single sequencer to proof of stake on chain and finalizes blocks with
//! certificates of more than two thirds of the stake; keeps deciding when a
//! validator is killed with SIGKILL; takes the validator back from its own data
//! directory (and consensus log) without anyone seeing it sign twice; slashes
//! a validator whose two conflicting votes are submitted as evidence; and hands a
//! stalled epoch's successor to the sequencer, then returns to proof of stake.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{BIN, Daemon, Watched, demo_key, metric_at, wait};
use serde_json::{Value, json};
use starling_core::consensus::{
    CommitCertificate, SignedVote, Validator, ValidatorSet, Vote, VoteKind,
};
use starling_core::crypto::SequencerKey;
use starling_core::encoding::Message;
use starling_core::keystore::{DecryptLimits, decrypt_with_limits};
use starling_core::types::{Address, Block, Call, ChainId, Hash, TxBody};

/// A node of the devnet, reached over RPC.
struct Node {
    url: String,
    rpc: String,
}

impl Node {
    fn new(url: &str) -> Self {
        Self { url: url.to_string(), rpc: format!("{url}rpc") }
    }

    fn try_call(&self, method: &str, params: Value) -> Option<Value> {
        let answer = Daemon::try_call(&self.rpc, method, params)?;
        answer.get("error").is_none().then(|| answer["result"].clone())
    }

    fn call(&self, method: &str, params: Value) -> Value {
        self.try_call(method, params).unwrap_or_else(|| panic!("{method} on {}", self.rpc))
    }

    fn status(&self) -> Value {
        self.call("starling_status", json!([]))
    }

    fn height(&self) -> u64 {
        self.try_call("starling_status", json!([])).map_or(0, |s| s["height"].as_u64().unwrap())
    }

    fn metric(&self, name: &str) -> f64 {
        metric_at(&self.url, name)
    }
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

/// The validator set the node reports for the current epoch.
fn current_set(node: &Node) -> ValidatorSet {
    let answer = node.call("starling_getValidators", json!([]));
    let members = answer["validators"].as_array().expect("a current set").clone();
    let validators = members
        .iter()
        .map(|m| Validator {
            key: m["key"].as_str().unwrap().parse().unwrap(),
            staker: m["staker"].as_str().unwrap().parse().unwrap(),
            power: m["power"].as_str().unwrap().parse().unwrap(),
        })
        .collect();
    ValidatorSet::new(validators).unwrap()
}

/// Block `height` as stored, with its certificate.
fn certified_block(node: &Node, height: u64) -> (Block, Option<CommitCertificate>) {
    let raw = node.call("starling_getBlock", json!([height]));
    let block = Block::decode_message(&unhex(raw["block"].as_str().unwrap())).unwrap();
    let certificate =
        raw["certificate"].as_str().map(|c| CommitCertificate::decode_message(&unhex(c)).unwrap());
    (block, certificate)
}

/// The process running `starling node` for `data_dir`, and its command line.
fn node_process(data_dir: &Path) -> (u32, Vec<String>) {
    let needle = data_dir.to_str().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.get(1).map(String::as_str) == Some("node") && args.iter().any(|a| a == needle) {
            return (pid, args);
        }
    }
    panic!("no starling node process for {needle}");
}

/// Two prevotes for different blocks at one height and round, signed with the
/// consensus key in `keystore` (unlocked with the devnet's password).
fn double_vote(keystore: &Path, password: &Path, chain_id: &ChainId) -> (Vec<u8>, Vec<u8>, Vote) {
    let json = std::fs::read_to_string(keystore).unwrap();
    let pass = std::fs::read_to_string(password).unwrap();
    let seed = decrypt_with_limits(&json, pass.trim_end().as_bytes(), &DecryptLimits::NATIVE)
        .expect("the devnet's consensus keystore opens with its password");
    let key = SequencerKey::from_seed(&seed);
    let vote = |value| Vote {
        chain_id: chain_id.clone(),
        height: 5,
        round: 0,
        kind: VoteKind::Prevote,
        value: Some(value),
        validator: key.public_key(),
    };
    let a = vote(Hash([1; 32])).sign(&key);
    let b = vote(Hash([2; 32])).sign(&key);
    (a.encode_message(), b.encode_message(), a.vote)
}

struct Restarted(Child);

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Proves, on four real validator processes talking libp2p on loopback:
/// - the chain starts in `single` mode and switches to proof of stake on chain
///   (`mode` becomes "pos"), after which every block names its validator set and
///   carries a certificate that verifies against that set with > 2/3 of the power;
/// - SIGKILL of one validator does not stop the other three from deciding;
/// - restarted from its own data directory, it catches up and decides again, and
///   no node ever sees a validator sign two conflicting votes;
/// - two conflicting votes by a validator, submitted as an evidence transaction,
///   slash that validator's stake.
#[test]
fn four_validators_decide_survive_a_kill_and_slash_a_double_signer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let (mut devnet, nodes) = four_validators(&data, "4");
    let chain_id = ChainId::new(nodes[0].status()["chain_id"].as_str().unwrap()).unwrap();
    assert_eq!(nodes[0].status()["mode"], "single", "a devnet starts with one sequencer");

    // The switch happens on chain, at an epoch boundary after the stakes.
    wait(120, "proof of stake", || nodes[0].status()["mode"] == "pos");
    let switched = nodes[0].height();
    wait(60, "ten blocks decided by vote", || nodes.iter().all(|n| n.height() >= switched + 10));
    let status = nodes[1].status();
    assert_eq!(status["validators"], 4);
    assert_eq!(status["finalized_height"], status["height"]);
    let set = current_set(&nodes[1]);
    for height in switched + 2..switched + 8 {
        let (block, certificate) = certified_block(&nodes[2], height);
        assert_eq!(block.header.validators, set.hash(), "block {height} names its set");
        let certificate = certificate.unwrap_or_else(|| panic!("block {height} is certified"));
        let power = certificate
            .verify(&chain_id, &set, height, &block.hash())
            .unwrap_or_else(|e| panic!("certificate of block {height}: {e}"));
        assert!(set.is_quorum(power), "block {height} has > 2/3 of the power");
    }

    // SIGKILL validator 3: the other three hold 3/4 of the stake and go on.
    let victim = data.join("validator-3");
    let (pid, args) = node_process(&victim);
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    wait(10, "validator 3 to die", || nodes[3].try_call("starling_status", json!([])).is_none());
    let at_kill = nodes[0].height();
    wait(60, "ten more blocks without validator 3", || {
        nodes[..3].iter().all(|n| n.height() >= at_kill + 10)
    });

    // Back from its own data directory and consensus log.
    let restarted = Restarted(
        Command::new(BIN)
            .args(&args[1..])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rejoined_at = nodes[0].height();
    wait(60, "validator 3 to catch up", || nodes[3].height() >= rejoined_at + 5);
    let votes = nodes[3].metric("starling_consensus_votes_received_total");
    wait(30, "validator 3 to take part in votes", || {
        nodes[3].metric("starling_consensus_votes_received_total") > votes + 8.0
    });
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(
            node.metric("starling_consensus_equivocations_total"),
            0.0,
            "node {i} saw a validator sign twice"
        );
    }

    // Evidence of a double vote by validator 1 slashes it.
    let (a, b, vote) = double_vote(
        &data.join("validator-1/consensus-key.json"),
        &data.join("password"),
        &chain_id,
    );
    let staker = current_set(&nodes[0]).get(&vote.validator).unwrap().staker;
    let before = nodes[0].call("starling_getStaker", json!([staker.to_string()]));
    assert_eq!(before["slashed"], false);
    let reporter = demo_key();
    let reporter_address: Address = reporter.public_key().address();
    let nonce = nodes[0].call("starknet_getNonce", json!(["latest", reporter_address.to_string()]));
    let body = TxBody {
        chain_id: chain_id.clone(),
        sender_key: reporter.public_key(),
        nonce: u64::from_str_radix(nonce.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        fee: 10,
        call: Call::Evidence {
            a: Box::new(SignedVote::decode_message(&a).unwrap()),
            b: Box::new(SignedVote::decode_message(&b).unwrap()),
        },
    };
    let tx = body.sign(&reporter);
    let hex_tx = format!("0x{}", hex::encode(tx.encode_message()));
    nodes[0].call("starling_addTransaction", json!([hex_tx]));
    wait(30, "the evidence to be included", || {
        nodes[0].call("starling_getStaker", json!([staker.to_string()]))["slashed"] == true
    });
    let after = nodes[0].call("starling_getStaker", json!([staker.to_string()]));
    let stake = |v: &Value| v["stake"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(stake(&after) < stake(&before), "slashing burns stake: {before} -> {after}");

    drop(restarted);
    let _ = devnet.terminate(30);
}

/// Starts `starling devnet --validators 4` in `data` (300 ms blocks, `demo_tps`
/// demo transfers per second).
fn four_validators(data: &Path, demo_tps: &str) -> (Watched, Vec<Node>) {
    let flags = ["--block-time-ms", "300", "--demo-tps", demo_tps];
    let (devnet, _, urls) = Watched::validator_devnet(data, 4, &flags);
    (devnet, urls.iter().map(|url| Node::new(url)).collect())
}

/// [`four_validators`], once proof of stake is active.
fn pos_devnet(data: &Path) -> (Watched, Vec<Node>) {
    let (devnet, nodes) = four_validators(data, "2");
    wait(120, "proof of stake", || nodes[0].status()["mode"] == "pos");
    (devnet, nodes)
}

fn signal(data_dir: &Path, signal: &str) {
    let (pid, _) = node_process(data_dir);
    assert!(Command::new("kill").args([signal, &pid.to_string()]).status().unwrap().success());
}

/// Proves the liveness fallback on real processes: while two of four validators
/// are frozen (SIGSTOP) nothing can be decided; once they resume, the epoch that
/// stalled has produced far under two thirds of its expected blocks, so the next
/// epoch is signed by the genesis sequencer (`mode` "single", blocks without a
/// validators hash), and the epoch after returns to proof of stake by itself.
#[test]
fn a_stalled_epoch_hands_the_next_to_the_sequencer_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let (mut devnet, nodes) = pos_devnet(&data);
    let frozen = [data.join("validator-2"), data.join("validator-3")];
    for node in &frozen {
        signal(node, "-STOP");
    }
    let stalled_at = nodes[0].height();
    std::thread::sleep(Duration::from_secs(8));
    assert!(nodes[0].height() <= stalled_at + 1, "half the stake cannot decide");
    for node in &frozen {
        signal(node, "-CONT");
    }
    wait(90, "the fallback epoch", || nodes[0].status()["mode"] == "single");
    let fallback = nodes[0].height() + 1;
    wait(60, "a block of the fallback epoch", || nodes[0].height() >= fallback);
    let (block, certificate) = certified_block(&nodes[0], fallback);
    assert_eq!(block.header.validators, Hash::ZERO, "the sequencer signs block {fallback}");
    assert!(certificate.is_none());
    wait(90, "proof of stake again", || nodes[0].status()["mode"] == "pos");
    let back = nodes[0].height();
    wait(60, "blocks decided by vote again", || nodes.iter().all(|n| n.height() >= back + 5));
    let (block, certificate) = certified_block(&nodes[1], back + 3);
    assert_ne!(block.header.validators, Hash::ZERO);
    assert!(certificate.is_some(), "block {} is certified", back + 3);
    let _ = devnet.terminate(30);
}
