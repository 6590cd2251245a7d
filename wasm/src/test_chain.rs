//! A small real chain for tests (feature `test-chain`): a genesis and blocks built
//! and signed by `starling-core`'s block builder, the same code the daemon's
//! sequencer runs, each carrying one transfer and the witness a browser needs.

use starling_core::chain::{Allocation, BlockTemplate, Genesis, build_block};
use starling_core::crypto::{SequencerKey, StarkSecretKey};
use starling_core::encoding::Message;
use starling_core::state::Witness;
use starling_core::types::{Block, Call, ChainId, TxBody};

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
            };
            let built = build_block(&mut state, template, vec![tx]).expect("block builds");
            assert!(
                built.rejected.is_empty(),
                "fixture transfer was rejected: {:?}",
                built.rejected
            );
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

/// `0x` hex of a message's canonical encoding, as JSON-RPC carries it.
pub fn hex_of<M: Message>(m: &M) -> String {
    format!("0x{}", hex::encode(m.encode_message()))
}
