//! `starling genesis`: writes a genesis file for `starling node`.

use anyhow::{Context, Result};
use starling_core::chain::{Allocation, Genesis};
use starling_core::staking::StakingParams;
use starling_core::types::ChainId;

use crate::cli::{GenesisArgs, StakingFlags};
use crate::{keys, node};

pub fn write_genesis(args: GenesisArgs) -> Result<()> {
    let chain_id = ChainId::new(&args.chain_id).map_err(|e| anyhow::anyhow!("--chain-id: {e}"))?;
    let key = keys::unlock_sequencer(&args.sequencer_key, args.password_file.as_deref())?;
    let allocations =
        args.allocations.iter().map(|a| parse_allocation(a)).collect::<Result<Vec<_>>>()?;
    let genesis = Genesis {
        chain_id,
        sequencer: key.public_key(),
        timestamp_ms: node::now_ms(),
        allocations,
        staking: staking_params(&args.staking),
    };
    genesis.state().map_err(|e| anyhow::anyhow!("the genesis is invalid: {e}"))?;
    keys::write_new(&args.out, &serde_json::to_string_pretty(&genesis)?)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

pub fn parse_allocation(text: &str) -> Result<Allocation> {
    let (address, amount) = text.split_once('=').context("an allocation is ADDRESS=AMOUNT")?;
    Ok(Allocation {
        address: address.parse().map_err(|e| anyhow::anyhow!("{address}: {e}"))?,
        balance: amount.parse().with_context(|| format!("{amount} is not an amount"))?,
    })
}

/// The staking parameters the flags give, the defaults for the rest.
pub fn staking_params(flags: &StakingFlags) -> StakingParams {
    let d = StakingParams::default();
    StakingParams {
        epoch_length: flags.epoch_length.unwrap_or(d.epoch_length),
        min_stake: flags.min_stake.unwrap_or(d.min_stake),
        activation_stake: flags.activation_stake.unwrap_or(d.activation_stake),
        min_validators: flags.min_validators.unwrap_or(d.min_validators),
        max_validators: flags.max_validators.unwrap_or(d.max_validators),
        exit_window_epochs: flags.exit_window_epochs.unwrap_or(d.exit_window_epochs),
        block_reward: flags.block_reward.unwrap_or(d.block_reward),
        proposer_bps: flags.proposer_bps.unwrap_or(d.proposer_bps),
        max_commission_bps: flags.max_commission_bps.unwrap_or(d.max_commission_bps),
        slash_bps: flags.slash_bps.unwrap_or(d.slash_bps),
        target_block_ms: flags.target_block_ms.unwrap_or(d.target_block_ms),
    }
}
