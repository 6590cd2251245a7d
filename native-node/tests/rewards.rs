//! Prover rewards on chain, against the real binary: a devnet's sequencer pays
//! each settled proof's prover from the devnet's rewards account, by a signed
//! transfer included in a later block. The prover's on-chain balance is the
//! independent check: it must equal the reward times the proven heights, so a
//! height paid twice or skipped shows, across a kill -9 of the paying node and
//! while the rewards account cannot pay.

mod common;

use common::{Daemon, Prover, Wallet, demo_key_hex, metric_at, prove_with_cli};
use serde_json::{Value, json};
use starling_core::crypto::StarkSecretKey;
use starling_core::hash::{Domain, hash_bytes};

/// Base units per proof in these tests (not the default, so the flag shows).
const REWARD: u64 = 7_000;

/// A reward address nothing else on the devnet pays or spends from.
fn prover_address() -> String {
    StarkSecretKey::from_entropy(&[0x5a; 32]).public_key().address().to_string()
}

/// The devnet's rewards account, derived from its fixed label as the devnet
/// derives it.
fn rewards_address() -> String {
    let seed = hash_bytes(Domain::KeyDerivation, b"starling devnet prover rewards");
    StarkSecretKey::from_entropy(&seed.0).public_key().address().to_string()
}

fn devnet(dir: &std::path::Path) -> Daemon {
    let reward = REWARD.to_string();
    let flags = ["--block-time-ms", "500", "--demo-tps", "0", "--proof-reward", &reward];
    Daemon::devnet(dir, &flags)
}

fn proven_height(d: &Daemon) -> u64 {
    d.result("starling_status", json!([]))["proven_height"].as_u64().unwrap()
}

fn balance(d: &Daemon, address: &str) -> u64 {
    let account = d.result("starling_getAccount", json!([address]));
    account["balance"].as_str().unwrap().parse().unwrap()
}

fn rewards(d: &Daemon) -> Value {
    d.result("starling_getProverRewards", json!([prover_address()]))
}

fn amount(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("{field} is not a number: {v}"))
}

/// With the prover stopped, waits until every proven height is paid and
/// included, then checks the chain agrees: the prover's balance is exactly
/// the reward times the proven heights (every height from 1 was proven by it),
/// and `starling_getProverRewards` says the same.
fn settle_and_check(d: &Daemon) {
    d.wait_for(120, "every proven height's reward to be included", |d| {
        let r = rewards(d);
        let proven = proven_height(d);
        amount(&r, "rewards_pending") == 0 && amount(&r, "rewards_paid") == REWARD * proven
    });
    let proven = proven_height(d);
    let r = rewards(d);
    assert_eq!(amount(&r, "proofs_settled"), proven, "every proven height is this prover's: {r}");
    assert_eq!(amount(&r, "rewards_paid"), REWARD * proven, "{r}");
    assert_eq!(
        balance(d, &prover_address()),
        REWARD * proven,
        "the chain paid each proven height exactly once"
    );
}

/// Proves the paying node pays every settled proof exactly once: a hand-made
/// proof's submission is answered with the reward; a prover's balance grows by
/// exactly the reward per proven height once the payments are included, and
/// `starling_getProverRewards` agrees; after a kill -9 of the node (with
/// payments recorded) and a restart on the same data directory, payments
/// resume and no height is paid twice.
#[test]
fn provers_are_paid_once_per_proven_height_across_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = devnet(dir.path());
    d.wait_for(60, "two blocks", |d| d.height() >= 2);
    let r = rewards(&d);
    assert_eq!(r["address"], json!(prover_address()));
    assert_eq!(r["reward_per_proof"], json!(REWARD));
    assert_eq!((amount(&r, "proofs_settled"), amount(&r, "rewards_paid")), (0, 0));

    let proof = prove_with_cli(&d, 1, &prover_address(), dir.path());
    let answer: Value =
        ureq::post(&format!("{}proofs/1", d.url)).send_bytes(&proof).unwrap().into_json().unwrap();
    assert_eq!(
        (answer["accepted"].clone(), answer["reward"].clone()),
        (json!(true), json!(REWARD))
    );
    d.wait_for(60, "block 1's reward to be included", |d| {
        amount(&rewards(d), "rewards_paid") == REWARD
    });
    assert_eq!(balance(&d, &prover_address()), REWARD);

    let prover = Prover::start(&d, &prover_address());
    d.wait_for(240, "rewards for four proofs, and a payment recorded, not yet included", |d| {
        let r = rewards(d);
        amount(&r, "rewards_paid") >= 4 * REWARD && amount(&r, "rewards_pending") > 0
    });
    let before = rewards(&d);
    drop(prover);
    d.kill();

    let d = devnet(dir.path());
    let resumed = rewards(&d);
    assert!(
        amount(&resumed, "rewards_paid") + amount(&resumed, "rewards_pending")
            >= amount(&before, "rewards_paid") + amount(&before, "rewards_pending"),
        "recorded payments survive a kill -9: before {before}, after {resumed}"
    );
    let proven = proven_height(&d);
    let prover = Prover::start(&d, &prover_address());
    d.wait_for(240, "payments to resume for new proofs", |d| {
        amount(&rewards(d), "rewards_paid") >= REWARD * (proven + 2)
    });
    drop(prover);
    settle_and_check(&d);
    assert!(metric_at(&d.url, "starling_prover_rewards_paid_total") >= 2.0);
}

/// Proves a devnet whose rewards account holds nothing (one made before
/// rewards were paid) still starts and settles proofs; payments are recorded
/// but refused, counted in `starling_prover_rewards_failed_total` and retried,
/// and once the account is funded every proven height is paid, none skipped.
#[test]
fn an_unfunded_rewards_account_pays_late_but_skips_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = devnet(dir.path());
    d.kill();
    // Rewrite the devnet without the rewards account, as older devnets were.
    let rewards_account = rewards_address();
    for name in ["devnet.json", "genesis.json"] {
        let path = dir.path().join(name);
        let mut file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let genesis = if name == "devnet.json" { &mut file["genesis"] } else { &mut file };
        let allocations = genesis["allocations"].as_array_mut().unwrap();
        let before = allocations.len();
        allocations.retain(|a| a["address"] != json!(rewards_account));
        assert_eq!(allocations.len(), before - 1, "{name} funds the rewards account");
        std::fs::write(&path, file.to_string()).unwrap();
    }
    std::fs::remove_file(dir.path().join("chain.redb")).unwrap();

    let d = devnet(dir.path());
    assert_eq!(balance(&d, &rewards_account), 0);
    let prover = Prover::start(&d, &prover_address());
    d.wait_for(240, "three proven heights with refused payments", |d| {
        proven_height(d) >= 3 && metric_at(&d.url, "starling_prover_rewards_failed_total") >= 1.0
    });
    let r = rewards(&d);
    assert_eq!(amount(&r, "rewards_paid"), 0, "nothing can be paid yet: {r}");
    assert!(amount(&r, "rewards_pending") >= REWARD, "payments are recorded: {r}");
    assert_eq!(balance(&d, &prover_address()), 0);
    drop(prover);

    let wallet = Wallet::new(dir.path(), "pw");
    wallet.run(&["keys", "import", "demo0"], Some(&demo_key_hex()));
    wallet.transfer(&d.rpc_url(), "demo0", &rewards_account, 1_000_000_000, 1);
    settle_and_check(&d);
}

/// Proves that in `starling devnet --validators 2`, validator 0 alone pays:
/// the devnet's prover (rewarding demo account 0) is paid on chain at the
/// `--proof-reward` amount, its balance grows by what validator 0 reports
/// paid and by no more than the reward per proven height, and validator 1
/// settles the same proofs but reports itself as not paying.
#[test]
fn in_a_validator_devnet_validator_0_pays() {
    let dir = tempfile::tempdir().unwrap();
    let reward = REWARD.to_string();
    let flags =
        ["--block-time-ms", "400", "--provers", "1", "--demo-tps", "0", "--proof-reward", &reward];
    let (mut devnet, _, urls) = common::Watched::validator_devnet(dir.path(), 2, &flags);
    let prover = common::demo_key().public_key().address().to_string();
    let ask = |url: &str, method: &str, params: Value| {
        let answer = Daemon::try_call(&format!("{url}rpc"), method, params);
        answer.map(|a| a["result"].clone()).unwrap_or(Value::Null)
    };
    let paid = |url: &str| {
        ask(url, "starling_getProverRewards", json!([prover]))["rewards_paid"].as_u64().unwrap_or(0)
    };
    devnet.wait_until(240, "validator 0 to pay three proofs", |_| paid(&urls[0]) >= 3 * REWARD);
    let paid_before = paid(&urls[0]);
    let account = ask(&urls[0], "starling_getAccount", json!([prover]));
    let earned =
        account["balance"].as_str().unwrap().parse::<u64>().unwrap() - 1_000_000 * 10u64.pow(9);
    let proven = ask(&urls[0], "starling_status", json!([]))["proven_height"].as_u64().unwrap();
    assert!(earned >= paid_before, "the chain holds what was reported paid");
    assert!(earned <= REWARD * proven, "no more than one reward per proven height");
    assert_eq!(earned % REWARD, 0, "whole rewards only");

    devnet.wait_until(60, "validator 1 to settle proofs from gossip", |_| {
        ask(&urls[1], "starling_getProverRewards", json!([prover]))["proofs_settled"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    });
    let other = ask(&urls[1], "starling_getProverRewards", json!([prover]));
    assert_eq!(other["reward_per_proof"], Value::Null, "validator 1 does not pay: {other}");
    assert_eq!(
        (other["rewards_paid"].clone(), other["rewards_pending"].clone()),
        (json!(0), json!(0))
    );
    let _ = devnet.terminate(30);
}
