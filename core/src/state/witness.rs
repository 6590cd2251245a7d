//! A witness: Merkle proofs of every account a block touches, against the parent
//! block's state root.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Message, Reader, put_length};
use crate::types::Address;
use crate::types::block::MAX_BLOCK_TXS;

use super::proof::MerkleProof;

/// Most proofs a witness may carry: a transfer touches two accounts (sender and
/// recipient), and a block carries at most [`MAX_BLOCK_TXS`] transactions.
pub const MAX_WITNESS_PROOFS: usize = 2 * MAX_BLOCK_TXS;

/// Proofs of a set of accounts against one state root, from which
/// [`super::PartialState`] rebuilds just enough of the tree to re-execute a block
/// and compute the new root.
///
/// Each proof stands alone (no sharing of upper-level siblings between proofs), so
/// a witness can be checked, trimmed or merged proof by proof.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Witness {
    proofs: Vec<(Address, MerkleProof)>,
}

impl Witness {
    pub fn new(proofs: Vec<(Address, MerkleProof)>) -> Self {
        Self { proofs }
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
        Ok(Self { proofs })
    }
}

impl Message for Witness {
    /// Room for the largest witness the count limit allows, every proof at its
    /// largest, so every witness a valid block can need is encodable. Typical
    /// proofs are a small fraction of the largest: about `log2(accounts)` siblings
    /// of the [`super::KEY_BITS`] a path can have.
    const MAX_BYTES: usize = 1 + 4 + MAX_WITNESS_PROOFS * (32 + MerkleProof::MAX_ENCODED_LEN);
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
}
