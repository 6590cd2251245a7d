//! JSON-RPC over HTTP at `/rpc`.

pub mod methods;
pub mod protocol;

use serde_json::Value;

use crate::node::Node;
use protocol::{MAX_BATCH, RpcError, parse_call, response};

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
            let out: Vec<Value> = calls.into_iter().filter_map(|c| handle_call(node, c)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        single => handle_call(node, single),
    }
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
