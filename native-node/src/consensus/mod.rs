//! The daemon's side of proof-of-stake consensus: the engine that runs core's
//! Tendermint driver over the network, and the write-ahead log that keeps a
//! validator from ever signing twice.

mod engine;
mod inputs;
mod signer;
mod timers;
pub mod wal;

pub use engine::{Event, Gossip};

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use starling_core::consensus::{Driver, TimeoutConfig};
use starling_core::crypto::SequencerKey;

use crate::node::Node;
use engine::Engine;
use signer::Signer;
use wal::Wal;

/// Events waiting for the engine; gossip beyond this is not relayed by this node.
const EVENT_QUEUE: usize = 8192;

/// Starts the engine for `node`: as a validator with `key` (its log in
/// `data_dir/consensus.wal`), else as an observer. It runs on a thread of its
/// own until the process exits; the returned future ends only if the engine
/// fails (when signing is no longer safe) or panics. A plain thread, not a
/// runtime blocking task: the runtime's shutdown would wait for it forever.
pub fn start(
    node: Arc<Node>,
    key: Option<SequencerKey>,
    data_dir: &Path,
    timeouts: TimeoutConfig,
) -> Result<impl Future<Output = Result<()>> + use<>> {
    let (signer, replay) = match key {
        Some(key) => {
            let path = data_dir.join("consensus.wal");
            let (wal, records) = Wal::open(&path)
                .with_context(|| format!("opening the consensus log {}", path.display()))?;
            tracing::info!(validator = %key.public_key(), log_height = wal.height(), "validating");
            (Some(Signer::new(key, wal)), records)
        }
        None => (None, Vec::new()),
    };
    let me = signer.as_ref().map(|s| s.key().public_key());
    let driver = Driver::new(node.chain_id.clone(), timeouts, me);
    let (events, inbox) = std::sync::mpsc::sync_channel(EVENT_QUEUE);
    node.set_consensus(events);
    let engine = Engine::new(node, driver, signer, inbox, replay);
    let (done, ended) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("consensus".into())
        .spawn(move || {
            let _ = done.send(engine.run());
        })
        .context("starting the consensus thread")?;
    Ok(async move { ended.await.unwrap_or_else(|_| Err(anyhow!("the consensus engine panicked"))) })
}
