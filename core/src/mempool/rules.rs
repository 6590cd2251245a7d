//! The admission rules that depend only on numbers, kept apart so each can be
//! tested without signing anything.

use crate::encoding::Message;
use crate::types::Transaction;

use super::MempoolError;
use super::queue::{PendingTx, SenderQueue};

/// A transaction's wire encoding may be at most [`Transaction::MAX_BYTES`], the
/// most a peer's decoder accepts. Transfers are far smaller; later calls may not be.
pub(super) fn check_size(size: usize) -> Result<(), MempoolError> {
    let max = Transaction::MAX_BYTES;
    if size > max {
        return Err(MempoolError::TooLarge { size, max });
    }
    Ok(())
}

/// The nonce must not be used yet, and at most `max_gap` past the next one: a
/// transaction behind a gap cannot be included, so it is only held so far ahead.
pub(super) fn check_nonce(next: u64, found: u64, max_gap: u64) -> Result<(), MempoolError> {
    if found < next {
        return Err(MempoolError::NonceTooLow { expected: next, found });
    }
    if found - next > max_gap {
        return Err(MempoolError::NonceTooFar { next, found, max_gap });
    }
    Ok(())
}

/// A sender may hold at most `max` live transactions (those not yet used).
pub(super) fn check_sender_limit(
    queue: Option<&SenderQueue>,
    next: u64,
    max: usize,
) -> Result<(), MempoolError> {
    let held = queue.map_or(0, |q| q.live(next).count());
    if held >= max {
        return Err(MempoolError::SenderLimit { max });
    }
    Ok(())
}

/// A replacement must pay at least 10% more (rounded up) and strictly more, so
/// replacing cannot be used to make every node re-gossip a transaction for free.
pub(super) fn check_replacement(existing_fee: u64, fee: u64) -> Result<(), MempoolError> {
    let existing = u128::from(existing_fee);
    let required = (existing * 11).div_ceil(10).max(existing + 1);
    if u128::from(fee) >= required {
        return Ok(());
    }
    let min_fee = u64::try_from(required).unwrap_or(u64::MAX);
    Err(MempoolError::ReplacementUnderpriced { existing_fee, min_fee })
}

/// The sender's balance must cover this transaction and every other live pending
/// one (a transaction it replaces no longer counts). Incoming transfers still
/// pending do not count: they might never be included.
pub(super) fn check_balance(
    queue: Option<&SenderQueue>,
    next: u64,
    pending: &PendingTx,
    available: u64,
) -> Result<(), MempoolError> {
    let others =
        queue.into_iter().flat_map(|q| q.live(next)).filter(|p| p.nonce() != pending.nonce());
    let total: u128 = others.map(|p| u128::from(p.cost)).sum::<u128>() + u128::from(pending.cost);
    if total <= u128::from(available) {
        return Ok(());
    }
    let needed = u64::try_from(total).unwrap_or(u64::MAX);
    Err(MempoolError::InsufficientBalance { needed, available })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::testing::{key, transfer};
    use crate::types::Address;

    /// Proves the size limit is the wire limit, inclusive, and real transfers are
    /// well within it.
    #[test]
    fn size_limit() {
        assert_eq!(check_size(1024), Ok(()));
        assert_eq!(check_size(1025), Err(MempoolError::TooLarge { size: 1025, max: 1024 }));
        assert!(
            check_size(transfer(&key(1), 0, 1, Address::ZERO, 1).encode_message().len()).is_ok()
        );
    }

    /// Proves used nonces are too low, and a nonce exactly `max_gap` ahead is the
    /// last one held.
    #[test]
    fn nonce_window() {
        assert_eq!(check_nonce(5, 4, 2), Err(MempoolError::NonceTooLow { expected: 5, found: 4 }));
        assert_eq!(check_nonce(5, 5, 0), Ok(()));
        assert_eq!(check_nonce(5, 7, 2), Ok(()));
        let far = MempoolError::NonceTooFar { next: 5, found: 8, max_gap: 2 };
        assert_eq!(check_nonce(5, 8, 2), Err(far));
        let edge = MempoolError::NonceTooFar { next: 0, found: u64::MAX, max_gap: 64 };
        assert_eq!(check_nonce(0, u64::MAX, 64), Err(edge));
    }

    /// Proves the replacement price is 10% more rounded up, and always strictly more
    /// (for small fees the 10% rounds to less than one).
    #[test]
    fn replacement_price() {
        let under = |existing_fee, min_fee| {
            Err(MempoolError::ReplacementUnderpriced { existing_fee, min_fee })
        };
        assert_eq!(check_replacement(100, 109), under(100, 110));
        assert_eq!(check_replacement(100, 110), Ok(()));
        assert_eq!(check_replacement(101, 111), under(101, 112));
        assert_eq!(check_replacement(1, 1), under(1, 2));
        assert_eq!(check_replacement(1, 2), Ok(()));
        assert_eq!(check_replacement(0, 1), Ok(()));
        assert_eq!(check_replacement(u64::MAX, u64::MAX), under(u64::MAX, u64::MAX));
    }

    fn queue(costs: &[(u64, u64)]) -> SenderQueue {
        let k = key(1);
        let mut q = SenderQueue::new(0);
        for &(nonce, cost) in costs {
            let tx = transfer(&k, nonce, 1, Address::ZERO, cost - 1);
            q.txs.insert(nonce, PendingTx { hash: tx.hash(), size: 0, cost, tx });
        }
        q
    }

    fn pending(nonce: u64, cost: u64) -> PendingTx {
        queue(&[(nonce, cost)]).txs.remove(&nonce).unwrap()
    }

    /// Proves the balance must cover all live pending costs plus the new one, that a
    /// replaced transaction's cost is not counted twice, and that used nonces are
    /// not counted at all.
    #[test]
    fn balance_counts_other_live_transactions() {
        let q = queue(&[(0, 30), (1, 30), (2, 30)]);
        let short = MempoolError::InsufficientBalance { needed: 100, available: 99 };
        assert_eq!(check_balance(Some(&q), 0, &pending(3, 10), 99), Err(short));
        assert_eq!(check_balance(Some(&q), 0, &pending(3, 10), 100), Ok(()));
        assert_eq!(check_balance(Some(&q), 0, &pending(1, 39), 99), Ok(()));
        assert_eq!(check_balance(Some(&q), 1, &pending(3, 39), 99), Ok(()));
        assert_eq!(check_balance(None, 0, &pending(0, 5), 5), Ok(()));
    }

    /// Proves a sum of costs beyond `u64` is reported saturated, not wrapped.
    #[test]
    fn balance_sum_does_not_wrap() {
        let q = queue(&[(0, u64::MAX)]);
        let err = check_balance(Some(&q), 0, &pending(1, 2), u64::MAX).unwrap_err();
        assert_eq!(
            err,
            MempoolError::InsufficientBalance { needed: u64::MAX, available: u64::MAX }
        );
    }

    /// Proves the per-sender limit counts only live transactions.
    #[test]
    fn sender_limit_counts_live_transactions() {
        let q = queue(&[(0, 2), (1, 2)]);
        assert_eq!(check_sender_limit(Some(&q), 0, 2), Err(MempoolError::SenderLimit { max: 2 }));
        assert_eq!(check_sender_limit(Some(&q), 1, 2), Ok(()));
        assert_eq!(check_sender_limit(None, 0, 1), Ok(()));
    }
}
