//! The chain of checks: each block the browser takes is verified on top of its
//! parent before it is listed. Pure logic (no I/O, no clock), tested natively on
//! real blocks; [`super::follower`] feeds it what peers send.
//!
//! Trust model:
//!
//! - **Trusted:** the chain id, genesis hash and sequencer key, pinned when the
//!   page starts ([`super::identity`]).
//! - **Verified:** every block is checked against its parent, and only a parent
//!   that was itself accepted counts. Who may sign a block is read from the
//!   staking registry in its witness, which the check proves against the
//!   parent's state root: the pinned sequencer in the single stage, a member of
//!   the epoch's validator set under proof of stake. A proof-of-stake block must
//!   also come with its commit certificate, precommits of more than two thirds
//!   of that set's power for exactly this block; without one it is rejected. Blocks are taken strictly in height order, so
//!   each block's parent is the block just before it; once one block is rejected,
//!   every block after it is rejected too ("builds on rejected block N"), because
//!   its parent's state is exactly what failed. A block that was rejected is never
//!   fetched again: that keeps the rule simple and never shows a block as verified
//!   that was not. Reload to check again.
//! - **Assumed:** a page that joins a chain longer than [`WINDOW`] starts at the
//!   window's first block, the *anchor*. Its signature is checked, but its state
//!   root is assumed, since checking it would take the whole history. Blocks after
//!   it are verified relative to that state. Under proof of stake the anchor's
//!   certificate is checked against the set its signed header names, read from a
//!   registry that is assumed with the anchor. A chain shorter than the window
//!   starts at genesis and assumes nothing beyond the pinned identity.
//!
//! Memory is bounded: only the [`WINDOW`] most recent rows are kept, and of the
//! blocks themselves only the header the next block must build on.

use std::collections::VecDeque;

use starling_core::staking::StakingState;
use starling_core::types::{Block, Header};
use starling_net::messages::SyncedBlock;

use super::identity::ChainIdentity;
use super::verdict::{BlockRow, Verdict, VerifiedHead};
use crate::{BlockSummary, ChainVerifier, Finality, check_genesis_hash};

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

/// The staking registry the page knows: the one a block's witness carried, i.e.
/// the registry of that block's parent state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownRegistry {
    pub registry: StakingState,
    /// The block whose witness carried it.
    pub height: u64,
    /// Proven against its parent's state root (the block was verified); false
    /// for the anchor's, which is assumed with the anchor.
    pub verified: bool,
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
    /// The registry of the newest accepted block's parent state.
    registry: Option<KnownRegistry>,
    /// The newest block checked here whose finality was checked too.
    finalized: Option<u64>,
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
            registry: None,
            finalized: None,
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
        let (verdict, finality) = match self.check(synced) {
            Ok((verdict, finality)) => (verdict, finality),
            Err(reason) => (Verdict::Rejected(reason), None),
        };
        let summary = BlockSummary::of(&synced.block);
        self.advance(height, &synced.block, &verdict, &summary);
        if verdict.is_accepted()
            && let Some(registry) = synced.witness.as_ref().and_then(|w| w.registry())
        {
            let verified = verdict == Verdict::Verified;
            self.registry = Some(KnownRegistry { registry: registry.clone(), height, verified });
        }
        if verdict.is_checked() && (finality.is_some() || height == 0) {
            self.finalized = Some(height);
        }
        let row = BlockRow {
            height,
            hash: summary.hash.clone(),
            summary: Some(summary),
            verdict,
            finality,
        };
        self.rows.push_front(row.clone());
        self.rows.truncate(WINDOW as usize);
        Some(row)
    }

    /// The verdict on a block at the expected height, given what it builds on,
    /// and what made it final (none for genesis).
    fn check(&self, synced: &SyncedBlock) -> Result<(Verdict, Option<Finality>), String> {
        let block = &synced.block;
        let height = block.header.height;
        let certificate = synced.certificate.as_ref();
        match &self.tip {
            Tip::Broken(rejected) => Err(format!("builds on rejected block {rejected}")),
            Tip::Accepted(parent) => {
                let witness = synced
                    .witness
                    .as_ref()
                    .ok_or_else(|| format!("the peer sent no witness for block {height}"))?;
                let finality = self.verifier.verify_final(block, parent, witness, certificate)?;
                Ok((Verdict::Verified, Some(finality)))
            }
            Tip::Start if height == 0 => {
                check_genesis_hash(block, &self.identity.genesis_hash)?;
                Ok((Verdict::Genesis, None))
            }
            Tip::Start => {
                let witness = synced.witness.as_ref();
                let finality = self.verifier.verify_anchor(block, witness, certificate)?;
                Ok((Verdict::Anchor, Some(finality)))
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

    /// The staking registry of the newest accepted block's parent state, from
    /// that block's witness: who signs and certifies the blocks around the head.
    pub fn registry(&self) -> Option<&KnownRegistry> {
        self.registry.as_ref()
    }

    /// The newest block verified here together with its finality (its
    /// certificate under proof of stake, the sequencer's signature before), or
    /// genesis.
    pub fn finalized(&self) -> Option<u64> {
        self.finalized
    }
}

#[cfg(test)]
mod tests;
