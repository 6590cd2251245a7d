//! `starling genesis`: writes a genesis file for `starling node`.

use anyhow::{Context, Result};
use starling_core::chain::{Allocation, Genesis};
use starling_core::types::ChainId;

use crate::cli::GenesisArgs;
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
    };
    genesis.state().map_err(|e| anyhow::anyhow!("the allocations are invalid: {e}"))?;
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
