//! Jobs and boards for the tests.

use super::{Job, JobBoard, JobId};
use crate::types::{Address, Hash};

/// A distinct, recognisable 32-byte value for `height` under `tag`.
fn bytes(tag: u8, height: JobId) -> [u8; 32] {
    let mut out = [tag; 32];
    out[..8].copy_from_slice(&height.to_le_bytes());
    out
}

/// The job at `height` of one made-up chain: each job's pre-state root is the
/// previous job's post-state root, as [`JobBoard::publish`] requires.
pub(crate) fn job(height: JobId) -> Job {
    Job {
        height,
        block_hash: Hash(bytes(0xb0, height)),
        pre_root: Hash(bytes(0x50, height)),
        post_root: Hash(bytes(0x50, height + 1)),
    }
}

/// Publishes the next `count` jobs of that chain.
pub(crate) fn chain(board: &mut JobBoard, count: u64) {
    let from = board.next_height();
    for height in from..from + count {
        board.publish(job(height)).unwrap();
    }
}

/// A prover's address.
pub(crate) fn prover(seed: u8) -> Address {
    Address([seed; 32])
}
