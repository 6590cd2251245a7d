//! JSON-RPC over HTTP at `/rpc`.

pub mod methods;
pub mod protocol;

use serde_json::Value;

use crate::node::Node;
use protocol::{MAX_BATCH, MAX_BATCH_RESPONSE_BYTES, RpcError, parse_call, response};

/// Handles one request body (single call or batch) and returns the response body,
/// or `None` when every call was a notification.
pub fn handle_body(node: &Node, body: &[u8]) -> Option<Value> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(response(&Value::Null, Err(RpcError::parse_error(e)))),
    };
    match request {
        Value::Array(calls) if calls.is_empty() => {
            Some(response(&Value::Null, Err(RpcError::invalid_request("empty batch"))))
        }
        Value::Array(calls) if calls.len() > MAX_BATCH => Some(response(
            &Value::Null,
            Err(RpcError::invalid_request(format!("a batch holds at most {MAX_BATCH} calls"))),
        )),
        Value::Array(calls) => {
            let out = handle_batch(node, calls);
            (!out.is_empty()).then_some(Value::Array(out))
        }
        single => handle_call(node, single),
    }
}

/// Answers a batch in order. Once the answers add up to [`MAX_BATCH_RESPONSE_BYTES`]
/// the remaining calls are refused (not run), so one request cannot make the node
/// build an unbounded response (100 raw blocks with witnesses, say).
fn handle_batch(node: &Node, calls: Vec<Value>) -> Vec<Value> {
    let mut size = 0;
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        if size > MAX_BATCH_RESPONSE_BYTES {
            let id = call.get("id").cloned().unwrap_or(Value::Null);
            let e = RpcError::new(-32005, "Batch response limit reached").with_data(format!(
                "answers exceeded {MAX_BATCH_RESPONSE_BYTES} bytes; split the batch"
            ));
            out.push(response(&id, Err(e)));
            continue;
        }
        if let Some(answer) = handle_call(node, call) {
            size += serde_json::to_vec(&answer).map_or(0, |b| b.len());
            out.push(answer);
        }
    }
    out
}

fn handle_call(node: &Node, value: Value) -> Option<Value> {
    let call = match parse_call(value) {
        Ok(call) => call,
        Err((id, e)) => return Some(response(&id, Err(e))),
    };
    let result = methods::dispatch(node, &call.method, &call.params);
    node.metrics.rpc_call(&call.method, result.is_ok());
    (!call.notification).then(|| response(&call.id, result))
}
