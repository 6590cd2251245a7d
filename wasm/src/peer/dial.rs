//! Where the page connects: from the addresses the serving node lists in its
//! status, one per transport a browser can dial, on the host the page came from.
//!
//! WebRTC-direct is tried first: it needs no TLS certificate and, unlike a plain
//! WebSocket, also works from a page served over HTTPS. WebSocket is the
//! fallback. A page may be told to use only one (`?transport=webrtc` or
//! `?transport=ws`).

use core::fmt;
use std::net::{IpAddr, Ipv4Addr};

use starling_net::libp2p::multiaddr::Protocol;
use starling_net::libp2p::{Multiaddr, PeerId};

/// A transport a browser can dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    WebRtcDirect,
    WebSocket,
}

impl Transport {
    /// In the order they are tried.
    pub const PREFERRED: [Transport; 2] = [Transport::WebRtcDirect, Transport::WebSocket];

    /// The name the page shows (and tests read).
    pub fn name(self) -> &'static str {
        match self {
            Transport::WebRtcDirect => "webrtc-direct",
            Transport::WebSocket => "websocket",
        }
    }

    /// The transport an address is for, if a browser can dial it.
    pub fn of(addr: &Multiaddr) -> Option<Self> {
        let mut webrtc = false;
        let mut certhash = false;
        for p in addr.iter() {
            match p {
                Protocol::WebRTCDirect => webrtc = true,
                Protocol::Certhash(_) => certhash = true,
                Protocol::Ws(_) | Protocol::Wss(_) => return Some(Transport::WebSocket),
                _ => {}
            }
        }
        (webrtc && certhash).then_some(Transport::WebRtcDirect)
    }

    /// Reads the `transport` query parameter: `webrtc` (or `webrtc-direct`), `ws`
    /// (or `websocket`).
    pub fn from_query(value: &str) -> Result<Self, String> {
        match value {
            "webrtc" | "webrtc-direct" => Ok(Transport::WebRtcDirect),
            "ws" | "websocket" => Ok(Transport::WebSocket),
            other => Err(format!(
                "unknown transport {other:?} in the address bar: use transport=webrtc or transport=ws"
            )),
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One address to dial, and the peer expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    pub peer: PeerId,
    /// The full address, ending in `/p2p/<peer>`.
    pub addr: Multiaddr,
}

/// The addresses to try, in order: at most one per transport (`only` keeps one
/// transport), each on `page_host`, the host name the page was loaded from.
///
/// An address is on the page's host when its IP is that host's, or both are
/// loopback (`localhost` counts). A page loaded by DNS name cannot resolve it
/// here, so it dials WebSocket by that name on the port the node lists, and
/// WebRTC-direct (which needs an IP) on a listed address that is neither
/// loopback nor unspecified.
pub fn plan(
    listen: &[String],
    page_host: &str,
    only: Option<Transport>,
) -> Result<Vec<Target>, String> {
    let host = Host::parse(page_host);
    let listed: Vec<(Transport, PeerId, Multiaddr)> = listen
        .iter()
        .filter_map(|a| a.parse::<Multiaddr>().ok())
        .filter_map(|addr| {
            let transport = Transport::of(&addr)?;
            let peer = peer_of(&addr)?;
            Some((transport, peer, addr))
        })
        .collect();
    let wanted: Vec<Transport> = match only {
        Some(t) => vec![t],
        None => Transport::PREFERRED.to_vec(),
    };
    let targets: Vec<Target> = wanted
        .iter()
        .filter_map(|&transport| {
            let mut candidates = listed.iter().filter(|(t, _, _)| *t == transport);
            candidates.find_map(|(_, peer, addr)| {
                let addr = host.reach(transport, addr)?;
                Some(Target { transport, peer: *peer, addr })
            })
        })
        .collect();
    if targets.is_empty() {
        let names: Vec<&str> = wanted.iter().map(|t| t.name()).collect();
        return Err(format!(
            "the node lists no {} address this page can reach on host {page_host:?} (it lists: {})",
            names.join(" or "),
            if listen.is_empty() { "nothing".to_owned() } else { listen.join(", ") }
        ));
    }
    Ok(targets)
}

/// The peer id an address ends with.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
        Some(Protocol::Ip6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

/// The host the page was loaded from.
enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    fn parse(host: &str) -> Self {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) if bare.eq_ignore_ascii_case("localhost") => {
                Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            Err(_) => Host::Name(bare.to_owned()),
        }
    }

    /// `addr` as this page dials it, if it is on this host.
    fn reach(&self, transport: Transport, addr: &Multiaddr) -> Option<Multiaddr> {
        let ip = ip_of(addr)?;
        match self {
            Host::Ip(page) => {
                (ip == *page || (ip.is_loopback() && page.is_loopback())).then(|| addr.clone())
            }
            Host::Name(name) => {
                match transport {
                    Transport::WebSocket => Some(addr.iter().skip(1).fold(
                        Multiaddr::empty().with(Protocol::Dns(name.clone().into())),
                        |a, p| a.with(p),
                    )),
                    Transport::WebRtcDirect => {
                        (!ip.is_loopback() && !ip.is_unspecified()).then(|| addr.clone())
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "12D3KooWGRUVh9mJqDT6dxwpoBmCqp4N8E1pxoCLhqB2i7hngYsr";
    const CERT: &str = "uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g";

    /// What a daemon listening on 127.0.0.1 lists in `starling_status`.
    fn listen(ip: &str) -> Vec<String> {
        vec![
            format!("/ip4/{ip}/tcp/4001/p2p/{PEER}"),
            format!("/ip4/{ip}/udp/4001/quic-v1/p2p/{PEER}"),
            format!("/ip4/{ip}/tcp/4002/ws/p2p/{PEER}"),
            format!("/ip4/{ip}/udp/4002/webrtc-direct/certhash/{CERT}/p2p/{PEER}"),
        ]
    }

    fn shown(targets: &[Target]) -> Vec<(String, String)> {
        targets.iter().map(|t| (t.transport.to_string(), t.addr.to_string())).collect()
    }

    /// Proves WebRTC-direct comes first and WebSocket second, each with the
    /// node's peer id, and TCP and QUIC (which browsers cannot dial) are skipped.
    #[test]
    fn webrtc_first_then_websocket() {
        let targets = plan(&listen("127.0.0.1"), "127.0.0.1", None).unwrap();
        assert_eq!(
            shown(&targets),
            vec![
                ("webrtc-direct".into(), listen("127.0.0.1")[3].clone()),
                ("websocket".into(), listen("127.0.0.1")[2].clone()),
            ]
        );
        assert!(targets.iter().all(|t| t.peer.to_string() == PEER));
    }

    /// Proves the query parameter keeps one transport, and an unknown value is
    /// refused with the accepted ones named.
    #[test]
    fn the_query_parameter_forces_one_transport() {
        for (value, name) in [("webrtc", "webrtc-direct"), ("ws", "websocket")] {
            let only = Transport::from_query(value).unwrap();
            let targets = plan(&listen("127.0.0.1"), "localhost", Some(only)).unwrap();
            assert_eq!(targets.len(), 1);
            assert_eq!(targets[0].transport.name(), name);
        }
        let err = Transport::from_query("tcp").unwrap_err();
        assert!(err.contains("transport=webrtc or transport=ws"), "{err}");
    }

    /// Proves only addresses on the page's host are dialled: the same IP, or
    /// loopback for a loopback page; another host's addresses are an error that
    /// lists what the node offered.
    #[test]
    fn only_the_page_s_host_is_dialled() {
        let mut both = listen("10.1.2.3");
        both.extend(listen("127.0.0.1"));
        let from_lan = plan(&both, "10.1.2.3", None).unwrap();
        assert!(from_lan.iter().all(|t| t.addr.to_string().starts_with("/ip4/10.1.2.3/")));
        let from_loopback = plan(&both, "[::1]", None).unwrap();
        assert!(from_loopback.iter().all(|t| t.addr.to_string().starts_with("/ip4/127.0.0.1/")));
        let err = plan(&listen("10.1.2.3"), "192.168.0.9", None).unwrap_err();
        assert!(err.contains("no webrtc-direct or websocket address"), "{err}");
        assert!(err.contains("/ip4/10.1.2.3/tcp/4002/ws"), "{err}");
    }

    /// Proves a page loaded by DNS name dials WebSocket by that name on the
    /// listed port, and WebRTC-direct on a routable IP, never on loopback.
    #[test]
    fn a_named_host_dials_websocket_by_name() {
        let mut both = listen("127.0.0.1");
        both.extend(listen("203.0.113.7"));
        let targets = plan(&both, "node.example.org", None).unwrap();
        assert_eq!(
            shown(&targets),
            vec![
                ("webrtc-direct".into(), listen("203.0.113.7")[3].clone()),
                ("websocket".into(), format!("/dns/node.example.org/tcp/4002/ws/p2p/{PEER}")),
            ]
        );
        let only_loopback = plan(&listen("127.0.0.1"), "node.example.org", None).unwrap();
        assert_eq!(only_loopback.len(), 1, "no routable WebRTC address: WebSocket only");
    }

    /// Proves addresses without a peer id, or that do not parse, are skipped.
    #[test]
    fn unusable_addresses_are_skipped() {
        let listen = vec![
            "/ip4/127.0.0.1/tcp/4002/ws".to_owned(),
            "not an address".to_owned(),
            format!("/ip4/127.0.0.1/tcp/4003/ws/p2p/{PEER}"),
        ];
        let targets = plan(&listen, "127.0.0.1", None).unwrap();
        assert_eq!(shown(&targets), vec![("websocket".into(), listen[2].clone())]);
    }
}
