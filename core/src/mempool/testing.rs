//! Fixtures shared by the mempool tests.

use crate::exec::testing::{account, chain, key, transfer};
use crate::state::Account;
use crate::types::{Address, Transaction};

use super::{Inserted, Mempool, MempoolConfig, MempoolError};

/// A transfer of 1 from the key with `seed`, with the given nonce and fee.
pub(super) fn tx(seed: u8, nonce: u64, fee: u64) -> Transaction {
    transfer(&key(seed), nonce, fee, Address::ZERO, 1)
}

/// A well-funded account at `nonce`.
pub(super) fn rich(nonce: u64) -> Account {
    account(1_000_000, nonce)
}

/// A pool with the default limits changed by `change`.
pub(super) fn pool_with(change: impl FnOnce(&mut MempoolConfig)) -> Mempool {
    let mut config = MempoolConfig::default();
    change(&mut config);
    Mempool::new(config)
}

/// Inserts `tx` for a well-funded sender at nonce 0.
pub(super) fn add(pool: &mut Mempool, tx: &Transaction) -> Result<Inserted, MempoolError> {
    pool.insert(tx.clone(), &rich(0), &chain())
}
