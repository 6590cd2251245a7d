//! Catching up on proofs whose announcements this node missed.
//!
//! A node learns of a proof settled elsewhere from its announcement on the
//! proofs topic, and acts on it only if it has that block's job open. A node
//! that was behind, restarting or briefly disconnected when the announcement
//! passed never hears of that proof again, and its proven height would stall
//! there while its peers' moves on. So, every few seconds, it asks one
//! connected peer (a different one each time) for the proof of the lowest
//! block it has not settled; a peer without it refuses cheaply.

use libp2p::PeerId;

/// How often a peer is asked while the lowest job stays open.
pub const INTERVAL_MS: u64 = 3_000;

/// When to ask next, and whether an answer is awaited.
#[derive(Debug, Default)]
pub struct ProofCatchUp {
    next_ms: u64,
    waiting: bool,
    turn: usize,
}

impl ProofCatchUp {
    /// The peer to ask for the proof of `lowest_open` (the lowest block this
    /// node has a job for and no proof of), if one is due: at most one request
    /// at a time, at most one per interval, and peers taken in turn.
    pub fn due(
        &mut self,
        now_ms: u64,
        lowest_open: Option<u64>,
        peers: &[PeerId],
    ) -> Option<PeerId> {
        if !self.may_ask(now_ms) || peers.is_empty() {
            return None;
        }
        lowest_open?;
        self.turn = self.turn.wrapping_add(1);
        self.waiting = true;
        self.next_ms = now_ms + INTERVAL_MS;
        Some(peers[self.turn % peers.len()])
    }

    /// Whether a request could go now, before the caller looks up what to ask
    /// for (the loop ticks four times a second; a request is due far less).
    pub fn may_ask(&self, now_ms: u64) -> bool {
        !self.waiting && now_ms >= self.next_ms
    }

    /// The request ended (a proof, a refusal, a failure): the next may go.
    pub fn ended(&mut self) {
        self.waiting = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves requests are paced, one at a time, rotate over the peers, and
    /// are not sent when nothing is open or nobody is connected.
    #[test]
    fn asks_one_peer_at_a_time_in_turn_and_only_when_something_is_open() {
        let peers = [PeerId::random(), PeerId::random()];
        let mut catch_up = ProofCatchUp::default();
        assert_eq!(catch_up.due(0, None, &peers), None, "every job proven: nothing to ask");
        assert_eq!(catch_up.due(0, Some(5), &[]), None, "nobody to ask");
        let first = catch_up.due(0, Some(5), &peers).unwrap();
        assert_eq!(catch_up.due(INTERVAL_MS * 2, Some(5), &peers), None, "one request at a time");
        catch_up.ended();
        assert_eq!(catch_up.due(INTERVAL_MS - 1, Some(5), &peers), None, "paced");
        let second = catch_up.due(INTERVAL_MS, Some(5), &peers).unwrap();
        assert_ne!(first, second, "the next peer in turn");
    }
}
