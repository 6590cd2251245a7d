//! The board: which jobs exist, and where each one stands.
//!
//! Every height from the board's start to the last published job is in exactly
//! one state: *open* (waiting for a prover), *leased*, or *proven*. Heights up to
//! the proven height are pruned, so the board holds only the jobs above it, at
//! most [`MAX_PENDING_JOBS`] of them, plus the winners of the last
//! [`RECENT_WINNERS`] heights below it (so a late duplicate is still told from a
//! stale one). Leasing lives in `leasing.rs`, submissions in `submission.rs`, the
//! proven height and rewards in `progress.rs`.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::lease_book::LeaseBook;
use super::progress::RewardDue;
use super::{Job, JobId, Lease, LeasePolicy, PublishError};
use crate::types::{Address, Hash};

/// Most jobs above the proven height the board holds (open, leased, or proven
/// out of order). Past it [`JobBoard::publish`] refuses: a backlog this long
/// means provers are not keeping up, and more jobs would not help them.
pub const MAX_PENDING_JOBS: usize = 4096;

/// How many heights below the proven height the board still remembers winners
/// for, so that a submission arriving that late is a [`super::Reject::Duplicate`]
/// (telling an echo from a lost race) rather than [`super::Reject::Stale`].
pub const RECENT_WINNERS: u64 = 1024;

/// The proving job market of one node: jobs published from the finalized chain,
/// leased to provers, and settled by the first valid proof.
#[derive(Debug)]
pub struct JobBoard {
    pub(super) policy: LeasePolicy,
    /// The first height the board deals with; every lower one was proven
    /// before it existed.
    pub(super) start: JobId,
    /// The lowest height without an accepted proof: all below it are proven.
    pub(super) frontier: JobId,
    /// The height the next published job must have.
    pub(super) next: JobId,
    /// The post-state root of the last published job, which the next job's
    /// pre-state root must equal.
    pub(super) last_post_root: Option<Hash>,
    /// The jobs from the frontier up to `next`, exclusive.
    pub(super) jobs: BTreeMap<JobId, Job>,
    /// Published jobs neither leased nor proven.
    pub(super) open: BTreeSet<JobId>,
    pub(super) leases: LeaseBook,
    /// Who proved each job: those above the frontier (proven out of order) and
    /// the last [`RECENT_WINNERS`] heights below it.
    pub(super) winners: BTreeMap<JobId, Address>,
    /// Rewards of jobs at or below the proven height, until the host takes them.
    pub(super) payable: Vec<RewardDue>,
}

/// Where one height stands on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot<'a> {
    /// Below the board's start: proven before the board existed.
    BeforeStart,
    /// Not published yet.
    Future,
    /// Proven; the winner, while the board remembers it.
    Proven(Option<Address>),
    /// Leased (possibly past its expiry, until [`JobBoard::expire`] runs).
    Leased(&'a Lease),
    /// Published, waiting for a prover.
    Open,
}

impl JobBoard {
    /// An empty board whose first job will be `start_height`: the lowest height
    /// not yet proven (the block after the last settled one).
    pub fn new(start_height: JobId, policy: LeasePolicy) -> Self {
        Self {
            policy,
            start: start_height,
            frontier: start_height,
            next: start_height,
            last_post_root: None,
            jobs: BTreeMap::new(),
            open: BTreeSet::new(),
            leases: LeaseBook::default(),
            winners: BTreeMap::new(),
            payable: Vec::new(),
        }
    }

    /// Adds the job of the next finalized block. Jobs come in height order
    /// without gaps, each chaining from the previous one's post-state root, so
    /// that proofs of consecutive jobs chain too. The first job's pre-state root
    /// is taken as given.
    pub fn publish(&mut self, job: Job) -> Result<(), PublishError> {
        if job.height < self.next {
            return Err(PublishError::AlreadyPublished { height: job.height });
        }
        if job.height > self.next {
            return Err(PublishError::Gap { expected: self.next, got: job.height });
        }
        if let Some(expected) = self.last_post_root.filter(|root| *root != job.pre_root) {
            return Err(PublishError::BrokenChain { expected, got: job.pre_root });
        }
        if self.jobs.len() >= MAX_PENDING_JOBS {
            return Err(PublishError::Full { max: MAX_PENDING_JOBS });
        }
        self.jobs.insert(job.height, job);
        self.open.insert(job.height);
        self.next = job.height + 1;
        self.last_post_root = Some(job.post_root);
        Ok(())
    }

    /// The lease terms this board grants.
    pub fn policy(&self) -> &LeasePolicy {
        &self.policy
    }

    /// The first height this board deals with.
    pub fn start_height(&self) -> JobId {
        self.start
    }

    /// The height the next published job must have.
    pub fn next_height(&self) -> JobId {
        self.next
    }

    /// The job at `height`, while it is above the proven height.
    pub fn job(&self, height: JobId) -> Option<&Job> {
        self.jobs.get(&height)
    }

    /// Jobs waiting for a prover, lowest first. A lease past its expiry still
    /// counts as held until [`JobBoard::expire`] runs.
    pub fn open_jobs(&self) -> impl Iterator<Item = &Job> {
        self.open.iter().map(|height| &self.jobs[height])
    }

    /// The lease on the job at `height`, if any.
    pub fn lease_on(&self, height: JobId) -> Option<&Lease> {
        self.leases.get(height)
    }

    /// The leases `prover` holds, lowest job first.
    pub fn leases_of<'a>(&'a self, prover: &Address) -> impl Iterator<Item = &'a Lease> + 'a {
        self.leases.of(prover)
    }

    /// Every lease, lowest job first.
    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.iter()
    }

    /// Who proved the job at `height`, while the board remembers it.
    pub fn winner(&self, height: JobId) -> Option<Address> {
        self.winners.get(&height).copied()
    }

    /// How many jobs the board holds above the proven height.
    pub fn pending_len(&self) -> usize {
        self.jobs.len()
    }

    /// Where `height` stands.
    pub(super) fn slot(&self, height: JobId) -> Slot<'_> {
        if height < self.start {
            Slot::BeforeStart
        } else if height >= self.next {
            Slot::Future
        } else if height < self.frontier || self.winners.contains_key(&height) {
            Slot::Proven(self.winner(height))
        } else if let Some(lease) = self.leases.get(height) {
            Slot::Leased(lease)
        } else {
            debug_assert!(self.open.contains(&height), "a published height has a state");
            Slot::Open
        }
    }

    /// Checks every invariant the board promises (used by the tests after
    /// every operation).
    #[cfg(test)]
    pub(super) fn assert_invariants(&self) {
        self.leases.assert_consistent();
        assert!(self.start <= self.frontier && self.frontier <= self.next);
        assert!(self.jobs.keys().copied().eq(self.frontier..self.next), "jobs above the frontier");
        assert!(self.jobs.len() <= MAX_PENDING_JOBS);
        assert!(!self.winners.contains_key(&self.frontier), "the frontier is unproven");
        for height in self.frontier..self.next {
            let states = [
                self.open.contains(&height),
                self.leases.get(height).is_some(),
                self.winners.contains_key(&height),
            ];
            assert_eq!(states.iter().filter(|s| **s).count(), 1, "height {height}: {states:?}");
        }
        assert!(
            self.open
                .iter()
                .chain(self.leases.iter().map(|l| &l.job))
                .all(|h| self.jobs.contains_key(h))
        );
        let oldest = self.frontier.saturating_sub(RECENT_WINNERS).max(self.start);
        assert!(self.winners.keys().all(|h| (oldest..self.next).contains(h)));
        let payable = self.payable.iter().map(|r| r.height);
        assert!(payable.clone().all(|h| h < self.frontier), "only proven heights are paid");
        assert!(payable.clone().zip(payable.skip(1)).all(|(a, b)| a < b), "once each, in order");
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{chain, job};
    use super::*;

    /// Proves jobs are refused unless they come next in height order: a repeat
    /// and a gap are told apart, and neither changes the board.
    #[test]
    fn publish_refuses_repeats_and_gaps() {
        let mut board = JobBoard::new(10, LeasePolicy::default());
        assert_eq!(board.publish(job(11)), Err(PublishError::Gap { expected: 10, got: 11 }));
        board.publish(job(10)).unwrap();
        assert_eq!(board.publish(job(10)), Err(PublishError::AlreadyPublished { height: 10 }));
        assert_eq!(board.publish(job(9)), Err(PublishError::AlreadyPublished { height: 9 }));
        assert_eq!(board.publish(job(12)), Err(PublishError::Gap { expected: 11, got: 12 }));
        assert_eq!(board.next_height(), 11);
        assert_eq!(board.open_jobs().map(Job::id).collect::<Vec<_>>(), [10]);
        board.assert_invariants();
    }

    /// Proves a job whose pre-state root is not its predecessor's post-state
    /// root is refused: its proof could never chain.
    #[test]
    fn publish_refuses_a_broken_chain() {
        let mut board = JobBoard::new(0, LeasePolicy::default());
        board.publish(job(0)).unwrap();
        let mut forked = job(1);
        forked.pre_root = Hash([0xee; 32]);
        assert_eq!(
            board.publish(forked),
            Err(PublishError::BrokenChain { expected: job(0).post_root, got: forked.pre_root })
        );
        board.publish(job(1)).unwrap();
    }

    /// Proves the board refuses to hold more than [`MAX_PENDING_JOBS`]
    /// unproven jobs, and takes the next one once a proof frees room.
    #[test]
    fn publish_is_bounded() {
        let mut board = JobBoard::new(0, LeasePolicy::default());
        let max = MAX_PENDING_JOBS as u64;
        chain(&mut board, max);
        assert_eq!(board.publish(job(max)), Err(PublishError::Full { max: MAX_PENDING_JOBS }));
        board.accept(0, Address([1; 32])).unwrap();
        board.publish(job(max)).unwrap();
        assert_eq!(board.pending_len(), MAX_PENDING_JOBS);
        board.assert_invariants();
    }

    /// Proves `slot` places every kind of height: before the start, proven,
    /// leased, open and not yet published.
    #[test]
    fn slots_cover_every_height() {
        let mut board = JobBoard::new(5, LeasePolicy::default());
        chain(&mut board, 3);
        let prover = Address([1; 32]);
        board.accept(5, prover).unwrap();
        let lease = board.lease(prover, 0).unwrap();
        assert_eq!(board.slot(4), Slot::BeforeStart);
        assert_eq!(board.slot(5), Slot::Proven(Some(prover)));
        assert_eq!(board.slot(6), Slot::Leased(&lease));
        assert_eq!(board.slot(7), Slot::Open);
        assert_eq!(board.slot(8), Slot::Future);
    }
}
