//! How the page starts: one `starling_status` from the node that served it gives
//! the chain to pin (chain id, genesis hash, sequencer key) and the node's libp2p
//! addresses; the genesis block comes with it (peers do not serve genesis, and it
//! is checked against the pinned hash anyway). After that the page is a libp2p
//! peer and makes no more HTTP requests.

use starling_core::types::Block;
use starling_wasm::decode_block_hex;
use starling_wasm::peer::dial::{self, Target, Transport};
use starling_wasm::peer::identity::ChainIdentity;

use crate::rpc::{BlockResponse, Status};

/// What the browser node starts from.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    pub identity: ChainIdentity,
    pub genesis: Block,
    pub targets: Vec<Target>,
}

/// The transport the address bar forces, if any: `?transport=webrtc` or
/// `?transport=ws` (`search` is `location.search`, with or without the `?`).
pub fn forced_transport(search: &str) -> Result<Option<Transport>, String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "transport")
        .map(|(_, value)| Transport::from_query(value))
        .transpose()
}

/// Pins the chain from `status`, takes `genesis` (the node's answer for block 0)
/// and chooses where to dial from the page's host.
pub fn bootstrap(
    status: &Status,
    genesis: &BlockResponse,
    page_host: &str,
    only: Option<Transport>,
) -> Result<Bootstrap, String> {
    let identity = ChainIdentity::parse(&status.chain_id, &status.genesis_hash, &status.sequencer)
        .map_err(|e| format!("the node's status is unusable: {e}"))?;
    let genesis = decode_block_hex(&genesis.block)?;
    let targets = dial::plan(&status.listen, page_host, only)?;
    Ok(Bootstrap { identity, genesis, targets })
}

#[cfg(test)]
mod tests {
    use starling_wasm::test_chain::{CHAIN, TestChain, hex_of};

    use super::*;

    const PEER: &str = "12D3KooWGRUVh9mJqDT6dxwpoBmCqp4N8E1pxoCLhqB2i7hngYsr";

    fn status(chain: &TestChain) -> Status {
        Status {
            chain_id: CHAIN.into(),
            genesis_hash: chain.genesis.hash().to_string(),
            height: 0,
            head_hash: chain.genesis.hash().to_string(),
            state_root: chain.genesis.header.state_root.to_string(),
            mode: "single".into(),
            peers: 0,
            sequencer: chain.sequencer_hex(),
            listen: vec![
                format!("/ip4/127.0.0.1/tcp/4001/p2p/{PEER}"),
                format!("/ip4/127.0.0.1/tcp/4002/ws/p2p/{PEER}"),
            ],
            finalized_height: Some(0),
            proven_height: Some(0),
        }
    }

    fn genesis(chain: &TestChain) -> BlockResponse {
        BlockResponse {
            height: 0,
            hash: chain.genesis.hash().to_string(),
            block: hex_of(&chain.genesis),
            witness: None,
        }
    }

    /// Proves the query parameter is read wherever it stands, absent means
    /// automatic, and an unknown value is an error.
    #[test]
    fn the_transport_comes_from_the_query_string() {
        assert_eq!(forced_transport(""), Ok(None));
        assert_eq!(forced_transport("?transport=ws"), Ok(Some(Transport::WebSocket)));
        assert_eq!(forced_transport("?a=1&transport=webrtc"), Ok(Some(Transport::WebRtcDirect)));
        assert!(forced_transport("?transport=carrier-pigeon").is_err());
    }

    /// Proves a status and genesis give the pinned identity, the genesis block and
    /// the dial targets on the page's host.
    #[test]
    fn a_status_pins_the_chain_and_names_the_targets() {
        let chain = TestChain::build(0, 7);
        let b = bootstrap(&status(&chain), &genesis(&chain), "localhost", None).unwrap();
        assert_eq!(b.identity.genesis_hash, chain.genesis.hash());
        assert_eq!(b.identity.sequencer, chain.sequencer.public_key());
        assert_eq!(b.genesis, chain.genesis);
        assert_eq!(b.targets.len(), 1, "WebSocket only: the node lists no WebRTC address");
        assert_eq!(b.targets[0].transport, Transport::WebSocket);
    }

    /// Proves each way a bootstrap can fail says what failed.
    #[test]
    fn failures_say_what_failed() {
        let chain = TestChain::build(0, 7);
        let bad_key = Status { sequencer: "0x12".into(), ..status(&chain) };
        let err = bootstrap(&bad_key, &genesis(&chain), "localhost", None).unwrap_err();
        assert!(err.contains("sequencer key"), "{err}");
        let bad_block = BlockResponse { block: "0x00".into(), ..genesis(&chain) };
        let err = bootstrap(&status(&chain), &bad_block, "localhost", None).unwrap_err();
        assert!(err.contains("block does not decode"), "{err}");
        let forced = Some(Transport::WebRtcDirect);
        let err = bootstrap(&status(&chain), &genesis(&chain), "localhost", forced).unwrap_err();
        assert!(err.contains("no webrtc-direct address"), "{err}");
    }
}
