//! Granting, renewing, releasing and expiring leases.
//!
//! A lease changes only by these explicit inputs: a lease past its expiry still
//! holds its job until the host calls [`JobBoard::expire`] (on a timer tick, and
//! before leasing), exactly as a consensus timeout only fires when the host says
//! so. Only renewal looks at the clock itself, so that a holder cannot revive a
//! lease whose time is up even if the host's tick is late.

use alloc::vec::Vec;

use super::board::Slot;
use super::{JobBoard, JobId, Lease, LeaseError};
use crate::types::Address;

impl JobBoard {
    /// Leases the lowest open job to `prover`. Lowest first, because the proven
    /// height only advances when the lowest unproven job is proven.
    pub fn lease(&mut self, prover: Address, now_ms: u64) -> Result<Lease, LeaseError> {
        self.check_room(&prover)?;
        let height = *self.open.first().ok_or(LeaseError::NoOpenJob)?;
        Ok(self.grant(height, prover, now_ms))
    }

    /// Leases the job at `height` to `prover`: for a prover that already holds
    /// the block's data, or a host that wants a specific gap filled.
    pub fn lease_specific(
        &mut self,
        height: JobId,
        prover: Address,
        now_ms: u64,
    ) -> Result<Lease, LeaseError> {
        match self.slot(height) {
            Slot::BeforeStart | Slot::Future => Err(LeaseError::UnknownJob),
            Slot::Proven(_) => Err(LeaseError::AlreadyProven),
            Slot::Leased(lease) => {
                Err(LeaseError::Leased { holder: lease.prover, expires_ms: lease.expires_ms })
            }
            Slot::Open => {
                self.check_room(&prover)?;
                Ok(self.grant(height, prover, now_ms))
            }
        }
    }

    /// Extends `prover`'s live lease on `height` by one duration from `now_ms`,
    /// up to the policy's hold limit. Only the holder, and only before expiry:
    /// once a lease has run out, the job belongs to the pool again.
    pub fn renew(
        &mut self,
        height: JobId,
        prover: Address,
        now_ms: u64,
    ) -> Result<Lease, LeaseError> {
        let lease = *self.held_by(height, &prover)?;
        if lease.is_expired(now_ms) {
            return Err(LeaseError::Expired);
        }
        let granted_ms = self.leases.granted_ms(height).expect("a held lease has a grant time");
        let until_ms = granted_ms.saturating_add(self.policy.max_hold_ms);
        if lease.expires_ms >= until_ms {
            return Err(LeaseError::HoldLimit { until_ms });
        }
        let expires_ms = self.policy.expiry(granted_ms, now_ms).max(lease.expires_ms);
        Ok(self.leases.extend(height, expires_ms).expect("the lease was just found"))
    }

    /// Gives `prover`'s lease on `height` back (a tab closing, a worker
    /// stopping), so the job is open again at once instead of at expiry.
    pub fn release(&mut self, height: JobId, prover: Address) -> Result<Lease, LeaseError> {
        self.held_by(height, &prover)?;
        Ok(self.end_lease(height))
    }

    /// Ends every lease that has run out at `now_ms` and opens its job again.
    /// Returns the ended leases, earliest expiry first, so the host can tell
    /// their provers to stop.
    pub fn expire(&mut self, now_ms: u64) -> Vec<Lease> {
        let expired = self.leases.take_expired(now_ms);
        self.open.extend(expired.iter().map(|lease| lease.job));
        expired
    }

    /// Refuses if `prover` holds as many leases as the policy allows.
    fn check_room(&self, prover: &Address) -> Result<(), LeaseError> {
        let max = self.policy.max_per_prover;
        if self.leases.count_of(prover) >= max {
            return Err(LeaseError::TooManyLeases { max });
        }
        Ok(())
    }

    /// The lease on `height`, if `prover` holds it.
    fn held_by(&self, height: JobId, prover: &Address) -> Result<&Lease, LeaseError> {
        match self.slot(height) {
            Slot::BeforeStart | Slot::Future => Err(LeaseError::UnknownJob),
            Slot::Proven(_) => Err(LeaseError::AlreadyProven),
            Slot::Leased(lease) if lease.prover == *prover => Ok(lease),
            Slot::Leased(_) | Slot::Open => Err(LeaseError::NotHolder),
        }
    }

    /// Moves the open job `height` to a new lease for `prover`.
    fn grant(&mut self, height: JobId, prover: Address, now_ms: u64) -> Lease {
        let removed = self.open.remove(&height);
        debug_assert!(removed, "only open jobs are granted");
        let lease = Lease { job: height, prover, expires_ms: self.policy.expiry(now_ms, now_ms) };
        self.leases.insert(lease, now_ms);
        lease
    }

    /// Ends the lease on the unproven job `height`, opening the job again.
    fn end_lease(&mut self, height: JobId) -> Lease {
        let lease = self.leases.remove(height).expect("the caller found the lease");
        self.open.insert(height);
        lease
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{chain, prover};
    use super::super::{JobBoard, LeasePolicy};
    use super::*;

    fn board(jobs: u64, policy: LeasePolicy) -> JobBoard {
        let mut board = JobBoard::new(1, policy);
        chain(&mut board, jobs);
        board
    }

    fn policy(duration_ms: u64, max_per_prover: usize, max_hold_ms: u64) -> LeasePolicy {
        LeasePolicy { duration_ms, max_per_prover, max_hold_ms }
    }

    /// Proves leases go lowest job first, never the same job twice, and that a
    /// full board answers `NoOpenJob`.
    #[test]
    fn leases_lowest_first_and_exclusively() {
        let mut board = board(3, LeasePolicy::default());
        let a = board.lease(prover(1), 0).unwrap();
        let b = board.lease(prover(2), 0).unwrap();
        let c = board.lease(prover(1), 0).unwrap();
        assert_eq!([a.job, b.job, c.job], [1, 2, 3]);
        assert_eq!(a.expires_ms, 60_000);
        assert_eq!(board.lease(prover(3), 0), Err(LeaseError::NoOpenJob));
        assert_eq!(
            board.lease_specific(2, prover(3), 0),
            Err(LeaseError::Leased { holder: prover(2), expires_ms: 60_000 })
        );
        assert_eq!(board.leases_of(&prover(1)).map(|l| l.job).collect::<Vec<_>>(), [1, 3]);
        board.assert_invariants();
    }

    /// Proves a prover cannot hold more leases than the policy allows, by
    /// either way of leasing, while others still can.
    #[test]
    fn caps_leases_per_prover() {
        let mut board = board(4, policy(100, 2, 1000));
        board.lease(prover(1), 0).unwrap();
        board.lease(prover(1), 0).unwrap();
        assert_eq!(board.lease(prover(1), 0), Err(LeaseError::TooManyLeases { max: 2 }));
        assert_eq!(
            board.lease_specific(4, prover(1), 0),
            Err(LeaseError::TooManyLeases { max: 2 })
        );
        assert_eq!(board.lease(prover(2), 0).unwrap().job, 3);
    }

    /// Proves `lease_specific` takes the named open job, out of order, and
    /// refuses heights that are proven, before the start or not published.
    #[test]
    fn leases_a_specific_job() {
        let mut board = board(3, LeasePolicy::default());
        assert_eq!(board.lease_specific(3, prover(1), 5).unwrap().job, 3);
        assert_eq!(board.lease(prover(2), 5).unwrap().job, 1, "still lowest first");
        board.accept(2, prover(3)).unwrap();
        assert_eq!(board.lease_specific(2, prover(1), 5), Err(LeaseError::AlreadyProven));
        assert_eq!(board.lease_specific(0, prover(1), 5), Err(LeaseError::UnknownJob));
        assert_eq!(board.lease_specific(4, prover(1), 5), Err(LeaseError::UnknownJob));
    }

    /// Proves expiry returns exactly the leases that ran out, opens their jobs
    /// again for others, and that the former holder can no longer renew.
    #[test]
    fn expiry_returns_jobs_to_the_pool() {
        let mut board = board(2, policy(100, 4, 1000));
        let early = board.lease(prover(1), 0).unwrap();
        board.lease(prover(2), 50).unwrap();
        assert!(board.expire(99).is_empty());
        assert_eq!(board.expire(100), [early]);
        assert_eq!(board.open_jobs().map(|j| j.height).collect::<Vec<_>>(), [1]);
        assert_eq!(board.renew(1, prover(1), 100), Err(LeaseError::NotHolder));
        assert_eq!(board.lease(prover(3), 100).unwrap().job, 1);
        board.assert_invariants();
    }

    /// Proves a holder renews before expiry, that a lease past its time cannot
    /// be renewed even before the host's expiry tick, and that nobody else
    /// can renew it.
    #[test]
    fn only_a_live_holder_renews() {
        let mut board = board(1, policy(100, 4, 1000));
        board.lease(prover(1), 0).unwrap();
        assert_eq!(board.renew(1, prover(2), 10), Err(LeaseError::NotHolder));
        assert_eq!(board.renew(1, prover(1), 60).unwrap().expires_ms, 160);
        assert_eq!(board.renew(1, prover(1), 160), Err(LeaseError::Expired));
        assert_eq!(board.lease_on(1).unwrap().prover, prover(1), "held until expire runs");
        assert_eq!(board.renew(2, prover(1), 10), Err(LeaseError::UnknownJob));
    }

    /// Proves renewals stop at the hold limit, so one prover cannot keep the
    /// lowest job from everyone else for ever.
    #[test]
    fn renewal_stops_at_the_hold_limit() {
        let mut board = board(1, policy(100, 4, 250));
        board.lease(prover(1), 0).unwrap();
        assert_eq!(board.renew(1, prover(1), 90).unwrap().expires_ms, 190);
        assert_eq!(board.renew(1, prover(1), 180).unwrap().expires_ms, 250);
        assert_eq!(board.renew(1, prover(1), 200), Err(LeaseError::HoldLimit { until_ms: 250 }));
        assert_eq!(board.expire(250).len(), 1);
        assert_eq!(
            board.lease(prover(1), 250).unwrap().expires_ms,
            350,
            "a fresh lease, a fresh limit"
        );
    }

    /// Proves a holder can give a lease back, which opens the job at once, and
    /// that nobody else can release it.
    #[test]
    fn release_opens_the_job() {
        let mut board = board(2, LeasePolicy::default());
        let lease = board.lease(prover(1), 0).unwrap();
        assert_eq!(board.release(1, prover(2)), Err(LeaseError::NotHolder));
        assert_eq!(board.release(1, prover(1)), Ok(lease));
        assert_eq!(board.release(1, prover(1)), Err(LeaseError::NotHolder));
        assert_eq!(board.leases_of(&prover(1)).count(), 0);
        assert_eq!(board.lease(prover(2), 0).unwrap().job, 1);
        board.assert_invariants();
    }
}
