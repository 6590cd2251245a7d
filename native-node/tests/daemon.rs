//! End-to-end tests of the real daemon: transfers through the CLI and RPC land in
//! blocks and balances; bad input is refused with clear errors and changes nothing;
//! a kill -9 loses no reported block and no acknowledged transaction.

mod common;

use common::{Daemon, Wallet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use starling_core::crypto::StarkSecretKey;
use starling_core::encoding::Message;
use starling_core::types::{Address, Call, ChainId, TxBody};

fn balance(d: &Daemon, address: &str) -> u64 {
    d.result("starling_getAccount", json!([address]))["balance"].as_str().unwrap().parse().unwrap()
}

fn fresh_address(seed: u8) -> String {
    format!("0x{}", hex::encode([seed; 32]))
}

#[test]
fn transfers_through_the_cli_reach_blocks_and_balances() {
    let dir = tempfile::tempdir().unwrap();
    let d =
        Daemon::devnet(&dir.path().join("data"), &["--demo-tps", "0", "--block-time-ms", "200"]);
    let wallet = Wallet::new(dir.path(), "correct horse");
    let devnet: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("data/devnet.json")).unwrap(),
    )
    .unwrap();
    let funded = devnet["genesis"]["allocations"][0]["address"].as_str().unwrap().to_string();
    // Demo keys are the same on every devnet; a user copies one from the start-up output.
    wallet.run(&["keys", "import", "alice"], Some(&common::demo_key_hex()));
    let listed = wallet.run(&["keys", "list"], None);
    assert!(listed.contains(&funded), "keys list shows the imported address: {listed}");

    let to = fresh_address(7);
    let before = balance(&d, &funded);
    for amount in [5u64, 6] {
        let hash = wallet.transfer(&d.rpc_url(), "alice", &to, amount, 2);
        let hash = hash.as_str();
        let status = d.result("starknet_getTransactionStatus", json!([hash]));
        assert_eq!(status["finality_status"], "ACCEPTED_ON_L2");
        let block = d.result(
            "starknet_getBlockWithTxHashes",
            json!([{ "block_number": status["block_number"] }]),
        );
        assert!(block["transactions"].as_array().unwrap().iter().any(|h| h == hash));
    }
    assert_eq!(balance(&d, &to), 11);
    let metrics = ureq::get(&format!("{}metrics", d.url)).call().unwrap().into_string().unwrap();
    for line in ["starling_transactions_accepted_total 2", "starling_height "] {
        assert!(metrics.contains(line), "/metrics has {line:?}:\n{metrics}");
    }
    assert_eq!(balance(&d, &funded), before - 11 - 4, "amounts plus fees are debited");
    assert_eq!(d.result("starknet_getNonce", json!(["latest", funded])), "0x2");
}

#[test]
fn bad_requests_get_clear_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::devnet(dir.path(), &["--demo-tps", "0", "--block-time-ms", "100000"]);
    let status_before = d.result("starling_status", json!([]));

    assert_eq!(d.call("starling_noSuchMethod", json!([]))["error"]["code"], -32601);
    assert_eq!(d.post("{not json").1["error"]["code"], -32700);
    assert_eq!(d.post(r#"{"jsonrpc":"2.0","id":1}"#).1["error"]["code"], -32600);
    assert_eq!(d.call("starling_getBlock", json!(["ten"]))["error"]["code"], -32602);
    assert_eq!(d.call("starling_getBlock", json!([999]))["error"]["code"], 24);
    assert_eq!(
        d.call("starknet_getTransactionByHash", json!([fresh_address(1)]))["error"]["code"],
        29
    );
    assert_eq!(d.call("starling_getAccount", json!(["0x12"]))["error"]["code"], -32602);

    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"starling_status","params":["{}"]}}"#,
        "a".repeat(2 << 20)
    );
    let (status, body) = d.post_early_answered(huge);
    assert_eq!(status, 413, "oversized bodies are refused");
    assert_eq!(body["error"]["code"], -32600);

    let malformed = d.call("starling_addTransaction", json!(["0x0102"]));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    assert!(malformed["error"]["data"].as_str().unwrap().contains("malformed"));
    let oversized = d.call("starling_addTransaction", json!([format!("0x{}", "00".repeat(5000))]));
    assert_eq!(oversized["error"]["code"], -32602);

    // Well-formed transactions that break a rule, each with its Starknet error code.
    let key = common::demo_key();
    let chain = ChainId::new(status_before["chain_id"].as_str().unwrap()).unwrap();
    let submit = |body: TxBody, signer: &StarkSecretKey| {
        let hex = format!("0x{}", hex::encode(body.sign(signer).encode_message()));
        d.call("starling_addTransaction", json!([hex]))
    };
    let transfer = |nonce, fee, amount| TxBody {
        chain_id: chain.clone(),
        sender_key: key.public_key(),
        nonce,
        fee,
        call: Call::Transfer { to: Address([9; 32]), amount },
    };
    let impostor = StarkSecretKey::from_entropy(&[42; 32]);
    let cases = [
        ("bad signature", submit(transfer(0, 1, 1), &impostor), 55),
        (
            "other chain",
            submit(TxBody { chain_id: ChainId::new("x").unwrap(), ..transfer(0, 1, 1) }, &key),
            55,
        ),
        ("nonce far ahead", submit(transfer(1000, 1, 1), &key), 52),
        ("balance too low", submit(transfer(0, 1, u64::MAX - 1), &key), 54),
        ("fee below minimum", submit(transfer(0, 0, 1), &key), 53),
    ];
    for (what, answer, code) in cases {
        assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
        assert!(answer["error"]["data"].is_string(), "{what} says why: {answer}");
    }

    let status_after = d.result("starling_status", json!([]));
    assert_eq!(status_before["height"], status_after["height"]);
    assert_eq!(status_before["state_root"], status_after["state_root"]);
    assert_eq!(status_after["mempool"], 0, "nothing was admitted");

    let first = submit(transfer(0, 1, 1), &key);
    assert!(first["result"]["transaction_hash"].is_string(), "{first}");
    assert_eq!(submit(transfer(0, 1, 1), &key)["error"]["code"], 59, "a duplicate is named");
    assert_eq!(d.result("starling_status", json!([]))["mempool"], 1);
}

/// Submits transfers from `key` as fast as the node answers, recording each hash
/// the node acknowledged, until the node stops answering.
fn submit_until_killed(
    rpc_url: String,
    key: StarkSecretKey,
    chain_id: ChainId,
    acknowledged: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let address = key.public_key().address().to_string();
        let Some(answer) =
            Daemon::try_call(&rpc_url, "starknet_getNonce", json!(["pending", address]))
        else {
            return;
        };
        let mut nonce =
            u64::from_str_radix(answer["result"].as_str().unwrap().trim_start_matches("0x"), 16)
                .unwrap();
        loop {
            let body = TxBody {
                chain_id: chain_id.clone(),
                sender_key: key.public_key(),
                nonce,
                fee: 5,
                call: Call::Transfer { to: Address([9; 32]), amount: 1 },
            };
            let hex = format!("0x{}", hex::encode(body.sign(&key).encode_message()));
            let Some(answer) = Daemon::try_call(&rpc_url, "starling_addTransaction", json!([hex]))
            else {
                return; // killed
            };
            let hash = answer["result"]["transaction_hash"].as_str();
            acknowledged
                .lock()
                .unwrap()
                .push(hash.expect("a valid transfer is acknowledged").into());
            nonce += 1;
        }
    })
}

/// Every block hash the node reports, from genesis to its head.
fn reported_blocks(d: &Daemon) -> Vec<Value> {
    (0..=d.height())
        .map(|h| {
            d.result("starknet_getBlockWithTxHashes", json!([{ "block_number": h }]))["block_hash"]
                .clone()
        })
        .collect()
}

#[test]
fn kill_9_mid_stream_loses_no_reported_block_or_acknowledged_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = common::demo_key();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut reported = Vec::new();
    // Three lives killed mid-stream, and a fourth that checks the third's.
    for round in 1..=4 {
        let mut d = Daemon::devnet(&data, &["--demo-tps", "40", "--block-time-ms", "100"]);
        // What the previous life reported is all still there, unchanged.
        for (h, hash) in reported.iter().enumerate() {
            let block = d.result("starknet_getBlockWithTxHashes", json!([{ "block_number": h }]));
            assert_eq!(&block["block_hash"], hash, "block {h} survived round {round}'s restart");
        }
        for hash in acknowledged.lock().unwrap().iter() {
            let status = d.call("starknet_getTransactionStatus", json!([hash]));
            let status = &status["result"]["finality_status"];
            assert!(status.is_string(), "acknowledged {hash} survived round {round}'s restart");
        }
        let status = d.result("starling_status", json!([]));
        let head = d.result("starknet_getBlockWithTxHashes", json!(["latest"]));
        assert_eq!(head["new_root"], status["state_root"], "state matches the head");
        if round == 4 {
            break;
        }

        // Kill it without warning while our client is still submitting.
        let chain_id = ChainId::new(status["chain_id"].as_str().unwrap()).unwrap();
        let client = submit_until_killed(d.rpc_url(), key.clone(), chain_id, acknowledged.clone());
        let target = 20 * round;
        d.wait_for(60, "acknowledged transfers and new blocks", |d| {
            acknowledged.lock().unwrap().len() >= target && d.height() >= 3 * round as u64
        });
        reported = reported_blocks(&d);
        d.kill();
        client.join().unwrap();
    }
}
