//! Why a proof submission was not taken in.
//!
//! The host learns this from [`JobBoard::check_submission`] and
//! [`JobBoard::check_claim`] before it spends time verifying a proof, or from
//! [`JobBoard::accept`] if the board moved on while it verified. A failed
//! verification is [`Reject::InvalidProof`], which the host names itself.
//!
//! Most reasons are ordinary among honest peers: provers race, gossip repeats,
//! peers are ahead of or behind each other, and a browser tab may come back from
//! the background long after its lease ended. Only a proof that is wrong, or
//! that claims a statement other than the finalized block's, proves its sender
//! faulty: [`Reject::is_peer_fault`] tells them apart. The prover address in a
//! submission is not authenticated, so the fault is the *peer's* that sent it,
//! never the named prover's.
//!
//! [`JobBoard::check_submission`]: super::JobBoard::check_submission
//! [`JobBoard::check_claim`]: super::JobBoard::check_claim
//! [`JobBoard::accept`]: super::JobBoard::accept

use core::fmt;

/// Why a proof submission was not taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// For a height this board has not published yet. Not a fault: the peer may
    /// have seen the block finalized before us. The host may hold the proof
    /// (bounded) and offer it again once the job is published.
    FutureHeight,
    /// For a job proven before this board remembers: below its start height, or
    /// so far below the proven height that its winner is forgotten
    /// ([`super::RECENT_WINNERS`]). Not a fault: a tab suspended in the
    /// background can wake up that late. Drop it; it cannot be rewarded.
    Stale,
    /// The job already has a valid proof. Not a fault: `winner_is_sender` tells
    /// a repeat of the winning submission (gossip echoes it; drop it silently)
    /// from a race lost by another prover (expected now and then; a peer that
    /// keeps sending lost races for long-proven jobs is one the host may
    /// throttle).
    Duplicate { winner_is_sender: bool },
    /// The submission claims a block hash or roots other than the job's at its
    /// height: a proof of something other than the finalized block. A fault:
    /// heights are final, so no honest peer holds another job for one.
    WrongJob,
    /// The proof does not verify against the job. A fault, and the reason to
    /// check everything cheap before verifying.
    InvalidProof,
}

impl Reject {
    /// Whether the submission proves whoever sent it (or relayed it unchecked)
    /// faulty: a host may penalise the peer. Nothing here blames the prover the
    /// submission names, which anyone can write.
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, Self::WrongJob | Self::InvalidProof)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FutureHeight => f.write_str("for a job not published yet"),
            Self::Stale => f.write_str("for a job proven long ago"),
            Self::Duplicate { winner_is_sender: true } => {
                f.write_str("already proven, by this same prover")
            }
            Self::Duplicate { winner_is_sender: false } => {
                f.write_str("already proven, by another prover")
            }
            Self::WrongJob => f.write_str("claims another statement than the job's"),
            Self::InvalidProof => f.write_str("the proof does not verify"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    /// Proves only a wrong claim or a wrong proof counts against a peer: races,
    /// echoes, early and late submissions happen between honest peers.
    #[test]
    fn only_wrong_submissions_are_faults() {
        let ordinary = [
            Reject::FutureHeight,
            Reject::Stale,
            Reject::Duplicate { winner_is_sender: true },
            Reject::Duplicate { winner_is_sender: false },
        ];
        assert!(ordinary.iter().all(|r| !r.is_peer_fault()));
        assert!(Reject::WrongJob.is_peer_fault());
        assert!(Reject::InvalidProof.is_peer_fault());
    }

    /// Proves the message tells an echo from a lost race.
    #[test]
    fn duplicate_messages_differ() {
        let echo = Reject::Duplicate { winner_is_sender: true }.to_string();
        let race = Reject::Duplicate { winner_is_sender: false }.to_string();
        assert_ne!(echo, race);
    }
}
