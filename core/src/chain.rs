//! The single-sequencer chain: genesis, building a block, and checking one.
//!
//! In the first stage of the roadmap one sequencer key signs every block. Everyone
//! else trusts nothing but that key and the genesis: a block is accepted only if it
//! extends the parent, carries the sequencer's signature over its header, commits to
//! exactly its transactions, and re-executing those transactions on the parent's
//! state gives the state root in the header.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::fmt;

use crate::crypto::{SequencerKey, SequencerPublicKey, SequencerSignature};
use crate::exec::{BlockExecError, Receipt, TxError, apply_transaction, apply_transactions};
use crate::state::{Account, PartialState, StateError, StateTree, StateView, Witness};
use crate::types::{Address, Block, BlockError, Call, ChainId, Hash, Header, Transaction, tx_root};

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
}

/// One initial balance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    pub address: Address,
    pub balance: u64,
}

/// Why a block was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// Signature, proposer, chain or transaction root is wrong.
    Block(BlockError),
    /// The block does not extend the given parent.
    NotChild { parent_height: u64, height: u64, expected_parent: Hash, parent: Hash },
    /// The block's time is before its parent's.
    TimeWentBack { parent_ms: u64, block_ms: u64 },
    /// A transaction failed to execute.
    Exec(BlockExecError),
    /// Execution succeeded but gave a different state root than the header's.
    StateRootMismatch { header: Hash, computed: Hash },
    /// The witness did not prove the parent state, or missed an account.
    State(StateError),
    /// The parent header given to check against belongs to another chain.
    ParentOnOtherChain { expected: ChainId, found: ChainId },
    /// A genesis lists the same address twice.
    DuplicateAllocation(Address),
    /// The witness does not prove exactly the accounts the block touches (sorted,
    /// each once): extra proofs would only cost the verifier work.
    WitnessMismatch,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Block(e) => write!(f, "{e}"),
            Self::NotChild { parent_height, height, expected_parent, parent } => write!(
                f,
                "block {height} with parent {parent} does not extend block {parent_height} ({expected_parent})"
            ),
            Self::TimeWentBack { parent_ms, block_ms } => {
                write!(f, "block time {block_ms} ms is before its parent's {parent_ms} ms")
            }
            Self::Exec(e) => write!(f, "{e}"),
            Self::StateRootMismatch { header, computed } => {
                write!(f, "state root {header} in header, {computed} after re-execution")
            }
            Self::State(e) => write!(f, "state witness: {e}"),
            Self::ParentOnOtherChain { expected, found } => {
                write!(f, "the parent header is on chain {found}, not {expected}")
            }
            Self::DuplicateAllocation(a) => write!(f, "genesis allocates to {a} twice"),
            Self::WitnessMismatch => {
                f.write_str("the witness does not prove exactly the accounts the block touches")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ChainError {}

impl From<StateError> for ChainError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

impl Genesis {
    /// The state the chain starts from. An address listed twice is refused rather
    /// than summed: a genesis file is written once and should say what it means.
    pub fn state(&self) -> Result<StateTree, ChainError> {
        let mut state = StateTree::new();
        let mut seen = BTreeSet::new();
        for a in &self.allocations {
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
        };
        let block =
            Block { header, signature: SequencerSignature([0; 64]), transactions: Vec::new() };
        Ok((block, state))
    }
}

/// Every account a list of transactions reads or writes.
pub fn touched_accounts(transactions: &[Transaction]) -> Vec<Address> {
    let mut out: Vec<Address> = Vec::with_capacity(transactions.len() * 2);
    for tx in transactions {
        out.push(tx.sender());
        match &tx.body.call {
            Call::Transfer { to, .. } => out.push(*to),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A block the sequencer has just built, with what a stateless checker needs.
pub struct BuiltBlock {
    pub block: Block,
    pub receipts: Vec<Receipt>,
    /// Proofs of every touched account against the parent's state root.
    pub witness: Witness,
    /// Candidates that failed to execute and were left out, with the reason.
    pub rejected: Vec<(Hash, TxError)>,
}

/// Inputs to [`build_block`] that are not state.
pub struct BlockTemplate<'a> {
    pub parent: &'a Header,
    pub timestamp_ms: u64,
    pub key: &'a SequencerKey,
}

/// Builds and signs the next block from `candidates` (already checked statelessly,
/// e.g. by the mempool), applying them to `state` in order. A candidate that fails
/// for any reason (say, its sender's balance was spent by an earlier one) is left
/// out and reported, and leaves the state as it was; the rest still go in. So no
/// transaction, however crafted, can stop the sequencer from building a block.
pub fn build_block(
    state: &mut StateTree,
    template: BlockTemplate<'_>,
    candidates: Vec<Transaction>,
) -> BuiltBlock {
    // Proofs are taken before any change (they prove the parent state), for every
    // candidate's accounts; those of left-out candidates are dropped below.
    let proofs = state.witness(&touched_accounts(&candidates));
    let mut receipts = Vec::with_capacity(candidates.len());
    let mut included = Vec::with_capacity(candidates.len());
    let mut rejected = Vec::new();
    for tx in candidates {
        match apply_transaction(state, &tx) {
            Ok(receipt) => {
                receipts.push(receipt);
                included.push(tx);
            }
            Err(e) => rejected.push((tx.hash(), e)),
        }
    }
    let touched = touched_accounts(&included);
    let witness = Witness::new(
        proofs.proofs().iter().filter(|(a, _)| touched.binary_search(a).is_ok()).cloned().collect(),
    );
    let parent = template.parent;
    let header = Header {
        chain_id: parent.chain_id.clone(),
        height: parent.height.checked_add(1).expect("a chain does not reach 2^64 blocks"),
        parent_hash: parent.hash(),
        state_root: state.root(),
        tx_root: tx_root(&included),
        timestamp_ms: template.timestamp_ms.max(parent.timestamp_ms),
        proposer: template.key.public_key(),
    };
    BuiltBlock { block: header.seal(template.key, included), receipts, witness, rejected }
}

/// Checks `block` against its `parent` header and applies it to `state` (the
/// parent's state). On error `state` may be partly updated: callers apply to a copy
/// or discard it (a [`PartialState`] from a witness is cheap to rebuild).
pub fn validate_block<S: StateView>(
    block: &Block,
    parent: &Header,
    state: &mut S,
    sequencer: &SequencerPublicKey,
) -> Result<Vec<Receipt>, ChainError> {
    let header = &block.header;
    block.verify_seal(&parent.chain_id, sequencer).map_err(ChainError::Block)?;
    let parent_hash = parent.hash();
    if parent.height.checked_add(1) != Some(header.height) || header.parent_hash != parent_hash {
        return Err(ChainError::NotChild {
            parent_height: parent.height,
            height: header.height,
            expected_parent: parent_hash,
            parent: header.parent_hash,
        });
    }
    if header.timestamp_ms < parent.timestamp_ms {
        return Err(ChainError::TimeWentBack {
            parent_ms: parent.timestamp_ms,
            block_ms: header.timestamp_ms,
        });
    }
    let receipts = apply_transactions(state, &parent.chain_id, &block.transactions)
        .map_err(ChainError::Exec)?;
    let computed = state.state_root();
    if computed != header.state_root {
        return Err(ChainError::StateRootMismatch { header: header.state_root, computed });
    }
    Ok(receipts)
}

/// Checks a block without holding the chain's state: the witness proves the touched
/// accounts against the parent's state root, and the block is re-executed on just
/// those. This is how a browser checks what the sequencer signed.
pub fn verify_block(
    block: &Block,
    parent: &Header,
    witness: &Witness,
    chain_id: &ChainId,
    sequencer: &SequencerPublicKey,
) -> Result<(), ChainError> {
    if &parent.chain_id != chain_id {
        return Err(ChainError::ParentOnOtherChain {
            expected: chain_id.clone(),
            found: parent.chain_id.clone(),
        });
    }
    // Checked before any proof is hashed, so an oversized witness costs nothing.
    if !witness.addresses().eq(touched_accounts(&block.transactions).iter()) {
        return Err(ChainError::WitnessMismatch);
    }
    let mut state = PartialState::from_witness(parent.state_root, witness)?;
    validate_block(block, parent, &mut state, sequencer).map(|_| ())
}

/// What applying a peer's block changed, for the store.
pub struct AppliedBlock {
    pub receipts: Vec<Receipt>,
    /// Proofs of the touched accounts against the parent's root: what this node
    /// serves to stateless verifiers.
    pub witness: Witness,
    /// The touched accounts as the block left them.
    pub accounts: Vec<(Address, Account)>,
}

/// Checks a block received from a peer against `parent` and applies it to `state`
/// (the parent's full state). The block is executed once, on a partial state built
/// from `state`'s own proofs of the accounts it touches, so an invalid block leaves
/// `state` exactly as it was; only a valid block's accounts are written back.
pub fn apply_block(
    block: &Block,
    parent: &Header,
    state: &mut StateTree,
    sequencer: &SequencerPublicKey,
) -> Result<AppliedBlock, ChainError> {
    let touched = touched_accounts(&block.transactions);
    let witness = state.witness(&touched);
    let mut partial = PartialState::from_witness(parent.state_root, &witness)?;
    let receipts = validate_block(block, parent, &mut partial, sequencer)?;
    let mut accounts = Vec::with_capacity(touched.len());
    for address in touched {
        accounts.push((address, partial.get(&address)?));
    }
    // Cannot fail after the checks above; if it ever did, `state` would be partly
    // written, which the root check reports so the caller reloads its state.
    for (address, account) in &accounts {
        state.set(*address, *account)?;
    }
    let computed = state.root();
    if computed != block.header.state_root {
        return Err(ChainError::StateRootMismatch { header: block.header.state_root, computed });
    }
    Ok(AppliedBlock { receipts, witness, accounts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::StarkSecretKey;
    use crate::types::TxBody;

    struct Fixture {
        genesis: Genesis,
        key: SequencerKey,
        users: Vec<StarkSecretKey>,
    }

    fn fixture() -> Fixture {
        let key = SequencerKey::from_seed(&[1; 32]);
        let users: Vec<StarkSecretKey> =
            (10..13).map(|i| StarkSecretKey::from_entropy(&[i; 32])).collect();
        let genesis = Genesis {
            chain_id: ChainId::new("starling-test").unwrap(),
            sequencer: key.public_key(),
            timestamp_ms: 1_000,
            allocations: users
                .iter()
                .map(|u| Allocation { address: u.public_key().address(), balance: 100 })
                .collect(),
        };
        Fixture { genesis, key, users }
    }

    fn pay(f: &Fixture, from: usize, nonce: u64, to: usize, amount: u64) -> Transaction {
        let body = TxBody {
            chain_id: f.genesis.chain_id.clone(),
            sender_key: f.users[from].public_key(),
            nonce,
            fee: 1,
            call: Call::Transfer { to: f.users[to].public_key().address(), amount },
        };
        body.sign(&f.users[from])
    }

    fn verify(
        f: &Fixture,
        block: &Block,
        parent: &Header,
        witness: &Witness,
    ) -> Result<(), ChainError> {
        verify_block(block, parent, witness, &f.genesis.chain_id, &f.key.public_key())
    }

    fn build(
        f: &Fixture,
        state: &mut StateTree,
        parent: &Header,
        txs: Vec<Transaction>,
    ) -> BuiltBlock {
        let template =
            BlockTemplate { parent, timestamp_ms: parent.timestamp_ms + 1000, key: &f.key };
        build_block(state, template, txs)
    }

    #[test]
    fn genesis_is_deterministic_and_funds_the_allocations() {
        let f = fixture();
        let (a, state) = f.genesis.block().unwrap();
        let (b, _) = f.genesis.block().unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.header.state_root, state.root());
        assert_eq!(state.get(&f.users[0].public_key().address()).balance, 100);
        let mut other = f.genesis.clone();
        other.allocations[0].balance = 101;
        assert_ne!(other.block().unwrap().0.hash(), a.hash());
    }

    #[test]
    fn a_genesis_listing_an_address_twice_is_refused() {
        let mut f = fixture();
        let first = f.genesis.allocations[0].clone();
        f.genesis.allocations.push(first.clone());
        assert_eq!(f.genesis.block().err(), Some(ChainError::DuplicateAllocation(first.address)));
    }

    #[test]
    fn the_witness_covers_only_included_transactions() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        // User 2's transfer overspends and is left out: its accounts need no proof.
        let txs = alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 2, 0, 2, 1000)];
        let built = build(&f, &mut state, &genesis.header, txs);
        assert_eq!(built.rejected.len(), 1);
        let proven: Vec<Address> = built.witness.proofs().iter().map(|(a, _)| *a).collect();
        assert_eq!(proven, touched_accounts(&built.block.transactions));
    }

    #[test]
    fn built_blocks_validate_on_full_state_and_verify_from_witnesses() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        let parent_state = state.clone();
        let built = build(
            &f,
            &mut state,
            &genesis.header,
            alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 1, 0, 2, 5)],
        );
        assert!(built.rejected.is_empty());
        assert_eq!(built.block.header.state_root, state.root());

        let mut replay = parent_state.clone();
        let receipts =
            validate_block(&built.block, &genesis.header, &mut replay, &f.key.public_key())
                .unwrap();
        assert_eq!(receipts.len(), 2);
        assert_eq!(replay.root(), state.root());
        verify(&f, &built.block, &genesis.header, &built.witness).unwrap();
    }

    /// Proves a follower applying a peer's block reaches the producer's state and
    /// witness, and that invalid blocks leave its state untouched.
    #[test]
    fn apply_block_follows_valid_blocks_and_leaves_state_alone_on_invalid_ones() {
        let f = fixture();
        let (genesis, mut producer) = f.genesis.block().unwrap();
        let mut follower = producer.clone();
        let txs = alloc::vec![pay(&f, 0, 0, 1, 10), pay(&f, 1, 0, 2, 5)];
        let built = build(&f, &mut producer, &genesis.header, txs);
        let sequencer = f.key.public_key();

        let mut tampered = built.block.clone();
        tampered.header.state_root = Hash([1; 32]);
        let tampered = tampered.header.seal(&f.key, tampered.transactions);
        let before = follower.root();
        let err = apply_block(&tampered, &genesis.header, &mut follower, &sequencer);
        assert!(matches!(err, Err(ChainError::StateRootMismatch { .. })));
        assert_eq!(follower.root(), before);
        let other = SequencerKey::from_seed(&[9; 32]);
        let forged = built.block.header.clone().seal(&other, built.block.transactions.clone());
        assert!(apply_block(&forged, &genesis.header, &mut follower, &sequencer).is_err());
        assert_eq!(follower.root(), before);

        let applied =
            apply_block(&built.block, &genesis.header, &mut follower, &sequencer).unwrap();
        assert_eq!(follower.root(), producer.root());
        assert_eq!(applied.witness, built.witness);
        assert_eq!(applied.receipts.len(), 2);
        assert_eq!(applied.accounts.len(), 3);
        // The same block again no longer extends the follower's head.
        let again = apply_block(&built.block, &built.block.header, &mut follower, &sequencer);
        assert!(matches!(again, Err(ChainError::NotChild { .. })));
    }

    #[test]
    fn failing_candidates_are_left_out_with_their_reason() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        // The second spends more than is left after the first.
        let txs = alloc::vec![pay(&f, 0, 0, 1, 90), pay(&f, 0, 1, 1, 90)];
        let built = build(&f, &mut state, &genesis.header, txs);
        assert_eq!(built.block.transactions.len(), 1);
        assert!(matches!(built.rejected[0].1, TxError::InsufficientBalance { .. }));
        verify(&f, &built.block, &genesis.header, &built.witness).unwrap();
    }

    #[test]
    fn a_signed_block_with_a_wrong_state_root_is_refused() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        let built = build(&f, &mut state, &genesis.header, alloc::vec![pay(&f, 0, 0, 1, 10)]);
        let mut header = built.block.header.clone();
        header.state_root = genesis.header.state_root;
        let lying = header.seal(&f.key, built.block.transactions.clone());
        let err = verify(&f, &lying, &genesis.header, &built.witness);
        assert!(matches!(err, Err(ChainError::StateRootMismatch { .. })));
    }

    #[test]
    fn blocks_must_extend_their_parent_in_height_hash_and_time() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        let parent_state = state.clone();
        let first = build(&f, &mut state, &genesis.header, alloc::vec![]);
        let second = build(&f, &mut state, &first.block.header, alloc::vec![]);
        let mut replay = parent_state.clone();
        let skipped =
            validate_block(&second.block, &genesis.header, &mut replay, &f.key.public_key());
        assert!(matches!(skipped, Err(ChainError::NotChild { .. })));

        let mut header = first.block.header.clone();
        header.timestamp_ms = genesis.header.timestamp_ms - 1;
        let early = header.seal(&f.key, alloc::vec![]);
        let mut replay = parent_state.clone();
        let err = validate_block(&early, &genesis.header, &mut replay, &f.key.public_key());
        assert!(matches!(err, Err(ChainError::TimeWentBack { .. })));
    }

    #[test]
    fn a_witness_that_misses_an_account_is_refused() {
        let f = fixture();
        let (genesis, mut state) = f.genesis.block().unwrap();
        let built = build(&f, &mut state, &genesis.header, alloc::vec![pay(&f, 0, 0, 1, 10)]);
        let partial = Witness::new(alloc::vec![built.witness.proofs()[0].clone()]);
        let err = verify(&f, &built.block, &genesis.header, &partial);
        assert_eq!(err, Err(ChainError::WitnessMismatch));
        // Extra proofs (here, a duplicate) are refused before any is hashed.
        let mut padded = built.witness.proofs().to_vec();
        padded.push(padded[0].clone());
        let err = verify(&f, &built.block, &genesis.header, &Witness::new(padded));
        assert_eq!(err, Err(ChainError::WitnessMismatch));
    }

    #[test]
    fn a_genesis_listing_an_address_twice_is_refused_even_with_zero_balance() {
        let mut f = fixture();
        let mut zero = f.genesis.allocations[0].clone();
        zero.balance = 0;
        f.genesis.allocations.insert(0, zero.clone());
        assert_eq!(f.genesis.block().err(), Some(ChainError::DuplicateAllocation(zero.address)));
    }
}
