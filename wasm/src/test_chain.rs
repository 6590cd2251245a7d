//! A small real chain for tests (feature `test-chain`): a genesis and blocks built
//! and signed by `starling-core`'s block builder, the same code the daemon's
//! sequencer runs, each carrying one transfer and the witness a browser needs.
//! [`TestChain::with_lie_at`] builds the same chain from a sequencer that signs one
//! false state root and keeps building on it.

use starling_core::chain::{Allocation, BlockTemplate, Genesis, build_block};
use starling_core::consensus::{
    CommitCertificate, Proposal, SignedProposal, SignedVote, ValidatorSet, Vote, VoteKind, proposer,
};
use starling_core::crypto::{SequencerKey, StarkSecretKey};
use starling_core::encoding::Message;
use starling_core::proving::input::ProvingInput;
use starling_core::staking::{Authority, StakingParams};
use starling_core::state::{Account, StateTree, Witness};
use starling_core::types::{Address, Block, Call, ChainId, Hash, TxBody};
use starling_net::messages::SyncedBlock;

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

/// The proving jobs of a real chain, as a node hands them to provers: `blocks`
/// blocks after genesis, each with `transfers` transfers built and signed by
/// the sequencer's block builder, each input holding the parent's header and
/// the witness the builder produced. Senders alternate between two funded
/// accounts and recipients are fresh accounts (their inserts split the state
/// tree) or a funded one, so a block exercises more than one path shape.
pub fn proving_inputs(blocks: usize, transfers: usize) -> Vec<ProvingInput> {
    let sequencer = SequencerKey::from_seed(&[77; 32]);
    let senders = [StarkSecretKey::from_entropy(&[1; 32]), StarkSecretKey::from_entropy(&[3; 32])];
    let chain_id = ChainId::new(CHAIN).expect("valid chain id");
    let genesis = Genesis {
        chain_id: chain_id.clone(),
        sequencer: sequencer.public_key(),
        timestamp_ms: 1_700_000_000_000,
        allocations: senders
            .iter()
            .map(|k| Allocation { address: k.public_key().address(), balance: 1_000_000 })
            .collect(),
        staking: StakingParams::default(),
    };
    let (genesis_block, mut state) = genesis.block().expect("genesis state");
    let mut parent = genesis_block.header;
    let mut nonces = [0u64; 2];
    let mut inputs = Vec::with_capacity(blocks);
    for b in 0..blocks {
        let txs = (0..transfers)
            .map(|t| {
                let n = b * transfers + t;
                let from = n % 2;
                let to = if n % 3 == 2 {
                    senders[1 - from].public_key().address()
                } else {
                    let seed = u8::try_from(10 + n % 200).expect("below 256");
                    StarkSecretKey::from_entropy(&[seed; 32]).public_key().address()
                };
                let tx = TxBody {
                    chain_id: chain_id.clone(),
                    sender_key: senders[from].public_key(),
                    nonce: nonces[from],
                    fee: 3,
                    call: Call::Transfer { to, amount: 1_000 + n as u64 },
                }
                .sign(&senders[from]);
                nonces[from] += 1;
                tx
            })
            .collect();
        let template = BlockTemplate {
            parent: &parent,
            timestamp_ms: parent.timestamp_ms + 1000,
            key: &sequencer,
            parent_commit: None,
        };
        let built = build_block(&mut state, template, txs).expect("the sequencer signs");
        assert!(built.rejected.is_empty(), "fixture transfers were rejected: {:?}", built.rejected);
        let next = built.block.header.clone();
        inputs.push(ProvingInput { parent, block: built.block, witness: built.witness });
        parent = next;
    }
    inputs
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

/// A real chain that starts under the sequencer and switches to proof of stake,
/// built with `starling-core`'s block builder: four stakers bond at block 1, the
/// set that holds them is fixed three epochs ahead, and from
/// [`PosChain::SWITCH`] on each block is built and signed by the validator that
/// [`proposer`] picks for its height (round 0), carries its parent's commit
/// certificate, and is certified by precommits of all four validators. Every
/// block carries one transfer and the witness a browser needs.
pub struct PosChain {
    pub genesis: Block,
    /// `blocks[i]` is at height `i + 1`, as are `witnesses[i]`,
    /// `certificates[i]` (`None` under the sequencer) and `sets[i]` (the set that
    /// certifies the block, `None` under the sequencer).
    pub blocks: Vec<Block>,
    pub witnesses: Vec<Witness>,
    pub certificates: Vec<Option<CommitCertificate>>,
    pub sets: Vec<Option<ValidatorSet>>,
    pub sequencer: SequencerKey,
    /// The validators' consensus keys.
    pub validators: Vec<SequencerKey>,
    /// The accounts that staked for them, in the same order.
    pub stakers: Vec<Address>,
}

impl PosChain {
    /// Blocks per epoch.
    pub const EPOCH_LENGTH: u64 = 4;
    /// What each staker bonds.
    pub const STAKE: u64 = 128;
    /// The first proof-of-stake block: the first block of epoch 3, whose set was
    /// fixed at the end of epoch 0 (the stakes are in block 1).
    pub const SWITCH: u64 = 3 * Self::EPOCH_LENGTH;

    pub fn params() -> StakingParams {
        StakingParams {
            epoch_length: Self::EPOCH_LENGTH,
            min_stake: 100,
            activation_stake: 4 * Self::STAKE,
            min_validators: 4,
            max_validators: 10,
            block_reward: 1_000,
            ..StakingParams::default()
        }
    }

    /// A chain of `len` blocks after genesis.
    pub fn build(len: usize) -> Self {
        let sequencer = SequencerKey::from_seed(&[42; 32]);
        let alice = StarkSecretKey::from_entropy(&[1; 32]);
        let bob = StarkSecretKey::from_entropy(&[2; 32]).public_key().address();
        let staker_keys: Vec<StarkSecretKey> =
            (0..4).map(|i| StarkSecretKey::from_entropy(&[60 + i; 32])).collect();
        let validators: Vec<SequencerKey> =
            (0..4).map(|i| SequencerKey::from_seed(&[90 + i; 32])).collect();
        let chain_id = ChainId::new(CHAIN).expect("valid chain id");
        let funded = std::iter::once(&alice).chain(&staker_keys);
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            sequencer: sequencer.public_key(),
            timestamp_ms: 1_700_000_000_000,
            allocations: funded
                .map(|k| Allocation { address: k.public_key().address(), balance: 1_000_000 })
                .collect(),
            staking: Self::params(),
        };
        let (genesis_block, mut state) = genesis.block().expect("genesis state");
        let mut chain = Self {
            genesis: genesis_block,
            blocks: Vec::new(),
            witnesses: Vec::new(),
            certificates: Vec::new(),
            sets: Vec::new(),
            sequencer,
            validators,
            stakers: staker_keys.iter().map(|k| k.public_key().address()).collect(),
        };
        for nonce in 0..len as u64 {
            let height = nonce + 1;
            let mut txs = vec![
                TxBody {
                    chain_id: chain_id.clone(),
                    sender_key: alice.public_key(),
                    nonce,
                    fee: 3,
                    call: Call::Transfer { to: bob, amount: 100 + nonce },
                }
                .sign(&alice),
            ];
            if height == 1 {
                txs.extend(staker_keys.iter().zip(&chain.validators).map(|(staker, key)| {
                    TxBody {
                        chain_id: chain_id.clone(),
                        sender_key: staker.public_key(),
                        nonce: 0,
                        fee: 3,
                        call: Call::Stake {
                            consensus_key: key.public_key(),
                            amount: Self::STAKE,
                            commission_bps: 0,
                        },
                    }
                    .sign(staker)
                }));
            }
            let registry = state.registry().expect("the state holds the registry");
            let set = match registry.authority_for(height).expect("the registry knows") {
                Authority::Sequencer(_) => None,
                Authority::Validators(set) => Some(set.clone()),
            };
            let key = match &set {
                None => &chain.sequencer,
                Some(set) => chain.key_of(proposer(set, height, 0).key),
            };
            let parent = chain.block(height - 1).header.clone();
            let template = BlockTemplate {
                parent: &parent,
                timestamp_ms: parent.timestamp_ms + 1000,
                key,
                parent_commit: chain.certificate(height - 1).cloned(),
            };
            let built = build_block(&mut state, template, txs).expect("the block builds");
            assert!(built.rejected.is_empty(), "fixture txs were rejected: {:?}", built.rejected);
            let certificate = set.as_ref().map(|set| chain.certify(set, &built.block, 4));
            chain.blocks.push(built.block);
            chain.witnesses.push(built.witness);
            chain.certificates.push(certificate);
            chain.sets.push(set);
        }
        chain
    }

    /// The block at `height` (0 is genesis).
    pub fn block(&self, height: u64) -> &Block {
        match height {
            0 => &self.genesis,
            h => &self.blocks[h as usize - 1],
        }
    }

    /// The commit certificate of the block at `height`, if validators certify it.
    pub fn certificate(&self, height: u64) -> Option<&CommitCertificate> {
        height.checked_sub(1).and_then(|i| self.certificates[i as usize].as_ref())
    }

    /// The set that certifies the block at `height`, if validators do.
    pub fn set(&self, height: u64) -> Option<&ValidatorSet> {
        height.checked_sub(1).and_then(|i| self.sets[i as usize].as_ref())
    }

    /// What a full node serves for `height`: the block, its witness and its
    /// certificate.
    pub fn synced(&self, height: u64) -> SyncedBlock {
        SyncedBlock {
            block: self.block(height).clone(),
            witness: height.checked_sub(1).map(|i| self.witnesses[i as usize].clone()),
            certificate: self.certificate(height).cloned(),
        }
    }

    pub fn sequencer_hex(&self) -> String {
        self.sequencer.public_key().to_string()
    }

    /// The consensus key whose public key is `public`.
    pub fn key_of(&self, public: starling_core::crypto::SequencerPublicKey) -> &SequencerKey {
        self.validators.iter().find(|k| k.public_key() == public).expect("a fixture validator")
    }

    /// A certificate for `block` from precommits of the first `signers` members
    /// of `set` (in the set's order), round 0.
    pub fn certify(&self, set: &ValidatorSet, block: &Block, signers: usize) -> CommitCertificate {
        let height = block.header.height;
        let votes: Vec<SignedVote> = set.validators()[..signers]
            .iter()
            .map(|v| {
                self.vote(self.key_of(v.key), height, 0, VoteKind::Precommit, Some(block.hash()))
            })
            .collect();
        CommitCertificate::from_precommits(set, height, 0, block.hash(), &votes)
    }

    /// A vote signed by `key`.
    pub fn vote(
        &self,
        key: &SequencerKey,
        height: u64,
        round: u32,
        kind: VoteKind,
        value: Option<Hash>,
    ) -> SignedVote {
        Vote {
            chain_id: self.genesis.header.chain_id.clone(),
            height,
            round,
            kind,
            value,
            validator: key.public_key(),
        }
        .sign(key)
    }

    /// A proposal of the block at `height`, signed by `key`.
    pub fn proposal(&self, key: &SequencerKey, height: u64, round: u32) -> SignedProposal {
        Proposal {
            chain_id: self.genesis.header.chain_id.clone(),
            height,
            round,
            block_hash: self.block(height).hash(),
            valid_round: None,
            proposer: key.public_key(),
        }
        .sign(key)
    }
}

/// `0x` hex of a message's canonical encoding, as JSON-RPC carries it.
pub fn hex_of<M: Message>(m: &M) -> String {
    format!("0x{}", hex::encode(m.encode_message()))
}
