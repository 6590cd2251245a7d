//! Simulated time and links: an event queue ordered by (time, insertion order),
//! and the rules deciding when (and whether) a message arrives.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

use starling_core::consensus::{CommitCertificate, SignedProposal, SignedVote, Timeout};
use starling_core::types::Hash;

use super::Links;
use super::rng::Rng;

/// What travels between hosts.
#[derive(Clone, Debug)]
pub enum Msg {
    Proposal(SignedProposal),
    Vote(SignedVote),
    /// "I am at this height": peers that are past it answer with [`Msg::Commit`]s.
    Status {
        height: u64,
    },
    /// A decided block and its certificate, for a node that missed the height.
    Commit {
        height: u64,
        block: Hash,
        certificate: CommitCertificate,
    },
}

#[derive(Debug)]
pub enum Event {
    Deliver { from: usize, to: usize, msg: Rc<Msg> },
    Timeout { node: usize, timeout: Timeout },
    Gossip { node: usize },
    Heal,
}

struct Scheduled {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The network: the clock, the pending events and the links.
pub struct Network {
    pub now: u64,
    pub rng: Rng,
    links: Links,
    partition: Option<Vec<u8>>,
    healed: bool,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Network {
    pub fn new(rng: Rng, links: Links, partition: Option<Vec<u8>>) -> Self {
        Self { now: 0, rng, links, partition, healed: false, queue: BinaryHeap::new(), seq: 0 }
    }

    pub fn schedule(&mut self, after_ms: u64, event: Event) {
        self.seq += 1;
        let at = self.now + after_ms;
        self.queue.push(Reverse(Scheduled { at, seq: self.seq, event }));
    }

    /// The next event, advancing the clock to it.
    pub fn next(&mut self) -> Option<Event> {
        let Reverse(next) = self.queue.pop()?;
        self.now = next.at;
        Some(next.event)
    }

    /// From now on nothing is dropped and the partition is gone.
    pub fn heal(&mut self) {
        self.healed = true;
    }

    /// Sends `msg` from one node to another: lost across the partition or by
    /// chance before the heal; otherwise delivered after a random delay, and
    /// sometimes a second time.
    pub fn send(&mut self, from: usize, to: usize, msg: &Rc<Msg>) {
        if from == to || self.lost(from, to) {
            return;
        }
        let copies = if self.rng.chance(self.links.duplicate_per_mille) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self.rng.between(self.links.min_delay_ms, self.links.max_delay_ms);
            self.schedule(delay, Event::Deliver { from, to, msg: msg.clone() });
        }
    }

    fn lost(&mut self, from: usize, to: usize) -> bool {
        if self.healed {
            return false;
        }
        let split = self.partition.as_ref().is_some_and(|groups| groups[from] != groups[to]);
        split || self.rng.chance(self.links.drop_per_mille)
    }
}
