//! Tendermint consensus among staked validators.
//!
//! From the proof-of-stake stage on, a block is decided by vote: in each round one
//! validator (chosen deterministically, weighted by stake) proposes a block, every
//! validator *prevotes* for it (or nil), and once more than two thirds of the power
//! prevoted a block they *precommit* it; more than two thirds of precommits decide
//! it, and those precommits are its [`CommitCertificate`]. Rounds that fail (a
//! silent proposer, an invalid block, a split vote) time out and move on to the
//! next proposer. Locking rules make two decisions at one height impossible while
//! faulty validators hold less than a third of the power (Buchman, Kwon, Milosevic:
//! *The latest gossip on BFT consensus*, arXiv 1807.04938).
//!
//! Like the rest of the core this is sans-IO: messages, timeouts and the host's
//! verdict on a proposed block go in; messages to broadcast, timeouts to schedule
//! and decisions come out.
//!
//! The parts, one concern each: [`Driver`] is the entry point (and its
//! `admission` decides which messages it takes in); `state_machine` holds the
//! rules of Algorithm 1; `vote_keeper`, `proposal_keeper` and `skip_tracker`
//! remember what arrived; [`proposer`] picks each round's proposer;
//! [`TimeoutConfig`] says how long each step waits. The rules are tested one by
//! one, against the paper's line numbers, in `driver/tests.rs`; whole networks
//! with faulty validators, in `core/tests/consensus_simulation.rs`.
//!
//! ## Where this differs from the paper, and why
//!
//! - `getValue()` (line 18) is a request to the host ([`Effect::BuildProposal`])
//!   answered later ([`Input::ProposalBlock`]), and the proposer schedules the
//!   propose timeout too, so a host that never answers cannot stall it.
//! - Deciding (line 49) ends the driver's work on the height; the host starts the
//!   next one ([`Driver::start_height`]) once it has applied the block and knows
//!   the next validator set.
//! - A double-signer counts once towards "2f+1 of anything" and once towards
//!   each value it voted for, as the paper's per-value counting implies; its
//!   further votes are kept only for nil and proposed blocks, to bound memory.
//! - The skip rule (line 55) keeps each validator's highest round rather than
//!   every message, and messages more than [`ROUNDS_KEPT_AHEAD`] rounds ahead only
//!   feed it: a faulty validator cannot make the driver store unboundedly many
//!   rounds, and a node far behind still catches up in one jump.
//! - Only the first proposal received for a round is prevoted on (lines 22 and
//!   28); a faulty proposer's others are kept only once someone votes for them.

mod certificate;
mod driver;
mod proposal;
mod proposal_keeper;
mod proposer;
mod reject;
mod skip_tracker;
mod state_machine;
mod timeouts;
mod validator_set;
mod vote;
mod vote_keeper;

pub use certificate::{CertificateError, CommitCertificate, CommitSignature};
pub use driver::{Driver, Effect, Input, ROUNDS_KEPT_AHEAD};
pub use proposal::{Proposal, SignedProposal};
pub use proposer::proposer;
pub use reject::Reject;
pub use state_machine::{RoundValue, Step};
pub use timeouts::{Timeout, TimeoutConfig, TimeoutStep};
pub use validator_set::{MAX_VALIDATORS, Validator, ValidatorSet, ValidatorSetError};
pub use vote::{SignedVote, Vote, VoteKind};
