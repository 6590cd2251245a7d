//! A small JSON-RPC client for the CLI (`starling tx ...`).

use anyhow::{Context, Result};
use serde_json::{Value, json};
use starling_core::encoding::Message;
use starling_core::types::{Address, Hash, Transaction};

/// A JSON-RPC error answer, kept whole so callers can tell codes apart.
#[derive(Debug)]
pub struct RpcCallError {
    pub code: i64,
    pub message: String,
    pub data: Option<String>,
}

impl std::fmt::Display for RpcCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.data {
            Some(data) => write!(f, "{} (code {}): {data}", self.message, self.code),
            None => write!(f, "{} (code {})", self.message, self.code),
        }
    }
}

impl std::error::Error for RpcCallError {}

/// The JSON-RPC error code of `error`, when it is a node's error answer.
pub fn error_code(error: &anyhow::Error) -> Option<i64> {
    error.downcast_ref::<RpcCallError>().map(|e| e.code)
}

pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
}

impl RpcClient {
    pub fn new(url: &str) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(30)).build();
        Self { url: url.to_string(), agent }
    }

    /// The node's HTTP root: the RPC URL without its `/rpc` path.
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/').trim_end_matches("/rpc")
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// Calls `method`; a JSON-RPC error becomes an error naming its code and data.
    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = match self.agent.post(&self.url).send_json(request) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e).with_context(|| format!("cannot reach {}", self.url)),
        };
        let mut body: Value = response.into_json().context("the node's answer is not JSON")?;
        if let Some(error) = body.get("error") {
            return Err(RpcCallError {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("error").to_string(),
                data: error.get("data").and_then(Value::as_str).map(str::to_string),
            }
            .into());
        }
        Ok(body["result"].take())
    }

    /// The nonce to sign next: the committed one plus the sender's pending transactions.
    pub fn nonce(&self, address: &Address) -> Result<u64> {
        let hex = self.call("starknet_getNonce", json!(["pending", address]))?;
        let text = hex.as_str().context("nonce is not a string")?;
        u64::from_str_radix(text.trim_start_matches("0x"), 16).context("nonce is not hex")
    }

    pub fn chain_id(&self) -> Result<String> {
        let status = self.call("starling_status", json!([]))?;
        Ok(status["chain_id"].as_str().context("status has no chain_id")?.to_string())
    }

    pub fn submit(&self, tx: &Transaction) -> Result<Hash> {
        let hex = format!("0x{}", hex::encode(tx.encode_message()));
        let result = self.call("starling_addTransaction", json!([hex]))?;
        serde_json::from_value(result["transaction_hash"].clone())
            .context("no transaction hash in the answer")
    }

    /// The block a transaction was included in, if it has been.
    pub fn included_in(&self, hash: &Hash) -> Result<Option<u64>> {
        let status = self.call("starknet_getTransactionStatus", json!([hash]))?;
        Ok(status.get("block_number").and_then(Value::as_u64))
    }

    /// `starling_getValidators`: the validator sets, the epoch, the mode and the
    /// staking parameters.
    pub fn validators(&self) -> Result<Value> {
        self.call("starling_getValidators", json!([]))
    }
}
