//! The prover payments a paying node has signed (see `crate::rewards`): one
//! record per proven height, written durably *before* the transfer is
//! submitted, in the same write transaction as the payout cursor (the next
//! height to pay and the next nonce). After a crash the node resubmits the
//! recorded bytes rather than signing again, so a height cannot be paid twice:
//! the chain takes a nonce once.

use anyhow::{Context, Result, bail};
use redb::{ReadableTable, TableDefinition};
use starling_core::encoding::Message;
use starling_core::jobs::payout::{Payment, PayoutCursor};
use starling_core::types::{Address, Transaction};

use super::{META, Store};

/// Height → the payment of that height's reward ([`PaymentRecord::to_bytes`]).
pub(super) const PAYMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("payments");
/// The payout cursor: next height (u64 LE) ‖ next nonce (u64 LE).
const CURSOR_KEY: &str = "payout_cursor";
/// `included_at` when the payment is not in a committed block yet.
const NOT_INCLUDED: u64 = u64::MAX;

/// One signed reward payment and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment: Payment,
    /// The signed transfer, as submitted (and resubmitted).
    pub tx: Transaction,
    /// The height of the block that included it, once one did.
    pub included_at: Option<u64>,
}

impl PaymentRecord {
    /// `prover (32) ‖ amount ‖ nonce ‖ included_at (u64::MAX: not yet), all u64
    /// LE ‖ the transaction's message`.
    fn to_bytes(&self) -> Vec<u8> {
        let p = &self.payment;
        let mut out = p.prover.0.to_vec();
        for n in [p.amount, p.nonce, self.included_at.unwrap_or(NOT_INCLUDED)] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend(self.tx.encode_message());
        out
    }

    fn from_bytes(height: u64, bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 56 {
            bail!("a payment record of {} bytes", bytes.len());
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let prover = Address(bytes[..32].try_into().expect("32 bytes"));
        let payment = Payment { height, prover, amount: word(32), nonce: word(40) };
        let included_at = Some(word(48)).filter(|&h| h != NOT_INCLUDED);
        let tx = Transaction::decode_message(&bytes[56..])?;
        Ok(Self { payment, tx, included_at })
    }
}

impl Store {
    /// Where paying stands, if this node ever paid.
    pub fn payout_cursor(&self) -> Result<Option<PayoutCursor>> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(bytes) = meta.get(CURSOR_KEY)? else {
            return Ok(None);
        };
        let bytes: [u8; 16] =
            bytes.value().try_into().map_err(|_| anyhow::anyhow!("corrupt payout cursor"))?;
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        Ok(Some(PayoutCursor { next_height: word(0), next_nonce: word(8) }))
    }

    /// Writes payment records (new, re-signed or now included) and the
    /// cursor, all in one durable transaction.
    pub fn record_payments(&self, records: &[PaymentRecord], cursor: &PayoutCursor) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(PAYMENTS)?;
            for record in records {
                table.insert(record.payment.height, record.to_bytes().as_slice())?;
            }
            let mut bytes = cursor.next_height.to_le_bytes().to_vec();
            bytes.extend_from_slice(&cursor.next_nonce.to_le_bytes());
            txn.open_table(META)?.insert(CURSOR_KEY, bytes.as_slice())?;
        }
        txn.commit().context("recording prover payments")?;
        Ok(())
    }

    /// Every recorded payment, lowest height first.
    pub fn payments(&self) -> Result<Vec<PaymentRecord>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PAYMENTS)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (height, bytes) = row?;
            let record = PaymentRecord::from_bytes(height.value(), bytes.value())
                .with_context(|| format!("corrupt payment record {}", height.value()))?;
            out.push(record);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use starling_core::crypto::StarkSecretKey;
    use starling_core::types::{Call, ChainId, TxBody};

    use super::*;

    fn record(height: u64, nonce: u64, included_at: Option<u64>) -> PaymentRecord {
        let key = StarkSecretKey::from_entropy(&[7; 32]);
        let prover = Address([0; 32]);
        let body = TxBody {
            chain_id: ChainId::new("test").unwrap(),
            sender_key: key.public_key(),
            nonce,
            fee: 1,
            call: Call::Transfer { to: prover, amount: 5 },
        };
        let payment = Payment { height, prover, amount: 5, nonce };
        PaymentRecord { payment, tx: body.sign(&key), included_at }
    }

    /// Proves payment records and the cursor survive closing and reopening
    /// the store exactly as written, and a rewrite of one height replaces it.
    #[test]
    fn payments_round_trip_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.payout_cursor().unwrap(), None);
        let cursor = PayoutCursor { next_height: 3, next_nonce: 9 };
        store.record_payments(&[record(1, 7, Some(4)), record(2, 8, None)], &cursor).unwrap();
        store.record_payments(&[record(2, 8, Some(5))], &cursor).unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.payout_cursor().unwrap(), Some(cursor));
        assert_eq!(store.payments().unwrap(), [record(1, 7, Some(4)), record(2, 8, Some(5))]);
    }
}
