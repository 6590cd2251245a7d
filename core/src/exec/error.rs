//! Why a transaction, or a block's transactions, could not be applied.

use core::fmt;

use crate::crypto::SignatureError;
use crate::staking::StakingError;
use crate::state::StateError;
use crate::types::{Address, ChainId, Hash};

/// Why one transaction is rejected. Each variant names one rule, so a wallet or an
/// RPC client can tell the user exactly what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    /// Signed for another chain.
    WrongChain { expected: ChainId, found: ChainId },
    /// The signature does not verify against the sender's key.
    BadSignature(SignatureError),
    /// The nonce was already used: a replay, or a transaction superseded by
    /// another one with the same nonce.
    NonceTooLow { expected: u64, found: u64 },
    /// Earlier nonces of this sender have not been applied yet.
    NonceTooHigh { expected: u64, found: u64 },
    /// The account's nonce is `u64::MAX`; it can send nothing more.
    NonceExhausted,
    /// The sender holds less than amount plus fee.
    InsufficientBalance { needed: u64, available: u64 },
    /// Amount plus fee does not fit a `u64`.
    AmountOverflow,
    /// The recipient is not a valid address: a 4-byte limb is at least 2^31 - 1, so
    /// it is not a Poseidon2 digest and no account can ever be stored under it.
    InvalidRecipient(Address),
    /// Crediting the recipient would take its balance past `u64::MAX`.
    RecipientOverflow,
    /// The address is reserved (the staking registry) and cannot receive transfers.
    ReservedRecipient(Address),
    /// A staking call broke a staking rule.
    Staking(StakingError),
    /// The state could not be read or written (e.g. a partial state lacks a witness).
    State(StateError),
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongChain { expected, found } => {
                write!(f, "transaction is for chain {found}, this is chain {expected}")
            }
            Self::BadSignature(e) => write!(f, "bad transaction signature: {e}"),
            Self::NonceTooLow { expected, found } => {
                write!(f, "nonce {found} was already used; the next nonce is {expected}")
            }
            Self::NonceTooHigh { expected, found } => {
                write!(f, "nonce {found} is ahead of the next nonce {expected}")
            }
            Self::NonceExhausted => f.write_str("the sender's nonce is exhausted"),
            Self::InsufficientBalance { needed, available } => {
                write!(f, "amount plus fee is {needed}, the sender holds {available}")
            }
            Self::AmountOverflow => f.write_str("amount plus fee overflows a u64"),
            Self::InvalidRecipient(to) => {
                write!(f, "recipient {to} is not a valid address (a limb is ≥ 2^31 - 1)")
            }
            Self::RecipientOverflow => f.write_str("the recipient's balance would overflow"),
            Self::ReservedRecipient(to) => {
                write!(f, "{to} is the staking registry; it cannot receive transfers")
            }
            Self::Staking(e) => write!(f, "{e}"),
            Self::State(e) => write!(f, "state access failed: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TxError {}

impl From<StateError> for TxError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

impl From<StakingError> for TxError {
    fn from(e: StakingError) -> Self {
        Self::Staking(e)
    }
}

/// The first transaction of a block that could not be applied. The block is
/// invalid; the caller discards the state it was applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockExecError {
    /// Position of the transaction in the block.
    pub index: usize,
    pub hash: Hash,
    pub error: TxError,
}

impl fmt::Display for BlockExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transaction {} ({}) failed: {}", self.index, self.hash, self.error)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BlockExecError {}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    /// Proves the messages carry the numbers a user needs to fix the transaction.
    #[test]
    fn display_names_the_numbers_involved() {
        let e = TxError::InsufficientBalance { needed: 15, available: 10 };
        assert_eq!(e.to_string(), "amount plus fee is 15, the sender holds 10");
        let e = TxError::NonceTooLow { expected: 4, found: 2 };
        assert_eq!(e.to_string(), "nonce 2 was already used; the next nonce is 4");
        let wrong = TxError::WrongChain {
            expected: ChainId::new("main").unwrap(),
            found: ChainId::new("test").unwrap(),
        };
        assert_eq!(wrong.to_string(), "transaction is for chain test, this is chain main");
    }

    /// Proves a block error says which transaction failed and why.
    #[test]
    fn block_error_names_index_and_cause() {
        let e = BlockExecError { index: 3, hash: Hash::ZERO, error: TxError::AmountOverflow };
        let text = e.to_string();
        assert!(text.starts_with("transaction 3 (0x0000"), "{text}");
        assert!(text.ends_with("failed: amount plus fee overflows a u64"), "{text}");
    }
}
