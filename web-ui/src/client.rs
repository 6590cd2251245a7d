//! Browser I/O for the page: JSON-RPC over `fetch`, and a timer to pace polling.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::rpc::{CallError, parse_response, request_body};

/// A JSON-RPC client for the node that served the page.
pub struct RpcClient {
    url: String,
    next_id: Cell<u64>,
}

impl RpcClient {
    /// The daemon serves the page and the RPC from one origin, so the endpoint is
    /// `/rpc` on whatever host and port the page came from.
    pub fn same_origin() -> Self {
        Self { url: "/rpc".to_owned(), next_id: Cell::new(1) }
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<T, CallError> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let body = post_json(&self.url, &request_body(id, method, params))
            .await
            .map_err(CallError::Transport)?;
        parse_response(&body)
    }
}

async fn post_json(url: &str, body: &str) -> Result<String, String> {
    let (status, text) = post(url, &JsValue::from_str(body), "application/json").await?;
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}"));
    }
    Ok(text)
}

/// Posts raw bytes (a block proof) and returns the HTTP status with the
/// answer's body, whatever the status: the node explains a refusal in it.
pub async fn post_bytes(url: &str, bytes: &[u8]) -> Result<(u16, String), String> {
    let body = js_sys::Uint8Array::from(bytes);
    post(url, &body, "application/octet-stream").await
}

/// Sends a JSON-RPC call whose answer nobody reads and which outlives the
/// page: the browser keeps the request going after the tab closes
/// (`keepalive`), so it serves on Stop and on leaving alike.
pub fn call_keepalive(method: &str, params: serde_json::Value) {
    let Some(window) = web_sys::window() else { return };
    let Ok(init) =
        request_init(&JsValue::from_str(&request_body(0, method, params)), "application/json")
    else {
        return;
    };
    let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    if let Ok(request) = Request::new_with_str_and_init("/rpc", &init) {
        let _ = window.fetch_with_request(&request);
    }
}

fn request_init(body: &JsValue, content_type: &str) -> Result<RequestInit, String> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(body);
    let headers = Headers::new().map_err(js_text)?;
    headers.set("content-type", content_type).map_err(js_text)?;
    init.set_headers(&headers);
    Ok(init)
}

async fn post(url: &str, body: &JsValue, content_type: &str) -> Result<(u16, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let request =
        Request::new_with_str_and_init(url, &request_init(body, content_type)?).map_err(js_text)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_text)?
        .dyn_into()
        .map_err(js_text)?;
    let text = JsFuture::from(response.text().map_err(js_text)?).await.map_err(js_text)?;
    let text = text.as_string().ok_or_else(|| "response body is not text".to_owned())?;
    Ok((response.status(), text))
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            // If the timer cannot be set, resolve at once rather than stall the loop.
            if window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).is_err() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `timestamp_ms` as local wall-clock time, `HH:MM:SS`.
pub fn clock_time(timestamp_ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(timestamp_ms as f64));
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}

/// The message of a JS exception (a `TypeError: Failed to fetch`, say).
pub(crate) fn js_text(value: JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
