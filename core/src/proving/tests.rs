//! End-to-end: real blocks proven with every component and verified against
//! statements the verifier builds itself, and every way a proof can be wrong.

use alloc::vec;

use super::config::ProofConfig;
use super::proof::{BlockProof, ProofDecodeError};
use super::prover::prove_block;
use super::statement::BlockStatement;
use super::testing::TestChain;
use super::verifier::{ProofError, verify_block};
use super::witness::BlockWitness;
use crate::crypto::SequencerKey;
use crate::types::{Address, Call};

const STANDARD: ProofConfig = ProofConfig::STANDARD;

/// A block of transfers of every kind, with a fresh recipient.
fn transfer_block() -> BlockWitness {
    let mut chain = TestChain::new(&[1_000, 1_000, 1_000]);
    let fresh = Address(crate::hash::hash_bytes(crate::hash::Domain::Address, b"fresh").0);
    let txs = vec![
        chain.pay(0, 0, 1, chain.address(1), 10),
        chain.pay(1, 0, 2, fresh, 5),
        chain.pay(2, 0, 1, chain.address(2), 7),
        chain.pay(0, 1, 1, chain.address(2), 0),
    ];
    chain.next(txs).1
}

/// The account test proofs are made for.
fn prover() -> Address {
    Address(crate::hash::hash_bytes(crate::hash::Domain::Address, b"prover").0)
}

fn prove(witness: &BlockWitness) -> BlockProof {
    prove_block(witness, &STANDARD, prover()).unwrap()
}

/// Proves a block of transfers proves and verifies, also after a round trip
/// through the wire encoding.
#[test]
fn transfers_prove_and_verify() {
    let witness = transfer_block();
    let proof = prove(&witness);
    verify_block(&witness.statement, &proof, &STANDARD).unwrap();
    let decoded = BlockProof::from_bytes(&proof.to_bytes()).unwrap();
    verify_block(&witness.statement, &decoded, &STANDARD).unwrap();
}

/// Proves an empty block (the block end alone) and staking calls prove.
#[test]
fn empty_blocks_and_staking_prove() {
    let mut chain = TestChain::new(&[50_000, 1_000]);
    let (_, empty) = chain.next(vec![]);
    verify_block(&empty.statement, &prove(&empty), &STANDARD).unwrap();
    let key = SequencerKey::from_seed(&[9; 32]).public_key();
    let stake = Call::Stake { consensus_key: key, amount: 2_000, commission_bps: 100 };
    let (_, staking) = chain.next(vec![chain.tx(0, 0, 3, stake)]);
    verify_block(&staking.statement, &prove(&staking), &STANDARD).unwrap();
}

/// Proves balances at the edge of a u64 prove: a sender holding u64::MAX
/// pays nearly all of it.
#[test]
fn max_balances_prove() {
    let mut chain = TestChain::new(&[u64::MAX, 0]);
    let to = chain.address(1);
    let (_, witness) = chain.next(vec![chain.pay(0, 0, 1, to, u64::MAX - 1)]);
    verify_block(&witness.statement, &prove(&witness), &STANDARD).unwrap();
}

/// Proves a proof is refused for a statement with another post-state root,
/// another pre-state root, or other transactions — nothing about another
/// block follows from it.
#[test]
fn wrong_statement_is_refused() {
    let witness = transfer_block();
    let proof = prove(&witness);
    let mut other = witness.statement.clone();
    other.post_root = other.pre_root;
    assert_eq!(verify_block(&other, &proof, &STANDARD), Err(ProofError::WrongStatement));
    let mut other = witness.statement.clone();
    other.pre_root = witness.statement.post_root;
    assert_eq!(verify_block(&other, &proof, &STANDARD), Err(ProofError::WrongStatement));
    let mut other = witness.statement.clone();
    other.entries[0].amount += 1;
    assert_eq!(verify_block(&other, &proof, &STANDARD), Err(ProofError::WrongStatement));
}

/// Proves a proof made under a weaker configuration is refused as such, even
/// though it is a valid STARK under that configuration.
#[test]
fn weaker_configuration_is_refused() {
    let witness = transfer_block();
    let weak = ProofConfig { name: "weak", pow_bits: 5, n_queries: 10, ..STANDARD };
    let proof = prove_block(&witness, &weak, prover()).unwrap();
    verify_block(&witness.statement, &proof, &weak).unwrap();
    assert!(matches!(
        verify_block(&witness.statement, &proof, &STANDARD),
        Err(ProofError::WrongConfig { .. })
    ));
}

/// Proves a tampered proof is refused: a changed byte anywhere in the STARK
/// part either fails to decode or fails to verify — never verifies, never
/// panics — and a truncated proof does not decode.
#[test]
fn tampered_and_truncated_proofs_are_refused() {
    let witness = transfer_block();
    let bytes = prove(&witness).to_bytes();
    let header = super::proof::HEADER_LEN;
    let step = (bytes.len() - header) / 40;
    for position in (header..bytes.len()).step_by(step.max(1)) {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        if let Ok(proof) = BlockProof::from_bytes(&tampered) {
            assert!(
                verify_block(&witness.statement, &proof, &STANDARD).is_err(),
                "a proof with byte {position} changed verified"
            );
        }
    }
    for cut in [1, 100, bytes.len() / 2] {
        assert!(BlockProof::from_bytes(&bytes[..bytes.len() - cut]).is_err());
    }
    assert_eq!(BlockProof::from_bytes(&bytes[..10]).err(), Some(ProofDecodeError::Truncated));
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(BlockProof::from_bytes(&long).err(), Some(ProofDecodeError::TrailingBytes));
}

/// Proves a proof resent under another prover's address does not verify:
/// the reward cannot be stolen by relaying someone else's proof.
#[test]
fn swapped_prover_is_refused() {
    let witness = transfer_block();
    let mut proof = prove(&witness);
    proof.prover = Address(crate::hash::hash_bytes(crate::hash::Domain::Address, b"thief").0);
    assert!(verify_block(&witness.statement, &proof, &STANDARD).is_err());
}

/// Proves a changed claimed sum is refused before the STARK is checked.
#[test]
fn changed_claimed_sum_is_refused() {
    let witness = transfer_block();
    let mut proof = prove(&witness);
    proof.claimed_sums.write += proof.claimed_sums.merkle;
    assert_eq!(
        verify_block(&witness.statement, &proof, &STANDARD),
        Err(ProofError::WrongStatement)
    );
}

/// Proves the statement a verifier builds from the block equals the one the
/// prover's witness carries: nothing in it comes from the prover.
#[test]
fn verifier_builds_the_same_statement() {
    let mut chain = TestChain::new(&[1_000, 1_000]);
    let parent_root = chain.head.state_root;
    let (block, witness) = chain.next(vec![chain.pay(0, 0, 1, chain.address(1), 3)]);
    let reward = chain.state.registry().unwrap().params().block_reward;
    let built = BlockStatement::new(parent_root, &block, reward).unwrap();
    assert_eq!(built, witness.statement);
}
