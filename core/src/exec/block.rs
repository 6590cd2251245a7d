//! Applying a whole block's transactions, as a node does to check a block it did
//! not build.

use alloc::vec::Vec;

use crate::state::StateView;
use crate::types::{ChainId, Transaction};

use super::{BlockExecError, Receipt, apply_transaction, check_stateless};

/// Checks and applies `txs` in order, stopping at the first that fails.
///
/// Every transaction gets the stateless checks (chain, signature) and then the
/// stateful ones. On error the block is invalid and `state` holds the effects of
/// the transactions before the failing one: the caller applies blocks to a copy
/// and discards it. A block's receipts are returned in block order.
pub fn apply_transactions<S: StateView>(
    state: &mut S,
    chain_id: &ChainId,
    txs: &[Transaction],
) -> Result<Vec<Receipt>, BlockExecError> {
    txs.iter()
        .enumerate()
        .map(|(index, tx)| {
            check_stateless(tx, chain_id)
                .and_then(|()| apply_transaction(state, tx))
                .map_err(|error| BlockExecError { index, hash: tx.hash(), error })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::TxError;
    use crate::exec::testing::{account, chain, funded, key, transfer};
    use crate::state::StateTree;
    use crate::types::Address;

    /// Proves a valid sequence applies in order, chaining a sender's nonces and
    /// letting a recipient spend what it received earlier in the same block.
    #[test]
    fn valid_block_applies_in_order() {
        let (alice, bob) = (key(1), key(2));
        let bob_addr = bob.public_key().address();
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let txs = [
            transfer(&alice, 0, 1, bob_addr, 50),
            transfer(&alice, 1, 1, bob_addr, 10),
            transfer(&bob, 0, 2, Address::ZERO, 55),
        ];
        let receipts = apply_transactions(&mut state, &chain(), &txs).unwrap();
        let hashes: Vec<_> = receipts.iter().map(|r| r.tx_hash).collect();
        assert_eq!(hashes, txs.iter().map(Transaction::hash).collect::<Vec<_>>());
        assert_eq!(state.account(&alice.public_key().address()).unwrap(), account(38, 2));
        assert_eq!(state.account(&bob_addr).unwrap(), account(3, 1));
    }

    /// Proves the first failing transaction is reported with its index and hash.
    #[test]
    fn first_failure_is_reported_with_position() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let txs =
            [transfer(&alice, 0, 1, Address::ZERO, 1), transfer(&alice, 0, 1, Address::ZERO, 2)];
        let err = apply_transactions(&mut state, &chain(), &txs).unwrap_err();
        assert_eq!(
            err,
            BlockExecError {
                index: 1,
                hash: txs[1].hash(),
                error: TxError::NonceTooLow { expected: 1, found: 0 },
            }
        );
    }

    /// Proves block validation runs the stateless checks: a forged signature fails
    /// even though the sender could pay.
    #[test]
    fn bad_signature_fails_the_block() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let mut tx = transfer(&alice, 0, 1, Address::ZERO, 1);
        tx.body.fee = 2;
        let err = apply_transactions(&mut state, &chain(), &[tx]).unwrap_err();
        assert!(matches!(err.error, TxError::BadSignature(_)), "{err:?}");
    }

    /// Proves a transaction for another chain fails the block.
    #[test]
    fn wrong_chain_fails_the_block() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let tx = transfer(&alice, 0, 1, Address::ZERO, 1);
        let other = ChainId::new("other").unwrap();
        let err = apply_transactions(&mut state, &other, &[tx]).unwrap_err();
        assert!(matches!(err.error, TxError::WrongChain { .. }), "{err:?}");
    }

    /// Proves an empty block applies and leaves the state root unchanged.
    #[test]
    fn empty_block_changes_nothing() {
        let mut state: StateTree = funded(&[(Address::ZERO, 1)]);
        let root = state.state_root();
        assert_eq!(apply_transactions(&mut state, &chain(), &[]), Ok(Vec::new()));
        assert_eq!(state.state_root(), root);
    }
}
