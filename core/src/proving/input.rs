//! What a prover is handed for one job: the block, its parent's header and the
//! witness of the accounts it touches.
//!
//! Nodes already keep all three for every block (browsers verify blocks from
//! the same parts), so a job's input is assembled from storage, sent to any
//! prover — a native worker, a browser tab — as one length-limited message, and
//! turned into the prover's [`BlockWitness`] by re-executing the block
//! ([`ProvingInput::record`]). Nothing in it is trusted: a wrong block or a
//! witness that does not cover it is refused there, and a proof built from a
//! lying input proves a statement no verifier asks about.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::jobs::Job;
use crate::state::Witness;
use crate::types::{Block, Header};

use super::witness::{BlockWitness, WitnessError};

/// The inputs of one block's proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvingInput {
    /// The header of the block before: its state root is the proof's pre-root.
    pub parent: Header,
    /// The block to prove.
    pub block: Block,
    /// Merkle proofs of every account the block touches, against the parent's
    /// state root (and the staking registry, whose parameters fix the reward).
    pub witness: Witness,
}

impl ProvingInput {
    /// The job this input is for.
    pub fn job(&self) -> Job {
        Job {
            height: self.block.header.height,
            block_hash: self.block.hash(),
            pre_root: self.parent.state_root,
            post_root: self.block.header.state_root,
        }
    }

    /// Re-executes the block on the witnessed accounts and records every write
    /// the proof must show; refuses an input whose parts do not fit together.
    pub fn record(&self) -> Result<BlockWitness, WitnessError> {
        BlockWitness::record(&self.block, &self.parent, &self.witness)
    }
}

impl Encode for ProvingInput {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.parent.encode_to(out);
        self.block.encode_to(out);
        self.witness.encode_to(out);
    }
}

impl Decode for ProvingInput {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            parent: Header::decode_from(reader)?,
            block: Block::decode_from(reader)?,
            witness: Witness::decode_from(reader)?,
        })
    }
}

impl Message for ProvingInput {
    /// The largest block and the largest witness, with a header's worth of room.
    const MAX_BYTES: usize = 4096 + Block::MAX_BYTES + Witness::MAX_BYTES;
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::chain::touched_accounts;
    use crate::proving::testing::TestChain;

    fn input() -> ProvingInput {
        let mut chain = TestChain::new(&[1_000, 50]);
        let txs =
            vec![chain.pay(0, 0, 1, chain.address(1), 7), chain.pay(1, 0, 2, chain.address(0), 3)];
        let (before, parent) = (chain.state.clone(), chain.head.clone());
        let (block, _) = chain.next(txs);
        let witness = before.witness(&touched_accounts(&block.transactions));
        ProvingInput { parent, block, witness }
    }

    /// The wire form round-trips and its job names the block and both roots.
    #[test]
    fn round_trip_and_job() {
        let input = input();
        let bytes = input.encode_message();
        let back = ProvingInput::decode_message(&bytes).unwrap();
        assert_eq!(back, input);
        let job = back.job();
        assert_eq!(job.height, input.block.header.height);
        assert_eq!(job.block_hash, input.block.hash());
        assert_eq!(job.pre_root, input.parent.state_root);
        assert_eq!(job.post_root, input.block.header.state_root);
        assert_eq!(back.record().unwrap().statement.post_root, job.post_root);
    }

    /// Truncated or padded bytes are refused, never half-read.
    #[test]
    fn malformed_bytes_are_refused() {
        let bytes = input().encode_message();
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(ProvingInput::decode_message(&bytes[..cut]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(ProvingInput::decode_message(&long).is_err());
    }

    /// An input whose parent is not the block's parent does not record.
    #[test]
    fn mismatched_parent_is_refused() {
        let mut input = input();
        input.parent.state_root = input.block.header.state_root;
        assert!(input.record().is_err());
    }
}
