//! The browser node's event loop (wasm32 only): it owns the swarm, dials the
//! serving node (falling back from WebRTC-direct to WebSocket, and dialling again
//! whenever it has no peer), routes what the swarm reports to the [`Follower`],
//! sends the requests it asks for, and hands the page a fresh [`PeerView`] after
//! every change.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use futures_timer::Delay;
use starling_core::types::{Block, Hash};
use starling_net::behaviour::{Behaviour, BehaviourEvent, gossip_limit};
use starling_net::codec::Inbound;
use starling_net::libp2p::gossipsub::{self, MessageAcceptance, TopicHash};
use starling_net::libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use starling_net::libp2p::swarm::SwarmEvent;
use starling_net::libp2p::swarm::dial_opts::DialOpts;
use starling_net::libp2p::{PeerId, Swarm, ping};
use starling_net::messages::{PeerStatus, Refusal, SyncRequest, SyncResponse};
use starling_net::names::Topic;

use super::dial::{Target, Transport};
use super::follower::Follower;
use super::identity::ChainIdentity;
use super::swarm;
use super::verdict::Verdict;
use super::view::{Link, PeerInfo, PeerView};

/// How often timers are looked at (request deadlines, held headers, redials).
const TICK: Duration = Duration::from_millis(250);
/// How long the node waits before dialling again after losing every peer.
const REDIAL_MS: f64 = 2_000.0;
/// How often connected peers are asked for their status again: their head then
/// reaches this page even when a header announcement did not.
const STATUS_EVERY_MS: f64 = 10_000.0;

/// What the page gives the node.
pub struct NodeConfig {
    pub identity: ChainIdentity,
    /// The genesis block from the serving node (checked against the pinned hash).
    pub genesis: Block,
    /// Where to connect, in order of preference (see [`super::dial::plan`]).
    pub targets: Vec<Target>,
}

/// Runs the node until the page closes or the node stops for good; `observe` gets
/// the page's view after every change.
pub async fn run(config: NodeConfig, observe: impl FnMut(&PeerView)) {
    let mut view = PeerView::default();
    let mut observe = observe;
    let swarm = match swarm::build(&config.identity.chain_id) {
        Ok(swarm) => swarm,
        Err(e) => {
            view.link = Link::Stopped(format!("the browser node cannot start: {e}"));
            observe(&view);
            return;
        }
    };
    let topics = [Topic::Blocks, Topic::Proposals, Topic::Votes]
        .map(|t| (Topic::on(t, &config.identity.chain_id).hash(), t))
        .into_iter()
        .collect();
    let genesis_hash = config.identity.genesis_hash;
    let node = Node {
        swarm,
        follower: Follower::new(config.identity, config.genesis),
        view,
        targets: config.targets,
        dialing: None,
        redial_at_ms: Some(0.0),
        status_at_ms: STATUS_EVERY_MS,
        asked: HashMap::new(),
        status_asked: Vec::new(),
        checked: HashSet::new(),
        topics,
        genesis_hash,
    };
    node.run(observe).await;
}

/// What a request this node sent was for.
enum Asked {
    Status,
    Blocks,
}

struct Node {
    swarm: Swarm<Behaviour>,
    follower: Follower,
    view: PeerView,
    targets: Vec<Target>,
    /// The index in `targets` of the dial in progress.
    dialing: Option<usize>,
    /// When to dial the first target again (while no peer is connected).
    redial_at_ms: Option<f64>,
    /// When to ask the connected peers for their status again.
    status_at_ms: f64,
    asked: HashMap<OutboundRequestId, Asked>,
    /// Peers' status requests held until their own status checked out, so a
    /// peer of another chain is refused here before it can refuse this page.
    status_asked: Vec<(PeerId, ResponseChannel<SyncResponse>)>,
    /// Peers whose status checked out.
    checked: HashSet<PeerId>,
    /// The gossip topics this page reads.
    topics: HashMap<TopicHash, Topic>,
    genesis_hash: Hash,
}

impl Node {
    async fn run(mut self, mut observe: impl FnMut(&PeerView)) {
        let mut tick = Delay::new(TICK);
        loop {
            let changed = futures::select! {
                event = self.swarm.select_next_some() => {
                    self.on_swarm(event);
                    true
                }
                _ = (&mut tick).fuse() => {
                    tick.reset(TICK);
                    self.on_tick()
                }
            };
            self.drive();
            if changed {
                observe(&self.view);
            }
            if matches!(self.view.link, Link::Stopped(_)) {
                return;
            }
        }
    }

    /// Looks at the timers; says whether the page has something new to show.
    fn on_tick(&mut self) -> bool {
        let now = now_ms();
        self.follower.expire(now as u64);
        if now >= self.status_at_ms {
            self.status_at_ms = now + STATUS_EVERY_MS;
            let peers: Vec<PeerId> = self.checked.iter().copied().collect();
            for peer in peers {
                self.ask_status(peer);
            }
        }
        if self.redial_at_ms.is_some_and(|at| now >= at) && self.dialing.is_none() {
            self.redial_at_ms = None;
            self.dial(0);
            return true;
        }
        false
    }

    /// Sends what the follower asks for, reports its validations and copies what
    /// it knows into the view.
    fn drive(&mut self) {
        let now = now_ms();
        for v in self.follower.take_validations() {
            self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &v.id,
                &v.source,
                v.acceptance,
            );
        }
        if let Some((peer, request)) = self.follower.poll(now as u64) {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, request.into());
            self.asked.insert(id, Asked::Blocks);
        }
        let chain = self.follower.chain();
        self.view.rows = chain.rows();
        self.view.verified_head = chain.verified_head().cloned();
        self.view.anchor = chain.anchor();
        self.view.claimed_head = self.follower.claimed_head();
        self.view.consensus = self.follower.consensus_view();
        if self.view.timings.first_verified_ms.is_none()
            && self.view.rows.iter().any(|r| r.verdict == Verdict::Verified)
        {
            self.view.timings.first_verified_ms = Some(now);
        }
    }

    // --- connections ------------------------------------------------------------

    fn dial(&mut self, index: usize) {
        let Some(target) = self.targets.get(index).cloned() else { return };
        let now = now_ms();
        self.view.timings.dial_started_ms.get_or_insert(now);
        self.view.link =
            Link::Dialing { transport: target.transport, addr: target.addr.to_string() };
        self.dialing = Some(index);
        let opts = DialOpts::peer_id(target.peer).addresses(vec![target.addr.clone()]).build();
        if let Err(e) = self.swarm.dial(opts) {
            self.dial_failed(&target, e.to_string());
        }
    }

    /// A dial failed: the next target is tried, or, after the last, all of them
    /// again a little later.
    fn dial_failed(&mut self, target: &Target, error: String) {
        self.view.record_failure(format!("{} {}: {error}", target.transport, target.addr));
        let next = self.dialing.take().map_or(0, |i| i + 1);
        if !self.view.peers.is_empty() {
            return;
        }
        if next < self.targets.len() {
            self.dial(next);
        } else {
            self.view.link = Link::Lost(format!("could not connect to the node: {error}"));
            self.redial_at_ms = Some(now_ms() + REDIAL_MS);
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. } => {
                let addr = endpoint.get_remote_address().clone();
                self.dialing = None;
                self.view.timings.connected_ms.get_or_insert_with(now_ms);
                self.view.link = Link::Connected;
                self.view.peers.retain(|p| p.peer_id != peer_id.to_string());
                self.view.peers.push(PeerInfo {
                    peer_id: peer_id.to_string(),
                    transport: Transport::of(&addr),
                    addr: addr.to_string(),
                    rtt_ms: None,
                });
                if num_established.get() == 1 {
                    self.ask_status(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. } => {
                if num_established > 0 {
                    return;
                }
                self.follower.peer_gone(&peer_id);
                self.checked.remove(&peer_id);
                self.status_asked.retain(|(p, _)| *p != peer_id);
                self.view.peers.retain(|p| p.peer_id != peer_id.to_string());
                if self.view.peers.is_empty() && self.dialing.is_none() {
                    let why = cause.map_or_else(|| "closed".to_owned(), |e| e.to_string());
                    self.view.link = Link::Lost(format!("lost the connection to the node: {why}"));
                    self.redial_at_ms = Some(now_ms() + REDIAL_MS);
                }
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                if let Some(target) = self.dialing.and_then(|i| self.targets.get(i)).cloned() {
                    self.dial_failed(&target, error.to_string());
                }
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
            }) => {
                let (source, data, now) = (propagation_source, &message.data, now_ms() as u64);
                let verdict = match self.topics.get(&message.topic).copied() {
                    None => MessageAcceptance::Ignore,
                    Some(topic) if data.len() > gossip_limit(topic) => MessageAcceptance::Reject,
                    Some(Topic::Proposals) => {
                        return self.follower.on_proposal(source, message_id, data, now);
                    }
                    Some(Topic::Votes) => return self.follower.on_vote(source, message_id, data),
                    Some(_) => return self.follower.on_header(source, message_id, data, now),
                };
                let gossip = &mut self.swarm.behaviour_mut().gossipsub;
                gossip.report_message_validation_result(&message_id, &source, verdict);
            }
            BehaviourEvent::Sync(event) => self.on_sync(event),
            BehaviourEvent::Ping(ping::Event { peer, result: Ok(rtt), .. }) => {
                let id = peer.to_string();
                if let Some(p) = self.view.peers.iter_mut().find(|p| p.peer_id == id) {
                    p.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                }
            }
            // A peer that stopped answering is dropped (and redialled if it was
            // the last): some transports never report a dead peer themselves.
            BehaviourEvent::Ping(ping::Event { peer, connection, result: Err(e) }) => {
                self.view.record_failure(format!("{peer} stopped answering pings: {e}"));
                self.swarm.close_connection(connection);
            }
            _ => {}
        }
    }

    // --- sync -------------------------------------------------------------------

    fn on_sync(&mut self, event: request_response::Event<Inbound, SyncResponse>) {
        use request_response::{Event, Message};
        let now = now_ms() as u64;
        match event {
            Event::Message {
                peer,
                message: Message::Request { request: Inbound::Request(request), channel, .. },
                ..
            } => self.answer(peer, &request, channel),
            // A malformed request is dropped unanswered (the stream closes).
            Event::Message {
                peer, message: Message::Response { request_id, response }, ..
            } => match (self.asked.remove(&request_id), response) {
                (Some(Asked::Status), SyncResponse::Status(status)) => {
                    self.view.timings.peer_status_ms.get_or_insert_with(now_ms);
                    self.on_status(peer, &status)
                }
                (Some(Asked::Blocks), SyncResponse::Blocks(blocks)) => {
                    self.view.timings.first_blocks_ms.get_or_insert_with(now_ms);
                    if let Err(e) = self.follower.on_blocks(peer, &blocks, now) {
                        web_sys::console::warn_1(&format!("peer {peer}: {e:?}").into());
                    }
                }
                (Some(Asked::Blocks), _) => self.follower.on_refused(peer, now),
                _ => {}
            },
            Event::OutboundFailure { peer, request_id, .. } => match self.asked.remove(&request_id)
            {
                Some(Asked::Blocks) => self.follower.on_failed(peer, now),
                // Nothing is known against the peer: answer what it asked.
                Some(Asked::Status) => self.release_status(peer, true),
                None => {}
            },
            _ => {}
        }
    }

    fn ask_status(&mut self, peer: PeerId) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Status.into());
        self.asked.insert(id, Asked::Status);
    }

    fn on_status(&mut self, peer: PeerId, status: &PeerStatus) {
        match self.follower.on_status(peer, status) {
            Ok(()) => self.release_status(peer, true),
            Err(wrong) => {
                self.release_status(peer, false);
                let _ = self.swarm.disconnect_peer_id(peer);
                self.view.link = Link::Stopped(wrong.to_string());
            }
        }
    }

    /// Answers (or, for a peer of another chain, drops) `peer`'s held status
    /// requests; from now on its requests are answered at once.
    fn release_status(&mut self, peer: PeerId, answer: bool) {
        if answer {
            self.checked.insert(peer);
        }
        let (theirs, others) = std::mem::take(&mut self.status_asked)
            .into_iter()
            .partition::<Vec<_>, _>(|(p, _)| *p == peer);
        self.status_asked = others;
        for (_, channel) in theirs.into_iter().filter(|_| answer) {
            self.respond(channel, SyncResponse::Status(self.own_status()));
        }
    }

    /// A browser keeps no blocks to serve: it says it holds genesis only, so no
    /// peer asks it for blocks, and a peer of another chain sees the mismatch.
    fn own_status(&self) -> PeerStatus {
        PeerStatus {
            genesis_hash: self.genesis_hash,
            head_height: 0,
            head_hash: self.genesis_hash,
            snapshot_height: None,
        }
    }

    fn answer(
        &mut self,
        peer: PeerId,
        request: &SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        match request {
            SyncRequest::Status if self.checked.contains(&peer) => {
                self.respond(channel, SyncResponse::Status(self.own_status()))
            }
            SyncRequest::Status => self.status_asked.push((peer, channel)),
            _ => self.respond(channel, SyncResponse::Refused(Refusal::Unavailable)),
        }
    }

    fn respond(&mut self, channel: ResponseChannel<SyncResponse>, response: SyncResponse) {
        // Fails only if the peer has gone.
        let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
    }
}

/// Milliseconds since the page started loading.
fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}
