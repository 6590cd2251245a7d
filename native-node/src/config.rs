//! Node configuration: a TOML file, overridden by command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use starling_core::consensus::TimeoutConfig;
use starling_core::encoding::Message;
use starling_core::mempool::MempoolConfig;
use starling_core::types::Block;
use starling_core::types::block::MAX_BLOCK_TXS;

use crate::node::BlockLimits;

/// `starling node --config FILE`. Every field is optional; flags win over the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub data_dir: Option<PathBuf>,
    /// Address for the page, `/rpc` and `/metrics` (default 127.0.0.1:8080).
    pub http_addr: Option<SocketAddr>,
    /// Genesis JSON file.
    pub genesis: Option<PathBuf>,
    /// Keystore (Web3 secret storage v3) holding the sequencer's Ed25519 seed.
    pub sequencer_key: Option<PathBuf>,
    /// Keystore holding the validator's Ed25519 consensus key.
    pub validator_key: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    /// Account keystore of a funded rewards account this node pays provers from.
    pub prover_rewards_key: Option<PathBuf>,
    /// Base units paid per settled proof (with `prover_rewards_key`).
    pub proof_reward: Option<u64>,
    pub web_dir: Option<PathBuf>,
    #[serde(default)]
    pub block: BlockConfig,
    #[serde(default)]
    pub mempool: MempoolSection,
    /// Consensus step timeouts (`propose_ms`, `prevote_ms`, `precommit_ms`, and
    /// `delta_ms` added per round); all four when the section is given.
    #[serde(default)]
    pub consensus: TimeoutConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    pub interval_ms: u64,
    pub max_transactions: usize,
    pub max_bytes: usize,
}

impl Default for BlockConfig {
    fn default() -> Self {
        Self { interval_ms: 1000, max_transactions: 2000, max_bytes: 1024 * 1024 }
    }
}

/// Room left in a block's encoding for its header, signature and list prefix.
const BLOCK_OVERHEAD_BYTES: usize = 4096;

impl BlockConfig {
    /// The limits, checked against what a block decoder accepts: a node must never
    /// commit a block that it (or anyone) would then refuse to decode.
    pub fn limits(&self) -> Result<BlockLimits> {
        let max_bytes = Block::MAX_BYTES - BLOCK_OVERHEAD_BYTES;
        if self.max_transactions == 0 || self.max_transactions > MAX_BLOCK_TXS {
            bail!("block.max_transactions must be 1 to {MAX_BLOCK_TXS}");
        }
        if self.max_bytes == 0 || self.max_bytes > max_bytes {
            bail!("block.max_bytes must be 1 to {max_bytes}");
        }
        if self.interval_ms < 10 {
            bail!("block.interval_ms must be at least 10");
        }
        Ok(BlockLimits {
            max_txs: self.max_transactions,
            max_bytes: self.max_bytes,
            interval: Duration::from_millis(self.interval_ms),
        })
    }
}

/// Mempool limits; absent fields keep the core defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolSection {
    pub max_transactions: Option<usize>,
    pub max_bytes: Option<usize>,
    pub max_per_sender: Option<usize>,
    pub max_nonce_gap: Option<u64>,
    pub min_fee: Option<u64>,
}

impl MempoolSection {
    pub fn to_config(&self) -> MempoolConfig {
        let d = MempoolConfig::default();
        MempoolConfig {
            max_txs: self.max_transactions.unwrap_or(d.max_txs),
            max_bytes: self.max_bytes.unwrap_or(d.max_bytes),
            max_per_sender: self.max_per_sender.unwrap_or(d.max_per_sender),
            max_nonce_gap: self.max_nonce_gap.unwrap_or(d.max_nonce_gap),
            min_fee: self.min_fee.unwrap_or(d.min_fee),
        }
    }
}

impl NodeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config {}", path.display()))
    }
}

/// Where the page's files are: the flag, else `STARLING_WEB_DIR`, else `site/` beside
/// the build directory holding this executable (where `cargo xtask build-web` puts it).
pub fn default_web_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STARLING_WEB_DIR") {
        return Some(dir.into());
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config_and_refuses_unknown_keys() {
        let c: NodeConfig = toml::from_str(
            "data_dir = \"/tmp/x\"\nhttp_addr = \"127.0.0.1:9000\"\n[block]\ninterval_ms = 500\n[mempool]\nmin_fee = 3\n",
        )
        .unwrap();
        assert_eq!(c.block.interval_ms, 500);
        assert_eq!(c.block.max_transactions, 2000);
        assert_eq!(c.mempool.to_config().min_fee, 3);
        assert!(toml::from_str::<NodeConfig>("datadir = \"x\"").is_err());
    }

    #[test]
    fn block_limits_beyond_what_a_decoder_accepts_are_refused() {
        assert!(BlockConfig::default().limits().is_ok());
        let too_many = BlockConfig { max_transactions: MAX_BLOCK_TXS + 1, ..Default::default() };
        assert!(too_many.limits().is_err());
        let too_big = BlockConfig { max_bytes: Block::MAX_BYTES, ..Default::default() };
        assert!(too_big.limits().is_err());
        assert!(BlockConfig { interval_ms: 0, ..Default::default() }.limits().is_err());
    }
}
