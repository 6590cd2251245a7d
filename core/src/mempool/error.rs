//! Why the mempool refused a transaction.

use core::fmt;

use crate::exec::TxError;
use crate::types::Hash;

/// Why a transaction was not admitted. The node reports it to whoever submitted the
/// transaction, so each variant names the rule and the numbers involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MempoolError {
    /// The wire encoding is longer than any transaction may be.
    TooLarge { size: usize, max: usize },
    /// The fee is below the node's minimum.
    FeeTooLow { fee: u64, min: u64 },
    /// A stateless check failed: wrong chain, cost overflow or bad signature.
    Invalid(TxError),
    /// This exact transaction is already pending.
    AlreadyKnown(Hash),
    /// The nonce has already been used by a committed transaction.
    NonceTooLow { expected: u64, found: u64 },
    /// The nonce is too far past the sender's next nonce to hold.
    NonceTooFar { next: u64, found: u64, max_gap: u64 },
    /// The sender cannot pay for this and its other pending transactions.
    InsufficientBalance { needed: u64, available: u64 },
    /// Another transaction with this sender and nonce is pending, and this one's
    /// fee is not enough higher to replace it.
    ReplacementUnderpriced { existing_fee: u64, min_fee: u64 },
    /// The sender already has the most pending transactions allowed.
    SenderLimit { max: usize },
    /// The pool is full and this fee is not higher than what it would evict.
    PoolFull,
}

impl fmt::Display for MempoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, max } => {
                write!(f, "transaction is {size} bytes, the limit is {max}")
            }
            Self::FeeTooLow { fee, min } => write!(f, "fee {fee} is below the minimum {min}"),
            Self::Invalid(e) => write!(f, "invalid transaction: {e}"),
            Self::AlreadyKnown(hash) => write!(f, "transaction {hash} is already pending"),
            Self::NonceTooLow { expected, found } => {
                write!(f, "nonce {found} was already used; the next nonce is {expected}")
            }
            Self::NonceTooFar { next, found, max_gap } => {
                write!(f, "nonce {found} is more than {max_gap} past the next nonce {next}")
            }
            Self::InsufficientBalance { needed, available } => write!(
                f,
                "pending transactions of this sender need {needed}, the account holds {available}"
            ),
            Self::ReplacementUnderpriced { existing_fee, min_fee } => write!(
                f,
                "a transaction with this nonce pays fee {existing_fee}; a replacement must pay \
                 at least {min_fee}"
            ),
            Self::SenderLimit { max } => {
                write!(f, "the sender already has {max} pending transactions")
            }
            Self::PoolFull => f.write_str("the mempool is full and the fee is too low to evict"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MempoolError {}

impl From<TxError> for MempoolError {
    fn from(e: TxError) -> Self {
        Self::Invalid(e)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    /// Proves the messages tell a submitter what to change.
    #[test]
    fn display_names_the_limit() {
        let e = MempoolError::ReplacementUnderpriced { existing_fee: 10, min_fee: 11 };
        assert_eq!(
            e.to_string(),
            "a transaction with this nonce pays fee 10; a replacement must pay at least 11"
        );
        let e = MempoolError::NonceTooFar { next: 3, found: 100, max_gap: 64 };
        assert_eq!(e.to_string(), "nonce 100 is more than 64 past the next nonce 3");
    }
}
