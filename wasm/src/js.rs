//! The JavaScript API (wasm32 only): the typed Rust API, with blocks returned as
//! plain objects carrying the [`BlockSummary`] fields under their snake_case names
//! (as in JSON-RPC), and failures thrown as `Error`s whose message is the reason.

use wasm_bindgen::prelude::*;

use crate::{BlockSummary, ChainVerifier};

fn to_js(summary: &BlockSummary) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(summary).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("could not build the block object"))
}

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
    to_js(&summary)
}

/// Decodes a block without verifying it (to show what a rejected block claims).
#[wasm_bindgen(js_name = decodeBlock)]
pub fn decode_block(block_hex: &str) -> Result<JsValue, JsError> {
    let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
    to_js(&BlockSummary::of(&block))
}

/// Accepts a genesis block only if it hashes to `genesisHash`.
#[wasm_bindgen(js_name = checkGenesis)]
pub fn check_genesis(block_hex: &str, genesis_hash: &str) -> Result<JsValue, JsError> {
    let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
    crate::check_genesis(&block, genesis_hash).map_err(|e| JsError::new(&e))?;
    to_js(&BlockSummary::of(&block))
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
        to_js(&summary)
    }

    /// Checks a block's chain id, sequencer signature and transaction root without
    /// its parent, but not its state root. For a caller that starts mid-chain: the
    /// block it starts from is an anchor whose state root it assumes, not verifies.
    #[wasm_bindgen(js_name = verifySeal)]
    pub fn verify_seal(&self, block_hex: &str) -> Result<JsValue, JsError> {
        let block = crate::decode_block_hex(block_hex).map_err(|e| JsError::new(&e))?;
        self.0.verify_seal(&block).map_err(|e| JsError::new(&e))?;
        to_js(&BlockSummary::of(&block))
    }
}
