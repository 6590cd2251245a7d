//! Finality on a four-validator proof-of-stake devnet on this machine (four
//! `starling node` processes voting over libp2p on loopback), against a baseline
//! measured in the same run: the one-process single-sequencer devnet, which
//! finalizes a block by signing it alone.
//!
//! Two figures per network:
//! - **transaction finality latency**: a transfer is submitted over RPC and the
//!   client polls until the node reports it final (`ACCEPTED_ON_L2`); median and
//!   99th percentile of [`SAMPLES`] transfers, one at a time;
//! - **finalized transfers per second** under load: waves of pre-signed transfers
//!   from many accounts are submitted at once, timed until every one is final
//!   (median of [`WAVES`] waves).
//!
//! Blocks are due every [`BLOCK_MS`] ms in both networks. Run:
//! `cargo bench -p starling-node --bench finality` (about two minutes).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Daemon, Watched, wait};
use serde_json::{Value, json};
use starling_core::crypto::StarkSecretKey;
use starling_core::encoding::Message;
use starling_core::hash::{Domain, hash_bytes};
use starling_core::types::{Call, ChainId, Transaction, TxBody};

const BLOCK_MS: &str = "200";
const SAMPLES: usize = 40;
const WAVES: usize = 3;
/// Demo accounts of the devnet; account 0 is left alone, 1 measures latency, the
/// rest load the network.
const ACCOUNTS: u32 = 16;
/// Transfers per account per wave (the mempool holds 64 per sender).
const PER_ACCOUNT: u64 = 64;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = ACCOUNTS.to_string();

    eprintln!("baseline: the single-sequencer devnet...");
    let single = Daemon::devnet(
        &dir.path().join("single"),
        &["--demo-tps", "0", "--block-time-ms", BLOCK_MS, "--accounts", &accounts],
    );
    let baseline = measure(&single.rpc_url());
    drop(single);

    eprintln!("proof of stake: four validator processes...");
    let pos_dir = dir.path().join("pos");
    let flags = ["--demo-tps", "0", "--block-time-ms", BLOCK_MS, "--accounts", &accounts];
    let (mut devnet, _, urls) = Watched::validator_devnet(&pos_dir, 4, &flags);
    let rpc = format!("{}rpc", urls[0]);
    wait(180, "the switch to proof of stake", || {
        call(&rpc, "starling_status", json!([]))["mode"] == "pos"
    });
    let pos = measure(&rpc);
    let _ = devnet.terminate(30);

    println!("block interval {BLOCK_MS} ms; this machine, one run");
    report("single sequencer (baseline)", &baseline, &baseline);
    report("proof of stake, 4 validators", &pos, &baseline);
}

struct Figures {
    latency: Vec<Duration>,
    per_sec: f64,
}

fn report(name: &str, f: &Figures, baseline: &Figures) {
    let (median, p99) = (percentile(&f.latency, 50), percentile(&f.latency, 99));
    let base = percentile(&baseline.latency, 50);
    println!(
        "{name:<30} finality latency median {:>6.0} ms  p99 {:>6.0} ms  ({:.2}x baseline)   \
         finalized {:>7.1} transfers/s ({:.2}x baseline)",
        ms(median),
        ms(p99),
        ms(median) / ms(base),
        f.per_sec,
        f.per_sec / baseline.per_sec,
    );
}

fn measure(rpc: &str) -> Figures {
    let chain_id =
        ChainId::new(call(rpc, "starling_status", json!([]))["chain_id"].as_str().unwrap())
            .unwrap();
    let latency = (0..SAMPLES).map(|_| one_transfer(rpc, &chain_id)).collect();
    let mut waves: Vec<f64> = (0..WAVES).map(|_| wave(rpc, &chain_id)).collect();
    waves.sort_by(f64::total_cmp);
    Figures { latency, per_sec: waves[WAVES / 2] }
}

/// Submits one transfer from account 1 and waits for it to be final.
fn one_transfer(rpc: &str, chain_id: &ChainId) -> Duration {
    let key = demo_key(1);
    let tx = transfer(chain_id, &key, nonce(rpc, &key), 2);
    let started = Instant::now();
    let hash = submit(rpc, &tx);
    while call(rpc, "starknet_getTransactionStatus", json!([hash]))["finality_status"]
        != "ACCEPTED_ON_L2"
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

/// Submits [`PER_ACCOUNT`] transfers from each loading account at once; returns
/// finalized transfers per second.
fn wave(rpc: &str, chain_id: &ChainId) -> f64 {
    let keys: Vec<StarkSecretKey> = (2..ACCOUNTS).map(demo_key).collect();
    let txs: Vec<(StarkSecretKey, u64, Vec<Transaction>)> = keys
        .into_iter()
        .map(|key| {
            let first = nonce(rpc, &key);
            let txs =
                (first..first + PER_ACCOUNT).map(|n| transfer(chain_id, &key, n, 1)).collect();
            (key, first + PER_ACCOUNT, txs)
        })
        .collect();
    let count = txs.iter().map(|(_, _, t)| t.len()).sum::<usize>();
    let started = Instant::now();
    for (_, _, list) in &txs {
        for tx in list {
            submit(rpc, tx);
        }
    }
    for (key, last, _) in &txs {
        while nonce(rpc, key) < *last {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The devnet's demo account `i` (keys derived from fixed labels, as the devnet does).
fn demo_key(i: u32) -> StarkSecretKey {
    let seed = hash_bytes(Domain::KeyDerivation, format!("starling devnet account {i}").as_bytes());
    StarkSecretKey::from_entropy(&seed.0)
}

fn transfer(chain_id: &ChainId, key: &StarkSecretKey, nonce: u64, amount: u64) -> Transaction {
    let to = demo_key(0).public_key().address();
    TxBody {
        chain_id: chain_id.clone(),
        sender_key: key.public_key(),
        nonce,
        fee: 1,
        call: Call::Transfer { to, amount },
    }
    .sign(key)
}

fn submit(rpc: &str, tx: &Transaction) -> Value {
    let hex_tx = format!("0x{}", hex::encode(tx.encode_message()));
    call(rpc, "starling_addTransaction", json!([hex_tx]))["transaction_hash"].clone()
}

fn nonce(rpc: &str, key: &StarkSecretKey) -> u64 {
    let address = key.public_key().address().to_string();
    let n = call(rpc, "starknet_getNonce", json!(["latest", address]));
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn call(rpc: &str, method: &str, params: Value) -> Value {
    let answer = Daemon::try_call(rpc, method, params).expect("the node answers");
    assert!(answer.get("error").is_none(), "{method}: {answer}");
    answer["result"].clone()
}

fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() - 1) * p) / 100]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
