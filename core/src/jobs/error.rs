//! Why the board refused a lease operation or a published job. These answer the
//! board's own host (or the prover it serves), not a peer: none of them is
//! anyone's fault. Proofs from peers are refused with [`super::Reject`].

use core::fmt;

use super::JobId;
use crate::types::{Address, Hash};

/// Why a lease was not granted, renewed or released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseError {
    /// Every published job is leased or proven; ask again later.
    NoOpenJob,
    /// The prover already holds as many leases as the policy allows.
    TooManyLeases { max: usize },
    /// The board has no such job: not published yet, or below its start.
    UnknownJob,
    /// The job already has a valid proof.
    AlreadyProven,
    /// The job is leased, to `holder` (perhaps the caller itself) until
    /// `expires_ms`.
    Leased { holder: Address, expires_ms: u64 },
    /// The caller holds no lease on the job.
    NotHolder,
    /// The lease ran out before it was renewed; lease the job again, if it is
    /// still open.
    Expired,
    /// The lease cannot be extended: it already ends at its hold limit,
    /// `until_ms`. The job must go back to the pool so others may try it.
    HoldLimit { until_ms: u64 },
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoOpenJob => f.write_str("no open job"),
            Self::TooManyLeases { max } => write!(f, "the prover already holds {max} leases"),
            Self::UnknownJob => f.write_str("no such job on the board"),
            Self::AlreadyProven => f.write_str("the job is already proven"),
            Self::Leased { holder, expires_ms } => {
                write!(f, "the job is leased to {holder} until {expires_ms} ms")
            }
            Self::NotHolder => f.write_str("the prover holds no lease on the job"),
            Self::Expired => f.write_str("the lease has expired"),
            Self::HoldLimit { until_ms } => {
                write!(f, "the lease is at its hold limit and ends at {until_ms} ms")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LeaseError {}

/// Why a job was not published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishError {
    /// This height was published already (a host replaying blocks); harmless.
    AlreadyPublished { height: JobId },
    /// Jobs must come in height order without gaps: `expected` is next.
    Gap { expected: JobId, got: JobId },
    /// The job's pre-state root is not the previous job's post-state root, so
    /// the two proofs could never chain. A bug in the host, never a peer's doing.
    BrokenChain { expected: Hash, got: Hash },
    /// The board holds `max` unproven jobs already. Publish again once the
    /// proven height advances; until then provers have plenty to do.
    Full { max: usize },
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyPublished { height } => write!(f, "job {height} is already published"),
            Self::Gap { expected, got } => {
                write!(f, "job {got} published out of order: {expected} is next")
            }
            Self::BrokenChain { expected, got } => write!(
                f,
                "the job's pre-state root {got} is not the previous post-state root {expected}"
            ),
            Self::Full { max } => write!(f, "the board already holds {max} unproven jobs"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PublishError {}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    /// Proves the messages name the numbers a host log needs.
    #[test]
    fn messages_name_the_numbers() {
        assert_eq!(
            LeaseError::TooManyLeases { max: 16 }.to_string(),
            "the prover already holds 16 leases"
        );
        assert_eq!(
            PublishError::Gap { expected: 4, got: 6 }.to_string(),
            "job 6 published out of order: 4 is next"
        );
        assert!(LeaseError::HoldLimit { until_ms: 99 }.to_string().contains("99"));
    }
}
