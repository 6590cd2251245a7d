//! `starling prove` and `starling prover`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::cli::{ProveArgs, ProverArgs};
use crate::client::RpcClient;
use crate::prover::rpc::Verdict;
use crate::prover::{Worker, prove_input};

/// Proves one block: fetches its input from the node, proves, verifies, then
/// writes and/or submits the proof.
pub fn prove_one(args: ProveArgs) -> Result<()> {
    let ProveArgs { block, target, out, submit } = args;
    let client = RpcClient::new(&target.rpc);
    let input = client
        .proving_input(block)
        .with_context(|| format!("fetching the input of block {block}"))?;
    eprintln!(
        "proving block {block} ({} transactions) for {} on {} threads...",
        input.block.transactions.len(),
        target.reward_address,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let proved = prove_input(&input, target.reward_address)?;
    println!("block {block}: {}", proved.summary());
    if let Some(path) = out {
        std::fs::write(&path, &proved.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("proof written to {}", path.display());
    }
    if submit {
        match client.submit_proof(block, &proved.bytes)? {
            Verdict::Accepted { proven_height } => {
                println!("accepted; the node's proven height is {proven_height}")
            }
            Verdict::Refused { reason, error } => {
                anyhow::bail!("the node refused the proof ({reason}): {error}")
            }
        }
    }
    Ok(())
}

/// Runs `--workers` prover workers against one node until interrupted.
pub fn run_prover(args: ProverArgs) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..args.workers)
        .map(|i| Worker {
            client: RpcClient::new(&args.target.rpc),
            prover: args.target.reward_address,
            name: format!("prover-{i}"),
        })
        .collect();
    std::thread::scope(|scope| {
        for worker in &workers {
            let stop = stop.clone();
            scope.spawn(move || worker.run(&stop));
        }
    });
    Ok(())
}
