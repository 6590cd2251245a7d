//! What the browser node decides, as a pure state machine: where to start, which
//! blocks to ask which peer for, and what to tell gossip about each announced
//! header. The host ([`super::node`] on wasm32) feeds it what the swarm reports
//! and the time, sends the requests it asks for, and reports the validations it
//! gives. Tested natively on real blocks.
//!
//! A header announced on gossip is checked at once: one that does not decode, or
//! whose signature is not its signer's over the pinned chain, is rejected. The
//! signer is the pinned sequencer for a header naming no validator set (the
//! single stage), else its own proposer, whose membership in the set the block
//! check proves later; where the page's registry knows who signs that height,
//! the header must also name exactly that (the sequencer, or a member of the
//! set whose hash it carries). A valid one says its peer has that block; the
//! header is held until
//! the block itself is fetched (with its witness) and checked here, and only then
//! accepted, so gossip forwards only headers whose blocks this browser verified.
//! A header of a block that failed its checks is rejected; one this browser cannot
//! judge (a block below where it started, or another block at a taken height) is
//! ignored.
//!
//! Proposals and votes go to [`Consensus`], which checks each against the
//! registry of the newest accepted block and says what to tell gossip.

use std::collections::VecDeque;

use starling_core::crypto::SequencerPublicKey;
use starling_core::encoding::Message;
use starling_core::staking::Authority;
use starling_core::types::{Block, Hash, Header};
use starling_net::libp2p::PeerId;
use starling_net::libp2p::gossipsub::{MessageAcceptance, MessageId};
use starling_net::messages::{
    MAX_BLOCKS_PER_REQUEST, PeerStatus, SignedHeader, SyncRequest, SyncedBlock,
};
use starling_net::sync::{BlockRange, Outcome, SyncConfig, SyncDriver};

use super::chain::Chain;
use super::consensus::{Consensus, ConsensusView};
use super::identity::{ChainIdentity, WrongChain};
use super::verdict::Verdict;

/// Announced headers waiting for their block; older ones are let go (ignored).
pub const MAX_ANNOUNCED: usize = 64;
/// How long a header waits for its block before it is ignored.
pub const ANNOUNCED_TTL_MS: u64 = 30_000;

/// How the browser paces its requests: a batch large enough to catch up quickly
/// after the tab slept, a timeout below the protocol's, and a short rest.
const SYNC: SyncConfig = SyncConfig { batch: 64, timeout_ms: 20_000, rest_ms: 1_000 };
// A batch the protocol refuses would fail every request.
const _: () = assert!(SYNC.batch <= MAX_BLOCKS_PER_REQUEST);

/// What to tell gossip about one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    pub id: MessageId,
    pub source: PeerId,
    pub acceptance: MessageAcceptance,
}

/// A valid header whose block is not taken yet.
struct Announced {
    id: MessageId,
    source: PeerId,
    height: u64,
    hash: Hash,
    received_ms: u64,
}

/// Why a peer's answer to a block request was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadAnswer {
    /// Nothing was asked of this peer (a late answer after a timeout).
    NotAsked,
    /// The blocks are not the range asked for.
    WrongRange { asked: BlockRange, first: Option<u64>, count: usize },
}

/// The chain of checks, the sync driver and the held announcements.
pub struct Follower {
    chain: Chain,
    /// The genesis block from the page's bootstrap, taken if the chain starts at 0
    /// (peers do not serve genesis: full nodes build it themselves). It is checked
    /// against the pinned genesis hash like any block, so its source is not trusted.
    genesis: Option<Block>,
    sync: SyncDriver<PeerId>,
    announced: VecDeque<Announced>,
    validations: Vec<Validation>,
    claimed_head: Option<u64>,
    consensus: Consensus,
}

impl Follower {
    pub fn new(identity: ChainIdentity, genesis: Block) -> Self {
        Self {
            consensus: Consensus::new(identity.chain_id.clone()),
            chain: Chain::new(identity),
            genesis: Some(genesis),
            sync: SyncDriver::new(0, SYNC),
            announced: VecDeque::new(),
            validations: Vec::new(),
            claimed_head: None,
        }
    }

    /// A peer's status: refused if it names another genesis, else its head counts
    /// as a claim (and the first claim decides where the chain starts).
    pub fn on_status(&mut self, peer: PeerId, status: &PeerStatus) -> Result<(), WrongChain> {
        self.chain.identity().check_peer(status)?;
        self.claim(peer, status.head_height);
        Ok(())
    }

    /// A message on the blocks topic. Its validation is queued at once when it can
    /// be decided now, else when its block is taken or it expires.
    pub fn on_header(&mut self, source: PeerId, id: MessageId, data: &[u8], now_ms: u64) {
        let chain_id = &self.chain.identity().chain_id;
        let header = match SignedHeader::decode_message(data) {
            Ok(h) => match self.signer_of(&h.header) {
                Some(signer) if h.verify(chain_id, &signer).is_ok() => h,
                _ => return self.validate(id, source, MessageAcceptance::Reject),
            },
            Err(_) => return self.validate(id, source, MessageAcceptance::Reject),
        };
        let (height, hash) = (header.height(), header.hash());
        self.claim(source, height);
        if let Some(acceptance) = self.judge(height, &hash) {
            return self.validate(id, source, acceptance);
        }
        if self.announced.len() >= MAX_ANNOUNCED
            && let Some(old) = self.announced.pop_front()
        {
            self.validate(old.id, old.source, MessageAcceptance::Ignore);
        }
        self.announced.push_back(Announced { id, source, height, hash, received_ms: now_ms });
    }

    /// `peer` answered the block request in flight with `blocks`: each is checked
    /// and listed in order. Returns how many were taken.
    pub fn on_blocks(
        &mut self,
        peer: PeerId,
        blocks: &[SyncedBlock],
        now_ms: u64,
    ) -> Result<usize, BadAnswer> {
        let range = match self.sync.in_flight() {
            Some((asked, range)) if *asked == peer => range,
            _ => return Err(BadAnswer::NotAsked),
        };
        let consecutive = blocks
            .iter()
            .enumerate()
            .all(|(i, b)| Some(b.block.header.height) == range.from.checked_add(i as u64));
        if blocks.is_empty() || blocks.len() > range.count as usize || !consecutive {
            self.sync.completed(&peer, Outcome::Failed, now_ms);
            let first = blocks.first().map(|b| b.block.header.height);
            return Err(BadAnswer::WrongRange { asked: range, first, count: blocks.len() });
        }
        let mut taken = 0;
        for block in blocks {
            let Some(row) = self.chain.ingest(block) else { continue };
            taken += 1;
            if row.verdict == Verdict::Verified && row.finality.is_some() {
                self.consensus.on_final(row.height, now_ms);
            }
        }
        let head = self.chain.last_taken().unwrap_or(0);
        self.sync.completed(&peer, Outcome::Applied { head }, now_ms);
        self.release();
        Ok(taken)
    }

    /// `peer` refused the block request in flight (it does not have the blocks).
    pub fn on_refused(&mut self, peer: PeerId, now_ms: u64) {
        self.sync.completed(&peer, Outcome::Empty, now_ms);
    }

    /// The block request in flight to `peer` failed.
    pub fn on_failed(&mut self, peer: PeerId, now_ms: u64) {
        self.sync.completed(&peer, Outcome::Failed, now_ms);
    }

    pub fn peer_gone(&mut self, peer: &PeerId) {
        self.sync.peer_gone(peer);
    }

    /// The next request to send, if one is due.
    pub fn poll(&mut self, now_ms: u64) -> Option<(PeerId, SyncRequest)> {
        if !self.chain.is_started() {
            return None;
        }
        let (peer, range) = self.sync.poll(now_ms)?;
        Some((peer, SyncRequest::Blocks { from: range.from, count: range.count, witnesses: true }))
    }

    /// Lets go of announcements older than [`ANNOUNCED_TTL_MS`] (ignored: their
    /// block never came).
    pub fn expire(&mut self, now_ms: u64) {
        let mut kept = VecDeque::with_capacity(self.announced.len());
        while let Some(a) = self.announced.pop_front() {
            if now_ms.saturating_sub(a.received_ms) > ANNOUNCED_TTL_MS {
                self.validate(a.id, a.source, MessageAcceptance::Ignore);
            } else {
                kept.push_back(a);
            }
        }
        self.announced = kept;
    }

    /// A message on the proposals topic: checked and counted at once (see
    /// [`Consensus::on_proposal`]).
    pub fn on_proposal(&mut self, source: PeerId, id: MessageId, data: &[u8], now_ms: u64) {
        let registry = self.chain.registry().map(|k| &k.registry);
        let finalized = self.chain.finalized();
        let acceptance = self.consensus.on_proposal(data, registry, finalized, now_ms);
        self.validate(id, source, acceptance);
    }

    /// A message on the votes topic: checked and tallied at once (see
    /// [`Consensus::on_vote`]).
    pub fn on_vote(&mut self, source: PeerId, id: MessageId, data: &[u8]) {
        let registry = self.chain.registry().map(|k| &k.registry);
        let finalized = self.chain.finalized();
        let acceptance = self.consensus.on_vote(data, registry, finalized);
        self.validate(id, source, acceptance);
    }

    /// What the page shows about consensus.
    pub fn consensus_view(&self) -> ConsensusView {
        self.consensus.view(self.chain.registry(), self.chain.finalized())
    }

    /// The validations decided since the last call.
    pub fn take_validations(&mut self) -> Vec<Validation> {
        std::mem::take(&mut self.validations)
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The highest head any peer claimed (a status, or a header with a valid
    /// signature): shown as the peers' claim, not as verified.
    pub fn claimed_head(&self) -> Option<u64> {
        self.claimed_head
    }

    /// `peer` says it has blocks up to `head`. The first claim starts the chain:
    /// at genesis (taken from the bootstrap) on a short chain, else at the anchor.
    fn claim(&mut self, peer: PeerId, head: u64) {
        self.claimed_head = Some(self.claimed_head.map_or(head, |h| h.max(head)));
        if !self.chain.is_started() {
            let start = self.chain.start(head);
            if start == 0
                && let Some(genesis) = self.genesis.take()
            {
                self.chain.ingest(&SyncedBlock {
                    block: genesis,
                    witness: None,
                    certificate: None,
                });
            }
            // Blocks below the start are never asked for.
            self.sync.set_local_head(self.chain.next().unwrap_or(u64::MAX).saturating_sub(1));
        }
        self.sync.peer_head(peer, head);
    }

    /// The key that must have signed `header`, or `None` if nobody may. Where
    /// the page's registry says who signs its height, exactly that: the pinned
    /// sequencer for a header naming no set, or its proposer if the header names
    /// the registry's set and the proposer is in it. Elsewhere, the pinned
    /// sequencer for a header naming no set, else its proposer (the block check
    /// proves its membership before anything is accepted).
    fn signer_of(&self, header: &Header) -> Option<SequencerPublicKey> {
        let sequencer = self.chain.identity().sequencer;
        let known = self.chain.registry().and_then(|k| k.registry.authority_for(header.height));
        match known {
            Some(Authority::Sequencer(_)) => (header.validators == Hash::ZERO).then_some(sequencer),
            Some(Authority::Validators(set)) => (header.validators == set.hash()
                && set.get(&header.proposer).is_some())
            .then_some(header.proposer),
            None if header.validators == Hash::ZERO => Some(sequencer),
            None => Some(header.proposer),
        }
    }

    /// Accept a header whose very block was accepted here, reject one whose block
    /// was rejected, ignore one this browser cannot judge; `None` while its block
    /// is still to come.
    fn judge(&self, height: u64, hash: &Hash) -> Option<MessageAcceptance> {
        if self.chain.next().is_some_and(|next| height >= next) {
            return None;
        }
        Some(match self.chain.row(height) {
            Some(row) if row.hash == hash.to_string() => {
                if row.verdict.is_accepted() {
                    MessageAcceptance::Accept
                } else {
                    MessageAcceptance::Reject
                }
            }
            _ => MessageAcceptance::Ignore,
        })
    }

    /// Decides the held announcements whose blocks are now taken.
    fn release(&mut self) {
        let held = std::mem::take(&mut self.announced);
        for a in held {
            match self.judge(a.height, &a.hash) {
                Some(acceptance) => self.validate(a.id, a.source, acceptance),
                None => self.announced.push_back(a),
            }
        }
    }

    fn validate(&mut self, id: MessageId, source: PeerId, acceptance: MessageAcceptance) {
        self.validations.push(Validation { id, source, acceptance });
    }
}

#[cfg(test)]
mod tests;
