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

/// `starling_leaseJob`: a proving job leased to the page, with its input.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LeasedJob {
    pub height: u64,
    /// How many transactions the block holds (the throughput counts these).
    pub transactions: u64,
    /// The proving input (parent header, block, witness) as 0x hex: handed to
    /// the prover worker as bytes, unread by the page.
    pub input: String,
    /// When the lease ends, by the node's clock (ms since the Unix epoch).
    pub expires_ms: u64,
}

/// `starling_getProverRewards`: what the node says a prover has earned.
/// Amounts are in base units; `reward_per_proof` is null on a node that does
/// not pay rewards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProverRewards {
    pub proofs_settled: u64,
    pub reward_per_proof: Option<u64>,
    pub rewards_paid: u64,
    pub rewards_pending: u64,
}

/// The node's answer to a proof posted to `/proofs/{height}`: accepted (with
/// the proven height it reached) or refused with a reason
/// (`malformed`, `invalid`, `future`, `stale`, `duplicate`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SubmitAnswer {
    pub accepted: bool,
    #[serde(default)]
    pub proven_height: Option<u64>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

impl SubmitAnswer {
    /// Parses the body of `/proofs/{height}`'s answer, whatever its status.
    pub fn parse(body: &str) -> Result<Self, CallError> {
        serde_json::from_str(body)
            .map_err(|e| CallError::BadResponse(format!("not a proof submission answer: {e}")))
    }

    /// Why the proof was refused, in words, or `None` if it was accepted.
    pub fn refusal(&self) -> Option<String> {
        (!self.accepted).then(|| {
            let reason = self.reason.as_deref().unwrap_or("refused");
            match &self.error {
                Some(error) => format!("{reason}: {error}"),
                None => reason.to_owned(),
            }
        })
    }
}

/// Decodes a 0x-prefixed hex string (as the node writes byte strings).
pub fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| e.to_string())
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
struct ErrorObject {
    code: i64,
    message: String,
}

/// Parses a JSON-RPC 2.0 response body into the call's result type.
pub fn parse_response<T: DeserializeOwned>(body: &str) -> Result<T, CallError> {
    let mut envelope: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body)
        .map_err(|e| CallError::BadResponse(format!("not JSON-RPC: {e}")))?;
    if let Some(error) = envelope.remove("error").filter(|e| !e.is_null()) {
        let ErrorObject { code, message } = serde_json::from_value(error)
            .map_err(|e| CallError::BadResponse(format!("malformed error object: {e}")))?;
        return Err(CallError::Rpc { code, message });
    }
    // A `null` result is a result (`starling_leaseJob` with no open job).
    let result = envelope
        .remove("result")
        .ok_or_else(|| CallError::BadResponse("no result and no error".into()))?;
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

    #[test]
    fn leased_jobs_and_rewards_parse() {
        let body = r#"{"jsonrpc":"2.0","id":1,"result":{"height":4,"block_hash":"0x01",
            "pre_root":"0x02","post_root":"0x03","transactions":3,"input":"0x0a0b","expires_ms":99}}"#;
        let job: LeasedJob = parse_response(body).unwrap();
        assert_eq!((job.height, job.transactions, job.expires_ms), (4, 3, 99));
        assert_eq!(hex_bytes(&job.input).unwrap(), vec![0x0a, 0x0b]);
        let none = r#"{"jsonrpc":"2.0","id":1,"result":null}"#;
        assert_eq!(parse_response::<Option<LeasedJob>>(none).unwrap(), None);
        let body = r#"{"jsonrpc":"2.0","id":1,"result":{"address":"0x01","proofs_settled":2,
            "reward_per_proof":null,"rewards_paid":0,"rewards_pending":0}}"#;
        let rewards: ProverRewards = parse_response(body).unwrap();
        assert_eq!(rewards.proofs_settled, 2);
        assert_eq!(rewards.reward_per_proof, None, "a node that does not pay says so");
    }

    #[test]
    fn submission_answers_say_why_a_proof_was_refused() {
        let ok = SubmitAnswer::parse(r#"{"accepted":true,"height":3,"proven_height":3}"#).unwrap();
        assert_eq!((ok.refusal(), ok.proven_height), (None, Some(3)));
        let refused = SubmitAnswer::parse(
            r#"{"accepted":false,"reason":"stale","error":"block 3 is already proven"}"#,
        )
        .unwrap();
        assert_eq!(refused.refusal().unwrap(), "stale: block 3 is already proven");
        assert!(SubmitAnswer::parse("Service Unavailable").is_err());
    }

    #[test]
    fn hex_bytes_refuse_what_is_not_hex() {
        assert_eq!(hex_bytes("0x").unwrap(), Vec::<u8>::new());
        assert!(hex_bytes("0xabc").is_err());
        assert!(hex_bytes("0xzz").is_err());
    }
}
