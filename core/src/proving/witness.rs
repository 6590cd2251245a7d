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
use crate::state::{
    Account, KEY_BITS, MerkleProof, PartialState, StateError, StateTree, StateView, Witness,
};
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
        let statement = BlockStatement::new(parent.state_root, block, block_reward)?;
        let writes = align(&statement, recorder.writes, &recorder.state)?;
        check_provable(&writes)?;
        Ok(Self { statement, writes })
    }

    /// As [`Self::record`], taking the witness from the parent's full state.
    pub fn from_state(
        block: &Block,
        parent: &Header,
        state: &StateTree,
    ) -> Result<Self, WitnessError> {
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
                None => {
                    return Err(WitnessError::Unprovable(
                        "execution wrote other accounts than the AIR models",
                    ));
                }
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

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::proving::testing::{TestChain, roots_of};
    use crate::types::Call;

    /// Checks the writes chain the statement's roots, each from the root the
    /// previous one left.
    fn assert_chains(witness: &BlockWitness) {
        let mut root = witness.statement.pre_root;
        for (i, write) in witness.writes.iter().enumerate() {
            let (before, after) = roots_of(write);
            assert_eq!(before, root, "write {i} does not start from the previous root");
            root = after;
        }
        assert_eq!(root, witness.statement.post_root);
        assert_eq!(witness.writes.len(), witness.statement.writes as usize);
    }

    /// Proves a block of transfers (to existing and new accounts, to self, of
    /// zero) records one write per account the AIR models, ending with the
    /// registry, and the writes chain the pre-state root to the post-state root.
    #[test]
    fn transfers_record_chained_writes() {
        let mut chain = TestChain::new(&[1_000, 1_000, 1_000]);
        let fresh =
            crate::types::Address(crate::hash::hash_bytes(crate::hash::Domain::Address, b"new").0);
        let txs = vec![
            chain.pay(0, 0, 1, chain.address(1), 10),
            chain.pay(1, 0, 2, fresh, 5),
            chain.pay(2, 0, 1, chain.address(2), 7),
            chain.pay(0, 1, 1, chain.address(2), 0),
        ];
        let (_, witness) = chain.next(txs);
        let kinds: Vec<TxKind> = witness.statement.entries.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                TxKind::Transfer,
                TxKind::Transfer,
                TxKind::TransferToSelf,
                TxKind::TransferZero,
                TxKind::BlockEnd
            ]
        );
        assert_eq!(witness.statement.writes, 2 + 2 + 1 + 1 + 1);
        assert_eq!(witness.writes.last().unwrap().address, REGISTRY);
        assert_chains(&witness);
    }

    /// Proves an empty block still has its block-end write (the registry,
    /// unchanged in the single stage) and chains.
    #[test]
    fn empty_block_writes_the_registry_once() {
        let mut chain = TestChain::new(&[1_000, 1_000]);
        let (_, witness) = chain.next(vec![]);
        assert_eq!(witness.writes.len(), 1);
        assert_eq!(witness.writes[0].old, witness.writes[0].new);
        assert_chains(&witness);
    }

    /// Proves staking calls write the sender and then the registry, and chain.
    #[test]
    fn staking_calls_write_sender_then_registry() {
        let mut chain = TestChain::new(&[50_000, 1_000]);
        let key = crate::crypto::SequencerKey::from_seed(&[9; 32]).public_key();
        let stake = Call::Stake { consensus_key: key, amount: 2_000, commission_bps: 100 };
        let (_, witness) = chain.next(vec![chain.tx(0, 0, 3, stake)]);
        assert_eq!(witness.statement.entries[0].kind, TxKind::StakeDeposit);
        assert_eq!(witness.writes[1].address, REGISTRY);
        assert_eq!(witness.writes[1].new.balance, witness.writes[1].old.balance + 2_000);
        assert_chains(&witness);
    }

    /// Proves many fresh recipients exercise every kind of write: updates,
    /// inserts into empty subtrees and inserts that split another leaf.
    #[test]
    fn fresh_recipients_insert_and_split() {
        let mut chain = TestChain::new(&[1_000_000]);
        let txs: Vec<_> = (0..40u64)
            .map(|i| {
                let to = crate::types::Address(
                    crate::hash::hash_bytes(crate::hash::Domain::Address, &i.to_le_bytes()).0,
                );
                chain.pay(0, i, 1, to, 1)
            })
            .collect();
        let (_, witness) = chain.next(txs);
        let (mut empty, mut split) = (0, 0);
        for write in &witness.writes {
            match write.path.occupant() {
                None => empty += 1,
                Some((a, _)) if *a != write.address => split += 1,
                _ => {}
            }
        }
        assert!(empty > 0 && split > 0, "empty {empty}, split {split}");
        assert_chains(&witness);
    }

    /// Proves a block that does not apply is refused before anything is recorded.
    #[test]
    fn invalid_block_is_refused() {
        let mut chain = TestChain::new(&[1_000, 1_000]);
        let parent = chain.head.clone();
        let before = chain.state.clone();
        let (mut block, _) = chain.next(vec![chain.pay(0, 0, 1, chain.address(1), 10)]);
        block.transactions.clear();
        assert!(matches!(
            BlockWitness::from_state(&block, &parent, &before),
            Err(WitnessError::Chain(_))
        ));
    }
}
