//! The verifier is tested on real chains built with `starling-core`'s own block
//! builder (the daemon's code path), then damaged one field at a time: each test
//! proves that one kind of forgery is caught and that the reason names it.

use starling_core::crypto::SequencerKey;
use starling_core::types::Hash;

use super::test_chain::{CHAIN, TestChain, hex_of};
use super::*;

fn verifier(chain: &TestChain) -> ChainVerifier {
    ChainVerifier::new(CHAIN, &chain.sequencer_hex()).unwrap()
}

#[test]
fn honest_blocks_verify_from_hex_and_summarise_their_transactions() {
    let chain = TestChain::build(2, 7);
    let v = verifier(&chain);
    let first = v
        .verify_hex(
            &hex_of(chain.block(1)),
            &hex_of(chain.block(0)),
            &hex_of(chain.witness(1).unwrap()),
        )
        .unwrap();
    assert_eq!(first.height, 1);
    assert_eq!(first.hash, chain.block(1).hash().to_string());
    assert_eq!(first.transactions.len(), 1);
    let tx = &first.transactions[0];
    assert_eq!((tx.amount, tx.fee, tx.nonce, tx.kind.as_str()), (100, 3, 0, "transfer"));
    assert_eq!(tx.hash, chain.block(1).transactions[0].hash().to_string());

    let second = v
        .verify_hex(
            &hex_of(chain.block(2)),
            &hex_of(chain.block(1)),
            &hex_of(chain.witness(2).unwrap()),
        )
        .unwrap();
    assert_eq!(second.parent_hash, first.hash);
}

#[test]
fn a_flipped_signature_byte_is_rejected_as_a_bad_signature() {
    let chain = TestChain::build(1, 7);
    let mut block = chain.block(1).clone();
    block.signature.0[10] ^= 1;
    let err = verifier(&chain)
        .verify(&block, &chain.genesis.header, chain.witness(1).unwrap())
        .unwrap_err();
    assert!(err.contains("signature"), "{err}");
}

#[test]
fn a_forged_state_root_is_rejected_even_when_signed() {
    // The sequencer itself lies about the result: the signature is valid, so only
    // re-execution on the witnessed parent state can catch it.
    let chain = TestChain::build(1, 7);
    let mut header = chain.block(1).header.clone();
    header.state_root = Hash([9; 32]);
    let forged = header.seal(&chain.sequencer, chain.block(1).transactions.clone());
    let err = verifier(&chain)
        .verify(&forged, &chain.genesis.header, chain.witness(1).unwrap())
        .unwrap_err();
    assert!(err.contains("state root"), "{err}");
}

#[test]
fn a_block_signed_by_another_key_is_rejected() {
    let chain = TestChain::build(1, 7);
    let other = SequencerKey::from_seed(&[8; 32]);
    let v = ChainVerifier::new(CHAIN, &other.public_key().to_string()).unwrap();
    let err =
        v.verify(chain.block(1), &chain.genesis.header, chain.witness(1).unwrap()).unwrap_err();
    assert!(err.contains("expected"), "{err}");
}

#[test]
fn a_block_on_the_wrong_parent_is_rejected() {
    // A parent with the right state (so the witness checks out) but a different
    // header: only the parent-hash link can tell.
    let chain = TestChain::build(1, 7);
    let mut other_parent = chain.genesis.header.clone();
    other_parent.timestamp_ms += 1;
    let err = verifier(&chain)
        .verify(chain.block(1), &other_parent, chain.witness(1).unwrap())
        .unwrap_err();
    assert!(err.contains("does not extend"), "{err}");
}

#[test]
fn a_witness_for_another_state_is_rejected() {
    let chain = TestChain::build(2, 7);
    // Block 2's witness proves accounts against block 1's root, not genesis's.
    let result =
        verifier(&chain).verify(chain.block(1), &chain.genesis.header, chain.witness(2).unwrap());
    assert!(result.is_err());
}

#[test]
fn garbage_hex_is_reported_not_panicked_on() {
    let chain = TestChain::build(1, 7);
    let v = verifier(&chain);
    let genesis = hex_of(chain.block(0));
    let witness = hex_of(chain.witness(1).unwrap());
    let err = v.verify_hex("0xzz", &genesis, &witness).unwrap_err();
    assert!(err.starts_with("block is not valid hex"), "{err}");
    let mut truncated = hex_of(chain.block(1));
    truncated.truncate(truncated.len() - 8);
    let err = v.verify_hex(&truncated, &genesis, &witness).unwrap_err();
    assert!(err.starts_with("block does not decode"), "{err}");
}

#[test]
fn genesis_is_trusted_only_by_its_hash() {
    let chain = TestChain::build(1, 7);
    let hash = chain.genesis.hash().to_string();
    assert_eq!(check_genesis(&chain.genesis, &hash), Ok(()));
    assert!(check_genesis(&chain.genesis, &Hash([1; 32]).to_string()).is_err());
    assert!(check_genesis(chain.block(1), &chain.block(1).hash().to_string()).is_err());
    // Transactions listed under the trusted genesis header must be the ones it
    // commits to (none).
    let mut padded = chain.genesis.clone();
    padded.transactions.push(chain.block(1).transactions[0].clone());
    assert!(check_genesis(&padded, &hash).is_err());
}

#[test]
fn verifier_refuses_malformed_chain_ids_and_keys() {
    assert!(ChainVerifier::new("", &"00".repeat(32)).is_err());
    assert!(ChainVerifier::new(CHAIN, "0x1234").is_err());
}

#[test]
fn amounts_serialise_as_strings_for_javascript() {
    let chain = TestChain::build(1, 7);
    let json = serde_json::to_value(BlockSummary::of(chain.block(1))).unwrap();
    assert_eq!(json["transactions"][0]["amount"], "100");
    assert_eq!(json["transactions"][0]["fee"], "3");
    assert_eq!(json["height"], 1);
}

#[test]
fn verify_seal_checks_the_signature_but_not_the_state_root() {
    // What the page can check of its anchor: the seal, not the state transition.
    let lying = TestChain::with_lie_at(2, 7, Some(1));
    let v = verifier(&lying);
    assert_eq!(v.verify_seal(lying.block(2)), Ok(()));
    assert_eq!(v.verify_seal(lying.block(1)), Ok(()), "a signed false root passes the seal");
    let mut forged = lying.block(2).clone();
    forged.signature.0[0] ^= 1;
    let err = v.verify_seal(&forged).unwrap_err();
    assert!(err.contains("signature"), "{err}");
}

#[test]
fn a_block_on_a_lying_parent_passes_on_its_own_so_the_parent_must_be_checked_first() {
    // Why `verify` requires an accepted parent: block 2 is consistent with block
    // 1's false root, so only the rejection of block 1 keeps block 2 out.
    let lying = TestChain::with_lie_at(2, 7, Some(1));
    let v = verifier(&lying);
    let err =
        v.verify(lying.block(1), &lying.genesis.header, lying.witness(1).unwrap()).unwrap_err();
    assert!(err.contains("state root"), "{err}");
    assert_eq!(v.verify(lying.block(2), &lying.block(1).header, lying.witness(2).unwrap()), Ok(()));
}
