//! Native provers: `starling prove --block N` proves one block by hand, and
//! `starling prover` (also `starling devnet --provers K`) takes jobs from a
//! node for as long as it runs.
//!
//! A proof uses every core (stwo's SIMD backend over rayon). Each proof is
//! verified here before it is submitted, so a prover bug shows up as an error
//! on the prover's screen rather than as a refusal by the node.

pub mod rpc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use starling_core::proving::config::ProofConfig;
use starling_core::proving::input::ProvingInput;
use starling_core::proving::prover::prove_block;
use starling_core::proving::verifier::verify_block;
use starling_core::types::Address;

use crate::client::RpcClient;
use crate::node::now_ms;
use rpc::{Leased, Verdict};

/// A proof and what it took.
pub struct Proved {
    pub bytes: Vec<u8>,
    pub transactions: usize,
    /// Re-executing the block on its witness.
    pub record: Duration,
    pub prove: Duration,
    pub verify: Duration,
}

impl Proved {
    /// Transactions proven per second of proving.
    pub fn throughput(&self) -> f64 {
        self.transactions as f64 / self.prove.as_secs_f64().max(1e-9)
    }

    /// One line for logs and the terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} txs, recorded in {:.0?}, proved in {:.2?} ({:.1} tx/s), verified in {:.0?}, {} KiB",
            self.transactions,
            self.record,
            self.prove,
            self.throughput(),
            self.verify,
            self.bytes.len() / 1024
        )
    }
}

/// Proves `input` for `prover` under the standard configuration, and checks
/// the proof verifies.
pub fn prove_input(input: &ProvingInput, prover: Address) -> Result<Proved> {
    let config = ProofConfig::STANDARD;
    let started = Instant::now();
    let witness = input.record().map_err(|e| anyhow!("the block cannot be proven: {e}"))?;
    let record = started.elapsed();
    let started = Instant::now();
    let proof = prove_block(&witness, &config, prover).map_err(|e| anyhow!("proving: {e}"))?;
    let prove = started.elapsed();
    let started = Instant::now();
    verify_block(&witness.statement, &proof, &config)
        .map_err(|e| anyhow!("the proof made here does not verify (a prover bug): {e}"))?;
    let verify = started.elapsed();
    let transactions = input.block.transactions.len();
    Ok(Proved { bytes: proof.to_bytes(), transactions, record, prove, verify })
}

/// A prover that takes jobs from one node.
pub struct Worker {
    pub client: RpcClient,
    /// The account its rewards go to; bound into every proof it makes.
    pub prover: Address,
    /// Names the worker in logs (`prover-0`, ...).
    pub name: String,
}

/// How long to wait before asking again when there is no job, or the node is
/// unreachable.
const IDLE: Duration = Duration::from_millis(500);

impl Worker {
    /// Leases, proves and submits jobs until `stop` is set.
    pub fn run(&self, stop: &AtomicBool) {
        tracing::info!(worker = %self.name, prover = %self.prover, node = self.client.base_url(), "prover started");
        while !stop.load(Ordering::Relaxed) {
            match self.client.lease_job(&self.prover) {
                Ok(Some(leased)) => self.work_on(leased),
                Ok(None) => std::thread::sleep(IDLE),
                Err(e) => {
                    tracing::warn!(worker = %self.name, error = %format!("{e:#}"), "cannot lease a job");
                    std::thread::sleep(IDLE * 4);
                }
            }
        }
    }

    /// Proves one leased job and submits the proof; a failure gives the lease
    /// back so another prover can take the job at once.
    fn work_on(&self, leased: Leased) {
        let height = leased.height;
        let outcome = self.prove_renewing(&leased).and_then(|proved| {
            tracing::info!(worker = %self.name, height, "{}", proved.summary());
            self.client.submit_proof(height, &proved.bytes)
        });
        match outcome {
            Ok(Verdict::Accepted { proven_height }) => {
                tracing::info!(worker = %self.name, height, proven_height, "proof accepted")
            }
            Ok(Verdict::Refused { reason, error }) => {
                tracing::warn!(worker = %self.name, height, reason, error, "proof refused")
            }
            Err(e) => {
                tracing::warn!(worker = %self.name, height, error = %format!("{e:#}"), "job failed");
                let _ = self.client.release_lease(height, &self.prover);
            }
        }
    }

    /// Proves while renewing the lease whenever a third of it is left. A lease
    /// that cannot be renewed does not stop the proof: the first valid proof
    /// wins whoever holds the lease.
    fn prove_renewing(&self, leased: &Leased) -> Result<Proved> {
        let (done_tx, done) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| done_tx.send(prove_input(&leased.input, self.prover)));
            let (mut issued_ms, mut expires_ms) = (now_ms(), leased.expires_ms);
            loop {
                let renew_at = issued_ms + expires_ms.saturating_sub(issued_ms) / 3 * 2;
                let renew_in = renew_at.saturating_sub(now_ms());
                match done.recv_timeout(Duration::from_millis(renew_in.max(100))) {
                    Ok(result) => return result,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(anyhow!("the proving thread panicked"));
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        match self.client.renew_lease(leased.height, &self.prover) {
                            Ok(expiry) => (issued_ms, expires_ms) = (now_ms(), expiry),
                            Err(e) => {
                                tracing::info!(worker = %self.name, height = leased.height, error = %format!("{e:#}"), "lease not renewed; proving on");
                                expires_ms = u64::MAX;
                            }
                        }
                    }
                }
            }
        })
        .context("proving a leased job")
    }
}
