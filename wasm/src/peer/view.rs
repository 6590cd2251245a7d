//! What the browser node tells the page: how it is connected, to whom, how long
//! that took, and the blocks it checked. Plain data, replaced whole on every
//! change, so the page only draws it.

use super::consensus::ConsensusView;
use super::dial::Transport;
use super::verdict::{BlockRow, VerifiedHead};

/// How many recent dial failures are kept for the page to show.
pub const MAX_FAILURES: usize = 8;

/// The state of the node's link to the network.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Link {
    /// Not dialled yet.
    #[default]
    Starting,
    /// Dialling one address.
    Dialing { transport: Transport, addr: String },
    /// At least one peer is connected.
    Connected,
    /// No peer is connected; the node dials again shortly. Says what went wrong.
    Lost(String),
    /// Stopped for good (a peer on another chain, a swarm that cannot start).
    Stopped(String),
}

/// One connected peer.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerInfo {
    pub peer_id: String,
    /// `None` for an address no browser transport explains (should not happen).
    pub transport: Option<Transport>,
    /// The remote address of the connection.
    pub addr: String,
    /// The last ping round trip.
    pub rtt_ms: Option<f64>,
}

/// Milliseconds since the page started loading (the browser's time origin).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// When the first dial began.
    pub dial_started_ms: Option<f64>,
    /// When the first connection was established.
    pub connected_ms: Option<f64>,
    /// When a peer first answered this page's status request.
    pub peer_status_ms: Option<f64>,
    /// When a peer first answered a block request (before the blocks are checked).
    pub first_blocks_ms: Option<f64>,
    /// When the first block fetched from a peer was shown verified (genesis,
    /// which the page brings itself, does not count).
    pub first_verified_ms: Option<f64>,
}

/// Everything the page shows about the node.
#[derive(Clone, Debug, Default)]
pub struct PeerView {
    pub link: Link,
    pub peers: Vec<PeerInfo>,
    pub timings: Timings,
    /// Recent dial failures, oldest first, at most [`MAX_FAILURES`].
    pub failures: Vec<String>,
    /// The highest head a peer claimed: not verified.
    pub claimed_head: Option<u64>,
    /// Newest first.
    pub rows: Vec<BlockRow>,
    pub verified_head: Option<VerifiedHead>,
    pub anchor: Option<u64>,
    /// Mode, epoch, rounds, votes, finality latency and the validator set.
    pub consensus: ConsensusView,
}

impl PeerView {
    /// The transport of the first connected peer.
    pub fn transport(&self) -> Option<Transport> {
        self.peers.first().and_then(|p| p.transport)
    }

    pub fn record_failure(&mut self, failure: String) {
        self.failures.push(failure);
        if self.failures.len() > MAX_FAILURES {
            self.failures.remove(0);
        }
    }
}
