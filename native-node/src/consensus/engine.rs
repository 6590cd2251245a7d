//! The engine: one thread per node running core's Tendermint driver at the height
//! after the node's head, whenever that height is certified by validators.
//!
//! It turns the driver's effects into actions (build a block, sign through the
//! write-ahead log, gossip, arm a timer, commit a decided block) and the world's
//! events into driver inputs (gossiped proposals with the node's verdict on their
//! block, votes, fired timers). A node without a validator key runs it too, as an
//! observer: it follows the votes and commits decided blocks as soon as it sees a
//! certificate, without waiting for sync.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use starling_core::consensus::{
    CommitCertificate, Driver, Effect, Input, Proposal, Reject, SignedProposal, SignedVote,
    ValidatorSet, Vote,
};
use starling_core::encoding::Message;
use starling_core::types::{Block, Hash};
use starling_net::messages::SignedHeader;
use starling_net::names::Topic;

use super::inputs;
use super::signer::{Resent, Signer, signed_messages};
use super::timers::Timers;
use super::wal::Record;
use crate::node::Node;

/// How long the engine sleeps when nothing is scheduled (it wakes on any event).
const IDLE: Duration = Duration::from_secs(1);
/// Messages for later heights kept until the node gets there.
const MAX_FUTURE: usize = 4096;
/// While a height stays undecided, the validator sends its latest signed
/// messages again this often: gossip does not repeat what a partitioned or
/// restarting peer missed, and the protocol's liveness assumes they arrive.
const RESEND: Duration = Duration::from_millis(1000);
/// How many of its latest signed messages a validator sends again.
const RESEND_LAST: usize = 4;

/// Where a gossiped message came from, so the engine's verdict (relay it, drop
/// it, or penalize its sender) can go back to gossip.
#[derive(Clone, Debug)]
pub struct Gossip {
    pub id: MessageId,
    pub from: PeerId,
}

/// Something for the engine to react to.
pub enum Event {
    /// A gossiped proposal.
    Proposal { proposal: SignedProposal, gossip: Gossip },
    /// A gossiped vote.
    Vote { vote: SignedVote, gossip: Gossip },
    /// A proposed block fetched from a peer.
    Block(Block),
    /// The node's head moved (by any path: this engine, sync, the sequencer).
    Head,
}

/// The height being decided and what is known about it.
struct Height {
    number: u64,
    started: Instant,
    /// The node's verdict on each proposed block it holds.
    verdicts: HashMap<Hash, bool>,
    /// Proposals whose block has not arrived.
    awaiting: Vec<SignedProposal>,
    /// Blocks asked of peers, so each is asked once.
    fetching: HashSet<Hash>,
    /// A block this proposer must build once the block interval has passed.
    build_at: Option<(Instant, u32)>,
    /// This validator's signed messages at this height, latest last.
    signed: Vec<(Topic, Vec<u8>)>,
    resend_at: Instant,
}

pub struct Engine {
    node: Arc<Node>,
    driver: Driver,
    signer: Option<Signer>,
    events: Receiver<Event>,
    timers: Timers,
    height: Option<Height>,
    future: Vec<Event>,
    /// While replaying the log: effects that act on the world are skipped.
    replaying: bool,
    /// The log records of the height the node stopped at, replayed once.
    replay: Vec<Record>,
}

impl Engine {
    pub fn new(
        node: Arc<Node>,
        driver: Driver,
        signer: Option<Signer>,
        events: Receiver<Event>,
        replay: Vec<Record>,
    ) -> Self {
        Self {
            node,
            driver,
            signer,
            events,
            timers: Timers::default(),
            height: None,
            future: Vec::new(),
            replaying: false,
            replay,
        }
    }

    /// Runs until the node drops its side of the event channel, or a failure
    /// makes signing unsafe (then the error stops the node).
    pub fn run(mut self) -> Result<()> {
        self.follow_head()?;
        loop {
            let now = Instant::now();
            let resend = self.height.as_ref().map(|h| h.resend_at.saturating_duration_since(now));
            let wait = [self.timers.wait(now), self.build_wait(now), resend]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(IDLE);
            match self.events.recv_timeout(wait) {
                Ok(event) => self.on_event(event)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let now = Instant::now();
            for timeout in self.timers.due(now) {
                self.node.metrics.consensus_timeouts.inc();
                self.feed(Input::Timeout(timeout))?;
            }
            self.build_if_due(now)?;
            self.resend_if_due(now);
        }
    }

    /// Sends this validator's latest signed messages again if the height is
    /// still undecided after [`RESEND`].
    fn resend_if_due(&mut self, now: Instant) {
        let Some(height) = self.height.as_mut().filter(|h| h.resend_at <= now) else { return };
        height.resend_at = now + RESEND;
        let from = height.signed.len().saturating_sub(RESEND_LAST);
        for (topic, message) in &height.signed[from..] {
            self.node.net.publish(*topic, message.clone());
        }
    }

    /// Gossips a message this validator signed, and keeps it to send again.
    fn send_signed(&mut self, topic: Topic, message: Vec<u8>) {
        self.node.net.publish(topic, message.clone());
        if let Some(height) = self.height.as_mut() {
            height.signed.push((topic, message));
        }
    }

    /// Starts deciding the height after the head if validators certify it.
    fn follow_head(&mut self) -> Result<()> {
        let Some((next, set)) = self.node.next_certified_height() else {
            self.height = None;
            return Ok(());
        };
        if self.height.as_ref().is_some_and(|h| h.number == next) {
            return Ok(());
        }
        self.begin(next, set)
    }

    fn begin(&mut self, number: u64, set: ValidatorSet) -> Result<()> {
        self.timers.clear();
        self.node.clear_proposals();
        self.height = Some(Height {
            number,
            started: Instant::now(),
            verdicts: HashMap::new(),
            awaiting: Vec::new(),
            fetching: HashSet::new(),
            build_at: None,
            signed: Vec::new(),
            resend_at: Instant::now() + RESEND,
        });
        let replay = self.take_replay(number)?;
        self.node.metrics.consensus_height.set(number as i64);
        tracing::debug!(height = number, validators = set.len(), "deciding a height");
        let effects = self.driver.start_height(number, set);
        self.replaying = !replay.is_empty();
        self.apply(effects)?;
        self.resume(replay)?;
        let future = std::mem::take(&mut self.future);
        for event in future {
            self.on_event(event)?;
        }
        Ok(())
    }

    /// The log's records for `number` if it stopped there; moves the log to it.
    fn take_replay(&mut self, number: u64) -> Result<Vec<Record>> {
        let replay = std::mem::take(&mut self.replay);
        let Some(signer) = self.signer.as_mut() else { return Ok(Vec::new()) };
        let resuming = signer.wal().height() == number;
        signer.wal().start_height(number)?;
        Ok(if resuming { replay } else { Vec::new() })
    }

    /// Feeds the logged inputs of this height to the driver (skipping effects
    /// that act on the world, which were acted on before the restart), then
    /// sends the logged signatures again in case they never left.
    fn resume(&mut self, records: Vec<Record>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        tracing::info!(records = records.len(), "resuming the height from the consensus log");
        for record in &records {
            if let Record::Input(bytes) = record {
                let input = inputs::decode(bytes).context("corrupt consensus log input")?;
                let effects = self.driver.handle(input);
                self.apply(effects)?;
            }
        }
        self.replaying = false;
        for message in signed_messages(&records) {
            match message {
                Resent::Proposal(p) => self.send_signed(Topic::Proposals, p.encode_message()),
                Resent::Vote(v) => self.send_signed(Topic::Votes, v.encode_message()),
            }
        }
        Ok(())
    }

    fn current(&self) -> Option<u64> {
        self.height.as_ref().map(|h| h.number)
    }

    fn on_event(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Head => self.follow_head(),
            Event::Vote { vote, gossip } => self.on_vote(vote, gossip),
            Event::Proposal { proposal, gossip } => {
                let place = self.place(proposal.proposal.height);
                let verdict = match place {
                    Place::Now => verdict(self.driver.check_proposal(&proposal)),
                    Place::Later => signature_verdict(proposal.verify().is_ok()),
                    Place::Past => MessageAcceptance::Ignore,
                };
                let accepted = matches!(verdict, MessageAcceptance::Accept);
                self.node.net.gossip_verdict(gossip.id.clone(), gossip.from, verdict);
                match place {
                    Place::Now if accepted => self.on_proposal(proposal, gossip.from),
                    Place::Later if accepted => self.keep(Event::Proposal { proposal, gossip }),
                    _ => Ok(()),
                }
            }
            Event::Block(block) => self.on_block(block),
        }
    }

    /// A vote for this height goes to the driver, which checks it (signature,
    /// membership, duplicates); the verdict goes back to gossip. Votes for later
    /// heights are relayed if their signature holds, and kept.
    fn on_vote(&mut self, vote: SignedVote, gossip: Gossip) -> Result<()> {
        match self.place(vote.vote.height) {
            Place::Now => {
                let reject = self.input(Input::Vote(vote))?;
                if reject.is_none() {
                    self.node.metrics.consensus_votes.inc();
                }
                let verdict = verdict(reject.map_or(Ok(()), Err));
                self.node.net.gossip_verdict(gossip.id, gossip.from, verdict);
                Ok(())
            }
            Place::Later => {
                let verdict = signature_verdict(vote.verify().is_ok());
                let keep = matches!(verdict, MessageAcceptance::Accept);
                self.node.net.gossip_verdict(gossip.id.clone(), gossip.from, verdict);
                if keep { self.keep(Event::Vote { vote, gossip }) } else { Ok(()) }
            }
            Place::Past => {
                self.node.net.gossip_verdict(gossip.id, gossip.from, MessageAcceptance::Ignore);
                Ok(())
            }
        }
    }

    fn place(&self, height: u64) -> Place {
        match self.current() {
            Some(h) if height == h => Place::Now,
            Some(h) if height < h => Place::Past,
            // Ahead of us, or we are not deciding yet (still following a
            // single-mode chain, or syncing): keep it for when we get there.
            _ => Place::Later,
        }
    }

    fn keep(&mut self, event: Event) -> Result<()> {
        if self.future.len() < MAX_FUTURE {
            self.future.push(event);
        }
        Ok(())
    }

    /// A proposal is handed to the driver with the node's verdict on its block;
    /// without the block, it waits while the block is fetched from its sender.
    fn on_proposal(&mut self, proposal: SignedProposal, from: PeerId) -> Result<()> {
        let hash = proposal.proposal.block_hash;
        let Some(height) = self.height.as_mut() else { return Ok(()) };
        if let Some(&valid) = height.verdicts.get(&hash) {
            return self.feed(Input::Proposal { proposal, valid });
        }
        if height.fetching.insert(hash) {
            self.node.net.fetch_proposal(from, proposal.proposal.height, hash);
        }
        height.awaiting.push(proposal);
        Ok(())
    }

    /// A fetched block: checked once, then every proposal waiting for it goes in.
    fn on_block(&mut self, block: Block) -> Result<()> {
        let hash = block.hash();
        let Some(height) = self.height.as_mut() else { return Ok(()) };
        if block.header.height != height.number || !height.fetching.contains(&hash) {
            return Ok(()); // unsolicited or late
        }
        if height.verdicts.contains_key(&hash) {
            return Ok(());
        }
        let Some(valid) = self.node.check_proposal(&block) else {
            return Ok(()); // the head moved on; a Head event follows
        };
        if !valid {
            tracing::warn!(height = height.number, %hash, "a proposed block is invalid");
        }
        height.verdicts.insert(hash, valid);
        self.node.hold_proposal(block);
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut height.awaiting)
            .into_iter()
            .partition(|p| p.proposal.block_hash == hash);
        height.awaiting = waiting;
        for proposal in ready {
            self.feed(Input::Proposal { proposal, valid })?;
        }
        Ok(())
    }

    /// Hands `input` to the driver; if it is taken in, logs it (validators) and
    /// acts on the effects. The log entry precedes every signature the input
    /// leads to, which is what a restart needs; an input lost in a crash before
    /// its entry was never acted on. Returns why the driver refused it, if it did.
    fn input(&mut self, input: Input) -> Result<Option<Reject>> {
        let encoded = self.signer.is_some().then(|| inputs::encode(&input));
        let effects = match self.driver.try_handle(input) {
            Ok(effects) => effects,
            Err(reject) => return Ok(Some(reject)),
        };
        if let (Some(signer), Some(bytes)) = (self.signer.as_mut(), encoded) {
            signer.wal().input(&bytes)?;
        }
        self.apply(effects)?;
        self.node.metrics.consensus_round.set(i64::from(self.driver.round()));
        self.node.consensus_round.store(self.driver.round(), std::sync::atomic::Ordering::Relaxed);
        Ok(None)
    }

    /// [`Self::input`] for inputs the node made itself (timers, its own messages,
    /// verdicts): a refusal is only logged.
    fn feed(&mut self, input: Input) -> Result<()> {
        if let Some(reject) = self.input(input)? {
            tracing::debug!(%reject, "the driver refused an input");
        }
        Ok(())
    }

    fn apply(&mut self, effects: Vec<Effect>) -> Result<()> {
        for effect in effects {
            self.act(effect)?;
        }
        Ok(())
    }

    fn act(&mut self, effect: Effect) -> Result<()> {
        tracing::trace!(?effect, replaying = self.replaying, "consensus effect");
        match effect {
            Effect::ScheduleTimeout { timeout, after_ms } => {
                self.timers.schedule(timeout, after_ms, Instant::now());
                Ok(())
            }
            _ if self.replaying => Ok(()),
            Effect::BuildProposal { height, round } => self.plan_build(height, round),
            Effect::SignProposal(proposal) => self.sign_proposal(proposal),
            Effect::SignVote(vote) => self.sign_vote(vote),
            Effect::Decide { height, block_hash, certificate, .. } => {
                self.decide(height, block_hash, certificate)
            }
            Effect::Equivocation(a, b) => {
                self.node.metrics.consensus_equivocations.inc();
                tracing::warn!(
                    validator = %a.vote.validator,
                    height = a.vote.height,
                    round = a.vote.round,
                    "a validator signed two conflicting votes"
                );
                self.node.report_equivocation(a, b);
                Ok(())
            }
        }
    }

    /// Proposers build when the block interval since the parent has passed, so
    /// an idle chain does not spin out empty blocks as fast as votes travel.
    fn plan_build(&mut self, number: u64, round: u32) -> Result<()> {
        if self.signer.is_none() {
            return Ok(());
        }
        let at = Instant::now() + self.node.until_next_block();
        if let Some(height) = self.height.as_mut().filter(|h| h.number == number) {
            height.build_at = Some((at, round));
        }
        Ok(())
    }

    fn build_wait(&self, now: Instant) -> Option<Duration> {
        let (at, _) = self.height.as_ref()?.build_at?;
        Some(at.saturating_duration_since(now))
    }

    fn build_if_due(&mut self, now: Instant) -> Result<()> {
        let Some(height) = self.height.as_mut() else { return Ok(()) };
        let Some((_, round)) = height.build_at.filter(|(at, _)| *at <= now) else {
            return Ok(());
        };
        height.build_at = None;
        let number = height.number;
        if self.driver.round() != round {
            return Ok(()); // the round moved on while we waited
        }
        let Some(key) = self.signer.as_ref().map(|s| s.key().clone()) else { return Ok(()) };
        match self.node.build_proposal(&key) {
            Ok(block) => {
                let block_hash = block.hash();
                if let Some(h) = self.height.as_mut() {
                    h.verdicts.insert(block_hash, true);
                }
                self.node.hold_proposal(block);
                self.feed(Input::ProposalBlock { height: number, round, block_hash })
            }
            Err(e) => {
                tracing::warn!(height = number, round, error = %e, "could not build a proposal");
                Ok(())
            }
        }
    }

    fn sign_proposal(&mut self, proposal: Proposal) -> Result<()> {
        let Some(signer) = self.signer.as_mut() else { return Ok(()) };
        let signed = signer.proposal(proposal).context("signing a proposal")?;
        self.send_signed(Topic::Proposals, signed.encode_message());
        self.feed(Input::Proposal { proposal: signed, valid: true })
    }

    fn sign_vote(&mut self, vote: Vote) -> Result<()> {
        let Some(signer) = self.signer.as_mut() else { return Ok(()) };
        let signed = signer.vote(vote).context("signing a vote")?;
        self.send_signed(Topic::Votes, signed.encode_message());
        self.feed(Input::Vote(signed))
    }

    /// Commits the decided block with its certificate, or, if this node never got
    /// the block, leaves it to sync (peers serve it with its certificate).
    fn decide(&mut self, number: u64, hash: Hash, certificate: CommitCertificate) -> Result<()> {
        let started = self.height.as_ref().map(|h| h.started);
        let Some(block) = self.node.proposal(&hash) else {
            tracing::info!(height = number, %hash, "decided a block this node does not hold; syncing it");
            return Ok(());
        };
        match self.node.commit_decided(&block, &certificate) {
            Ok(()) => {
                if let Some(started) = started {
                    self.node.metrics.finality_seconds.observe(started.elapsed().as_secs_f64());
                }
                // The proposer announces it; the others relay that announcement
                // once they hold the block, like any header.
                if self
                    .signer
                    .as_ref()
                    .is_some_and(|s| s.key().public_key() == block.header.proposer)
                {
                    self.node.net.announce(SignedHeader::of(&block));
                }
                tracing::info!(
                    height = number,
                    %hash,
                    round = certificate.round,
                    signers = certificate.signatures.len(),
                    txs = block.transactions.len(),
                    "finalized block"
                );
            }
            Err(e) => {
                tracing::warn!(height = number, error = %e, "could not commit a decided block")
            }
        }
        self.follow_head()
    }
}

/// Where a message's height stands against the one being decided.
enum Place {
    Now,
    Later,
    Past,
}

/// Relay what the driver took in; drop what it did not, penalizing the sender
/// only for what proves it faulty.
fn verdict(checked: Result<(), Reject>) -> MessageAcceptance {
    match checked {
        Ok(()) => MessageAcceptance::Accept,
        Err(reject) if reject.is_peer_fault() => MessageAcceptance::Reject,
        Err(_) => MessageAcceptance::Ignore,
    }
}

/// For a later height the set is not known yet: a valid signature is all that
/// can be checked.
fn signature_verdict(valid: bool) -> MessageAcceptance {
    if valid { MessageAcceptance::Accept } else { MessageAcceptance::Reject }
}
