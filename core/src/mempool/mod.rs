//! Pending transactions: admitted under bounded, cheap-first rules, and chosen for
//! blocks by fee.
//!
//! The pool holds, per sender, transactions keyed by nonce, together with the
//! sender's account nonce when the pool last learned it (its *base*). Only a
//! sender's gap-free run from the base can go into a block; transactions a little
//! further ahead are held until the gap fills.
//!
//! Everything a peer can send is bounded ([`MempoolConfig`]): total count and
//! bytes, per-sender count, how far ahead a nonce may be, and a minimum fee. Every
//! cheap rule runs before the signature check, which costs about 335 µs, so spam
//! that breaks a rule costs a node almost nothing. When the pool is full a higher
//! fee evicts the cheapest sender tail; a replacement must pay 10% more.
//!
//! The pool reads no state itself: the host passes the sender's committed account
//! to [`Mempool::insert`] and reports committed blocks with
//! [`Mempool::remove_committed`].

mod config;
mod error;
mod evict;
mod insert;
mod pool;
mod prune;
mod queue;
mod rules;
mod select;
#[cfg(test)]
mod testing;

pub use config::MempoolConfig;
pub use error::MempoolError;
pub use insert::{Admission, InsertKind, Inserted};
pub use pool::Mempool;
