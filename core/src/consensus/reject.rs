//! Why the driver did not take a message in.
//!
//! The host learns this from [`Driver::try_handle`](super::Driver::try_handle) or,
//! without changing anything, from [`Driver::check_vote`](super::Driver::check_vote)
//! and [`Driver::check_proposal`](super::Driver::check_proposal) (e.g. before
//! relaying a gossiped message). Some reasons are ordinary in a gossip network;
//! others prove that whoever sent the message is faulty or hostile:
//! [`Reject::is_peer_fault`] tells them apart.

use core::fmt;

use crate::crypto::SignatureError;

/// Why a proposal or vote was not taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// No height has been started yet.
    NotStarted,
    /// This height is decided; the driver waits for the next `start_height`.
    Decided,
    /// For an earlier height.
    PastHeight,
    /// For a later height. The host may keep it and hand it in once that height
    /// starts: the driver does not buffer, because it does not know that height's
    /// validators yet.
    FutureHeight,
    /// Signed for another chain.
    WrongChain,
    /// The signer is not a validator of this height.
    NotValidator,
    /// The signer is not the proposer of the proposal's round.
    NotProposer,
    /// A proposal whose valid round is not below its round.
    BadValidRound,
    /// The signature does not verify.
    BadSignature(SignatureError),
    /// Already taken in (gossip repeats messages); or a further conflicting vote,
    /// by a validator whose double-signing was already reported, for a block with
    /// no proposal in its round (hand it in again once that proposal is known);
    /// or a vote too far ahead to keep that tells the skip rule nothing new.
    Duplicate,
    /// A second proposal for a round, for a block nobody has voted for: the
    /// proposer signed two proposals. Not kept, to bound memory; if votes for its
    /// block arrive later, hand it in again.
    UnsupportedProposal,
}

impl Reject {
    /// Whether the message proves its sender (or whoever relayed it unchecked)
    /// faulty: a host may penalise the peer. Messages for other heights,
    /// duplicates, late messages and a faulty proposer's second proposal (which an
    /// honest peer may relay, having seen it first) happen between honest peers.
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            Self::WrongChain
                | Self::NotValidator
                | Self::NotProposer
                | Self::BadValidRound
                | Self::BadSignature(_)
        )
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("no height started"),
            Self::Decided => f.write_str("the height is already decided"),
            Self::PastHeight => f.write_str("for an earlier height"),
            Self::FutureHeight => f.write_str("for a later height"),
            Self::WrongChain => f.write_str("signed for another chain"),
            Self::NotValidator => f.write_str("the signer is not a validator of this height"),
            Self::NotProposer => f.write_str("the signer does not propose in this round"),
            Self::BadValidRound => f.write_str("the valid round is not below the round"),
            Self::BadSignature(e) => write!(f, "bad signature: {e}"),
            Self::Duplicate => f.write_str("already taken in"),
            Self::UnsupportedProposal => {
                f.write_str("a second proposal for the round, for a block nobody voted for")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Reject {}
