//! Starting an empty node from a peer's state snapshot instead of replaying every
//! block since genesis.
//!
//! The node trusts only the genesis: it asks a bootstrap peer which snapshot it
//! serves, fetches that height's header and block and checks the sequencer's
//! signature on them, then downloads the state in chunks, each checked against
//! the signed header's state root, and finally checks that the rebuilt state has
//! exactly that root. Only then is anything written, in one transaction.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use starling_core::chain::Genesis;
use starling_core::crypto::SequencerPublicKey;
use starling_core::state::SnapshotRebuild;
use starling_core::types::{Block, Hash};
use starling_net::behaviour::{Behaviour, BehaviourEvent, NetConfig};
use starling_net::messages::{
    MAX_CHUNK_ACCOUNTS, PeerStatus, SignedHeader, SyncRequest, SyncResponse,
};

use super::{NetOptions, swarm};
use crate::storage::Store;

/// How long one step (connecting, one request) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Downloads, checks and installs the snapshot a bootstrap peer serves.
pub async fn join(
    options: &NetOptions,
    genesis: &Genesis,
    genesis_hash: Hash,
    store: &Store,
) -> Result<()> {
    ensure!(
        !options.bootstrap.is_empty(),
        "--from-snapshot needs a --bootstrap peer to download from"
    );
    let keypair = swarm::identity(&options.data_dir)?;
    let certificate = swarm::certificate(&options.data_dir)?;
    let mut config = NetConfig::new(genesis.chain_id.clone());
    config.discovery = false;
    let mut metrics = libp2p::metrics::Registry::default();
    let mut swarm = swarm::build(keypair, certificate, &config, &mut metrics).await?;
    for addr in &options.bootstrap {
        swarm.dial(addr.clone()).with_context(|| format!("cannot dial {addr}"))?;
    }
    let peer = step(connected(&mut swarm), "connecting to a bootstrap peer").await?;
    let status = match ask(&mut swarm, peer, SyncRequest::Status).await? {
        SyncResponse::Status(s) => s,
        other => bail!("peer {peer} answered a status request with {other:?}"),
    };
    let height = snapshot_height(&status, &genesis_hash, peer)?;
    tracing::info!(%peer, height, "downloading a state snapshot");

    let header = fetch_header(&mut swarm, peer, height, genesis).await?;
    let block = fetch_block(&mut swarm, peer, &header, genesis).await?;
    let mut rebuild = SnapshotRebuild::new(header.header.state_root);
    while let Some(start) = rebuild.cursor() {
        let request = SyncRequest::StateChunk { height, start, count: MAX_CHUNK_ACCOUNTS };
        let chunk = match ask(&mut swarm, peer, request).await? {
            SyncResponse::StateChunk(c) if c.height == height => c,
            SyncResponse::Refused(r) => {
                bail!("peer {peer} stopped serving snapshot {height} ({r:?}); try again")
            }
            other => bail!("peer {peer} answered a state chunk request with {}", kind(&other)),
        };
        rebuild
            .add_chunk(&chunk.accounts, chunk.next)
            .with_context(|| format!("peer {peer} sent an invalid state chunk"))?;
        tracing::info!(accounts = rebuild.accounts(), "downloaded state chunk");
    }
    let state =
        rebuild.finish().with_context(|| format!("peer {peer} sent an invalid snapshot"))?;
    let accounts: Vec<_> = state.accounts().collect();
    store.install_snapshot(&genesis_hash, &block, &accounts, state.registry())?;
    tracing::info!(height, accounts = accounts.len(), root = %state.root(), "started from a verified snapshot");
    Ok(())
}

fn snapshot_height(status: &PeerStatus, genesis_hash: &Hash, peer: PeerId) -> Result<u64> {
    ensure!(
        &status.genesis_hash == genesis_hash,
        "peer {peer} follows another chain (genesis {})",
        status.genesis_hash
    );
    match status.snapshot_height {
        Some(h) if h > 0 => Ok(h),
        _ => {
            bail!("peer {peer} serves no snapshot past genesis yet; start without --from-snapshot")
        }
    }
}

async fn fetch_header(
    swarm: &mut Swarm<Behaviour>,
    peer: PeerId,
    height: u64,
    genesis: &Genesis,
) -> Result<SignedHeader> {
    let header = match ask(swarm, peer, SyncRequest::Headers { from: height, count: 1 }).await? {
        SyncResponse::Headers(mut h) if h.len() == 1 => h.remove(0),
        other => bail!("peer {peer} answered a header request with {}", kind(&other)),
    };
    ensure!(header.height() == height, "peer {peer} sent header {} for {height}", header.height());
    header
        .verify(&genesis.chain_id, &expected_signer(&header, genesis))
        .map_err(|e| anyhow!("peer {peer} sent a header its signer did not sign: {e}"))?;
    Ok(header)
}

/// Who must have signed a snapshot's header: the genesis sequencer while it signs
/// blocks; under proof of stake, the header's own proposer. A node that joins from
/// a snapshot cannot check a validator set it does not yet hold: it trusts the set
/// the snapshot names (weak subjectivity), as light clients of BFT chains do.
fn expected_signer(header: &SignedHeader, genesis: &Genesis) -> SequencerPublicKey {
    if header.header.validators == Hash::ZERO { genesis.sequencer } else { header.header.proposer }
}

async fn fetch_block(
    swarm: &mut Swarm<Behaviour>,
    peer: PeerId,
    header: &SignedHeader,
    genesis: &Genesis,
) -> Result<Block> {
    let request = SyncRequest::Blocks { from: header.height(), count: 1, witnesses: false };
    let block = match ask(swarm, peer, request).await? {
        SyncResponse::Blocks(mut b) if b.len() == 1 => b.remove(0).block,
        other => bail!("peer {peer} answered a block request with {}", kind(&other)),
    };
    ensure!(
        block.hash() == header.hash(),
        "peer {peer} sent a block that does not match its header"
    );
    block
        .verify_seal(&genesis.chain_id, &expected_signer(header, genesis))
        .map_err(|e| anyhow!("peer {peer} sent an invalid block: {e}"))?;
    Ok(block)
}

fn kind(response: &SyncResponse) -> &'static str {
    match response {
        SyncResponse::Status(_) => "a status",
        SyncResponse::Headers(_) => "a wrong list of headers",
        SyncResponse::Blocks(_) => "a wrong list of blocks",
        SyncResponse::StateChunk(_) => "a chunk of another snapshot",
        SyncResponse::Refused(_) => "a refusal",
        SyncResponse::Proposal(_) => "a proposed block",
        SyncResponse::Proof(_) => "a block proof",
    }
}

async fn step<T>(future: impl Future<Output = Result<T>>, what: &str) -> Result<T> {
    tokio::time::timeout(STEP_TIMEOUT, future).await.map_err(|_| anyhow!("timed out {what}"))?
}

/// Waits for the first connection.
async fn connected(swarm: &mut Swarm<Behaviour>) -> Result<PeerId> {
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => return Ok(peer_id),
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                tracing::warn!(%error, "cannot reach a bootstrap peer")
            }
            _ => {}
        }
    }
}

/// Sends one request and drives the swarm until its answer (or failure) arrives.
async fn ask(
    swarm: &mut Swarm<Behaviour>,
    peer: PeerId,
    request: SyncRequest,
) -> Result<SyncResponse> {
    let id = swarm.behaviour_mut().sync.send_request(&peer, request.into());
    step(answer(swarm, id), "waiting for a peer's answer").await
}

async fn answer(swarm: &mut Swarm<Behaviour>, id: OutboundRequestId) -> Result<SyncResponse> {
    use request_response::{Event, Message};
    loop {
        if let SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) = swarm.select_next_some().await {
            match event {
                Event::Message { message: Message::Response { request_id, response }, .. }
                    if request_id == id =>
                {
                    return Ok(response);
                }
                Event::OutboundFailure { request_id, error, peer, .. } if request_id == id => {
                    bail!("request to {peer} failed: {error}")
                }
                _ => {}
            }
        }
    }
}
