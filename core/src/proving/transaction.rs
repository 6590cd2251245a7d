//! The transaction component: one row per statement entry (every transaction,
//! then the block end), checking that the entry's account writes follow its
//! kind's balance and nonce rules.
//!
//! # What a row proves
//!
//! A row uses (+1) its entry's [`Transaction`] tuple, exactly as
//! [`TxEntry::elements`] lays it out, and one [`Write`] tuple per write of
//! the entry: `[w, addr, old balance, old nonce, old staking, new balance, new
//! nonce, new staking]` with `w = first_write` (the *sender write*) and, for
//! the kinds that write twice, `w = first_write + 1` (the *second write*). The
//! verifier yields the entry; the write component yields each write it proved
//! against the state tree. So every row stands for a real entry and real
//! writes, and what is left to check here is arithmetic between them.
//!
//! Write `S`, `S'` for the sender write's old and new balance, `R`, `R'` for
//! the second write's, `a`, `f` for the entry's amount and fee, `n`, `n⁺` for
//! its nonce and next nonce. All are `u64`s, as four 16-bit limbs. The rules,
//! over the integers:
//!
//! | kind | sender write (addr = `sender`) | second write (addr = `to`) |
//! |---|---|---|
//! | `Transfer` | `S = S' + a + f` | `R' = R + a` |
//! | `TransferToSelf` | `S = T + a + f`, `S' = T + a` | — |
//! | `TransferZero` | `S = S' + 0 + f` (`a = 0`) | — |
//! | `StakeDeposit` | `S = S' + a + f` | `R' = R + a` |
//! | `StakeNeutral` | `S = S' + 0 + f` | `R' = R` |
//! | `StakeWithdraw` | `S = T + 0 + f`, `S' = T + x` | `R' + x = R` |
//! | `StakeSlash` | `S = S' + 0 + f` | `R' + b = R` |
//! | `BlockEnd` (addr = registry) | `S' = S + m`, `m + s = a` | — |
//!
//! where `T` is the sender's balance after paying amount and fee (so
//! `T ≥ 0` is "the sender can afford `a + f`", even for a transfer to itself,
//! as the native rules require), and the prover supplies the *hidden* values
//! `x` (the withdrawal), `b` (the slash burned), `m` (the issuance minted) and
//! `s` (the issuance left unminted). Every transaction's sender write also has
//! old nonce `n`, new nonce `n⁺`, and the same staking commitment before and
//! after; the block end's keeps the registry's nonce and leaves its staking
//! commitment free (the registry's bookkeeping is not proven). The second write
//! keeps its nonce; a transfer's recipient keeps its staking commitment, the
//! registry's is free. The amounts `a` of the non-deposit staking calls are 0
//! in the statement, so the deposit is `a` exactly when the call deposits.
//!
//! No underflow and no overflow: each equation is checked as a sum of limbs
//! with carries and no final carry ([`super::uint`]), so both sides are equal
//! as integers; and every value on the left or right that the row *creates* —
//! `S'`, `R'`, `T` (which is `s` for the block end) and the hidden value
//! (`x`, `b` or `m`) — is range-checked as two bytes per limb through the
//! [`Byte`] relation. A `u64` that is a sum of range-checked `u64`s cannot have
//! wrapped, and a difference cannot have gone below zero: `R' + x = R` with
//! `R'`, `x ≥ 0` means the escrow paid no more than it held.
//!
//! # Why old values need no range check
//!
//! `S` and `R` (and the old nonces) are leaf contents: the write component
//! opens them against the state root, so they are what the tree holds. Every
//! leaf was written either by the genesis (from `u64` values) or by an earlier
//! write whose new values were range-checked in this component — in this
//! block's proof, or in the proof of the block that wrote it (the settlement
//! verifier accepts a root only with a proof chaining back to genesis). A
//! prover could present other limbs for a leaf only by finding a second
//! preimage of its Poseidon2 digest. The public values (amount, fee, nonces)
//! are built by the verifier from `u64`s.
//!
//! # What is left to others
//!
//! - *How much* a withdrawal or a slash is, and how the block end's issuance
//!   is shared out: that is the registry's bookkeeping, which is not proven
//!   ([`super`]). The AIR bounds the moves only: tokens leave the escrow only
//!   to the sender (a withdrawal) or to nowhere (a slash), never more than it
//!   holds, and the block end raises it by at most `a`.
//! - The block end's `a` is the block reward plus the fees whatever the
//!   stage, so in the single stage, where the native hook mints nothing, the
//!   AIR still accepts a block end that mints up to `a` into the escrow.
//! - Stateless rules (signatures, chain id, no transfer to the registry, a
//!   canonical recipient) are the validators', as is the header.
//! - The hidden value's cells on a row whose kind does not use it enter no
//!   equation, only the byte lookups; the prover puts 0 there.
//!
//! # Layout
//!
//! One row, [`N_COLUMNS`] columns, in this order: eight kind flags (one per
//! [`TxKind::ALL`], boolean, at most one set: `enabled = Σ flags`, the kind
//! tag is `Σ tag·flag`), the entry (index, first write, sender, to, amount,
//! fee, nonce, next nonce), the sender write and the second write (old
//! balance, nonce, old staking, new staking, new balance as bytes), `T` as
//! bytes, the hidden value as bytes, then the carries of the three sums. A
//! limb held as bytes is the expression `low + 256·high`, not a column. Rows
//! past the last entry are all zero: every flag 0, so every multiplicity is 0
//! and every constraint holds.
//!
//! The block end reuses the sender-write sums: with `tx = enabled − f_BlockEnd`
//! (1 on a transaction row, 0 on the block end),
//!
//! ```text
//! (A) T + tx·a + f_BlockEnd·m + f        = tx·S + f_BlockEnd·a       carries ∈ {0, 1, 2}
//! (B) tx·T + f_BlockEnd·S + X            = S'                         carries ∈ {0, 1}
//! (C) R + (f_Transfer + f_StakeDeposit)·a = R' + (f_StakeWithdraw + f_StakeSlash)·h
//!                                                                     carries ∈ {−1, 0, 1}
//! X = f_TransferToSelf·a + (f_StakeWithdraw + f_BlockEnd)·h
//! ```
//!
//! with `h` the hidden value. Every constraint is of degree at most 3 (the
//! ternary carries; the sums are of degree 2), so the constraints are
//! evaluated on a domain twice the trace's. Lookups are linear (multiplicity
//! a sum of flags, elements columns or linear expressions in them) and batched in
//! pairs: each pair's constraint is of degree 3.
//!
//! [`TxEntry::elements`]: super::statement::TxEntry::elements
//! [`Transaction`]: super::relations::Transaction
//! [`Write`]: super::relations::Write
//! [`Byte`]: super::relations::Byte

use core::fmt;
use core::ops::{Add, Mul, Sub};

use stwo::core::fields::m31::BaseField;
use stwo_constraint_framework::{EvalAtRow, FrameworkComponent, FrameworkEval, RelationEntry};

use super::relations::{Relations, TRANSACTION_SIZE, WRITE_SIZE};
use super::statement::TxKind;
use super::uint::{BYTES, CARRIES, LIMBS, constrain_in, constrain_sum, limbs_from_bytes};

#[cfg(feature = "prover")]
pub use prover::{TransactionTrace, gen_trace};

/// Kinds of entry, one flag column each.
const KINDS: usize = TxKind::ALL.len();
/// Elements of an address or a staking commitment.
const DIGEST: usize = 8;
/// Values range-checked per row: the two new balances, `T` and the hidden value.
const RANGE_CHECKED: usize = 4;
/// Byte lookups per row.
const BYTE_LOOKUPS: usize = RANGE_CHECKED * BYTES;
/// Cells of one write: old balance, nonce, old staking, new staking, new
/// balance bytes.
const WRITE_CELLS: usize = LIMBS + LIMBS + 2 * DIGEST + BYTES;

/// Columns of the transaction component's main trace.
pub const N_COLUMNS: usize =
    KINDS + 2 + 2 * DIGEST + 4 * LIMBS + 2 * WRITE_CELLS + 2 * BYTES + 3 * CARRIES;

/// LogUp fractions per row: the entry, two writes, the bytes.
pub const N_FRACTIONS: usize = 3 + BYTE_LOOKUPS;
/// Interaction columns (each of four base columns): the fractions in pairs.
pub const N_BATCHES: usize = N_FRACTIONS.div_ceil(2);

/// The transaction component's constraints.
#[derive(Clone, Debug)]
pub struct TransactionEval {
    pub log_size: u32,
    pub relations: Relations,
}

/// The transaction component, as the prover and verifier take it.
pub type TransactionComponent = FrameworkComponent<TransactionEval>;

impl FrameworkEval for TransactionEval {
    fn log_size(&self) -> u32 {
        self.log_size
    }

    /// Constraints are of degree at most 3, so their quotients (degree
    /// `(3 − 1)·n` for `n` rows) fit a domain of `2n` points.
    fn max_constraint_log_degree_bound(&self) -> u32 {
        self.log_size + 1
    }

    fn evaluate<E: EvalAtRow>(&self, mut eval: E) -> E {
        let row = TxRow::read(|| eval.next_trace_mask());
        for flag in &row.flags {
            constrain_in(&mut eval, flag, &[0, 1]);
        }
        let enabled = row.enabled();
        constrain_in(&mut eval, &enabled, &[0, 1]);

        let flag = |kind: TxKind| row.flags[slot(kind)].clone();
        let block_end = flag(TxKind::BlockEnd);
        let tx = enabled - block_end.clone();

        // A transaction's sender write: old nonce = n, staking unchanged. The
        // new nonce is `old + n⁺ − n` in the tuple: n⁺ for a transaction, the
        // old nonce for the block end (whose n = n⁺ = 0).
        let sender = &row.sender_write;
        for (old, entry) in sender.nonce.iter().zip(&row.nonce) {
            eval.add_constraint(tx.clone() * (old.clone() - entry.clone()));
        }
        for (new, old) in sender.new_staking.iter().zip(&sender.old_staking) {
            eval.add_constraint(tx.clone() * (new.clone() - old.clone()));
        }
        // A transfer's recipient keeps its staking commitment.
        let second = &row.second_write;
        for (new, old) in second.new_staking.iter().zip(&second.old_staking) {
            eval.add_constraint(flag(TxKind::Transfer) * (new.clone() - old.clone()));
        }

        let sender_new = limbs_from_bytes(&sender.new_balance);
        let second_new = limbs_from_bytes(&second.new_balance);
        let debited = limbs_from_bytes(&row.debited);
        let hidden = limbs_from_bytes(&row.hidden);
        let amount = &row.amount;

        // (A) T + tx·a + f_BlockEnd·m + f = tx·S + f_BlockEnd·a
        let lhs = core::array::from_fn(|i| {
            debited[i].clone()
                + tx.clone() * amount[i].clone()
                + block_end.clone() * hidden[i].clone()
                + row.fee[i].clone()
        });
        let rhs = core::array::from_fn(|i| {
            tx.clone() * sender.old_balance[i].clone() + block_end.clone() * amount[i].clone()
        });
        constrain_sum(&mut eval, lhs, rhs, &row.debit_carries);

        // (B) tx·T + f_BlockEnd·S + X = S'
        let paid_hidden = flag(TxKind::StakeWithdraw) + block_end.clone();
        let lhs = core::array::from_fn(|i| {
            tx.clone() * debited[i].clone()
                + block_end.clone() * sender.old_balance[i].clone()
                + flag(TxKind::TransferToSelf) * amount[i].clone()
                + paid_hidden.clone() * hidden[i].clone()
        });
        constrain_sum(&mut eval, lhs, sender_new, &row.credit_carries);

        // (C) R + (f_Transfer + f_StakeDeposit)·a = R' + (f_StakeWithdraw + f_StakeSlash)·h
        let credited = flag(TxKind::Transfer) + flag(TxKind::StakeDeposit);
        let debited_hidden = flag(TxKind::StakeWithdraw) + flag(TxKind::StakeSlash);
        let lhs = core::array::from_fn(|i| {
            second.old_balance[i].clone() + credited.clone() * amount[i].clone()
        });
        let rhs = core::array::from_fn(|i| {
            second_new[i].clone() + debited_hidden.clone() * hidden[i].clone()
        });
        constrain_sum(&mut eval, lhs, rhs, &row.second_carries);

        for carry in &row.debit_carries {
            constrain_in(&mut eval, carry, &[0, 1, 2]);
        }
        for carry in &row.credit_carries {
            constrain_in(&mut eval, carry, &[0, 1]);
        }
        for carry in &row.second_carries {
            constrain_in(&mut eval, carry, &[-1, 0, 1]);
        }

        row.lookups(&mut EvalLookups { eval: &mut eval, relations: &self.relations });
        eval.finalize_logup_in_pairs();
        eval
    }
}

/// The column of `kind`'s flag: [`TxKind::ALL`] is in tag order from 1.
const fn slot(kind: TxKind) -> usize {
    kind.tag() as usize - 1
}

/// What the tuples are built from: trace cells, their packed rows, or
/// symbolic expressions.
trait Felt:
    Clone + Add<Output = Self> + Sub<Output = Self> + Mul<BaseField, Output = Self> + From<BaseField>
{
}

impl<T> Felt for T where
    T: Clone + Add<Output = T> + Sub<Output = T> + Mul<BaseField, Output = T> + From<BaseField>
{
}

/// One account write's cells.
#[derive(Clone, Debug, PartialEq)]
struct WriteCells<F> {
    old_balance: [F; LIMBS],
    /// The old nonce; the new one for the second write (which keeps it).
    nonce: [F; LIMBS],
    old_staking: [F; DIGEST],
    new_staking: [F; DIGEST],
    new_balance: [F; BYTES],
}

/// One row's cells, in column order.
#[derive(Clone, Debug, PartialEq)]
struct TxRow<F> {
    flags: [F; KINDS],
    index: F,
    first_write: F,
    sender: [F; DIGEST],
    to: [F; DIGEST],
    amount: [F; LIMBS],
    fee: [F; LIMBS],
    nonce: [F; LIMBS],
    next_nonce: [F; LIMBS],
    sender_write: WriteCells<F>,
    second_write: WriteCells<F>,
    /// `T`: for a transaction, the sender's balance after paying amount and
    /// fee; for the block end, the issuance left unminted.
    debited: [F; BYTES],
    /// The withdrawal, the slash, or the issuance minted; 0 otherwise.
    hidden: [F; BYTES],
    debit_carries: [F; CARRIES],
    credit_carries: [F; CARRIES],
    second_carries: [F; CARRIES],
}

/// The next `N` values of `next`.
fn take<F, const N: usize>(next: &mut impl FnMut() -> F) -> [F; N] {
    core::array::from_fn(|_| next())
}

impl<F> WriteCells<F> {
    fn read(next: &mut impl FnMut() -> F) -> Self {
        Self {
            old_balance: take(next),
            nonce: take(next),
            old_staking: take(next),
            new_staking: take(next),
            new_balance: take(next),
        }
    }

    #[cfg_attr(not(any(feature = "prover", test)), allow(dead_code))]
    fn cells(&self) -> impl Iterator<Item = &F> {
        let Self { old_balance, nonce, old_staking, new_staking, new_balance } = self;
        old_balance.iter().chain(nonce).chain(old_staking).chain(new_staking).chain(new_balance)
    }
}

impl<F> TxRow<F> {
    /// Reads a row from its cells in column order (struct fields are
    /// initialised in the order written).
    fn read(mut next: impl FnMut() -> F) -> Self {
        let next = &mut next;
        Self {
            flags: take(next),
            index: next(),
            first_write: next(),
            sender: take(next),
            to: take(next),
            amount: take(next),
            fee: take(next),
            nonce: take(next),
            next_nonce: take(next),
            sender_write: WriteCells::read(next),
            second_write: WriteCells::read(next),
            debited: take(next),
            hidden: take(next),
            debit_carries: take(next),
            credit_carries: take(next),
            second_carries: take(next),
        }
    }

    /// The cells in column order: the inverse of [`Self::read`].
    #[cfg_attr(not(any(feature = "prover", test)), allow(dead_code))]
    fn cells(&self) -> impl Iterator<Item = &F> {
        let Self {
            flags,
            index,
            first_write,
            sender,
            to,
            amount,
            fee,
            nonce,
            next_nonce,
            sender_write,
            second_write,
            debited,
            hidden,
            debit_carries,
            credit_carries,
            second_carries,
        } = self;
        flags
            .iter()
            .chain([index, first_write])
            .chain(sender)
            .chain(to)
            .chain(amount)
            .chain(fee)
            .chain(nonce)
            .chain(next_nonce)
            .chain(sender_write.cells())
            .chain(second_write.cells())
            .chain(debited)
            .chain(hidden)
            .chain(debit_carries)
            .chain(credit_carries)
            .chain(second_carries)
    }
}

/// The elements of `parts`, concatenated.
fn concat<F: Clone, const N: usize>(parts: &[&[F]]) -> [F; N] {
    let mut cells = parts.iter().flat_map(|part| part.iter()).cloned();
    let out = core::array::from_fn(|_| cells.next().expect("parts hold N elements"));
    debug_assert!(cells.next().is_none(), "parts hold N elements");
    out
}

/// Where a row's lookups go, in the row's order.
trait LookupSink<F> {
    fn transaction(&mut self, multiplicity: F, tuple: &[F; TRANSACTION_SIZE]);
    fn write(&mut self, multiplicity: F, tuple: &[F; WRITE_SIZE]);
    fn byte(&mut self, multiplicity: F, value: F);
}

impl<F: Felt> TxRow<F> {
    fn zero() -> F {
        F::from(BaseField::from_u32_unchecked(0))
    }

    /// 1 on an entry's row, 0 on padding.
    fn enabled(&self) -> F {
        self.flags.iter().cloned().fold(Self::zero(), |sum, f| sum + f)
    }

    /// 1 on the row of an entry that writes twice.
    fn two_writes(&self) -> F {
        TxKind::ALL
            .iter()
            .filter(|kind| kind.writes() == 2)
            .fold(Self::zero(), |sum, kind| sum + self.flags[slot(*kind)].clone())
    }

    fn transaction_tuple(&self) -> [F; TRANSACTION_SIZE] {
        let tag = TxKind::ALL.iter().fold(Self::zero(), |sum, kind| {
            sum + self.flags[slot(*kind)].clone() * BaseField::from_u32_unchecked(kind.tag())
        });
        concat(&[
            &[self.index.clone(), tag, self.first_write.clone()],
            &self.sender,
            &self.to,
            &self.amount,
            &self.fee,
            &self.nonce,
            &self.next_nonce,
        ])
    }

    fn sender_write_tuple(&self) -> [F; WRITE_SIZE] {
        let cells = &self.sender_write;
        let new_nonce: [F; LIMBS] = core::array::from_fn(|i| {
            cells.nonce[i].clone() + self.next_nonce[i].clone() - self.nonce[i].clone()
        });
        concat(&[
            core::slice::from_ref(&self.first_write),
            &self.sender,
            &cells.old_balance,
            &cells.nonce,
            &cells.old_staking,
            &limbs_from_bytes(&cells.new_balance),
            &new_nonce,
            &cells.new_staking,
        ])
    }

    fn second_write_tuple(&self) -> [F; WRITE_SIZE] {
        let cells = &self.second_write;
        let w = self.first_write.clone() + F::from(BaseField::from_u32_unchecked(1));
        concat(&[
            &[w],
            &self.to,
            &cells.old_balance,
            &cells.nonce,
            &cells.old_staking,
            &limbs_from_bytes(&cells.new_balance),
            &cells.nonce,
            &cells.new_staking,
        ])
    }

    /// The row's lookups, in order: the entry, the sender write, the second
    /// write, then the bytes of `S'`, `R'`, `T` and the hidden value.
    fn lookups(&self, sink: &mut impl LookupSink<F>) {
        let enabled = self.enabled();
        sink.transaction(enabled.clone(), &self.transaction_tuple());
        sink.write(enabled.clone(), &self.sender_write_tuple());
        sink.write(self.two_writes(), &self.second_write_tuple());
        let bytes = [
            &self.sender_write.new_balance,
            &self.second_write.new_balance,
            &self.debited,
            &self.hidden,
        ];
        for byte in bytes.into_iter().flatten() {
            sink.byte(enabled.clone(), byte.clone());
        }
    }
}

/// Adds a row's lookups to the constraint evaluator.
struct EvalLookups<'a, E> {
    eval: &'a mut E,
    relations: &'a Relations,
}

impl<E: EvalAtRow> LookupSink<E::F> for EvalLookups<'_, E> {
    fn transaction(&mut self, multiplicity: E::F, tuple: &[E::F; TRANSACTION_SIZE]) {
        let relation = &self.relations.transaction;
        self.eval.add_to_relation(RelationEntry::new(relation, multiplicity.into(), tuple));
    }

    fn write(&mut self, multiplicity: E::F, tuple: &[E::F; WRITE_SIZE]) {
        let relation = &self.relations.write;
        self.eval.add_to_relation(RelationEntry::new(relation, multiplicity.into(), tuple));
    }

    fn byte(&mut self, multiplicity: E::F, value: E::F) {
        let relation = &self.relations.byte;
        self.eval.add_to_relation(RelationEntry::new(relation, multiplicity.into(), &[value]));
    }
}

/// Why a block's witness has no transaction trace: its writes break a rule
/// the AIR checks (so no proof of it could verify).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceError {
    /// The witness holds another number of writes than its statement says.
    WriteCount { expected: u32, found: usize },
    /// Entry `index`'s writes break its kind's rule.
    Rule { index: u32, kind: TxKind, rule: &'static str },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WriteCount { expected, found } => {
                write!(f, "the witness holds {found} writes where its statement has {expected}")
            }
            Self::Rule { index, kind, rule } => {
                write!(f, "entry {index} ({kind:?}) breaks a rule: {rule}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TraceError {}

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::core::fields::qm31::SecureField;
    use stwo::core::poly::circle::CanonicCoset;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo::prover::backend::simd::m31::{LOG_N_LANES, PackedBaseField};
    use stwo::prover::backend::simd::qm31::PackedSecureField;
    use stwo::prover::poly::circle::CircleEvaluation;
    use stwo_constraint_framework::{LogupTraceGenerator, Relation};

    use super::*;
    use crate::hash::{M31, hash_to_elements};
    use crate::proving::lookups::LookupCounts;
    use crate::proving::statement::TxEntry;
    use crate::proving::trace::{Evaluation, TraceColumns, log_size_for};
    use crate::proving::uint::{carries, signed};
    use crate::proving::witness::{BlockWitness, WriteWitness};
    use crate::state::u64_limbs;

    /// The transaction component's main trace, ready to commit.
    #[derive(Clone, Debug)]
    pub struct TransactionTrace {
        pub(super) log_size: u32,
        pub(super) columns: Vec<BaseColumn>,
    }

    /// Builds the transaction component's trace for `witness`, one row per
    /// statement entry, and counts the bytes it range-checks in `counts`.
    ///
    /// Refuses a witness whose writes break a rule of the AIR (a hand-tampered
    /// one, say) instead of building a trace no proof could be made from;
    /// `counts` is then left as it was.
    pub fn gen_trace(
        witness: &BlockWitness,
        counts: &mut LookupCounts,
    ) -> Result<TransactionTrace, TraceError> {
        let statement = &witness.statement;
        if witness.writes.len() != statement.writes as usize {
            let found = witness.writes.len();
            return Err(TraceError::WriteCount { expected: statement.writes, found });
        }
        let log_size = log_size_for(statement.entries.len());
        let mut columns = TraceColumns::new(log_size, N_COLUMNS);
        let mut bytes = LookupCounts::default();
        for (r, entry) in statement.entries.iter().enumerate() {
            let writes = entry_writes(entry, &witness.writes)?;
            let hidden = derive(entry, writes)?;
            let row = fill(entry, writes, hidden);
            let cells: Vec<M31> = row.cells().copied().collect();
            columns.set_row(r, &cells);
            let second_new = writes.1.map_or(0, |w| w.new.balance);
            for value in [writes.0.new.balance, second_new, hidden.debited, hidden.hidden] {
                for limb in u64_limbs(value) {
                    bytes.limb(limb.value() as u16);
                }
            }
        }
        for (count, used) in counts.bytes.iter_mut().zip(bytes.bytes) {
            *count += used;
        }
        Ok(TransactionTrace { log_size, columns: columns.simd_columns() })
    }

    impl TransactionTrace {
        pub fn log_size(&self) -> u32 {
            self.log_size
        }

        /// The main trace's columns, to commit.
        pub fn evaluations(&self) -> Vec<Evaluation> {
            let domain = CanonicCoset::new(self.log_size).circle_domain();
            self.columns.iter().map(|c| CircleEvaluation::new(domain, c.clone())).collect()
        }

        /// The interaction trace (the LogUp running sums, fractions batched in
        /// pairs) under `relations`, and the component's claimed sum: the sum
        /// over every row of its fractions.
        pub fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, SecureField) {
            let vec_rows = 1 << (self.log_size - LOG_N_LANES);
            let mut batches: Vec<Vec<(PackedSecureField, PackedSecureField)>> =
                (0..N_BATCHES).map(|_| Vec::with_capacity(vec_rows)).collect();
            for vec_row in 0..vec_rows {
                let mut columns = self.columns.iter();
                let row = TxRow::read(|| columns.next().expect("N_COLUMNS columns").data[vec_row]);
                let mut fractions = Fractions { relations, out: Vec::with_capacity(N_FRACTIONS) };
                row.lookups(&mut fractions);
                debug_assert_eq!(fractions.out.len(), N_FRACTIONS);
                for (batch, pair) in batches.iter_mut().zip(fractions.out.chunks(2)) {
                    batch.push(match *pair {
                        [(m1, d1), (m2, d2)] => (m1 * d2 + m2 * d1, d1 * d2),
                        [(m, d)] => (m, d),
                        _ => unreachable!("chunks of one or two"),
                    });
                }
            }
            let mut logup = LogupTraceGenerator::new(self.log_size);
            for batch in batches {
                logup.col_from_iter(batch.into_iter());
            }
            logup.finalize_last()
        }
    }

    /// Collects a packed row's fractions `(multiplicity, combined tuple)`.
    struct Fractions<'a> {
        relations: &'a Relations,
        out: Vec<(PackedSecureField, PackedSecureField)>,
    }

    impl LookupSink<PackedBaseField> for Fractions<'_> {
        fn transaction(&mut self, m: PackedBaseField, tuple: &[PackedBaseField; TRANSACTION_SIZE]) {
            let denominator = self.relations.transaction.combine(tuple);
            self.out.push((m.into(), denominator));
        }

        fn write(&mut self, m: PackedBaseField, tuple: &[PackedBaseField; WRITE_SIZE]) {
            let denominator = self.relations.write.combine(tuple);
            self.out.push((m.into(), denominator));
        }

        fn byte(&mut self, m: PackedBaseField, value: PackedBaseField) {
            let denominator = self.relations.byte.combine(&[value]);
            self.out.push((m.into(), denominator));
        }
    }

    /// An entry's writes: the sender write and, for kinds that write twice,
    /// the second.
    pub(super) type EntryWrites<'a> = (&'a WriteWitness, Option<&'a WriteWitness>);

    /// The values a row holds beyond the entry and its writes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) struct Hidden {
        /// `T`: the sender's balance after paying amount plus fee; for the
        /// block end, the issuance it did not mint.
        pub debited: u64,
        /// The withdrawal, the slash, or the issuance minted; 0 otherwise.
        pub hidden: u64,
    }

    pub(super) fn entry_writes<'a>(
        entry: &TxEntry,
        writes: &'a [WriteWitness],
    ) -> Result<EntryWrites<'a>, TraceError> {
        let first = entry.first_write as usize;
        let missing = TraceError::Rule {
            index: entry.index,
            kind: entry.kind,
            rule: "its writes are past the witness's last",
        };
        let sender = writes.get(first).ok_or(missing)?;
        let second = match entry.kind.writes() {
            2 => Some(writes.get(first + 1).ok_or(missing)?),
            _ => None,
        };
        Ok((sender, second))
    }

    /// Checks `entry`'s writes against its kind's rules (the same ones the
    /// constraints enforce, see the [module](super)) and works out the hidden
    /// values.
    pub(super) fn derive(entry: &TxEntry, writes: EntryWrites<'_>) -> Result<Hidden, TraceError> {
        let broken = |rule| TraceError::Rule { index: entry.index, kind: entry.kind, rule };
        let ensure = |ok: bool, rule| if ok { Ok(()) } else { Err(broken(rule)) };
        let (sender, second) = writes;
        let (old, new) = (sender.old.balance, sender.new.balance);
        ensure(sender.address == entry.sender, "its first write is not of its sender")?;

        if entry.kind == TxKind::BlockEnd {
            ensure(sender.new.nonce == sender.old.nonce, "the registry's nonce changed")?;
            let minted = new.checked_sub(old).ok_or(broken("the registry's balance went down"))?;
            let unminted = entry.amount.checked_sub(minted).and_then(|s| s.checked_sub(entry.fee));
            let unminted =
                unminted.ok_or(broken("more was minted than the block reward and fees"))?;
            return Ok(Hidden { debited: unminted, hidden: minted });
        }

        ensure(sender.old.nonce == entry.nonce, "the sender's nonce is not the transaction's")?;
        ensure(sender.new.nonce == entry.next_nonce, "the sender's nonce does not step by one")?;
        ensure(sender.new.staking == sender.old.staking, "the sender's staking records changed")?;
        let cost =
            entry.amount.checked_add(entry.fee).ok_or(broken("amount plus fee overflows"))?;
        let debited =
            old.checked_sub(cost).ok_or(broken("the sender cannot afford amount plus fee"))?;
        let (credit, hidden) = match entry.kind {
            TxKind::TransferToSelf => (entry.amount, 0),
            TxKind::StakeWithdraw => {
                let paid = new
                    .checked_sub(debited)
                    .ok_or(broken("the sender paid more than amount plus fee"))?;
                (paid, paid)
            }
            _ => (0, 0),
        };
        ensure(
            debited.checked_add(credit) == Some(new),
            "the sender's new balance is not its old less what it paid",
        )?;

        let Some(second) = second else {
            return Ok(Hidden { debited, hidden });
        };
        let (old, new) = (second.old.balance, second.new.balance);
        ensure(
            second.address == entry.to,
            "its second write is not of its recipient or the registry",
        )?;
        ensure(second.new.nonce == second.old.nonce, "the second account's nonce changed")?;
        let credited = match entry.kind {
            TxKind::Transfer => {
                ensure(
                    second.new.staking == second.old.staking,
                    "the recipient's staking records changed",
                )?;
                old.checked_add(entry.amount)
            }
            TxKind::StakeDeposit => old.checked_add(entry.amount),
            TxKind::StakeNeutral => Some(old),
            TxKind::StakeWithdraw => old.checked_sub(hidden),
            TxKind::StakeSlash => {
                let burned = old.checked_sub(new).ok_or(broken("the slash raised the escrow"))?;
                return Ok(Hidden { debited, hidden: burned });
            }
            _ => return Err(broken("a kind that writes once has a second write")),
        };
        ensure(
            credited == Some(new),
            "the second account's balance did not move by what the entry says",
        )?;
        Ok(Hidden { debited, hidden })
    }

    /// `entry`'s row, holding `writes` and `hidden`, whether or not they follow
    /// the rules (a row that breaks one fails the constraints).
    pub(super) fn fill(entry: &TxEntry, writes: EntryWrites<'_>, hidden: Hidden) -> TxRow<M31> {
        let kind = entry.kind;
        let is = |k: TxKind| kind == k;
        let tx = !is(TxKind::BlockEnd);
        let pick = |yes: bool, v: u64| if yes { v } else { 0 };
        let (sender, second) = writes;
        let (a, f, d, h) = (entry.amount, entry.fee, hidden.debited, hidden.hidden);
        let (s_old, s_new) = (sender.old.balance, sender.new.balance);
        let (r_old, r_new) = second.map_or((0, 0), |w| (w.old.balance, w.new.balance));

        // The sums (A), (B), (C), each side's operands as the flags select them.
        let debit = carries(&[d, pick(tx, a), pick(!tx, h), f], &[pick(tx, s_old), pick(!tx, a)]);
        let credit = carries(
            &[
                pick(tx, d),
                pick(!tx, s_old),
                pick(is(TxKind::TransferToSelf), a),
                pick(is(TxKind::StakeWithdraw) || !tx, h),
            ],
            &[s_new],
        );
        let plus = pick(is(TxKind::Transfer) || is(TxKind::StakeDeposit), a);
        let minus = pick(is(TxKind::StakeWithdraw) || is(TxKind::StakeSlash), h);
        let second_sum = carries(&[r_old, plus], &[r_new, minus]);

        let elements = entry.elements();
        let at = |from: usize| -> [M31; LIMBS] { core::array::from_fn(|i| elements[from + i]) };
        let digest_at =
            |from: usize| -> [M31; DIGEST] { core::array::from_fn(|i| elements[from + i]) };
        TxRow {
            flags: core::array::from_fn(|k| if k == slot(kind) { M31::ONE } else { M31::ZERO }),
            index: elements[0],
            first_write: elements[2],
            sender: digest_at(3),
            to: digest_at(11),
            amount: at(19),
            fee: at(23),
            nonce: at(27),
            next_nonce: at(31),
            sender_write: write_cells(Some(sender)),
            second_write: write_cells(second),
            debited: bytes_of(d),
            hidden: bytes_of(h),
            debit_carries: debit.0.map(signed),
            credit_carries: credit.0.map(signed),
            second_carries: second_sum.0.map(signed),
        }
    }

    /// A `u64`'s bytes, `[low_0, high_0, low_1, …]` (little-endian).
    fn bytes_of(value: u64) -> [M31; BYTES] {
        value.to_le_bytes().map(|b| M31::new(u32::from(b)))
    }

    /// A write's cells; all zero where there is no write.
    fn write_cells(write: Option<&WriteWitness>) -> WriteCells<M31> {
        let Some(w) = write else {
            return WriteCells {
                old_balance: [M31::ZERO; LIMBS],
                nonce: [M31::ZERO; LIMBS],
                old_staking: [M31::ZERO; DIGEST],
                new_staking: [M31::ZERO; DIGEST],
                new_balance: [M31::ZERO; BYTES],
            };
        };
        WriteCells {
            old_balance: u64_limbs(w.old.balance),
            nonce: u64_limbs(w.old.nonce),
            old_staking: hash_to_elements(&w.old.staking),
            new_staking: hash_to_elements(&w.new.staking),
            new_balance: bytes_of(w.new.balance),
        }
    }
}

#[cfg(all(test, feature = "prover"))]
mod tests {
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;

    use stwo::core::channel::Blake2sChannel;
    use stwo::core::fields::FieldExpOps;
    use stwo::core::fields::m31::BaseField;
    use stwo::core::fields::qm31::SecureField;
    use stwo::prover::backend::Column;
    use stwo::prover::backend::simd::column::BaseColumn;
    use stwo_constraint_framework::Relation;

    use super::prover::{derive, entry_writes, fill};
    use super::*;
    use crate::chain::{Allocation, BlockTemplate, Genesis, build_block};
    use crate::consensus::{CommitCertificate, SignedVote, Vote, VoteKind};
    use crate::crypto::{SequencerKey, StarkSecretKey};
    use crate::hash::{M31, hash_to_elements};
    use crate::proving::lookups::LookupCounts;
    use crate::proving::statement::TxEntry;
    use crate::proving::testing::{self, constraint_degrees, cpu};
    use crate::proving::trace::{Evaluation, base, log_size_for};
    use crate::proving::witness::{BlockWitness, WriteWitness};
    use crate::staking::{Authority, MIN_EXIT_WINDOW_EPOCHS, REGISTRY, StakingParams};
    use crate::state::{StateTree, u64_limbs};
    use crate::types::{Address, Block, Call, ChainId, Hash, Transaction, TxBody};

    // ---- A chain to take real blocks and witnesses from ----

    /// A chain with its genesis sequencer, users (with consensus keys for
    /// staking) and full state.
    struct Chain {
        chain_id: ChainId,
        sequencer: SequencerKey,
        users: Vec<StarkSecretKey>,
        keys: Vec<SequencerKey>,
        state: StateTree,
        head: Block,
        /// The head's certificate, when it is a proof-of-stake block.
        head_commit: Option<CommitCertificate>,
    }

    /// Staking rules for a chain that stays in the single stage: epochs of one
    /// block (so every block end rolls the registry), activation out of reach.
    fn single_stage() -> StakingParams {
        StakingParams { epoch_length: 1, activation_stake: u64::MAX, ..StakingParams::default() }
    }

    /// Staking rules for a chain that reaches proof of stake with one staker.
    fn one_validator() -> StakingParams {
        StakingParams {
            epoch_length: 2,
            min_stake: 100,
            activation_stake: 100,
            min_validators: 1,
            block_reward: 1_000,
            ..StakingParams::default()
        }
    }

    impl Chain {
        fn new(balances: &[u64], staking: StakingParams) -> Self {
            let users: Vec<StarkSecretKey> = (0..balances.len())
                .map(|i| StarkSecretKey::from_entropy(&[40 + i as u8; 32]))
                .collect();
            let keys =
                (0..balances.len()).map(|i| SequencerKey::from_seed(&[90 + i as u8; 32])).collect();
            let sequencer = SequencerKey::from_seed(&[1; 32]);
            let genesis = Genesis {
                chain_id: ChainId::new("starling-test").unwrap(),
                sequencer: sequencer.public_key(),
                timestamp_ms: 1_000,
                allocations: users
                    .iter()
                    .zip(balances)
                    .map(|(u, b)| Allocation { address: u.public_key().address(), balance: *b })
                    .collect(),
                staking,
            };
            let (head, state) = genesis.block().unwrap();
            let chain_id = genesis.chain_id;
            Self { chain_id, sequencer, users, keys, state, head, head_commit: None }
        }

        fn address(&self, user: usize) -> Address {
            self.users[user].public_key().address()
        }

        /// `call` from `user`, `later` nonces after its next one, paying `fee`.
        fn tx(&self, user: usize, later: u64, fee: u64, call: Call) -> Transaction {
            let body = TxBody {
                chain_id: self.chain_id.clone(),
                sender_key: self.users[user].public_key(),
                nonce: self.state.get(&self.address(user)).nonce + later,
                fee,
                call,
            };
            body.sign(&self.users[user])
        }

        fn pay(&self, user: usize, later: u64, fee: u64, to: Address, amount: u64) -> Transaction {
            self.tx(user, later, fee, Call::Transfer { to, amount })
        }

        fn stake(&self, user: usize, amount: u64) -> Transaction {
            let consensus_key = self.keys[user].public_key();
            self.tx(user, 0, 3, Call::Stake { consensus_key, amount, commission_bps: 100 })
        }

        /// Evidence, sent by `user`, that `staker` prevoted twice at a height
        /// far ahead (so after it joined).
        fn evidence(&self, user: usize, staker: usize) -> Transaction {
            let key = &self.keys[staker];
            let vote = |value: u8| -> Box<SignedVote> {
                let vote = Vote {
                    chain_id: self.chain_id.clone(),
                    height: self.head.header.height + 1_000,
                    round: 0,
                    kind: VoteKind::Prevote,
                    value: Some(Hash([value; 32])),
                    validator: key.public_key(),
                };
                Box::new(vote.sign(key))
            };
            self.tx(user, 0, 2, Call::Evidence { a: vote(1), b: vote(2) })
        }

        fn proposer(&self) -> &SequencerKey {
            let height = self.head.header.height + 1;
            match self.state.registry().unwrap().authority_for(height).unwrap() {
                Authority::Sequencer(_) => &self.sequencer,
                Authority::Validators(set) => {
                    let member = set.validators()[height as usize % set.len()].key;
                    self.keys.iter().find(|k| k.public_key() == member).unwrap()
                }
            }
        }

        fn is_pos(&self) -> bool {
            let height = self.head.header.height + 1;
            let registry = self.state.registry().unwrap();
            matches!(registry.authority_for(height), Some(Authority::Validators(_)))
        }

        /// Builds the next block of `txs` (all of which must apply), records
        /// its witness from the parent's state, and makes it the head.
        fn step(&mut self, txs: Vec<Transaction>) -> BlockWitness {
            let parent = self.head.header.clone();
            let template = BlockTemplate {
                parent: &parent,
                timestamp_ms: parent.timestamp_ms + 1_000,
                key: self.proposer(),
                parent_commit: self.head_commit.clone().filter(|_| self.is_pos()),
            };
            let mut post = self.state.clone();
            let built = build_block(&mut post, template, txs).unwrap();
            assert!(built.rejected.is_empty(), "{:?}", built.rejected);
            let witness = BlockWitness::from_state(&built.block, &parent, &self.state).unwrap();
            self.state = post;
            self.head = built.block;
            self.head_commit =
                (self.head.header.validators != Hash::ZERO).then(|| self.certify(&self.head));
            witness
        }

        /// A certificate for `block` by every validator of its set.
        fn certify(&self, block: &Block) -> CommitCertificate {
            let registry = self.state.registry().unwrap();
            let Some(Authority::Validators(set)) = registry.authority_for(block.header.height)
            else {
                panic!("not a proof-of-stake block");
            };
            let votes: Vec<SignedVote> = set
                .validators()
                .iter()
                .filter_map(|v| self.keys.iter().find(|k| k.public_key() == v.key))
                .map(|key| {
                    let vote = Vote {
                        chain_id: self.chain_id.clone(),
                        height: block.header.height,
                        round: 0,
                        kind: VoteKind::Precommit,
                        value: Some(block.hash()),
                        validator: key.public_key(),
                    };
                    vote.sign(key)
                })
                .collect();
            CommitCertificate::from_precommits(set, block.header.height, 0, block.hash(), &votes)
        }
    }

    // ---- Checking traces ----

    /// Random-looking relation elements (drawn from a fresh channel).
    fn relations() -> Relations {
        Relations::draw(&mut Blake2sChannel::default())
    }

    /// Whether every constraint of the component holds on `main` with the
    /// interaction trace and claimed sum built from it.
    fn constraints_hold(log_size: u32, main: &[Evaluation], relations: &Relations) -> bool {
        let columns: Vec<BaseColumn> = main.iter().map(|e| e.values.clone()).collect();
        let trace = TransactionTrace { log_size, columns };
        let (interaction, claimed) = trace.interaction(relations);
        let eval = TransactionEval { log_size, relations: relations.clone() };
        testing::constraint_failure(&eval, &cpu(main), &cpu(&interaction), claimed).is_none()
    }

    fn combine<R: Relation<BaseField, SecureField>>(
        relation: &R,
        values: &[BaseField],
    ) -> SecureField {
        relation.combine(values)
    }

    /// A write as the write component yields it, built from the witness.
    fn write_tuple(w: u32, write: &WriteWitness) -> Vec<BaseField> {
        let mut out = vec![M31::new(w)];
        out.extend(hash_to_elements(&write.address.as_hash()));
        for account in [&write.old, &write.new] {
            out.extend(u64_limbs(account.balance));
            out.extend(u64_limbs(account.nonce));
            out.extend(hash_to_elements(&account.staking));
        }
        out.into_iter().map(base).collect()
    }

    /// The values entry `entry`'s row range-checks, worked out from the
    /// native rules: both new balances, what the sender holds after paying
    /// (for the block end, the issuance left), the hidden value.
    fn range_checked(entry: &TxEntry, writes: &[WriteWitness]) -> [u64; 4] {
        let first = &writes[entry.first_write as usize];
        let second = (entry.kind.writes() == 2).then(|| &writes[entry.first_write as usize + 1]);
        let second_new = second.map_or(0, |w| w.new.balance);
        let (old, new) = (first.old.balance, first.new.balance);
        if entry.kind == TxKind::BlockEnd {
            let minted = new - old;
            return [new, second_new, entry.amount - minted, minted];
        }
        let after = old - entry.amount - entry.fee;
        let hidden = match entry.kind {
            TxKind::StakeWithdraw => new - after,
            TxKind::StakeSlash => second.unwrap().old.balance - second_new,
            _ => 0,
        };
        [new, second_new, after, hidden]
    }

    /// The component's claimed sum as the witness says it must be, computed
    /// without the trace: Σ over entries of 1/combine(entry) + Σ 1/combine(write)
    /// + Σ 1/combine(byte), every use counted +1.
    fn expected_sum(witness: &BlockWitness, relations: &Relations) -> SecureField {
        let mut sum = SecureField::from_u32_unchecked(0, 0, 0, 0);
        for entry in &witness.statement.entries {
            sum += combine(&relations.transaction, &entry.elements().map(base)).inverse();
            for k in 0..entry.kind.writes() {
                let w = entry.first_write + k;
                let tuple = write_tuple(w, &witness.writes[w as usize]);
                sum += combine(&relations.write, &tuple).inverse();
            }
            for value in range_checked(entry, &witness.writes) {
                for byte in value.to_le_bytes() {
                    let byte = BaseField::from_u32_unchecked(u32::from(byte));
                    sum += combine(&relations.byte, &[byte]).inverse();
                }
            }
        }
        sum
    }

    /// The bytes the witness's rows range-check, counted.
    fn expected_bytes(witness: &BlockWitness) -> [u32; 256] {
        let mut counts = [0; 256];
        for entry in &witness.statement.entries {
            for value in range_checked(entry, &witness.writes) {
                for byte in value.to_le_bytes() {
                    counts[usize::from(byte)] += 1;
                }
            }
        }
        counts
    }

    /// Builds `witness`'s trace and checks it: every constraint holds, the
    /// claimed sum is the one the witness implies, and the bytes counted are
    /// the bytes used.
    fn check(witness: &BlockWitness) -> TransactionTrace {
        let mut counts = LookupCounts::default();
        let trace = gen_trace(witness, &mut counts).unwrap();
        assert_eq!(trace.log_size(), log_size_for(witness.statement.entries.len()));
        let relations = relations();
        assert!(constraints_hold(trace.log_size(), &trace.evaluations(), &relations));
        let (interaction, claimed) = trace.interaction(&relations);
        assert_eq!(interaction.len(), 4 * N_BATCHES);
        assert_eq!(claimed, expected_sum(witness, &relations));
        assert_eq!(counts.bytes, expected_bytes(witness));
        trace
    }

    /// The kinds of a witness's entries, in order.
    fn kinds(witness: &BlockWitness) -> Vec<TxKind> {
        witness.statement.entries.iter().map(|e| e.kind).collect()
    }

    /// Each field's column: a row whose cells are their own column numbers.
    fn columns() -> TxRow<usize> {
        let mut next = 0;
        TxRow::read(|| {
            next += 1;
            next - 1
        })
    }

    // ---- Tests ----

    /// Proves the layout is what the module says: reading a row from its
    /// cells and writing it back is the identity, every column is read once,
    /// and the flags follow `TxKind::ALL`.
    #[test]
    fn the_row_layout_reads_back() {
        let row = columns();
        let cells: Vec<usize> = row.cells().copied().collect();
        assert_eq!(cells, (0..N_COLUMNS).collect::<Vec<_>>());
        assert_eq!(N_COLUMNS, 131);
        for kind in TxKind::ALL {
            assert_eq!(TxKind::ALL[slot(kind)], kind);
        }
    }

    /// Proves the constraints are of degree at most 3 (and some of exactly 3),
    /// which is what `max_constraint_log_degree_bound = log_size + 1` allows.
    #[test]
    fn constraints_are_of_degree_three() {
        let eval = TransactionEval { log_size: 4, relations: Relations::dummy() };
        let degrees = constraint_degrees(&eval);
        assert_eq!(degrees.iter().max(), Some(&3), "{degrees:?}");
        assert_eq!(eval.max_constraint_log_degree_bound(), eval.log_size + 1);
    }

    /// Proves transfers to others, to oneself and of zero, from and to fresh
    /// and existing accounts, give traces whose constraints hold and whose
    /// claimed sum is the witness's own.
    #[test]
    fn transfers_to_others_to_self_and_of_zero() {
        let mut chain = Chain::new(&[100_000, 500, 70_000], single_stage());
        let fresh = Address([7; 32]);
        let txs = vec![
            chain.pay(0, 0, 3, chain.address(1), 250),
            chain.pay(1, 0, 1, chain.address(1), 600),
            chain.pay(2, 0, 65_535, chain.address(0), 0),
            chain.pay(0, 1, 1, fresh, 65_536),
            chain.pay(1, 1, 0, chain.address(2), 700),
        ];
        let witness = chain.step(txs);
        use TxKind::*;
        let expected = [Transfer, TransferToSelf, TransferZero, Transfer, Transfer, BlockEnd];
        assert_eq!(kinds(&witness), expected);
        check(&witness);
    }

    /// Proves the edge of `u64`: a sender spending all of `u64::MAX`, a
    /// recipient credited up to exactly `u64::MAX`, a self-transfer of all
    /// but the fee, and a fee of nearly `u64::MAX` (every limb carrying).
    #[test]
    fn max_balances() {
        let max = u64::MAX;
        let mut chain = Chain::new(&[max, max - 5, 100, max, max], single_stage());
        let fresh = Address([9; 32]);
        let txs = vec![
            chain.pay(0, 0, 1, fresh, max - 1),
            chain.pay(2, 0, 1, chain.address(1), 5),
            chain.pay(3, 0, 7, chain.address(3), max - 7),
            chain.pay(4, 0, max - 0x1_0001, chain.address(2), 0x1_0000),
        ];
        let witness = chain.step(txs);
        assert_eq!(witness.writes[1].new.balance, max - 1);
        assert_eq!(witness.writes[3].new.balance, max);
        assert_eq!(witness.writes[0].new.balance, 0);
        check(&witness);
    }

    /// Proves an empty block (the block end alone, writing the registry over
    /// itself) and a block end that rolls an epoch (the registry's records
    /// change, its balance does not) give valid traces.
    #[test]
    fn empty_blocks() {
        let mut chain = Chain::new(&[10, 20], StakingParams::default());
        let witness = chain.step(Vec::new());
        assert_eq!(kinds(&witness), [TxKind::BlockEnd]);
        assert_eq!(witness.writes[0].old, witness.writes[0].new);
        check(&witness);

        let mut chain = Chain::new(&[10, 20], single_stage());
        let witness = chain.step(Vec::new());
        assert_ne!(witness.writes[0].old.staking, witness.writes[0].new.staking);
        assert_eq!(witness.writes[0].old.balance, witness.writes[0].new.balance);
        check(&witness);
    }

    /// Proves every staking kind gives valid traces on real blocks: stakes and
    /// a delegation (deposits), exit intents (neutral), evidence (a slash
    /// burning from the escrow) and, after the exit window, an unstake (a
    /// withdrawal paid out of the escrow).
    #[test]
    fn staking_deposits_intents_slashes_and_withdrawals() {
        let mut chain = Chain::new(&[10_000, 10_000, 10_000, 10_000], single_stage());
        let staker = chain.address(0);
        let stakes = vec![
            chain.stake(0, 2_000),
            chain.stake(1, 3_000),
            chain.tx(2, 0, 1, Call::Delegate { staker, amount: 500 }),
        ];
        let witness = chain.step(stakes);
        use TxKind::*;
        assert_eq!(kinds(&witness), [StakeDeposit, StakeDeposit, StakeDeposit, BlockEnd]);
        check(&witness);

        let intents = vec![
            chain.tx(0, 0, 4, Call::UnstakeIntent),
            chain.tx(2, 0, 0, Call::UndelegateIntent { staker, amount: 200 }),
        ];
        let witness = chain.step(intents);
        assert_eq!(kinds(&witness), [StakeNeutral, StakeNeutral, BlockEnd]);
        check(&witness);

        let escrow = chain.state.get(&REGISTRY).balance;
        let witness = chain.step(vec![chain.evidence(3, 1)]);
        assert_eq!(kinds(&witness), [StakeSlash, BlockEnd]);
        assert_eq!(chain.state.get(&REGISTRY).balance, escrow - 150, "5% of the stake");
        check(&witness);

        for _ in 0..MIN_EXIT_WINDOW_EPOCHS {
            chain.step(Vec::new());
        }
        let before = chain.state.get(&chain.address(0)).balance;
        let witness = chain.step(vec![chain.tx(0, 0, 5, Call::Unstake)]);
        assert_eq!(kinds(&witness), [StakeWithdraw, BlockEnd]);
        assert_eq!(chain.state.get(&chain.address(0)).balance, before - 5 + 2_000);
        check(&witness);
    }

    /// Proves proof-of-stake block ends, which mint the block reward and the
    /// fees into the escrow, give valid traces, as does a staker claiming its
    /// rewards (a withdrawal) next to a transfer.
    #[test]
    fn pos_block_ends_mint_rewards() {
        let mut chain = Chain::new(&[10_000, 10_000], one_validator());
        chain.step(vec![chain.stake(0, 1_000)]);
        for _ in 0..20 {
            if chain.is_pos() {
                break;
            }
            chain.step(Vec::new());
        }
        assert!(chain.is_pos(), "proof of stake never started");
        let escrow = chain.state.get(&REGISTRY).balance;
        let witness = chain.step(vec![chain.pay(1, 0, 9, chain.address(0), 1)]);
        let end = witness.statement.entries.last().unwrap();
        assert_eq!(end.amount, 1_009);
        let minted = chain.state.get(&REGISTRY).balance - escrow;
        assert!(minted > 0 && minted <= 1_009, "{minted}");
        check(&witness);

        // A few blocks more, so the staker has rewards to claim.
        chain.step(Vec::new());
        let witness = chain.step(vec![
            chain.tx(0, 0, 2, Call::ClaimRewards),
            chain.pay(1, 0, 1, chain.address(0), 10),
        ]);
        use TxKind::*;
        assert_eq!(kinds(&witness), [StakeWithdraw, Transfer, BlockEnd]);
        assert!(witness.writes[0].new.balance > witness.writes[0].old.balance);
        check(&witness);
    }

    /// A block with one transfer to another account, for the tamper tests.
    fn transfer_block() -> BlockWitness {
        let mut chain = Chain::new(&[100_000, 300], single_stage());
        chain.step(vec![chain.pay(0, 0, 2, chain.address(1), 70_000)])
    }

    /// Proves a single changed cell breaks the constraints: an old balance
    /// limb, a carry, a kind flag (cleared, or a second one set), a byte of a
    /// new balance, a nonce and a staking cell where they must not change.
    #[test]
    fn a_changed_cell_fails_the_constraints() {
        let witness = transfer_block();
        let trace = check(&witness);
        let relations = relations();
        let col = columns();
        let one = BaseField::from_u32_unchecked(1);
        let changes: [(&str, usize, BaseField); 9] = [
            ("sender old balance limb", col.sender_write.old_balance[1], one),
            ("recipient old balance limb", col.second_write.old_balance[0], one),
            ("debit carry", col.debit_carries[0], one),
            ("second-write carry", col.second_carries[0], one),
            ("transfer flag cleared", col.flags[slot(TxKind::Transfer)], -one),
            ("second flag set", col.flags[slot(TxKind::TransferZero)], one),
            ("new balance byte", col.sender_write.new_balance[2], one),
            ("sender nonce", col.sender_write.nonce[0], one),
            ("recipient staking", col.second_write.new_staking[3], one),
        ];
        for (what, column, delta) in changes {
            let mut main = trace.evaluations();
            let value = main[column].values.at(0);
            main[column].values.set(0, value + delta);
            assert!(
                !constraints_hold(trace.log_size(), &main, &relations),
                "{what} went unnoticed"
            );
        }
    }

    /// Proves what the constraints leave to the byte table: a new balance
    /// limb split as `(low + 256, high − 1)` is the same limb, so the
    /// constraints hold, but the row then uses the "byte" `low + 256`, which
    /// the range-check component never yields: the claimed sum is no longer
    /// the one the witness implies, and the block's relations do not balance.
    #[test]
    fn a_non_byte_split_is_left_to_the_byte_relation() {
        let witness = transfer_block();
        let trace = check(&witness);
        let relations = relations();
        let col = columns();
        let (low, high) = (col.sender_write.new_balance[0], col.sender_write.new_balance[1]);
        let mut main = trace.evaluations();
        let (l, h) = (main[low].values.at(0), main[high].values.at(0));
        assert_ne!(h, BaseField::from_u32_unchecked(0), "the balance has a high byte to borrow");
        main[low].values.set(0, l + BaseField::from_u32_unchecked(256));
        main[high].values.set(0, h - BaseField::from_u32_unchecked(1));
        assert!(constraints_hold(trace.log_size(), &main, &relations));
        let columns: Vec<BaseColumn> = main.iter().map(|e| e.values.clone()).collect();
        let forged = TransactionTrace { log_size: trace.log_size(), columns };
        assert_ne!(forged.interaction(&relations).1, expected_sum(&witness, &relations));
    }

    /// Proves a witness whose recipient is credited one token more than the
    /// amount is refused by `gen_trace` with a clear error (and the counts are
    /// left alone), and that its rows, forced into a trace anyway, fail the
    /// constraints.
    #[test]
    fn a_tampered_witness_is_refused_and_its_rows_fail() {
        let honest = transfer_block();
        let mut tampered = honest.clone();
        tampered.writes[1].new.balance += 1;
        let mut counts = LookupCounts::default();
        let err = gen_trace(&tampered, &mut counts).unwrap_err();
        assert!(matches!(err, TraceError::Rule { index: 0, kind: TxKind::Transfer, .. }), "{err}");
        assert_eq!(counts.bytes, [0; 256]);

        let entry = &tampered.statement.entries[0];
        let writes = entry_writes(entry, &tampered.writes).unwrap();
        let honest_writes = entry_writes(entry, &honest.writes).unwrap();
        let hidden = derive(entry, honest_writes).unwrap();
        let log_size = log_size_for(1);
        let mut columns = crate::proving::trace::TraceColumns::new(log_size, N_COLUMNS);
        let cells: Vec<M31> = fill(entry, writes, hidden).cells().copied().collect();
        columns.set_row(0, &cells);
        let main = columns.into_evaluations();
        assert!(!constraints_hold(log_size, &main, &relations()));
    }

    /// Proves `gen_trace` refuses each kind of broken rule, naming it: a
    /// sender that cannot afford amount plus fee, a nonce that is not the
    /// transaction's, a block end minting more than reward plus fees, an
    /// escrow paying a withdrawal it did not receive, a missing write.
    #[test]
    fn broken_rules_are_refused() {
        let refused = |witness: &BlockWitness| {
            gen_trace(witness, &mut LookupCounts::default())
                .expect_err("a broken rule was accepted")
        };
        let honest = transfer_block();

        let mut poor = honest.clone();
        poor.writes[0].old.balance = 70_001;
        assert!(refused(&poor).to_string().contains("cannot afford"));

        let mut replayed = honest.clone();
        replayed.writes[0].old.nonce = 1;
        assert!(refused(&replayed).to_string().contains("nonce"));

        let mut minting = honest.clone();
        let most = minting.statement.entries.last().unwrap().amount;
        let end = minting.writes.last_mut().unwrap();
        end.new.balance = end.old.balance + most + 1;
        assert!(refused(&minting).to_string().contains("minted"));

        let mut short = honest.clone();
        short.writes.pop();
        assert_eq!(refused(&short), TraceError::WriteCount { expected: 3, found: 2 });

        let mut mislabeled = honest.clone();
        mislabeled.statement.entries[0].kind = TxKind::StakeWithdraw;
        assert!(refused(&mislabeled).to_string().contains("second"));
    }

    /// Proves a trace proves and verifies on its own (the degree bound is
    /// what stwo needs): this component alone, under a cheap configuration.
    #[test]
    fn a_trace_proves_and_verifies() {
        use stwo::core::air::Component;
        use stwo::core::pcs::{CommitmentSchemeVerifier, PcsConfig};
        use stwo::core::poly::circle::CanonicCoset;
        use stwo::core::vcs_lifted::blake2_merkle::Blake2sMerkleChannel;
        use stwo::prover::backend::simd::SimdBackend;
        use stwo::prover::poly::circle::PolyOps;
        use stwo::prover::{CommitmentSchemeProver, prove};
        use stwo_constraint_framework::TraceLocationAllocator;

        let witness = transfer_block();
        let trace = gen_trace(&witness, &mut LookupCounts::default()).unwrap();
        let log_size = trace.log_size();
        let config = PcsConfig::default();
        let twiddles = SimdBackend::precompute_twiddles(
            CanonicCoset::new(log_size + 1 + config.fri_config.log_blowup_factor)
                .circle_domain()
                .half_coset,
        );
        let channel = &mut Blake2sChannel::default();
        let mut scheme =
            CommitmentSchemeProver::<SimdBackend, Blake2sMerkleChannel>::new(config, &twiddles);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(vec![]);
        tree.commit(channel);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(trace.evaluations());
        tree.commit(channel);
        let relations = Relations::draw(channel);
        let (interaction, claimed) = trace.interaction(&relations);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(interaction);
        tree.commit(channel);
        let eval = TransactionEval { log_size, relations };
        let component =
            TransactionComponent::new(&mut TraceLocationAllocator::default(), eval, claimed);
        let proof =
            prove::<SimdBackend, Blake2sMerkleChannel>(&[&component], channel, scheme).unwrap();

        let channel = &mut Blake2sChannel::default();
        let verifier = &mut CommitmentSchemeVerifier::<Blake2sMerkleChannel>::new(config);
        let sizes = component.trace_log_degree_bounds();
        verifier.commit(proof.commitments[0], &sizes[0], channel);
        verifier.commit(proof.commitments[1], &sizes[1], channel);
        let relations = Relations::draw(channel);
        assert_eq!(relations, component.relations);
        verifier.commit(proof.commitments[2], &sizes[2], channel);
        stwo::core::verifier::verify(&[&component], channel, verifier, proof).unwrap();
    }
}
