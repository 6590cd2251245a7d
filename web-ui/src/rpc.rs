//! The page's side of the daemon's JSON-RPC 2.0 API: request bodies and typed
//! results. Transport-free, so it is tested natively; `client` does the fetching.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// `starling_status`: what the node says about its chain and head.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Status {
    pub chain_id: String,
    pub genesis_hash: String,
    pub height: u64,
    pub head_hash: String,
    pub state_root: String,
    /// The mode of the node's next block: `single` (one sequencer signs) or
    /// `pos` (validators propose and certify). The node's claim: the page shows
    /// the mode of the registry it verified once it holds one.
    pub mode: String,
    pub peers: u64,
    /// The Ed25519 key that signs blocks in `single` mode, as 0x hex.
    pub sequencer: String,
    /// The node's libp2p addresses, each ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub listen: Vec<String>,
    /// The node's newest final block.
    #[serde(default)]
    pub finalized_height: Option<u64>,
    /// The height up to which the node's settlement verifier holds a verified
    /// STARK proof of every block's state transition.
    #[serde(default)]
    pub proven_height: Option<u64>,
}

/// `starling_getBlock`: one block in the canonical encoding, as hex, with the
/// witness that lets the page re-execute it (null for genesis). The page asks
/// for genesis only; later blocks come over libp2p.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BlockResponse {
    pub height: u64,
    /// What the node says the block hash is. The page shows the hash it computes
    /// itself; this one is only used when the block does not decode.
    pub hash: String,
    pub block: String,
    pub witness: Option<String>,
}

/// JSON-RPC error code for an unknown block (Starknet's `BLOCK_NOT_FOUND`).
pub const BLOCK_NOT_FOUND: i64 = 24;

/// Why a call produced no result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The request did not complete (network down, node stopped, HTTP error).
    Transport(String),
    /// The node answered with a JSON-RPC error object.
    Rpc { code: i64, message: String },
    /// The node answered with something that is not the expected JSON.
    BadResponse(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "cannot reach the node: {e}"),
            Self::Rpc { code, message } => write!(f, "node returned error {code}: {message}"),
            Self::BadResponse(e) => write!(f, "unexpected answer from the node: {e}"),
        }
    }
}

/// A JSON-RPC 2.0 request body.
pub fn request_body(id: u64, method: &str, params: serde_json::Value) -> String {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
        .to_string()
}

#[derive(Deserialize)]
struct Envelope {
    result: Option<serde_json::Value>,
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: i64,
    message: String,
}

/// Parses a JSON-RPC 2.0 response body into the call's result type.
pub fn parse_response<T: DeserializeOwned>(body: &str) -> Result<T, CallError> {
    let envelope: Envelope = serde_json::from_str(body)
        .map_err(|e| CallError::BadResponse(format!("not JSON-RPC: {e}")))?;
    if let Some(ErrorObject { code, message }) = envelope.error {
        return Err(CallError::Rpc { code, message });
    }
    let result =
        envelope.result.ok_or_else(|| CallError::BadResponse("no result and no error".into()))?;
    serde_json::from_value(result).map_err(|e| CallError::BadResponse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_are_json_rpc_2() {
        let body: serde_json::Value =
            serde_json::from_str(&request_body(7, "starling_getBlock", serde_json::json!([3])))
                .unwrap();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["id"], 7);
        assert_eq!(body["method"], "starling_getBlock");
        assert_eq!(body["params"][0], 3);
    }

    #[test]
    fn status_parses_and_ignores_fields_it_does_not_know() {
        let body = r#"{"jsonrpc":"2.0","id":1,"result":{"chain_id":"starling-devnet",
            "genesis_hash":"0xaa","height":12,"head_hash":"0xbb","state_root":"0xcc",
            "mode":"single","peers":0,"sequencer":"0xdd","future_field":true}}"#;
        let status: Status = parse_response(body).unwrap();
        assert_eq!(status.height, 12);
        assert_eq!(status.mode, "single");
        assert!(status.listen.is_empty(), "a node that lists no addresses still parses");
    }

    #[test]
    fn genesis_has_a_null_witness() {
        let body = r#"{"jsonrpc":"2.0","id":1,"result":{"height":0,"hash":"0x01","block":"0x02","witness":null}}"#;
        let block: BlockResponse = parse_response(body).unwrap();
        assert_eq!(block.witness, None);
    }

    #[test]
    fn rpc_errors_keep_their_code() {
        let body = r#"{"jsonrpc":"2.0","id":1,"error":{"code":24,"message":"Block not found"}}"#;
        let err = parse_response::<BlockResponse>(body).unwrap_err();
        assert_eq!(
            err,
            CallError::Rpc { code: BLOCK_NOT_FOUND, message: "Block not found".into() }
        );
    }

    #[test]
    fn html_instead_of_json_is_a_bad_response() {
        let err = parse_response::<Status>("<html>502</html>").unwrap_err();
        assert!(matches!(err, CallError::BadResponse(_)), "{err:?}");
    }
}
