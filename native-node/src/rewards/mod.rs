//! Paying provers on chain, from a funded rewards account this node holds the
//! key of (`--prover-rewards-key`; `starling devnet` derives one).
//!
//! An interim design: the protocol does not mint prover rewards yet, so the
//! reward is an ordinary signed `Transfer` from the rewards account to the
//! winner bound into each settled proof, which the block proof already covers.
//! On every settlement tick the [`Payer`]:
//!
//! 1. checks the payments it recorded and has not seen included: included ones
//!    are counted paid; one whose nonce the account used for something else
//!    (displaced) can never be included, so its height is paid again;
//! 2. plans the next payments ([`starling_core::jobs::payout::plan`]): every
//!    height up to the proven height, in order, each to the prover of its
//!    stored, verified proof, at consecutive nonces from the account's;
//! 3. signs them and records them durably with the new cursor, in one write,
//!    *before* submitting anything;
//! 4. submits every recorded payment not yet in the mempool through the same
//!    path as an RPC-submitted transaction (admission, then gossip), so
//!    whichever node proposes includes it.
//!
//! After a crash the recorded bytes are submitted again, never re-signed under
//! a new nonce while the old one may still be included, so no height is paid
//! twice. A payment the mempool refuses (an empty rewards account) is logged,
//! counted in `starling_prover_rewards_failed_total`, and retried next tick;
//! later heights wait behind it rather than skip it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use anyhow::Result;
use starling_core::crypto::StarkSecretKey;
use starling_core::encoding::Message;
use starling_core::jobs::RewardDue;
use starling_core::jobs::payout::{
    self, Payment, PaymentState, PayoutCursor, PayoutPolicy, classify,
};
use starling_core::mempool::MempoolError;
use starling_core::types::{Address, Call, TxBody};
use starling_net::names::Topic;

use crate::chain_state::SubmitError;
use crate::node::Node;
use crate::storage::{PaymentRecord, Store};

/// What a paying node pays per settled proof unless told otherwise: one token.
pub const DEFAULT_REWARD: u64 = starling_core::types::TOKEN;

/// Most payments signed and not yet included at once: well inside what a
/// mempool holds per sender and ahead of its nonce (64 each by default).
pub const MAX_IN_FLIGHT: usize = 32;

/// Settlement ticks between gossiping the waiting payments again, for peers
/// that missed them (a restart, or no peers yet when they were first sent).
const REGOSSIP_TICKS: u64 = 20;

/// What one prover has been paid by this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProverRewards {
    /// Rewards whose transfer is in a committed block.
    pub paid: u64,
    /// Rewards signed and submitted, not yet in a block.
    pub pending: u64,
}

/// Pays each settled height's prover from the rewards account.
pub struct Payer {
    key: StarkSecretKey,
    account: Address,
    policy: PayoutPolicy,
    fee: u64,
    ledger: Mutex<Ledger>,
}

/// The payer's view of its recorded payments (the store holds the truth; this
/// is rebuilt from it at start).
struct Ledger {
    cursor: PayoutCursor,
    /// Recorded payments not seen included yet, by height.
    waiting: BTreeMap<u64, PaymentRecord>,
    /// Per prover, the rewards seen included.
    paid: HashMap<Address, u64>,
    /// The failure last warned about, so a lasting one is logged once.
    warned: Option<String>,
    ticks: u64,
}

impl Payer {
    /// Resumes paying from the store. A node that never paid starts at the
    /// first height settlement deals with (`first_height`).
    pub fn open(
        store: &Store,
        key: StarkSecretKey,
        amount: u64,
        fee: u64,
        first_height: u64,
    ) -> Result<Self> {
        let cursor = store
            .payout_cursor()?
            .unwrap_or(PayoutCursor { next_height: first_height, next_nonce: 0 });
        let mut waiting = BTreeMap::new();
        let mut paid: HashMap<Address, u64> = HashMap::new();
        for record in store.payments()? {
            if record.included_at.is_some() {
                *paid.entry(record.payment.prover).or_default() += record.payment.amount;
            } else {
                waiting.insert(record.payment.height, record);
            }
        }
        let account = key.public_key().address();
        Ok(Self {
            key,
            account,
            policy: PayoutPolicy { amount, max_in_flight: MAX_IN_FLIGHT },
            fee,
            ledger: Mutex::new(Ledger { cursor, waiting, paid, warned: None, ticks: 0 }),
        })
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("payout ledger lock poisoned")
    }

    /// Base units paid per settled proof.
    pub fn reward(&self) -> u64 {
        self.policy.amount
    }

    /// The rewards account.
    pub fn account(&self) -> Address {
        self.account
    }

    /// What `prover` has been paid and has waiting.
    pub fn rewards_of(&self, prover: &Address) -> ProverRewards {
        let ledger = self.ledger();
        let pending = ledger
            .waiting
            .values()
            .filter(|r| r.payment.prover == *prover)
            .map(|r| r.payment.amount)
            .sum();
        ProverRewards { paid: ledger.paid.get(prover).copied().unwrap_or(0), pending }
    }

    /// One round: reconcile, plan, record, submit (see the module doc).
    pub fn tick(&self, node: &Node) -> Result<()> {
        let mut ledger = self.ledger();
        ledger.ticks += 1;
        let committed_nonce =
            node.chain.lock().expect("chain lock poisoned").state.get(&self.account).nonce;
        // The nonce is read before the blocks: a block is stored before the
        // state moves, so a nonce used by our payment has its block stored.
        let mut records = Vec::new();
        let mut displaced = Vec::new();
        for record in ledger.waiting.values() {
            let location = node.store.tx_location(&record.tx.hash())?;
            match classify(record.payment.nonce, committed_nonce, location.is_some()) {
                PaymentState::Included => records.push(PaymentRecord {
                    included_at: location.map(|l| l.height),
                    ..record.clone()
                }),
                PaymentState::Displaced => {
                    tracing::warn!(
                        height = record.payment.height,
                        nonce = record.payment.nonce,
                        "a prover payment's nonce was used by another transaction of the \
                         rewards account; paying that height again"
                    );
                    displaced.push((record.payment.height, record.payment.prover));
                }
                PaymentState::Waiting => {}
            }
        }
        let included = records.len();
        let in_flight = ledger.waiting.len() - included - displaced.len();
        let proven = node.settlement.proven_height();
        let winners = winners(&node.store, ledger.cursor.next_height, proven)?;
        let plan = payout::plan(
            ledger.cursor,
            committed_nonce,
            proven,
            in_flight,
            &displaced,
            &winners,
            &self.policy,
        );
        records.extend(plan.payments.iter().map(|p| self.sign(node, p)));
        if !records.is_empty() {
            node.store.record_payments(&records, &plan.cursor)?;
        }
        ledger.cursor = plan.cursor;
        for record in records {
            let prover = record.payment.prover;
            if record.included_at.is_some() {
                ledger.waiting.remove(&record.payment.height);
                *ledger.paid.entry(prover).or_default() += record.payment.amount;
                node.metrics.prover_rewards_paid.inc();
            } else {
                ledger.waiting.insert(record.payment.height, record);
            }
        }
        node.metrics.prover_rewards_waiting.set(ledger.waiting.len() as i64);
        if included > 0 || !plan.payments.is_empty() {
            tracing::info!(
                included,
                signed = plan.payments.len(),
                waiting = ledger.waiting.len(),
                next_height = ledger.cursor.next_height,
                "prover rewards"
            );
        }
        self.submit_waiting(node, &mut ledger);
        Ok(())
    }

    /// The signed transfer of `payment`.
    fn sign(&self, node: &Node, payment: &Payment) -> PaymentRecord {
        let body = TxBody {
            chain_id: node.chain_id.clone(),
            sender_key: self.key.public_key(),
            nonce: payment.nonce,
            fee: self.fee,
            call: Call::Transfer { to: payment.prover, amount: payment.amount },
        };
        PaymentRecord { payment: *payment, tx: body.sign(&self.key), included_at: None }
    }

    /// Submits each waiting payment the mempool does not hold, lowest nonce
    /// first; stops at the first refusal (the later ones would fail alike).
    fn submit_waiting(&self, node: &Node, ledger: &mut Ledger) {
        let regossip = ledger.ticks % REGOSSIP_TICKS == 1;
        let mut waiting: Vec<&PaymentRecord> = ledger.waiting.values().collect();
        waiting.sort_by_key(|r| r.payment.nonce);
        let mut failure = None;
        for record in waiting {
            let hash = record.tx.hash();
            let held = node.chain.lock().expect("chain lock poisoned").mempool.get(&hash).is_some();
            if held {
                if regossip {
                    node.net.publish(Topic::Transactions, record.tx.encode_message());
                }
                continue;
            }
            match node.admit(record.tx.clone()) {
                Ok(()) => node.net.publish(Topic::Transactions, record.tx.encode_message()),
                // Included meanwhile, or already held: the next tick sees it.
                Err(SubmitError::Rejected(
                    MempoolError::AlreadyKnown(_) | MempoolError::NonceTooLow { .. },
                )) => {}
                Err(e) => {
                    failure = Some(format!("height {}: {e}", record.payment.height));
                    break;
                }
            }
        }
        match failure {
            Some(why) => {
                node.metrics.prover_rewards_failed.inc();
                if ledger.warned.as_ref() != Some(&why) {
                    tracing::warn!(
                        account = %self.account,
                        reason = %why,
                        "cannot submit a prover reward payment (is the rewards account funded?); \
                         retrying every tick"
                    );
                    ledger.warned = Some(why);
                }
            }
            None => {
                if ledger.warned.take().is_some() {
                    tracing::info!("prover reward payments are accepted again");
                }
            }
        }
    }
}

/// The provers of the stored proofs from `from` up to `proven` (at most
/// [`MAX_IN_FLIGHT`] of them: no plan takes more).
fn winners(store: &Store, from: u64, proven: u64) -> Result<Vec<RewardDue>> {
    let mut out = Vec::new();
    for height in (from..=proven).take(MAX_IN_FLIGHT) {
        let Some(prover) = store.proof_prover(height)? else { break };
        out.push(RewardDue { height, prover });
    }
    Ok(out)
}
