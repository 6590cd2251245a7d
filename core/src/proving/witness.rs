//! The private input of a block proof: every account write the block makes, in
//! order, each with the Merkle path it rewrites.
//!
//! A prover needs no state of its own: the block, its parent's header and the
//! [`Witness`] of the accounts it touches (what nodes already serve to browsers)
//! are enough. [`BlockWitness::record`] re-executes the block on the partial
//! state the witness proves, under the chain's own rules (so an invalid block
//! is refused before any proving starts), and records each write with the proof
//! of its address just before it.

use alloc::vec::Vec;
use core::fmt;

use crate::chain::{ChainError, touched_accounts, validate_block};
use crate::staking::{REGISTRY, StakingState};
use crate::state::{Account, KEY_BITS, MerkleProof, PartialState, StateError, StateTree, StateView, Witness};
use crate::types::{Address, Block, Hash, Header};

use super::statement::{BlockStatement, StatementError, TxKind};

/// One account write: `address` went from `old` to `new`, and `path` proves
/// `old` (or its absence) against the root all earlier writes left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteWitness {
    pub address: Address,
    pub old: Account,
    pub new: Account,
    pub path: MerkleProof,
}

/// The statement of a block and every write that proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockWitness {
    pub statement: BlockStatement,
    /// Exactly `statement.writes` writes, in execution order.
    pub writes: Vec<WriteWitness>,
}

/// Deepest leaf a proof handles: a split below it would put a leaf at depth
/// [`KEY_BITS`], past the last key limb the AIR decomposes. Reaching it takes
/// two funded addresses sharing 246 key bits (about 2^246 work).
pub const MAX_PROVABLE_DEPTH: usize = KEY_BITS - 2;

/// Why a block's witness could not be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WitnessError {
    /// The block is not valid on the witnessed state.
    Chain(ChainError),
    State(StateError),
    Statement(StatementError),
    /// The block is valid, but outside what the AIR can prove.
    Unprovable(&'static str),
}

impl fmt::Display for WitnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chain(e) => write!(f, "the block does not apply: {e}"),
            Self::State(e) => write!(f, "the witness does not cover the block: {e}"),
            Self::Statement(e) => e.fmt(f),
            Self::Unprovable(why) => write!(f, "the block cannot be proven: {why}"),
        }
    }
}

impl From<ChainError> for WitnessError {
    fn from(e: ChainError) -> Self {
        Self::Chain(e)
    }
}

impl From<StateError> for WitnessError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

impl From<StatementError> for WitnessError {
    fn from(e: StatementError) -> Self {
        Self::Statement(e)
    }
}

impl BlockWitness {
    /// Re-executes `block` on the accounts `witness` proves against `parent`'s
    /// state root, and records its writes.
    pub fn record(block: &Block, parent: &Header, witness: &Witness) -> Result<Self, WitnessError> {
        let mut recorder = Recorder {
            state: PartialState::from_witness(parent.state_root, witness)?,
            writes: Vec::new(),
        };
        validate_block(block, parent, &mut recorder)?;
        let block_reward = recorder
            .state
            .registry()?
            .map(|r| r.params().block_reward)
            .ok_or(WitnessError::Unprovable("the state has no staking registry"))?;
        let statement = BlockStatement::new(
            parent.state_root,
            block.header.state_root,
            &block.transactions,
            block_reward,
        )?;
        let writes = align(&statement, recorder.writes, &recorder.state)?;
        check_provable(&writes)?;
        Ok(Self { statement, writes })
    }

    /// As [`Self::record`], taking the witness from the parent's full state.
    pub fn from_state(block: &Block, parent: &Header, state: &StateTree) -> Result<Self, WitnessError> {
        let witness = state.witness(&touched_accounts(&block.transactions));
        Self::record(block, parent, &witness)
    }
}

/// Matches the writes execution made to the ones the AIR expects per entry:
/// a zero transfer's recipient write (which changes nothing) is dropped, and a
/// block end that left the registry alone gets an explicit unchanged write.
fn align(
    statement: &BlockStatement,
    recorded: Vec<WriteWitness>,
    end_state: &PartialState,
) -> Result<Vec<WriteWitness>, WitnessError> {
    let mut recorded = recorded.into_iter().peekable();
    let mut writes = Vec::with_capacity(statement.writes as usize);
    for entry in &statement.entries {
        let expected: &[Address] = match entry.kind {
            TxKind::BlockEnd => &[REGISTRY],
            TxKind::TransferToSelf => &[entry.sender],
            _ => &[entry.sender, entry.to],
        };
        for (i, address) in expected.iter().enumerate() {
            let write = match recorded.next_if(|w| w.address == *address) {
                Some(write) => write,
                None if entry.kind == TxKind::BlockEnd => unchanged(end_state, REGISTRY)?,
                None => return Err(WitnessError::Unprovable("execution wrote other accounts than the AIR models")),
            };
            let dropped = entry.kind == TxKind::TransferZero && i == 1;
            if dropped && write.old != write.new {
                return Err(WitnessError::Unprovable("a zero transfer changed its recipient"));
            }
            if !dropped {
                writes.push(write);
            }
        }
    }
    if recorded.next().is_some() || writes.len() != statement.writes as usize {
        return Err(WitnessError::Unprovable("execution wrote other accounts than the AIR models"));
    }
    Ok(writes)
}

/// A write of `address`'s account over itself, at the end of the block.
fn unchanged(state: &PartialState, address: Address) -> Result<WriteWitness, WitnessError> {
    let account = state.get(&address)?;
    Ok(WriteWitness { address, old: account, new: account, path: state.prove(&address)? })
}

/// Refuses what the AIR does not model: removing an account, a path through
/// the root alone (a state of at most one account), and paths too deep.
fn check_provable(writes: &[WriteWitness]) -> Result<(), WitnessError> {
    for write in writes {
        if write.new.is_empty() {
            return Err(WitnessError::Unprovable("a write removes an account"));
        }
        if write.path.depth() == 0 {
            return Err(WitnessError::Unprovable("the state holds at most one account"));
        }
        if write.path.depth() > MAX_PROVABLE_DEPTH {
            return Err(WitnessError::Unprovable("an account path is too deep"));
        }
    }
    Ok(())
}

/// A partial state that records every account write with the proof before it.
struct Recorder {
    state: PartialState,
    writes: Vec<WriteWitness>,
}

impl Recorder {
    fn record(&mut self, address: Address) -> Result<WriteWitness, StateError> {
        let old = self.state.get(&address)?;
        Ok(WriteWitness { address, old, new: old, path: self.state.prove(&address)? })
    }
}

impl StateView for Recorder {
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        self.state.get(address)
    }

    fn set_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        let write = self.record(address)?;
        self.state.set(address, account)?;
        self.writes.push(WriteWitness { new: account, ..write });
        Ok(())
    }

    fn state_root(&mut self) -> Hash {
        self.state.root()
    }

    fn read_registry(&self) -> Result<Option<&StakingState>, StateError> {
        self.state.registry()
    }

    fn write_registry(&mut self, registry: StakingState, escrow: u64) -> Result<(), StateError> {
        let write = self.record(REGISTRY)?;
        self.state.write_registry(registry, escrow)?;
        let new = self.state.get(&REGISTRY)?;
        self.writes.push(WriteWitness { new, ..write });
        Ok(())
    }
}
