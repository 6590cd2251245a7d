//! The network task: one loop that owns the swarm.
//!
//! Anything slow (reading the store, checking signatures, applying blocks) runs on
//! a blocking thread and reports back through `work`, so the loop itself only
//! routes messages and never stalls on a peer.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance, MessageId, TopicHash};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, ping};
use starling_core::consensus::{SignedProposal, SignedVote};
use starling_core::encoding::DecodeError;
use starling_core::encoding::Message;
use starling_core::mempool::MempoolError;
use starling_core::proving::proof::proof_digest;
use starling_core::types::{Hash, Transaction};
use starling_net::behaviour::{Behaviour, BehaviourEvent, NetConfig, gossip_limit};
use starling_net::codec::{Inbound, is_malformed};
use starling_net::messages::{
    ProofAnnouncement, Refusal, SignedHeader, SyncRequest, SyncResponse, SyncedBlock,
};
use starling_net::names::Topic;
use starling_net::reputation::{Offence, Reputation, ReputationConfig, Standing};
use starling_net::sync::{BlockRange, Outcome, SyncConfig, SyncDriver};
use tokio::sync::{Semaphore, mpsc};

use super::proof_catch_up::ProofCatchUp;
use super::swarm::{self, Ports};
use super::{NetCommand, NetOptions, serve};
use crate::chain_state::{Certified, FollowError, SubmitError};
use crate::consensus::{self, Gossip};
use crate::node::Node;

/// Sync answers being prepared at once; more are refused as busy.
const MAX_SERVING: usize = 8;
/// Gossiped transactions being checked at once; more are dropped.
const MAX_CHECKING: usize = 64;
/// Announced headers waiting for their block; older ones are let go.
const MAX_ANNOUNCED: usize = 256;
const ANNOUNCED_TTL_MS: u64 = 30_000;
/// Connections this node tries to keep when discovery is on.
const TARGET_PEERS: usize = 8;
/// How often bootstrap peers are redialled while disconnected.
const REDIAL_MS: u64 = 3_000;

/// What a request this node sent was for.
enum Asked {
    Status,
    Blocks(BlockRange),
    /// The block of a consensus proposal.
    Proposal(Hash),
    /// A block's proof.
    Proof(ProofFetch),
}

/// Why a block's proof is being fetched.
enum ProofFetch {
    /// A gossiped announcement named it; its validation waits for the proof.
    Announced { id: MessageId, source: PeerId, announced: ProofAnnouncement },
    /// The lowest unsettled block's, in case its announcement was missed.
    CatchUp { height: u64 },
}

impl ProofFetch {
    fn height(&self) -> u64 {
        match self {
            ProofFetch::Announced { announced, .. } => announced.height,
            ProofFetch::CatchUp { height } => *height,
        }
    }
}

/// A header announced on gossip whose block this node does not have yet: it is
/// forwarded (accepted) only once the block is applied.
struct Announced {
    id: MessageId,
    source: PeerId,
    height: u64,
    hash: Hash,
    received_ms: u64,
}

/// A proposal's block being fetched. The peer that relayed a proposal may not
/// hold its block yet (proposals are relayed once their signature checks out), so
/// the block is asked of one peer after another until one has it.
struct ProposalFetch {
    height: u64,
    tried: Vec<PeerId>,
    started_ms: u64,
    /// Set while waiting for an answer; cleared to retry on the next tick.
    asking: bool,
}

/// How long a proposal's block is sought before giving up (the round has long
/// timed out by then).
const PROPOSAL_FETCH_MS: u64 = 10_000;

/// Results of work done off the loop.
enum Work {
    Answer {
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    Followed {
        peer: PeerId,
        head: u64,
        invalid: bool,
    },
    TxChecked {
        id: MessageId,
        source: PeerId,
        verdict: MessageAcceptance,
        offence: Option<Offence>,
    },
    /// A fetched proof was verified (or refused) for `fetch`; `peer` sent it.
    ProofChecked {
        peer: PeerId,
        fetch: ProofFetch,
        verdict: MessageAcceptance,
        offence: Option<Offence>,
    },
    Fatal(anyhow::Error),
}

pub struct EventLoop {
    node: Arc<Node>,
    swarm: Swarm<Behaviour>,
    options: NetOptions,
    commands: mpsc::Receiver<NetCommand>,
    work_tx: mpsc::UnboundedSender<Work>,
    work_rx: mpsc::UnboundedReceiver<Work>,
    topics: HashMap<TopicHash, Topic>,
    sync: SyncDriver<PeerId>,
    reputation: Reputation<PeerId>,
    asked: HashMap<OutboundRequestId, (PeerId, Asked)>,
    announced: VecDeque<Announced>,
    proposal_fetches: HashMap<Hash, ProposalFetch>,
    proof_catch_up: ProofCatchUp,
    serving: Arc<Semaphore>,
    checking: Arc<Semaphore>,
    ports: Ports,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    last_redial_ms: u64,
    started: Instant,
}

impl EventLoop {
    pub async fn new(
        node: Arc<Node>,
        options: NetOptions,
        commands: mpsc::Receiver<NetCommand>,
    ) -> Result<Self> {
        let keypair = swarm::identity(&options.data_dir)?;
        let certificate = swarm::certificate(&options.data_dir)?;
        let mut config = NetConfig::new(node.chain_id.clone());
        config.discovery = options.discovery;
        let mut registry = libp2p::metrics::Registry::default();
        let mut swarm = swarm::build(keypair, certificate, &config, &mut registry).await?;
        // Built into a registry of its own (the build awaits; the shared one sits
        // behind a lock), then installed: the counters are shared handles.
        node.metrics.with_network_registry(|r| *r = registry);
        if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
            kad.set_mode(Some(kad::Mode::Server));
        }
        let wanted = match options.port {
            Some(port) => Ports::from_base(port)?,
            None => Ports::saved(&options.data_dir),
        };
        for (addr, fallback) in
            wanted.addrs(options.host).into_iter().zip(Ports::default().addrs(options.host))
        {
            if let Err(e) = swarm.listen_on(addr.clone()) {
                if options.port.is_some() {
                    return Err(e).with_context(|| {
                        format!("cannot listen on {addr} (choose another --p2p-port)")
                    });
                }
                tracing::info!(%addr, error = %e, "the saved port is taken; using any free port");
                swarm.listen_on(fallback).with_context(|| format!("cannot listen on {addr}"))?;
            }
        }
        let bootstrap = bootstrap_peers(&options.bootstrap)?;
        for (peer, addr) in &bootstrap {
            if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                kad.add_address(peer, addr.clone());
            }
        }
        let topics = Topic::ALL.iter().map(|t| (t.on(&node.chain_id).hash(), *t)).collect();
        let head = node.chain.lock().expect("chain lock poisoned").head.height;
        let (work_tx, work_rx) = mpsc::unbounded_channel();
        tracing::info!(peer_id = %swarm.local_peer_id(), "joining the network");
        Ok(Self {
            node,
            swarm,
            options,
            commands,
            work_tx,
            work_rx,
            topics,
            sync: SyncDriver::new(head, SyncConfig { timeout_ms: 5_000, ..SyncConfig::default() }),
            reputation: Reputation::new(ReputationConfig::default()),
            asked: HashMap::new(),
            announced: VecDeque::new(),
            proposal_fetches: HashMap::new(),
            proof_catch_up: ProofCatchUp::default(),
            serving: Arc::new(Semaphore::new(MAX_SERVING)),
            checking: Arc::new(Semaphore::new(MAX_CHECKING)),
            ports: Ports::default(),
            bootstrap,
            last_redial_ms: 0,
            started: Instant::now(),
        })
    }

    /// Runs until a fatal error (the store failing under a block being followed).
    pub async fn run(mut self) -> Result<()> {
        self.redial();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                Some(command) = self.commands.recv() => self.on_command(command),
                Some(work) = self.work_rx.recv() => self.on_work(work)?,
                _ = tick.tick() => self.on_tick(),
            }
            self.drive_sync();
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn on_command(&mut self, command: NetCommand) {
        match command {
            NetCommand::Publish { topic, data } => {
                let topic = topic.on(&self.node.chain_id);
                if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(topic, data) {
                    // No peers yet, or a duplicate: gossip is best effort, sync catches up.
                    tracing::debug!(error = %e, "gossip publish skipped");
                }
            }
            NetCommand::GossipVerdict { id, source, acceptance } => {
                if matches!(acceptance, MessageAcceptance::Reject) {
                    self.penalize(source, Offence::InvalidSignature);
                }
                self.validate(&id, &source, acceptance);
            }
            NetCommand::FetchProposal { peer, height, block_hash } => {
                let fetch = ProposalFetch {
                    height,
                    tried: vec![],
                    started_ms: self.now_ms(),
                    asking: false,
                };
                self.proposal_fetches.insert(block_hash, fetch);
                self.fetch_proposal(block_hash, Some(peer));
            }
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => self.on_listen(address),
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                let address = self.with_peer_id(address);
                self.node.net.update(|i| i.listen.retain(|a| a != &address));
            }
            SwarmEvent::ConnectionEstablished { peer_id, num_established, endpoint, .. } => {
                tracing::debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
                if num_established.get() == 1 {
                    self.ask(peer_id, SyncRequest::Status, Asked::Status);
                }
                self.count_peers();
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, .. } => {
                if num_established == 0 {
                    tracing::debug!(peer = %peer_id, "disconnected");
                    self.sync.peer_gone(&peer_id);
                    self.reputation.disconnected(&peer_id);
                }
                self.count_peers();
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, %error, "dial failed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Sync(event) => self.on_sync(event),
            // libp2p does not close a connection whose pings fail; a dead link would
            // otherwise look connected (and stop bootstrap redials) for minutes.
            BehaviourEvent::Ping(ping::Event { peer, connection, result: Err(error) }) => {
                tracing::debug!(%peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    for addr in info.listen_addrs {
                        kad.add_address(&peer_id, addr);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_listen(&mut self, address: Multiaddr) {
        self.ports.learn(&address);
        if self.options.port.is_none()
            && self.ports.is_complete()
            && let Err(e) = self.ports.save(&self.options.data_dir)
        {
            tracing::warn!(error = %e, "the p2p ports will differ after a restart");
        }
        let address = self.with_peer_id(address);
        tracing::info!(%address, "listening");
        self.node.net.update(|i| i.listen.push(address));
    }

    fn with_peer_id(&self, address: Multiaddr) -> Multiaddr {
        address.with_p2p(*self.swarm.local_peer_id()).unwrap_or_else(|a| a)
    }

    fn count_peers(&mut self) {
        let peers = self.swarm.connected_peers().count();
        self.node.net.update(|i| i.peers = peers);
        self.node.metrics.peers.set(peers as i64);
    }

    // --- gossip ---------------------------------------------------------------

    fn on_gossip(&mut self, source: PeerId, id: MessageId, message: gossipsub::Message) {
        let Some(&topic) = self.topics.get(&message.topic) else {
            return self.validate(&id, &source, MessageAcceptance::Ignore);
        };
        if message.data.len() > gossip_limit(topic) {
            self.penalize(source, Offence::Oversized);
            return self.validate(&id, &source, MessageAcceptance::Reject);
        }
        match topic {
            Topic::Blocks => self.on_header(source, id, &message.data),
            Topic::Transactions => self.on_transaction(source, id, &message.data),
            Topic::Proposals => self.on_consensus(source, id, &message.data, Topic::Proposals),
            Topic::Votes => self.on_consensus(source, id, &message.data, Topic::Votes),
            Topic::Proofs => self.on_proof_announcement(source, id, &message.data),
            // Leases are local to each node (see `starling_core::jobs`): nothing
            // is published on the jobs topic.
            Topic::Jobs => self.validate(&id, &source, MessageAcceptance::Ignore),
        }
    }

    /// A proposal or vote goes to the consensus engine, which reports back
    /// whether to relay it; one that does not decode costs its sender.
    fn on_consensus(&mut self, source: PeerId, id: MessageId, data: &[u8], topic: Topic) {
        let gossip = Gossip { id: id.clone(), from: source };
        let event = match topic {
            Topic::Proposals => SignedProposal::decode_message(data)
                .map(|proposal| consensus::Event::Proposal { proposal, gossip }),
            _ => {
                SignedVote::decode_message(data).map(|vote| consensus::Event::Vote { vote, gossip })
            }
        };
        match event {
            Ok(event) => {
                if !self.node.consensus_event(event) {
                    self.validate(&id, &source, MessageAcceptance::Ignore);
                }
            }
            Err(_) => {
                self.penalize(source, Offence::MalformedMessage);
                self.validate(&id, &source, MessageAcceptance::Reject);
            }
        }
    }

    fn validate(&mut self, id: &MessageId, source: &PeerId, verdict: MessageAcceptance) {
        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(id, source, verdict);
    }

    /// A new head announced: checked, then held until its block is applied.
    fn on_header(&mut self, source: PeerId, id: MessageId, data: &[u8]) {
        let header = match SignedHeader::decode_message(data) {
            Ok(h) => h,
            Err(_) => {
                self.penalize(source, Offence::MalformedMessage);
                return self.validate(&id, &source, MessageAcceptance::Reject);
            }
        };
        // Who may sign it is known for the heights the node's registry covers
        // (the previous epoch, the current one and the next two).
        let signer = self.node.header_signer(&header.header);
        if signer.is_some_and(|s| header.verify(&self.node.chain_id, &s).is_err()) {
            self.penalize(source, Offence::InvalidSignature);
            return self.validate(&id, &source, MessageAcceptance::Reject);
        }
        let height = header.height();
        let hash = header.hash();
        if height <= self.sync.local_head() {
            let verdict = self.have_block(height, &hash);
            return self.validate(&id, &source, verdict);
        }
        if signer.is_none() {
            return self.validate(&id, &source, MessageAcceptance::Ignore);
        }
        self.sync.peer_head(source, height);
        if self.announced.len() >= MAX_ANNOUNCED
            && let Some(old) = self.announced.pop_front()
        {
            self.validate(&old.id, &old.source, MessageAcceptance::Ignore);
        }
        let received_ms = self.now_ms();
        self.announced.push_back(Announced { id, source, height, hash, received_ms });
    }

    /// Accept a header for forwarding only if this node holds that very block.
    fn have_block(&self, height: u64, hash: &Hash) -> MessageAcceptance {
        match self.node.store.height_of(hash) {
            Ok(Some(h)) if h == height => MessageAcceptance::Accept,
            _ => MessageAcceptance::Ignore,
        }
    }

    /// Forwards the announcements whose blocks are now applied.
    fn release_announced(&mut self) {
        let head = self.sync.local_head();
        let now = self.now_ms();
        let mut keep = VecDeque::new();
        while let Some(a) = self.announced.pop_front() {
            if a.height <= head {
                let verdict = self.have_block(a.height, &a.hash);
                self.validate(&a.id, &a.source, verdict);
            } else if now.saturating_sub(a.received_ms) > ANNOUNCED_TTL_MS {
                self.validate(&a.id, &a.source, MessageAcceptance::Ignore);
            } else {
                keep.push_back(a);
            }
        }
        self.announced = keep;
    }

    fn on_transaction(&mut self, source: PeerId, id: MessageId, data: &[u8]) {
        let tx = match Transaction::decode_message(data) {
            Ok(tx) => tx,
            Err(_) => {
                self.penalize(source, Offence::MalformedMessage);
                return self.validate(&id, &source, MessageAcceptance::Reject);
            }
        };
        let Ok(permit) = self.checking.clone().try_acquire_owned() else {
            return self.validate(&id, &source, MessageAcceptance::Ignore);
        };
        let node = self.node.clone();
        let work = self.work_tx.clone();
        tokio::task::spawn_blocking(move || {
            let (verdict, offence) = match node.admit(tx) {
                Ok(()) => (MessageAcceptance::Accept, None),
                Err(SubmitError::Rejected(MempoolError::Invalid(_))) => {
                    (MessageAcceptance::Reject, Some(Offence::InvalidSignature))
                }
                Err(_) => (MessageAcceptance::Ignore, None),
            };
            drop(permit);
            let _ = work.send(Work::TxChecked { id, source, verdict, offence });
        });
    }

    // --- proofs ---------------------------------------------------------------

    /// A peer settled a proof. If this node has the job open, it fetches the
    /// proof from that peer and verifies it itself; the announcement is relayed
    /// only once the proof settles here, so a false one goes no further.
    fn on_proof_announcement(&mut self, source: PeerId, id: MessageId, data: &[u8]) {
        let Ok(announced) = ProofAnnouncement::decode_message(data) else {
            self.penalize(source, Offence::MalformedMessage);
            return self.validate(&id, &source, MessageAcceptance::Reject);
        };
        if !self.node.settlement.wants(announced.height) {
            // Settled here already, or not yet a job here: nothing to fetch.
            return self.validate(&id, &source, MessageAcceptance::Ignore);
        }
        let request = SyncRequest::Proof { height: announced.height };
        self.ask(source, request, Asked::Proof(ProofFetch::Announced { id, source, announced }));
    }

    /// Asks a peer for the proof of the lowest block not settled here, when
    /// one is due (see [`ProofCatchUp`]).
    fn catch_up_proofs(&mut self, now: u64) {
        if !self.proof_catch_up.may_ask(now) {
            return;
        }
        let lowest = self.node.settlement.proven_height() + 1;
        let open = self.node.settlement.wants(lowest).then_some(lowest);
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        if let Some(peer) = self.proof_catch_up.due(now, open, &peers) {
            let request = SyncRequest::Proof { height: lowest };
            self.ask(peer, request, Asked::Proof(ProofFetch::CatchUp { height: lowest }));
        }
    }

    /// Verifies a proof `peer` sent on a blocking thread, a few at a time.
    fn check_proof(&mut self, peer: PeerId, fetch: ProofFetch, bytes: Vec<u8>) {
        if let ProofFetch::Announced { announced, .. } = &fetch
            && proof_digest(&bytes) != announced.proof_hash
        {
            self.penalize(peer, Offence::InvalidBlock);
            return self.proof_fetch_ended(fetch, MessageAcceptance::Reject);
        }
        let Some(permit) = self.node.verifying_permit() else {
            return self.proof_fetch_ended(fetch, MessageAcceptance::Ignore);
        };
        let node = self.node.clone();
        let work = self.work_tx.clone();
        tokio::task::spawn_blocking(move || {
            let (verdict, offence) = match node.submit_proof(fetch.height(), &bytes) {
                Ok(_) => (MessageAcceptance::Accept, None),
                Err(e) if e.is_sender_fault() => {
                    (MessageAcceptance::Reject, Some(Offence::InvalidBlock))
                }
                Err(_) => (MessageAcceptance::Ignore, None),
            };
            drop(permit);
            let _ = work.send(Work::ProofChecked { peer, fetch, verdict, offence });
        });
    }

    /// A proof fetch is over: an announcement gets its verdict (relayed only
    /// if accepted); a catch-up lets the next request go.
    fn proof_fetch_ended(&mut self, fetch: ProofFetch, verdict: MessageAcceptance) {
        match fetch {
            ProofFetch::Announced { id, source, .. } => self.validate(&id, &source, verdict),
            ProofFetch::CatchUp { height } => {
                if verdict == MessageAcceptance::Accept {
                    tracing::info!(height, "settled a proof whose announcement was missed");
                }
                self.proof_catch_up.ended();
            }
        }
    }

    // --- sync -----------------------------------------------------------------

    fn ask(&mut self, peer: PeerId, request: SyncRequest, asked: Asked) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request.into());
        self.asked.insert(id, (peer, asked));
    }

    /// Asks `peer` (else a connected peer not yet asked) for a proposal's block;
    /// when every peer has been asked, waits for the next tick and starts over.
    fn fetch_proposal(&mut self, hash: Hash, peer: Option<PeerId>) {
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        let Some(fetch) = self.proposal_fetches.get_mut(&hash) else { return };
        fetch.asking = false;
        let next = peer.or_else(|| connected.into_iter().find(|p| !fetch.tried.contains(p)));
        let Some(peer) = next else {
            fetch.tried.clear();
            return;
        };
        fetch.tried.push(peer);
        fetch.asking = true;
        let request = SyncRequest::Proposal { height: fetch.height, block_hash: hash };
        self.ask(peer, request, Asked::Proposal(hash));
    }

    /// Retries proposal fetches that ran out of peers; gives up on old ones.
    fn retry_proposal_fetches(&mut self) {
        let now = self.now_ms();
        self.proposal_fetches.retain(|_, f| now.saturating_sub(f.started_ms) < PROPOSAL_FETCH_MS);
        let idle: Vec<Hash> =
            self.proposal_fetches.iter().filter(|(_, f)| !f.asking).map(|(h, _)| *h).collect();
        for hash in idle {
            self.fetch_proposal(hash, None);
        }
    }

    fn drive_sync(&mut self) {
        let now = self.now_ms();
        if let Some((peer, range)) = self.sync.poll(now) {
            let request =
                SyncRequest::Blocks { from: range.from, count: range.count, witnesses: false };
            self.ask(peer, request, Asked::Blocks(range));
        }
    }

    fn on_sync(&mut self, event: request_response::Event<Inbound, SyncResponse>) {
        use request_response::{Event, Message as Rr};
        match event {
            Event::Message { peer, message: Rr::Request { request, channel, .. }, .. } => {
                match request {
                    Inbound::Request(request) => self.on_request(peer, request, channel),
                    // Dropping the channel closes the stream unanswered.
                    Inbound::Malformed(DecodeError::MessageTooLong { .. }) => {
                        self.penalize(peer, Offence::Oversized)
                    }
                    Inbound::Malformed(_) => self.penalize(peer, Offence::MalformedMessage),
                }
            }
            Event::Message { peer, message: Rr::Response { request_id, response }, .. } => {
                if let Some((_, asked)) = self.asked.remove(&request_id) {
                    self.on_response(peer, asked, response);
                }
            }
            Event::OutboundFailure { peer, request_id, error, .. } => {
                tracing::debug!(%peer, %error, "sync request failed");
                let offence = match &error {
                    request_response::OutboundFailure::Timeout => Some(Offence::Timeout),
                    request_response::OutboundFailure::Io(e) if is_malformed(e) => {
                        Some(Offence::MalformedMessage)
                    }
                    _ => None,
                };
                if let Some(offence) = offence {
                    self.penalize(peer, offence);
                }
                match self.asked.remove(&request_id) {
                    Some((_, Asked::Blocks(_))) => {
                        let now = self.now_ms();
                        self.sync.completed(&peer, Outcome::Failed, now);
                    }
                    Some((_, Asked::Proposal(hash))) => self.fetch_proposal(hash, None),
                    Some((_, Asked::Proof(fetch))) => {
                        self.proof_fetch_ended(fetch, MessageAcceptance::Ignore)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        let now = self.now_ms();
        if !self.reputation.allow_request(&peer, now) {
            self.penalize(peer, Offence::Flooding);
            return self.respond(channel, SyncResponse::Refused(Refusal::RateLimited));
        }
        let Ok(permit) = self.serving.clone().try_acquire_owned() else {
            return self.respond(channel, SyncResponse::Refused(Refusal::Busy));
        };
        let node = self.node.clone();
        let work = self.work_tx.clone();
        tokio::task::spawn_blocking(move || {
            let response = serve::answer(&node, &request).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot answer a sync request");
                SyncResponse::Refused(Refusal::Unavailable)
            });
            drop(permit);
            let _ = work.send(Work::Answer { channel, response });
        });
    }

    fn respond(&mut self, channel: ResponseChannel<SyncResponse>, response: SyncResponse) {
        // Fails only if the peer has gone; nothing to do then.
        let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
    }

    fn on_response(&mut self, peer: PeerId, asked: Asked, response: SyncResponse) {
        let now = self.now_ms();
        match (asked, response) {
            (Asked::Status, SyncResponse::Status(status)) => {
                if status.genesis_hash != self.node.genesis_hash {
                    tracing::warn!(%peer, "peer has another genesis; disconnecting");
                    self.penalize(peer, Offence::InvalidBlock);
                    let _ = self.swarm.disconnect_peer_id(peer);
                    return;
                }
                self.sync.peer_head(peer, status.head_height);
            }
            (Asked::Blocks(range), SyncResponse::Blocks(blocks)) => {
                self.sync.answered(&peer);
                if !answers(&range, &blocks) {
                    self.penalize(peer, Offence::InvalidBlock);
                    return self.sync.completed(&peer, Outcome::Failed, now);
                }
                self.follow(peer, blocks);
            }
            (Asked::Blocks(_), SyncResponse::Refused(refusal)) => {
                if refusal == Refusal::Unavailable {
                    self.penalize(peer, Offence::UnhelpfulResponse);
                }
                self.sync.completed(&peer, Outcome::Empty, now);
            }
            (Asked::Status, SyncResponse::Refused(_)) => {}
            (Asked::Proposal(hash), SyncResponse::Proposal(synced)) => {
                if synced.block.hash() != hash {
                    self.penalize(peer, Offence::InvalidBlock);
                    return self.fetch_proposal(hash, None);
                }
                self.proposal_fetches.remove(&hash);
                self.node.consensus_event(consensus::Event::Block(synced.block));
            }
            (Asked::Proposal(hash), SyncResponse::Refused(_)) => self.fetch_proposal(hash, None),
            (Asked::Proof(fetch), SyncResponse::Proof(bytes)) => {
                self.check_proof(peer, fetch, bytes)
            }
            (Asked::Proof(fetch), SyncResponse::Refused(_)) => {
                self.proof_fetch_ended(fetch, MessageAcceptance::Ignore)
            }
            (asked, _) => {
                self.penalize(peer, Offence::InvalidBlock);
                match asked {
                    Asked::Blocks(_) => self.sync.completed(&peer, Outcome::Failed, now),
                    Asked::Proof(fetch) => self.proof_fetch_ended(fetch, MessageAcceptance::Ignore),
                    _ => {}
                }
            }
        }
    }

    /// Applies a peer's blocks in order on a blocking thread.
    fn follow(&mut self, peer: PeerId, blocks: Vec<SyncedBlock>) {
        let node = self.node.clone();
        let work = self.work_tx.clone();
        tokio::task::spawn_blocking(move || {
            let done = match follow_blocks(&node, &blocks) {
                Ok((head, invalid)) => Work::Followed { peer, head, invalid },
                Err(e) => Work::Fatal(e),
            };
            let _ = work.send(done);
        });
    }

    fn on_work(&mut self, work: Work) -> Result<()> {
        let now = self.now_ms();
        match work {
            Work::Answer { channel, response } => self.respond(channel, response),
            Work::Followed { peer, head, invalid } => {
                if invalid {
                    self.penalize(peer, Offence::InvalidBlock);
                }
                self.sync.set_local_head(head);
                let outcome = if invalid { Outcome::Failed } else { Outcome::Applied { head } };
                self.sync.completed(&peer, outcome, now);
                self.release_announced();
            }
            Work::TxChecked { id, source, verdict, offence } => {
                if let Some(offence) = offence {
                    self.penalize(source, offence);
                }
                self.validate(&id, &source, verdict);
            }
            Work::ProofChecked { peer, fetch, verdict, offence } => {
                if let Some(offence) = offence {
                    self.penalize(peer, offence);
                }
                self.proof_fetch_ended(fetch, verdict);
            }
            Work::Fatal(e) => return Err(e.context("following the chain")),
        }
        Ok(())
    }

    // --- peers ----------------------------------------------------------------

    fn penalize(&mut self, peer: PeerId, offence: Offence) {
        let now = self.now_ms();
        if self.reputation.is_banned(&peer, now) {
            return; // Late answers of a peer already banned: nothing more to do.
        }
        let standing = self.reputation.penalize(&peer, offence, now);
        tracing::info!(%peer, "peer {}", offence.describe());
        if let Standing::Banned { until_ms } = standing
            && self.swarm.behaviour_mut().blocked.block_peer(peer)
        {
            let minutes = until_ms.saturating_sub(now) / 60_000;
            tracing::warn!(%peer, minutes, "banned a peer");
            self.sync.peer_gone(&peer);
            self.node.metrics.peers_banned.inc();
        }
    }

    fn on_tick(&mut self) {
        let now = self.now_ms();
        for peer in self.reputation.expire(now) {
            tracing::info!(%peer, "ban ended");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        if now.saturating_sub(self.last_redial_ms) >= REDIAL_MS {
            self.last_redial_ms = now;
            self.redial();
            self.discover();
        }
        self.release_announced();
        self.retry_proposal_fetches();
        self.catch_up_proofs(now);
        if let Some(head) = self.node.chain.try_lock().ok().map(|c| c.head.height) {
            // Blocks produced here, or applied through another path.
            if head > self.sync.local_head() {
                self.sync.set_local_head(head);
            }
        }
    }

    /// Dials bootstrap peers that are not connected.
    fn redial(&mut self) {
        for (peer, addr) in self.bootstrap.clone() {
            if !self.swarm.is_connected(&peer)
                && !self.reputation.is_banned(&peer, self.now_ms())
                && let Err(e) = self.swarm.dial(addr.clone())
            {
                tracing::debug!(%addr, error = %e, "cannot dial a bootstrap peer");
            }
        }
    }

    /// With discovery on and too few peers, dials some that Kademlia knows.
    fn discover(&mut self) {
        if !self.options.discovery || self.swarm.connected_peers().count() >= TARGET_PEERS {
            return;
        }
        let local = *self.swarm.local_peer_id();
        let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() else { return };
        let known: Vec<PeerId> = kad
            .kbuckets()
            .flat_map(|b| b.iter().map(|e| *e.node.key.preimage()).collect::<Vec<_>>())
            .collect();
        if !known.is_empty() {
            let _ = kad.bootstrap();
        }
        let now = self.now_ms();
        let candidates: Vec<PeerId> = known
            .into_iter()
            .filter(|p| {
                *p != local && !self.swarm.is_connected(p) && !self.reputation.is_banned(p, now)
            })
            .take(2)
            .collect();
        for peer in candidates {
            let _ = self.swarm.dial(peer);
        }
    }
}

/// Whether `blocks` are what `range` asked for: consecutive, from its start, no
/// more than asked.
fn answers(range: &BlockRange, blocks: &[SyncedBlock]) -> bool {
    !blocks.is_empty()
        && blocks.len() <= range.count as usize
        && blocks.iter().enumerate().all(|(i, b)| b.block.header.height == range.from + i as u64)
}

/// Transactions checked under one hold of the chain lock (and committed with one
/// fsync): large enough to amortise the commit, small enough that RPC and block
/// production are not held up for long.
const FOLLOW_GROUP_TXS: usize = 512;

/// Applies blocks in order, in groups (see [`FOLLOW_GROUP_TXS`]), so RPC and
/// block production interleave. Returns the head reached and whether a block was
/// invalid (the rest are then skipped).
fn follow_blocks(node: &Node, blocks: &[SyncedBlock]) -> Result<(u64, bool)> {
    let mut rest: &[SyncedBlock] = blocks;
    let mut head = 0;
    let mut followed = 0;
    while !rest.is_empty() {
        let mut chain = node.chain.lock().expect("chain lock poisoned");
        head = chain.head.height;
        // Blocks that arrived meanwhile by another path are skipped.
        let fresh: Vec<Certified<'_>> = rest
            .iter()
            .filter(|s| s.block.header.height > head)
            .map(|s| (&s.block, s.certificate.as_ref()))
            .collect();
        let group = take_group(&fresh);
        rest = &rest[(rest.len() - fresh.len() + group.len()).min(rest.len())..];
        if group.is_empty() {
            break;
        }
        let (count, result) = chain.follow(&group);
        head = chain.head.height;
        followed += count;
        node.metrics.height.set(head as i64);
        node.metrics.blocks_followed.inc_by(count as u64);
        node.metrics.mempool_txs.set(chain.mempool.len() as i64);
        if count > 0 {
            node.snapshots.after_blocks(&chain, group[0].0.header.height);
            node.head_changed();
        }
        match result {
            Ok(()) => {}
            Err(FollowError::Storage(e)) => return Err(e),
            Err(e) => {
                tracing::warn!(height = head + 1, error = %e, "a peer sent an invalid block");
                return Ok((head, true));
            }
        }
    }
    if followed > 0 {
        tracing::info!(blocks = followed, head, "followed blocks from a peer");
    }
    Ok((head, false))
}

/// The longest prefix of `blocks` within the group's transaction budget (at least
/// one block).
fn take_group<'a>(blocks: &[Certified<'a>]) -> Vec<Certified<'a>> {
    let mut txs = 0;
    let mut group = Vec::new();
    for block in blocks {
        txs += block.0.transactions.len();
        if !group.is_empty() && txs > FOLLOW_GROUP_TXS {
            break;
        }
        group.push(*block);
    }
    group
}

/// The peer ids of the bootstrap addresses (each must end in `/p2p/<id>`).
fn bootstrap_peers(addrs: &[Multiaddr]) -> Result<Vec<(PeerId, Multiaddr)>> {
    addrs
        .iter()
        .map(|addr| match addr.iter().last() {
            Some(Protocol::P2p(peer)) => Ok((peer, addr.clone())),
            _ => anyhow::bail!("bootstrap address {addr} must end in /p2p/<peer id>"),
        })
        .collect()
}
