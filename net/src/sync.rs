//! Which blocks to ask which peer for next.
//!
//! A pure state machine: the host tells it what peers claim to have (their status
//! or a header they announced), what this node has applied, and how each request
//! ended; it answers with the next request to send. One request is in flight at a
//! time: blocks are applied in order anyway, and a batch hides the round trip.
//! A peer whose claim turns out empty, or whose request failed, rests a while and
//! the next peer is asked, so one bad peer cannot stall a node.

use alloc::collections::BTreeMap;

/// How the driver paces requests.
#[derive(Clone, Copy, Debug)]
pub struct SyncConfig {
    /// Most blocks asked for in one request.
    pub batch: u32,
    /// A request older than this is given up (the transport usually fails it first).
    pub timeout_ms: u64,
    /// How long a peer that failed a request is left alone.
    pub rest_ms: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self { batch: 64, timeout_ms: 30_000, rest_ms: 2_000 }
    }
}

/// Blocks `from..from + count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRange {
    pub from: u64,
    pub count: u32,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Blocks were applied; the local head is now `head`.
    Applied { head: u64 },
    /// The peer had nothing after all (or refused): its claim is forgotten.
    Empty,
    /// The request failed or what came back was invalid.
    Failed,
}

#[derive(Clone, Copy, Debug)]
struct PeerSync {
    head: u64,
    resting_until_ms: u64,
}

#[derive(Clone, Debug)]
struct InFlight<P> {
    peer: P,
    range: BlockRange,
    deadline_ms: u64,
}

/// Decides what to fetch from whom.
#[derive(Clone, Debug)]
pub struct SyncDriver<P> {
    config: SyncConfig,
    local_head: u64,
    peers: BTreeMap<P, PeerSync>,
    in_flight: Option<InFlight<P>>,
}

impl<P: Ord + Clone> SyncDriver<P> {
    pub fn new(local_head: u64, config: SyncConfig) -> Self {
        Self { config, local_head, peers: BTreeMap::new(), in_flight: None }
    }

    pub fn local_head(&self) -> u64 {
        self.local_head
    }

    /// The highest height any peer claims, or the local head.
    pub fn best_known(&self) -> u64 {
        self.peers.values().map(|p| p.head).fold(self.local_head, u64::max)
    }

    /// Whether some peer claims blocks this node does not have.
    pub fn is_behind(&self) -> bool {
        self.best_known() > self.local_head
    }

    pub fn peers(&self) -> usize {
        self.peers.len()
    }

    /// `peer` claims to have blocks up to `height` (claims only rise).
    pub fn peer_head(&mut self, peer: P, height: u64) {
        let entry = self.peers.entry(peer).or_insert(PeerSync { head: 0, resting_until_ms: 0 });
        entry.head = entry.head.max(height);
    }

    /// `peer` disconnected; a request in flight to it is given up.
    pub fn peer_gone(&mut self, peer: &P) {
        self.peers.remove(peer);
        if self.in_flight.as_ref().is_some_and(|f| &f.peer == peer) {
            self.in_flight = None;
        }
    }

    /// The local head moved (a block arrived by any path).
    pub fn set_local_head(&mut self, height: u64) {
        self.local_head = height;
    }

    /// The next request to send, if one is due. Gives up a request past its
    /// deadline (resting that peer) before choosing.
    pub fn poll(&mut self, now_ms: u64) -> Option<(P, BlockRange)> {
        if let Some(f) = &self.in_flight {
            if now_ms < f.deadline_ms {
                return None;
            }
            let peer = f.peer.clone();
            self.in_flight = None;
            // A peer that lets a request run out loses its claim (like an empty
            // answer): it is asked again only once it claims more.
            if let Some(p) = self.peers.get_mut(&peer) {
                p.head = self.local_head;
            }
            self.rest(&peer, now_ms);
        }
        let peer = self.choose(now_ms)?;
        let head = self.peers[&peer].head;
        let from = self.local_head.saturating_add(1);
        let count = head.saturating_sub(self.local_head).min(u64::from(self.config.batch)) as u32;
        let range = BlockRange { from, count };
        let deadline_ms = now_ms.saturating_add(self.config.timeout_ms);
        self.in_flight = Some(InFlight { peer: peer.clone(), range, deadline_ms });
        Some((peer, range))
    }

    /// The request in flight to `peer` ended. Answers from a peer that is not
    /// the one asked (late, after a timeout) are ignored.
    pub fn completed(&mut self, peer: &P, outcome: Outcome, now_ms: u64) {
        if !self.in_flight.as_ref().is_some_and(|f| &f.peer == peer) {
            return;
        }
        self.in_flight = None;
        match outcome {
            Outcome::Applied { head } => self.local_head = self.local_head.max(head),
            Outcome::Empty => {
                if let Some(p) = self.peers.get_mut(peer) {
                    p.head = self.local_head;
                }
                self.rest(peer, now_ms);
            }
            Outcome::Failed => self.rest(peer, now_ms),
        }
    }

    /// The answer to the request in flight to `peer` arrived: from now on it is
    /// being applied, which may take long for big blocks, and no longer times out.
    pub fn answered(&mut self, peer: &P) {
        if let Some(f) = self.in_flight.as_mut().filter(|f| &f.peer == peer) {
            f.deadline_ms = u64::MAX;
        }
    }

    /// The request in flight, if any.
    pub fn in_flight(&self) -> Option<(&P, BlockRange)> {
        self.in_flight.as_ref().map(|f| (&f.peer, f.range))
    }

    fn rest(&mut self, peer: &P, now_ms: u64) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.resting_until_ms = now_ms.saturating_add(self.config.rest_ms);
        }
    }

    /// The awake peer with the highest claim above the local head.
    fn choose(&self, now_ms: u64) -> Option<P> {
        self.peers
            .iter()
            .filter(|(_, p)| p.head > self.local_head && p.resting_until_ms <= now_ms)
            .max_by_key(|(_, p)| p.head)
            .map(|(peer, _)| peer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> SyncDriver<u32> {
        SyncDriver::new(10, SyncConfig { batch: 8, timeout_ms: 1_000, rest_ms: 500 })
    }

    /// Proves nothing is requested until a peer claims more than the local head.
    #[test]
    fn idle_until_a_peer_is_ahead() {
        let mut d = driver();
        assert_eq!(d.poll(0), None);
        d.peer_head(1, 10);
        assert_eq!(d.poll(0), None);
        assert!(!d.is_behind());
        d.peer_head(1, 11);
        assert_eq!(d.poll(0), Some((1, BlockRange { from: 11, count: 1 })));
    }

    /// Proves requests are batched from the highest peer and one is in flight at a time.
    #[test]
    fn asks_the_highest_peer_in_batches() {
        let mut d = driver();
        d.peer_head(1, 12);
        d.peer_head(2, 100);
        assert_eq!(d.poll(0), Some((2, BlockRange { from: 11, count: 8 })));
        assert_eq!(d.poll(1), None, "one request at a time");
        d.completed(&2, Outcome::Applied { head: 18 }, 2);
        assert_eq!(d.poll(3), Some((2, BlockRange { from: 19, count: 8 })));
    }

    /// Proves a peer with an empty answer is dropped to the local head and rests,
    /// and the next peer is asked.
    #[test]
    fn an_empty_claim_moves_on_to_another_peer() {
        let mut d = driver();
        d.peer_head(1, 50);
        d.peer_head(2, 20);
        assert_eq!(d.poll(0).unwrap().0, 1);
        d.completed(&1, Outcome::Empty, 1);
        assert_eq!(d.poll(2), Some((2, BlockRange { from: 11, count: 8 })));
        d.completed(&2, Outcome::Failed, 3);
        assert_eq!(d.poll(4), None, "peer 1 claims nothing, peer 2 rests");
        assert_eq!(d.poll(503), Some((2, BlockRange { from: 11, count: 8 })));
    }

    /// Proves a request past its deadline is given up and its peer rests.
    #[test]
    fn a_silent_peer_times_out() {
        let mut d = driver();
        d.peer_head(1, 30);
        d.peer_head(2, 30);
        let (first, _) = d.poll(0).unwrap();
        assert_eq!(d.poll(999), None);
        let (second, _) = d.poll(1_000).unwrap();
        assert_ne!(first, second);
        d.completed(&first, Outcome::Applied { head: 99 }, 1_001);
        assert_eq!(d.local_head(), 10, "a late answer from the given-up peer is ignored");
    }

    /// Proves a silent peer loses its claim (it is not asked again until it claims
    /// more), and that an answered request no longer times out while it is applied.
    #[test]
    fn timeouts_drop_the_claim_but_applying_does_not_time_out() {
        let mut d = driver();
        d.peer_head(1, 30);
        assert_eq!(d.poll(0).unwrap().0, 1);
        assert_eq!(d.poll(1_000), None, "timed out, its claim dropped");
        d.peer_head(1, 40);
        assert_eq!(d.poll(1_500).unwrap().0, 1);
        d.answered(&1);
        assert_eq!(d.poll(1_000_000), None, "applying takes as long as it takes");
        d.completed(&1, Outcome::Applied { head: 18 }, 1_000_001);
        assert_eq!(d.poll(1_000_002), Some((1, BlockRange { from: 19, count: 8 })));
    }

    /// Proves a disconnect frees the request in flight.
    #[test]
    fn a_disconnect_frees_the_request() {
        let mut d = driver();
        d.peer_head(1, 30);
        d.peer_head(2, 25);
        assert_eq!(d.poll(0).unwrap().0, 1);
        d.peer_gone(&1);
        assert_eq!(d.poll(1).unwrap().0, 2);
        assert_eq!(d.peers(), 1);
    }

    /// Proves blocks arriving by gossip move the head and stop needless requests.
    #[test]
    fn gossip_progress_counts() {
        let mut d = driver();
        d.peer_head(1, 12);
        d.set_local_head(12);
        assert_eq!(d.poll(0), None);
        assert_eq!(d.best_known(), 12);
    }
}
