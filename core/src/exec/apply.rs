//! The stateful rules: nonce, balance, and the transfer itself; staking calls
//! are handed to [`crate::staking`].

use crate::staking::apply_staking_call;
use crate::state::{Account, StateView};
use crate::types::{Address, Call, Hash, Transaction};

use super::{TxError, check_call};

/// What applying one transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub tx_hash: Hash,
    pub sender: Address,
    /// Paid by the sender: burned in the single stage, paid out as rewards under
    /// proof of stake (see the [module docs](super)).
    pub fee: u64,
}

/// The account writes a transaction makes, worked out before any is made.
struct Writes {
    sender: Address,
    /// The sender's account before, kept to undo a half-done write.
    sender_before: Account,
    sender_after: Account,
    /// `None` for a self-transfer, whose effect is all in `sender_after`.
    recipient: Option<(Address, Account)>,
}

/// Applies `tx` to `state` under the stateful rules, assuming the caller has run
/// [`super::check_stateless`] on it.
///
/// The nonce must equal the sender's account nonce, and the balance must cover
/// amount plus fee. The sender is debited amount plus fee and its nonce bumped; the
/// recipient is credited the amount; the fee is burned. A self-transfer therefore
/// only pays the fee and bumps the nonce, and a zero amount is allowed (it still
/// uses a nonce and pays the fee).
///
/// A staking call pays its fee (and any amount it bonds) the same way, and
/// changes the sender's account and the staking registry under the rules of
/// [`crate::staking`].
///
/// On any error the state is unchanged: every rule is checked before the first
/// write, and if the state refuses the second write the first is undone.
pub fn apply_transaction<S: StateView>(
    state: &mut S,
    tx: &Transaction,
) -> Result<Receipt, TxError> {
    if let Call::Transfer { .. } = tx.body.call {
        let writes = plan(state, tx)?;
        commit(state, writes)?;
    } else {
        apply_staking_call(state, tx)?;
    }
    Ok(Receipt { tx_hash: tx.hash(), sender: tx.sender(), fee: tx.body.fee })
}

/// Reads the accounts involved and checks every rule; writes nothing.
fn plan<S: StateView>(state: &S, tx: &Transaction) -> Result<Writes, TxError> {
    let Call::Transfer { to, amount } = tx.body.call else {
        unreachable!("only transfers are planned here");
    };
    // Stateless, but re-checked because it is nearly free and otherwise the state
    // would refuse the write with a less helpful error.
    check_call(tx)?;
    let sender = tx.sender();
    let before = state.account(&sender)?;
    let mut after = debit(&before, tx)?;
    if to == sender {
        // Cannot overflow: the credit only gives back part of what was debited.
        after.balance += amount;
        return Ok(Writes { sender, sender_before: before, sender_after: after, recipient: None });
    }
    let mut recipient = state.account(&to)?;
    recipient.balance = recipient.balance.checked_add(amount).ok_or(TxError::RecipientOverflow)?;
    Ok(Writes {
        sender,
        sender_before: before,
        sender_after: after,
        recipient: Some((to, recipient)),
    })
}

/// The sender's account after paying amount plus fee and using its nonce.
pub(crate) fn debit(account: &Account, tx: &Transaction) -> Result<Account, TxError> {
    let nonce = next_nonce(account.nonce, tx.body.nonce)?;
    let needed = tx.total_cost().ok_or(TxError::AmountOverflow)?;
    let available = account.balance;
    let balance =
        available.checked_sub(needed).ok_or(TxError::InsufficientBalance { needed, available })?;
    Ok(Account { balance, nonce, ..*account })
}

/// The account nonce after a transaction with nonce `found`, which must be the
/// account's current nonce `expected`.
fn next_nonce(expected: u64, found: u64) -> Result<u64, TxError> {
    if found < expected {
        return Err(TxError::NonceTooLow { expected, found });
    }
    if found > expected {
        return Err(TxError::NonceTooHigh { expected, found });
    }
    expected.checked_add(1).ok_or(TxError::NonceExhausted)
}

/// Makes the planned writes, undoing the sender's if the recipient's is refused.
fn commit<S: StateView>(state: &mut S, writes: Writes) -> Result<(), TxError> {
    state.set_account(writes.sender, writes.sender_after)?;
    let Some((to, account)) = writes.recipient else {
        return Ok(());
    };
    if let Err(e) = state.set_account(to, account) {
        // The old value was just read from this state, so writing it back succeeds
        // for any state that could write the new one; if it did not, the caller
        // still gets the error and discards the state.
        let _ = state.set_account(writes.sender, writes.sender_before);
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::testing::{account, chain, funded, key, transfer};
    use crate::state::{PartialState, StateError, StateTree};
    use crate::types::TxBody;

    /// Applies `tx` expecting `error`, and proves the state root did not move.
    fn rejects(state: &mut StateTree, tx: &Transaction, error: TxError) {
        let root = state.state_root();
        assert_eq!(apply_transaction(state, tx), Err(error));
        assert_eq!(state.state_root(), root, "a rejected transaction changed the state");
    }

    /// Proves a transfer debits amount plus fee, bumps the nonce, credits the
    /// recipient, burns the fee and returns a receipt naming the transaction.
    #[test]
    fn transfer_moves_amount_and_burns_fee() {
        let (alice, bob) = (key(1), key(2));
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let tx = transfer(&alice, 0, 3, bob.public_key().address(), 40);
        let receipt = apply_transaction(&mut state, &tx).unwrap();
        assert_eq!(receipt, Receipt { tx_hash: tx.hash(), sender: tx.sender(), fee: 3 });
        assert_eq!(state.account(&tx.sender()).unwrap(), account(57, 1));
        assert_eq!(state.account(&bob.public_key().address()).unwrap(), account(40, 0));
    }

    /// Proves a self-transfer only pays the fee and bumps the nonce.
    #[test]
    fn self_transfer_pays_only_the_fee() {
        let alice = key(1);
        let me = alice.public_key().address();
        let mut state = funded(&[(me, 100)]);
        apply_transaction(&mut state, &transfer(&alice, 0, 2, me, 60)).unwrap();
        assert_eq!(state.account(&me).unwrap(), account(98, 1));
    }

    /// Proves a self-transfer of the whole balance minus the fee is allowed (the
    /// amount must be held, even though it comes straight back).
    #[test]
    fn self_transfer_needs_amount_plus_fee() {
        let alice = key(1);
        let me = alice.public_key().address();
        let mut state = funded(&[(me, 100)]);
        let too_much = transfer(&alice, 0, 2, me, 99);
        rejects(
            &mut state,
            &too_much,
            TxError::InsufficientBalance { needed: 101, available: 100 },
        );
        apply_transaction(&mut state, &transfer(&alice, 0, 2, me, 98)).unwrap();
        assert_eq!(state.account(&me).unwrap(), account(98, 1));
    }

    /// Proves a zero-amount transfer is valid: it pays the fee and uses the nonce.
    #[test]
    fn zero_amount_is_allowed() {
        let (alice, bob) = (key(1), key(2));
        let mut state = funded(&[(alice.public_key().address(), 10)]);
        apply_transaction(&mut state, &transfer(&alice, 0, 1, bob.public_key().address(), 0))
            .unwrap();
        assert_eq!(state.account(&alice.public_key().address()).unwrap(), account(9, 1));
        assert_eq!(state.account(&bob.public_key().address()).unwrap(), account(0, 0));
    }

    /// Proves nonces must be used one by one, in order.
    #[test]
    fn nonces_are_sequential() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let to = Address::ZERO;
        rejects(
            &mut state,
            &transfer(&alice, 1, 1, to, 1),
            TxError::NonceTooHigh { expected: 0, found: 1 },
        );
        for nonce in 0..3 {
            apply_transaction(&mut state, &transfer(&alice, nonce, 1, to, 1)).unwrap();
        }
        assert_eq!(state.account(&alice.public_key().address()).unwrap().nonce, 3);
    }

    /// Proves applying the same transaction twice fails: the replay's nonce is used.
    #[test]
    fn replay_is_nonce_too_low() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let tx = transfer(&alice, 0, 1, Address::ZERO, 5);
        apply_transaction(&mut state, &tx).unwrap();
        rejects(&mut state, &tx, TxError::NonceTooLow { expected: 1, found: 0 });
    }

    /// Proves a sender whose balance is one short is refused, and exact is enough.
    #[test]
    fn balance_must_cover_amount_plus_fee() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 10)]);
        let short = transfer(&alice, 0, 2, Address::ZERO, 9);
        rejects(&mut state, &short, TxError::InsufficientBalance { needed: 11, available: 10 });
        apply_transaction(&mut state, &transfer(&alice, 0, 2, Address::ZERO, 8)).unwrap();
        assert_eq!(state.account(&alice.public_key().address()).unwrap(), account(0, 1));
    }

    /// Proves a new, never-funded sender is refused for lack of balance.
    #[test]
    fn unfunded_sender_is_refused() {
        let mut state = StateTree::new();
        let tx = transfer(&key(1), 0, 1, Address::ZERO, 0);
        rejects(&mut state, &tx, TxError::InsufficientBalance { needed: 1, available: 0 });
    }

    /// Proves amount plus fee overflowing `u64` is its own error, not a balance one.
    #[test]
    fn overflowing_cost_is_refused() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), u64::MAX)]);
        let tx = transfer(&alice, 0, 1, Address::ZERO, u64::MAX);
        rejects(&mut state, &tx, TxError::AmountOverflow);
    }

    /// Proves a sender holding `u64::MAX` can spend all of it.
    #[test]
    fn whole_max_balance_can_be_spent() {
        let (alice, bob) = (key(1), key(2));
        let mut state = funded(&[(alice.public_key().address(), u64::MAX)]);
        let tx = transfer(&alice, 0, 1, bob.public_key().address(), u64::MAX - 1);
        apply_transaction(&mut state, &tx).unwrap();
        assert_eq!(state.account(&alice.public_key().address()).unwrap(), account(0, 1));
        assert_eq!(state.account(&bob.public_key().address()).unwrap().balance, u64::MAX - 1);
    }

    /// Proves a credit that would take the recipient past `u64::MAX` is refused,
    /// leaving the sender's debit undone too, and that reaching exactly the maximum
    /// is fine.
    #[test]
    fn recipient_overflow_is_refused() {
        let (alice, bob) = (key(1), key(2));
        let rich = bob.public_key().address();
        let mut state = funded(&[(alice.public_key().address(), 100), (rich, u64::MAX - 5)]);
        rejects(&mut state, &transfer(&alice, 0, 1, rich, 6), TxError::RecipientOverflow);
        apply_transaction(&mut state, &transfer(&alice, 0, 1, rich, 5)).unwrap();
        assert_eq!(state.account(&rich).unwrap().balance, u64::MAX);
    }

    /// Proves an account at nonce `u64::MAX` can send nothing more.
    #[test]
    fn exhausted_nonce_is_refused() {
        let alice = key(1);
        let me = alice.public_key().address();
        let mut state = StateTree::new();
        state.set_account(me, account(100, u64::MAX)).unwrap();
        rejects(&mut state, &transfer(&alice, u64::MAX, 1, me, 0), TxError::NonceExhausted);
    }

    /// Proves that addresses sharing a long key prefix are ordinary recipients: the
    /// state tree keys accounts by the whole address, so no address can occupy or
    /// block another's place.
    #[test]
    fn addresses_sharing_a_long_prefix_both_hold_accounts() {
        let (alice, bob) = (key(1), key(2));
        let occupant = bob.public_key().address();
        let mut neighbour = occupant;
        neighbour.0[28] ^= 1; // differs only in the last limb
        let mut state = funded(&[(alice.public_key().address(), 100), (occupant, 1)]);
        apply_transaction(&mut state, &transfer(&alice, 0, 1, neighbour, 5)).unwrap();
        assert_eq!(state.account(&neighbour).unwrap().balance, 5);
        assert_eq!(state.account(&occupant).unwrap().balance, 1);
    }

    /// Proves a recipient that cannot hold an account is refused before any write.
    #[test]
    fn invalid_recipient_is_refused() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let bad = Address([0xff; 32]);
        rejects(&mut state, &transfer(&alice, 0, 1, bad, 5), TxError::InvalidRecipient(bad));
    }

    /// Proves a read the state refuses (a partial state without the witness) is
    /// reported as a state error and changes nothing.
    #[test]
    fn refused_read_is_a_state_error() {
        let (alice, bob) = (key(1), key(2));
        let to = bob.public_key().address();
        // Bob exists but only Alice is witnessed: Bob's leaf is behind a digest.
        let tree = funded(&[(alice.public_key().address(), 100), (to, 1)]);
        let witness = tree.witness([&alice.public_key().address()]);
        let mut partial = PartialState::from_witness(tree.root(), &witness).unwrap();
        let root = partial.state_root();
        let tx = transfer(&alice, 0, 1, to, 5);
        let missing = TxError::State(StateError::MissingWitness(to));
        assert_eq!(apply_transaction(&mut partial, &tx), Err(missing));
        assert_eq!(partial.state_root(), root);
    }

    /// Proves the stateful rules do not look at the chain or signature: that is
    /// `check_stateless`'s job, and block validation runs both.
    #[test]
    fn apply_trusts_the_stateless_checks() {
        let alice = key(1);
        let mut state = funded(&[(alice.public_key().address(), 100)]);
        let body = TxBody { chain_id: chain(), ..transfer(&alice, 0, 1, Address::ZERO, 1).body };
        let unsigned =
            Transaction { body, signature: transfer(&key(9), 0, 0, Address::ZERO, 0).signature };
        assert!(apply_transaction(&mut state, &unsigned).is_ok());
    }
}
