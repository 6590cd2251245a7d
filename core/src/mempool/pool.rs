//! The pool's storage and indexes, and the two primitives every change goes
//! through, so the indexes can never disagree.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::types::{Address, Hash, Transaction};

use super::MempoolConfig;
use super::queue::{PendingTx, SenderQueue};

/// Pending transactions, bounded by a [`MempoolConfig`].
///
/// All maps are ordered, so iteration, selection and eviction are deterministic
/// (two nodes holding the same transactions build the same block).
#[derive(Clone, Debug)]
pub struct Mempool {
    pub(super) config: MempoolConfig,
    pub(super) senders: BTreeMap<Address, SenderQueue>,
    /// Where each pending transaction is: its sender and nonce.
    pub(super) by_hash: BTreeMap<Hash, (Address, u64)>,
    /// `(fee, hash)` of every sender's tail (highest nonce): the eviction
    /// candidates, cheapest first.
    pub(super) tails: BTreeSet<(u64, Hash)>,
    pub(super) bytes: usize,
}

impl Mempool {
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            senders: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            tails: BTreeSet::new(),
            bytes: 0,
        }
    }

    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Total wire size of the pending transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    pub fn get(&self, hash: &Hash) -> Option<&Transaction> {
        self.entry(hash).map(|pending| &pending.tx)
    }

    /// Every pending transaction, by sender then nonce. Hosts persist these and
    /// insert them again after a restart.
    pub fn iter(&self) -> impl Iterator<Item = &Transaction> {
        self.senders.values().flat_map(|q| q.txs.values().map(|pending| &pending.tx))
    }

    /// The nonce `sender`'s next transaction should use, counting the pending ones
    /// that can execute in order; `None` if the sender has nothing pending (the
    /// account nonce is then the answer). Wallets use it to queue transactions.
    pub fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let queue = self.senders.get(sender)?;
        let ready = queue.ready().count() as u64;
        Some(queue.base_nonce + ready)
    }

    pub(super) fn entry(&self, hash: &Hash) -> Option<&PendingTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.txs.get(nonce)
    }

    /// Adds `pending` to `sender`'s queue, creating it with `base_nonce` if new, or
    /// moving its base to `base_nonce`. The caller has freed the nonce's slot.
    pub(super) fn add(&mut self, sender: Address, base_nonce: u64, pending: PendingTx) {
        self.untrack_tail(&sender);
        self.by_hash.insert(pending.hash, (sender, pending.nonce()));
        self.bytes += pending.size;
        let queue = self.senders.entry(sender).or_insert_with(|| SenderQueue::new(base_nonce));
        queue.base_nonce = base_nonce;
        queue.txs.insert(pending.nonce(), pending);
        self.track_tail(&sender);
    }

    /// Removes and returns `sender`'s transaction with `nonce`, if pending.
    pub(super) fn take(&mut self, sender: &Address, nonce: u64) -> Option<PendingTx> {
        self.untrack_tail(sender);
        let pending = self.senders.get_mut(sender).and_then(|q| q.txs.remove(&nonce));
        if let Some(pending) = &pending {
            self.by_hash.remove(&pending.hash);
            self.bytes -= pending.size;
        }
        self.track_tail(sender);
        pending
    }

    /// Removes `sender`'s transactions whose nonces `nonces` yields; returns their
    /// hashes in the order removed.
    pub(super) fn take_all(
        &mut self,
        sender: &Address,
        nonces: impl IntoIterator<Item = u64>,
    ) -> alloc::vec::Vec<Hash> {
        nonces.into_iter().filter_map(|nonce| self.take(sender, nonce)).map(|p| p.hash).collect()
    }

    fn untrack_tail(&mut self, sender: &Address) {
        if let Some(tail) = self.senders.get(sender).and_then(SenderQueue::tail) {
            self.tails.remove(&(tail.fee(), tail.hash));
        }
    }

    /// Indexes `sender`'s tail, or forgets the sender if it has nothing pending.
    fn track_tail(&mut self, sender: &Address) {
        match self.senders.get(sender).and_then(SenderQueue::tail) {
            Some(tail) => {
                self.tails.insert((tail.fee(), tail.hash));
            }
            None => {
                self.senders.remove(sender);
            }
        }
    }
}

impl Default for Mempool {
    fn default() -> Self {
        Self::new(MempoolConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::testing::{key, transfer};

    fn pending(seed: u8, nonce: u64, fee: u64) -> (Address, PendingTx) {
        let tx = transfer(&key(seed), nonce, fee, Address::ZERO, 1);
        (tx.sender(), PendingTx { hash: tx.hash(), size: 100, cost: fee + 1, tx })
    }

    /// Proves `add` and `take` keep the count, byte total, lookups and the tail
    /// index in step, and that an emptied sender is forgotten.
    #[test]
    fn add_and_take_keep_indexes_consistent() {
        let mut pool = Mempool::default();
        let (sender, first) = pending(1, 0, 5);
        let (_, second) = pending(1, 1, 7);
        let (first_hash, second_hash) = (first.hash, second.hash);
        pool.add(sender, 0, first);
        pool.add(sender, 0, second);
        assert_eq!((pool.len(), pool.bytes()), (2, 200));
        assert_eq!(pool.tails.iter().collect::<alloc::vec::Vec<_>>(), [&(7, second_hash)]);
        assert!(pool.contains(&first_hash));
        assert_eq!(pool.take(&sender, 1).map(|p| p.hash), Some(second_hash));
        assert_eq!(pool.tails.iter().collect::<alloc::vec::Vec<_>>(), [&(5, first_hash)]);
        pool.take(&sender, 0);
        assert!(pool.is_empty() && pool.tails.is_empty() && pool.senders.is_empty());
        assert_eq!(pool.bytes(), 0);
    }

    /// Proves the pending nonce counts only the gap-free run from the base.
    #[test]
    fn pending_nonce_counts_the_ready_run() {
        let mut pool = Mempool::default();
        let (sender, _) = pending(1, 0, 1);
        assert_eq!(pool.pending_nonce(&sender), None);
        for nonce in [4, 5, 7] {
            pool.add(sender, 4, pending(1, nonce, 1).1);
        }
        assert_eq!(pool.pending_nonce(&sender), Some(6));
    }

    /// Proves iteration is by sender, then nonce.
    #[test]
    fn iter_is_ordered_by_sender_then_nonce() {
        let mut pool = Mempool::default();
        for (seed, nonce) in [(1, 1), (2, 0), (1, 0)] {
            let (sender, tx) = pending(seed, nonce, 1);
            pool.add(sender, 0, tx);
        }
        let order: alloc::vec::Vec<_> =
            pool.iter().map(|tx| (tx.sender(), tx.body.nonce)).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }
}
