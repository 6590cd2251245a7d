//! Applying transactions to state: the chain's rules.
//!
//! Execution is split in two so each check runs where it is cheapest:
//!
//! - [`check_stateless`] needs only the transaction and the chain id: the chain
//!   must match, the cost must not overflow, the recipient must be a valid
//!   address, the signature must verify. The
//!   signature is by far the most expensive step (about 335 µs of Stark-curve
//!   ECDSA), so it runs last, and hosts may run it on many cores ahead of time
//!   ([`VerifiedTransaction`]).
//! - [`apply_transaction`] needs the state: the nonce must be the account's next
//!   one and the balance must cover amount plus fee. It checks everything before it
//!   writes anything, so a rejected transaction leaves the state as it was.
//!
//! [`apply_transactions`] runs both for every transaction of a block, as a node does
//! to check a block someone else built.
//!
//! **Fees are burned** for now: the sender pays them and nobody is credited.
//! Rewards to proposers, voters and provers come with proof of stake.

mod apply;
mod block;
mod error;
mod stateless;
#[cfg(test)]
pub(crate) mod testing;

pub use apply::{Receipt, apply_transaction};
pub use block::apply_transactions;
pub use error::{BlockExecError, TxError};
pub use stateless::{
    VerifiedTransaction, check_chain, check_recipient, check_signature, check_stateless,
};
