//! Stored proofs indexed by the prover bound into each: who proved a height
//! (the payer reads it to pay that height), and how many proofs name each
//! prover (`starling_getProverRewards`, which volunteer pages poll, reads a
//! count rather than every proof or every index row).

use std::collections::HashMap;

use anyhow::{Context, Result};
use redb::{ReadableTable, ReadableTableMetadata, Table, TableDefinition, WriteTransaction};
use starling_core::proving::proof::BlockProof;
use starling_core::types::Address;

use super::{PROOFS, Store};

/// Height → the reward address bound into that height's stored proof.
pub(super) const PROOF_PROVERS: TableDefinition<u64, &[u8; 32]> =
    TableDefinition::new("proof_provers");
/// Reward address → how many stored proofs bind it.
pub(super) const PROVER_COUNTS: TableDefinition<&[u8; 32], u64> =
    TableDefinition::new("prover_proof_counts");

/// The reward address a stored proof's bytes bind.
fn prover_in(proof: &[u8]) -> Result<Address> {
    BlockProof::prover_of(proof).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Indexes the proof of `height` (`proof`, being stored in `txn`), replacing
/// whatever the index held for that height.
pub(super) fn index_proof(txn: &WriteTransaction, height: u64, proof: &[u8]) -> Result<()> {
    let prover = prover_in(proof).context("a verified proof names its prover")?;
    let replaced =
        txn.open_table(PROOF_PROVERS)?.insert(height, &prover.0)?.map(|old| *old.value());
    let mut counts = txn.open_table(PROVER_COUNTS)?;
    if let Some(old) = replaced {
        add(&mut counts, &old, -1)?;
    }
    add(&mut counts, &prover.0, 1)
}

/// Moves `prover`'s proof count by `delta`.
fn add(counts: &mut Table<&[u8; 32], u64>, prover: &[u8; 32], delta: i64) -> Result<()> {
    let count = counts.get(prover)?.map_or(0, |c| c.value());
    counts.insert(prover, count.saturating_add_signed(delta))?;
    Ok(())
}

impl Store {
    /// Builds the index for proofs stored before it existed (a store written
    /// by an older node), once.
    pub(super) fn index_stored_proofs(&self) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let proofs = txn.open_table(PROOFS)?;
            let mut provers = txn.open_table(PROOF_PROVERS)?;
            let mut counts = txn.open_table(PROVER_COUNTS)?;
            let counted = !counts.is_empty()? || proofs.is_empty()?;
            if proofs.len()? == provers.len()? && counted {
                return Ok(());
            }
            let mut tally: HashMap<[u8; 32], u64> = HashMap::new();
            for row in proofs.iter()? {
                let (height, proof) = row?;
                let prover = prover_in(proof.value())
                    .with_context(|| format!("corrupt stored proof {}", height.value()))?;
                provers.insert(height.value(), &prover.0)?;
                *tally.entry(prover.0).or_default() += 1;
            }
            counts.retain(|_, _| false)?;
            for (prover, count) in tally {
                counts.insert(&prover, count)?;
            }
        }
        txn.commit().context("indexing stored proofs by prover")?;
        Ok(())
    }

    /// The reward address of the stored proof of the block at `height`.
    pub fn proof_prover(&self, height: u64) -> Result<Option<Address>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROOF_PROVERS)?;
        Ok(table.get(height)?.map(|v| Address(*v.value())))
    }

    /// How many stored proofs bind `prover` as their reward address.
    pub fn proofs_by(&self, prover: &Address) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROVER_COUNTS)?;
        Ok(table.get(&prover.0)?.map_or(0, |c| c.value()))
    }
}

#[cfg(test)]
mod tests {
    use redb::Database;
    use starling_core::proving::proof::HEADER_LEN;

    use super::*;

    /// Bytes shaped like a stored proof of `prover` (only the header is read).
    fn proof_of(prover: u8) -> Vec<u8> {
        let mut bytes = vec![1];
        bytes.extend([prover; 32]);
        bytes.resize(HEADER_LEN + 64, 0);
        bytes
    }

    /// Proves proofs stored before the prover index existed (by an older node)
    /// are indexed when the store opens, and proofs stored since are indexed
    /// as they are written: counting a prover's proofs sees them all.
    #[test]
    fn stored_proofs_are_indexed_by_prover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let mut proofs = txn.open_table(PROOFS).unwrap();
            proofs.insert(1, proof_of(7).as_slice()).unwrap();
            proofs.insert(2, proof_of(8).as_slice()).unwrap();
            drop(proofs);
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.proof_prover(1).unwrap(), Some(Address([7; 32])));
        assert_eq!(store.proof_prover(2).unwrap(), Some(Address([8; 32])));
        store.put_proof(3, &proof_of(7)).unwrap();
        assert_eq!(store.proofs_by(&Address([7; 32])).unwrap(), 2);
        assert_eq!(store.proofs_by(&Address([9; 32])).unwrap(), 0);
        assert_eq!(store.proof_prover(4).unwrap(), None);
    }
}
