//! The proving job market over JSON-RPC: `starling_leaseJob`,
//! `starling_renewLease`, `starling_releaseLease`,
//! `starling_getProvingInput`, and what a prover earned,
//! `starling_getProverRewards`. Proofs themselves travel as raw bytes over
//! `/proofs/{height}` (see `crate::settlement::http`).
//!
//! A prover names itself by the account address its rewards go to; the proof
//! binds that address, so naming someone else only proves for them.

use serde_json::{Value, json};
use starling_core::encoding::Message;
use starling_core::jobs::{Lease, LeaseError};
use starling_core::proving::input::ProvingInput;

use super::super::protocol::{RpcError, required};
use super::address_param;
use crate::node::{Node, now_ms};

/// A lease operation the board refused; `data` says why.
fn lease_refused(e: LeaseError) -> RpcError {
    RpcError::new(-32010, "Lease refused").with_data(e.to_string())
}

fn height_param(params: &Value, index: usize) -> Result<u64, RpcError> {
    required(params, index, "height")?
        .as_u64()
        .ok_or_else(|| RpcError::invalid_params("height must be a non-negative integer"))
}

/// A job and its input, hex-encoded.
fn job_json(input: &ProvingInput) -> Value {
    let job = input.job();
    json!({
        "height": job.height,
        "block_hash": job.block_hash,
        "pre_root": job.pre_root,
        "post_root": job.post_root,
        "transactions": input.block.transactions.len(),
        "input": format!("0x{}", hex::encode(input.encode_message())),
    })
}

fn lease_json(lease: &Lease) -> Value {
    json!({ "height": lease.job, "prover": lease.prover, "expires_ms": lease.expires_ms })
}

/// `starling_leaseJob [prover]`: the lowest open job with its input and the
/// lease's expiry, or `null` when every job is proven or leased.
pub fn lease(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let prover = address_param(params, 0, "prover")?;
    match node.settlement.lease(prover, now_ms()).map_err(RpcError::internal)? {
        Ok(assignment) => {
            let mut answer = job_json(&assignment.input);
            answer["expires_ms"] = json!(assignment.lease.expires_ms);
            Ok(answer)
        }
        Err(LeaseError::NoOpenJob) => Ok(Value::Null),
        Err(e) => Err(lease_refused(e)),
    }
}

/// `starling_renewLease [height, prover]`: extends a live lease.
pub fn renew(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let height = height_param(params, 0)?;
    let prover = address_param(params, 1, "prover")?;
    let lease = node.settlement.renew(height, prover, now_ms()).map_err(lease_refused)?;
    Ok(lease_json(&lease))
}

/// `starling_releaseLease [height, prover]`: gives a lease back at once.
pub fn release(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let height = height_param(params, 0)?;
    let prover = address_param(params, 1, "prover")?;
    let lease = node.settlement.release(height, prover).map_err(lease_refused)?;
    Ok(lease_json(&lease))
}

/// `starling_getProvingInput [height]`: the input of any stored block's proof,
/// leased or not (to prove a block by hand: `starling prove --block N`).
pub fn input(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let height = height_param(params, 0)?;
    let input = node.settlement.input(height).map_err(RpcError::internal)?;
    let input = input.ok_or_else(|| {
        RpcError::block_not_found().with_data(format!("no provable block at height {height}"))
    })?;
    Ok(job_json(&input))
}

/// `starling_getProverRewards [address]`: how many of this node's settled
/// proofs name `address` as their prover, and what this node paid it: the
/// reward per proof (`null` on a node that does not pay), the rewards whose
/// transfer is in a committed block, and those signed but not yet included.
/// Amounts are base units, as JSON numbers.
pub fn rewards(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let address = address_param(params, 0, "address")?;
    let settled = node.store.proofs_by(&address).map_err(RpcError::internal)?;
    let (reward, paid) = match node.rewards() {
        Some(payer) => (Some(payer.reward()), payer.rewards_of(&address)),
        None => (None, Default::default()),
    };
    Ok(json!({
        "address": address,
        "proofs_settled": settled,
        "reward_per_proof": reward,
        "rewards_paid": paid.paid,
        "rewards_pending": paid.pending,
    }))
}
