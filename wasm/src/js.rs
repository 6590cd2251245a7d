//! The JavaScript API (wasm32 only): the typed Rust API, with blocks returned as
//! plain objects carrying the [`BlockSummary`] fields under their snake_case names
//! (as in JSON-RPC), and failures thrown as `Error`s whose message is the reason.
//! Block proofs cross as `Uint8Array`s: proving-job inputs and proofs in their
//! binary encodings ([`crate::proving`]); `proveBlock`, `ProvingJob` and
//! `verifyBlockProof` exist only in the prover build (feature `prover`).

use wasm_bindgen::prelude::*;

use crate::{BlockSummary, ChainVerifier};

/// Verifies a block of the chain named by `chainId` and signed by `sequencerHex`,
/// given its parent block and the witness, all as hex from `starling_getBlock`.
/// Returns the block summary; throws with the reason the block is rejected.
///
/// The parent must already be accepted by the caller: verified by an earlier call,
/// or the genesis accepted with `checkGenesis`. This checks the step from the
/// parent to the block, never the parent itself, so a chain of blocks is only as
/// sound as its first accepted block. `chainId`, `sequencerHex` and the genesis
/// hash are the caller's trust root (in stage one, from the node's status).
#[wasm_bindgen(js_name = verifyBlock)]
pub fn verify_block(
    block_hex: &str,
    parent_block_hex: &str,
    witness_hex: &str,
    chain_id: &str,
    sequencer_hex: &str,
) -> Result<JsValue, JsError> {
    let summary =
        crate::verify_block_hex(block_hex, parent_block_hex, witness_hex, chain_id, sequencer_hex)
            .map_err(|e| JsError::new(&e))?;
    to_js_value(&summary)
}

/// Decodes a block without verifying it (to show what a rejected block claims).
#[wasm_bindgen(js_name = decodeBlock)]
pub fn decode_block(block_hex: &str) -> Result<JsValue, JsError> {
    let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
    to_js_value(&BlockSummary::of(&block))
}

/// Accepts a genesis block only if it hashes to `genesisHash`.
#[wasm_bindgen(js_name = checkGenesis)]
pub fn check_genesis(block_hex: &str, genesis_hash: &str) -> Result<JsValue, JsError> {
    let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
    crate::check_genesis(&block, genesis_hash).map_err(|e| JsError::new(&e))?;
    to_js_value(&BlockSummary::of(&block))
}

/// A verifier bound to one chain, for checking many blocks without re-parsing the
/// chain id and key each time.
#[wasm_bindgen(js_name = ChainVerifier)]
pub struct JsChainVerifier(ChainVerifier);

#[wasm_bindgen(js_class = ChainVerifier)]
impl JsChainVerifier {
    #[wasm_bindgen(constructor)]
    pub fn new(chain_id: &str, sequencer_hex: &str) -> Result<JsChainVerifier, JsError> {
        ChainVerifier::new(chain_id, sequencer_hex).map(Self).map_err(|e| JsError::new(&e))
    }

    /// See the free function `verifyBlock`: the parent must already be accepted.
    #[wasm_bindgen(js_name = verifyBlock)]
    pub fn verify_block(
        &self,
        block_hex: &str,
        parent_block_hex: &str,
        witness_hex: &str,
    ) -> Result<JsValue, JsError> {
        let summary = self
            .0
            .verify_hex(block_hex, parent_block_hex, witness_hex)
            .map_err(|e| JsError::new(&e))?;
        to_js_value(&summary)
    }

    /// Checks a block's chain id, sequencer signature and transaction root without
    /// its parent, but not its state root. For a caller that starts mid-chain: the
    /// block it starts from is an anchor whose state root it assumes, not verifies.
    #[wasm_bindgen(js_name = verifySeal)]
    pub fn verify_seal(&self, block_hex: &str) -> Result<JsValue, JsError> {
        let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
        self.0.verify_seal(&block).map_err(|e| JsError::new(&e))?;
        to_js_value(&BlockSummary::of(&block))
    }
}

/// A Rust value as a plain JS object, through JSON.
fn to_js_value<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("could not build the result object"))
}

/// Checks that `proof` (bytes, as a prover submits them) proves the block of
/// `input` (a node's proving-job bytes: parent header, block, witness) on top
/// of its parent. Returns `{ job: { height, block_hash, pre_root, post_root,
/// transactions }, prover, bytes }`; throws with the reason a proof is refused.
/// The parent and block must already be accepted by the caller: the proof
/// shows the state transition, not that the block is the chain's.
///
/// Exported from the prover module only: exports of this crate land in every
/// module that links it, and in the page's own this one would add stwo's
/// verifier (about 360 KiB of wasm) to every page load, for a check the page
/// does not make yet.
#[cfg(feature = "prover")]
#[wasm_bindgen(js_name = verifyBlockProof)]
pub fn verify_block_proof(input: &[u8], proof: &[u8]) -> Result<JsValue, JsError> {
    let verified =
        crate::proving::verify_block_proof(input, proof).map_err(|e| JsError::new(&e))?;
    to_js_value(&verified)
}

/// Proves the block of `input` (proving-job bytes) for the reward address
/// `proverHex`; returns the proof's bytes. Blocks the calling thread for the
/// whole proof: call it in a Web Worker (see `www/prover-worker.js`).
#[cfg(feature = "prover")]
#[wasm_bindgen(js_name = proveBlock)]
pub fn prove_block(input: &[u8], prover_hex: &str) -> Result<Vec<u8>, JsError> {
    crate::proving::prove_block(input, prover_hex).map_err(|e| JsError::new(&e))
}

/// One proving job in two steps, so a worker can report progress between
/// them: the constructor decodes the input and re-executes its block (fast;
/// throws on a bad input), `prove` makes the proof (slow).
#[cfg(feature = "prover")]
#[wasm_bindgen(js_name = ProvingJob)]
pub struct JsProvingJob(crate::proving::RecordedJob);

#[cfg(feature = "prover")]
#[wasm_bindgen(js_class = ProvingJob)]
impl JsProvingJob {
    #[wasm_bindgen(constructor)]
    pub fn new(input: &[u8]) -> Result<JsProvingJob, JsError> {
        crate::proving::RecordedJob::record(input).map(Self).map_err(|e| JsError::new(&e))
    }

    /// `{ height, block_hash, pre_root, post_root, transactions }`.
    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js_value(self.0.summary())
    }

    /// The proof's bytes, for the reward address `proverHex`.
    pub fn prove(&self, prover_hex: &str) -> Result<Vec<u8>, JsError> {
        let prover = crate::proving::parse_prover(prover_hex).map_err(|e| JsError::new(&e))?;
        self.0.prove(prover).map_err(|e| JsError::new(&e))
    }
}
