//! What a block proof proves, as public data: the roots it chains and the
//! transactions it executed, laid out exactly as the AIR sees them.
//!
//! A verifier builds the [`BlockStatement`] itself from the block it holds (and
//! the roots it trusts); nothing here comes from the prover. The proof is valid
//! only for the statement the verifier built: the roots enter the [`Root`]
//! relation and every [`TxEntry`] the [`Transaction`] relation, from outside
//! the trace.
//!
//! [`Root`]: super::relations::Root
//! [`Transaction`]: super::relations::Transaction

use alloc::vec::Vec;

use crate::hash::M31;
use crate::staking::REGISTRY;
use crate::state::u64_limbs;
use crate::types::{Address, Block, Call, Hash, Transaction};

/// How the AIR treats one transaction (or the block end): which accounts it
/// writes, in which order, and under which balance rule. The numbers are the
/// protocol: they are the `kind` element of [`TxEntry`] tuples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TxKind {
    /// A transfer of a non-zero amount to another account. Writes the sender
    /// (debited amount + fee, nonce + 1) and the recipient (credited amount).
    Transfer = 1,
    /// A transfer to oneself: writes the sender only; it must afford amount +
    /// fee, and ends with its balance less the fee.
    TransferToSelf = 2,
    /// A transfer of zero to another account: writes the sender only (debited
    /// the fee); the recipient's account does not change.
    TransferZero = 3,
    /// `Stake`, `IncreaseStake`, `Delegate`: the sender pays the fee and
    /// deposits `amount` into the registry's escrow. Writes the sender, then the
    /// registry account.
    StakeDeposit = 4,
    /// `UnstakeIntent`, `UndelegateIntent`: the sender pays the fee; the
    /// escrow's balance does not change. Writes the sender, then the registry.
    StakeNeutral = 5,
    /// `Unstake`, `Undelegate`, `ClaimRewards`: the sender pays the fee and
    /// is paid some amount out of the escrow. Writes the sender, then the registry.
    StakeWithdraw = 6,
    /// `Evidence`: the sender pays the fee; some amount of the escrow is burned
    /// (the slash). Writes the sender, then the registry.
    StakeSlash = 7,
    /// The end-of-block hook: writes the registry account, whose balance may
    /// grow by at most the entry's `amount` (the block reward plus the block's
    /// fees) and whose nonce does not change.
    BlockEnd = 8,
}

impl TxKind {
    /// Every kind, in tag order.
    pub const ALL: [TxKind; 8] = [
        TxKind::Transfer,
        TxKind::TransferToSelf,
        TxKind::TransferZero,
        TxKind::StakeDeposit,
        TxKind::StakeNeutral,
        TxKind::StakeWithdraw,
        TxKind::StakeSlash,
        TxKind::BlockEnd,
    ];

    /// How the AIR treats `tx`.
    pub fn of(tx: &Transaction) -> Self {
        match &tx.body.call {
            Call::Transfer { to, .. } if *to == tx.sender() => TxKind::TransferToSelf,
            Call::Transfer { amount: 0, .. } => TxKind::TransferZero,
            Call::Transfer { .. } => TxKind::Transfer,
            Call::Stake { .. } | Call::IncreaseStake { .. } | Call::Delegate { .. } => {
                TxKind::StakeDeposit
            }
            Call::UnstakeIntent | Call::UndelegateIntent { .. } => TxKind::StakeNeutral,
            Call::Unstake | Call::Undelegate { .. } | Call::ClaimRewards => TxKind::StakeWithdraw,
            Call::Evidence { .. } => TxKind::StakeSlash,
        }
    }

    /// The accounts written, in order: 1 or 2.
    pub const fn writes(self) -> u32 {
        match self {
            TxKind::TransferToSelf | TxKind::TransferZero | TxKind::BlockEnd => 1,
            _ => 2,
        }
    }

    /// The tag in [`TxEntry`] tuples.
    pub const fn tag(self) -> u32 {
        self as u32
    }
}

/// One transaction (or the block end) as the AIR sees it: the public half of
/// a [`Transaction`](super::relations::Transaction) tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxEntry {
    /// Position in the block; the block end comes after the last transaction.
    pub index: u32,
    pub kind: TxKind,
    /// The write this entry's first write is: writes are numbered from 0 across
    /// the block, in execution order.
    pub first_write: u32,
    /// The sender; for the block end, the registry account.
    pub sender: Address,
    /// The second account written: the recipient of a transfer, the registry
    /// for a staking call; the sender itself where there is none.
    pub to: Address,
    /// A transfer's amount, a deposit's amount, or the block end's most
    /// issuance (block reward plus fees under proof of stake, 0 in the single
    /// stage); 0 otherwise.
    pub amount: u64,
    pub fee: u64,
    /// The sender's nonce before and after (0 for the block end: the registry
    /// has no nonce to use).
    pub nonce: u64,
    pub next_nonce: u64,
}

/// Why a block cannot be stated for proving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementError {
    /// A transaction's nonce is `u64::MAX`: no block can include it.
    NonceExhausted { index: u32 },
    /// More transactions than the proof numbers (2^30).
    TooManyTransactions,
}

impl core::fmt::Display for StatementError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NonceExhausted { index } => {
                write!(f, "transaction {index} carries the last nonce; no block can include it")
            }
            Self::TooManyTransactions => f.write_str("too many transactions for one proof"),
        }
    }
}

/// Most entries a statement may hold, so that every index and write number
/// stays far below the field's modulus.
pub const MAX_ENTRIES: usize = 1 << 30;

/// What a block proof claims: applying the entries, in order, to the state
/// with root `pre_root` gives the state with root `post_root`, in `writes`
/// account writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockStatement {
    pub pre_root: Hash,
    pub post_root: Hash,
    pub entries: Vec<TxEntry>,
    /// Total account writes: the sum of the entries' [`TxKind::writes`].
    pub writes: u32,
}

impl BlockStatement {
    /// The statement for `block`, applied to the state at `pre_root` (its
    /// parent's root), on a chain whose block reward is `block_reward`.
    ///
    /// The block end may mint only under proof of stake (a header naming a
    /// validator set): the reward plus the fees, which the hook pays into the
    /// escrow. In the single stage fees are burned and nothing is minted, so
    /// the bound is zero.
    pub fn new(pre_root: Hash, block: &Block, block_reward: u64) -> Result<Self, StatementError> {
        let transactions = &block.transactions;
        let minting = block.header.validators != Hash::ZERO;
        if transactions.len() >= MAX_ENTRIES {
            return Err(StatementError::TooManyTransactions);
        }
        let mut entries = Vec::with_capacity(transactions.len() + 1);
        let mut writes = 0u32;
        let mut fees = 0u64;
        for (index, tx) in transactions.iter().enumerate() {
            let index = index as u32;
            let entry = tx_entry(index, writes, tx)?;
            writes += entry.kind.writes();
            fees = fees.saturating_add(tx.body.fee);
            entries.push(entry);
        }
        entries.push(TxEntry {
            index: transactions.len() as u32,
            kind: TxKind::BlockEnd,
            first_write: writes,
            sender: REGISTRY,
            to: REGISTRY,
            amount: if minting { block_reward.saturating_add(fees) } else { 0 },
            fee: 0,
            nonce: 0,
            next_nonce: 0,
        });
        writes += TxKind::BlockEnd.writes();
        Ok(Self { pre_root, post_root: block.header.state_root, entries, writes })
    }
}

/// The entry of transaction `index`, whose first write is `first_write`.
fn tx_entry(index: u32, first_write: u32, tx: &Transaction) -> Result<TxEntry, StatementError> {
    let kind = TxKind::of(tx);
    let sender = tx.sender();
    let (to, amount) = match (&tx.body.call, kind) {
        (Call::Transfer { to, amount }, _) => (*to, *amount),
        (call, TxKind::StakeDeposit) => (REGISTRY, call.amount()),
        _ => (REGISTRY, 0),
    };
    let nonce = tx.body.nonce;
    let next_nonce = nonce.checked_add(1).ok_or(StatementError::NonceExhausted { index })?;
    Ok(TxEntry {
        index,
        kind,
        first_write,
        sender,
        to,
        amount,
        fee: tx.body.fee,
        nonce,
        next_nonce,
    })
}

impl TxEntry {
    /// The entry as the elements of a
    /// [`Transaction`](super::relations::Transaction) tuple.
    pub fn elements(&self) -> [M31; super::relations::TRANSACTION_SIZE] {
        let mut out = [M31::ZERO; super::relations::TRANSACTION_SIZE];
        out[0] = M31::new(self.index);
        out[1] = M31::new(self.kind.tag());
        out[2] = M31::new(self.first_write);
        out[3..11].copy_from_slice(&crate::hash::hash_to_elements(&self.sender.as_hash()));
        out[11..19].copy_from_slice(&crate::hash::hash_to_elements(&self.to.as_hash()));
        out[19..23].copy_from_slice(&u64_limbs(self.amount));
        out[23..27].copy_from_slice(&u64_limbs(self.fee));
        out[27..31].copy_from_slice(&u64_limbs(self.nonce));
        out[31..35].copy_from_slice(&u64_limbs(self.next_nonce));
        out
    }
}
