//! JSON-RPC 2.0 framing: parsing requests (single or batch), and error objects with
//! the standard codes plus Starknet's where the meaning matches.

use serde_json::{Value, json};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most calls in one batch.
pub const MAX_BATCH: usize = 100;
/// Once a batch's answers exceed this many bytes, its remaining calls are refused.
pub const MAX_BATCH_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Requests handled at once; more wait their turn.
pub const MAX_CONCURRENT_REQUESTS: usize = 32;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }

    pub fn parse_error(detail: impl std::fmt::Display) -> Self {
        Self::new(-32700, "Parse error").with_data(detail.to_string())
    }

    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(-32600, "Invalid request").with_data(detail.into())
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(-32601, "Method not found").with_data(format!("unknown method {method:?}"))
    }

    pub fn invalid_params(detail: impl Into<String>) -> Self {
        Self::new(-32602, "Invalid params").with_data(detail.into())
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(-32603, "Internal error").with_data(detail.to_string())
    }

    /// Starknet's BLOCK_NOT_FOUND.
    pub fn block_not_found() -> Self {
        Self::new(24, "Block not found")
    }

    /// Starknet's TXN_HASH_NOT_FOUND.
    pub fn tx_not_found() -> Self {
        Self::new(29, "Transaction hash not found")
    }

    fn to_json(&self) -> Value {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            e["data"] = data.clone();
        }
        e
    }
}

/// One parsed call.
pub struct Call {
    pub id: Value,
    pub method: String,
    pub params: Value,
    /// A notification (no `id`) gets no response.
    pub notification: bool,
}

pub fn response(id: &Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
    }
}

/// Parses one request object.
pub fn parse_call(value: Value) -> Result<Call, (Value, RpcError)> {
    let Value::Object(mut obj) = value else {
        return Err((Value::Null, RpcError::invalid_request("a request must be a JSON object")));
    };
    let notification = !obj.contains_key("id");
    let id = obj.remove("id").unwrap_or(Value::Null);
    if !matches!(id, Value::Null | Value::Number(_) | Value::String(_)) {
        return Err((Value::Null, RpcError::invalid_request("id must be a number or a string")));
    }
    if obj.get("jsonrpc") != Some(&Value::from("2.0")) {
        return Err((id, RpcError::invalid_request("jsonrpc must be \"2.0\"")));
    }
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err((id, RpcError::invalid_request("method must be a string")));
    };
    let params = obj.remove("params").unwrap_or(Value::Array(vec![]));
    if !matches!(params, Value::Array(_) | Value::Object(_)) {
        return Err((id, RpcError::invalid_request("params must be an array or an object")));
    }
    Ok(Call { id, method, params, notification })
}

/// Reads parameter `index` (positional) or `name` (named), if present.
pub fn param<'a>(params: &'a Value, index: usize, name: &str) -> Option<&'a Value> {
    match params {
        Value::Array(a) => a.get(index),
        Value::Object(o) => o.get(name),
        _ => None,
    }
}

/// Like [`param`] but the parameter is required.
pub fn required<'a>(params: &'a Value, index: usize, name: &str) -> Result<&'a Value, RpcError> {
    param(params, index, name)
        .ok_or_else(|| RpcError::invalid_params(format!("missing parameter {name}")))
}

/// Deserializes a required parameter.
pub fn required_as<T: serde::de::DeserializeOwned>(
    params: &Value,
    index: usize,
    name: &str,
) -> Result<T, RpcError> {
    serde_json::from_value(required(params, index, name)?.clone())
        .map_err(|e| RpcError::invalid_params(format!("parameter {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_requests_that_are_not_json_rpc_2() {
        let (_, e) = parse_call(json!({"jsonrpc": "1.0", "method": "x", "id": 1})).err().unwrap();
        assert_eq!(e.code, -32600);
        let (_, e) = parse_call(json!([1])).err().unwrap();
        assert_eq!(e.code, -32600);
        let (_, e) = parse_call(json!({"jsonrpc": "2.0", "method": 5, "id": 1})).err().unwrap();
        assert_eq!(e.code, -32600);
    }

    #[test]
    fn reads_positional_and_named_params() {
        assert_eq!(param(&json!([7]), 0, "height"), Some(&json!(7)));
        assert_eq!(param(&json!({"height": 7}), 0, "height"), Some(&json!(7)));
        assert_eq!(required(&json!([]), 0, "height").unwrap_err().code, -32602);
    }
}
