//! Names of the gossip topics and request-response protocols.
//!
//! Every name carries the chain id, so nodes of two chains that happen to connect
//! never exchange messages (their protocols simply do not match), and a version
//! suffix, so a later incompatible change can run beside this one.

use libp2p::StreamProtocol;
use libp2p::gossipsub::IdentTopic;
use starling_core::types::ChainId;

/// Version of the protocols named here; bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// The gossip topics. Blocks, transactions and (with later issues) votes, proofs and
/// proving jobs each travel on their own topic so a peer can subscribe to just what
/// it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    /// Signed block headers announcing a new head; bodies are fetched with sync.
    Blocks,
    /// Signed transactions on their way to the sequencer.
    Transactions,
    /// Signed consensus proposals (proof of stake); their blocks are fetched with sync.
    Proposals,
    /// Signed consensus votes: prevotes and precommits.
    Votes,
    /// Validity proofs of finalized blocks.
    Proofs,
    /// Proving jobs offered to provers.
    Jobs,
}

impl Topic {
    pub const ALL: [Topic; 6] = [
        Topic::Blocks,
        Topic::Transactions,
        Topic::Proposals,
        Topic::Votes,
        Topic::Proofs,
        Topic::Jobs,
    ];

    fn name(self) -> &'static str {
        match self {
            Topic::Blocks => "blocks",
            Topic::Transactions => "transactions",
            Topic::Proposals => "proposals",
            Topic::Votes => "votes",
            Topic::Proofs => "proofs",
            Topic::Jobs => "jobs",
        }
    }

    /// The gossipsub topic of this kind on `chain`.
    pub fn on(self, chain: &ChainId) -> IdentTopic {
        IdentTopic::new(format!("/starling/{}/{}/{PROTOCOL_VERSION}", chain.as_str(), self.name()))
    }
}

/// The request-response protocol for sync (status, headers, blocks, state chunks).
pub fn sync_protocol(chain: &ChainId) -> StreamProtocol {
    let name: String = format!("/starling/{}/sync/{PROTOCOL_VERSION}", chain.as_str());
    StreamProtocol::try_from_owned(name).expect("the name starts with a slash")
}

/// The Kademlia protocol; per chain, so discovery only finds peers of this chain.
pub fn kad_protocol(chain: &ChainId) -> StreamProtocol {
    let name: String = format!("/starling/{}/kad/{PROTOCOL_VERSION}", chain.as_str());
    StreamProtocol::try_from_owned(name).expect("the name starts with a slash")
}

/// What identify reports as this software's protocol version.
pub fn identify_protocol(chain: &ChainId) -> String {
    format!("/starling/{}/{PROTOCOL_VERSION}", chain.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves names are namespaced by chain id and distinct per topic.
    #[test]
    fn names_carry_the_chain_and_differ_per_topic() {
        let a = ChainId::new("alpha").unwrap();
        let b = ChainId::new("beta").unwrap();
        assert_eq!(Topic::Blocks.on(&a).hash().as_str(), "/starling/alpha/blocks/1");
        assert_ne!(Topic::Blocks.on(&a).hash(), Topic::Blocks.on(&b).hash());
        let mut all: Vec<_> = Topic::ALL.iter().map(|t| t.on(&a).hash()).collect();
        all.sort_by(|x, y| x.as_str().cmp(y.as_str()));
        all.dedup();
        assert_eq!(all.len(), Topic::ALL.len());
        assert_eq!(sync_protocol(&a).as_ref(), "/starling/alpha/sync/1");
        assert_ne!(sync_protocol(&a), sync_protocol(&b));
    }
}
