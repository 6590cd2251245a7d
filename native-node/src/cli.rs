//! The command line: every subcommand, flag and its help text.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use starling_core::types::Address;

/// Starling: a STARK-proven, proof-of-stake sequencing network (stage one: a single
/// sequencer signs every block; everyone else checks).
#[derive(Parser)]
#[command(name = "starling", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a node: the sequencer when given its key, else a follower of its peers;
    /// serves the page, RPC, metrics and peers.
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
pub struct GenesisArgs {
    /// The chain's name (1-31 printable ASCII characters).
    #[arg(long)]
    pub chain_id: String,
    /// Keystore of the sequencer key (from `starling keys new --sequencer`).
    #[arg(long)]
    pub sequencer_key: PathBuf,
    /// Initial balances, ADDRESS=AMOUNT in base units; repeat for more accounts.
    #[arg(long = "alloc", value_name = "ADDRESS=AMOUNT")]
    pub allocations: Vec<String>,
    /// Where to write the genesis JSON.
    #[arg(long, short)]
    pub out: PathBuf,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct HttpArgs {
    /// Port for the page (`/`), JSON-RPC (`/rpc`) and metrics (`/metrics`) [default: 8080].
    #[arg(long)]
    pub http_port: Option<u16>,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub http_host: IpAddr,
    /// Directory with the built web page [default: $STARLING_WEB_DIR, else site/ in the build dir].
    #[arg(long)]
    pub web_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct P2pArgs {
    /// Peer to connect to, as a multiaddr ending in /p2p/<peer id> (from a node's
    /// `starling_status` "listen" list or its log); repeat for more. A node without
    /// a sequencer key follows the chain from its peers.
    #[arg(long, value_name = "MULTIADDR")]
    pub bootstrap: Vec<libp2p::Multiaddr>,
    /// Base peer-to-peer port: TCP and QUIC on PORT, WebSocket and WebRTC-direct on
    /// PORT+1 [default: the ports of the last start, else free ones].
    #[arg(long, value_name = "PORT")]
    pub p2p_port: Option<u16>,
    /// Address to listen on for peers.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub p2p_host: IpAddr,
    /// Connect only to --bootstrap peers and peers that dial in (no Kademlia
    /// discovery), for fixed topologies.
    #[arg(long)]
    pub no_discovery: bool,
    /// Freeze a state snapshot for peers every N blocks (and at start).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub snapshot_interval: u64,
}

#[derive(Args)]
pub struct NodeArgs {
    /// TOML configuration file; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the chain database lives.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Genesis JSON (a devnet writes one into its data directory as an example).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Keystore holding the sequencer's Ed25519 seed; without it the node only serves.
    #[arg(long)]
    pub sequencer_key: Option<PathBuf>,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// On an empty data directory, start from the state snapshot a --bootstrap
    /// peer serves (checked against the sequencer-signed header of its height)
    /// instead of replaying every block.
    #[arg(long)]
    pub from_snapshot: bool,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub p2p: P2pArgs,
}

#[derive(Args)]
pub struct DevnetArgs {
    /// Data directory, kept between runs [default: a new temporary directory].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Funded demo accounts to create (their keys are printed at start).
    #[arg(long, default_value_t = 8)]
    pub accounts: u32,
    /// Demo transfers submitted per second (0 for none).
    #[arg(long, default_value_t = 3.0)]
    pub demo_tps: f64,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 1000)]
    pub block_time_ms: u64,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub p2p: P2pArgs,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new account key (or, with --sequencer, a block-signing key) and store it encrypted.
    New {
        /// Name of the key file (`NAME.json` in the keys directory).
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
pub struct KeysArgs {
    /// Directory of key files [default: $STARLING_HOME/keys, else ~/.starling/keys].
    #[arg(long)]
    pub keys_dir: Option<PathBuf>,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TxCommand {
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
