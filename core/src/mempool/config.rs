//! Limits that keep the mempool bounded whatever peers send.

/// Bounds on what the mempool holds. Every limit exists because without it a peer
/// could make a node spend unbounded memory or CPU for free.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most transactions held at once.
    pub max_txs: usize,
    /// Most bytes held at once, counting each transaction's wire encoding.
    pub max_bytes: usize,
    /// Most transactions held per sender, so one account cannot fill the pool.
    pub max_per_sender: usize,
    /// How far past the sender's next nonce a transaction may be. Transactions
    /// behind a gap cannot be included yet, so they are only held this far ahead.
    pub max_nonce_gap: u64,
    /// Smallest fee accepted: a zero-fee transaction would cost its sender nothing
    /// while costing every node a signature check.
    pub min_fee: u64,
}

impl Default for MempoolConfig {
    /// About one minute of blocks at a thousand transfers a second; 16 MiB holds
    /// them with ample headroom (a transfer encodes to under 200 bytes).
    fn default() -> Self {
        Self {
            max_txs: 10_000,
            max_bytes: 16 * 1024 * 1024,
            max_per_sender: 64,
            max_nonce_gap: 64,
            min_fee: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves a host config may name only the limits it changes.
    #[test]
    fn partial_config_keeps_defaults() {
        let config: MempoolConfig = serde_json::from_str(r#"{"min_fee": 5}"#).unwrap();
        assert_eq!(config, MempoolConfig { min_fee: 5, ..MempoolConfig::default() });
    }

    /// Proves a misspelt limit is an error rather than silently ignored.
    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<MempoolConfig>(r#"{"max_tx": 5}"#).is_err());
    }
}
