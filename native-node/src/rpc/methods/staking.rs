//! The staking reads (`starling_getValidators`, `starling_getStaker`,
//! `starling_getDelegation`), the JSON of staking calls, and the check that
//! refuses, at submission, a staking call that breaks a rule against the latest
//! state.
//!
//! Everything is read from the staking registry of the head's state tree under
//! the chain lock, which is held only while the answer is built. Token amounts
//! are decimal strings (as `starling_getAccount`'s balance), epochs and heights
//! numbers.

use std::collections::HashMap;

use serde_json::{Value, json};
use starling_core::consensus::ValidatorSet;
use starling_core::exec::{TxError, apply_transaction, check_call, check_chain, check_signature};
use starling_core::mempool::MempoolError;
use starling_core::staking::{Mode, REGISTRY, StakingError, StakingParams, StakingState};
use starling_core::state::{Account, StateError, StateTree, StateView};
use starling_core::types::{Address, Call, Hash, Transaction};

use super::super::protocol::RpcError;
use super::{address_param, mempool_error, param, require_latest};
use crate::chain_state::ChainState;

/// Starknet's CONTRACT_NOT_FOUND, used for "no such staker" and "no such
/// delegation": the record asked for does not exist at the head.
fn not_found(detail: String) -> RpcError {
    RpcError::new(20, "Contract not found").with_data(detail)
}

fn registry(chain: &ChainState) -> Result<&StakingState, RpcError> {
    chain
        .state
        .registry()
        .ok_or_else(|| RpcError::internal("the head state holds no staking registry"))
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Single => "single",
        Mode::Pos => "pos",
    }
}

/// The mode of the next block, as `starling_status` shows it.
pub(super) fn current_mode(chain: &ChainState) -> Option<(&'static str, u64)> {
    let registry = chain.state.registry()?;
    Some((mode_name(registry.mode()), registry.epoch()))
}

fn params_json(p: &StakingParams) -> Value {
    json!({
        "epoch_length": p.epoch_length,
        "min_stake": p.min_stake.to_string(),
        "activation_stake": p.activation_stake.to_string(),
        "min_validators": p.min_validators,
        "max_validators": p.max_validators,
        "exit_window_epochs": p.exit_window_epochs,
        "block_reward": p.block_reward.to_string(),
        "proposer_bps": p.proposer_bps,
        "max_commission_bps": p.max_commission_bps,
        "slash_bps": p.slash_bps,
    })
}

/// One epoch's set: who, with what power, in which mode.
fn set_json(registry: &StakingState, epoch: u64) -> Value {
    let set: Option<&ValidatorSet> = registry.validator_set(epoch);
    let validators: Vec<Value> = set
        .map(|s| {
            s.validators()
                .iter()
                .map(|v| json!({ "key": v.key, "staker": v.staker, "power": v.power.to_string() }))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "epoch": epoch,
        "first_block": epoch.saturating_mul(registry.params().epoch_length),
        "mode": registry.mode_at(epoch).map(mode_name),
        "set_hash": set.map(ValidatorSet::hash),
        "total_power": set.map_or(0, ValidatorSet::total_power).to_string(),
        "validators": validators,
    })
}

/// `starling_getValidators [block_id?]`: the epoch of the next block, its mode
/// and validator set, the sets of the next two epochs (already fixed), and the
/// staking parameters.
pub(super) fn validators(chain: &ChainState, params: &Value) -> Result<Value, RpcError> {
    require_latest(chain, param(params, 0, "block_id"))?;
    let registry = registry(chain)?;
    let epoch = registry.epoch();
    let mut answer = set_json(registry, epoch);
    answer["height"] = json!(chain.head.height);
    answer["mode_since_epoch"] = json!(registry.mode_since().since_epoch);
    answer["next"] = json!([set_json(registry, epoch + 1), set_json(registry, epoch + 2)]);
    answer["stakers"] = json!(registry.stakers().len());
    answer["params"] = params_json(registry.params());
    Ok(answer)
}

/// `starling_getStaker [address, block_id?]`: a staker's own stake, its pool,
/// commission, claimable rewards, exit and slashing.
pub(super) fn staker(chain: &ChainState, params: &Value) -> Result<Value, RpcError> {
    let address = address_param(params, 0, "address")?;
    require_latest(chain, param(params, 1, "block_id"))?;
    let registry = registry(chain)?;
    let s =
        registry.staker(&address).ok_or_else(|| not_found(format!("{address} is not a staker")))?;
    let epoch = registry.epoch();
    let window = registry.params().exit_window_epochs;
    let withdrawable_from = s.exit_epoch.map(|e| e.saturating_add(window));
    let in_sets: Vec<u64> = (epoch..=epoch + 2)
        .filter(|e| {
            registry.validator_set(*e).is_some_and(|set| set.get(&s.consensus_key).is_some())
        })
        .collect();
    Ok(json!({
        "address": s.address,
        "consensus_key": s.consensus_key,
        "stake": s.stake.to_string(),
        "delegated": s.delegated.to_string(),
        "power": s.stake.saturating_add(s.delegated).to_string(),
        "commission_bps": s.commission_bps,
        "unclaimed_rewards": registry.staker_rewards(&address).unwrap_or(0).to_string(),
        "joined_epoch": s.joined_epoch,
        "exit_intent_epoch": s.exit_epoch,
        "withdrawable_from_epoch": withdrawable_from,
        "withdrawable_now": withdrawable_from.is_some_and(|w| epoch >= w),
        "slashed": s.slashed,
        "validator_in_epochs": in_sets,
        "epoch": epoch,
    }))
}

/// `starling_getDelegation [delegator, staker, block_id?]`: tokens `delegator`
/// has bonded in `staker`'s pool, its claimable rewards and its withdrawal
/// under way.
pub(super) fn delegation(chain: &ChainState, params: &Value) -> Result<Value, RpcError> {
    let delegator = address_param(params, 0, "delegator")?;
    let staker = address_param(params, 1, "staker")?;
    require_latest(chain, param(params, 2, "block_id"))?;
    let registry = registry(chain)?;
    let d = registry
        .delegation(&delegator, &staker)
        .ok_or_else(|| not_found(format!("{delegator} has no delegation to {staker}")))?;
    let epoch = registry.epoch();
    let withdrawal = d.unbonding.map(|(amount, from)| {
        json!({
            "amount": amount.to_string(),
            "withdrawable_from_epoch": from,
            "withdrawable_now": epoch >= from,
        })
    });
    Ok(json!({
        "delegator": delegator,
        "staker": d.staker,
        "amount": d.amount.to_string(),
        "rewards": d.pending_rewards.to_string(),
        "pending_withdrawal": withdrawal,
        "epoch": epoch,
    }))
}

/// The call-specific fields of a transaction's JSON, and its type name.
pub(super) fn call_json(call: &Call) -> (&'static str, Value) {
    match call {
        Call::Transfer { to, amount } => {
            ("TRANSFER", json!({ "recipient": to, "amount": amount.to_string() }))
        }
        Call::Stake { consensus_key, amount, commission_bps } => (
            "STAKE",
            json!({
                "consensus_key": consensus_key,
                "amount": amount.to_string(),
                "commission_bps": commission_bps,
            }),
        ),
        Call::IncreaseStake { amount } => {
            ("INCREASE_STAKE", json!({ "amount": amount.to_string() }))
        }
        Call::UnstakeIntent => ("UNSTAKE_INTENT", json!({})),
        Call::Unstake => ("UNSTAKE", json!({})),
        Call::Delegate { staker, amount } => {
            ("DELEGATE", json!({ "staker": staker, "amount": amount.to_string() }))
        }
        Call::UndelegateIntent { staker, amount } => {
            ("UNDELEGATE_INTENT", json!({ "staker": staker, "amount": amount.to_string() }))
        }
        Call::Undelegate { staker } => ("UNDELEGATE", json!({ "staker": staker })),
        Call::ClaimRewards => ("CLAIM_REWARDS", json!({})),
        Call::Evidence { a, b } => (
            "EVIDENCE",
            json!({
                "validator": a.vote.validator,
                "height": a.vote.height,
                "round": a.vote.round,
                "votes": [a.vote.value, b.vote.value],
            }),
        ),
    }
}

/// Refuses a staking call that would fail against the latest state, so its
/// sender hears which rule it breaks instead of seeing it dropped when a block
/// is built. The call is applied to a throw-away overlay of the head state.
///
/// Pending transactions are not in that state, so when the sender has others
/// pending (its nonce is ahead of the committed one), only the rules no earlier
/// transaction can change are enforced: the minimum stake, the commission
/// limit, a zero amount. Balance and nonce stay the mempool's to judge.
pub(super) fn precheck(chain: &ChainState, tx: &Transaction) -> Result<(), RpcError> {
    if matches!(tx.body.call, Call::Transfer { .. }) {
        return Ok(());
    }
    // Cheap stateless rules first, so a malformed call gets their error.
    if check_chain(tx, chain.chain_id()).and_then(|()| check_call(tx)).is_err() {
        return Ok(()); // the mempool names it
    }
    let Err(e) = dry_run(&chain.state, tx) else { return Ok(()) };
    let own_state = tx.body.nonce == chain.state.get(&tx.sender()).nonce;
    let timeless = matches!(
        e,
        StakingError::StakeBelowMinimum { .. }
            | StakingError::CommissionTooHigh { .. }
            | StakingError::ZeroAmount
    );
    if !(own_state || timeless) {
        return Ok(());
    }
    // Only a signed transaction is told about the state (and a forged one gets
    // the error the mempool would give it).
    let error = match check_signature(tx) {
        Ok(()) => TxError::Staking(e),
        Err(bad) => bad,
    };
    Err(mempool_error(MempoolError::Invalid(error)))
}

/// Applies `tx` on an overlay of `state`, as if the sender's nonce matched and
/// its balance covered the cost; returns the staking rule it breaks, if any.
fn dry_run(state: &StateTree, tx: &Transaction) -> Result<(), StakingError> {
    let sender = tx.sender();
    let mut account = state.get(&sender);
    account.nonce = tx.body.nonce;
    account.balance = account.balance.max(tx.total_cost().unwrap_or(u64::MAX));
    let mut overlay = Overlay { base: state, accounts: HashMap::new(), registry: None };
    overlay.accounts.insert(sender, account);
    match apply_transaction(&mut overlay, tx) {
        Err(TxError::Staking(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Writes kept beside an unchanged state tree.
struct Overlay<'a> {
    base: &'a StateTree,
    accounts: HashMap<Address, Account>,
    registry: Option<StakingState>,
}

impl StateView for Overlay<'_> {
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        Ok(self.accounts.get(address).copied().unwrap_or_else(|| self.base.get(address)))
    }

    fn set_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        self.accounts.insert(address, account);
        Ok(())
    }

    /// Never asked for by a single transaction's application.
    fn state_root(&mut self) -> Hash {
        Hash::ZERO
    }

    fn read_registry(&self) -> Result<Option<&StakingState>, StateError> {
        Ok(self.registry.as_ref().or_else(|| self.base.registry()))
    }

    fn write_registry(&mut self, registry: StakingState, escrow: u64) -> Result<(), StateError> {
        // The commitment is left as it was: nothing here reads it.
        let mut account = self.account(&REGISTRY)?;
        account.balance = escrow;
        self.accounts.insert(REGISTRY, account);
        self.registry = Some(registry);
        Ok(())
    }
}
