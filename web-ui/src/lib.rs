//! # starling-web-ui
//!
//! The page the `starling` daemon serves: it follows the chain over JSON-RPC and
//! verifies every block in the browser with `starling-wasm` (the same core the
//! daemon runs), so what it shows as "verified" does not rest on trusting the
//! node's word about blocks.
//!
//! Build it with `cargo xtask build-web` (wasm32 + wasm-bindgen + wasm-opt); the
//! result lands in `<target dir>/site`, next to `www/index.html` which loads it.
//!
//! What "verified" rests on is spelled out in [`tracker`]: the chain identity from
//! the serving node's first status is trusted and pinned ([`identity`]), a page
//! that joins mid-chain assumes the state of its first block (the anchor), and
//! everything else is checked here, each block on top of an accepted parent.
//!
//! Layout: [`rpc`] (JSON-RPC types), [`identity`] (the pinned chain), [`verdict`]
//! (what a row says) and [`tracker`] (what to fetch, the chain of checks) are
//! plain Rust, tested natively; `app` (the Leptos view) and `client` (fetch,
//! timers) exist only on wasm32.

pub mod identity;
pub mod rpc;
pub mod tracker;
pub mod verdict;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod client;
