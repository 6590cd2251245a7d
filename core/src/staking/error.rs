//! Why a staking call is refused.

use core::fmt;

use crate::crypto::SequencerPublicKey;
use crate::types::Address;

use super::EvidenceError;

/// Why a staking call (or the block hook) could not apply. Each names one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StakingError {
    /// The state holds no staking registry (it did not start from a genesis).
    NoRegistry,
    StakeBelowMinimum {
        min: u64,
        found: u64,
    },
    CommissionTooHigh {
        max: u16,
        found: u16,
    },
    /// The account is a staker already (one staker per account).
    AlreadyStaker(Address),
    /// Another staker votes with this key (one staker per key).
    ConsensusKeyTaken(SequencerPublicKey),
    NotAStaker(Address),
    /// A zero amount, which would change nothing.
    ZeroAmount,
    /// The staker announced its exit: it can neither grow nor take delegations.
    Exiting(Address),
    /// The staker was slashed: it can neither grow nor take delegations.
    Slashed(Address),
    AlreadyExiting(Address),
    /// `Unstake` without an `UnstakeIntent` first.
    NotExiting(Address),
    /// The exit window is still open: withdrawing is possible from `until_epoch`.
    ExitWindowOpen {
        until_epoch: u64,
        epoch: u64,
    },
    /// Nothing left to withdraw.
    NothingToWithdraw,
    /// The sender has no delegation in this staker's pool.
    NoDelegation {
        staker: Address,
    },
    ExceedsDelegation {
        delegated: u64,
        requested: u64,
    },
    /// The sender has no withdrawal under way from this staker's pool.
    NoUnbonding {
        staker: Address,
    },
    NothingToClaim,
    /// The registry holds the most records of this kind it may.
    RegistryFull {
        what: &'static str,
        max: usize,
    },
    /// A balance or total would pass `u64::MAX`.
    Overflow,
    Evidence(EvidenceError),
}

impl fmt::Display for StakingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRegistry => f.write_str("this state has no staking registry"),
            Self::StakeBelowMinimum { min, found } => {
                write!(f, "stake {found} is below the minimum {min}")
            }
            Self::CommissionTooHigh { max, found } => {
                write!(f, "commission {found} bps is above the maximum {max} bps")
            }
            Self::AlreadyStaker(a) => write!(f, "{a} is a staker already"),
            Self::ConsensusKeyTaken(k) => write!(f, "consensus key {k} belongs to another staker"),
            Self::NotAStaker(a) => write!(f, "{a} is not a staker"),
            Self::ZeroAmount => f.write_str("the amount is zero"),
            Self::Exiting(a) => write!(f, "staker {a} is leaving"),
            Self::Slashed(a) => write!(f, "staker {a} was slashed"),
            Self::AlreadyExiting(a) => write!(f, "staker {a} already announced its exit"),
            Self::NotExiting(a) => write!(f, "staker {a} has not announced an exit"),
            Self::ExitWindowOpen { until_epoch, epoch } => {
                write!(
                    f,
                    "the exit window is open until epoch {until_epoch}; this is epoch {epoch}"
                )
            }
            Self::NothingToWithdraw => f.write_str("nothing to withdraw"),
            Self::NoDelegation { staker } => write!(f, "no delegation to {staker}"),
            Self::ExceedsDelegation { delegated, requested } => {
                write!(f, "cannot undelegate {requested}, {delegated} is delegated")
            }
            Self::NoUnbonding { staker } => write!(f, "no withdrawal under way from {staker}"),
            Self::NothingToClaim => f.write_str("no rewards to claim"),
            Self::RegistryFull { what, max } => {
                write!(f, "the registry holds the most {what} it may ({max})")
            }
            Self::Overflow => f.write_str("a balance would overflow"),
            Self::Evidence(e) => write!(f, "evidence refused: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StakingError {}

impl From<EvidenceError> for StakingError {
    fn from(e: EvidenceError) -> Self {
        Self::Evidence(e)
    }
}
