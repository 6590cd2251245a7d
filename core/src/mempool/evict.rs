//! Making room in a full pool: a higher fee may push out the cheapest tails.

use alloc::vec::Vec;

use crate::types::Address;

use super::queue::{PendingTx, SenderQueue};
use super::{Mempool, MempoolError};

impl Mempool {
    /// The transactions to evict so that `pending` fits, as `(sender, nonce)`.
    ///
    /// Space the sender itself frees (its used nonces and a replaced transaction)
    /// counts first. Then other senders' tails (highest nonces, so no sender is
    /// left with a gap) go cheapest first, each only if it pays strictly less than
    /// `pending`. If that is not enough the pool is full for this fee. Only current
    /// tails are considered, one per sender; in practice one eviction makes room,
    /// since transactions are of similar size.
    pub(super) fn make_room(
        &self,
        sender: &Address,
        queue: Option<&SenderQueue>,
        next_nonce: u64,
        pending: &PendingTx,
    ) -> Result<Vec<(Address, u64)>, MempoolError> {
        let (mut count, mut bytes) = self.usage_after(queue, next_nonce, pending);
        let mut victims = Vec::new();
        let mut candidates = self.tails.iter().map(|(fee, hash)| (*fee, self.by_hash[hash]));
        while count > self.config.max_txs || bytes > self.config.max_bytes {
            let (victim, nonce) = candidates
                .by_ref()
                .take_while(|(fee, _)| *fee < pending.fee())
                .map(|(_, at)| at)
                .find(|(victim, _)| victim != sender)
                .ok_or(MempoolError::PoolFull)?;
            let size = self.senders[&victim].txs[&nonce].size;
            (count, bytes) = (count - 1, bytes - size);
            victims.push((victim, nonce));
        }
        Ok(victims)
    }

    /// Count and bytes once `pending` is in and the sender's used nonces and any
    /// transaction it replaces are out.
    fn usage_after(
        &self,
        queue: Option<&SenderQueue>,
        next_nonce: u64,
        pending: &PendingTx,
    ) -> (usize, usize) {
        let freed =
            queue.into_iter().flat_map(|q| q.stale(next_nonce).chain(q.txs.get(&pending.nonce())));
        let (freed_count, freed_bytes) =
            freed.fold((0, 0), |(count, bytes), p| (count + 1, bytes + p.size));
        (self.len() + 1 - freed_count, self.bytes + pending.size - freed_bytes)
    }
}

#[cfg(test)]
mod tests {
    use crate::encoding::Message;
    use crate::mempool::testing::{add, pool_with, tx};
    use crate::mempool::{InsertKind, MempoolError};

    /// Proves a full pool evicts its cheapest transaction for a strictly higher
    /// fee, and reports it.
    #[test]
    fn higher_fee_evicts_the_cheapest() {
        let mut pool = pool_with(|c| c.max_txs = 2);
        add(&mut pool, &tx(1, 0, 5)).unwrap();
        let cheap = tx(2, 0, 3);
        add(&mut pool, &cheap).unwrap();
        let inserted = add(&mut pool, &tx(3, 0, 4)).unwrap();
        assert_eq!(inserted.evicted, [cheap.hash()]);
        assert_eq!(pool.len(), 2);
        assert!(!pool.contains(&cheap.hash()));
    }

    /// Proves an equal or lower fee cannot evict: the pool is full for it.
    #[test]
    fn equal_fee_does_not_evict() {
        let mut pool = pool_with(|c| c.max_txs = 1);
        add(&mut pool, &tx(1, 0, 5)).unwrap();
        assert_eq!(add(&mut pool, &tx(2, 0, 5)), Err(MempoolError::PoolFull));
        assert_eq!(add(&mut pool, &tx(2, 0, 4)), Err(MempoolError::PoolFull));
        assert_eq!(pool.len(), 1);
    }

    /// Proves only a sender's highest nonce is evicted, never one in the middle of
    /// its sequence, even if that one pays less.
    #[test]
    fn only_tails_are_evicted() {
        let mut pool = pool_with(|c| c.max_txs = 3);
        add(&mut pool, &tx(1, 0, 1)).unwrap();
        add(&mut pool, &tx(1, 1, 10)).unwrap();
        let b = tx(2, 0, 5);
        add(&mut pool, &b).unwrap();
        assert_eq!(add(&mut pool, &tx(3, 0, 6)).unwrap().evicted, [b.hash()]);
    }

    /// Proves a sender cannot evict its own tail to extend its own sequence (that
    /// would leave the new transaction behind a gap).
    #[test]
    fn own_tail_is_not_evicted() {
        let mut pool = pool_with(|c| c.max_txs = 2);
        add(&mut pool, &tx(1, 0, 1)).unwrap();
        add(&mut pool, &tx(2, 0, 9)).unwrap();
        assert_eq!(add(&mut pool, &tx(1, 1, 5)), Err(MempoolError::PoolFull));
    }

    /// Proves the byte limit is enforced and evicts like the count limit.
    #[test]
    fn byte_limit_evicts() {
        let size = tx(1, 0, 1).encode_message().len();
        let mut pool = pool_with(|c| c.max_bytes = 2 * size);
        add(&mut pool, &tx(1, 0, 2)).unwrap();
        add(&mut pool, &tx(2, 0, 3)).unwrap();
        assert_eq!(add(&mut pool, &tx(3, 0, 2)), Err(MempoolError::PoolFull));
        assert_eq!(add(&mut pool, &tx(3, 0, 4)).unwrap().evicted.len(), 1);
        assert!(pool.bytes() <= 2 * size);
    }

    /// Proves a replacement in a full pool takes the replaced slot: nothing else is
    /// evicted.
    #[test]
    fn replacement_in_a_full_pool_evicts_nothing() {
        let mut pool = pool_with(|c| c.max_txs = 2);
        add(&mut pool, &tx(1, 0, 1)).unwrap();
        add(&mut pool, &tx(2, 0, 1)).unwrap();
        let inserted = add(&mut pool, &tx(1, 0, 2)).unwrap();
        assert!(matches!(inserted.kind, InsertKind::Replaced(_)));
        assert!(inserted.evicted.is_empty());
    }
}
