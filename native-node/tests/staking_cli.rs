//! Staking through the real CLI and daemons: `starling tx stake` and the other
//! staking subcommands land in the registry that `starling_getStaker`,
//! `starling_getDelegation` and `starling_getValidators` read; a call that breaks
//! a staking rule is refused at once, naming the rule; and `starling devnet
//! --validators 3` runs three validator processes that stake on chain.

mod common;

use std::path::Path;

use common::{Daemon, Wallet, Watched, cli};
use serde_json::{Value, json};
use starling_core::crypto::SequencerKey;

/// One token in base units.
const TOKEN: u64 = 1_000_000_000;

fn address_of(keys_output: &str) -> String {
    keys_output.lines().next().unwrap().split_whitespace().nth(1).unwrap().to_string()
}

/// A devnet (no demo traffic, 100 ms blocks) and a wallet holding demo account 0
/// as `alice`. Returns the daemon, the wallet and alice's address.
fn devnet_with_alice(dir: &Path) -> (Daemon, Wallet, String) {
    let d = Daemon::devnet(&dir.join("data"), &["--demo-tps", "0", "--block-time-ms", "100"]);
    let wallet = Wallet::new(dir, "pw");
    let alice =
        address_of(&wallet.run(&["keys", "import", "alice"], Some(&common::demo_key_hex())));
    (d, wallet, alice)
}

/// Runs a `starling tx ...` command with the wallet's keys and password; returns
/// (success, stdout, stderr).
fn tx(wallet: &Wallet, d: &Daemon, args: &[&str]) -> (bool, String, String) {
    let rpc = d.rpc_url();
    let mut all = vec!["tx"];
    all.extend_from_slice(args);
    all.extend([
        "--rpc",
        &rpc,
        "--keys-dir",
        wallet.keys.to_str().unwrap(),
        "--password-file",
        wallet.password.to_str().unwrap(),
    ]);
    cli(&all, None)
}

/// Like [`tx`] with `--wait`; it must succeed. Returns the transaction hash.
fn tx_ok(wallet: &Wallet, d: &Daemon, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--wait");
    let (ok, out, err) = tx(wallet, d, &all);
    assert!(ok, "`starling tx {}` failed: {err}", args.join(" "));
    out.trim().to_string()
}

/// Whether `address` is in one of the sets `starling_getValidators` shows.
fn in_a_set(d: &Daemon, address: &str) -> bool {
    let v = d.result("starling_getValidators", json!([]));
    let sets = std::iter::once(&v).chain(v["next"].as_array().unwrap());
    sets.flat_map(|s| s["validators"].as_array().unwrap().clone()).any(|m| m["staker"] == address)
}

/// Proves the staking subcommands reach the chain and the RPC reads show them:
/// a stake (consensus key from a keystore) is in the registry with its amount,
/// key and commission and enters a fixed validator set at the next epoch
/// boundary; a delegation and an undelegation intent show in
/// `starling_getDelegation` and the staker's pool; exit intents set the
/// withdrawal epoch, and withdrawing or claiming too early is refused naming
/// the rule.
#[test]
fn staking_through_the_cli_reaches_the_registry_and_the_rpc_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (d, wallet, alice) = devnet_with_alice(dir.path());
    let consensus = wallet.run(&["keys", "new", "validator", "--consensus"], None);
    let consensus_key = consensus.trim().rsplit(' ').next().unwrap().to_string();
    let keystore = wallet.keys.join("validator.json");

    let stake = (2_000 * TOKEN).to_string();
    let hash = tx_ok(
        &wallet,
        &d,
        &[
            "stake",
            "--from",
            "alice",
            "--consensus-key",
            keystore.to_str().unwrap(),
            "--amount",
            &stake,
            "--commission-bps",
            "300",
        ],
    );
    let status = d.result("starknet_getTransactionStatus", json!([hash]));
    assert_eq!(status["finality_status"], "ACCEPTED_ON_L2");
    let shown = d.result("starknet_getTransactionByHash", json!([hash]));
    assert_eq!(shown["type"], "STAKE", "{shown}");
    assert_eq!(shown["consensus_key"], consensus_key.as_str());

    let staker = d.result("starling_getStaker", json!([alice]));
    assert_eq!(staker["stake"], stake.as_str(), "{staker}");
    assert_eq!(staker["consensus_key"], consensus_key.as_str());
    assert_eq!(staker["commission_bps"], 300);
    assert_eq!(staker["delegated"], "0");
    assert_eq!(staker["slashed"], false);
    assert!(staker["exit_intent_epoch"].is_null());

    let validators = d.result("starling_getValidators", json!([]));
    assert_eq!(validators["mode"], "single", "a one-process devnet never switches");
    assert_eq!(validators["params"]["min_stake"], (1_000 * TOKEN).to_string());
    assert_eq!(validators["next"].as_array().unwrap().len(), 2);
    // Epochs are 10 blocks of 100 ms: the next boundary fixes the set of three
    // epochs ahead, with alice in it.
    d.wait_for(30, "alice in a fixed validator set", |d| in_a_set(d, &alice));

    // bob delegates to alice's pool, then starts taking part of it back.
    let bob = address_of(&wallet.run(&["keys", "new", "bob"], None));
    wallet.transfer(&d.rpc_url(), "alice", &bob, 5_000 * TOKEN, 1);
    let delegated = (1_500 * TOKEN).to_string();
    tx_ok(&wallet, &d, &["delegate", "--from", "bob", "--staker", &alice, "--amount", &delegated]);
    let delegation = d.result("starling_getDelegation", json!([bob, alice]));
    assert_eq!(delegation["amount"], delegated.as_str(), "{delegation}");
    assert!(delegation["pending_withdrawal"].is_null());
    assert_eq!(d.result("starling_getStaker", json!([alice]))["delegated"], delegated.as_str());

    let leaving = (500 * TOKEN).to_string();
    tx_ok(
        &wallet,
        &d,
        &["undelegate-intent", "--from", "bob", "--staker", &alice, "--amount", &leaving],
    );
    let delegation = d.result("starling_getDelegation", json!([bob, alice]));
    assert_eq!(delegation["amount"], (1_000 * TOKEN).to_string());
    let withdrawal = &delegation["pending_withdrawal"];
    assert_eq!(withdrawal["amount"], leaving.as_str(), "{delegation}");
    assert_eq!(withdrawal["withdrawable_now"], false);
    let (ok, _, err) = tx(&wallet, &d, &["undelegate", "--from", "bob", "--staker", &alice]);
    assert!(!ok && err.contains("exit window is open"), "undelegating early is refused: {err}");

    tx_ok(&wallet, &d, &["unstake-intent", "--from", "alice"]);
    let staker = d.result("starling_getStaker", json!([alice]));
    let exit = staker["exit_intent_epoch"].as_u64().expect("an exit epoch");
    assert_eq!(staker["withdrawable_from_epoch"], exit + 4, "exit window of 4 epochs: {staker}");
    let (ok, _, err) = tx(&wallet, &d, &["unstake", "--from", "alice"]);
    assert!(!ok && err.contains("exit window is open until epoch"), "{err}");
    assert!(err.contains("code 55"), "a Starknet validation error: {err}");
    let (ok, _, err) = tx(&wallet, &d, &["claim-rewards", "--from", "alice"]);
    assert!(!ok && err.contains("no rewards to claim"), "no blocks paid rewards yet: {err}");
    let (ok, _, err) = tx(&wallet, &d, &["increase-stake", "--from", "alice", "--amount", "5"]);
    assert!(!ok && err.contains("is leaving"), "a leaving staker cannot grow: {err}");
    assert_eq!(d.result("starling_status", json!([]))["mempool"], 0, "nothing refused was kept");
}

/// Proves a stake below the genesis minimum (and one with a commission above
/// the maximum) is refused when submitted, with a message naming the rule and
/// the numbers, and changes nothing: the mempool stays empty and the account is
/// no staker. Bad evidence is refused before anything is sent.
#[test]
fn a_stake_below_the_minimum_is_refused_with_the_rule_named() {
    let dir = tempfile::tempdir().unwrap();
    let (d, wallet, alice) = devnet_with_alice(dir.path());
    let key = SequencerKey::from_seed(&[7; 32]).public_key().to_string();

    let (ok, out, err) =
        tx(&wallet, &d, &["stake", "--from", "alice", "--consensus-pubkey", &key, "--amount", "5"]);
    assert!(!ok, "refused: {out}");
    assert!(
        err.contains(&format!("stake 5 is below the minimum {}", 1_000 * TOKEN)),
        "names the rule and the minimum: {err}"
    );
    assert!(err.contains("min_stake"), "says what to do: {err}");

    let amount = (1_000 * TOKEN).to_string();
    let args = [
        "stake",
        "--from",
        "alice",
        "--consensus-pubkey",
        &key,
        "--amount",
        &amount,
        "--commission-bps",
        "6000",
    ];
    let (ok, _, err) = tx(&wallet, &d, &args);
    assert!(!ok && err.contains("commission 6000 bps is above the maximum 5000 bps"), "{err}");

    let (ok, _, err) =
        tx(&wallet, &d, &["evidence", "--from", "alice", "--vote-a", "0x0102", "--vote-b", "0x"]);
    assert!(!ok && err.contains("--vote-a"), "bad evidence is named: {err}");

    assert_eq!(d.result("starling_status", json!([]))["mempool"], 0);
    let answer = d.call("starling_getStaker", json!([alice]));
    assert_eq!(answer["error"]["code"], 20, "alice is no staker: {answer}");
    assert_eq!(d.call("starling_getStaker", json!(["0x12"]))["error"]["code"], -32602);
}

/// The port of a URL such as `http://127.0.0.1:8080/`.
fn port_of(url: &str) -> u16 {
    url.trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap()
}

/// Proves `starling devnet --validators 3` runs three `starling node` processes,
/// each in its own data directory with its consensus key (validator 0 also with
/// the sequencer key), serving RPC on PORT, PORT+1 and PORT+2 with one genesis;
/// that the devnet's three `Stake` transactions, sent over RPC, are included and
/// seen by every validator with the keys from their keystores; that demo
/// transfers flow; and that SIGTERM stops every process.
#[test]
fn a_devnet_of_three_validators_stakes_on_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("devnet");
    let (mut devnet, page, urls) =
        Watched::validator_devnet(&data, 3, &["--block-time-ms", "300", "--demo-tps", "4"]);
    assert_eq!(page, urls[0], "the page is validator 0's");
    let base = port_of(&urls[0]);
    for (i, url) in urls.iter().enumerate() {
        assert_eq!(port_of(url), base + i as u16, "validator {i} serves on PORT+{i}");
    }
    let rpc: Vec<String> = urls.iter().map(|u| format!("{u}rpc")).collect();
    let call = |i: usize, method: &str, params: Value| -> Value {
        let answer = Daemon::try_call(&rpc[i], method, params).expect("the node answers");
        assert!(answer.get("error").is_none(), "{method} on validator {i}: {answer}");
        answer["result"].clone()
    };
    let genesis = call(0, "starling_status", json!([]))["genesis_hash"].clone();
    for i in 1..3 {
        assert_eq!(call(i, "starling_status", json!([]))["genesis_hash"], genesis);
    }
    for i in 0..3 {
        let node = data.join(format!("validator-{i}"));
        for file in ["consensus-key.json", "node.toml", "node.log", "chain.redb"] {
            assert!(node.join(file).is_file(), "validator-{i} has {file}");
        }
        assert_eq!(node.join("sequencer-key.json").is_file(), i == 0, "only validator 0 sequences");
    }

    devnet.wait_until(60, "three stakes included", |w| {
        w.stderr.lock().unwrap().iter().filter(|l| l.contains("included in block")).count() == 3
    });
    let stderr = devnet.stderr_text();
    let hashes: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split("stake transaction ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(hashes.len(), 3, "{stderr}");
    let stakers: Vec<String> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("staker "))
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(stakers.len(), 3, "the staker accounts are printed: {stderr}");

    for i in 0..3 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        for hash in &hashes {
            while call(i, "starknet_getTransactionStatus", json!([hash]))["finality_status"]
                != "ACCEPTED_ON_L2"
            {
                assert!(std::time::Instant::now() < deadline, "validator {i} sees {hash}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        assert_eq!(call(i, "starling_getValidators", json!([]))["stakers"], 3);
        for (v, staker) in stakers.iter().enumerate() {
            let record = call(i, "starling_getStaker", json!([staker]));
            let keystore = data.join(format!("validator-{v}/consensus-key.json"));
            let keystore: Value =
                serde_json::from_str(&std::fs::read_to_string(keystore).unwrap()).unwrap();
            assert_eq!(record["consensus_key"], keystore["sequencer_public_key"], "validator {v}");
            assert_eq!(record["stake"], (10_000 * TOKEN).to_string());
        }
    }

    // Demo transfers go through the validators' RPC: the printed demo accounts
    // (account 0 is left to the user) start sending.
    let demo: Vec<String> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("demo ") && !l.contains("demo 0 "))
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(demo.len(), 3, "demo accounts 1-3 are printed: {stderr}");
    devnet.wait_until(30, "a demo transfer included", |_| {
        demo.iter().any(|a| call(0, "starknet_getNonce", json!(["latest", a])) != "0x0")
    });

    let status = devnet.terminate(30);
    assert!(status.success(), "the devnet stops cleanly: {status}; {}", devnet.stderr_text());
    for (i, url) in rpc.iter().enumerate() {
        assert!(
            Daemon::try_call(url, "starling_status", json!([])).is_none(),
            "validator {i} was stopped with the devnet"
        );
    }
}
