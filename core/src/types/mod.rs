//! The chain's data types and their canonical encodings.

pub mod block;
pub mod chain_id;
pub mod digest;
pub mod transaction;

pub use block::{Block, BlockError, Header, certificate_digest, tx_root};
pub use chain_id::ChainId;
pub use digest::{Address, Hash, HexError};
pub use transaction::{Call, Transaction, TxBody};
