//! The browser's swarm (wasm32 only): a fresh identity per page, WebRTC-direct
//! and WebSocket (Noise + Yamux) as transports, and the shared Starling
//! behaviour without Kademlia (a browser cannot be dialled, so it only talks to
//! the peers it dials).

use std::time::Duration;

use starling_core::types::ChainId;
use starling_net::behaviour::{Behaviour, NetConfig};
use starling_net::libp2p::core::transport::timeout::TransportTimeout;
use starling_net::libp2p::core::upgrade::Version;
use starling_net::libp2p::{
    Swarm, SwarmBuilder, Transport, noise, ping, webrtc_websys, websocket_websys, yamux,
};
use starling_net::names::Topic;

/// A dial that has not produced a connection by then fails, so the page falls
/// back to the next transport within a few seconds.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(4);

/// How often the page pings each peer, and how long it waits for the answer.
const PING_INTERVAL: Duration = Duration::from_secs(4);
const PING_TIMEOUT: Duration = Duration::from_secs(4);

/// How long a connection with no stream open is kept (gossip and ping keep the
/// one to the serving node busy).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the swarm for `chain`.
pub fn build(chain: &ChainId) -> Result<Swarm<Behaviour>, String> {
    let mut config = NetConfig::new(chain.clone());
    config.discovery = false;
    config.max_connections = 8;
    let mut swarm = SwarmBuilder::with_new_identity()
        .with_wasm_bindgen()
        .with_other_transport(|key| {
            let webrtc = webrtc_websys::Transport::new(webrtc_websys::Config::new(key));
            TransportTimeout::with_outgoing_timeout(webrtc, DIAL_TIMEOUT)
        })
        .map_err(|e| format!("setting up WebRTC-direct: {e}"))?
        .with_other_transport(|key| {
            let websocket = websocket_websys::Transport::default()
                .upgrade(Version::V1Lazy)
                .authenticate(noise::Config::new(key)?)
                .multiplex(yamux::Config::default());
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                TransportTimeout::with_outgoing_timeout(websocket, DIAL_TIMEOUT),
            )
        })
        .map_err(|e| format!("setting up WebSocket: {e}"))?
        .with_behaviour(|key| Behaviour::new(key, &config))
        .map_err(|e| format!("setting up the behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
        .build();
    // A browser checks blocks and watches consensus (proposals and votes, each
    // checked before it counts); it has no use for the mempool's traffic, nor
    // for the announcements of proofs nodes settled (it does not settle).
    swarm.behaviour_mut().gossipsub.unsubscribe(&Topic::Transactions.on(chain));
    swarm.behaviour_mut().gossipsub.unsubscribe(&Topic::Proofs.on(chain));
    // A WebRTC-direct connection whose peer died is never reported closed by the
    // transport (libp2p-webrtc-websys does not watch the peer connection's
    // state), so the page pings its peers often and drops a connection whose
    // ping fails (see `node`). Set before any connection exists.
    swarm.behaviour_mut().ping = ping::Behaviour::new(
        ping::Config::new().with_interval(PING_INTERVAL).with_timeout(PING_TIMEOUT),
    );
    Ok(swarm)
}
