//! The chain's data types and their canonical encodings.

pub mod block;
pub mod chain_id;
pub mod digest;
pub mod transaction;

pub use block::{Block, BlockError, Header, certificate_digest, tx_root};
pub use chain_id::ChainId;
pub use digest::{Address, Hash, HexError};
pub use transaction::{Call, Transaction, TxBody};

/// One token in base units: every amount on chain (balances, transfers,
/// stakes, fees, rewards) counts base units of 10^-9 token.
pub const TOKEN: u64 = 1_000_000_000;
