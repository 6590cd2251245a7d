//! The chain the page follows, pinned by the first status it sees.
//!
//! In stage one nothing but the serving node names the chain, so the page trusts
//! its first status for the chain id, genesis hash and sequencer key. It trusts
//! that once: a later status naming another chain or key is not followed, because
//! a page that silently adopted it would show blocks of a chain the user never
//! chose as "verified". The user reloads to follow the new chain on purpose.

use std::fmt;

use crate::rpc::Status;

/// Chain id, genesis hash and sequencer key, as the first status gave them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
    pub chain_id: String,
    pub genesis_hash: String,
    pub sequencer: String,
}

/// A status named a chain other than the pinned one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainSwitched {
    /// What changed, e.g. `genesis hash 0xaa… → 0xbb…`.
    pub changes: Vec<String>,
}

impl fmt::Display for ChainSwitched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the node switched to a different chain/sequencer ({}); this page stopped \
             verifying — reload to follow it",
            self.changes.join("; ")
        )
    }
}

impl ChainIdentity {
    pub fn of(status: &Status) -> Self {
        Self {
            chain_id: status.chain_id.clone(),
            genesis_hash: status.genesis_hash.clone(),
            sequencer: status.sequencer.clone(),
        }
    }

    /// Accepts a status of the pinned chain; otherwise says what changed.
    pub fn check(&self, status: &Status) -> Result<(), ChainSwitched> {
        let now = Self::of(status);
        let changes: Vec<String> = [
            ("chain id", &self.chain_id, &now.chain_id),
            ("genesis hash", &self.genesis_hash, &now.genesis_hash),
            ("sequencer key", &self.sequencer, &now.sequencer),
        ]
        .into_iter()
        .filter(|(_, was, is)| was != is)
        .map(|(what, was, is)| format!("{what} {was} → {is}"))
        .collect();
        if changes.is_empty() { Ok(()) } else { Err(ChainSwitched { changes }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(genesis_hash: &str, sequencer: &str) -> Status {
        Status {
            chain_id: "starling-devnet".into(),
            genesis_hash: genesis_hash.into(),
            height: 3,
            head_hash: "0x03".into(),
            state_root: "0x04".into(),
            mode: "single".into(),
            peers: 0,
            sequencer: sequencer.into(),
        }
    }

    #[test]
    fn the_same_chain_passes_whatever_its_head() {
        let pinned = ChainIdentity::of(&status("0xaa", "0xdd"));
        let later = Status { height: 9, head_hash: "0x09".into(), ..status("0xaa", "0xdd") };
        assert_eq!(pinned.check(&later), Ok(()));
    }

    #[test]
    fn a_new_genesis_or_key_is_reported_with_what_changed() {
        let pinned = ChainIdentity::of(&status("0xaa", "0xdd"));
        let err = pinned.check(&status("0xbb", "0xee")).unwrap_err();
        assert_eq!(err.changes, vec!["genesis hash 0xaa → 0xbb", "sequencer key 0xdd → 0xee"]);
        let shown = err.to_string();
        assert!(shown.contains("switched to a different chain/sequencer"), "{shown}");
        assert!(shown.contains("reload to follow it"), "{shown}");
    }
}
