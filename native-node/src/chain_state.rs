//! The node's view of the chain: the store, the current state and head, and the
//! mempool, kept consistent with each other.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use starling_core::chain::{
    AppliedBlock, BlockTemplate, BuiltBlock, ChainError, Genesis, apply_block, build_block,
    touched_accounts, verify_block,
};
use starling_core::consensus::{CertificateError, CommitCertificate, ValidatorSet};
use starling_core::crypto::{SequencerKey, SequencerPublicKey};
use starling_core::exec::VerifiedTransaction;
use starling_core::mempool::{Inserted, Mempool, MempoolConfig, MempoolError};
use starling_core::staking::Authority;
use starling_core::state::{Account, StateTree};
use starling_core::types::{Address, Block, ChainId, Hash, Header, Transaction};

use crate::storage::{BlockCommit, Store};

/// The chain as this node holds it.
pub struct ChainState {
    /// Shared with read-only RPC, which reads it without the chain lock.
    pub store: Arc<Store>,
    pub genesis: Genesis,
    pub genesis_hash: Hash,
    pub head: Header,
    pub state: StateTree,
    pub mempool: Mempool,
}

/// How far ahead of a validator's clock a proposed block's time may be.
pub const MAX_CLOCK_AHEAD_MS: u64 = 2_000;

/// A block with the certificate that made it final, if it is a proof-of-stake block.
pub type Certified<'a> = (&'a Block, Option<&'a CommitCertificate>);

/// What producing one block did, for logs and metrics.
pub struct Produced {
    pub block: Block,
    pub rejected: usize,
}

impl ChainState {
    /// Opens the store in `data_dir`, writing genesis on first start, and checks that
    /// the stored state matches the stored head (a restart resumes at the same height
    /// with the same root, or refuses to start on corrupt data).
    pub fn open(data_dir: &Path, genesis: Genesis, mempool: MempoolConfig) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let store = Arc::new(Store::open(&data_dir.join("chain.redb"))?);
        let (genesis_block, genesis_state) =
            genesis.block().context("the genesis allocations are invalid")?;
        let genesis_hash = genesis_block.hash();
        store.check_genesis(&genesis_hash)?;
        let head_height = match store.head_height()? {
            Some(h) => h,
            None => {
                let accounts: Vec<_> = genesis_state.accounts().collect();
                store.commit_block(BlockCommit {
                    block: &genesis_block,
                    witness: None,
                    accounts: &accounts,
                    settled: &[],
                    certificate: None,
                    registry: genesis_state.registry(),
                })?;
                0
            }
        };
        let head = store
            .block(head_height)?
            .with_context(|| format!("corrupt store: head block {head_height} is missing"))?
            .header;
        let state = store.load_state()?;
        if state.root() != head.state_root {
            bail!(
                "corrupt store: stored accounts give state root {}, head block {} says {}",
                state.root(),
                head.height,
                head.state_root
            );
        }
        let mut chain =
            Self { store, genesis, genesis_hash, head, state, mempool: Mempool::new(mempool) };
        chain.restore_pending()?;
        Ok(chain)
    }

    pub fn chain_id(&self) -> &ChainId {
        &self.genesis.chain_id
    }

    /// Re-admits acknowledged transactions after a restart; ones that can no longer
    /// execute (their nonce was used meanwhile) are dropped from the store.
    fn restore_pending(&mut self) -> Result<()> {
        let mut pending = self.store.pending()?;
        pending.sort_by_key(|tx| (tx.sender(), tx.body.nonce));
        let mut dropped = Vec::new();
        for tx in pending {
            let hash = tx.hash();
            let admitted = VerifiedTransaction::verify(tx)
                .map_err(MempoolError::Invalid)
                .and_then(|tx| self.admit(tx));
            if let Err(e) = admitted {
                tracing::info!(%hash, reason = %e, "dropping a stored pending transaction");
                dropped.push(hash);
            }
        }
        self.store.remove_pending(&dropped)
    }

    /// Admits into the mempool only (the transaction is already stored).
    fn admit(&mut self, tx: VerifiedTransaction) -> Result<Inserted, MempoolError> {
        let account = self.state.get(&tx.transaction().sender());
        self.mempool.insert_verified(tx, &account, &self.genesis.chain_id)
    }

    /// Admits a client's transaction (its signature checked by the caller, outside
    /// the chain lock) in two phases: check every rule changing nothing, durably
    /// record it together with the removal of what it displaces (one store
    /// transaction), and only then change the mempool. If the store fails, nothing
    /// has changed and the client is told so.
    pub fn submit(&mut self, tx: VerifiedTransaction) -> Result<Inserted, SubmitError> {
        let account = self.state.get(&tx.transaction().sender());
        let admission = self
            .mempool
            .check_verified(tx, &account, &self.genesis.chain_id)
            .map_err(SubmitError::Rejected)?;
        let displaced = self.mempool.displaced(&admission);
        self.store
            .add_pending(admission.transaction(), &displaced)
            .map_err(SubmitError::Storage)?;
        Ok(self.mempool.apply(admission))
    }

    /// Builds, signs and durably commits the next block, if the sequencer signs
    /// it (not once proof of stake is active: validators decide blocks then).
    /// Only after this returns is the block visible to anyone.
    pub fn produce_block(
        &mut self,
        key: &SequencerKey,
        timestamp_ms: u64,
        max_txs: usize,
        max_bytes: usize,
    ) -> Result<Option<Produced>> {
        if self.next_validators().is_some() {
            return Ok(None);
        }
        let candidates = self.mempool.select(max_txs, max_bytes);
        // Built on the live state, not a copy (a copy costs O(accounts) per block).
        // If committing fails, the state is reloaded from the store,
        // which still holds the parent.
        let template = BlockTemplate { parent: &self.head, timestamp_ms, key, parent_commit: None };
        let built = build_block(&mut self.state, template, candidates)
            .context("the sequencer may not sign the next block")?;
        if let Err(e) = self.commit(&built) {
            // Either way the error stops the producer and the daemon exits; the
            // reload keeps the state honest for any request answered meanwhile.
            self.state = self.store.load_state()?;
            return Err(e);
        }
        let BuiltBlock { block, rejected, .. } = built;
        let mut dropped = Vec::new();
        for (hash, reason) in &rejected {
            tracing::info!(%hash, %reason, "left a transaction out of the block");
            dropped.extend(self.mempool.remove(hash));
        }
        self.head = block.header.clone();
        let state = &self.state;
        dropped.extend(self.mempool.remove_committed(&block.transactions, |a| state.get(a).nonce));
        // Already-settled hashes are no-ops here; a crash before this line only
        // leaves entries that the next start drops as unexecutable.
        self.store.remove_pending(&dropped)?;
        Ok(Some(Produced { block, rejected: rejected.len() }))
    }

    /// The validator set that must certify the block after the head, once proof
    /// of stake is active; `None` while the sequencer signs blocks.
    pub fn next_validators(&self) -> Option<ValidatorSet> {
        match self.state.registry()?.authority_for(self.head.height + 1)? {
            Authority::Validators(set) => Some(set.clone()),
            Authority::Sequencer(_) => None,
        }
    }

    /// Who may sign a block at `height` with this proposer, as far as the
    /// registry knows (the current epoch and the next two).
    pub fn signer_of(
        &self,
        height: u64,
        proposer: &SequencerPublicKey,
    ) -> Option<SequencerPublicKey> {
        match self.state.registry()?.authority_for(height)? {
            Authority::Sequencer(key) => Some(key),
            Authority::Validators(set) => set.get(proposer).map(|v| v.key),
        }
    }

    /// Builds a proposal for the block after the head, signed with a validator's
    /// key, without committing it: it is built on a copy of the state (the live
    /// one moves only when a block is decided).
    pub fn build_proposal(
        &self,
        key: &SequencerKey,
        timestamp_ms: u64,
        max_txs: usize,
        max_bytes: usize,
    ) -> Result<Block> {
        let parent_commit = match self.head.validators {
            h if h == Hash::ZERO => None,
            _ => Some(self.store.certificate(self.head.height)?.with_context(|| {
                format!("the certificate of block {} is not stored", self.head.height)
            })?),
        };
        let candidates = self.mempool.select(max_txs, max_bytes);
        let mut state = self.state.clone();
        let template = BlockTemplate { parent: &self.head, timestamp_ms, key, parent_commit };
        Ok(build_block(&mut state, template, candidates)?.block)
    }

    /// Checks a proposed block on top of the head without changing anything: it
    /// is verified statelessly against proofs from this node's own state, and its
    /// time may not be ahead of this node's clock (`now_ms`) by more than
    /// [`MAX_CLOCK_AHEAD_MS`]: block times decide the liveness fallback, so no
    /// proposer may make an epoch look slower than it was.
    pub fn check_proposal(&self, block: &Block, now_ms: u64) -> Result<()> {
        let time = block.header.timestamp_ms;
        if time > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
            bail!("block time {time} ms is {} ms ahead of this node's clock", time - now_ms);
        }
        let witness = self.state.witness(&touched_accounts(&block.transactions));
        Ok(verify_block(block, &self.head, &witness, self.chain_id())?)
    }
}

impl ChainState {
    /// Checks blocks from a peer, in order, against the head and the full state
    /// (header signature, transaction root, every transaction signature,
    /// re-execution to the header's state root), then durably commits the valid
    /// ones in one store transaction (one fsync for the batch). Stops at the first
    /// invalid block: the blocks before it are committed, it and the rest are not.
    /// Returns how many were committed, and the error that stopped the batch.
    pub fn follow(&mut self, blocks: &[Certified<'_>]) -> (usize, Result<(), FollowError>) {
        let mut applied: Vec<(Certified<'_>, AppliedBlock)> = Vec::with_capacity(blocks.len());
        let mut invalid = None;
        for &(block, certificate) in blocks {
            if let Err(e) = self.check_certificate(block, certificate) {
                invalid = Some(e);
                break;
            }
            let parent = applied.last().map_or(&self.head, |((b, _), _)| &b.header);
            match apply_block(block, parent, &mut self.state) {
                Ok(a) => applied.push(((block, certificate), a)),
                Err(e) => {
                    invalid = Some(FollowError::Invalid(e));
                    break;
                }
            }
        }
        let count = applied.len();
        if let Err(e) = self.commit_followed(&applied) {
            // Nothing of the batch is stored: the state goes back to the head's.
            return (0, Err(self.reload_state().err().unwrap_or(FollowError::Storage(e))));
        }
        if let Some(((last, _), _)) = applied.last() {
            self.head = last.header.clone();
        }
        if let Some(FollowError::Invalid(e @ ChainError::StateRootMismatch { .. })) = &invalid {
            // The bad block may have been written back half-way: reload from disk,
            // which now holds the valid blocks before it.
            let e = e.clone();
            return (count, self.reload_state().and(Err(FollowError::Invalid(e))));
        }
        let state = &self.state;
        let mut dropped = Vec::new();
        for ((block, _), _) in &applied {
            dropped
                .extend(self.mempool.remove_committed(&block.transactions, |a| state.get(a).nonce));
        }
        if let Err(e) = self.store.remove_pending(&dropped) {
            return (count, Err(FollowError::Storage(e)));
        }
        (count, invalid.map_or(Ok(()), Err))
    }

    /// A block certified by validators needs a certificate that makes it final
    /// under the set the registry names for its height; a sequencer's block needs
    /// none (its signature is checked with the block).
    fn check_certificate(
        &self,
        block: &Block,
        certificate: Option<&CommitCertificate>,
    ) -> Result<(), FollowError> {
        let height = block.header.height;
        let registry = self.state.registry().ok_or(FollowError::Invalid(ChainError::NoRegistry))?;
        let Some(Authority::Validators(set)) = registry.authority_for(height) else {
            return Ok(());
        };
        let certificate = certificate.ok_or(FollowError::MissingCertificate { height })?;
        certificate
            .verify(self.chain_id(), set, height, &block.hash())
            .map(|_| ())
            .map_err(FollowError::Uncertified)
    }

    fn commit_followed(&self, applied: &[(Certified<'_>, AppliedBlock)]) -> Result<()> {
        let settled: Vec<Vec<Hash>> = applied
            .iter()
            .map(|((b, _), _)| b.transactions.iter().map(Transaction::hash).collect())
            .collect();
        let last = applied.len().saturating_sub(1);
        let commits: Vec<BlockCommit<'_>> = applied
            .iter()
            .zip(&settled)
            .enumerate()
            .map(|(i, (((block, certificate), a), settled))| BlockCommit {
                block,
                witness: Some(&a.witness),
                accounts: &a.accounts,
                settled,
                certificate: *certificate,
                // The batch is one store transaction: the registry as the last
                // block left it is written once.
                registry: if i == last { self.state.registry() } else { None },
            })
            .collect();
        self.store.commit_blocks(&commits)
    }

    fn reload_state(&mut self) -> Result<(), FollowError> {
        self.state = self.store.load_state().map_err(FollowError::Storage)?;
        Ok(())
    }
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(e) => write!(f, "{e}"),
            Self::MissingCertificate { height } => {
                write!(f, "block {height} came without the certificate that makes it final")
            }
            Self::Uncertified(e) => write!(f, "{e}"),
            Self::Storage(e) => write!(f, "storage: {e:#}"),
        }
    }
}

/// Why a peer's block was not followed.
#[derive(Debug)]
pub enum FollowError {
    /// The block is invalid: the peer that sent it is at fault.
    Invalid(ChainError),
    /// A proof-of-stake block came without its certificate.
    MissingCertificate { height: u64 },
    /// A proof-of-stake block's certificate does not make it final.
    Uncertified(CertificateError),
    /// This node could not store it.
    Storage(anyhow::Error),
}

impl ChainState {
    /// Durably commits a built block with the accounts it wrote (read from the
    /// already-updated state) and the pending transactions it settled.
    fn commit(&self, built: &BuiltBlock) -> Result<()> {
        let block = &built.block;
        let accounts: Vec<(Address, Account)> =
            touched_accounts(&block.transactions).iter().map(|a| (*a, self.state.get(a))).collect();
        let mut settled: Vec<Hash> = block.transactions.iter().map(Transaction::hash).collect();
        settled.extend(built.rejected.iter().map(|(h, _)| *h));
        self.store.commit_block(BlockCommit {
            block,
            witness: Some(&built.witness),
            accounts: &accounts,
            settled: &settled,
            certificate: None,
            registry: self.state.registry(),
        })
    }
}

/// Why a submitted transaction was not acknowledged.
#[derive(Debug)]
pub enum SubmitError {
    Rejected(MempoolError),
    Storage(anyhow::Error),
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected(e) => write!(f, "refused: {e}"),
            Self::Storage(e) => write!(f, "storage failure: {e:#}"),
        }
    }
}
