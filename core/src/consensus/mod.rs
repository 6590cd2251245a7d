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

mod certificate;
mod validator_set;
mod vote;

pub use certificate::{CertificateError, CommitCertificate, CommitSignature};
pub use validator_set::{MAX_VALIDATORS, Validator, ValidatorSet, ValidatorSetError};
pub use vote::{SignedVote, Vote, VoteKind};
