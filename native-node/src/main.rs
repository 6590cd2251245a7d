//! `starling`: the Starling daemon and command-line tool.

mod chain_state;
mod client;
mod config;
mod devnet;
mod keys;
mod metrics;
mod node;
mod rpc;
mod storage;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use starling_core::chain::Genesis;
use starling_core::types::{Address, Call, ChainId, TxBody};

use crate::chain_state::ChainState;
use crate::config::NodeConfig;
use crate::node::Node;

/// Starling: a STARK-proven, proof-of-stake sequencing network (stage one: a single
/// sequencer signs every block; everyone else checks).
#[derive(Parser)]
#[command(name = "starling", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node: the sequencer when given its key, serving the page, RPC and metrics.
    Node(NodeArgs),
    /// Start a local network with funded demo accounts and serve the web page.
    Devnet(DevnetArgs),
    /// Create, import and list encrypted account keys (Web3 secret storage v3).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign and submit transactions.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Write a genesis file for `starling node`.
    Genesis(GenesisArgs),
}

#[derive(Args)]
struct GenesisArgs {
    /// The chain's name (1-31 printable ASCII characters).
    #[arg(long)]
    chain_id: String,
    /// Keystore of the sequencer key (from `starling keys new --sequencer`).
    #[arg(long)]
    sequencer_key: PathBuf,
    /// Initial balances, ADDRESS=AMOUNT in base units; repeat for more accounts.
    #[arg(long = "alloc", value_name = "ADDRESS=AMOUNT")]
    allocations: Vec<String>,
    /// Where to write the genesis JSON.
    #[arg(long, short)]
    out: PathBuf,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    password_file: Option<PathBuf>,
}

#[derive(Args)]
struct HttpArgs {
    /// Port for the page (`/`), JSON-RPC (`/rpc`) and metrics (`/metrics`).
    #[arg(long)]
    http_port: Option<u16>,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    http_host: IpAddr,
    /// Directory with the built web page [default: $STARLING_WEB_DIR, else site/ in the build dir].
    #[arg(long)]
    web_dir: Option<PathBuf>,
}

#[derive(Args)]
struct NodeArgs {
    /// TOML configuration file; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the chain database lives.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Genesis JSON (a devnet writes one into its data directory as an example).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Keystore holding the sequencer's Ed25519 seed; without it the node only serves.
    #[arg(long)]
    sequencer_key: Option<PathBuf>,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Args)]
struct DevnetArgs {
    /// Data directory, kept between runs [default: a new temporary directory].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Funded demo accounts to create (their keys are printed at start).
    #[arg(long, default_value_t = 8)]
    accounts: u32,
    /// Demo transfers submitted per second (0 for none).
    #[arg(long, default_value_t = 3.0)]
    demo_tps: f64,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 1000)]
    block_time_ms: u64,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a new account key (or, with --sequencer, a block-signing key) and store it encrypted.
    New {
        /// Name of the key file (<name>.json in the keys directory).
        name: String,
        /// Make an Ed25519 sequencer key instead of a Stark account key.
        #[arg(long)]
        sequencer: bool,
        #[command(flatten)]
        common: KeysArgs,
    },
    /// Import a key: a keystore file (e.g. written by starkli), or a raw private key on stdin.
    Import {
        name: String,
        /// Keystore file to import; without it, a hex private key is read from stdin.
        #[arg(long)]
        keystore: Option<PathBuf>,
        #[command(flatten)]
        common: KeysArgs,
    },
    /// List stored keys with their addresses.
    List {
        #[command(flatten)]
        common: KeysArgs,
    },
}

#[derive(Args)]
struct KeysArgs {
    /// Directory of key files [default: $STARLING_HOME/keys, else ~/.starling/keys].
    #[arg(long)]
    keys_dir: Option<PathBuf>,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum TxCommand {
    /// Transfer tokens from one of your keys to an address.
    Transfer {
        /// Key name (see `starling keys list`) or path of a keystore file.
        #[arg(long)]
        from: String,
        /// Recipient address (0x-prefixed, 64 hex digits).
        #[arg(long)]
        to: Address,
        /// Amount in base units.
        #[arg(long)]
        amount: u64,
        /// Fee in base units (it orders the mempool).
        #[arg(long, default_value_t = 1)]
        fee: u64,
        /// Nonce to use [default: the account's next nonce, asked from the node].
        #[arg(long)]
        nonce: Option<u64>,
        /// The node's JSON-RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8080/rpc")]
        rpc: String,
        /// Wait until the transaction is in a block.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        common: KeysArgs,
    },
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Node(args) => run_async(run_node(args)),
        Command::Devnet(args) => run_async(run_devnet(args)),
        Command::Keys(cmd) => run_keys(cmd),
        Command::Tx(cmd) => run_tx(cmd),
        Command::Genesis(args) => write_genesis(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run_async(future: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}

/// Serves the node over HTTP and, with a key, produces blocks; prints the page URL.
async fn serve(
    node: std::sync::Arc<Node>,
    http: HttpArgs,
    default_port: u16,
    producer: Option<(starling_core::crypto::SequencerKey, node::BlockLimits)>,
) -> Result<()> {
    let addr = SocketAddr::new(http.http_host, http.http_port.unwrap_or(default_port));
    let (listener, local) = node::bind(addr).await?;
    let web_dir = http.web_dir.or_else(config::default_web_dir);
    let app = node::router(node.clone(), web_dir);
    println!("http://{local}/");
    let server = tokio::spawn(node::serve(listener, app));
    let producing = async {
        match producer {
            Some((key, limits)) => node.clone().run_producer(key, limits).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = server => r.context("HTTP server task failed")?,
        r = producing => r,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

async fn run_node(args: NodeArgs) -> Result<()> {
    let config = match &args.config {
        Some(path) => NodeConfig::load(path)?,
        None => NodeConfig::default(),
    };
    let limits = config.block.limits()?;
    let data_dir = args.data_dir.or(config.data_dir.clone()).context("--data-dir is required")?;
    let genesis_path = args.genesis.or(config.genesis.clone()).context("--genesis is required")?;
    let genesis = load_genesis(&genesis_path)?;
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
    let chain = ChainState::open(&data_dir, genesis, config.mempool.to_config())?;
    tracing::info!(height = chain.head.height, root = %chain.head.state_root, "opened the chain");
    let node = Node::new(chain, key.is_some());
    let mut http = args.http;
    http.web_dir = http.web_dir.or(config.web_dir.clone());
    let port = http.http_port.or(config.http_addr.map(|a| a.port())).unwrap_or(8080);
    if let Some(addr) = config.http_addr.filter(|_| http.http_port.is_none()) {
        http.http_host = addr.ip();
    }
    serve(node, http, port, key.map(|k| (k, limits))).await
}

fn load_genesis(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read genesis {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("invalid genesis {}", path.display()))
}

async fn run_devnet(args: DevnetArgs) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => devnet::temporary_dir()?,
    };
    let limits =
        config::BlockConfig { interval_ms: args.block_time_ms, ..Default::default() }.limits()?;
    let (genesis, key) = devnet::load_or_create(&data_dir, args.accounts)?;
    let accounts = genesis.allocations.len() as u32;
    eprintln!("devnet data directory: {}", data_dir.display());
    eprintln!("demo accounts (devnet only, never use these keys elsewhere):");
    for i in 0..accounts.min(4) {
        let k = devnet::demo_key(i);
        eprintln!("  {}  private key 0x{}", k.public_key().address(), hex::encode(k.to_bytes()));
    }
    let chain = ChainState::open(&data_dir, genesis, Default::default())?;
    let node = Node::new(chain, true);
    tokio::spawn(devnet::demo_traffic(node.clone(), accounts, args.demo_tps));
    serve(node, args.http, 8080, Some((key, limits))).await
}

fn write_genesis(args: GenesisArgs) -> Result<()> {
    let chain_id = ChainId::new(&args.chain_id).map_err(|e| anyhow::anyhow!("--chain-id: {e}"))?;
    let key = keys::unlock_sequencer(&args.sequencer_key, args.password_file.as_deref())?;
    let allocations =
        args.allocations.iter().map(|a| parse_allocation(a)).collect::<Result<Vec<_>>>()?;
    let genesis = Genesis {
        chain_id,
        sequencer: key.public_key(),
        timestamp_ms: node::now_ms(),
        allocations,
    };
    genesis.state().map_err(|e| anyhow::anyhow!("the allocations are invalid: {e}"))?;
    keys::write_new(&args.out, &serde_json::to_string_pretty(&genesis)?)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn parse_allocation(text: &str) -> Result<starling_core::chain::Allocation> {
    let (address, amount) = text.split_once('=').context("an allocation is ADDRESS=AMOUNT")?;
    Ok(starling_core::chain::Allocation {
        address: address.parse().map_err(|e| anyhow::anyhow!("{address}: {e}"))?,
        balance: amount.parse().with_context(|| format!("{amount} is not an amount"))?,
    })
}

fn run_keys(cmd: KeysCommand) -> Result<()> {
    let dir = |c: &KeysArgs| c.keys_dir.clone().unwrap_or_else(keys::default_keys_dir);
    match cmd {
        KeysCommand::New { name, sequencer: true, common } => {
            let key =
                keys::new_sequencer_key(&dir(&common), &name, common.password_file.as_deref())?;
            println!("sequencer public key {key}");
        }
        KeysCommand::New { name, sequencer: false, common } => {
            let key = keys::new_key(&dir(&common), &name, common.password_file.as_deref())?;
            println!("address    {}\npublic key {key}", key.address());
        }
        KeysCommand::Import { name, keystore, common } => {
            let source = match &keystore {
                Some(path) => keys::ImportSource::Keystore(path),
                None => keys::ImportSource::PrivateKeyStdin,
            };
            let key =
                keys::import_key(&dir(&common), &name, source, common.password_file.as_deref())?;
            println!("address    {}\npublic key {key}", key.address());
        }
        KeysCommand::List { common } => {
            let d = dir(&common);
            let listed = keys::list_keys(&d)?;
            if listed.is_empty() {
                eprintln!("no keys in {} (create one with `starling keys new NAME`)", d.display());
            }
            for k in listed {
                match (k.problem, k.address) {
                    (Some(p), _) => println!("{:<20} not a usable keystore: {p}", k.name),
                    (None, Some(a)) => println!("{:<20} {a}", k.name),
                    (None, None) => {
                        println!("{:<20} (address shown once imported with starling)", k.name)
                    }
                }
            }
        }
    }
    Ok(())
}

fn run_tx(cmd: TxCommand) -> Result<()> {
    let TxCommand::Transfer { from, to, amount, fee, nonce, rpc, wait, common } = cmd;
    let dir = common.keys_dir.unwrap_or_else(keys::default_keys_dir);
    let key = keys::unlock_account(&keys::resolve(&dir, &from)?, common.password_file.as_deref())?;
    let client = client::RpcClient::new(&rpc);
    let sender = key.public_key().address();
    let nonce = match nonce {
        Some(n) => n,
        None => client.nonce(&sender)?,
    };
    let chain_id = ChainId::new(&client.chain_id()?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let body = TxBody {
        chain_id,
        sender_key: key.public_key(),
        nonce,
        fee,
        call: Call::Transfer { to, amount },
    };
    let hash = client.submit(&body.sign(&key))?;
    println!("{hash}");
    if wait {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(height) = client.included_in(&hash)? {
                eprintln!("included in block {height}");
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("not included within 60 s (it is still pending)");
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
    Ok(())
}
