//! What the page says about each block it lists, and why.

use crate::{BlockSummary, Finality};

/// The outcome of checking one block. Only [`Verdict::Verified`] and
/// [`Verdict::Genesis`] mean "checked in this browser"; an anchor is assumed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Signature, transactions and state root checked in the browser, on top of a
    /// parent that was itself accepted (verified, genesis or the anchor).
    Verified,
    /// The genesis block, accepted because it hashes to the chain's genesis hash.
    Genesis,
    /// The first block of a page that joined mid-chain. Its signature is checked
    /// but its state root is assumed: checking it would need the whole history.
    Anchor,
    /// Failed a check, or builds on a block that did; the string says which.
    /// Rejected blocks stay on the page.
    Rejected(String),
}

impl Verdict {
    /// The value of the row's `data-verdict` attribute.
    pub fn attr(&self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Genesis => "genesis",
            Verdict::Anchor => "anchor",
            Verdict::Rejected(_) => "rejected",
        }
    }

    /// Whether a child may be checked against this block's header.
    pub fn is_accepted(&self) -> bool {
        !matches!(self, Verdict::Rejected(_))
    }

    /// Whether this block's state was checked here (so it may be shown as the
    /// verified head); an assumed anchor was not.
    pub fn is_checked(&self) -> bool {
        matches!(self, Verdict::Verified | Verdict::Genesis)
    }
}

/// One listed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRow {
    pub height: u64,
    /// The hash computed from the decoded header (the node's claim if it did not decode).
    pub hash: String,
    /// `None` when the block did not even decode.
    pub summary: Option<BlockSummary>,
    pub verdict: Verdict,
    /// What made the block final, when it was accepted: the sequencer's
    /// signature, or a commit certificate checked here. `None` for genesis and
    /// for rejected blocks.
    pub finality: Option<Finality>,
}

/// The newest block whose state this page checked itself: what the facts panel
/// shows instead of the node's own (unverified) claims about its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedHead {
    pub height: u64,
    pub hash: String,
    pub state_root: String,
}
