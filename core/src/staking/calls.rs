//! Applying a staking call to the state: the sender's account and the registry
//! (with its escrow) change together or not at all.

use crate::exec::{TxError, debit};
use crate::state::StateView;
use crate::types::{Address, Call, ChainId, Transaction};

use super::{REGISTRY, StakingError, StakingState};

/// The tokens a staking call moves, all through the registry's escrow: paid in
/// by the sender, paid out to the sender, or burned out of the escrow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flow {
    pub deposit: u64,
    pub withdraw: u64,
    pub burn: u64,
}

impl Flow {
    pub const NONE: Self = Self { deposit: 0, withdraw: 0, burn: 0 };

    pub fn deposit(amount: u64) -> Self {
        Self { deposit: amount, ..Self::NONE }
    }

    pub fn withdraw(amount: u64) -> Self {
        Self { withdraw: amount, ..Self::NONE }
    }

    pub fn burn(amount: u64) -> Self {
        Self { burn: amount, ..Self::NONE }
    }

    /// The escrow after this flow. Paying out more than the escrow holds would
    /// mean the registry owes more than it holds, which its rules rule out; it is
    /// refused all the same.
    fn escrow_after(&self, escrow: u64) -> Result<u64, StakingError> {
        escrow
            .checked_add(self.deposit)
            .and_then(|e| e.checked_sub(self.withdraw))
            .and_then(|e| e.checked_sub(self.burn))
            .ok_or(StakingError::Overflow)
    }
}

impl StakingState {
    /// Applies one staking call by `sender` to the registry alone.
    pub(crate) fn apply_call(
        &mut self,
        sender: Address,
        call: &Call,
        chain_id: &ChainId,
    ) -> Result<Flow, StakingError> {
        match call {
            Call::Transfer { .. } => {
                debug_assert!(false, "a transfer is not a staking call");
                Ok(Flow::NONE)
            }
            Call::Stake { consensus_key, amount, commission_bps } => {
                self.stake(sender, *consensus_key, *amount, *commission_bps)
            }
            Call::IncreaseStake { amount } => self.increase_stake(&sender, *amount),
            Call::UnstakeIntent => self.unstake_intent(&sender),
            Call::Unstake => self.unstake(&sender),
            Call::Delegate { staker, amount } => self.delegate(sender, *staker, *amount),
            Call::UndelegateIntent { staker, amount } => {
                self.undelegate_intent(sender, *staker, *amount)
            }
            Call::Undelegate { staker } => self.undelegate(sender, *staker),
            Call::ClaimRewards => self.claim_rewards(&sender),
            Call::Evidence { a, b } => self.slash(a, b, chain_id),
        }
    }
}

/// Applies staking transaction `tx` (nonce, fee and amount as for a transfer),
/// assuming [`crate::exec::check_stateless`] passed. On any error the state is
/// unchanged.
pub(crate) fn apply_staking_call<S: StateView>(
    state: &mut S,
    tx: &Transaction,
) -> Result<(), TxError> {
    let sender = tx.sender();
    let before = state.account(&sender)?;
    let mut after = debit(&before, tx)?;
    let mut registry = state.read_registry()?.ok_or(StakingError::NoRegistry)?.clone();
    let flow = registry.apply_call(sender, &tx.body.call, &tx.body.chain_id)?;
    after.balance = after.balance.checked_add(flow.withdraw).ok_or(StakingError::Overflow)?;
    let escrow = flow.escrow_after(state.account(&REGISTRY)?.balance)?;
    state.set_account(sender, after)?;
    if let Err(e) = state.write_registry(registry, escrow) {
        // As in a transfer: the old value was just read, so writing it back works.
        let _ = state.set_account(sender, before);
        return Err(e.into());
    }
    Ok(())
}
