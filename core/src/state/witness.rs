//! A witness: Merkle proofs of every account a block touches, against the parent
//! block's state root.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Message, Reader, put_length};
use crate::staking::{REGISTRY, StakingState};
use crate::types::Address;
use crate::types::block::MAX_BLOCK_TXS;

use super::proof::MerkleProof;

/// Most proofs a witness may carry: a transaction touches two accounts (sender
/// and recipient or registry), a block carries at most [`MAX_BLOCK_TXS`]
/// transactions, and the registry is always touched.
pub const MAX_WITNESS_PROOFS: usize = 2 * MAX_BLOCK_TXS + 1;

/// Proofs of a set of accounts against one state root, from which
/// [`super::PartialState`] rebuilds just enough of the tree to re-execute a block
/// and compute the new root.
///
/// Each proof stands alone (no sharing of upper-level siblings between proofs), so
/// a witness can be checked, trimmed or merged proof by proof.
///
/// When it proves the [`REGISTRY`] account it also carries the staking
/// registry's preimage, which [`super::PartialState::from_witness`] checks
/// against the proven commitment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Witness {
    proofs: Vec<(Address, MerkleProof)>,
    registry: Option<StakingState>,
}

impl Witness {
    /// Proofs without a registry preimage.
    pub fn new(proofs: Vec<(Address, MerkleProof)>) -> Self {
        Self { proofs, registry: None }
    }

    /// Proofs and the registry preimage that goes with the proof of [`REGISTRY`].
    pub fn with_registry(
        proofs: Vec<(Address, MerkleProof)>,
        registry: Option<StakingState>,
    ) -> Self {
        Self { proofs, registry }
    }

    /// The staking registry's preimage, if carried.
    pub fn registry(&self) -> Option<&StakingState> {
        self.registry.as_ref()
    }

    /// Keeps the proofs of the addresses `keep` accepts, and the registry
    /// preimage if the registry's proof is kept.
    pub fn retain(&mut self, mut keep: impl FnMut(&Address) -> bool) {
        self.proofs.retain(|(a, _)| keep(a));
        if !self.proofs.iter().any(|(a, _)| *a == REGISTRY) {
            self.registry = None;
        }
    }

    /// The proofs, each with the address it was made for.
    pub fn proofs(&self) -> &[(Address, MerkleProof)] {
        &self.proofs
    }

    /// The addresses covered.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.proofs.iter().map(|(address, _)| address)
    }

    pub fn len(&self) -> usize {
        self.proofs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.proofs.is_empty()
    }
}

/// Fewest bytes one entry can take: an address and the smallest proof.
const MIN_ENTRY_BYTES: usize = 32 + MerkleProof::MIN_ENCODED_LEN;

impl Encode for Witness {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_length(out, self.proofs.len());
        for (address, proof) in &self.proofs {
            address.encode_to(out);
            proof.encode_to(out);
        }
        self.registry.encode_to(out);
    }
}

impl Decode for Witness {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = reader.length("witness proofs", MAX_WITNESS_PROOFS, MIN_ENTRY_BYTES)?;
        let mut proofs = Vec::with_capacity(count);
        for _ in 0..count {
            let address = Address::decode_from(reader)?;
            let proof = MerkleProof::decode_from(reader)?;
            proofs.push((address, proof));
        }
        let registry = Option::<StakingState>::decode_from(reader)?;
        Ok(Self { proofs, registry })
    }
}

impl Message for Witness {
    /// Room for the largest witness the count limit allows, every proof at its
    /// largest, so every witness a valid block can need is encodable. Typical
    /// proofs are a small fraction of the largest: about `log2(accounts)` siblings
    /// of the [`super::KEY_BITS`] a path can have.
    const MAX_BYTES: usize = 1
        + 4
        + MAX_WITNESS_PROOFS * (32 + MerkleProof::MAX_ENCODED_LEN)
        + 1
        + StakingState::MAX_BYTES;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateTree;
    use crate::state::tree::tests::{account, spread};

    /// Proves a witness round-trips as a message and deduplicates addresses.
    #[test]
    fn message_round_trips() {
        let mut tree = StateTree::new();
        let a = spread(1);
        let b = spread(2);
        tree.set(a, account(3)).unwrap();
        let witness = tree.witness(&[a, b, a]);
        assert_eq!(witness.len(), 2);
        let bytes = witness.encode_message();
        assert!(bytes.len() <= Witness::MAX_BYTES);
        assert_eq!(Witness::decode_message(&bytes), Ok(witness));
        assert_eq!(
            Witness::decode_message(&Witness::default().encode_message()),
            Ok(Witness::default())
        );
    }

    /// Proves a forged proof count is refused before anything is allocated.
    #[test]
    fn forged_count_is_refused() {
        let mut bytes = alloc::vec![crate::encoding::WIRE_VERSION];
        put_length(&mut bytes, MAX_WITNESS_PROOFS + 1);
        assert!(matches!(Witness::decode_message(&bytes), Err(DecodeError::TooLong { .. })));
        let mut bytes = alloc::vec![crate::encoding::WIRE_VERSION];
        put_length(&mut bytes, 1000);
        assert!(matches!(Witness::decode_message(&bytes), Err(DecodeError::UnexpectedEnd { .. })));
    }

    /// Proves a witness of the registry account carries the preimage through its
    /// encoding, refuses every truncation, and loses the preimage with the proof.
    #[test]
    fn the_registry_preimage_travels_with_its_proof() {
        let mut tree = StateTree::new();
        tree.set_registry(crate::staking::testing::busy_registry()).unwrap();
        let a = spread(1);
        tree.set(a, account(3)).unwrap();
        let witness = tree.witness(&[a, REGISTRY]);
        assert_eq!(witness.registry(), tree.registry());
        let bytes = witness.encode_message();
        assert_eq!(Witness::decode_message(&bytes).as_ref(), Ok(&witness));
        for cut in 0..bytes.len() {
            assert!(Witness::decode_message(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(tree.witness(&[a]).registry(), None);
        let mut trimmed = witness;
        trimmed.retain(|x| *x == a);
        assert_eq!(trimmed, tree.witness(&[a]));
    }
}
