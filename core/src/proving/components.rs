//! The six components of a block proof, assembled in one fixed order that the
//! prover and the verifier share.
//!
//! Everything that must agree between the two sides lives here: the order of
//! the components (which fixes where each one's columns sit in the committed
//! trees), their sizes, and their claimed LogUp sums.

use alloc::vec::Vec;

use stwo::core::air::Component;
use stwo::core::fields::qm31::SecureField;
use stwo_constraint_framework::TraceLocationAllocator;

use super::merkle::{MerkleComponent, MerkleEval};
use super::poseidon::{PoseidonComponent, PoseidonEval};
use super::range_check::{ByteComponent, ByteEval};
use super::relations::Relations;
use super::split::{SplitComponent, SplitEval};
use super::transaction::{TransactionComponent, TransactionEval};
use super::write::{WriteComponent, WriteEval};

/// One value per component, in the fixed order: transaction, write, split,
/// Merkle, Poseidon, byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerComponent<T> {
    pub transaction: T,
    pub write: T,
    pub split: T,
    pub merkle: T,
    pub poseidon: T,
    pub byte: T,
}

impl<T: Copy> PerComponent<T> {
    /// The six values in the fixed order.
    pub fn to_array(&self) -> [T; 6] {
        [self.transaction, self.write, self.split, self.merkle, self.poseidon, self.byte]
    }

    /// From six values in the fixed order.
    pub fn from_array([transaction, write, split, merkle, poseidon, byte]: [T; 6]) -> Self {
        Self { transaction, write, split, merkle, poseidon, byte }
    }
}

/// log2 of each component's rows.
pub type LogSizes = PerComponent<u32>;

/// Each component's claimed LogUp sum (its share of every relation).
pub type ClaimedSums = PerComponent<SecureField>;

/// The components of one proof, placed in the trace in the fixed order.
pub struct BlockComponents {
    pub transaction: TransactionComponent,
    pub write: WriteComponent,
    pub split: SplitComponent,
    pub merkle: MerkleComponent,
    pub poseidon: PoseidonComponent,
    pub byte: ByteComponent,
}

impl BlockComponents {
    pub fn new(sizes: &LogSizes, relations: &Relations, sums: &ClaimedSums) -> Self {
        let alloc = &mut TraceLocationAllocator::default();
        let relations = || relations.clone();
        Self {
            transaction: TransactionComponent::new(
                alloc,
                TransactionEval { log_size: sizes.transaction, relations: relations() },
                sums.transaction,
            ),
            write: WriteComponent::new(
                alloc,
                WriteEval { log_size: sizes.write, relations: relations() },
                sums.write,
            ),
            split: SplitComponent::new(
                alloc,
                SplitEval { log_size: sizes.split, relations: relations() },
                sums.split,
            ),
            merkle: MerkleComponent::new(
                alloc,
                MerkleEval { log_size: sizes.merkle, relations: relations() },
                sums.merkle,
            ),
            poseidon: PoseidonComponent::new(
                alloc,
                PoseidonEval { log_size: sizes.poseidon, relations: relations() },
                sums.poseidon,
            ),
            byte: ByteComponent::new(
                alloc,
                ByteEval { log_size: sizes.byte, relations: relations() },
                sums.byte,
            ),
        }
    }

    /// The components as the verifier takes them.
    pub fn verifiers(&self) -> Vec<&dyn Component> {
        alloc::vec![
            &self.transaction as &dyn Component,
            &self.write,
            &self.split,
            &self.merkle,
            &self.poseidon,
            &self.byte,
        ]
    }

    /// The components as the prover takes them.
    #[cfg(feature = "prover")]
    pub fn provers(
        &self,
    ) -> Vec<&dyn stwo::prover::ComponentProver<stwo::prover::backend::simd::SimdBackend>> {
        alloc::vec![
            &self.transaction as &dyn stwo::prover::ComponentProver<_>,
            &self.write,
            &self.split,
            &self.merkle,
            &self.poseidon,
            &self.byte,
        ]
    }
}
