//! Why a state read, write or proof was refused.

use core::fmt;

use crate::types::Address;

/// Why a state operation failed. Every variant names the address involved, so a
/// caller can report which account of a block was the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// A partial state was asked about an address its witness does not cover.
    MissingWitness(Address),
    /// A partial state cannot remove `address`'s account: the leaf's sibling is
    /// known only by its digest, and whether it holds one account (whose leaf must
    /// then be lifted into the parent's place) or more cannot be told from that.
    /// Execution never removes accounts (nonces only grow and recipients only
    /// gain), so blocks never need this; the full [`super::StateTree`] can.
    UnsupportedRemoval(Address),
    /// A Merkle proof for `address` does not prove anything about the given root.
    InvalidProof { address: Address, reason: &'static str },
    /// Two proofs of one witness disagree about a node or a leaf.
    InconsistentWitness(Address),
    /// The address has a 4-byte limb ≥ 2^31 - 1, so it is not a Poseidon2 digest
    /// and its field elements would also be those of another address. No account
    /// can be stored under it.
    NonCanonicalAddress(Address),
    /// The account's staking commitment has a limb ≥ 2^31 - 1 (it is not a digest).
    NonCanonicalStaking(Address),
    /// The staking registry's preimage does not match the registry account's
    /// commitment: it is missing, extra, or another registry.
    RegistryMismatch(&'static str),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingWitness(address) => {
                write!(f, "no witness for account {address}")
            }
            Self::UnsupportedRemoval(address) => write!(
                f,
                "cannot remove account {address} from a partial state: its sibling is known only by digest"
            ),
            Self::InvalidProof { address, reason } => {
                write!(f, "invalid state proof for {address}: {reason}")
            }
            Self::InconsistentWitness(address) => {
                write!(f, "the witness for {address} contradicts another proof of the same witness")
            }
            Self::NonCanonicalAddress(address) => {
                write!(f, "address {address} is not a canonical digest (a limb is ≥ 2^31 - 1)")
            }
            Self::NonCanonicalStaking(address) => write!(
                f,
                "staking commitment of {address} is not a canonical digest (a limb is ≥ 2^31 - 1)"
            ),
            Self::RegistryMismatch(reason) => write!(f, "staking registry: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StateError {}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    /// Proves messages name the addresses involved.
    #[test]
    fn display_names_addresses() {
        let a = Address([1; 32]);
        let text = StateError::UnsupportedRemoval(a).to_string();
        assert!(text.contains(&a.to_string()), "{text}");
        let text = StateError::MissingWitness(a).to_string();
        assert_eq!(text, alloc::format!("no witness for account {a}"));
    }
}
