//! The prover's side of the job market: leasing, renewing and releasing jobs
//! over JSON-RPC, fetching inputs, and submitting proofs as raw bytes.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use starling_core::encoding::Message;
use starling_core::jobs::JobId;
use starling_core::proving::input::ProvingInput;
use starling_core::types::Address;

use crate::client::RpcClient;

/// A job handed to this prover.
pub struct Leased {
    pub height: JobId,
    pub expires_ms: u64,
    pub input: ProvingInput,
}

/// What the node said of a submitted proof.
#[derive(Debug)]
pub enum Verdict {
    Accepted {
        proven_height: u64,
    },
    /// Refused; `reason` is the node's label (`duplicate`, `stale`, `invalid`...).
    Refused {
        reason: String,
        error: String,
    },
}

fn decode_input(answer: &Value) -> Result<ProvingInput> {
    let hex_input = answer["input"].as_str().context("the answer has no input")?;
    let bytes = hex::decode(hex_input.trim_start_matches("0x")).context("the input is not hex")?;
    ProvingInput::decode_message(&bytes).context("the node sent a malformed proving input")
}

impl RpcClient {
    /// Leases the lowest open job; `None` when there is nothing to prove.
    pub fn lease_job(&self, prover: &Address) -> Result<Option<Leased>> {
        let answer = self.call("starling_leaseJob", json!([prover]))?;
        if answer.is_null() {
            return Ok(None);
        }
        let height = answer["height"].as_u64().context("the lease has no height")?;
        let expires_ms = answer["expires_ms"].as_u64().context("the lease has no expiry")?;
        Ok(Some(Leased { height, expires_ms, input: decode_input(&answer)? }))
    }

    /// Extends a lease; returns its new expiry.
    pub fn renew_lease(&self, height: JobId, prover: &Address) -> Result<u64> {
        let answer = self.call("starling_renewLease", json!([height, prover]))?;
        answer["expires_ms"].as_u64().context("the renewal has no expiry")
    }

    /// Gives a lease back.
    pub fn release_lease(&self, height: JobId, prover: &Address) -> Result<()> {
        self.call("starling_releaseLease", json!([height, prover])).map(drop)
    }

    /// The input of the block at `height`, leased or not.
    pub fn proving_input(&self, height: JobId) -> Result<ProvingInput> {
        decode_input(&self.call("starling_getProvingInput", json!([height]))?)
    }

    /// Submits a proof of the block at `height` to `/proofs/{height}`.
    pub fn submit_proof(&self, height: JobId, proof: &[u8]) -> Result<Verdict> {
        let url = format!("{}/proofs/{height}", self.base_url());
        let response = match self.agent().post(&url).send_bytes(proof) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e).with_context(|| format!("cannot reach {url}")),
        };
        let body: Value = response.into_json().context("the node's answer is not JSON")?;
        if body["accepted"].as_bool() == Some(true) {
            let proven_height = body["proven_height"].as_u64().context("no proven height")?;
            return Ok(Verdict::Accepted { proven_height });
        }
        let Some(reason) = body["reason"].as_str() else {
            bail!("unexpected answer to a proof: {body}");
        };
        let error = body["error"].as_str().unwrap_or_default().to_string();
        Ok(Verdict::Refused { reason: reason.to_string(), error })
    }
}
