//! `starling devnet`: a whole local network in one command. By default that is
//! one in-process sequencer, funded demo accounts and a trickle of demo
//! transfers, plus the page; with `--validators N` it is N validator processes
//! (and followers) that stake on chain and switch to proof of stake
//! ([`cluster`]).
//!
//! Demo and staker account keys are derived from fixed labels, so they are the
//! same on every devnet (like other chains' developer networks) and printed at
//! start: never use them for anything of value. The sequencer key and the
//! validators' consensus keys are random per data directory.

pub mod cluster;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use starling_core::chain::{Allocation, Genesis};
use starling_core::crypto::{SequencerKey, StarkSecretKey};
use starling_core::exec::VerifiedTransaction;
use starling_core::hash::{Domain, hash_bytes};
use starling_core::staking::{MIN_EXIT_WINDOW_EPOCHS, StakingParams};
use starling_core::types::{Call, ChainId, TxBody};

use crate::node::{Node, now_ms};

pub use starling_core::types::TOKEN;

/// Each demo account starts with this many base units: one million tokens.
pub const DEMO_BALANCE: u64 = 1_000_000 * TOKEN;

/// A devnet's `min_stake`: a thousand tokens.
pub const DEVNET_MIN_STAKE: u64 = 1_000 * TOKEN;
/// What each validator of `--validators N` bonds: ten thousand tokens.
pub const VALIDATOR_STAKE: u64 = 10_000 * TOKEN;
/// The commission each devnet validator charges its delegators (5%).
pub const VALIDATOR_COMMISSION_BPS: u16 = 500;

/// What a devnet data directory remembers between runs.
#[derive(Serialize, Deserialize)]
pub struct DevnetFile {
    pub genesis: Genesis,
    /// The sequencer's Ed25519 seed, hex. Devnet only: a real node keeps it in an
    /// encrypted keystore (`starling node --sequencer-key`).
    pub sequencer_seed: String,
    /// Validator processes the devnet runs (0: the in-process sequencer alone).
    #[serde(default)]
    pub validators: u32,
}

fn derived_key(label: &str) -> StarkSecretKey {
    let seed = hash_bytes(Domain::KeyDerivation, label.as_bytes());
    StarkSecretKey::from_entropy(&seed.0)
}

/// The i-th demo account's key.
pub fn demo_key(i: u32) -> StarkSecretKey {
    derived_key(&format!("starling devnet account {i}"))
}

/// The key of the devnet's prover rewards account, which the paying node
/// (the sequencer, or validator 0) pays each settled proof's prover from.
pub fn rewards_key() -> StarkSecretKey {
    derived_key("starling devnet prover rewards")
}

/// What the rewards account starts with: a million tokens, a million proofs.
pub const REWARDS_BALANCE: u64 = 1_000_000 * TOKEN;

/// How many demo accounts `genesis` funds: its allocations less the stakers'
/// and the rewards account's (which a devnet made before rewards lacks).
pub fn demo_accounts(genesis: &Genesis, validators: u32) -> u32 {
    let rewards = rewards_key().public_key().address();
    let funded = genesis.allocations.iter().any(|a| a.address == rewards);
    (genesis.allocations.len() as u32).saturating_sub(validators + u32::from(funded))
}

/// The key of the account that stakes for validator `i` of `--validators N`.
pub fn staker_key(i: u32) -> StarkSecretKey {
    derived_key(&format!("starling devnet validator {i}"))
}

/// The staking parameters of a devnet of `validators` validator processes:
/// short epochs (10 blocks) and proof of stake once all of them bonded
/// [`VALIDATOR_STAKE`]. A one-process devnet (`validators` 0) has the same
/// parameters but can never switch: nothing there would vote, so its
/// activation stake is out of reach and staking on it only fills the registry.
pub fn staking_params(validators: u32, block_time_ms: u64) -> StakingParams {
    let defaults = StakingParams::default();
    let (activation_stake, min_validators) = match validators {
        0 => (u64::MAX, 1),
        n => (u64::from(n) * VALIDATOR_STAKE, n),
    };
    StakingParams {
        epoch_length: 10,
        min_stake: DEVNET_MIN_STAKE,
        activation_stake,
        min_validators,
        max_validators: defaults.max_validators.max(min_validators),
        exit_window_epochs: MIN_EXIT_WINDOW_EPOCHS,
        block_reward: TOKEN,
        // Twice the block time: losing one validator of four (a propose
        // timeout on each of its turns) keeps proof of stake; a stalled network
        // falls back to the sequencer for an epoch.
        target_block_ms: block_time_ms.saturating_mul(2),
        ..defaults
    }
}

/// Starts `count` prover workers in this process, spread over the nodes at
/// `rpc_urls`, each rewarding a demo account (of `accounts`). They run until
/// the process ends.
pub fn start_provers(rpc_urls: &[String], count: u32, accounts: u32) {
    for i in 0..count {
        let worker = crate::prover::Worker {
            client: crate::client::RpcClient::new(&rpc_urls[i as usize % rpc_urls.len()]),
            prover: demo_key(i % accounts.max(1)).public_key().address(),
            name: format!("prover-{i}"),
        };
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::Builder::new()
            .name(worker.name.clone())
            .spawn(move || worker.run(&stop))
            .expect("cannot start a prover thread");
    }
    if count > 0 {
        eprintln!("{count} prover worker(s) prove every finalized block");
    }
}

/// Reads the devnet file in `dir`, if there is one.
pub fn load(dir: &Path) -> Result<Option<DevnetFile>> {
    let path = dir.join("devnet.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)?;
    let file = serde_json::from_str(&text)
        .with_context(|| format!("corrupt devnet file {}", path.display()))?;
    Ok(Some(file))
}

/// Loads the devnet in `dir`, or creates a new one there: `accounts` demo
/// accounts, with `validators` > 0 a funded staker account per validator, and
/// the prover rewards account ([`rewards_key`]).
/// A directory made for another number of validators is refused.
pub fn load_or_create(
    dir: &Path,
    accounts: u32,
    validators: u32,
    block_time_ms: u64,
) -> Result<(Genesis, SequencerKey)> {
    if let Some(file) = load(dir)? {
        if file.validators != validators {
            let had = match file.validators {
                0 => "the single-sequencer devnet".to_string(),
                n => format!("a devnet of {n} validators (--validators {n})"),
            };
            bail!("{} holds {had}; start it that way or use another --data-dir", dir.display());
        }
        let seed = crate::keys::parse_secret(&file.sequencer_seed)?;
        return Ok((file.genesis, SequencerKey::from_seed(&seed)));
    }
    std::fs::create_dir_all(dir)?;
    let key = SequencerKey::from_seed(&crate::keys::entropy());
    let demo = (0..accounts).map(demo_key);
    let stakers = (0..validators).map(staker_key);
    let genesis = Genesis {
        chain_id: ChainId::new("starling-devnet").expect("a valid chain id"),
        sequencer: key.public_key(),
        timestamp_ms: now_ms(),
        allocations: demo
            .chain(stakers)
            .map(|k| Allocation { address: k.public_key().address(), balance: DEMO_BALANCE })
            .chain([Allocation {
                address: rewards_key().public_key().address(),
                balance: REWARDS_BALANCE,
            }])
            .collect(),
        staking: staking_params(validators, block_time_ms),
    };
    let file = DevnetFile {
        genesis: genesis.clone(),
        sequencer_seed: hex::encode(key.seed()),
        validators,
    };
    crate::keys::write_new(&dir.join("devnet.json"), &serde_json::to_string_pretty(&file)?)?;
    std::fs::write(dir.join("genesis.json"), serde_json::to_string_pretty(&genesis)?)?;
    Ok((genesis, key))
}

/// A default data directory for a devnet: a new temporary one.
pub fn temporary_dir() -> Result<PathBuf> {
    let dir = tempfile::Builder::new().prefix("starling-devnet-").tempdir()?;
    Ok(dir.keep())
}

/// Sends about `per_second` demo transfers between the demo accounts, through the
/// same admission path as RPC, so the page has transactions to show. Account 0 never
/// sends: it is left to the user, whose nonces then never race with the demo's.
pub async fn demo_traffic(node: Arc<Node>, accounts: u32, per_second: f64) {
    if per_second <= 0.0 || accounts < 3 {
        return;
    }
    let keys: Vec<StarkSecretKey> = (0..accounts).map(demo_key).collect();
    let mut rng = now_ms() | 1;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    loop {
        ticker.tick().await;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let from = 1 + (rng % u64::from(accounts - 1)) as usize;
        let to = ((rng >> 20) % u64::from(accounts)) as usize;
        let node = node.clone();
        let (sender, recipient) = (keys[from].clone(), keys[to].public_key().address());
        let amount = 1 + (rng >> 40) % 1_000_000_000;
        let _ = tokio::task::spawn_blocking(move || {
            let address = sender.public_key().address();
            let nonce = {
                let chain = node.chain.lock().expect("chain lock poisoned");
                chain.mempool.pending_nonce(&address).unwrap_or(chain.state.get(&address).nonce)
            };
            let body = TxBody {
                chain_id: node.chain_id.clone(),
                sender_key: sender.public_key(),
                nonce,
                fee: 1 + rng % 10,
                call: Call::Transfer { to: recipient, amount },
            };
            // Signed and verified outside the chain lock, like an RPC submission.
            let verified = VerifiedTransaction::verify(body.sign(&sender))
                .expect("a transaction we just signed verifies");
            let submitted = node.chain.lock().expect("chain lock poisoned").submit(verified);
            if let Err(e) = submitted {
                tracing::debug!(?e, "demo transfer refused");
            }
        })
        .await;
    }
}
