//! `starling devnet`.

use anyhow::{Result, bail};

use crate::chain_state::ChainState;
use crate::cli::DevnetArgs;
use crate::commands::node::{listen, net_options, serve};
use crate::config;
use crate::devnet;
use crate::node::Node;

pub async fn run_devnet(args: DevnetArgs) -> Result<()> {
    if args.validators > 0 {
        return devnet::cluster::run(args).await;
    }
    if args.followers > 0 {
        bail!("--followers needs --validators N (N > 0)");
    }
    let listening = listen(args.http, 8080).await?;
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => devnet::temporary_dir()?,
    };
    let limits =
        config::BlockConfig { interval_ms: args.block_time_ms, ..Default::default() }.limits()?;
    let (genesis, key) = devnet::load_or_create(&data_dir, args.accounts, 0, args.block_time_ms)?;
    let accounts = devnet::demo_accounts(&genesis, 0);
    eprintln!("devnet data directory: {}", data_dir.display());
    eprintln!("demo accounts (devnet only, never use these keys elsewhere):");
    for i in 0..accounts.min(4) {
        let k = devnet::demo_key(i);
        eprintln!("  {}  private key 0x{}", k.public_key().address(), hex::encode(k.to_bytes()));
    }
    let rewards = devnet::rewards_key().public_key().address();
    eprintln!("prover rewards account {rewards} pays {} per settled proof", args.proof_reward);
    let chain = ChainState::open(&data_dir, genesis, Default::default())?;
    let node = Node::new(chain, true, args.p2p.snapshot_interval)?;
    node.pay_provers(devnet::rewards_key(), args.proof_reward)?;
    tokio::spawn(devnet::demo_traffic(node.clone(), accounts, args.demo_tps));
    devnet::start_provers(&[listening.rpc_url()], args.provers, accounts);
    let net = net_options(args.p2p, &data_dir);
    serve(node, listening, Some((key, limits)), net).await
}
