//! One sender's pending transactions, in nonce order.

use alloc::collections::BTreeMap;

use crate::types::{Hash, Transaction};

/// A pending transaction with the facts the pool needs about it, computed once.
#[derive(Clone, Debug)]
pub(super) struct PendingTx {
    pub tx: Transaction,
    pub hash: Hash,
    /// Length of the wire encoding (what the pool's byte limit counts).
    pub size: usize,
    /// Amount plus fee (known not to overflow: checked on admission).
    pub cost: u64,
}

impl PendingTx {
    pub fn nonce(&self) -> u64 {
        self.tx.body.nonce
    }

    pub fn fee(&self) -> u64 {
        self.tx.body.fee
    }
}

/// A sender's pending transactions keyed by nonce, and the nonce the sender's
/// account had when the pool last learned it. Only transactions continuing from
/// `base_nonce` without a gap can go into a block.
#[derive(Clone, Debug)]
pub(super) struct SenderQueue {
    pub base_nonce: u64,
    pub txs: BTreeMap<u64, PendingTx>,
}

impl SenderQueue {
    pub fn new(base_nonce: u64) -> Self {
        Self { base_nonce, txs: BTreeMap::new() }
    }

    /// The highest-nonce transaction: the only one that can be evicted without
    /// leaving a gap behind it.
    pub fn tail(&self) -> Option<&PendingTx> {
        self.txs.last_key_value().map(|(_, tx)| tx)
    }

    /// Transactions with a nonce of at least `next`: those that may still execute.
    pub fn live(&self, next: u64) -> impl Iterator<Item = &PendingTx> {
        self.txs.range(next..).map(|(_, tx)| tx)
    }

    /// Transactions with a nonce below `next`: already used, so never executable.
    pub fn stale(&self, next: u64) -> impl Iterator<Item = &PendingTx> {
        self.txs.range(..next).map(|(_, tx)| tx)
    }

    /// The run of transactions from `base_nonce` on with no gap: what a block may
    /// include from this sender, in order.
    pub fn ready(&self) -> impl Iterator<Item = &PendingTx> {
        self.txs
            .range(self.base_nonce..)
            .zip(self.base_nonce..)
            .take_while(|((nonce, _), expected)| *nonce == expected)
            .map(|((_, tx), _)| tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::testing::{key, transfer};
    use crate::types::Address;

    fn queue(base: u64, nonces: &[u64]) -> SenderQueue {
        let k = key(1);
        let mut q = SenderQueue::new(base);
        for &nonce in nonces {
            let tx = transfer(&k, nonce, 1, Address::ZERO, 1);
            q.txs.insert(nonce, PendingTx { hash: tx.hash(), size: 0, cost: 2, tx });
        }
        q
    }

    fn nonces<'a>(txs: impl Iterator<Item = &'a PendingTx>) -> alloc::vec::Vec<u64> {
        txs.map(PendingTx::nonce).collect()
    }

    /// Proves the ready run starts at the base nonce and stops at the first gap.
    #[test]
    fn ready_stops_at_a_gap() {
        assert_eq!(nonces(queue(3, &[3, 4, 6, 7]).ready()), [3, 4]);
        assert_eq!(nonces(queue(2, &[3, 4]).ready()), [] as [u64; 0]);
    }

    /// Proves live and stale split the queue at the next nonce, and the tail is the
    /// highest nonce.
    #[test]
    fn live_stale_and_tail() {
        let q = queue(0, &[1, 2, 5]);
        assert_eq!(nonces(q.stale(2)), [1]);
        assert_eq!(nonces(q.live(2)), [2, 5]);
        assert_eq!(q.tail().map(PendingTx::nonce), Some(5));
    }
}
