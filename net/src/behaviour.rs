//! The one libp2p behaviour both hosts run: the daemon over TCP, QUIC, WebSocket
//! and WebRTC-direct, the browser over WebRTC-direct and WebSocket.

use std::time::Duration;

use libp2p::gossipsub::{self, MessageAuthenticity, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{allow_block_list, connection_limits, identify, ping};
use sha2::{Digest, Sha256};
use starling_core::consensus::{SignedProposal, SignedVote};
use starling_core::encoding::Message;
use starling_core::types::{ChainId, Transaction};

use crate::codec::SyncCodec;
use crate::messages::SignedHeader;
use crate::names::{self, Topic};

/// Largest gossip message: a transaction or a signed header (votes, proofs and
/// jobs, from later issues, must fit too; proofs are fetched, not gossiped).
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;

/// How a host sets up the behaviour.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub chain_id: ChainId,
    /// Kademlia discovery (native nodes; a browser cannot be dialled, so it only
    /// asks its peers).
    pub discovery: bool,
    /// Most connections in total, in and out.
    pub max_connections: u32,
    /// Most connections one peer may hold to us.
    pub max_connections_per_peer: u32,
    /// How long a sync request may take before it fails.
    pub request_timeout: Duration,
}

impl NetConfig {
    pub fn new(chain_id: ChainId) -> Self {
        Self {
            chain_id,
            discovery: true,
            max_connections: 64,
            max_connections_per_peer: 2,
            request_timeout: Duration::from_secs(20),
        }
    }
}

/// Identify, ping, gossip, sync, discovery and the limits that keep a node safe.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Refuses connections from banned peers (see [`crate::reputation`]).
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Bounds connections in total and per peer.
    pub limits: connection_limits::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub sync: request_response::Behaviour<SyncCodec>,
    pub kad: Toggle<kad::Behaviour<MemoryStore>>,
}

impl Behaviour {
    /// Builds the behaviour for `keypair` on `config.chain_id`, subscribed to the
    /// block, transaction, consensus and settled-proof topics.
    pub fn new(keypair: &Keypair, config: &NetConfig) -> Self {
        let chain = &config.chain_id;
        let peer_id = keypair.public().to_peer_id();
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_connections))
            .with_max_established_per_peer(Some(config.max_connections_per_peer))
            .with_max_pending_incoming(Some(config.max_connections));
        let identify = identify::Behaviour::new(
            identify::Config::new(names::identify_protocol(chain), keypair.public())
                .with_agent_version(format!("starling/{}", env!("CARGO_PKG_VERSION"))),
        );
        let sync = request_response::Behaviour::with_codec(
            SyncCodec,
            [(names::sync_protocol(chain), ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(config.request_timeout)
                .with_max_concurrent_streams(32),
        );
        let kad = config.discovery.then(|| {
            let mut kad_config = kad::Config::new(names::kad_protocol(chain));
            kad_config.set_periodic_bootstrap_interval(Some(Duration::from_secs(60)));
            kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), kad_config)
        });
        let mut gossipsub = gossipsub(keypair, chain);
        for topic in
            [Topic::Blocks, Topic::Transactions, Topic::Proposals, Topic::Votes, Topic::Proofs]
        {
            gossipsub.subscribe(&topic.on(chain)).expect("subscribing to a valid topic");
        }
        Self {
            blocked: Default::default(),
            limits: connection_limits::Behaviour::new(limits),
            identify,
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(10)),
            ),
            gossipsub,
            sync,
            kad: kad.into(),
        }
    }
}

/// Gossipsub with signed messages, content-addressed ids (the same transaction
/// from two origins is one message; SHA-256 because ids are computed for every
/// message received, before any validation) and validation by the host before anything
/// is forwarded.
///
/// Consensus messages are the exception: a validator sends its proposal and votes
/// again while a height stays undecided (a node that missed them, in a partition or
/// while restarting, could otherwise wait forever), so their ids also cover the
/// sender and its sequence number, and each sending travels. The consensus driver
/// drops the repeats.
fn gossipsub(keypair: &Keypair, chain: &ChainId) -> gossipsub::Behaviour {
    let resent = [Topic::Proposals.on(chain).hash(), Topic::Votes.on(chain).hash()];
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .heartbeat_interval(Duration::from_millis(700))
        .message_id_fn(move |m| {
            let mut digest = Sha256::new();
            if resent.contains(&m.topic) {
                digest.update(m.source.map(|p| p.to_bytes()).unwrap_or_default());
                digest.update(m.sequence_number.unwrap_or(0).to_be_bytes());
            }
            digest.update(&m.data);
            gossipsub::MessageId::from(digest.finalize().to_vec())
        })
        .build()
        .expect("a valid gossipsub configuration");
    gossipsub::Behaviour::new(MessageAuthenticity::Signed(keypair.clone()), config)
        .expect("a valid gossipsub configuration")
}

/// The largest gossip message each kind may be; checked before decoding.
pub fn gossip_limit(topic: Topic) -> usize {
    match topic {
        Topic::Blocks => SignedHeader::MAX_BYTES,
        Topic::Transactions => Transaction::MAX_BYTES,
        Topic::Proposals => SignedProposal::MAX_BYTES,
        Topic::Votes => SignedVote::MAX_BYTES,
        Topic::Proofs | Topic::Jobs => MAX_GOSSIP_BYTES,
    }
}
