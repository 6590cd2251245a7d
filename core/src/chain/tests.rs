//! The chain rules in the single stage: building, validating, verifying from a
//! witness and applying a peer's block, exactly as before proof of stake.

use alloc::vec::Vec;

use super::*;
use crate::crypto::{SequencerKey, StarkSecretKey};
use crate::exec::TxError;
use crate::staking::StakingParams;
use crate::state::{StateTree, Witness};
use crate::types::{Block, Call, Hash, Header, Transaction, TxBody};

struct Fixture {
    genesis: Genesis,
    key: SequencerKey,
    users: Vec<StarkSecretKey>,
}

fn fixture() -> Fixture {
    let key = SequencerKey::from_seed(&[1; 32]);
    let users: Vec<StarkSecretKey> =
        (10..13).map(|i| StarkSecretKey::from_entropy(&[i; 32])).collect();
    let genesis = Genesis {
        chain_id: ChainId::new("starling-test").unwrap(),
        sequencer: key.public_key(),
        timestamp_ms: 1_000,
        allocations: users
            .iter()
            .map(|u| Allocation { address: u.public_key().address(), balance: 100 })
            .collect(),
        staking: StakingParams::default(),
    };
    Fixture { genesis, key, users }
}

fn pay(f: &Fixture, from: usize, nonce: u64, to: usize, amount: u64) -> Transaction {
    let body = TxBody {
        chain_id: f.genesis.chain_id.clone(),
        sender_key: f.users[from].public_key(),
        nonce,
        fee: 1,
        call: Call::Transfer { to: f.users[to].public_key().address(), amount },
    };
    body.sign(&f.users[from])
}

fn verify(
    f: &Fixture,
    block: &Block,
    parent: &Header,
    witness: &Witness,
) -> Result<(), ChainError> {
    verify_block(block, parent, witness, &f.genesis.chain_id)
}

fn build(f: &Fixture, state: &mut StateTree, parent: &Header, txs: Vec<Transaction>) -> BuiltBlock {
    let template = BlockTemplate {
        parent,
        timestamp_ms: parent.timestamp_ms + 1000,
        key: &f.key,
        parent_commit: None,
    };
    build_block(state, template, txs).unwrap()
}

#[test]
fn genesis_is_deterministic_and_funds_the_allocations() {
    let f = fixture();
    let (a, state) = f.genesis.block().unwrap();
    let (b, _) = f.genesis.block().unwrap();
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.header.state_root, state.root());
    assert_eq!(state.get(&f.users[0].public_key().address()).balance, 100);
    let mut other = f.genesis.clone();
    other.allocations[0].balance = 101;
    assert_ne!(other.block().unwrap().0.hash(), a.hash());
}

#[test]
fn a_genesis_listing_an_address_twice_is_refused() {
    let mut f = fixture();
    let first = f.genesis.allocations[0].clone();
    f.genesis.allocations.push(first.clone());
    assert_eq!(f.genesis.block().err(), Some(ChainError::DuplicateAllocation(first.address)));
}

#[test]
fn the_witness_covers_only_included_transactions() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    // User 2's transfer overspends and is left out: its accounts need no proof.
    let txs = alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 2, 0, 2, 1000)];
    let built = build(&f, &mut state, &genesis.header, txs);
    assert_eq!(built.rejected.len(), 1);
    let proven: Vec<Address> = built.witness.proofs().iter().map(|(a, _)| *a).collect();
    assert_eq!(proven, touched_accounts(&built.block.transactions));
}

#[test]
fn built_blocks_validate_on_full_state_and_verify_from_witnesses() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    let parent_state = state.clone();
    let built = build(
        &f,
        &mut state,
        &genesis.header,
        alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 1, 0, 2, 5)],
    );
    assert!(built.rejected.is_empty());
    assert_eq!(built.block.header.state_root, state.root());

    let mut replay = parent_state.clone();
    let receipts = validate_block(&built.block, &genesis.header, &mut replay).unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(replay.root(), state.root());
    verify(&f, &built.block, &genesis.header, &built.witness).unwrap();
}

/// Proves a follower applying a peer's block reaches the producer's state and
/// witness, and that invalid blocks leave its state untouched.
#[test]
fn apply_block_follows_valid_blocks_and_leaves_state_alone_on_invalid_ones() {
    let f = fixture();
    let (genesis, mut producer) = f.genesis.block().unwrap();
    let mut follower = producer.clone();
    let txs = alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 1, 0, 2, 5)];
    let built = build(&f, &mut producer, &genesis.header, txs);

    let mut tampered = built.block.clone();
    tampered.header.state_root = Hash([1; 32]);
    let tampered = tampered.header.seal(&f.key, tampered.transactions);
    let before = follower.root();
    let err = apply_block(&tampered, &genesis.header, &mut follower);
    assert!(matches!(err, Err(ChainError::StateRootMismatch { .. })));
    assert_eq!(follower.root(), before);
    let other = SequencerKey::from_seed(&[9; 32]);
    let forged = built.block.header.clone().seal(&other, built.block.transactions.clone());
    assert!(apply_block(&forged, &genesis.header, &mut follower).is_err());
    assert_eq!(follower.root(), before);

    let applied = apply_block(&built.block, &genesis.header, &mut follower).unwrap();
    assert_eq!(follower.root(), producer.root());
    assert_eq!(applied.witness, built.witness);
    assert_eq!(applied.receipts.len(), 2);
    assert_eq!(applied.accounts.len(), 4, "three users and the registry");
    // The same block again no longer extends the follower's head.
    let again = apply_block(&built.block, &built.block.header, &mut follower);
    assert!(matches!(again, Err(ChainError::NotChild { .. })));
}

#[test]
fn failing_candidates_are_left_out_with_their_reason() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    // The second spends more than is left after the first.
    let txs = alloc::vec![pay(&f, 0, 0, 1, 90), pay(&f, 0, 1, 1, 90)];
    let built = build(&f, &mut state, &genesis.header, txs);
    assert_eq!(built.block.transactions.len(), 1);
    assert!(matches!(built.rejected[0].1, TxError::InsufficientBalance { .. }));
    verify(&f, &built.block, &genesis.header, &built.witness).unwrap();
}

#[test]
fn a_signed_block_with_a_wrong_state_root_is_refused() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    let built = build(&f, &mut state, &genesis.header, alloc::vec![pay(&f, 0, 0, 1, 10)]);
    let mut header = built.block.header.clone();
    header.state_root = genesis.header.state_root;
    let lying = header.seal(&f.key, built.block.transactions.clone());
    let err = verify(&f, &lying, &genesis.header, &built.witness);
    assert!(matches!(err, Err(ChainError::StateRootMismatch { .. })));
}

#[test]
fn blocks_must_extend_their_parent_in_height_hash_and_time() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    let parent_state = state.clone();
    let first = build(&f, &mut state, &genesis.header, alloc::vec![]);
    let second = build(&f, &mut state, &first.block.header, alloc::vec![]);
    let mut replay = parent_state.clone();
    let skipped = validate_block(&second.block, &genesis.header, &mut replay);
    assert!(matches!(skipped, Err(ChainError::NotChild { .. })));

    let mut header = first.block.header.clone();
    header.timestamp_ms = genesis.header.timestamp_ms - 1;
    let early = header.seal(&f.key, alloc::vec![]);
    let mut replay = parent_state.clone();
    let err = validate_block(&early, &genesis.header, &mut replay);
    assert!(matches!(err, Err(ChainError::TimeWentBack { .. })));
}

#[test]
fn a_witness_that_misses_an_account_is_refused() {
    let f = fixture();
    let (genesis, mut state) = f.genesis.block().unwrap();
    let built = build(&f, &mut state, &genesis.header, alloc::vec![pay(&f, 0, 0, 1, 10)]);
    let partial = Witness::new(alloc::vec![built.witness.proofs()[0].clone()]);
    let err = verify(&f, &built.block, &genesis.header, &partial);
    assert_eq!(err, Err(ChainError::WitnessMismatch));
    // Extra proofs (here, a duplicate) are refused before any is hashed.
    let mut padded = built.witness.proofs().to_vec();
    padded.push(padded[0].clone());
    let err = verify(&f, &built.block, &genesis.header, &Witness::new(padded));
    assert_eq!(err, Err(ChainError::WitnessMismatch));
}

#[test]
fn a_genesis_listing_an_address_twice_is_refused_even_with_zero_balance() {
    let mut f = fixture();
    let mut zero = f.genesis.allocations[0].clone();
    zero.balance = 0;
    f.genesis.allocations.insert(0, zero.clone());
    assert_eq!(f.genesis.block().err(), Some(ChainError::DuplicateAllocation(zero.address)));
}
