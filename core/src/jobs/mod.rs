//! The proving job market: who proves which block, and who is owed for it.
//!
//! Finality comes from the validators; validity comes from a STARK proof of each
//! block's state transition, which lags finality ([`crate::proving`] says what
//! is proven). This module decides how that work is handed out, as pure logic:
//! the host feeds it finalized blocks, prover requests, proofs it has verified
//! and the time (`now_ms`), and acts on what comes back.
//!
//! - **Jobs.** Every finalized block becomes a [`Job`]: "block `block_hash`
//!   takes state root `pre_root` to `post_root`", named by its height
//!   ([`JobId`]). The host [`publish`](JobBoard::publish)es them in height
//!   order, each chaining from the last.
//! - **Leases.** A prover (a native worker or a browser tab, named by the
//!   account [`Address`](crate::types::Address) its reward goes to)
//!   [`lease`](JobBoard::lease)s a job for a bounded time, lowest job first so
//!   the proven height advances. It may [`renew`](JobBoard::renew) while the
//!   lease is live, up to a hold limit, or [`release`](JobBoard::release) it;
//!   a lease nobody renews [`expire`](JobBoard::expire)s and the job is open
//!   again. A [`LeasePolicy`] bounds how long and how many.
//! - **Submissions.** A proof is checked cheaply first
//!   ([`check_claim`](JobBoard::check_claim)): early, late, duplicate and
//!   mismatched submissions are refused before the host spends milliseconds
//!   verifying. The first valid proof wins, whoever sent it, leaseholder or
//!   not: a lease only spreads work, and a STARK proof is its own check, so no
//!   redundancy is needed. [`accept`](JobBoard::accept) records the winner.
//!   Every refusal is a [`Reject`] whose [`is_peer_fault`](Reject::is_peer_fault)
//!   tells ordinary races and echoes from a sender the host may penalise.
//! - **Proven height and rewards.** Proofs arrive in any order; the proven
//!   height is the highest `h` such that every job from the board's start to
//!   `h` is proven, since settlement accepts roots only chaining from the last
//!   proven one. As it advances, the jobs it passes are pruned and their
//!   winners' [`RewardDue`]s become payable, once each, through
//!   [`take_rewards`](JobBoard::take_rewards); the host pays them on chain.
//! - **Payouts.** A node holding a funded rewards account pays each settled
//!   height's winner with a signed transfer; [`payout`] decides which heights
//!   it pays next, at which nonces, and what became of each payment.
//!
//! Memory is bounded whatever peers send: at most [`MAX_PENDING_JOBS`] jobs
//! above the proven height, [`RECENT_WINNERS`] remembered winners below it,
//! one lease per job, and nothing at all recorded for a refused submission.
//!
//! Leases are local to the node that grants them, not agreed by the network:
//! two nodes may lease one job to two provers, and the first valid proof still
//! settles it. Which prover the *chain* pays is decided where the host pays it.

mod board;
mod error;
mod job;
mod lease;
mod lease_book;
mod leasing;
pub mod payout;
mod progress;
mod reject;
mod submission;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod testing;

pub use board::{JobBoard, MAX_PENDING_JOBS, RECENT_WINNERS};
pub use error::{LeaseError, PublishError};
pub use job::{Job, JobId};
pub use lease::{Lease, LeasePolicy};
pub use progress::RewardDue;
pub use reject::Reject;
pub use submission::Settled;
