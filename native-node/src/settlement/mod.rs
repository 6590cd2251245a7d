//! The settlement verifier and the node's proving job board.
//!
//! Validators finalize blocks; settlement accepts a block's state root only with
//! a STARK proof of its transition from the last proven root, the role Ethereum
//! plays for Starknet. This node plays it for itself: every committed block
//! becomes a job on a [`JobBoard`] (the pure market logic of
//! `starling_core::jobs`), provers lease jobs and fetch their inputs over
//! JSON-RPC, and a submitted proof is checked cheaply, verified against the
//! statement the node builds from its *own* stored blocks, stored durably, and
//! only then counted. The proven height is the contiguous prefix of proven
//! blocks above the height settlement started from; it survives restarts
//! because it is recomputed from the stored proofs.
//!
//! A node that joined from a state snapshot starts settlement at the snapshot:
//! it holds neither the blocks nor the witnesses below it, and it trusts the
//! snapshot's root as it trusts the snapshot itself.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context, Result, anyhow};
use starling_core::encoding::Message;
use starling_core::jobs::{Job, JobBoard, JobId, Lease, LeaseError, LeasePolicy, Reject, Settled};
use starling_core::proving::config::ProofConfig;
use starling_core::proving::input::ProvingInput;
use starling_core::proving::proof::BlockProof;
use starling_core::proving::statement::BlockStatement;
use starling_core::proving::verifier::{ProofError, verify_block};
use starling_core::state::Witness;
use starling_core::types::Address;

use crate::storage::Store;

pub mod http;

/// Why a submitted proof was not settled. Nothing is stored for any of them.
#[derive(Debug)]
pub enum SubmitError {
    /// The bytes are not a proof.
    Malformed(String),
    /// Refused before verifying: early, stale, a duplicate.
    Rejected(Reject),
    /// Verified, and false.
    Invalid(ProofError),
    /// The node could not read or write its store.
    Storage(anyhow::Error),
}

impl SubmitError {
    /// Whether the submission shows its sender faulty (a peer to penalise),
    /// rather than late or unlucky.
    pub fn is_sender_fault(&self) -> bool {
        match self {
            Self::Malformed(_) | Self::Invalid(_) => true,
            Self::Rejected(reject) => reject.is_peer_fault(),
            Self::Storage(_) => false,
        }
    }

    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Rejected(Reject::FutureHeight) => "future",
            Self::Rejected(Reject::Stale) => "stale",
            Self::Rejected(Reject::Duplicate { .. }) => "duplicate",
            Self::Rejected(Reject::WrongJob) => "wrong_job",
            Self::Rejected(Reject::InvalidProof) | Self::Invalid(_) => "invalid",
            Self::Storage(_) => "storage",
        }
    }
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "not a block proof: {why}"),
            Self::Rejected(reject) => write!(f, "{reject}"),
            Self::Invalid(e) => write!(f, "the proof does not verify: {e}"),
            Self::Storage(e) => write!(f, "storage failure: {e:#}"),
        }
    }
}

/// A granted lease with what its prover needs (the job is `input.job()`).
pub struct Assignment {
    pub lease: Lease,
    pub input: ProvingInput,
}

/// The settlement verifier of one node.
pub struct Settlement {
    store: Arc<Store>,
    board: Mutex<JobBoard>,
    /// The height settlement counts from (genesis, or the snapshot joined from).
    base: JobId,
    /// The staking parameters' block reward, which bounds what a block may mint
    /// in the statement (fixed at genesis).
    block_reward: u64,
    config: ProofConfig,
}

impl Settlement {
    /// Resumes settlement from the store: the proven height is recomputed from
    /// the stored proofs, and the jobs above it are published.
    pub fn open(store: Arc<Store>, block_reward: u64, policy: LeasePolicy) -> Result<Self> {
        let base = store.first_height()?.unwrap_or(0);
        let proven = store.proven_from(base)?;
        let settlement = Self {
            store,
            board: Mutex::new(JobBoard::new(proven + 1, policy)),
            base,
            block_reward,
            config: ProofConfig::STANDARD,
        };
        settlement.publish_committed()?;
        Ok(settlement)
    }

    fn board(&self) -> MutexGuard<'_, JobBoard> {
        self.board.lock().expect("job board lock poisoned")
    }

    /// The first height settlement proves (the block after genesis or the
    /// snapshot joined from).
    pub fn first_height(&self) -> JobId {
        self.base + 1
    }

    /// Hands over the rewards the board queued as the proven height advanced.
    /// The payer reads winners from the stored proofs instead (they survive a
    /// restart; the board's queue does not), so the settlement tick drains this
    /// only to keep the board's memory bounded.
    pub fn take_rewards(&self) -> Vec<starling_core::jobs::RewardDue> {
        self.board().take_rewards()
    }

    /// The highest height whose block and every block before it is proven.
    pub fn proven_height(&self) -> JobId {
        let board = self.board();
        board.proven_height().unwrap_or(board.start_height() - 1)
    }

    /// Whether a proof of the block at `height` would be taken now: its job is
    /// on the board and not yet proven.
    pub fn wants(&self, height: JobId) -> bool {
        self.board().check_submission(height, Address([0; 32])).is_ok()
    }

    /// Jobs published but not yet proven, and leases held.
    pub fn backlog(&self) -> (usize, usize) {
        let board = self.board();
        (board.pending_len(), board.leases().count())
    }

    /// Publishes a job for every committed block not yet on the board, as far
    /// as the board has room. Called on every tick: blocks arrive by several
    /// paths (produced, decided, synced) and all of them end in the store.
    pub fn publish_committed(&self) -> Result<usize> {
        let head = self.store.head_height()?.unwrap_or(0);
        let mut board = self.board();
        let mut published = 0;
        while board.next_height() <= head {
            let job = self.stored_job(board.next_height())?;
            match board.publish(job) {
                Ok(()) => published += 1,
                Err(starling_core::jobs::PublishError::Full { .. }) => break,
                Err(e) => return Err(anyhow!("publishing job {}: {e}", job.height)),
            }
        }
        Ok(published)
    }

    /// The job of the stored block at `height`.
    fn stored_job(&self, height: JobId) -> Result<Job> {
        let header = |h: u64| {
            self.store.header(h)?.ok_or_else(|| anyhow!("block {h} is missing from the store"))
        };
        let (block, parent) = (header(height)?, header(height - 1)?);
        Ok(Job {
            height,
            block_hash: block.hash(),
            pre_root: parent.state_root,
            post_root: block.state_root,
        })
    }

    /// Opens the jobs of leases that ran out.
    pub fn expire(&self, now_ms: u64) -> Vec<Lease> {
        self.board().expire(now_ms)
    }

    /// Leases the lowest open job to `prover`, with its input.
    pub fn lease(&self, prover: Address, now_ms: u64) -> Result<Result<Assignment, LeaseError>> {
        let lease = {
            let mut board = self.board();
            board.expire(now_ms);
            match board.lease(prover, now_ms) {
                Ok(lease) => lease,
                Err(e) => return Ok(Err(e)),
            }
        };
        let input = self.input(lease.job)?.context("a leased job's block is stored")?;
        Ok(Ok(Assignment { lease, input }))
    }

    /// Extends `prover`'s lease on `height`.
    pub fn renew(&self, height: JobId, prover: Address, now_ms: u64) -> Result<Lease, LeaseError> {
        self.board().renew(height, prover, now_ms)
    }

    /// Gives `prover`'s lease on `height` back.
    pub fn release(&self, height: JobId, prover: Address) -> Result<Lease, LeaseError> {
        self.board().release(height, prover)
    }

    /// What a prover needs to prove the block at `height` (any stored block
    /// above the base, proven or not).
    pub fn input(&self, height: JobId) -> Result<Option<ProvingInput>> {
        if height <= self.base {
            return Ok(None);
        }
        let (Some(block), Some(parent), Some(witness)) = (
            self.store.block(height)?,
            self.store.header(height - 1)?,
            self.store.witness_bytes(height)?,
        ) else {
            return Ok(None);
        };
        let witness = Witness::decode_message(&witness)
            .with_context(|| format!("corrupt stored witness {height}"))?;
        Ok(Some(ProvingInput { parent, block, witness }))
    }

    /// Checks, verifies and settles a proof of the block at `height`.
    ///
    /// The cheap checks come first (is the job open?), then the STARK is
    /// verified against the statement built from this node's own stored block —
    /// never from anything the submitter sent — then the proof is stored
    /// durably, and only then is the job counted proven: an acknowledged
    /// settlement survives a crash.
    pub fn submit(&self, height: JobId, bytes: &[u8]) -> Result<Settled, SubmitError> {
        let proof =
            BlockProof::from_bytes(bytes).map_err(|e| SubmitError::Malformed(e.to_string()))?;
        self.board().check_submission(height, proof.prover).map_err(SubmitError::Rejected)?;
        let statement = self.statement(height).map_err(SubmitError::Storage)?;
        verify_guarded(&statement, &proof, &self.config).map_err(SubmitError::Invalid)?;
        let mut board = self.board();
        board.check_submission(height, proof.prover).map_err(SubmitError::Rejected)?;
        self.store.put_proof(height, bytes).map_err(SubmitError::Storage)?;
        board.accept(height, proof.prover).map_err(SubmitError::Rejected)
    }

    /// The statement a proof of the stored block at `height` must prove.
    fn statement(&self, height: JobId) -> Result<BlockStatement> {
        let block = self.store.block(height)?.with_context(|| format!("block {height} missing"))?;
        let parent = self
            .store
            .header(height - 1)?
            .with_context(|| format!("block {} missing", height - 1))?;
        BlockStatement::new(parent.state_root, &block, self.block_reward)
            .map_err(|e| anyhow!("stored block {height} has no statement: {e}"))
    }
}

/// Verifies, turning a panic inside the verifier on hostile input into a
/// refusal: a malformed proof must never take the node down.
fn verify_guarded(
    statement: &BlockStatement,
    proof: &BlockProof,
    config: &ProofConfig,
) -> Result<(), ProofError> {
    catch_unwind(AssertUnwindSafe(|| verify_block(statement, proof, config)))
        .unwrap_or(Err(ProofError::Malformed("the verifier could not read the proof")))
}
