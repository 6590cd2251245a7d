//! The chain of checks: each block the browser takes is verified on top of its
//! parent before it is listed. Pure logic (no I/O, no clock), tested natively on
//! real blocks; [`super::follower`] feeds it what peers send.
//!
//! Trust model (stage one, one sequencer):
//!
//! - **Trusted:** the chain id, genesis hash and sequencer key, pinned when the
//!   page starts ([`super::identity`]).
//! - **Verified:** every block is checked against its parent, and only a parent
//!   that was itself accepted counts. Blocks are taken strictly in height order, so
//!   each block's parent is the block just before it; once one block is rejected,
//!   every block after it is rejected too ("builds on rejected block N"), because
//!   its parent's state is exactly what failed. A block that was rejected is never
//!   fetched again: that keeps the rule simple and never shows a block as verified
//!   that was not. Reload to check again.
//! - **Assumed:** a page that joins a chain longer than [`WINDOW`] starts at the
//!   window's first block, the *anchor*. Its signature is checked, but its state
//!   root is assumed, since checking it would take the whole history. Blocks after
//!   it are verified relative to that state. A chain shorter than the window starts
//!   at genesis and assumes nothing beyond the pinned identity.
//!
//! Memory is bounded: only the [`WINDOW`] most recent rows are kept, and of the
//! blocks themselves only the header the next block must build on.

use std::collections::VecDeque;

use starling_core::types::{Block, Header};
use starling_net::messages::SyncedBlock;

use super::identity::ChainIdentity;
use super::verdict::{BlockRow, Verdict, VerifiedHead};
use crate::{BlockSummary, ChainVerifier, check_genesis_hash};

/// How many of the most recent blocks are listed, and how far below the head a
/// page that joins a long chain starts.
pub const WINDOW: u64 = 20;

/// What the next block must build on.
#[derive(Default)]
enum Tip {
    /// Nothing taken yet: the next block is genesis or the anchor.
    #[default]
    Start,
    /// The last block was accepted; the next is verified on top of its header.
    Accepted(Box<Header>),
    /// The block at this height was rejected, so no later block can be verified.
    Broken(u64),
}

/// The recent blocks with their verdicts, and what the next block builds on.
pub struct Chain {
    identity: ChainIdentity,
    verifier: ChainVerifier,
    /// The height the next block must have: `None` before [`Self::start`], and
    /// after a block at `u64::MAX`.
    next: Option<u64>,
    started: bool,
    tip: Tip,
    /// Newest first, at most [`WINDOW`].
    rows: VecDeque<BlockRow>,
    verified_head: Option<VerifiedHead>,
    anchor: Option<u64>,
}

impl Chain {
    pub fn new(identity: ChainIdentity) -> Self {
        let verifier =
            ChainVerifier { chain_id: identity.chain_id.clone(), sequencer: identity.sequencer };
        Self {
            identity,
            verifier,
            next: None,
            started: false,
            tip: Tip::Start,
            rows: VecDeque::new(),
            verified_head: None,
            anchor: None,
        }
    }

    /// Chooses where to start, given the first head a peer claims: genesis on a
    /// chain shorter than the window, else the window's first block (the anchor).
    /// Only the first call counts; returns the starting height.
    pub fn start(&mut self, head: u64) -> u64 {
        if !self.started {
            self.started = true;
            self.next = Some(head.saturating_sub(WINDOW - 1));
        }
        self.next.unwrap_or(u64::MAX)
    }

    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The height the next block must have, once started.
    pub fn next(&self) -> Option<u64> {
        self.next
    }

    /// The highest height taken (accepted or rejected), if any.
    pub fn last_taken(&self) -> Option<u64> {
        self.rows.front().map(|r| r.height)
    }

    /// Checks `synced`, which must be the block at [`Self::next`], and lists it.
    /// Any other height (or a block before [`Self::start`]) is ignored and gives
    /// `None`. Whatever is wrong with the block becomes the row's rejection reason.
    pub fn ingest(&mut self, synced: &SyncedBlock) -> Option<BlockRow> {
        let height = synced.block.header.height;
        if self.next != Some(height) {
            return None;
        }
        let verdict = self.check(synced).unwrap_or_else(Verdict::Rejected);
        let summary = BlockSummary::of(&synced.block);
        self.advance(height, &synced.block, &verdict, &summary);
        let row = BlockRow { height, hash: summary.hash.clone(), summary: Some(summary), verdict };
        self.rows.push_front(row.clone());
        self.rows.truncate(WINDOW as usize);
        Some(row)
    }

    /// The verdict on a block at the expected height, given what it builds on.
    fn check(&self, synced: &SyncedBlock) -> Result<Verdict, String> {
        let block = &synced.block;
        let height = block.header.height;
        match &self.tip {
            Tip::Broken(rejected) => Err(format!("builds on rejected block {rejected}")),
            Tip::Accepted(parent) => {
                let witness = synced
                    .witness
                    .as_ref()
                    .ok_or_else(|| format!("the peer sent no witness for block {height}"))?;
                self.verifier.verify(block, parent, witness)?;
                Ok(Verdict::Verified)
            }
            Tip::Start if height == 0 => {
                check_genesis_hash(block, &self.identity.genesis_hash)?;
                Ok(Verdict::Genesis)
            }
            Tip::Start => {
                self.verifier.verify_seal(block)?;
                Ok(Verdict::Anchor)
            }
        }
    }

    /// Moves past the block at `height`: what the next block builds on, and what
    /// the facts panel may show as verified.
    fn advance(&mut self, height: u64, block: &Block, verdict: &Verdict, summary: &BlockSummary) {
        self.tip = match (verdict.is_accepted(), &self.tip) {
            (true, _) => Tip::Accepted(Box::new(block.header.clone())),
            // Keep naming the first rejected block: it is the cause.
            (false, Tip::Broken(first)) => Tip::Broken(*first),
            (false, _) => Tip::Broken(height),
        };
        if verdict.is_checked() {
            self.verified_head = Some(VerifiedHead {
                height,
                hash: summary.hash.clone(),
                state_root: summary.state_root.clone(),
            });
        }
        if *verdict == Verdict::Anchor {
            self.anchor = Some(height);
        }
        self.next = height.checked_add(1);
    }

    /// The listed row at `height`, if it is still in the window.
    pub fn row(&self, height: u64) -> Option<&BlockRow> {
        self.rows.iter().find(|r| r.height == height)
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

    pub fn identity(&self) -> &ChainIdentity {
        &self.identity
    }
}

#[cfg(test)]
mod tests;
