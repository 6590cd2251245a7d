//! The daemon's swarm: a persistent identity, four transports and their
//! listeners.
//!
//! TCP and QUIC connect daemons; WebSocket and WebRTC-direct are what a browser can
//! dial. The peer id and the WebRTC certificate are kept in the data directory, so
//! a restarted node has the same `/p2p/…` and `/certhash/…` and its peers' bootstrap
//! addresses keep working. So do its ports: without `--p2p-port` the ports the OS
//! chose on the first start are saved and asked for again.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, Swarm, noise, tcp, yamux};
use libp2p_webrtc::tokio::Certificate;
use starling_net::behaviour::{Behaviour, NetConfig};

const IDENTITY_FILE: &str = "p2p-identity.key";
const CERTIFICATE_FILE: &str = "p2p-webrtc.pem";
const PORTS_FILE: &str = "p2p-ports";

/// The four listening ports. TCP and WebSocket are both TCP ports, QUIC and
/// WebRTC-direct both UDP ports; `--p2p-port P` uses P for TCP and QUIC and P + 1
/// for WebSocket and WebRTC-direct.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ports {
    pub tcp: u16,
    pub quic: u16,
    pub websocket: u16,
    pub webrtc: u16,
}

impl Ports {
    pub fn from_base(port: u16) -> Result<Self> {
        let next = port.checked_add(1).context("--p2p-port must be below 65535")?;
        Ok(Self { tcp: port, quic: port, websocket: next, webrtc: next })
    }

    /// The ports saved by an earlier start in `data_dir`, or all zero (any port).
    pub fn saved(data_dir: &Path) -> Self {
        let text = std::fs::read_to_string(data_dir.join(PORTS_FILE)).unwrap_or_default();
        let ports: Vec<u16> = text.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        match ports[..] {
            [tcp, quic, websocket, webrtc] => Self { tcp, quic, websocket, webrtc },
            _ => Self::default(),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<()> {
        let text = format!("{} {} {} {}\n", self.tcp, self.quic, self.websocket, self.webrtc);
        std::fs::write(data_dir.join(PORTS_FILE), text).context("cannot save the p2p ports")
    }

    pub fn is_complete(&self) -> bool {
        self.tcp != 0 && self.quic != 0 && self.websocket != 0 && self.webrtc != 0
    }

    /// Records the port of a new listen address.
    pub fn learn(&mut self, addr: &Multiaddr) {
        let mut tcp = None;
        let mut udp = None;
        for p in addr.iter() {
            match p {
                Protocol::Tcp(port) => tcp = Some(port),
                Protocol::Udp(port) => udp = Some(port),
                Protocol::Ws(_) => self.websocket = tcp.unwrap_or(0),
                Protocol::QuicV1 => self.quic = udp.unwrap_or(0),
                Protocol::WebRTCDirect => self.webrtc = udp.unwrap_or(0),
                _ => {}
            }
        }
        if let (Some(port), false) = (tcp, addr.iter().any(|p| matches!(p, Protocol::Ws(_)))) {
            self.tcp = port;
        }
    }

    /// The listen addresses on `host`.
    pub fn addrs(&self, host: IpAddr) -> [Multiaddr; 4] {
        let ip = Multiaddr::empty().with(Protocol::from(host));
        [
            ip.clone().with(Protocol::Tcp(self.tcp)),
            ip.clone().with(Protocol::Udp(self.quic)).with(Protocol::QuicV1),
            ip.clone().with(Protocol::Tcp(self.websocket)).with(Protocol::Ws("/".into())),
            ip.with(Protocol::Udp(self.webrtc)).with(Protocol::WebRTCDirect),
        ]
    }
}

/// The node's libp2p identity, created on first start.
pub fn identity(data_dir: &Path) -> Result<Keypair> {
    let path = data_dir.join(IDENTITY_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        return Keypair::from_protobuf_encoding(&bytes)
            .with_context(|| format!("{} is not a libp2p identity", path.display()));
    }
    let keypair = Keypair::generate_ed25519();
    write_private(&path, &keypair.to_protobuf_encoding().context("encoding the identity")?)?;
    Ok(keypair)
}

/// The WebRTC-direct certificate (its hash is part of the node's address).
pub fn certificate(data_dir: &Path) -> Result<Certificate> {
    let path = data_dir.join(CERTIFICATE_FILE);
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a WebRTC certificate", path.display()));
    }
    let certificate =
        Certificate::generate(&mut rand::rng()).context("generating the WebRTC certificate")?;
    write_private(&path, certificate.serialize_pem().as_bytes())?;
    Ok(certificate)
}

fn write_private(path: &PathBuf, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Builds the swarm over TCP, QUIC, WebRTC-direct and WebSocket.
/// libp2p's bandwidth counters go into `metrics` (bytes in and out per protocol
/// stack, `libp2p_bandwidth_bytes_total`).
pub async fn build(
    keypair: Keypair,
    certificate: Certificate,
    config: &NetConfig,
    metrics: &mut libp2p::metrics::Registry,
) -> Result<Swarm<Behaviour>> {
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .context("setting up TCP")?
        .with_quic()
        .with_other_transport(|key| {
            libp2p_webrtc::tokio::Transport::new(key.clone(), certificate.clone())
        })
        .context("setting up WebRTC-direct")?
        .with_dns()
        .context("setting up DNS (reading the system resolver configuration)")?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .context("setting up WebSocket")?
        .with_bandwidth_metrics(metrics)
        .with_behaviour(|key| Behaviour::new(key, config))
        .context("setting up the behaviour")?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    Ok(swarm)
}
