//! # starling-net: how Starling peers talk
//!
//! Starling has no central gateway. Every full node and every browser tab is a
//! libp2p peer that gets blocks from its peers, checks them, and serves them on.
//! This crate is what both hosts share: the daemon (`native-node`, tokio, TCP,
//! QUIC, WebSocket and WebRTC-direct listeners) and the browser (`wasm`, dialling
//! WebRTC-direct or WebSocket). It builds no transport and reads no clock: hosts
//! build the swarm and pass time in.
//!
//! - [`names`]: gossip topics and protocol names, namespaced by chain id and
//!   versioned, so two chains never mix.
//! - [`messages`]: what travels: signed header announcements, and the sync
//!   protocol (status, headers, blocks with optional witnesses for stateless
//!   verifiers, state chunks with Merkle proofs for nodes starting from a
//!   snapshot). All in core's canonical, length-limited encoding.
//! - [`codec`]: one message per stream, never read past its limit.
//! - [`behaviour`]: identify, ping, gossipsub, sync request-response, Kademlia
//!   (native), connection limits and a block list.
//! - [`sync`]: which blocks to ask which peer for next: a pure state machine.
//! - [`reputation`]: scores, bans that expire, and per-peer request rate limits,
//!   so a peer sending garbage cannot crash, stall or bloat a node.
//!
//! ## How a block travels
//!
//! The sequencer commits a block and gossips its [`messages::SignedHeader`]. A
//! peer checks the signature, then fetches the block (sync `Blocks`) from the peer
//! that sent the header, re-executes it against its own state, stores it, and only
//! then lets gossip forward the header: whoever forwards a header can serve its
//! block. A peer that was away asks its peers' status and syncs in batches.

extern crate alloc;

pub mod behaviour;
pub mod codec;
pub mod messages;
pub mod names;
pub mod reputation;
pub mod sync;

pub use libp2p;
