//! Answering peers' sync requests from the store.
//!
//! Runs on a blocking thread (it reads the database) and never takes the chain
//! lock for longer than copying the head. Answers stay under the protocol's size
//! limit: a batch of blocks stops before it would pass it.

use anyhow::Result;
use starling_core::encoding::Message;
use starling_core::state::Witness;
use starling_core::types::{Address, Block, Hash};
use starling_net::messages::{
    MAX_RESPONSE_BYTES, PeerStatus, Refusal, SignedHeader, StateChunk, SyncRequest, SyncResponse,
    SyncedBlock,
};

use crate::node::Node;

/// Room left in a response for its framing and list prefixes.
const RESPONSE_SLACK: usize = 1024;

/// The answer to `request`.
pub fn answer(node: &Node, request: &SyncRequest) -> Result<SyncResponse> {
    match *request {
        SyncRequest::Status => Ok(SyncResponse::Status(status(node))),
        SyncRequest::Headers { from, count } => headers(node, from, count),
        SyncRequest::Blocks { from, count, witnesses } => blocks(node, from, count, witnesses),
        SyncRequest::StateChunk { height, start, count } => {
            Ok(state_chunk(node, height, &start, count))
        }
        SyncRequest::Proposal { height, block_hash } => Ok(proposal(node, height, &block_hash)),
        SyncRequest::Proof { height } => Ok(match node.store.proof_bytes(height)? {
            Some(bytes) => SyncResponse::Proof(bytes),
            None => SyncResponse::Refused(Refusal::Unavailable),
        }),
    }
}

/// A block proposed for consensus that this node holds (built or fetched).
fn proposal(node: &Node, height: u64, hash: &Hash) -> SyncResponse {
    match node.proposal(hash).filter(|b| b.header.height == height) {
        Some(block) => SyncResponse::Proposal(Box::new(SyncedBlock {
            block,
            witness: None,
            certificate: None,
        })),
        None => SyncResponse::Refused(Refusal::Unavailable),
    }
}

/// This node's chain and head.
pub fn status(node: &Node) -> PeerStatus {
    let chain = node.chain.lock().expect("chain lock poisoned");
    PeerStatus {
        genesis_hash: chain.genesis_hash,
        head_height: chain.head.height,
        head_hash: chain.head.hash(),
        snapshot_height: node.snapshots.current().map(|s| s.height),
    }
}

/// Accounts of the snapshot at `height`, if that is the one this node serves.
fn state_chunk(node: &Node, height: u64, start: &Address, count: u32) -> SyncResponse {
    match node.snapshots.current().filter(|s| s.height == height) {
        Some(snapshot) => {
            let (accounts, next) = snapshot.state.chunk(start, count as usize);
            SyncResponse::StateChunk(Box::new(StateChunk { height, accounts, next }))
        }
        None => SyncResponse::Refused(Refusal::Unavailable),
    }
}

/// Heights `from..from + count` that this node has (none for genesis: every peer
/// builds genesis itself).
fn range(node: &Node, from: u64, count: u32) -> std::ops::RangeInclusive<u64> {
    let head = node.chain.lock().expect("chain lock poisoned").head.height;
    let last = from.saturating_add(u64::from(count)).saturating_sub(1).min(head);
    from.max(1)..=last
}

fn headers(node: &Node, from: u64, count: u32) -> Result<SyncResponse> {
    let mut out = Vec::new();
    for height in range(node, from, count) {
        let Some(block) = node.store.block(height)? else { break };
        out.push(SignedHeader::of(&block));
    }
    Ok(refuse_if_empty(out, SyncResponse::Headers))
}

fn blocks(node: &Node, from: u64, count: u32, witnesses: bool) -> Result<SyncResponse> {
    let mut out = Vec::new();
    let mut size = RESPONSE_SLACK;
    for height in range(node, from, count) {
        let Some(bytes) = node.store.block_bytes(height)? else { break };
        let witness = if witnesses { node.store.witness_bytes(height)? } else { None };
        size += bytes.len() + witness.as_ref().map_or(0, Vec::len);
        let synced = SyncedBlock {
            block: Block::decode_message(&bytes)?,
            witness: witness.map(|w| Witness::decode_message(&w)).transpose()?,
            certificate: node.store.certificate(height)?,
        };
        if size > MAX_RESPONSE_BYTES && !out.is_empty() {
            break;
        }
        out.push(synced);
    }
    Ok(refuse_if_empty(out, SyncResponse::Blocks))
}

fn refuse_if_empty<T>(items: Vec<T>, wrap: fn(Vec<T>) -> SyncResponse) -> SyncResponse {
    if items.is_empty() { SyncResponse::Refused(Refusal::Unavailable) } else { wrap(items) }
}
