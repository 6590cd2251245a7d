//! Proofs over HTTP, as raw bytes: `POST /proofs/{height}` submits one,
//! `GET /proofs/{height}` serves a settled one.
//!
//! Not JSON-RPC: a proof is hundreds of KiB, which hex in a JSON body would
//! double, and every JSON-RPC body is held to a small limit. Here the body may
//! be as large as a proof may be and no larger, and verifications run a few at
//! a time on blocking threads.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use starling_core::encoding::Message;
use starling_core::proving::proof::{MAX_PROOF_BYTES, proof_digest};
use starling_net::messages::ProofAnnouncement;
use starling_net::names::Topic;

use super::SubmitError;
use crate::node::Node;

/// The proof routes, to merge into the node's router.
pub fn routes(node: Arc<Node>) -> Router {
    Router::new().route("/proofs/{height}", get(serve).post(submit)).with_state(node)
}

fn refusal(status: StatusCode, reason: &str, message: String) -> Response {
    (status, axum::Json(json!({ "accepted": false, "reason": reason, "error": message })))
        .into_response()
}

async fn submit(State(node): State<Arc<Node>>, Path(height): Path<u64>, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, MAX_PROOF_BYTES).await else {
        let message = format!("a proof is at most {MAX_PROOF_BYTES} bytes");
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message);
    };
    let Ok(_permit) = node.verifying.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let worker = node.clone();
    let outcome = tokio::task::spawn_blocking(move || worker.submit_proof(height, &bytes)).await;
    match outcome {
        Ok(Ok(proven_height)) => {
            let mut answer =
                json!({ "accepted": true, "height": height, "proven_height": proven_height });
            if let Some(payer) = node.rewards() {
                // What this node pays the proof's prover once the height is proven.
                answer["reward"] = json!(payer.reward());
            }
            axum::Json(answer).into_response()
        }
        Ok(Err(SubmitError::Storage(e))) => {
            tracing::error!(height, error = %format!("{e:#}"), "settling a proof");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "storage", "storage failure".into())
        }
        Ok(Err(e)) => {
            let status = if e.is_sender_fault() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            refusal(status, e.label(), e.to_string())
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn serve(State(node): State<Arc<Node>>, Path(height): Path<u64>) -> Response {
    match node.store.proof_bytes(height) {
        Ok(Some(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Ok(None) => {
            (StatusCode::NOT_FOUND, format!("no settled proof of block {height}")).into_response()
        }
        Err(e) => {
            tracing::error!(height, error = %format!("{e:#}"), "reading a proof");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

impl Node {
    /// Settles a submitted proof (see [`super::Settlement::submit`]), with
    /// metrics and logs; returns the proven height after it.
    pub fn submit_proof(&self, height: u64, bytes: &[u8]) -> Result<u64, SubmitError> {
        let started = Instant::now();
        let outcome = self.settlement.submit(height, bytes);
        self.metrics.proof_verify_seconds.observe(started.elapsed().as_secs_f64());
        match &outcome {
            Ok(settled) => {
                self.metrics.proofs_accepted.inc();
                let announcement = ProofAnnouncement {
                    height,
                    prover: settled.winner.prover,
                    proof_hash: proof_digest(bytes),
                };
                self.net.publish(Topic::Proofs, announcement.encode_message());
                tracing::info!(
                    height,
                    prover = %settled.winner.prover,
                    proven_height = self.settlement.proven_height(),
                    "settled a block proof"
                );
            }
            Err(e) => {
                self.metrics.proof_rejected(e.label());
                tracing::info!(height, reason = e.label(), error = %e, "refused a block proof");
            }
        }
        outcome.map(|_| self.refresh_settlement_gauges())
    }

    /// A turn to verify a proof now, if one is free (peers' proofs wait for none).
    pub fn verifying_permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.verifying.clone().try_acquire_owned().ok()
    }

    /// Updates the settlement metrics; returns the proven height.
    pub fn refresh_settlement_gauges(&self) -> u64 {
        let proven = self.settlement.proven_height();
        let (pending, leases) = self.settlement.backlog();
        self.metrics.proven_height.set(proven as i64);
        self.metrics.proving_jobs_open.set(pending as i64);
        self.metrics.proving_leases.set(leases as i64);
        proven
    }

    /// Publishes the jobs of newly committed blocks, reopens expired leases
    /// and pays provers (when this node does), twice a second, for as long as
    /// the node runs.
    pub async fn run_settlement(self: Arc<Self>) -> anyhow::Result<()> {
        let mut ticker = tokio::time::interval(std::time::Duration::from_millis(500));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let node = self.clone();
            tokio::task::spawn_blocking(move || {
                node.settlement.expire(crate::node::now_ms());
                let published = node.settlement.publish_committed();
                node.refresh_settlement_gauges();
                node.settlement.take_rewards();
                if let Some(payer) = node.rewards() {
                    // A failure here (the store) is retried next tick; paying
                    // provers never stops the node.
                    if let Err(e) = payer.tick(&node) {
                        tracing::error!(error = %format!("{e:#}"), "paying provers");
                    }
                }
                published
            })
            .await??;
        }
    }
}
