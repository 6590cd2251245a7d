//! # starling-web-ui
//!
//! The page the `starling` daemon serves. It is a libp2p peer of the network it
//! shows: it asks the node that served it for its status once (over HTTP), then
//! connects to that node over WebRTC-direct or WebSocket and gets blocks over
//! libp2p, verifying every one in the browser with `starling-wasm` (the same core
//! the daemon runs), so what it shows as "verified" does not rest on trusting the
//! node's word about blocks.
//!
//! Build it with `cargo xtask build-web` (wasm32 + wasm-bindgen + wasm-opt); the
//! result lands in `<target dir>/site`, next to `www/index.html` which loads it.
//!
//! What "verified" rests on is spelled out in `starling_wasm::peer::chain`: the
//! chain identity from the serving node's status is trusted and pinned, a page
//! that joins mid-chain assumes the state of its first block (the anchor), and
//! everything else is checked here, each block on top of an accepted parent.
//!
//! Layout: [`rpc`] (JSON-RPC types), [`bootstrap`] (from the status to what
//! the browser node starts from), [`labels`] (how modes, finality, shares and
//! amounts are worded) and [`volunteer::tally`] (what the volunteer prover
//! counts) are plain Rust, tested natively; `app` (the Leptos view, with
//! `facts`, `consensus`, `network`, `settlement`, `volunteer` and `blocks` for
//! its panels) and `client` (fetch, timers) exist only on wasm32. The browser
//! node itself is `starling_wasm::peer`; the prover the volunteer panel runs
//! in its Web Workers is `starling_wasm::proving`, a module of its own.

pub mod bootstrap;
pub mod labels;
pub mod rpc;
pub mod volunteer;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod blocks;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod consensus;
#[cfg(target_arch = "wasm32")]
mod facts;
#[cfg(target_arch = "wasm32")]
mod network;
#[cfg(target_arch = "wasm32")]
mod settlement;
