//! Crash-safe storage of the chain: blocks, their witnesses, the current accounts,
//! and the transactions the node has acknowledged but not yet included.
//!
//! Backed by redb, an embedded ACID database: each block is committed in one
//! durable write transaction together with the account changes and the head pointer,
//! so after a crash the store holds either the whole block or none of it. A block is
//! reported (RPC, logs, the page) only after its commit returns.
//!
//! From the proof-of-stake stage on, a block's commit certificate is stored in the
//! same transaction as the block, and so is the staking registry (the preimage of
//! the registry account's commitment) whenever the block changed it.

use std::path::Path;

use anyhow::{Context, Result, bail};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use starling_core::consensus::CommitCertificate;
use starling_core::encoding::{Decode, Encode, Message, Reader};
use starling_core::staking::StakingState;
use starling_core::state::{Account, StateTree, Witness};
use starling_core::types::{Address, Block, Hash, Header, Transaction};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const WITNESSES: TableDefinition<u64, &[u8]> = TableDefinition::new("witnesses");
/// Height → the precommits that made the block there final (proof-of-stake blocks).
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
const BLOCK_HEIGHTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_heights");
/// Transaction hash → (height, index in block).
const TX_LOCATIONS: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_locations");
const ACCOUNTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("accounts");
const PENDING: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("pending");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Height → the verified STARK proof of that block's state transition
/// (`BlockProof::to_bytes`), kept so the node can serve it and never re-verify it.
const PROOFS: TableDefinition<u64, &[u8]> = TableDefinition::new("proofs");

mod payouts;
mod proof_index;
pub use payouts::PaymentRecord;

const HEAD_KEY: &str = "head_height";
const GENESIS_KEY: &str = "genesis_hash";
/// The staking registry as of the head.
const REGISTRY_KEY: &str = "staking_registry";

/// The node's database.
pub struct Store {
    db: Database,
}

/// Where a transaction was included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    pub height: u64,
    pub index: u32,
}

/// What one block changes in the store.
pub struct BlockCommit<'a> {
    pub block: &'a Block,
    /// `None` for genesis.
    pub witness: Option<&'a Witness>,
    /// Accounts written by the block, with their new values.
    pub accounts: &'a [(Address, Account)],
    /// Acknowledged transactions to forget: included, or found unexecutable.
    pub settled: &'a [Hash],
    /// The precommits that made the block final, for a proof-of-stake block.
    pub certificate: Option<&'a CommitCertificate>,
    /// The staking registry after the block, when the block changed it.
    pub registry: Option<&'a StakingState>,
}

/// Writes everything of one block into `txn` (the caller commits).
fn write_block(txn: &WriteTransaction, commit: &BlockCommit<'_>) -> Result<()> {
    let block = commit.block;
    let height = block.header.height;
    let hash = block.hash();
    {
        txn.open_table(BLOCKS)?.insert(height, block.encode_message().as_slice())?;
        if let Some(w) = commit.witness {
            txn.open_table(WITNESSES)?.insert(height, w.encode_message().as_slice())?;
        }
        if let Some(c) = commit.certificate {
            txn.open_table(CERTIFICATES)?.insert(height, c.encode_message().as_slice())?;
        }
        txn.open_table(BLOCK_HEIGHTS)?.insert(&hash.0, height)?;
        let mut locations = txn.open_table(TX_LOCATIONS)?;
        for (index, tx) in block.transactions.iter().enumerate() {
            locations.insert(&tx.hash().0, (height, index as u32))?;
        }
        let mut accounts = txn.open_table(ACCOUNTS)?;
        for (address, account) in commit.accounts {
            if account.is_empty() {
                accounts.remove(&address.0)?;
            } else {
                accounts.insert(&address.0, account.to_bytes().as_slice())?;
            }
        }
        let mut pending = txn.open_table(PENDING)?;
        for h in commit.settled {
            pending.remove(&h.0)?;
        }
        let mut meta = txn.open_table(META)?;
        meta.insert(HEAD_KEY, height.to_le_bytes().as_slice())?;
        if let Some(registry) = commit.registry {
            meta.insert(REGISTRY_KEY, registry.encode_message().as_slice())?;
        }
        if height == 0 {
            meta.insert(GENESIS_KEY, hash.0.as_slice())?;
        }
    }
    Ok(())
}

fn decode_stored<T: Message>(what: &str, key: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    T::decode_message(bytes).with_context(|| format!("corrupt stored {what} {key}"))
}

impl Store {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path)
            .with_context(|| format!("cannot open the database at {}", path.display()))?;
        let txn = db.begin_write()?;
        for table in [BLOCKS, WITNESSES, CERTIFICATES, PROOFS] {
            let _ = txn.open_table(table)?;
        }
        for table in [ACCOUNTS, PENDING] {
            let _ = txn.open_table(table)?;
        }
        let _ = txn.open_table(BLOCK_HEIGHTS)?;
        let _ = txn.open_table(TX_LOCATIONS)?;
        let _ = txn.open_table(META)?;
        let _ = txn.open_table(proof_index::PROOF_PROVERS)?;
        let _ = txn.open_table(proof_index::PROVER_COUNTS)?;
        let _ = txn.open_table(payouts::PAYMENTS)?;
        txn.commit()?;
        let store = Self { db };
        store.index_stored_proofs()?;
        Ok(store)
    }

    /// Height of the newest committed block, `None` for an empty store.
    pub fn head_height(&self) -> Result<Option<u64>> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(bytes) = meta.get(HEAD_KEY)? else {
            return Ok(None);
        };
        let bytes: [u8; 8] =
            bytes.value().try_into().map_err(|_| anyhow::anyhow!("corrupt stored head height"))?;
        Ok(Some(u64::from_le_bytes(bytes)))
    }

    /// The genesis hash this store was created with.
    pub fn genesis_hash(&self) -> Result<Option<Hash>> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(bytes) = meta.get(GENESIS_KEY)? else {
            return Ok(None);
        };
        let bytes: [u8; 32] =
            bytes.value().try_into().map_err(|_| anyhow::anyhow!("corrupt stored genesis hash"))?;
        Ok(Some(Hash(bytes)))
    }

    /// Commits a block atomically and durably: block, witness, indexes, accounts,
    /// settled pending transactions and the new head, all or nothing.
    pub fn commit_block(&self, commit: BlockCommit<'_>) -> Result<()> {
        self.commit_blocks(std::slice::from_ref(&commit))
    }

    /// Commits consecutive blocks in one durable transaction: all or none.
    pub fn commit_blocks(&self, commits: &[BlockCommit<'_>]) -> Result<()> {
        if commits.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        for commit in commits {
            write_block(&txn, commit)?;
        }
        txn.commit().context("committing blocks")?;
        Ok(())
    }

    /// Starts an empty store from a verified snapshot: the block at the snapshot
    /// height becomes the head and `accounts` the whole state, in one transaction.
    pub fn install_snapshot(
        &self,
        genesis: &Hash,
        block: &Block,
        accounts: &[(Address, Account)],
        registry: Option<&StakingState>,
    ) -> Result<()> {
        if self.head_height()?.is_some() {
            bail!("the data directory already holds a chain; a snapshot starts only an empty one");
        }
        let txn = self.db.begin_write()?;
        let commit = BlockCommit {
            block,
            witness: None,
            accounts,
            settled: &[],
            certificate: None,
            registry,
        };
        write_block(&txn, &commit)?;
        txn.open_table(META)?.insert(GENESIS_KEY, genesis.0.as_slice())?;
        txn.commit().context("installing a snapshot")?;
        Ok(())
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let Some(bytes) = table.get(height)? else {
            return Ok(None);
        };
        decode_stored("block", height, bytes.value()).map(Some)
    }

    /// A block's stored encoding (a versioned [`Block`] message), as it is.
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The commit certificate stored with the block at `height`, if it has one.
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CERTIFICATES)?;
        let Some(bytes) = table.get(height)? else {
            return Ok(None);
        };
        decode_stored("certificate", height, bytes.value()).map(Some)
    }

    /// A block's stored witness encoding, as it is (`None` for genesis).
    pub fn witness_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(WITNESSES)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The header of the block at `height`, decoded without its transactions.
    pub fn header(&self, height: u64) -> Result<Option<Header>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let Some(bytes) = table.get(height)? else {
            return Ok(None);
        };
        let mut reader = Reader::new(bytes.value().get(1..).unwrap_or_default());
        let header = Header::decode_from(&mut reader)
            .with_context(|| format!("corrupt stored block {height}"))?;
        Ok(Some(header))
    }

    /// The lowest height the store holds a block of: genesis, or the snapshot
    /// the node started from.
    pub fn first_height(&self) -> Result<Option<u64>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        Ok(table.first()?.map(|(height, _)| height.value()))
    }

    /// Durably records the verified proof of the block at `height`, indexed by
    /// the reward address bound into it.
    pub fn put_proof(&self, height: u64, proof: &[u8]) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(PROOFS)?.insert(height, proof)?;
        proof_index::index_proof(&txn, height, proof)?;
        txn.commit().context("recording a block proof")?;
        Ok(())
    }

    /// The stored proof of the block at `height`, as it was verified.
    pub fn proof_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROOFS)?;
        Ok(table.get(height)?.map(|v| v.value().to_vec()))
    }

    /// The highest `h >= base` such that every block in `base + 1..=h` has a
    /// stored proof: how far settlement got, counted from `base`.
    pub fn proven_from(&self, base: u64) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROOFS)?;
        let mut proven = base;
        for row in table.range(base.saturating_add(1)..)? {
            let (height, _) = row?;
            if height.value() != proven + 1 {
                break;
            }
            proven += 1;
        }
        Ok(proven)
    }

    pub fn height_of(&self, hash: &Hash) -> Result<Option<u64>> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(BLOCK_HEIGHTS)?.get(&hash.0)?.map(|v| v.value()))
    }

    pub fn tx_location(&self, hash: &Hash) -> Result<Option<TxLocation>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TX_LOCATIONS)?;
        Ok(table.get(&hash.0)?.map(|v| {
            let (height, index) = v.value();
            TxLocation { height, index }
        }))
    }

    /// Rebuilds the state tree from the stored accounts and staking registry.
    pub fn load_state(&self) -> Result<StateTree> {
        let txn = self.db.begin_read()?;
        let mut state = StateTree::new();
        // The registry first: the registry account's commitment must match it.
        if let Some(bytes) = txn.open_table(META)?.get(REGISTRY_KEY)? {
            let registry: StakingState = decode_stored("staking registry", "", bytes.value())?;
            state.set_registry(registry).context("the stored staking registry")?;
        }
        let table = txn.open_table(ACCOUNTS)?;
        for row in table.iter()? {
            let (key, value) = row?;
            let address = Address(*key.value());
            let mut reader = Reader::new(value.value());
            let account = Account::decode_from(&mut reader)
                .and_then(|a| reader.finish().map(|()| a))
                .with_context(|| format!("corrupt stored account {address}"))?;
            state.set(address, account).with_context(|| format!("stored account {address}"))?;
        }
        Ok(state)
    }

    /// Durably records a transaction the node is about to acknowledge, and forgets
    /// the ones it displaced (replaced or evicted), in one write transaction.
    pub fn add_pending(&self, tx: &Transaction, displaced: &[Hash]) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(PENDING)?;
            table.insert(&tx.hash().0, tx.encode_message().as_slice())?;
            for h in displaced {
                table.remove(&h.0)?;
            }
        }
        txn.commit().context("recording an acknowledged transaction")?;
        Ok(())
    }

    /// Acknowledged transactions not yet settled, in no particular order.
    pub fn pending(&self) -> Result<Vec<Transaction>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PENDING)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for row in table.iter()? {
            let (key, value) = row?;
            out.push(decode_stored("pending transaction", Hash(*key.value()), value.value())?);
        }
        Ok(out)
    }

    /// Forgets acknowledged transactions (e.g. ones that can no longer execute).
    pub fn remove_pending(&self, hashes: &[Hash]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(PENDING)?;
            for h in hashes {
                table.remove(&h.0)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Fails unless the store is empty or was created for `genesis`.
    pub fn check_genesis(&self, genesis: &Hash) -> Result<()> {
        match self.genesis_hash()? {
            Some(stored) if stored != *genesis => bail!(
                "this data directory holds a different chain (genesis {stored}, configured {genesis})"
            ),
            _ => Ok(()),
        }
    }
}
