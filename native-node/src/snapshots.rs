//! The state snapshot this node serves, so that a new node can start from a
//! recent state instead of replaying every block.
//!
//! The state is frozen (copied) every `interval` blocks and when the node starts.
//! Only the newest copy is kept; a peer in the middle of downloading an older one
//! is told it is gone and starts again from the new one.

use std::sync::{Arc, Mutex};

use starling_core::state::StateSnapshot;

use crate::chain_state::ChainState;

/// A frozen state and the height of the block it follows.
pub struct ServedSnapshot {
    pub height: u64,
    pub state: StateSnapshot,
}

pub struct Snapshots {
    interval: u64,
    current: Mutex<Option<Arc<ServedSnapshot>>>,
}

impl Snapshots {
    /// Freezes the state every `interval` blocks (at least 1).
    pub fn new(interval: u64) -> Self {
        Self { interval: interval.max(1), current: Mutex::new(None) }
    }

    /// Called with the chain lock held after each committed block: freezes the
    /// state if its height is due, or if none is held yet. Costs a copy of the
    /// state (O(accounts)), once per interval.
    pub fn after_block(&self, chain: &ChainState) {
        self.after_blocks(chain, chain.head.height);
    }

    /// Called after committing the blocks from `first` to the head at once:
    /// freezes the head's state if an interval ended in that range. (The state at
    /// the interval's exact height is gone by then; the head's serves as well.)
    pub fn after_blocks(&self, chain: &ChainState, first: u64) {
        let height = chain.head.height;
        let mut current = self.current.lock().expect("snapshot lock poisoned");
        let due = first.div_ceil(self.interval) <= height / self.interval;
        if current.is_none() || due {
            let state = StateSnapshot::new(chain.state.clone());
            tracing::debug!(height, accounts = state.len(), "froze a state snapshot");
            *current = Some(Arc::new(ServedSnapshot { height, state }));
        }
    }

    pub fn current(&self) -> Option<Arc<ServedSnapshot>> {
        self.current.lock().expect("snapshot lock poisoned").clone()
    }
}
