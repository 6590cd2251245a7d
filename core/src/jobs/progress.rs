//! The proven height, pruning, and the rewards it makes payable.
//!
//! Proofs arrive in any order, but settlement accepts a root only chaining from
//! the last proven root, so the *proven height* is the highest `h` such that
//! every job from the board's start up to `h` has a valid proof. When it
//! advances, the jobs it passes are pruned (their winners are remembered a
//! while, see [`super::RECENT_WINNERS`]) and their rewards become payable, in
//! height order, each exactly once.
//!
//! Rewards wait for settlement rather than being paid at acceptance so that the
//! chain pays only for proofs settlement has taken, in the order it took them;
//! it also gives provers a reason to take the lowest jobs.

use alloc::vec::Vec;

use super::{JobBoard, JobId, RECENT_WINNERS};
use crate::types::Address;

/// The prover of job `height`'s winning proof is owed its reward. The host
/// pays it on chain; the board only reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RewardDue {
    pub height: JobId,
    pub prover: Address,
}

impl JobBoard {
    /// The highest height up to which every job from the board's start is
    /// proven; `None` until the start job is.
    pub fn proven_height(&self) -> Option<JobId> {
        (self.frontier > self.start).then(|| self.frontier - 1)
    }

    /// Hands over the rewards that became payable since the last call, lowest
    /// height first. Each accepted proof's reward is handed over exactly once,
    /// once the proven height covers it. Until taken they are kept (one entry
    /// per proven height), so a host should take them as the height advances.
    pub fn take_rewards(&mut self) -> Vec<RewardDue> {
        core::mem::take(&mut self.payable)
    }

    /// Moves the frontier past every proven job directly above it, pruning
    /// those jobs and queueing their rewards. Returns the new proven height if
    /// it advanced.
    pub(super) fn advance(&mut self) -> Option<JobId> {
        let before = self.frontier;
        while let Some(&prover) = self.winners.get(&self.frontier) {
            self.jobs.remove(&self.frontier);
            self.payable.push(RewardDue { height: self.frontier, prover });
            self.frontier += 1;
        }
        if self.frontier == before {
            return None;
        }
        self.forget_old_winners();
        self.proven_height()
    }

    /// Drops winners more than [`RECENT_WINNERS`] below the frontier: past that
    /// a duplicate is merely stale, and memory stays bounded.
    fn forget_old_winners(&mut self) {
        let oldest = self.frontier.saturating_sub(RECENT_WINNERS);
        while self.winners.first_key_value().is_some_and(|(&height, _)| height < oldest) {
            self.winners.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{chain, prover};
    use super::super::{LeasePolicy, MAX_PENDING_JOBS, Reject};
    use super::*;

    /// Proves the proven height advances only over a contiguous run of proofs:
    /// proofs above a gap wait, then count all at once when it fills.
    #[test]
    fn proven_height_needs_contiguous_proofs() {
        let mut board = JobBoard::new(10, LeasePolicy::default());
        chain(&mut board, 5);
        assert_eq!(board.proven_height(), None);
        assert_eq!(board.accept(12, prover(1)).unwrap().proven_height, None);
        assert_eq!(board.accept(11, prover(2)).unwrap().proven_height, None);
        assert_eq!(board.proven_height(), None);
        assert_eq!(board.accept(10, prover(3)).unwrap().proven_height, Some(12));
        assert_eq!(board.accept(14, prover(3)).unwrap().proven_height, None);
        assert_eq!(board.accept(13, prover(3)).unwrap().proven_height, Some(14));
        assert_eq!(board.pending_len(), 0);
        board.assert_invariants();
    }

    /// Proves rewards become payable only once settled, in height order, and
    /// that each is handed over exactly once.
    #[test]
    fn rewards_are_paid_once_settled() {
        let mut board = JobBoard::new(0, LeasePolicy::default());
        chain(&mut board, 3);
        board.accept(1, prover(1)).unwrap();
        assert!(board.take_rewards().is_empty(), "height 0 is unproven");
        board.accept(0, prover(2)).unwrap();
        let paid = board.take_rewards();
        assert_eq!(
            paid,
            [
                RewardDue { height: 0, prover: prover(2) },
                RewardDue { height: 1, prover: prover(1) }
            ]
        );
        assert!(board.take_rewards().is_empty());
    }

    /// Proves memory stays bounded over a long run: thousands of jobs published
    /// and proven leave no more than the pending cap of jobs and the window of
    /// winners behind, and a submission older than the window is stale.
    #[test]
    fn pruning_keeps_memory_bounded() {
        let mut board = JobBoard::new(0, LeasePolicy::default());
        let total = 3 * MAX_PENDING_JOBS as u64;
        for height in 0..total {
            chain(&mut board, 1);
            board.lease(prover(1), height).unwrap();
            // Prove every pair out of order: the odd height first.
            if height % 2 == 1 {
                board.accept(height, prover(2)).unwrap();
                board.accept(height - 1, prover(1)).unwrap();
                assert_eq!(board.take_rewards().len(), 2);
            }
            assert!(board.pending_len() <= 2);
            assert!(board.winners.len() as u64 <= RECENT_WINNERS + 1);
        }
        assert_eq!(board.proven_height(), Some(total - 1));
        assert_eq!(board.pending_len(), 0);
        assert_eq!(board.leases().count(), 0);
        assert_eq!(board.winners.len() as u64, RECENT_WINNERS);
        let last = total - 1;
        assert_eq!(
            board.check_submission(last, prover(2)),
            Err(Reject::Duplicate { winner_is_sender: true })
        );
        assert_eq!(board.check_submission(last - RECENT_WINNERS, prover(2)), Err(Reject::Stale));
        board.assert_invariants();
    }
}
