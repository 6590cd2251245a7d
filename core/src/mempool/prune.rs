//! Dropping transactions that were included or can no longer execute.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::types::{Address, Hash, Transaction};

use super::Mempool;

impl Mempool {
    /// Updates the pool after a block commits: every sender in `committed` gets
    /// its queue's base moved to `nonce_of(sender)` (its account nonce in the new
    /// state), which drops the included transactions and any other with a used
    /// nonce. Senders without a committed transaction are untouched: only their own
    /// transactions move their nonce. Returns the dropped hashes.
    pub fn remove_committed(
        &mut self,
        committed: &[Transaction],
        nonce_of: impl Fn(&Address) -> u64,
    ) -> Vec<Hash> {
        let senders: BTreeSet<Address> = committed.iter().map(Transaction::sender).collect();
        let mut dropped = Vec::new();
        for sender in senders {
            let next = nonce_of(&sender);
            let Some(queue) = self.senders.get_mut(&sender) else {
                continue;
            };
            queue.base_nonce = queue.base_nonce.max(next);
            let used: Vec<u64> = queue.txs.range(..next).map(|(nonce, _)| *nonce).collect();
            dropped.extend(self.take_all(&sender, used));
        }
        dropped
    }

    /// Drops a transaction that failed execution while building a block, and the
    /// same sender's later ones, which cannot execute without it. Returns the
    /// dropped hashes (empty if `hash` is not pending).
    pub fn remove(&mut self, hash: &Hash) -> Vec<Hash> {
        let Some(&(sender, nonce)) = self.by_hash.get(hash) else {
            return Vec::new();
        };
        let later: Vec<u64> = self.senders[&sender].txs.range(nonce..).map(|(n, _)| *n).collect();
        self.take_all(&sender, later)
    }
}

#[cfg(test)]
mod tests {
    use crate::exec::testing::chain;
    use crate::mempool::Mempool;
    use crate::mempool::testing::{add, rich, tx};
    use crate::types::Transaction;

    /// Proves a committed block drops the included transactions and any other with
    /// a used nonce, and that selection then continues from the new nonce.
    #[test]
    fn committed_block_prunes_used_nonces() {
        let mut pool = Mempool::default();
        let (a0, a1, a2) = (tx(1, 0, 1), tx(1, 1, 1), tx(1, 2, 1));
        let rival = tx(2, 0, 1);
        for t in [&a0, &a1, &a2, &rival] {
            add(&mut pool, t).unwrap();
        }
        // The block included a different transaction with nonce 1 (e.g. sent
        // through another node), so a1 is used too.
        let other_a1 = crate::exec::testing::transfer(
            &crate::exec::testing::key(1),
            1,
            7,
            crate::types::Address::ZERO,
            3,
        );
        let mut dropped = pool.remove_committed(&[a0.clone(), other_a1], |_| 2);
        dropped.sort();
        let mut expected = [a0.hash(), a1.hash()];
        expected.sort();
        assert_eq!(dropped, expected);
        assert_eq!(pool.len(), 2);
        let selected: alloc::vec::Vec<_> =
            pool.select(10, usize::MAX).iter().map(Transaction::hash).collect();
        assert!(selected.contains(&a2.hash()) && selected.contains(&rival.hash()));
    }

    /// Proves senders with nothing in the block are left alone.
    #[test]
    fn other_senders_are_untouched() {
        let mut pool = Mempool::default();
        add(&mut pool, &tx(2, 0, 1)).unwrap();
        assert!(pool.remove_committed(&[tx(1, 0, 1)], |_| 1).is_empty());
        assert_eq!(pool.len(), 1);
    }

    /// Proves removing a failed transaction also drops its sender's later ones and
    /// nothing else, and removing an unknown hash does nothing.
    #[test]
    fn remove_drops_the_rest_of_the_sequence() {
        let mut pool = Mempool::default();
        let (a0, a1, a2, b0) = (tx(1, 0, 1), tx(1, 1, 1), tx(1, 2, 1), tx(2, 0, 1));
        for t in [&a0, &a1, &a2, &b0] {
            pool.insert(t.clone(), &rich(0), &chain()).unwrap();
        }
        assert_eq!(pool.remove(&a1.hash()), [a1.hash(), a2.hash()]);
        assert_eq!(pool.len(), 2);
        assert!(pool.contains(&a0.hash()) && pool.contains(&b0.hash()));
        assert!(pool.remove(&a1.hash()).is_empty());
    }
}
