//! Fixtures shared by the execution and mempool tests.

use crate::crypto::StarkSecretKey;
use crate::state::{Account, StateTree, StateView};
use crate::types::{Address, Call, ChainId, Hash, Transaction, TxBody};

/// The chain every test transaction is signed for.
pub(crate) fn chain() -> ChainId {
    ChainId::new("starling-test").unwrap()
}

/// A deterministic key per seed.
pub(crate) fn key(seed: u8) -> StarkSecretKey {
    StarkSecretKey::from_entropy(&[seed; 32])
}

/// A transfer signed by `key` on [`chain`].
pub(crate) fn transfer(
    key: &StarkSecretKey,
    nonce: u64,
    fee: u64,
    to: Address,
    amount: u64,
) -> Transaction {
    let body = TxBody {
        chain_id: chain(),
        sender_key: key.public_key(),
        nonce,
        fee,
        call: Call::Transfer { to, amount },
    };
    body.sign(key)
}

/// An account with no staking records.
pub(crate) fn account(balance: u64, nonce: u64) -> Account {
    Account { balance, nonce, staking: Hash::ZERO }
}

/// A state tree holding `balances` at nonce zero.
pub(crate) fn funded(balances: &[(Address, u64)]) -> StateTree {
    let mut state = StateTree::new();
    for (address, balance) in balances {
        state.set_account(*address, account(*balance, 0)).unwrap();
    }
    state
}
