//! Throughput of the paths that bound how many transactions a node handles.
//!
//! `exec/transfers` is the stateful work per transaction and
//! `crypto/stark_verify` the signature check every transaction also needs: their
//! sum per transaction is the single-core ceiling. `crypto/ed25519_verify` prices a
//! consensus vote, `state/merkle_update` one account write in a large tree (the
//! bulk of execution), and the `mempool` groups admission and block building with
//! signatures already checked, since hosts verify those on other cores.
//!
//! Run with `cargo bench -p starling-core --bench throughput`; add `-- --test` to
//! only check that every benchmark runs.

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use starling_core::crypto::{SequencerKey, StarkPublicKey, StarkSecretKey};
use starling_core::exec::{VerifiedTransaction, apply_transaction};
use starling_core::mempool::Mempool;
use starling_core::state::{Account, StateTree};
use starling_core::types::{Address, Call, ChainId, Hash, Transaction, TxBody};

/// Accounts, and transfers per batch, in the execution and mempool benchmarks.
const ACCOUNTS: usize = 1000;

/// Accounts in the tree the Merkle update benchmark writes to.
const TREE_ACCOUNTS: u64 = 100_000;

const BALANCE: u64 = 1_000_000_000;

fn chain() -> ChainId {
    ChainId::new("starling-bench").expect("valid chain id")
}

fn funded_account() -> Account {
    Account { balance: BALANCE, nonce: 0, staking: Hash::ZERO }
}

/// `ACCOUNTS` funded senders and one signed transfer from each to the next,
/// built once (signing a thousand transfers takes a moment).
struct Fixture {
    state: StateTree,
    txs: Vec<Transaction>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys: Vec<StarkSecretKey> = (0..ACCOUNTS).map(secret_key).collect();
        let addresses: Vec<Address> = keys.iter().map(|k| k.public_key().address()).collect();
        let mut state = StateTree::new();
        for address in &addresses {
            state.set(*address, funded_account()).expect("fund account");
        }
        let txs = keys
            .iter()
            .enumerate()
            .map(|(i, key)| sign_transfer(key, addresses[(i + 1) % ACCOUNTS], i as u64))
            .collect();
        Fixture { state, txs }
    })
}

fn secret_key(i: usize) -> StarkSecretKey {
    // Byte 0 is masked by key derivation, so the index goes after it.
    let mut entropy = [0u8; 32];
    entropy[1..9].copy_from_slice(&(i as u64).to_le_bytes());
    StarkSecretKey::from_entropy(&entropy)
}

fn sign_transfer(key: &StarkSecretKey, to: Address, amount: u64) -> Transaction {
    let body = TxBody {
        chain_id: chain(),
        sender_key: key.public_key(),
        nonce: 0,
        fee: 1 + amount % 97,
        call: Call::Transfer { to, amount },
    };
    body.sign(key)
}

fn exec_transfers(c: &mut Criterion) {
    let fixture = fixture();
    let mut group = c.benchmark_group("exec");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("transfers", |b| {
        b.iter_batched(
            || fixture.state.clone(),
            |mut state| {
                for tx in &fixture.txs {
                    apply_transaction(&mut state, tx).expect("valid transfer");
                }
                state
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn crypto_verify(c: &mut Criterion) {
    let tx = &fixture().txs[0];
    let mut group = c.benchmark_group("crypto");
    group.throughput(Throughput::Elements(1));
    group.bench_function("stark_verify", |b| b.iter(|| black_box(tx).verify_signature()));
    let key = SequencerKey::from_seed(&[7; 32]);
    let (public, message) = (key.public_key(), [0x5a; 32]);
    let signature = key.sign(&message);
    group.bench_function("ed25519_verify", |b| {
        b.iter(|| public.verify(black_box(&message), &signature))
    });
    group.finish();
}

/// Deterministic account addresses: digests of made-up keys.
fn address(i: u64) -> Address {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&i.to_le_bytes());
    StarkPublicKey(key).address()
}

fn state_merkle_update(c: &mut Criterion) {
    let mut tree = StateTree::new();
    for i in 0..TREE_ACCOUNTS {
        tree.set(address(i), funded_account()).expect("fill tree");
    }
    // Writes go to existing accounts in a scattered order (a multiplier coprime to
    // the tree size visits every account before repeating).
    let mut step = 0u64;
    let mut group = c.benchmark_group("state");
    group.throughput(Throughput::Elements(1));
    group.bench_function("merkle_update", |b| {
        b.iter(|| {
            step += 1;
            let target = address(step.wrapping_mul(7919) % TREE_ACCOUNTS);
            let account = Account { balance: step, ..funded_account() };
            tree.set(target, account).expect("update account");
        })
    });
    group.finish();
}

fn mempool(c: &mut Criterion) {
    let verified: Vec<VerifiedTransaction> = fixture()
        .txs
        .iter()
        .map(|tx| VerifiedTransaction::verify(tx.clone()).expect("valid signature"))
        .collect();
    let (account, chain) = (funded_account(), chain());
    let mut group = c.benchmark_group("mempool");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("insert", |b| {
        b.iter_batched(
            || (Mempool::default(), verified.clone()),
            |(mut pool, txs)| {
                for tx in txs {
                    pool.insert_verified(tx, &account, &chain).expect("admitted");
                }
                pool
            },
            BatchSize::LargeInput,
        )
    });
    let mut full = Mempool::default();
    for tx in verified {
        full.insert_verified(tx, &account, &chain).expect("admitted");
    }
    group.bench_function("select", |b| b.iter(|| full.select(ACCOUNTS, usize::MAX)));
    group.finish();
}

criterion_group!(benches, exec_transfers, crypto_verify, state_merkle_update, mempool);
criterion_main!(benches);
