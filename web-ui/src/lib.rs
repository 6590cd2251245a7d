//! # starling-web-ui
//!
//! The page the `starling` daemon serves: it follows the chain over JSON-RPC and
//! verifies every block in the browser with `starling-wasm` (the same core the
//! daemon runs), so what it shows as "verified" does not rest on trusting the node.
//!
//! Build it with `cargo xtask build-web` (wasm32 + wasm-bindgen + wasm-opt); the
//! result lands in `<target dir>/site`, next to `www/index.html` which loads it.
//!
//! Layout: [`rpc`] (JSON-RPC types) and [`tracker`] (what to fetch, verdicts) are
//! plain Rust, tested natively; `app` (the Leptos view) and `client` (fetch,
//! timers) exist only on wasm32.

pub mod rpc;
pub mod tracker;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod client;
