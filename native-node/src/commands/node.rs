//! `starling node`, and serving a node over HTTP (shared with `starling devnet`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use starling_core::chain::Genesis;
use starling_core::consensus::TimeoutConfig;
use starling_core::crypto::SequencerKey;
use tokio::net::TcpListener;

use crate::chain_state::ChainState;
use crate::cli::{HttpArgs, NodeArgs, P2pArgs};
use crate::config::{self, NodeConfig};
use crate::consensus;
use crate::keys;
use crate::network::{self, NetOptions};
use crate::node::{self, BlockLimits, Node};
use crate::storage::Store;

/// The HTTP port, bound before anything else is done: a busy port then fails at
/// once, before a password prompt or a new data directory.
pub struct Listening {
    listener: TcpListener,
    local: SocketAddr,
    web_dir: Option<PathBuf>,
}

impl Listening {
    /// The JSON-RPC URL of the bound port, for clients in this process.
    pub fn rpc_url(&self) -> String {
        let host = match self.local.ip() {
            ip if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            ip => ip,
        };
        format!("http://{}/rpc", SocketAddr::new(host, self.local.port()))
    }
}

/// Binds the port `http` asks for (else `default_port`).
pub async fn listen(http: HttpArgs, default_port: u16) -> Result<Listening> {
    let addr = SocketAddr::new(http.http_host, http.http_port.unwrap_or(default_port));
    let (listener, local) = node::bind(addr).await?;
    let web_dir = http.web_dir.or_else(config::default_web_dir);
    Ok(Listening { listener, local, web_dir })
}

/// The network options for a node keeping its data in `data_dir`.
pub fn net_options(p2p: P2pArgs, data_dir: &Path) -> NetOptions {
    NetOptions {
        data_dir: data_dir.to_path_buf(),
        host: p2p.p2p_host,
        port: p2p.p2p_port,
        bootstrap: p2p.bootstrap,
        discovery: !p2p.no_discovery,
    }
}

/// Joins the network, serves the node over HTTP and, with a key, produces blocks;
/// prints the page URL.
pub async fn serve(
    node: Arc<Node>,
    listening: Listening,
    producer: Option<(SequencerKey, BlockLimits)>,
    net: NetOptions,
) -> Result<()> {
    let roles = Roles { producer, validator: None, timeouts: TimeoutConfig::default() };
    serve_as(node, listening, roles, net).await
}

/// What a node does besides following: produce blocks while the sequencer signs
/// them, and vote as a validator once proof of stake is active.
pub struct Roles {
    pub producer: Option<(SequencerKey, BlockLimits)>,
    pub validator: Option<SequencerKey>,
    pub timeouts: TimeoutConfig,
}

/// [`serve`], with a validator key and consensus timeouts.
pub async fn serve_as(
    node: Arc<Node>,
    listening: Listening,
    roles: Roles,
    net: NetOptions,
) -> Result<()> {
    let Roles { producer, validator, timeouts } = roles;
    let Listening { listener, local, web_dir } = listening;
    if let Some((_, limits)) = &producer {
        node.set_limits(*limits);
    }
    let engine = consensus::start(node.clone(), validator, &net.data_dir, timeouts)?;
    let network = network::start(node.clone(), net).await?;
    let app = node::router(node.clone(), web_dir);
    println!("http://{local}/");
    let server = tokio::spawn(node::serve(listener, app));
    let settlement = tokio::spawn(node.clone().run_settlement());
    let producing = async {
        match producer {
            Some((key, limits)) => node.clone().run_producer(key, limits).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = server => r.context("HTTP server task failed")?,
        r = network => r.context("network task failed")?,
        r = settlement => r.context("settlement task failed")?.context("settlement"),
        r = engine => r.context("consensus engine"),
        r = producing => r,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

pub async fn run_node(args: NodeArgs) -> Result<()> {
    let config = match &args.config {
        Some(path) => NodeConfig::load(path)?,
        None => NodeConfig::default(),
    };
    let limits = config.block.limits()?;
    let data_dir = args.data_dir.or(config.data_dir.clone()).context("--data-dir is required")?;
    let genesis_path = args.genesis.or(config.genesis.clone()).context("--genesis is required")?;
    let genesis = load_genesis(&genesis_path)?;
    let mut http = args.http;
    http.web_dir = http.web_dir.or(config.web_dir.clone());
    let port = http.http_port.or(config.http_addr.map(|a| a.port())).unwrap_or(8080);
    if let Some(addr) = config.http_addr.filter(|_| http.http_port.is_none()) {
        http.http_host = addr.ip();
    }
    let listening = listen(http, port).await?;
    let password_file = args.password_file.or(config.password_file.clone());
    let key = match args.sequencer_key.or(config.sequencer_key.clone()) {
        Some(path) => Some(keys::unlock_sequencer(&path, password_file.as_deref())?),
        None => None,
    };
    if let Some(k) = key.as_ref().filter(|k| k.public_key() != genesis.sequencer) {
        bail!(
            "the sequencer key {} is not the genesis sequencer {}",
            k.public_key(),
            genesis.sequencer
        );
    }
    let snapshot_interval = args.p2p.snapshot_interval;
    let net = net_options(args.p2p, &data_dir);
    if args.from_snapshot {
        start_from_snapshot(&net, &genesis).await?;
    }
    let chain = ChainState::open(&data_dir, genesis, config.mempool.to_config())?;
    tracing::info!(height = chain.head.height, root = %chain.head.state_root, "opened the chain");
    let validator = match args.validator_key.or(config.validator_key.clone()) {
        Some(path) => Some(keys::unlock_sequencer(&path, password_file.as_deref())?),
        None => None,
    };
    let rewards_key = match args.rewards.prover_rewards_key.or(config.prover_rewards_key.clone()) {
        Some(path) => Some(
            keys::unlock_account(&path, password_file.as_deref())
                .context("--prover-rewards-key")?,
        ),
        None => None,
    };
    let proof_reward = args.rewards.proof_reward.or(config.proof_reward);
    if rewards_key.is_none() && proof_reward.is_some() {
        bail!("--proof-reward needs --prover-rewards-key (the account that pays)");
    }
    if proof_reward == Some(0) {
        bail!("proof_reward must be at least 1");
    }
    let node = Node::new(chain, key.is_some(), snapshot_interval)?;
    node.set_limits(limits);
    if let Some(rewards_key) = rewards_key {
        node.pay_provers(rewards_key, proof_reward.unwrap_or(crate::rewards::DEFAULT_REWARD))?;
    }
    let roles = Roles { producer: key.map(|k| (k, limits)), validator, timeouts: config.consensus };
    serve_as(node, listening, roles, net).await
}

/// Fills an empty data directory from a peer's snapshot; a directory that already
/// holds a chain just goes on from its own head.
async fn start_from_snapshot(net: &NetOptions, genesis: &Genesis) -> Result<()> {
    std::fs::create_dir_all(&net.data_dir)
        .with_context(|| format!("cannot create data directory {}", net.data_dir.display()))?;
    let store = Store::open(&net.data_dir.join("chain.redb"))?;
    if store.head_height()?.is_some() {
        tracing::info!("the data directory already holds a chain; --from-snapshot is not needed");
        return Ok(());
    }
    let genesis_hash = genesis.block().context("the genesis allocations are invalid")?.0.hash();
    network::join_from_snapshot(net, genesis, genesis_hash, &store).await
}

pub fn load_genesis(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read genesis {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("invalid genesis {}", path.display()))
}
