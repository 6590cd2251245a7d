//! The operator's path with real keystores: sequencer and account keys, a genesis
//! file, `starling node`; and refusals to start on the wrong chain or corrupt data.

mod common;

use std::path::Path;

use common::{Daemon, Wallet, cli};
use serde_json::json;

fn genesis(wallet: &Wallet, dir: &Path, chain: &str, alloc: &str) -> std::path::PathBuf {
    let out = dir.join(format!("{chain}.json"));
    let seq = wallet.keys.join("seq.json");
    let (seq, out_s) = (seq.to_str().unwrap(), out.to_str().unwrap());
    let args =
        ["genesis", "--chain-id", chain, "--sequencer-key", seq, "--alloc", alloc, "--out", out_s];
    // `genesis` takes --password-file but not --keys-dir.
    let (ok, _, err) =
        cli(&[&args[..], &["--password-file", wallet.password.to_str().unwrap()]].concat(), None);
    assert!(ok, "genesis failed: {err}");
    out
}

fn node_args<'a>(data: &'a str, genesis: &'a str, seq: &'a str, pw: &'a str) -> Vec<&'a str> {
    vec![
        "node",
        "--http-port",
        "0",
        "--data-dir",
        data,
        "--genesis",
        genesis,
        "--sequencer-key",
        seq,
        "--password-file",
        pw,
    ]
}

#[test]
fn a_node_from_keystores_and_genesis_sequences_and_refuses_foreign_or_corrupt_data() {
    let dir = tempfile::tempdir().unwrap();
    // A trailing newline in the password file is not part of the password.
    let wallet = Wallet::new(dir.path(), "s3cret\n");
    let out = wallet.run(&["keys", "new", "seq", "--sequencer"], None);
    assert!(out.starts_with("sequencer public key 0x"), "{out}");
    let alice = wallet.run(&["keys", "new", "alice"], None);
    let alice_address =
        alice.lines().next().unwrap().split_whitespace().nth(1).unwrap().to_string();
    let allocation = format!("{alice_address}=1000");
    let genesis_a = genesis(&wallet, dir.path(), "chain-a", &allocation);
    let genesis_b = genesis(&wallet, dir.path(), "chain-b", &allocation);

    let data = dir.path().join("data");
    let (data_s, ga, gb) =
        (data.to_str().unwrap(), genesis_a.to_str().unwrap(), genesis_b.to_str().unwrap());
    let seq = wallet.keys.join("seq.json");
    let (seq_s, pw_s) = (seq.to_str().unwrap(), wallet.password.to_str().unwrap());
    let mut config = dir.path().join("node.toml");
    std::fs::write(&config, "[block]\ninterval_ms = 100\n").unwrap();
    let mut args = node_args(data_s, ga, seq_s, pw_s);
    args.extend(["--config", config.to_str().unwrap()]);
    let mut d = Daemon::start(&args);
    wallet.transfer(&d.rpc_url(), "alice", &format!("0x{}", "0b".repeat(32)), 10, 1);
    let account = d.result("starling_getAccount", json!([alice_address]));
    assert_eq!(account["balance"], "989", "1000 - 10 - fee 1");
    assert_eq!(d.result("starknet_chainId", json!([])), "0x636861696e2d61", "chain-a as hex");
    d.kill();

    let (ok, _, err) = cli(&node_args(data_s, gb, seq_s, pw_s), None);
    assert!(!ok && err.contains("different chain"), "refuses another chain's data: {err}");

    let wrong_pw = dir.path().join("wrong");
    std::fs::write(&wrong_pw, "nope").unwrap();
    let (ok, _, err) = cli(&node_args(data_s, ga, seq_s, wrong_pw.to_str().unwrap()), None);
    assert!(!ok && err.contains("password"), "a wrong password is named as such: {err}");

    config = dir.path().join("bad.toml");
    std::fs::write(&config, "[block]\ninterval = 5\n").unwrap();
    let mut args = node_args(data_s, ga, seq_s, pw_s);
    args.extend(["--config", config.to_str().unwrap()]);
    let (ok, _, err) = cli(&args, None);
    assert!(!ok && err.contains("invalid config"), "unknown config keys are refused: {err}");

    corrupt_an_account(&data.join("chain.redb"));
    let (ok, _, err) = cli(&node_args(data_s, ga, seq_s, pw_s), None);
    assert!(!ok && err.contains("corrupt"), "corrupt stored state is refused: {err}");
}

/// Overwrites one stored account with bytes that do not decode.
fn corrupt_an_account(db: &Path) {
    let db = redb::Database::open(db).unwrap();
    let table: redb::TableDefinition<&[u8; 32], &[u8]> = redb::TableDefinition::new("accounts");
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(table).unwrap();
        let key = {
            use redb::ReadableTable;
            let first = t.iter().unwrap().next().unwrap().unwrap();
            *first.0.value()
        };
        t.insert(&key, [1u8, 2, 3].as_slice()).unwrap();
    }
    txn.commit().unwrap();
}
