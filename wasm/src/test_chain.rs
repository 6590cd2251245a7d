//! A small real chain for tests (feature `test-chain`): a genesis and blocks built
//! and signed by `starling-core`'s block builder, the same code the daemon's
//! sequencer runs, each carrying one transfer and the witness a browser needs.
//! [`TestChain::with_lie_at`] builds the same chain from a sequencer that signs one
//! false state root and keeps building on it.

use starling_core::chain::{Allocation, BlockTemplate, Genesis, build_block};
use starling_core::crypto::{SequencerKey, StarkSecretKey};
use starling_core::encoding::Message;
use starling_core::staking::StakingParams;
use starling_core::state::{Account, StateTree, Witness};
use starling_core::types::{Address, Block, Call, ChainId, TxBody};

pub const CHAIN: &str = "starling-devnet";

pub struct TestChain {
    pub genesis: Block,
    /// `blocks[i]` is at height `i + 1`.
    pub blocks: Vec<Block>,
    /// `witnesses[i]` proves what `blocks[i]` touches against its parent's state.
    pub witnesses: Vec<Witness>,
    pub sequencer: SequencerKey,
}

impl TestChain {
    /// A chain of `len` blocks after genesis; `seed` varies the sequencer key and
    /// genesis time, so two seeds give two unrelated chains.
    pub fn build(len: usize, seed: u8) -> Self {
        Self::with_lie_at(len, seed, None)
    }

    /// Like [`Self::build`], but at height `lie_at` the sequencer mints coins out of
    /// thin air: it signs a block whose state root includes the mint, then builds
    /// every later block on that false state. Those later blocks are internally
    /// consistent (their witnesses prove against the false root), so only a
    /// verifier that refuses to build on the lying block can tell.
    pub fn with_lie_at(len: usize, seed: u8, lie_at: Option<u64>) -> Self {
        let sequencer = SequencerKey::from_seed(&[seed; 32]);
        let alice = StarkSecretKey::from_entropy(&[1; 32]);
        let bob = StarkSecretKey::from_entropy(&[2; 32]).public_key().address();
        let chain_id = ChainId::new(CHAIN).expect("valid chain id");
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            sequencer: sequencer.public_key(),
            timestamp_ms: 1_700_000_000_000 + u64::from(seed),
            allocations: vec![Allocation {
                address: alice.public_key().address(),
                balance: 1_000_000,
            }],
            staking: StakingParams::default(),
        };
        let (genesis_block, mut state) = genesis.block().expect("genesis state");
        let mut blocks = Vec::new();
        let mut witnesses = Vec::new();
        let mut parent = genesis_block.header.clone();
        for nonce in 0..len as u64 {
            let tx = TxBody {
                chain_id: chain_id.clone(),
                sender_key: alice.public_key(),
                nonce,
                fee: 3,
                call: Call::Transfer { to: bob, amount: 100 + nonce },
            }
            .sign(&alice);
            let template = BlockTemplate {
                parent: &parent,
                timestamp_ms: parent.timestamp_ms + 1000,
                key: &sequencer,
                parent_commit: None,
            };
            let mut built =
                build_block(&mut state, template, vec![tx]).expect("the sequencer signs");
            assert!(
                built.rejected.is_empty(),
                "fixture transfer was rejected: {:?}",
                built.rejected
            );
            if lie_at == Some(built.block.header.height) {
                built.block = mint_and_reseal(&mut state, built.block, &sequencer);
            }
            parent = built.block.header.clone();
            blocks.push(built.block);
            witnesses.push(built.witness);
        }
        Self { genesis: genesis_block, blocks, witnesses, sequencer }
    }

    /// The block at `height` (0 is genesis).
    pub fn block(&self, height: u64) -> &Block {
        match height {
            0 => &self.genesis,
            h => &self.blocks[h as usize - 1],
        }
    }

    /// The witness of the block at `height`; `None` for genesis.
    pub fn witness(&self, height: u64) -> Option<&Witness> {
        height.checked_sub(1).map(|i| &self.witnesses[i as usize])
    }

    pub fn sequencer_hex(&self) -> String {
        self.sequencer.public_key().to_string()
    }
}

/// Credits an address nobody paid, then signs `block` again with the root of that
/// state: a sequencer lying about the result of its own block.
fn mint_and_reseal(state: &mut StateTree, block: Block, key: &SequencerKey) -> Block {
    let mallory = StarkSecretKey::from_entropy(&[66; 32]).public_key().address();
    credit(state, mallory, 1_000_000);
    let mut header = block.header;
    header.state_root = state.root();
    header.seal(key, block.transactions)
}

fn credit(state: &mut StateTree, address: Address, amount: u64) {
    let account = state.get(&address);
    let credited = Account { balance: account.balance + amount, ..account };
    state.set(address, credited).expect("credit fits the state");
}

/// `0x` hex of a message's canonical encoding, as JSON-RPC carries it.
pub fn hex_of<M: Message>(m: &M) -> String {
    format!("0x{}", hex::encode(m.encode_message()))
}
