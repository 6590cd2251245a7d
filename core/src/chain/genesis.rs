//! The genesis: everything that fixes a chain's first block.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::crypto::{SequencerPublicKey, SequencerSignature};
use crate::staking::{REGISTRY, StakingParams, StakingState};
use crate::state::{Account, StateTree};
use crate::types::{Address, Block, ChainId, Hash, Header, tx_root};

use super::ChainError;

/// Everything that fixes a chain's first block. Every node of a chain must hold the
/// same genesis; its hash (the genesis header's) names the chain's history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Genesis {
    pub chain_id: ChainId,
    /// The key that signs blocks while the chain runs in `single` mode.
    pub sequencer: SequencerPublicKey,
    pub timestamp_ms: u64,
    /// Initial balances.
    pub allocations: Vec<Allocation>,
    /// The staking rules; a genesis file without them gets the defaults. Nobody
    /// stakes at genesis: stakers join by transaction.
    #[serde(default)]
    pub staking: StakingParams,
}

/// One initial balance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    pub address: Address,
    pub balance: u64,
}

impl Genesis {
    /// The state the chain starts from: the allocations and the staking registry
    /// (parameters, sequencer, no stakers). An address listed twice is refused
    /// rather than summed: a genesis file is written once and should say what it
    /// means.
    pub fn state(&self) -> Result<StateTree, ChainError> {
        self.staking.check().map_err(ChainError::StakingParams)?;
        let mut state = StateTree::new();
        state.set_registry(StakingState::genesis(self.staking, self.sequencer))?;
        let mut seen = BTreeSet::new();
        for a in &self.allocations {
            if a.address == REGISTRY {
                return Err(ChainError::ReservedAllocation(a.address));
            }
            if !seen.insert(a.address) {
                return Err(ChainError::DuplicateAllocation(a.address));
            }
            let account = Account { balance: a.balance, ..Account::default() };
            state.set(a.address, account)?;
        }
        Ok(state)
    }

    /// The genesis block. It is not signed (its signature is all zeros): it is
    /// derived from this configuration, which every node holds.
    pub fn block(&self) -> Result<(Block, StateTree), ChainError> {
        let state = self.state()?;
        let header = Header {
            chain_id: self.chain_id.clone(),
            height: 0,
            parent_hash: Hash::ZERO,
            state_root: state.root(),
            tx_root: tx_root(&[]),
            timestamp_ms: self.timestamp_ms,
            proposer: self.sequencer,
            validators: Hash::ZERO,
            parent_commit: Hash::ZERO,
        };
        let block = Block {
            header,
            signature: SequencerSignature([0; 64]),
            transactions: Vec::new(),
            parent_commit: None,
        };
        Ok((block, state))
    }
}
