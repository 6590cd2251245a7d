//! The daemon's peer-to-peer side: a task that owns the libp2p swarm, gossips
//! what this node produces or admits, answers peers' sync requests from the
//! store, and follows the chain from peers.
//!
//! The rest of the node talks to it through [`NetShared`] (held by [`Node`]):
//! commands go in over a channel, and the addresses and peer count come back for
//! `starling_status`.

mod event_loop;
mod proof_catch_up;
mod serve;
mod snapshot_join;
mod swarm;

pub use snapshot_join::join as join_from_snapshot;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::{Multiaddr, PeerId};
use starling_core::encoding::Message;
use starling_core::types::Hash;
use starling_net::messages::SignedHeader;
use starling_net::names::Topic;
use tokio::sync::mpsc;

use crate::node::Node;

/// Commands waiting for the network task.
const COMMAND_QUEUE: usize = 4096;

/// How the node joins the network.
#[derive(Clone, Debug)]
pub struct NetOptions {
    pub data_dir: PathBuf,
    /// Interface to listen on.
    pub host: IpAddr,
    /// Fixed base port; `None` reuses the ports of the last start (or any free ones).
    pub port: Option<u16>,
    /// Peers to connect to at start (and again whenever they drop).
    pub bootstrap: Vec<Multiaddr>,
    /// Dial peers found through Kademlia (off: only bootstrap peers and peers
    /// that dial in, for fixed topologies).
    pub discovery: bool,
}

/// Something the node asks the network task to do.
#[derive(Debug)]
pub enum NetCommand {
    Publish {
        topic: Topic,
        data: Vec<u8>,
    },
    /// The consensus engine's verdict on a gossiped proposal or vote.
    GossipVerdict {
        id: MessageId,
        source: PeerId,
        acceptance: MessageAcceptance,
    },
    /// Fetch the block a proposal names from the peer that relayed it.
    FetchProposal {
        peer: PeerId,
        height: u64,
        block_hash: Hash,
    },
}

/// What the network task and the rest of the node share.
#[derive(Default)]
pub struct NetShared {
    commands: OnceLock<mpsc::Sender<NetCommand>>,
    info: Mutex<NetInfo>,
}

/// The node's addresses and connections, as the network task last saw them.
#[derive(Clone, Debug, Default)]
pub struct NetInfo {
    /// Dialable addresses, each ending in `/p2p/<peer id>`.
    pub listen: Vec<Multiaddr>,
    pub peers: usize,
}

impl NetShared {
    /// Publishes on gossip. Best effort: before the network has started, or if
    /// the network task is this far behind, the message is dropped (peers still
    /// get blocks through sync).
    pub fn publish(&self, topic: Topic, data: Vec<u8>) {
        self.command(NetCommand::Publish { topic, data });
    }

    /// Tells gossip whether to relay a message (and whether its sender misbehaved).
    pub fn gossip_verdict(&self, id: MessageId, source: PeerId, acceptance: MessageAcceptance) {
        self.command(NetCommand::GossipVerdict { id, source, acceptance });
    }

    /// Asks `peer` for the block a consensus proposal names.
    pub fn fetch_proposal(&self, peer: PeerId, height: u64, block_hash: Hash) {
        self.command(NetCommand::FetchProposal { peer, height, block_hash });
    }

    fn command(&self, command: NetCommand) {
        if let Some(tx) = self.commands.get()
            && tx.try_send(command).is_err()
        {
            tracing::debug!("network queue full; a command was dropped");
        }
    }

    /// Announces a block this node committed.
    pub fn announce(&self, header: SignedHeader) {
        self.publish(Topic::Blocks, header.encode_message());
    }

    pub fn listen(&self) -> Vec<String> {
        self.info.lock().expect("net info lock").listen.iter().map(|a| a.to_string()).collect()
    }

    pub fn peers(&self) -> usize {
        self.info.lock().expect("net info lock").peers
    }

    fn update(&self, f: impl FnOnce(&mut NetInfo)) {
        f(&mut self.info.lock().expect("net info lock"));
    }
}

/// Starts the network: builds the swarm, listens, dials the bootstrap peers, and
/// returns the task that runs it (it ends only on a fatal error).
pub async fn start(
    node: Arc<Node>,
    options: NetOptions,
) -> Result<tokio::task::JoinHandle<Result<()>>> {
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let event_loop = event_loop::EventLoop::new(node.clone(), options, rx).await?;
    node.net.commands.set(tx).ok();
    Ok(tokio::spawn(event_loop.run()))
}
