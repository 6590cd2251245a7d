//! Admitting a transaction: every rule, cheapest first, then the signature, then
//! the change. A refused transaction leaves the pool exactly as it was.

use alloc::vec::Vec;

use crate::encoding::Message;
use crate::exec::{TxError, VerifiedTransaction, check_call, check_chain, check_signature};
use crate::state::Account;
use crate::types::{Address, ChainId, Hash, Transaction};

use super::queue::PendingTx;
use super::rules::{check_balance, check_nonce, check_replacement, check_sender_limit, check_size};
use super::{Mempool, MempoolError};

/// What admitting a transaction did to the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inserted {
    pub hash: Hash,
    pub kind: InsertKind,
    /// Other transactions dropped: evicted to make room, or already used because
    /// the sender's account had moved past their nonce. Hosts that persist the
    /// pool delete these.
    pub evicted: Vec<Hash>,
}

/// Whether the transaction took a free nonce or replaced a pending one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertKind {
    Added,
    /// Replaced the pending transaction with this hash (same sender and nonce).
    Replaced(Hash),
}

/// A transaction that passed every rule, and the changes admitting it would make;
/// nothing has changed yet. Hosts that persist the pool use it to write first and
/// change the pool after: [`Mempool::check_verified`], then [`Mempool::displaced`]
/// and the durable write, then [`Mempool::apply`] — with no other change to the
/// pool in between (the host holds its lock across the three).
pub struct Admission {
    sender: Address,
    /// The sender's next nonce, which becomes its queue's base.
    next_nonce: u64,
    pending: PendingTx,
    /// Other senders' tail transactions to evict, as `(sender, nonce)`.
    victims: Vec<(Address, u64)>,
}

impl Admission {
    pub fn hash(&self) -> Hash {
        self.pending.hash
    }

    pub fn transaction(&self) -> &Transaction {
        &self.pending.tx
    }
}

impl Mempool {
    /// Admits `tx`, checking its signature after every cheaper rule.
    ///
    /// `sender_account` is the sender's account in the latest committed state: its
    /// nonce is the next one to use and its balance must cover every pending
    /// transaction of the sender. The rules, in order: size, minimum fee, chain,
    /// cost overflow, call shape, duplicate, nonce (not used, not too far ahead),
    /// replacement price, per-sender limit, balance, room in the pool, signature.
    pub fn insert(
        &mut self,
        tx: Transaction,
        sender_account: &Account,
        chain_id: &ChainId,
    ) -> Result<Inserted, MempoolError> {
        let admission = self.screen(tx, None, sender_account, chain_id)?;
        check_signature(&admission.pending.tx)?;
        Ok(self.commit(admission))
    }

    /// Admits a transaction whose signature the host has already checked (on
    /// another core), under the same rules as [`Mempool::insert`].
    pub fn insert_verified(
        &mut self,
        tx: VerifiedTransaction,
        sender_account: &Account,
        chain_id: &ChainId,
    ) -> Result<Inserted, MempoolError> {
        let admission = self.check_verified(tx, sender_account, chain_id)?;
        Ok(self.commit(admission))
    }

    /// Checks a transaction whose signature the host has verified against every
    /// rule of [`Mempool::insert`], changing nothing.
    pub fn check_verified(
        &self,
        tx: VerifiedTransaction,
        sender_account: &Account,
        chain_id: &ChainId,
    ) -> Result<Admission, MempoolError> {
        let hash = tx.hash();
        self.screen(tx.into_transaction(), Some(hash), sender_account, chain_id)
    }

    /// The pending transactions that applying `admission` would drop: the sender's
    /// used nonces, the one it replaces, and the evicted ones. Exactly what
    /// [`Mempool::apply`] then reports, if the pool did not change in between.
    pub fn displaced(&self, admission: &Admission) -> Vec<Hash> {
        let queue = self.senders.get(&admission.sender);
        let stale = queue.into_iter().flat_map(|q| q.stale(admission.next_nonce));
        let replaced = queue.and_then(|q| q.txs.get(&admission.pending.nonce()));
        let victims = admission.victims.iter().filter_map(|(s, n)| self.senders.get(s)?.txs.get(n));
        stale.chain(replaced).chain(victims).map(|p| p.hash).collect()
    }

    /// Admits a checked transaction: the second half of [`Mempool::check_verified`].
    pub fn apply(&mut self, admission: Admission) -> Inserted {
        self.commit(admission)
    }

    /// Every rule but the signature; changes nothing.
    fn screen(
        &self,
        tx: Transaction,
        hash: Option<Hash>,
        account: &Account,
        chain_id: &ChainId,
    ) -> Result<Admission, MempoolError> {
        let pending = self.check_shape(tx, hash, chain_id)?;
        let sender = pending.tx.sender();
        let queue = self.senders.get(&sender);
        // Nonces never go back: an account older than the pool's view is stale.
        let next_nonce = queue.map_or(account.nonce, |q| q.base_nonce.max(account.nonce));
        check_nonce(next_nonce, pending.nonce(), self.config.max_nonce_gap)?;
        let replaced = queue.and_then(|q| q.txs.get(&pending.nonce()));
        if let Some(old) = replaced {
            check_replacement(old.fee(), pending.fee())?;
        } else {
            check_sender_limit(queue, next_nonce, self.config.max_per_sender)?;
        }
        check_balance(queue, next_nonce, &pending, account.balance)?;
        let victims = self.make_room(&sender, queue, next_nonce, &pending)?;
        Ok(Admission { sender, next_nonce, pending, victims })
    }

    /// The rules that need only the transaction: size, fee, chain, cost, call shape,
    /// duplicate.
    fn check_shape(
        &self,
        tx: Transaction,
        hash: Option<Hash>,
        chain_id: &ChainId,
    ) -> Result<PendingTx, MempoolError> {
        let size = tx.encode_message().len();
        check_size(size)?;
        let (fee, min) = (tx.body.fee, self.config.min_fee);
        if fee < min {
            return Err(MempoolError::FeeTooLow { fee, min });
        }
        check_chain(&tx, chain_id)?;
        let cost = tx.total_cost().ok_or(TxError::AmountOverflow)?;
        check_call(&tx)?;
        let hash = hash.unwrap_or_else(|| tx.hash());
        if self.contains(&hash) {
            return Err(MempoolError::AlreadyKnown(hash));
        }
        Ok(PendingTx { tx, hash, size, cost })
    }

    /// Applies an admission: drops the sender's used nonces, the replaced
    /// transaction and the victims, then adds the new one.
    fn commit(&mut self, admission: Admission) -> Inserted {
        let Admission { sender, next_nonce, pending, victims } = admission;
        let stale: Vec<u64> = self
            .senders
            .get(&sender)
            .map_or_else(Vec::new, |q| q.stale(next_nonce).map(PendingTx::nonce).collect());
        let mut evicted = self.take_all(&sender, stale);
        let kind = match self.take(&sender, pending.nonce()) {
            Some(old) => InsertKind::Replaced(old.hash),
            None => InsertKind::Added,
        };
        for (victim, nonce) in victims {
            evicted.extend(self.take(&victim, nonce).map(|p| p.hash));
        }
        let hash = pending.hash;
        self.add(sender, next_nonce, pending);
        Inserted { hash, kind, evicted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureError;
    use crate::exec::testing::{account, chain, key, transfer};
    use crate::mempool::testing::{add, pool_with, rich, tx};

    /// Proves the two-phase admission predicts exactly what it then does: the
    /// hashes `displaced` names (a replaced transaction, an evicted one) are the ones
    /// `apply` drops, and checking alone changes nothing.
    #[test]
    fn displaced_predicts_what_apply_drops() {
        let mut pool = pool_with(|c| c.max_txs = 2);
        let (cheap, replaced) = (tx(1, 0, 1), tx(2, 0, 5));
        add(&mut pool, &cheap).unwrap();
        add(&mut pool, &replaced).unwrap();
        let verify = |t: Transaction| VerifiedTransaction::verify(t).unwrap();

        let replacement = pool.check_verified(verify(tx(2, 0, 9)), &rich(0), &chain()).unwrap();
        assert_eq!(pool.displaced(&replacement), [replaced.hash()]);
        assert_eq!(pool.len(), 2, "checking changes nothing");
        let inserted = pool.apply(replacement);
        assert_eq!(inserted.kind, InsertKind::Replaced(replaced.hash()));

        let newcomer = pool.check_verified(verify(tx(3, 0, 7)), &rich(0), &chain()).unwrap();
        assert_eq!(
            pool.displaced(&newcomer),
            [cheap.hash()],
            "the pool is full: evicts the cheapest"
        );
        assert_eq!(pool.apply(newcomer).evicted, [cheap.hash()]);
    }

    /// Proves a refused transaction leaves the pool as it was.
    fn refuses(pool: &mut Mempool, tx: &Transaction, account: &Account, error: MempoolError) {
        let before: Vec<Hash> = pool.iter().map(Transaction::hash).collect();
        assert_eq!(pool.insert(tx.clone(), account, &chain()), Err(error));
        assert_eq!(pool.iter().map(Transaction::hash).collect::<Vec<_>>(), before);
    }

    /// Proves a valid transaction is added, counted and retrievable.
    #[test]
    fn valid_transaction_is_added() {
        let mut pool = Mempool::default();
        let t = tx(1, 0, 5);
        let inserted = add(&mut pool, &t).unwrap();
        assert_eq!(
            inserted,
            Inserted { hash: t.hash(), kind: InsertKind::Added, evicted: Vec::new() }
        );
        assert_eq!((pool.len(), pool.get(&t.hash())), (1, Some(&t)));
        assert_eq!(pool.bytes(), t.encode_message().len());
    }

    /// Proves a fee below the minimum is refused, and the minimum itself is fine.
    #[test]
    fn fee_below_minimum_is_refused() {
        let mut pool = pool_with(|c| c.min_fee = 3);
        refuses(&mut pool, &tx(1, 0, 2), &rich(0), MempoolError::FeeTooLow { fee: 2, min: 3 });
        add(&mut pool, &tx(1, 0, 3)).unwrap();
    }

    /// Proves a transaction for another chain is refused as invalid.
    #[test]
    fn wrong_chain_is_invalid() {
        let mut pool = Mempool::default();
        let other = ChainId::new("other").unwrap();
        let err = pool.insert(tx(1, 0, 1), &rich(0), &other).unwrap_err();
        assert!(matches!(err, MempoolError::Invalid(TxError::WrongChain { .. })), "{err:?}");
        assert!(pool.is_empty());
    }

    /// Proves a transfer to an address no account can hold is refused as invalid.
    #[test]
    fn invalid_recipient_is_refused() {
        let mut pool = Mempool::default();
        let bad = Address([0xff; 32]);
        let t = transfer(&key(1), 0, 1, bad, 1);
        let err = MempoolError::Invalid(TxError::InvalidRecipient(bad));
        refuses(&mut pool, &t, &rich(0), err);
    }

    /// Proves a forged signature is refused, after all cheaper rules passed.
    #[test]
    fn bad_signature_is_invalid() {
        let mut pool = Mempool::default();
        let mut t = tx(1, 0, 1);
        t.signature = tx(2, 0, 1).signature;
        let err = MempoolError::Invalid(TxError::BadSignature(SignatureError::Mismatch));
        refuses(&mut pool, &t, &rich(0), err);
    }

    /// Proves a cheap rule fires before the signature is checked: a transaction
    /// with a garbage signature and a used nonce reports the nonce.
    #[test]
    fn cheap_rules_run_before_the_signature() {
        let mut pool = Mempool::default();
        let mut t = tx(1, 0, 1);
        t.signature.r = Hash([0xff; 32]);
        refuses(&mut pool, &t, &rich(1), MempoolError::NonceTooLow { expected: 1, found: 0 });
    }

    /// Proves the same transaction twice is refused as already known.
    #[test]
    fn duplicate_is_refused() {
        let mut pool = Mempool::default();
        let t = tx(1, 0, 1);
        add(&mut pool, &t).unwrap();
        refuses(&mut pool, &t, &rich(0), MempoolError::AlreadyKnown(t.hash()));
    }

    /// Proves a used nonce is refused, and one too far ahead is refused.
    #[test]
    fn nonce_rules() {
        let mut pool = pool_with(|c| c.max_nonce_gap = 2);
        refuses(
            &mut pool,
            &tx(1, 4, 1),
            &rich(5),
            MempoolError::NonceTooLow { expected: 5, found: 4 },
        );
        let far = MempoolError::NonceTooFar { next: 5, found: 8, max_gap: 2 };
        refuses(&mut pool, &tx(1, 8, 1), &rich(5), far);
        pool.insert(tx(1, 7, 1), &rich(5), &chain()).unwrap();
    }

    /// Proves the balance must cover the sender's other pending transactions too.
    #[test]
    fn balance_counts_pending_transactions() {
        let mut pool = Mempool::default();
        let k = key(1);
        let poor = account(25, 0);
        pool.insert(transfer(&k, 0, 2, Address::ZERO, 10), &poor, &chain()).unwrap();
        let second = transfer(&k, 1, 2, Address::ZERO, 12);
        refuses(
            &mut pool,
            &second,
            &poor,
            MempoolError::InsufficientBalance { needed: 26, available: 25 },
        );
        pool.insert(transfer(&k, 1, 2, Address::ZERO, 11), &poor, &chain()).unwrap();
    }

    /// Proves a replacement needs a 10% higher fee, and then replaces in place.
    #[test]
    fn replacement_needs_a_higher_fee() {
        let mut pool = Mempool::default();
        let old = tx(1, 0, 10);
        add(&mut pool, &old).unwrap();
        let under = MempoolError::ReplacementUnderpriced { existing_fee: 10, min_fee: 11 };
        let same_fee = transfer(&key(1), 0, 10, Address::ZERO, 2);
        refuses(&mut pool, &same_fee, &rich(0), under);
        let new = tx(1, 0, 11);
        let inserted = add(&mut pool, &new).unwrap();
        assert_eq!(inserted.kind, InsertKind::Replaced(old.hash()));
        assert_eq!(
            (pool.len(), pool.contains(&old.hash()), pool.contains(&new.hash())),
            (1, false, true)
        );
    }

    /// Proves a replacement's balance check does not count the replaced cost.
    #[test]
    fn replacement_balance_excludes_the_replaced() {
        let mut pool = Mempool::default();
        let k = key(1);
        let poor = account(20, 0);
        pool.insert(transfer(&k, 0, 10, Address::ZERO, 5), &poor, &chain()).unwrap();
        pool.insert(transfer(&k, 0, 11, Address::ZERO, 9), &poor, &chain()).unwrap();
        assert_eq!(pool.len(), 1);
    }

    /// Proves the per-sender limit holds, while replacing at the limit still works.
    #[test]
    fn sender_limit_is_enforced() {
        let mut pool = pool_with(|c| c.max_per_sender = 2);
        add(&mut pool, &tx(1, 0, 1)).unwrap();
        add(&mut pool, &tx(1, 1, 1)).unwrap();
        refuses(&mut pool, &tx(1, 2, 1), &rich(0), MempoolError::SenderLimit { max: 2 });
        add(&mut pool, &tx(1, 1, 2)).unwrap();
        add(&mut pool, &tx(2, 0, 1)).unwrap();
    }

    /// Proves that when the account has moved past pending nonces (a block the pool
    /// was not told about), inserting drops them and reports them as evicted.
    #[test]
    fn used_nonces_are_dropped_on_insert() {
        let mut pool = Mempool::default();
        let first = tx(1, 0, 1);
        add(&mut pool, &first).unwrap();
        let inserted = pool.insert(tx(1, 1, 1), &rich(1), &chain()).unwrap();
        assert_eq!(inserted.evicted, [first.hash()]);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.pending_nonce(&first.sender()), Some(2));
    }

    /// Proves an account older than the pool's view does not move nonces back.
    #[test]
    fn stale_account_does_not_move_nonces_back() {
        let mut pool = Mempool::default();
        pool.insert(tx(1, 3, 1), &rich(3), &chain()).unwrap();
        let err = MempoolError::NonceTooLow { expected: 3, found: 2 };
        refuses(&mut pool, &tx(1, 2, 1), &rich(0), err);
    }

    /// Proves a pre-verified transaction skips the signature check but no other rule.
    #[test]
    fn verified_insert_applies_the_other_rules() {
        let mut pool = pool_with(|c| c.min_fee = 2);
        let low = VerifiedTransaction::verify(tx(1, 0, 1)).unwrap();
        let err = pool.insert_verified(low, &rich(0), &chain()).unwrap_err();
        assert_eq!(err, MempoolError::FeeTooLow { fee: 1, min: 2 });
        let ok = VerifiedTransaction::verify(tx(1, 0, 2)).unwrap();
        assert!(pool.insert_verified(ok, &rich(0), &chain()).is_ok());
    }
}
