//! One unit of proving work: the state transition of one finalized block.

use alloc::vec::Vec;

use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::types::Hash;

/// A job is named by the height of the block it proves: there is one job per
/// finalized block, so the height is already unique, ordered, and what the
/// proven height is counted in. An alias rather than a newtype, because every
/// use of it is also a height (ranges, comparisons, `proven_height + 1`).
pub type JobId = u64;

/// "Prove that block `block_hash`, applied to the state with root `pre_root`,
/// gives the state with root `post_root`."
///
/// Everything a prover needs to fetch the block and its witnesses, and
/// everything a verifier needs to build the statement, is named here. The block
/// hash commits to the chain id, so a job cannot be replayed on another chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The block's height; also the job's [`JobId`].
    pub height: JobId,
    /// The hash of the block's header.
    pub block_hash: Hash,
    /// The state root before the block: its parent's post-state root.
    pub pre_root: Hash,
    /// The state root after the block, as its header commits to it.
    pub post_root: Hash,
}

impl Job {
    /// Bytes of [`Encode::encode_to`]'s output: a height and three hashes.
    pub const ENCODED_LEN: usize = 8 + 3 * 32;

    /// The job's identifier.
    pub fn id(&self) -> JobId {
        self.height
    }
}

impl Encode for Job {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.block_hash.encode_to(out);
        self.pre_root.encode_to(out);
        self.post_root.encode_to(out);
    }
}

impl Decode for Job {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64()?,
            block_hash: Hash::decode_from(reader)?,
            pre_root: Hash::decode_from(reader)?,
            post_root: Hash::decode_from(reader)?,
        })
    }
}

impl Message for Job {
    /// Fixed size: the version byte and the fields.
    const MAX_BYTES: usize = 1 + Self::ENCODED_LEN;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Proves any job survives the wire unchanged, in exactly
        /// [`Job::ENCODED_LEN`] bytes plus the version, and re-encodes to the
        /// same bytes (one value, one encoding).
        #[test]
        fn jobs_round_trip(height: u64, block: [u8; 32], pre: [u8; 32], post: [u8; 32]) {
            let (block_hash, pre_root, post_root) = (Hash(block), Hash(pre), Hash(post));
            let job = Job { height, block_hash, pre_root, post_root };
            let bytes = job.encode_message();
            prop_assert_eq!(bytes.len(), Job::MAX_BYTES);
            let back = Job::decode_message(&bytes).unwrap();
            prop_assert_eq!(back, job);
            prop_assert_eq!(back.encode_message(), bytes);
        }
    }

    /// Proves a truncated or padded job is refused rather than misread.
    #[test]
    fn wrong_length_is_refused() {
        let job = Job {
            height: 7,
            block_hash: Hash([1; 32]),
            pre_root: Hash([2; 32]),
            post_root: Hash([3; 32]),
        };
        let mut bytes = job.encode_message();
        assert!(Job::decode_message(&bytes[..bytes.len() - 1]).is_err());
        bytes.push(0);
        assert!(Job::decode_message(&bytes).is_err(), "longer than MAX_BYTES, and trailing");
    }
}
