//! Choosing transactions for a block: highest fee first, each sender in nonce order.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};

use crate::types::{Address, Hash, Transaction};

use super::Mempool;
use super::queue::{PendingTx, SenderQueue};

/// The next transaction a sender could contribute. Ordered by fee, then by lower
/// hash, so the order is total and every node builds the same block.
#[derive(PartialEq, Eq)]
struct Head<'a> {
    fee: u64,
    hash: Reverse<Hash>,
    sender: &'a Address,
    nonce: u64,
}

impl<'a> Head<'a> {
    fn new(sender: &'a Address, pending: &PendingTx) -> Self {
        Self { fee: pending.fee(), hash: Reverse(pending.hash), sender, nonce: pending.nonce() }
    }
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.fee, self.hash).cmp(&(other.fee, other.hash))
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Mempool {
    /// Up to `max_txs` transactions whose wire sizes total at most `max_bytes`,
    /// in the order a block should apply them.
    ///
    /// Only each sender's gap-free run from its account nonce is eligible. At each
    /// step the highest-fee head among all senders is taken and that sender's next
    /// nonce becomes its head. A head too large for the bytes left ends its
    /// sender's turn (later nonces depend on it) while smaller ones may still fit.
    /// The pool is not changed: the builder executes the result, [`Mempool::remove`]s
    /// what fails, and prunes the rest once the block commits.
    pub fn select(&self, max_txs: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut heads: BinaryHeap<Head<'_>> = self
            .senders
            .iter()
            .filter_map(|(sender, q)| q.txs.get(&q.base_nonce).map(|p| Head::new(sender, p)))
            .collect();
        let mut chosen = Vec::new();
        let mut bytes_left = max_bytes;
        while chosen.len() < max_txs {
            let Some(head) = heads.pop() else { break };
            let queue = &self.senders[head.sender];
            let pending = &queue.txs[&head.nonce];
            if pending.size > bytes_left {
                continue;
            }
            bytes_left -= pending.size;
            chosen.push(pending.tx.clone());
            heads.extend(successor(queue, head.nonce).map(|p| Head::new(head.sender, p)));
        }
        chosen
    }
}

/// The sender's transaction right after `nonce`, if pending.
fn successor(queue: &SenderQueue, nonce: u64) -> Option<&PendingTx> {
    queue.txs.get(&nonce.checked_add(1)?)
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::encoding::Message;
    use crate::exec::testing::chain;
    use crate::mempool::testing::{add, rich, tx};

    fn hashes(txs: &[Transaction]) -> Vec<Hash> {
        txs.iter().map(Transaction::hash).collect()
    }

    /// Proves heads are taken by fee across senders.
    #[test]
    fn highest_fee_first_across_senders() {
        let mut pool = Mempool::default();
        let (a, b, c) = (tx(1, 0, 5), tx(2, 0, 9), tx(3, 0, 7));
        for t in [&a, &b, &c] {
            add(&mut pool, t).unwrap();
        }
        assert_eq!(hashes(&pool.select(10, usize::MAX)), [b.hash(), c.hash(), a.hash()]);
    }

    /// Proves a sender's high-fee later nonce waits for its low-fee earlier one.
    #[test]
    fn nonce_order_within_a_sender() {
        let mut pool = Mempool::default();
        let (a0, a1, b0) = (tx(1, 0, 1), tx(1, 1, 100), tx(2, 0, 50));
        for t in [&a1, &a0, &b0] {
            add(&mut pool, t).unwrap();
        }
        assert_eq!(hashes(&pool.select(10, usize::MAX)), [b0.hash(), a0.hash(), a1.hash()]);
    }

    /// Proves nothing behind a gap, or not starting at the account nonce, is chosen.
    #[test]
    fn gaps_stop_a_sender() {
        let mut pool = Mempool::default();
        let a0 = tx(1, 0, 1);
        add(&mut pool, &a0).unwrap();
        add(&mut pool, &tx(1, 2, 1)).unwrap();
        add(&mut pool, &tx(2, 1, 1)).unwrap();
        assert_eq!(hashes(&pool.select(10, usize::MAX)), [a0.hash()]);
    }

    /// Proves equal fees are ordered by lower hash, so output is deterministic.
    #[test]
    fn ties_break_by_hash() {
        let mut pool = Mempool::default();
        let (a, b) = (tx(1, 0, 4), tx(2, 0, 4));
        add(&mut pool, &a).unwrap();
        add(&mut pool, &b).unwrap();
        let mut expected = [a.hash(), b.hash()];
        expected.sort();
        assert_eq!(hashes(&pool.select(10, usize::MAX)), expected);
    }

    /// Proves both limits are respected, and a too-large head lets others fit.
    #[test]
    fn limits_are_respected() {
        let mut pool = Mempool::default();
        for seed in 1..=4 {
            add(&mut pool, &tx(seed, 0, u64::from(seed))).unwrap();
        }
        let size = tx(1, 0, 1).encode_message().len();
        assert_eq!(pool.select(2, usize::MAX).len(), 2);
        assert_eq!(pool.select(10, 3 * size).len(), 3);
        assert_eq!(pool.select(10, size - 1).len(), 0);
        assert!(pool.select(0, usize::MAX).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Proves, for arbitrary pools and limits, that selection emits each
        /// sender's nonces consecutively from its account nonce and never exceeds
        /// either limit.
        #[test]
        fn selection_keeps_nonce_order_and_limits(
            txs in prop::collection::vec((1u8..5, 0u64..6, 1u64..20), 0..20),
            base in prop::collection::vec(0u64..3, 4),
            max_txs in 0usize..25,
            max_bytes in 0usize..4000,
        ) {
            let mut pool = Mempool::default();
            for (seed, offset, fee) in txs {
                let nonce = base[usize::from(seed - 1)] + offset;
                let _ = pool.insert(tx(seed, nonce, fee), &rich(base[usize::from(seed - 1)]), &chain());
            }
            let chosen = pool.select(max_txs, max_bytes);
            prop_assert!(chosen.len() <= max_txs);
            let bytes: usize = chosen.iter().map(|t| t.encode_message().len()).sum();
            prop_assert!(bytes <= max_bytes);
            let mut next: BTreeMap<Address, u64> = BTreeMap::new();
            for t in &chosen {
                let sender = t.sender();
                let expected = next.get(&sender).copied().unwrap_or_else(|| {
                    pool.senders[&sender].base_nonce
                });
                prop_assert_eq!(t.body.nonce, expected);
                next.insert(sender, expected + 1);
            }
        }
    }
}
