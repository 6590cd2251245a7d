//! Following the chain from the page: which blocks to fetch and what each one's
//! verdict is. Pure logic (no I/O, no clock), so it is tested natively on real
//! blocks; the async loop in `app` feeds it RPC results.
//!
//! Trust model (stage one, one sequencer):
//!
//! - **Trusted:** the chain id, genesis hash and sequencer key from the first
//!   status of the node serving the page, pinned for the page's lifetime
//!   ([`crate::identity`]).
//! - **Verified:** every block is checked against its parent, and only a parent
//!   that was itself accepted counts. Blocks are taken strictly in height order, so
//!   each block's parent is the block just before it; once one block is rejected,
//!   every block after it is rejected too ("builds on rejected block N"), because
//!   its parent's state is exactly what failed. A block the page rejected is never
//!   fetched again, even if only its transit copy was damaged: that keeps the rule
//!   simple and never shows a block as verified that was not. Reload to re-check.
//! - **Assumed:** a page that joins a chain longer than [`WINDOW`] starts at the
//!   window's first block, the *anchor*. Its signature is checked, but its state
//!   root is assumed, since checking it would take the whole history. Blocks after
//!   it are verified relative to that state. A chain shorter than the window starts
//!   at genesis and assumes nothing beyond the pinned identity.

use std::collections::VecDeque;
use std::fmt;

use starling_core::types::{Block, Header};
use starling_wasm::{
    BlockSummary, ChainVerifier, check_genesis, decode_block_hex, decode_witness_hex,
};

use crate::identity::{ChainIdentity, ChainSwitched};
use crate::rpc::{BlockResponse, Status};
use crate::verdict::{BlockRow, Verdict, VerifiedHead};

/// How many of the most recent blocks the page lists, and the most it fetches per
/// status.
pub const WINDOW: u64 = 20;

/// Why a status gave nothing to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusError {
    /// The first status cannot be used (a malformed key, say); the next may.
    Unusable(String),
    /// The node now serves another chain; the tracker has stopped for good.
    Switched(ChainSwitched),
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unusable(e) => write!(f, "the node's status is unusable: {e}"),
            Self::Switched(e) => e.fmt(f),
        }
    }
}

/// The pinned chain and a verifier for it.
struct Pinned {
    identity: ChainIdentity,
    verifier: ChainVerifier,
}

/// What the next block must build on.
#[derive(Default)]
enum Tip {
    /// Nothing taken yet: the next block is genesis or the anchor.
    #[default]
    Start,
    /// The last block was accepted; the next is verified on top of its header.
    Accepted(Header),
    /// The block at this height was rejected, so no later block can be verified.
    Broken(u64),
}

/// The page's view of the chain: recent rows and what the next block builds on.
#[derive(Default)]
pub struct Tracker {
    pinned: Option<Pinned>,
    /// Set once a status named another chain; from then on nothing is verified.
    switched: Option<ChainSwitched>,
    /// The height the next block must have: `None` before the first status, and
    /// after a block at `u64::MAX`.
    next: Option<u64>,
    tip: Tip,
    /// Newest first, at most [`WINDOW`].
    rows: VecDeque<BlockRow>,
    verified_head: Option<VerifiedHead>,
    anchor: Option<u64>,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the node's latest status and returns the heights to fetch, oldest
    /// first, at most [`WINDOW`] of them: a page that fell far behind catches up
    /// over several polls, never skipping a block (that would break the chain of
    /// checks). The first status pins the chain; a later one naming another chain
    /// stops the tracker. A head below what was already taken (a node restarted
    /// behind) just gives nothing to fetch until it catches up.
    pub fn on_status(&mut self, status: &Status) -> Result<Vec<u64>, StatusError> {
        if let Some(switched) = &self.switched {
            return Err(StatusError::Switched(switched.clone()));
        }
        match &self.pinned {
            None => self.pin(status)?,
            Some(pinned) => pinned.identity.check(status).map_err(|switched| {
                self.switched = Some(switched.clone());
                StatusError::Switched(switched)
            })?,
        }
        Ok(self.heights_up_to(status.height))
    }

    fn pin(&mut self, status: &Status) -> Result<(), StatusError> {
        let verifier = ChainVerifier::new(&status.chain_id, &status.sequencer)
            .map_err(StatusError::Unusable)?;
        self.pinned = Some(Pinned { identity: ChainIdentity::of(status), verifier });
        // Genesis on a short chain, else the anchor: the window's first block.
        self.next = Some(status.height.saturating_sub(WINDOW - 1));
        Ok(())
    }

    fn heights_up_to(&self, head: u64) -> Vec<u64> {
        match self.next {
            Some(next) if next <= head => {
                (next..=head.min(next.saturating_add(WINDOW - 1))).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Checks the block the node returned for `height` and lists it. Blocks must
    /// come in the order [`Self::on_status`] listed them; any other height (or any
    /// block after the tracker stopped) is ignored and gives `None`. Whatever is
    /// wrong with the block itself becomes the row's rejection reason.
    pub fn ingest(&mut self, height: u64, response: &BlockResponse) -> Option<BlockRow> {
        if self.next != Some(height) || self.switched.is_some() {
            return None;
        }
        let (block, verdict) = match decode_block_hex(&response.block) {
            Err(reason) => (None, Verdict::Rejected(reason)),
            Ok(block) => {
                let verdict =
                    self.check(height, &block, response).unwrap_or_else(Verdict::Rejected);
                (Some(block), verdict)
            }
        };
        let summary = block.as_ref().map(BlockSummary::of);
        self.advance(height, block.map(|b| b.header), &verdict, summary.as_ref());
        let hash = summary.as_ref().map_or_else(|| response.hash.clone(), |s| s.hash.clone());
        let row = BlockRow { height, hash, summary, verdict };
        self.rows.push_front(row.clone());
        self.rows.truncate(WINDOW as usize);
        Some(row)
    }

    /// The verdict on `block`, given what it must build on.
    fn check(
        &self,
        height: u64,
        block: &Block,
        response: &BlockResponse,
    ) -> Result<Verdict, String> {
        let pinned = self.pinned.as_ref().ok_or("no chain status yet")?;
        if block.header.height != height {
            return Err(format!(
                "asked for block {height}, the node sent block {}",
                block.header.height
            ));
        }
        match &self.tip {
            Tip::Broken(rejected) => Err(format!("builds on rejected block {rejected}")),
            Tip::Accepted(parent) => {
                let witness = response
                    .witness
                    .as_deref()
                    .ok_or_else(|| format!("the node sent no witness for block {height}"))?;
                pinned.verifier.verify(block, parent, &decode_witness_hex(witness)?)?;
                Ok(Verdict::Verified)
            }
            Tip::Start if height == 0 => {
                check_genesis(block, &pinned.identity.genesis_hash)?;
                Ok(Verdict::Genesis)
            }
            Tip::Start => {
                pinned.verifier.verify_seal(block)?;
                Ok(Verdict::Anchor)
            }
        }
    }

    /// Moves past the block at `height`: what the next block builds on, and what
    /// the facts panel may show as verified.
    fn advance(
        &mut self,
        height: u64,
        header: Option<Header>,
        verdict: &Verdict,
        summary: Option<&BlockSummary>,
    ) {
        self.tip = match (header, verdict.is_accepted(), &self.tip) {
            (Some(header), true, _) => Tip::Accepted(header),
            // Keep naming the first rejected block: it is the cause.
            (_, _, Tip::Broken(first)) => Tip::Broken(*first),
            _ => Tip::Broken(height),
        };
        if let (true, Some(s)) = (verdict.is_checked(), summary) {
            self.verified_head = Some(VerifiedHead {
                height,
                hash: s.hash.clone(),
                state_root: s.state_root.clone(),
            });
        }
        if *verdict == Verdict::Anchor {
            self.anchor = Some(height);
        }
        self.next = height.checked_add(1);
    }

    /// The listed blocks, newest first.
    pub fn rows(&self) -> Vec<BlockRow> {
        self.rows.iter().cloned().collect()
    }

    /// The newest block verified here (or genesis), if any.
    pub fn verified_head(&self) -> Option<&VerifiedHead> {
        self.verified_head.as_ref()
    }

    /// The height of the anchor whose state root the page assumed; `None` when it
    /// started at genesis (or has not started).
    pub fn anchor(&self) -> Option<u64> {
        self.anchor
    }

    /// The pinned chain, once the first status arrived.
    pub fn identity(&self) -> Option<&ChainIdentity> {
        self.pinned.as_ref().map(|p| &p.identity)
    }
}

#[cfg(test)]
mod tests;
