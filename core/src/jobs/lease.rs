//! Leases: a prover's claim to work on a job for a while, and the policy that
//! bounds them.
//!
//! A lease spreads work; it does not decide who is paid. The first valid proof
//! wins whoever sent it (see [`super::JobBoard::check_submission`]), so a lease
//! that a prover squats on delays a job at most until the lease ends, and a
//! prover that ignores leases altogether loses nothing but the race.

use alloc::vec::Vec;

use super::JobId;
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::types::Address;

/// The job `job` is reserved for `prover` until `expires_ms` (host time, in
/// milliseconds). The lease is live while `now_ms < expires_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The job's height.
    pub job: JobId,
    /// The account that will be rewarded if it proves the job first.
    pub prover: Address,
    /// When the job goes back to the pool unless renewed.
    pub expires_ms: u64,
}

impl Lease {
    /// Bytes of [`Encode::encode_to`]'s output: a height, an address, a time.
    pub const ENCODED_LEN: usize = 8 + 32 + 8;

    /// Whether the lease has run out at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_ms
    }
}

impl Encode for Lease {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.job.encode_to(out);
        self.prover.encode_to(out);
        self.expires_ms.encode_to(out);
    }
}

impl Decode for Lease {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            job: reader.u64()?,
            prover: Address::decode_from(reader)?,
            expires_ms: reader.u64()?,
        })
    }
}

impl Message for Lease {
    /// Fixed size: the version byte and the fields.
    const MAX_BYTES: usize = 1 + Self::ENCODED_LEN;
}

/// How long leases last and how many one prover may hold. Hosts read it from
/// their configuration, naming only what they change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeasePolicy {
    /// How long a lease (or a renewal) lasts. Long enough to prove a block,
    /// short enough that a vanished prover (a closed tab) delays its job little.
    pub duration_ms: u64,
    /// Most leases one prover holds at once. A browser runs one worker per core;
    /// beyond that a prover could only hoard jobs, not prove them faster.
    pub max_per_prover: usize,
    /// Longest a prover may keep one job by renewing, counted from when it was
    /// leased. Without it, a prover could hold the lowest open job forever and
    /// stall the proven height for everyone who follows the leases.
    pub max_hold_ms: u64,
}

impl Default for LeasePolicy {
    /// A minute per lease, sixteen workers, and at most ten minutes on one job.
    fn default() -> Self {
        Self { duration_ms: 60_000, max_per_prover: 16, max_hold_ms: 600_000 }
    }
}

impl LeasePolicy {
    /// When a lease first granted at `granted_ms` and (re)issued at `now_ms`
    /// expires: one duration on, but never past the hold limit. Saturates, so
    /// no host time can overflow it.
    pub fn expiry(&self, granted_ms: u64, now_ms: u64) -> u64 {
        let full = now_ms.saturating_add(self.duration_ms);
        full.min(granted_ms.saturating_add(self.max_hold_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Proves any lease survives the wire unchanged and re-encodes to the
        /// same bytes.
        #[test]
        fn leases_round_trip(job: u64, prover: [u8; 32], expires_ms: u64) {
            let lease = Lease { job, prover: Address(prover), expires_ms };
            let bytes = lease.encode_message();
            prop_assert_eq!(bytes.len(), Lease::MAX_BYTES);
            let back = Lease::decode_message(&bytes).unwrap();
            prop_assert_eq!(back, lease);
            prop_assert_eq!(back.encode_message(), bytes);
        }
    }

    /// Proves a lease is live strictly before its expiry and dead from it on.
    #[test]
    fn expiry_is_exclusive() {
        let lease = Lease { job: 1, prover: Address([1; 32]), expires_ms: 100 };
        assert!(!lease.is_expired(99));
        assert!(lease.is_expired(100));
    }

    /// Proves renewals extend by one duration but stop at the hold limit, and
    /// that times near `u64::MAX` saturate instead of wrapping to the past.
    #[test]
    fn expiry_respects_the_hold_limit() {
        let policy = LeasePolicy { duration_ms: 10, max_per_prover: 1, max_hold_ms: 25 };
        assert_eq!(policy.expiry(0, 0), 10);
        assert_eq!(policy.expiry(0, 9), 19);
        assert_eq!(policy.expiry(0, 20), 25, "capped at granted + max_hold");
        assert_eq!(policy.expiry(u64::MAX - 1, u64::MAX - 1), u64::MAX);
    }

    /// Proves a host config may name only the limits it changes, and that a
    /// misspelt limit is an error rather than silently ignored.
    #[test]
    fn config_keeps_defaults_and_refuses_unknown_fields() {
        let policy: LeasePolicy = serde_json::from_str(r#"{"duration_ms": 5}"#).unwrap();
        assert_eq!(policy, LeasePolicy { duration_ms: 5, ..LeasePolicy::default() });
        assert!(serde_json::from_str::<LeasePolicy>(r#"{"duration": 5}"#).is_err());
    }
}
