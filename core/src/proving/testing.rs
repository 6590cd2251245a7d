//! A chain to prove blocks of, shared by the proving tests: a genesis with
//! funded users, single-stage blocks built by the sequencer, and the witness
//! of each block recorded from the state before it.

use alloc::vec::Vec;

use crate::chain::{Allocation, BlockTemplate, Genesis, build_block};
use crate::crypto::{SequencerKey, StarkSecretKey};
use crate::hash::compress;
use crate::staking::StakingParams;
use crate::state::{EMPTY, Key, StateTree, leaf_digest};
use crate::types::{Address, Block, Call, ChainId, Hash, Header, Transaction, TxBody};

use super::witness::{BlockWitness, WriteWitness};

/// A running single-stage chain.
pub(crate) struct TestChain {
    pub chain_id: ChainId,
    pub key: SequencerKey,
    pub users: Vec<StarkSecretKey>,
    pub state: StateTree,
    pub head: Header,
}

impl TestChain {
    /// A chain whose genesis gives each of `balances.len()` users its balance.
    pub fn new(balances: &[u64]) -> Self {
        Self::with_params(balances, StakingParams::default())
    }

    pub fn with_params(balances: &[u64], staking: StakingParams) -> Self {
        let key = SequencerKey::from_seed(&[7; 32]);
        let users: Vec<StarkSecretKey> = (0..balances.len())
            .map(|i| StarkSecretKey::from_entropy(&[i as u8 + 40; 32]))
            .collect();
        let genesis = Genesis {
            chain_id: ChainId::new("starling-proving").unwrap(),
            sequencer: key.public_key(),
            timestamp_ms: 1_000,
            allocations: users
                .iter()
                .zip(balances)
                .map(|(u, balance)| Allocation {
                    address: u.public_key().address(),
                    balance: *balance,
                })
                .collect(),
            staking,
        };
        let (block, state) = genesis.block().unwrap();
        Self { chain_id: genesis.chain_id, key, users, state, head: block.header }
    }

    /// User `i`'s address.
    pub fn address(&self, i: usize) -> Address {
        self.users[i].public_key().address()
    }

    /// A transaction from user `from`.
    pub fn tx(&self, from: usize, nonce: u64, fee: u64, call: Call) -> Transaction {
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            sender_key: self.users[from].public_key(),
            nonce,
            fee,
            call,
        };
        body.sign(&self.users[from])
    }

    /// A transfer from user `from` to `to`.
    pub fn pay(&self, from: usize, nonce: u64, fee: u64, to: Address, amount: u64) -> Transaction {
        self.tx(from, nonce, fee, Call::Transfer { to, amount })
    }

    /// Builds the next block of `txs`, applies it, and returns it with the
    /// witness recorded from the state before it.
    pub fn next(&mut self, txs: Vec<Transaction>) -> (Block, BlockWitness) {
        let before = self.state.clone();
        let template = BlockTemplate {
            parent: &self.head,
            timestamp_ms: self.head.timestamp_ms + 1_000,
            key: &self.key,
            parent_commit: None,
        };
        let built = build_block(&mut self.state, template, txs).unwrap();
        assert!(built.rejected.is_empty(), "a test transaction failed: {:?}", built.rejected);
        let witness = BlockWitness::from_state(&built.block, &self.head, &before).unwrap();
        self.head = built.block.header.clone();
        (built.block, witness)
    }
}

/// The roots before and after `write`, computed from its path alone: the
/// reference semantics every component of the AIR must agree with.
///
/// The node at the path's depth `d` is the written address's old leaf, the
/// empty digest, or another address's leaf; in the last case the new subtree
/// splits it: both leaves become siblings where their keys first differ (`c`),
/// above them empty siblings up to depth `d`.
pub(crate) fn roots_of(write: &WriteWitness) -> (Hash, Hash) {
    let key = Key::of(&write.address);
    let depth = write.path.depth();
    let new_leaf = leaf_digest(&write.address, &write.new);
    let (mut old, mut new) = match write.path.occupant() {
        Some((address, account)) if *address == write.address => {
            (leaf_digest(address, account), new_leaf)
        }
        None => (EMPTY, new_leaf),
        Some((address, account)) => {
            let occupant = leaf_digest(address, account);
            let c = key.common_prefix(&Key::of(address));
            let mut node = parent(key.bit(c), &new_leaf, &occupant);
            for level in (depth..c).rev() {
                node = parent(key.bit(level), &node, &EMPTY);
            }
            (occupant, node)
        }
    };
    let siblings: Vec<Hash> = write.path.siblings().map(|(_, digest)| digest).collect();
    for level in (0..depth).rev() {
        old = parent(key.bit(level), &old, &siblings[level]);
        new = parent(key.bit(level), &new, &siblings[level]);
    }
    (old, new)
}

/// The parent of `on_path` and its sibling, `on_path` on the right when `bit`.
fn parent(bit: bool, on_path: &Hash, sibling: &Hash) -> Hash {
    if bit { compress(sibling, on_path) } else { compress(on_path, sibling) }
}

/// Columns as plain vectors, to change cells in tests.
#[cfg(feature = "prover")]
pub(crate) fn cpu(
    columns: &[super::trace::Evaluation],
) -> Vec<Vec<stwo::core::fields::m31::BaseField>> {
    use stwo::prover::backend::Column;
    columns.iter().map(|c| c.values.to_cpu()).collect()
}

/// The degree bound of each of `eval`'s constraints, LogUp's included
/// (the framework's own degree tooling).
#[cfg(feature = "prover")]
pub(crate) fn constraint_degrees<E: stwo_constraint_framework::FrameworkEval>(
    eval: &E,
) -> Vec<usize> {
    eval.evaluate(stwo_constraint_framework::expr::ExprEvaluator::new()).constraint_degree_bounds()
}

/// Runs stwo's `assert_constraints_on_trace` for `eval` on `main` and its
/// `interaction` columns, and returns the panic message of the first
/// constraint that fails, if one does.
#[cfg(feature = "prover")]
pub(crate) fn constraint_failure<E: stwo_constraint_framework::FrameworkEval + Sync>(
    eval: &E,
    main: &[Vec<stwo::core::fields::m31::BaseField>],
    interaction: &[Vec<stwo::core::fields::m31::BaseField>],
    claimed_sum: stwo::core::fields::qm31::SecureField,
) -> Option<alloc::string::String> {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let trees = stwo::core::pcs::TreeVec::new(alloc::vec![
        Vec::new(),
        main.iter().collect(),
        interaction.iter().collect(),
    ]);
    catch_unwind(AssertUnwindSafe(|| {
        stwo_constraint_framework::assert_constraints_on_trace(
            &trees,
            eval.log_size(),
            |row| {
                eval.evaluate(row);
            },
            claimed_sum,
        )
    }))
    .err()
    .map(|panic| panic.downcast_ref::<alloc::string::String>().cloned().unwrap_or_default())
}
