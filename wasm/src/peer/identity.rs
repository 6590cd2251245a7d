//! The chain the page follows: its trust root.
//!
//! In stage one nothing but the serving node names the chain, so the page takes
//! the chain id, genesis hash and sequencer key from that node's status once, when
//! it starts, and holds them fixed. Everything after that is checked against them:
//! a peer whose status names another genesis is left, and a header or block
//! signed by another key is rejected.

use core::fmt;

use starling_core::crypto::SequencerPublicKey;
use starling_core::types::{ChainId, Hash};
use starling_net::messages::PeerStatus;

/// Chain id, genesis hash and sequencer key, pinned for the page's lifetime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
    pub chain_id: ChainId,
    pub genesis_hash: Hash,
    pub sequencer: SequencerPublicKey,
}

impl ChainIdentity {
    /// Parses the three values as the node's status gives them (the hashes and
    /// the key as `0x` hex); the error names the value that is malformed.
    pub fn parse(chain_id: &str, genesis_hash: &str, sequencer: &str) -> Result<Self, String> {
        Ok(Self {
            chain_id: ChainId::new(chain_id).map_err(|e| format!("chain id {chain_id:?}: {e}"))?,
            genesis_hash: genesis_hash
                .parse()
                .map_err(|e| format!("genesis hash {genesis_hash:?}: {e}"))?,
            sequencer: sequencer
                .parse()
                .map_err(|e| format!("sequencer key {sequencer:?}: {e}"))?,
        })
    }

    /// Accepts a peer on the pinned chain; otherwise says which genesis it has.
    pub fn check_peer(&self, status: &PeerStatus) -> Result<(), WrongChain> {
        if status.genesis_hash == self.genesis_hash {
            Ok(())
        } else {
            Err(WrongChain { pinned: self.genesis_hash, found: status.genesis_hash })
        }
    }
}

/// A peer's status named a genesis other than the pinned one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongChain {
    pub pinned: Hash,
    pub found: Hash,
}

impl fmt::Display for WrongChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the peer is on a different chain (genesis hash {} → {}); this page stopped \
             following it — reload to follow the node's new chain",
            self.pinned, self.found
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use starling_core::crypto::SequencerKey;

    fn key() -> String {
        SequencerKey::from_seed(&[1; 32]).public_key().to_string()
    }

    fn status(genesis: Hash) -> PeerStatus {
        PeerStatus {
            genesis_hash: genesis,
            head_height: 9,
            head_hash: Hash([9; 32]),
            snapshot_height: None,
        }
    }

    /// Proves the three values parse as the status gives them, and a peer of the
    /// pinned genesis passes whatever its head.
    #[test]
    fn a_peer_of_the_pinned_genesis_passes() {
        let genesis = Hash([0xaa; 32]);
        let id = ChainIdentity::parse("starling-devnet", &genesis.to_string(), &key()).unwrap();
        assert_eq!(id.chain_id.as_str(), "starling-devnet");
        assert_eq!(id.sequencer.to_string(), key());
        assert_eq!(id.check_peer(&status(genesis)), Ok(()));
    }

    /// Proves a peer with another genesis is refused and the message names both.
    #[test]
    fn a_peer_of_another_genesis_is_refused_with_both_hashes() {
        let id =
            ChainIdentity::parse("starling-devnet", &Hash([0xaa; 32]).to_string(), &key()).unwrap();
        let err = id.check_peer(&status(Hash([0xbb; 32]))).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(&Hash([0xaa; 32]).to_string()), "{shown}");
        assert!(shown.contains(&Hash([0xbb; 32]).to_string()), "{shown}");
        assert!(shown.contains("reload"), "{shown}");
    }

    /// Proves each malformed value is named in the error.
    #[test]
    fn malformed_values_are_named() {
        let good = Hash([1; 32]).to_string();
        assert!(ChainIdentity::parse("", &good, &key()).unwrap_err().starts_with("chain id"));
        assert!(ChainIdentity::parse("c", "0x12", &key()).unwrap_err().starts_with("genesis hash"));
        assert!(ChainIdentity::parse("c", &good, "0xzz").unwrap_err().starts_with("sequencer key"));
    }
}
