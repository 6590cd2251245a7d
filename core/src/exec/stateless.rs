//! Checks that need no state: chain, cost overflow, call shape and signature.

use crate::hash::is_canonical;
use crate::staking::{BPS, REGISTRY, StakingError, check_evidence};
use crate::types::{Call, ChainId, Hash, Transaction};

use super::TxError;

/// Runs every stateless rule, cheapest first: the chain id, whether amount plus
/// fee fits a `u64`, whether the call is well formed, then the signature (about
/// 335 µs, so last: a transaction that fails a cheap rule costs its sender's
/// peers almost nothing).
pub fn check_stateless(tx: &Transaction, chain_id: &ChainId) -> Result<(), TxError> {
    check_chain(tx, chain_id)?;
    tx.total_cost().ok_or(TxError::AmountOverflow)?;
    check_call(tx)?;
    check_signature(tx)
}

/// The transaction must be signed for this chain, so a signature made for a test
/// network can never move funds on another.
pub fn check_chain(tx: &Transaction, chain_id: &ChainId) -> Result<(), TxError> {
    if &tx.body.chain_id == chain_id {
        return Ok(());
    }
    Err(TxError::WrongChain { expected: chain_id.clone(), found: tx.body.chain_id.clone() })
}

/// The call must be able to apply to some state:
///
/// - an address it names must be a canonical digest (every limb below 2^31 - 1):
///   the state cannot hold an account anywhere else, so a transfer there could
///   never apply; and a transfer may not go to the staking [`REGISTRY`], whose
///   balance is only the tokens its records owe;
/// - a commission is at most 100%;
/// - evidence is two conflicting votes of the transaction's chain, both
///   correctly signed (two Ed25519 checks, about 60 µs).
///
/// Refusing these here keeps them out of the mempool and makes the error say why.
pub fn check_call(tx: &Transaction) -> Result<(), TxError> {
    let call = &tx.body.call;
    if let Some(address) = call.named_address() {
        if !is_canonical(&address.as_hash()) {
            return Err(TxError::InvalidRecipient(address));
        }
        if address == REGISTRY {
            return Err(TxError::ReservedRecipient(address));
        }
    }
    match call {
        Call::Stake { commission_bps, .. } if *commission_bps > BPS => {
            let found = *commission_bps;
            Err(StakingError::CommissionTooHigh { max: BPS, found }.into())
        }
        Call::Evidence { a, b } => {
            check_evidence(a, b, &tx.body.chain_id).map_err(|e| StakingError::from(e).into())
        }
        _ => Ok(()),
    }
}

/// The signature must verify against the sender key named in the body.
pub fn check_signature(tx: &Transaction) -> Result<(), TxError> {
    tx.verify_signature().map_err(TxError::BadSignature)
}

/// A transaction whose signature has been checked, with its hash.
///
/// Signature verification dominates the cost of admitting a transaction, and it
/// depends on nothing but the transaction, so hosts verify on as many cores as they
/// have (threads natively, Web Workers in a browser) and hand the result to the
/// single-threaded [`crate::mempool::Mempool`]. The field is private: the only way to
/// get one is [`VerifiedTransaction::verify`], so the type itself is the proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTransaction {
    tx: Transaction,
    hash: Hash,
}

impl VerifiedTransaction {
    /// Verifies the signature (computing the hash once for both uses).
    pub fn verify(tx: Transaction) -> Result<Self, TxError> {
        let hash = tx.hash();
        tx.body.sender_key.verify(&hash, &tx.signature).map_err(TxError::BadSignature)?;
        Ok(Self { tx, hash })
    }

    pub fn transaction(&self) -> &Transaction {
        &self.tx
    }

    /// The transaction hash, computed during verification.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    pub fn into_transaction(self) -> Transaction {
        self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureError;
    use crate::exec::testing::{chain, key, transfer};
    use crate::types::Address;

    /// Proves a correctly signed transaction on the right chain passes.
    #[test]
    fn valid_transaction_passes() {
        let tx = transfer(&key(1), 0, 1, Address::ZERO, 5);
        assert_eq!(check_stateless(&tx, &chain()), Ok(()));
    }

    /// Proves a transaction for another chain is refused with both chain ids named.
    #[test]
    fn wrong_chain_is_refused() {
        let tx = transfer(&key(1), 0, 1, Address::ZERO, 5);
        let other = ChainId::new("elsewhere").unwrap();
        let expected = TxError::WrongChain { expected: other.clone(), found: chain() };
        assert_eq!(check_stateless(&tx, &other), Err(expected));
    }

    /// Proves any change to a signed body breaks the signature.
    #[test]
    fn tampered_body_fails_signature() {
        let mut tx = transfer(&key(1), 0, 1, Address::ZERO, 5);
        tx.body.call = Call::Transfer { to: Address::ZERO, amount: 6 };
        let expected = TxError::BadSignature(SignatureError::Mismatch);
        assert_eq!(check_stateless(&tx, &chain()), Err(expected));
    }

    /// Proves a signature by a key other than the named sender key is refused.
    #[test]
    fn signature_by_another_key_fails() {
        let mut tx = transfer(&key(1), 0, 1, Address::ZERO, 5);
        tx.signature = transfer(&key(2), 0, 1, Address::ZERO, 5).signature;
        assert!(matches!(check_stateless(&tx, &chain()), Err(TxError::BadSignature(_))));
    }

    /// Proves an amount plus fee that overflows is refused before the signature is
    /// even looked at (the signature here is garbage).
    #[test]
    fn overflowing_cost_is_refused_before_signature() {
        let mut tx = transfer(&key(1), 0, 1, Address::ZERO, u64::MAX);
        tx.signature.r = Hash([0xff; 32]);
        assert_eq!(check_stateless(&tx, &chain()), Err(TxError::AmountOverflow));
    }

    /// Proves a recipient that is not a canonical digest is refused, while one
    /// with every limb just below the modulus is fine.
    #[test]
    fn non_canonical_recipient_is_refused() {
        let bad = Address([0xff; 32]);
        let tx = transfer(&key(1), 0, 1, bad, 5);
        assert_eq!(check_stateless(&tx, &chain()), Err(TxError::InvalidRecipient(bad)));
        let edge = Address(core::array::from_fn(|i| [0xfe, 0xff, 0xff, 0x7f][i % 4]));
        let tx = transfer(&key(1), 0, 1, edge, 5);
        assert_eq!(check_stateless(&tx, &chain()), Ok(()));
    }

    /// Proves staking calls naming a non-canonical address or the registry, a
    /// commission above 100% and bad evidence are refused before the signature.
    #[test]
    fn malformed_staking_calls_are_refused() {
        use crate::types::TxBody;
        let call = |call: Call| -> Transaction {
            let body = TxBody { call, ..transfer(&key(1), 0, 1, Address::ZERO, 0).body };
            Transaction { body, signature: transfer(&key(1), 0, 1, Address::ZERO, 0).signature }
        };
        let bad = Address([0xff; 32]);
        let tx = call(Call::Delegate { staker: bad, amount: 1 });
        assert_eq!(check_stateless(&tx, &chain()), Err(TxError::InvalidRecipient(bad)));
        let tx = call(Call::Transfer { to: REGISTRY, amount: 1 });
        assert_eq!(check_stateless(&tx, &chain()), Err(TxError::ReservedRecipient(REGISTRY)));
        let consensus_key = crate::crypto::SequencerKey::from_seed(&[1; 32]).public_key();
        let tx = call(Call::Stake { consensus_key, amount: 1, commission_bps: BPS + 1 });
        assert!(matches!(check_stateless(&tx, &chain()), Err(TxError::Staking(_))));
        let votes = crate::types::transaction::tests::every_call().pop().unwrap();
        let Call::Evidence { a, .. } = votes else { unreachable!() };
        let tx = call(Call::Evidence { a: a.clone(), b: a });
        assert!(matches!(
            check_stateless(&tx, &chain()),
            Err(TxError::Staking(StakingError::Evidence(_)))
        ));
    }

    /// Proves `VerifiedTransaction` accepts only valid signatures and keeps the hash.
    #[test]
    fn verified_transaction_requires_a_valid_signature() {
        let tx = transfer(&key(1), 0, 1, Address::ZERO, 5);
        let verified = VerifiedTransaction::verify(tx.clone()).unwrap();
        assert_eq!(verified.hash(), tx.hash());
        assert_eq!(verified.transaction(), &tx);
        let mut bad = tx;
        bad.body.fee = 2;
        assert!(matches!(VerifiedTransaction::verify(bad), Err(TxError::BadSignature(_))));
    }
}
