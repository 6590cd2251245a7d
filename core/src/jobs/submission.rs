//! Proof submissions: the cheap checks before verifying, and settling a job
//! once a proof has verified.
//!
//! The host's sequence for a proof of job `h` naming prover `p`:
//!
//! 1. [`JobBoard::check_claim`] (or [`JobBoard::check_submission`] when the
//!    submission carries only the height): a few map lookups that refuse
//!    early, late, duplicate and mismatched submissions before any verifying.
//! 2. Verify the proof against the returned [`Job`] (milliseconds).
//!    If it fails, the reason is [`Reject::InvalidProof`], a peer fault, and
//!    the board records nothing: the prover address in a submission is not
//!    authenticated, so letting an invalid proof cost the named prover its
//!    lease would let anyone evict anyone.
//! 3. [`JobBoard::accept`]: the first valid proof wins.
//!
//! Whoever sends the first valid proof wins, leaseholder or not: a lease only
//! spreads work, and refusing a valid proof would only slow the proven height.
//! A proof for a job leased to someone else is therefore accepted, and the
//! lease ends. (Leases are local to the node that grants them anyway; another
//! node may have leased the same job to another prover.) For the same reason
//! the host must make sure the proof binds the prover's address, or a relay
//! could re-send a proof it saw under its own name.

use super::board::Slot;
use super::progress::RewardDue;
use super::{Job, JobBoard, JobId, Lease, Reject};
use crate::types::Address;

/// What an accepted proof settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
    /// Who won the job. The same record [`JobBoard::take_rewards`] hands over
    /// once the proven height covers it: pay from there, so each reward is
    /// paid once and only once settled.
    pub winner: RewardDue,
    /// The new proven height, if this proof advanced it.
    pub proven_height: Option<JobId>,
    /// The lease the proof ended, if the job was leased: the winner's own, or
    /// another prover's, whom the host should tell to stop.
    pub ended_lease: Option<Lease>,
}

impl JobBoard {
    /// Whether a proof of the job at `height` from `prover` is worth
    /// verifying. Returns the job to verify it against. Changes nothing.
    pub fn check_submission(&self, height: JobId, prover: Address) -> Result<&Job, Reject> {
        match self.slot(height) {
            Slot::Future => Err(Reject::FutureHeight),
            Slot::BeforeStart | Slot::Proven(None) => Err(Reject::Stale),
            Slot::Proven(Some(winner)) => {
                Err(Reject::Duplicate { winner_is_sender: winner == prover })
            }
            Slot::Leased(_) | Slot::Open => Ok(&self.jobs[&height]),
        }
    }

    /// As [`JobBoard::check_submission`], for a submission that states the job
    /// it proves: it must be the board's job at that height exactly.
    pub fn check_claim(&self, claim: &Job, prover: Address) -> Result<&Job, Reject> {
        let job = self.check_submission(claim.height, prover)?;
        if job != claim {
            return Err(Reject::WrongJob);
        }
        Ok(job)
    }

    /// Records `prover` as the winner of the job at `height`, whose proof the
    /// host has verified. Checks again first: another proof may have been
    /// accepted while this one was being verified, and then this one is a
    /// duplicate.
    pub fn accept(&mut self, height: JobId, prover: Address) -> Result<Settled, Reject> {
        self.check_submission(height, prover)?;
        let ended_lease = self.leases.remove(height);
        self.open.remove(&height);
        self.winners.insert(height, prover);
        let proven_height = self.advance();
        Ok(Settled { winner: RewardDue { height, prover }, proven_height, ended_lease })
    }
}

#[cfg(test)]
mod tests {
    use super::super::LeasePolicy;
    use super::super::testing::{chain, job, prover};
    use super::*;
    use crate::types::Hash;

    fn board(start: JobId, jobs: u64) -> JobBoard {
        let mut board = JobBoard::new(start, LeasePolicy::default());
        chain(&mut board, jobs);
        board
    }

    /// Proves the first valid proof wins and a second one is a duplicate that
    /// tells the winner's echo from another prover's lost race, not a fault.
    #[test]
    fn first_valid_proof_wins() {
        let mut board = board(0, 2);
        assert_eq!(board.check_submission(1, prover(1)), Ok(&job(1)));
        let settled = board.accept(1, prover(1)).unwrap();
        assert_eq!(settled.winner, RewardDue { height: 1, prover: prover(1) });
        let echo = board.accept(1, prover(1)).unwrap_err();
        let race = board.accept(1, prover(2)).unwrap_err();
        assert_eq!(echo, Reject::Duplicate { winner_is_sender: true });
        assert_eq!(race, Reject::Duplicate { winner_is_sender: false });
        assert!(!echo.is_peer_fault() && !race.is_peer_fault());
        assert_eq!(board.winner(1), Some(prover(1)));
        board.assert_invariants();
    }

    /// Proves the same duplicate answer holds after the job is pruned, while
    /// the board still remembers its winner.
    #[test]
    fn duplicates_are_recognised_after_pruning() {
        let mut board = board(0, 1);
        board.accept(0, prover(1)).unwrap();
        assert_eq!(board.job(0), None, "pruned");
        assert_eq!(
            board.check_submission(0, prover(2)),
            Err(Reject::Duplicate { winner_is_sender: false })
        );
    }

    /// Proves a submission for a job leased to someone else is still accepted
    /// (a lease only spreads work), and that the holder's lease ends with it.
    #[test]
    fn anyone_may_prove_a_leased_job() {
        let mut board = board(0, 1);
        let lease = board.lease(prover(1), 0).unwrap();
        assert!(board.check_submission(0, prover(2)).is_ok());
        let settled = board.accept(0, prover(2)).unwrap();
        assert_eq!(settled.ended_lease, Some(lease));
        assert_eq!(settled.proven_height, Some(0));
        assert_eq!(board.leases_of(&prover(1)).count(), 0);
        board.assert_invariants();
    }

    /// Proves unknown heights are refused before verifying, without blaming
    /// the peer: a future height may be ours to catch up on, and one below the
    /// start was proven before this board existed.
    #[test]
    fn unknown_heights_are_not_faults() {
        let board = board(5, 2);
        assert_eq!(board.check_submission(7, prover(1)), Err(Reject::FutureHeight));
        assert_eq!(board.check_submission(4, prover(1)), Err(Reject::Stale));
        assert!(!Reject::FutureHeight.is_peer_fault() && !Reject::Stale.is_peer_fault());
    }

    /// Proves a claim of any other block hash or root for a known height is a
    /// peer fault, caught before verifying, and that the true claim passes.
    #[test]
    fn wrong_claims_are_faults() {
        let board = board(0, 1);
        assert_eq!(board.check_claim(&job(0), prover(1)), Ok(&job(0)));
        let tweaks: [fn(&mut Job); 3] = [
            |j| j.block_hash = Hash([1; 32]),
            |j| j.pre_root = Hash([1; 32]),
            |j| j.post_root = Hash([1; 32]),
        ];
        for tweak in tweaks {
            let mut claim = job(0);
            tweak(&mut claim);
            let reject = board.check_claim(&claim, prover(1)).unwrap_err();
            assert_eq!(reject, Reject::WrongJob);
            assert!(reject.is_peer_fault());
        }
    }

    /// Proves checking changes nothing, so a proof that then fails to verify
    /// ([`Reject::InvalidProof`], a peer fault) leaves the board as it was: the
    /// named prover is unauthenticated, so the holder keeps its lease and the
    /// job stays open to a valid proof.
    #[test]
    fn checks_change_nothing() {
        let mut board = board(0, 1);
        let lease = board.lease(prover(1), 0).unwrap();
        board.check_submission(0, prover(2)).unwrap();
        board.check_claim(&job(0), prover(1)).unwrap();
        assert!(Reject::InvalidProof.is_peer_fault());
        assert_eq!(board.lease_on(0), Some(&lease));
        assert_eq!(board.winner(0), None);
        assert!(board.check_submission(0, prover(1)).is_ok(), "still open to a valid proof");
    }
}
