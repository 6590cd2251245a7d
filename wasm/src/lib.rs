//! # starling-wasm
//!
//! The browser's side of Starling. A page gets blocks in the node's canonical
//! binary encoding (over libp2p, or as hex in JSON-RPC) and checks each one itself
//! with the same `starling-core` code the daemon runs, compiled to WebAssembly.
//!
//! What a page trusts, exactly: the chain identity — chain id, genesis hash and
//! sequencer key — taken from the status of the node that serves it, because
//! nothing else names the chain yet. Everything after that is checked here:
//! genesis by its hash, and every later block against a parent that was itself
//! accepted (see [`ChainVerifier::verify`]). Under proof of stake, who may sign a
//! block and which validators certify it come from the staking registry in the
//! block's witness, itself proven against the parent's state root, and the
//! block's own commit certificate is checked against that set
//! ([`ChainVerifier::verify_final`]). A page that joins mid-chain also assumes
//! the state root of its first block, the anchor (see
//! [`ChainVerifier::verify_anchor`]).
//!
//! This crate is that boundary:
//!
//! - a typed Rust API ([`ChainVerifier`], [`decode_block_hex`], [`BlockSummary`]) that
//!   the Leptos page (`starling-web-ui`) links directly;
//! - [`peer`], the browser node: a libp2p peer that dials the serving node over
//!   WebRTC-direct or WebSocket, gets blocks with their witnesses over the sync
//!   protocol and headers over gossip, and checks each block with the API above;
//! - [`proving`], block proofs from a node's job bytes: checking a proof, and
//!   (feature `prover`) making one, which `cargo xtask build-web` compiles into
//!   a separate module for the proving Web Workers (`www/prover-worker.js`);
//! - on wasm32, `#[wasm_bindgen]` exports of the verification operations for plain
//!   JavaScript (the package `cargo xtask build-web` writes to `pkg/`).
//!
//! Errors cross the boundary as human-readable strings because their one consumer
//! is a person looking at a "rejected" badge.

#[cfg(target_arch = "wasm32")]
mod js;
pub mod peer;
pub mod proving;

use serde::Serialize;
use starling_core::chain::verify_block;
use starling_core::consensus::CommitCertificate;
use starling_core::crypto::SequencerPublicKey;
use starling_core::encoding::Message;
use starling_core::staking::{Authority, StakingState};
use starling_core::state::Witness;
use starling_core::types::{Block, BlockError, ChainId, Hash, Header, tx_root};

/// Decodes a `0x`-prefixed (or bare) hex string holding one encoded message.
/// `what` names the message in the error ("block", "witness").
pub fn decode_hex<M: Message>(what: &str, hex_str: &str) -> Result<M, String> {
    let digits = hex_str.strip_prefix("0x").unwrap_or(hex_str);
    let bytes = hex::decode(digits).map_err(|e| format!("{what} is not valid hex: {e}"))?;
    M::decode_message(&bytes).map_err(|e| format!("{what} does not decode: {e}"))
}

/// Decodes a block from the hex of its `encode_message()` bytes.
pub fn decode_block_hex(block_hex: &str) -> Result<Block, String> {
    decode_hex("block", block_hex)
}

/// Decodes a state witness from the hex of its `encode_message()` bytes.
pub fn decode_witness_hex(witness_hex: &str) -> Result<Witness, String> {
    decode_hex("witness", witness_hex)
}

/// What the page shows of a block: every field as display-ready data, hashes as
/// `0x` hex. Built from the decoded block itself, never from what the node claims
/// about it, so what is shown is exactly what was (or failed to be) verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockSummary {
    pub height: u64,
    /// The hash of the header, computed here.
    pub hash: String,
    pub parent_hash: String,
    pub state_root: String,
    pub tx_root: String,
    pub timestamp_ms: u64,
    pub proposer: String,
    /// The hash of the validator set that certifies the block; all zeros for a
    /// block the sequencer signed (single stage).
    pub validators: String,
    pub transactions: Vec<TxSummary>,
}

/// One transaction as the page lists it. Amounts and fees are decimal strings in
/// JSON because JavaScript numbers lose precision above 2^53.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxSummary {
    pub hash: String,
    pub sender: String,
    /// What the call does, e.g. `transfer`.
    pub kind: String,
    pub to: String,
    #[serde(serialize_with = "as_decimal_string")]
    pub amount: u64,
    #[serde(serialize_with = "as_decimal_string")]
    pub fee: u64,
    pub nonce: u64,
}

fn as_decimal_string<S: serde::Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

impl BlockSummary {
    pub fn of(block: &Block) -> Self {
        let h = &block.header;
        Self {
            height: h.height,
            hash: block.hash().to_string(),
            parent_hash: h.parent_hash.to_string(),
            state_root: h.state_root.to_string(),
            tx_root: h.tx_root.to_string(),
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer.to_string(),
            validators: h.validators.to_string(),
            transactions: block
                .transactions
                .iter()
                .map(|tx| {
                    let call = &tx.body.call;
                    let to = call.named_address().map(|a| a.to_string()).unwrap_or_default();
                    let (kind, amount) = (call.kind(), call.amount());
                    TxSummary {
                        hash: tx.hash().to_string(),
                        sender: tx.sender().to_string(),
                        kind: kind.to_owned(),
                        to,
                        amount,
                        fee: tx.body.fee,
                        nonce: tx.body.nonce,
                    }
                })
                .collect(),
        }
    }
}

/// Checks blocks of one chain: its id and the sequencer key that signs blocks in
/// the single stage, both taken from the node's status and then held fixed.
/// Under proof of stake the signer and the certifying set come from the staking
/// registry in each block's witness.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    chain_id: ChainId,
    sequencer: SequencerPublicKey,
}

impl ChainVerifier {
    /// `sequencer_hex` is the Ed25519 public key as 64 hex digits, `0x` optional.
    pub fn new(chain_id: &str, sequencer_hex: &str) -> Result<Self, String> {
        let chain_id = ChainId::new(chain_id).map_err(|e| format!("chain id {chain_id:?}: {e}"))?;
        let sequencer = sequencer_hex
            .parse::<SequencerPublicKey>()
            .map_err(|e| format!("sequencer key {sequencer_hex:?}: {e}"))?;
        Ok(Self { chain_id, sequencer })
    }

    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    pub fn sequencer(&self) -> &SequencerPublicKey {
        &self.sequencer
    }

    /// Full stateless verification of `block` on top of `parent`: chain id, height
    /// and parent linkage, the Ed25519 signature of whoever the parent state's
    /// staking registry says signs it (the sequencer, or under proof of stake a
    /// member of the epoch's set, with the parent's commit certificate), the
    /// transaction root, every transaction's Stark signature, and re-execution on
    /// the witnessed parent state ending at the header's state root. The error
    /// says which check failed. The block's own finality is
    /// [`Self::verify_final`]'s.
    ///
    /// `parent` must already be accepted by the caller (verified itself, the genesis
    /// checked with [`check_genesis`], or an anchor the caller chose to assume):
    /// this checks the step from `parent` to `block`, never `parent` itself. A block
    /// that passes on top of an unchecked parent proves nothing about the chain.
    pub fn verify(&self, block: &Block, parent: &Header, witness: &Witness) -> Result<(), String> {
        // The registry names the sequencer too, and the chain rules hold a block
        // to it; the pinned key must be that one, or a state this page did not
        // start from (an assumed anchor's) could name another.
        let header = &block.header;
        if header.validators == Hash::ZERO && header.proposer != self.sequencer {
            let (expected, found) = (self.sequencer, header.proposer);
            return Err(BlockError::UnexpectedProposer { expected, found }.to_string());
        }
        verify_block(block, parent, witness, &self.chain_id).map_err(|e| e.to_string())
    }

    /// [`Self::verify`], then the block's own finality: under proof of stake (the
    /// registry in the witness, already proven against the parent's state root by
    /// the first step, says validators certify its height) `certificate` must
    /// hold precommits of more than two thirds of that set's power for exactly
    /// this block; a block the sequencer signed is final by its signature. A
    /// proof-of-stake block without a valid certificate is rejected like any
    /// invalid block.
    pub fn verify_final(
        &self,
        block: &Block,
        parent: &Header,
        witness: &Witness,
        certificate: Option<&CommitCertificate>,
    ) -> Result<Finality, String> {
        self.verify(block, parent, witness)?;
        let registry = witness.registry().ok_or("the witness carries no staking registry")?;
        finality(&self.chain_id, registry, block, certificate)
    }

    /// What can be checked of a block whose parent is not held, the anchor of a
    /// page that joins mid-chain: chain id, signature and transaction root, and
    /// its finality.
    ///
    /// A block the sequencer signed ([`Header::validators`] zero) must carry the
    /// pinned sequencer's signature. A proof-of-stake block must be signed by
    /// its proposer, a member of the set its header names, and certified by that
    /// set; the set is read from the registry in the block's witness, which
    /// cannot be proven here (that takes the parent's state root), so it is
    /// assumed with the anchor's state root and only used if it hashes to the
    /// set the signed header names.
    pub fn verify_anchor(
        &self,
        block: &Block,
        witness: Option<&Witness>,
        certificate: Option<&CommitCertificate>,
    ) -> Result<Finality, String> {
        let header = &block.header;
        if header.validators == Hash::ZERO {
            self.verify_seal(block)?;
            return Ok(Finality::Sequencer);
        }
        let registry = witness
            .and_then(Witness::registry)
            .ok_or("the peer sent no staking registry with the proof-of-stake anchor")?;
        match registry.authority_for(header.height) {
            Some(Authority::Validators(set)) if set.hash() == header.validators => {
                if set.get(&header.proposer).is_none() {
                    return Err(format!(
                        "proposer {} is not in the validator set",
                        header.proposer
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "the registry sent with block {} does not hold the validator set {} its header names",
                    header.height, header.validators
                ));
            }
        }
        block.verify_seal(&self.chain_id, &header.proposer).map_err(|e| e.to_string())?;
        finality(&self.chain_id, registry, block, certificate)
    }

    /// [`Self::verify`] from hex encodings, as JSON-RPC's `starling_getBlock`
    /// returns them; on success, the block as the page shows it. As there, the
    /// parent block must already be accepted.
    pub fn verify_hex(
        &self,
        block_hex: &str,
        parent_block_hex: &str,
        witness_hex: &str,
    ) -> Result<BlockSummary, String> {
        let block = decode_block_hex(block_hex)?;
        let parent = decode_hex::<Block>("parent block", parent_block_hex)?;
        let witness = decode_witness_hex(witness_hex)?;
        self.verify(&block, &parent.header, &witness)?;
        Ok(BlockSummary::of(&block))
    }

    /// What can be checked of a block whose parent is not held: chain id, proposer,
    /// the sequencer's signature and the transaction root — not its transactions'
    /// signatures and not its state root, which need the parent's state.
    ///
    /// A page that joins mid-chain uses this for its first block, the anchor, and
    /// then *assumes* the anchor's state root: checking it would take the whole
    /// history before it. Blocks verified on top of the anchor are as sound as that
    /// assumption, so the page labels the anchor "assumed", never "verified".
    pub fn verify_seal(&self, block: &Block) -> Result<(), String> {
        block.verify_seal(&self.chain_id, &self.sequencer).map_err(|e| e.to_string())
    }
}

/// What made a block final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finality {
    /// The single stage: the sequencer's signature, checked with the block.
    Sequencer,
    /// Proof of stake: a commit certificate checked against the validator set
    /// that the registry names for the block's height.
    Certified {
        round: u32,
        /// How many validators' precommits it holds.
        signers: usize,
        /// Their power, and the whole set's.
        power: u64,
        total_power: u64,
        /// Members of the set.
        validators: usize,
    },
}

/// The finality of `block`, given the registry of its parent's state: a block
/// validators certify needs `certificate` to verify against their set; a block
/// the sequencer signs needs none (one sent anyway is ignored: it proves
/// nothing the signature does not).
pub fn finality(
    chain_id: &ChainId,
    registry: &StakingState,
    block: &Block,
    certificate: Option<&CommitCertificate>,
) -> Result<Finality, String> {
    let height = block.header.height;
    match registry.authority_for(height) {
        Some(Authority::Sequencer(_)) => Ok(Finality::Sequencer),
        Some(Authority::Validators(set)) => {
            let certificate = certificate.ok_or_else(|| {
                format!("proof-of-stake block {height} came without its commit certificate")
            })?;
            let power = certificate
                .verify(chain_id, set, height, &block.hash())
                .map_err(|e| format!("commit certificate: {e}"))?;
            Ok(Finality::Certified {
                round: certificate.round,
                signers: certificate.signatures.len(),
                power,
                total_power: set.total_power(),
                validators: set.len(),
            })
        }
        None => Err(format!("the staking registry does not say who certifies block {height}")),
    }
}

/// Accepts a genesis block only if its header hashes to `genesis_hash_hex`. Genesis
/// has no parent and no signature; it is trusted because the chain is named by its
/// hash (taken from the node's status, or configured).
pub fn check_genesis(block: &Block, genesis_hash_hex: &str) -> Result<(), String> {
    let expected: Hash =
        genesis_hash_hex.parse().map_err(|e| format!("genesis hash {genesis_hash_hex:?}: {e}"))?;
    check_genesis_hash(block, &expected)
}

/// [`check_genesis`] with the hash already parsed.
pub fn check_genesis_hash(block: &Block, expected: &Hash) -> Result<(), String> {
    let expected = *expected;
    if block.header.height != 0 {
        return Err(format!("block {} is not a genesis block", block.header.height));
    }
    let found = block.hash();
    if found != expected {
        return Err(format!("genesis block hashes to {found}, the chain's genesis is {expected}"));
    }
    // The hash covers only the header: the transaction list shown under it must be
    // the one the header commits to (a genesis has none), or a server could list
    // invented transactions under a trusted badge.
    if tx_root(&block.transactions) != block.header.tx_root {
        return Err("the genesis block's transactions do not match its header".into());
    }
    Ok(())
}

/// One-call form of [`ChainVerifier::verify_hex`]; the parent block must already
/// be accepted.
pub fn verify_block_hex(
    block_hex: &str,
    parent_block_hex: &str,
    witness_hex: &str,
    chain_id: &str,
    sequencer_hex: &str,
) -> Result<BlockSummary, String> {
    ChainVerifier::new(chain_id, sequencer_hex)?.verify_hex(
        block_hex,
        parent_block_hex,
        witness_hex,
    )
}

#[cfg(any(test, feature = "test-chain"))]
pub mod test_chain;

#[cfg(test)]
mod tests;
