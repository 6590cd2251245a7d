//! The live leases, indexed three ways so that every board operation is a
//! logarithmic lookup rather than a scan: by job (who holds it), by prover (how
//! many it holds) and by expiry (which ran out).
//!
//! The book only keeps the indexes consistent; the rules (who may lease, renew
//! or release what) live in [`super::JobBoard`]'s leasing methods.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::{JobId, Lease};
use crate::types::Address;

/// A lease and when its prover first got the job, for the hold limit.
#[derive(Clone, Copy, Debug)]
struct Held {
    lease: Lease,
    granted_ms: u64,
}

/// At most one lease per job, by construction: `by_job` is keyed by job.
#[derive(Debug, Default)]
pub(super) struct LeaseBook {
    by_job: BTreeMap<JobId, Held>,
    by_prover: BTreeMap<Address, BTreeSet<JobId>>,
    by_expiry: BTreeSet<(u64, JobId)>,
}

impl LeaseBook {
    /// The lease on `job`, if any.
    pub fn get(&self, job: JobId) -> Option<&Lease> {
        self.by_job.get(&job).map(|held| &held.lease)
    }

    /// When the holder of `job` was first granted it.
    pub fn granted_ms(&self, job: JobId) -> Option<u64> {
        self.by_job.get(&job).map(|held| held.granted_ms)
    }

    /// How many leases `prover` holds.
    pub fn count_of(&self, prover: &Address) -> usize {
        self.by_prover.get(prover).map_or(0, BTreeSet::len)
    }

    /// The leases `prover` holds, lowest job first.
    pub fn of<'a>(&'a self, prover: &Address) -> impl Iterator<Item = &'a Lease> + 'a {
        let jobs = self.by_prover.get(prover).into_iter().flatten();
        jobs.map(|job| &self.by_job[job].lease)
    }

    /// Every lease, lowest job first.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_job.values().map(|held| &held.lease)
    }

    /// Records `lease`, first granted at `granted_ms`. The caller has made sure
    /// the job is not leased.
    pub fn insert(&mut self, lease: Lease, granted_ms: u64) {
        debug_assert!(!self.by_job.contains_key(&lease.job), "one lease per job");
        self.by_prover.entry(lease.prover).or_default().insert(lease.job);
        self.by_expiry.insert((lease.expires_ms, lease.job));
        self.by_job.insert(lease.job, Held { lease, granted_ms });
    }

    /// Ends the lease on `job`, if any, and returns it.
    pub fn remove(&mut self, job: JobId) -> Option<Lease> {
        let Held { lease, .. } = self.by_job.remove(&job)?;
        self.by_expiry.remove(&(lease.expires_ms, job));
        if let Some(jobs) = self.by_prover.get_mut(&lease.prover) {
            jobs.remove(&job);
            if jobs.is_empty() {
                self.by_prover.remove(&lease.prover);
            }
        }
        Some(lease)
    }

    /// Moves the expiry of the lease on `job` to `expires_ms` and returns the
    /// lease as it now stands.
    pub fn extend(&mut self, job: JobId, expires_ms: u64) -> Option<Lease> {
        let held = self.by_job.get_mut(&job)?;
        self.by_expiry.remove(&(held.lease.expires_ms, job));
        self.by_expiry.insert((expires_ms, job));
        held.lease.expires_ms = expires_ms;
        Some(held.lease)
    }

    /// Ends and returns every lease that has run out at `now_ms`, earliest
    /// expiry first.
    pub fn take_expired(&mut self, now_ms: u64) -> Vec<Lease> {
        let due: Vec<JobId> =
            self.by_expiry.range(..=(now_ms, JobId::MAX)).map(|&(_, job)| job).collect();
        due.into_iter().filter_map(|job| self.remove(job)).collect()
    }

    /// Checks that the three indexes describe the same leases.
    #[cfg(test)]
    pub fn assert_consistent(&self) {
        assert_eq!(self.by_expiry.len(), self.by_job.len());
        let by_prover: usize = self.by_prover.values().map(BTreeSet::len).sum();
        assert_eq!(by_prover, self.by_job.len());
        for (job, held) in &self.by_job {
            assert_eq!(held.lease.job, *job);
            assert!(self.by_expiry.contains(&(held.lease.expires_ms, *job)));
            assert!(self.by_prover[&held.lease.prover].contains(job));
        }
        assert!(self.by_prover.values().all(|jobs| !jobs.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(job: JobId, prover: u8, expires_ms: u64) -> Lease {
        Lease { job, prover: Address([prover; 32]), expires_ms }
    }

    /// Proves insert, extend and remove keep the three indexes in step, and
    /// that a prover with no leases left leaves no empty entry behind (memory
    /// stays proportional to live leases).
    #[test]
    fn indexes_stay_consistent() {
        let mut book = LeaseBook::default();
        book.insert(lease(1, 1, 10), 0);
        book.insert(lease(2, 1, 20), 0);
        book.insert(lease(3, 2, 15), 5);
        book.assert_consistent();
        assert_eq!(book.count_of(&Address([1; 32])), 2);
        assert_eq!(book.extend(2, 30), Some(lease(2, 1, 30)));
        assert_eq!(book.granted_ms(3), Some(5));
        book.assert_consistent();
        assert_eq!(book.remove(1), Some(lease(1, 1, 10)));
        assert_eq!(book.remove(1), None);
        assert_eq!(book.remove(2), Some(lease(2, 1, 30)));
        book.assert_consistent();
        assert_eq!(book.count_of(&Address([1; 32])), 0);
        assert!(book.by_prover.len() == 1, "no empty set kept for prover 1");
    }

    /// Proves expiry takes exactly the leases whose time has come (expiry
    /// equal to now included), earliest first, and leaves the rest.
    #[test]
    fn takes_only_expired_leases() {
        let mut book = LeaseBook::default();
        book.insert(lease(1, 1, 30), 0);
        book.insert(lease(2, 2, 10), 0);
        book.insert(lease(3, 3, 20), 0);
        assert_eq!(book.take_expired(20), [lease(2, 2, 10), lease(3, 3, 20)]);
        assert_eq!(book.iter().copied().collect::<Vec<_>>(), [lease(1, 1, 30)]);
        assert!(book.take_expired(29).is_empty());
        book.assert_consistent();
    }
}
