//! Applying transactions to state: the chain's rules.
//!
//! Execution is split in two so each check runs where it is cheapest:
//!
//! - [`check_stateless`] needs only the transaction and the chain id: the chain
//!   must match, the cost must not overflow, the call must be well formed (a
//!   valid recipient, a commission within 100%, evidence that is two conflicting,
//!   correctly signed votes), the signature must verify. The
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
//! **Fees** are paid by the sender. In the single stage they are burned; under
//! proof of stake the end-of-block hook ([`crate::staking::finish_block`]) pays
//! them out with the block reward to the proposer and the validators.
//!
//! Staking calls are applied by [`crate::staking`]: they change the sender's
//! account and the staking registry, all or nothing, like a transfer.

mod apply;
mod block;
mod error;
mod stateless;
#[cfg(test)]
pub(crate) mod testing;

pub(crate) use apply::debit;
pub use apply::{Receipt, apply_transaction};
pub use block::apply_transactions;
pub use error::{BlockExecError, TxError};
pub use stateless::{
    VerifiedTransaction, check_call, check_chain, check_signature, check_stateless,
};
