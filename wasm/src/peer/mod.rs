//! # The browser node
//!
//! The page is a libp2p peer of the network it shows. It learns where to connect
//! from the serving node's status (one HTTP request when it starts), dials that
//! node over WebRTC-direct or WebSocket ([`dial`]), and from then on gets
//! everything over libp2p: the node's status, signed headers announced on gossip,
//! and blocks with the witnesses a stateless verifier needs, fetched with the sync
//! protocol. Every block is checked here with `starling-core`'s own verification
//! before it is shown ([`chain`]), with its commit certificate under proof of
//! stake; gossip forwards a header only after its block was verified
//! ([`follower`]). Proposals and votes gossiped by the validators are checked
//! and tallied ([`consensus`]).
//!
//! Layout: [`identity`] (the pinned chain), [`verdict`] (what a row says),
//! [`chain`] (the chain of checks), [`consensus`] (proposals, votes, finality
//! latency, the validator set), [`follower`] (what to ask and what to tell
//! gossip), [`dial`] (where to connect) and [`view`] (what the page shows) are
//! plain Rust, tested natively; `swarm` and `node` (the event loop) exist only
//! on wasm32.

pub mod chain;
pub mod consensus;
pub mod dial;
pub mod follower;
pub mod identity;
pub mod verdict;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod node;
#[cfg(target_arch = "wasm32")]
mod swarm;
