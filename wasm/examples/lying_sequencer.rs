//! A sequencer that lies, for the browser tests (`tests/browser/`): it runs a
//! real libp2p peer with Starling's behaviour over WebSocket and serves a real
//! chain built by `starling-core`'s block builder, in which it signs one block
//! with a false state root (coins minted out of thin air) and keeps building on
//! it. It announces a new head on gossip every `--interval-ms` and answers sync
//! requests (status, blocks with witnesses) like a full node.
//!
//! On start it prints one JSON line on stdout: the chain's identity as
//! `starling_status` gives it (chain id, genesis hash, sequencer key), the
//! genesis block as `starling_getBlock` gives it, and its listen addresses. The
//! tests hand these to the page in place of the daemon's answers, so the page
//! pins this chain, connects to this peer, and must show the lie as rejected.
//!
//! `cargo run -p starling-wasm --features test-chain --example lying_sequencer --
//! [--lie-at 6] [--blocks 60] [--start 2] [--interval-ms 500]`

use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::MessageAcceptance;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, tcp, yamux};
use starling_core::encoding::Message;
use starling_net::behaviour::{Behaviour, BehaviourEvent, NetConfig};
use starling_net::codec::Inbound;
use starling_net::messages::{
    PeerStatus, Refusal, SignedHeader, SyncRequest, SyncResponse, SyncedBlock,
};
use starling_net::names::Topic;
use starling_wasm::test_chain::{CHAIN, TestChain, hex_of};

struct Options {
    lie_at: u64,
    blocks: usize,
    start: u64,
    interval: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options { lie_at: 6, blocks: 60, start: 2, interval: Duration::from_millis(500) };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--lie-at" => o.lie_at = number(&value)?,
            "--blocks" => o.blocks = number(&value)? as usize,
            "--start" => o.start = number(&value)?,
            "--interval-ms" => o.interval = Duration::from_millis(number(&value)?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.start == 0 || o.start as usize > o.blocks {
        return Err("--start must be between 1 and --blocks".into());
    }
    Ok(o)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("lying_sequencer: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let o = options()?;
    let chain = TestChain::with_lie_at(o.blocks, 7, Some(o.lie_at));
    let mut swarm = swarm().await?;
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0/ws".parse::<Multiaddr>().expect("a valid address"))
        .map_err(|e| format!("cannot listen: {e}"))?;
    let mut head = o.start;
    let mut announced = false;
    let mut tick = tokio::time::interval(o.interval);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } if !announced => {
                    announced = true;
                    let addr = address.with_p2p(*swarm.local_peer_id()).expect("no peer id yet");
                    announce(&chain, &addr);
                }
                SwarmEvent::Behaviour(event) => on_behaviour(&mut swarm, &chain, head, event),
                _ => {}
            },
            _ = tick.tick() => {
                if (head as usize) < chain.blocks.len() {
                    head += 1;
                    let header = SignedHeader::of(chain.block(head)).encode_message();
                    // No subscriber yet is fine: the page asks for the status first.
                    let _ = swarm.behaviour_mut().gossipsub.publish(Topic::Blocks.on(&chain_id()), header);
                }
            }
        }
    }
}

fn chain_id() -> starling_core::types::ChainId {
    starling_core::types::ChainId::new(CHAIN).expect("a valid chain id")
}

async fn swarm() -> Result<Swarm<Behaviour>, String> {
    let mut config = NetConfig::new(chain_id());
    config.discovery = false;
    Ok(SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .map_err(|e| e.to_string())?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|e| e.to_string())?
        .with_behaviour(|key| Behaviour::new(key, &config))
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build())
}

/// The one line the tests read: what the page should pin and where to dial.
fn announce(chain: &TestChain, addr: &Multiaddr) {
    let line = serde_json::json!({
        "chain_id": CHAIN,
        "genesis_hash": chain.genesis.hash().to_string(),
        "sequencer": chain.sequencer_hex(),
        "genesis_block": hex_of(&chain.genesis),
        "listen": [addr.to_string()],
    });
    println!("{line}");
}

fn on_behaviour(swarm: &mut Swarm<Behaviour>, chain: &TestChain, head: u64, event: BehaviourEvent) {
    use request_response::{Event, Message as Rr};
    match event {
        BehaviourEvent::Sync(Event::Message {
            message: Rr::Request { request: Inbound::Request(request), channel, .. },
            ..
        }) => answer(swarm, chain, head, &request, channel),
        BehaviourEvent::Gossipsub(libp2p::gossipsub::Event::Message {
            propagation_source,
            message_id,
            ..
        }) => {
            swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                MessageAcceptance::Ignore,
            );
        }
        _ => {}
    }
}

/// Answers like a full node whose head is `head` (genesis is not served: peers
/// build or bring it themselves).
fn answer(
    swarm: &mut Swarm<Behaviour>,
    chain: &TestChain,
    head: u64,
    request: &SyncRequest,
    channel: ResponseChannel<SyncResponse>,
) {
    let response = match *request {
        SyncRequest::Status => SyncResponse::Status(PeerStatus {
            genesis_hash: chain.genesis.hash(),
            head_height: head,
            head_hash: chain.block(head).hash(),
            snapshot_height: None,
        }),
        SyncRequest::Blocks { from, count, witnesses } => {
            let last = from.saturating_add(u64::from(count)).saturating_sub(1).min(head);
            let blocks: Vec<SyncedBlock> = (from.max(1)..=last)
                .map(|h| SyncedBlock {
                    block: chain.block(h).clone(),
                    witness: witnesses.then(|| chain.witness(h).cloned()).flatten(),
                    certificate: None,
                })
                .collect();
            if blocks.is_empty() {
                SyncResponse::Refused(Refusal::Unavailable)
            } else {
                SyncResponse::Blocks(blocks)
            }
        }
        _ => SyncResponse::Refused(Refusal::Unavailable),
    };
    let _ = swarm.behaviour_mut().sync.send_response(channel, response);
}
