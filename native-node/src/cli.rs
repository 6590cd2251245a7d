//! The command line: every subcommand, flag and its help text.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use starling_core::crypto::SequencerPublicKey;
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
    /// Sign and submit transactions: transfers and staking.
    #[command(subcommand, after_long_help = STAKING_HELP)]
    Tx(TxCommand),
    /// Write a genesis file for `starling node`.
    Genesis(GenesisArgs),
    /// Prove one block's state transition with a STARK (all cores), verify the
    /// proof, and write it to a file or submit it to the node.
    Prove(ProveArgs),
    /// Run a prover: lease proving jobs from a node, prove them, submit the
    /// proofs, until stopped.
    Prover(ProverArgs),
}

/// Where a prover works and who it works for.
#[derive(Args)]
pub struct ProverTarget {
    /// The node's JSON-RPC endpoint (proofs go to `/proofs/N` beside it).
    #[arg(long, default_value = "http://127.0.0.1:8080/rpc")]
    pub rpc: String,
    /// The account the proofs' rewards go to; it is bound into every proof.
    #[arg(long, value_name = "ADDRESS")]
    pub reward_address: Address,
}

#[derive(Args)]
pub struct ProveArgs {
    /// Height of the block to prove.
    #[arg(long, value_name = "N")]
    pub block: u64,
    #[command(flatten)]
    pub target: ProverTarget,
    /// Write the proof's bytes here.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Submit the proof to the node's settlement verifier.
    #[arg(long)]
    pub submit: bool,
}

#[derive(Args)]
pub struct ProverArgs {
    #[command(flatten)]
    pub target: ProverTarget,
    /// Jobs proven at once. Each proof already uses every core; a second
    /// worker only fills the gaps while the first fetches and submits.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub workers: u32,
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
    #[command(flatten)]
    pub staking: StakingFlags,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

/// The genesis staking parameters; each left out keeps its default.
#[derive(Args)]
#[command(next_help_heading = "Staking parameters")]
pub struct StakingFlags {
    /// Blocks per epoch; validator sets change only at epoch boundaries [default: 20].
    #[arg(long, value_name = "BLOCKS")]
    pub epoch_length: Option<u64>,
    /// Least stake a staker may bond, in base units [default: 1000].
    #[arg(long, value_name = "AMOUNT")]
    pub min_stake: Option<u64>,
    /// Total power an epoch's set must reach for proof of stake to start [default: 4000].
    #[arg(long, value_name = "AMOUNT")]
    pub activation_stake: Option<u64>,
    /// Members an epoch's set must have for proof of stake to start [default: 4].
    #[arg(long, value_name = "N")]
    pub min_validators: Option<u32>,
    /// Most members of a set: the stakers with the most power [default: 100].
    #[arg(long, value_name = "N")]
    pub max_validators: Option<u32>,
    /// Epochs between an exit intent and the withdrawal (at least 4) [default: 4].
    #[arg(long, value_name = "EPOCHS")]
    pub exit_window_epochs: Option<u64>,
    /// Tokens minted per proof-of-stake block, in base units [default: 10].
    #[arg(long, value_name = "AMOUNT")]
    pub block_reward: Option<u64>,
    /// The proposer's share of a block's reward and fees, in basis points [default: 1000].
    #[arg(long, value_name = "BPS")]
    pub proposer_bps: Option<u16>,
    /// Highest commission a staker may charge, in basis points [default: 5000].
    #[arg(long, value_name = "BPS")]
    pub max_commission_bps: Option<u16>,
    /// Share of its own stake a double-signing staker loses, in basis points [default: 500].
    #[arg(long, value_name = "BPS")]
    pub slash_bps: Option<u16>,
    /// The block interval the chain aims for, in ms: a proof-of-stake epoch that
    /// produces under 2/3 of the blocks it expects hands the next epoch to the
    /// sequencer (liveness fallback); 0 turns the fallback off [default: 1000].
    #[arg(long)]
    pub target_block_ms: Option<u64>,
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
    /// Ed25519 consensus key keystore: this node votes and proposes as a validator
    /// once proof of stake is active (the key a `starling tx stake` named).
    #[arg(long, value_name = "FILE")]
    pub validator_key: Option<PathBuf>,
    /// File with the keystore password [default: $STARLING_PASSWORD, else a prompt].
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// On an empty data directory, start from the state snapshot a --bootstrap
    /// peer serves (checked against the sequencer-signed header of its height)
    /// instead of replaying every block.
    #[arg(long)]
    pub from_snapshot: bool,
    #[command(flatten)]
    pub rewards: RewardArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub p2p: P2pArgs,
}

/// Paying provers on chain from a funded rewards account.
#[derive(Args)]
pub struct RewardArgs {
    /// Account keystore of a funded rewards account: this node then pays each
    /// settled proof's prover by a transfer from it (unlocked with
    /// --password-file).
    #[arg(long, value_name = "FILE")]
    pub prover_rewards_key: Option<PathBuf>,
    /// Base units paid per settled proof, with --prover-rewards-key
    /// [default: 1000000000, one token].
    #[arg(long, value_name = "AMOUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub proof_reward: Option<u64>,
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
    /// Run N validator processes (`starling node`, one data directory each under
    /// the devnet's, HTTP on PORT, PORT+1, ...; peer-to-peer on --p2p-port P+2k for
    /// node k, else free ports) that stake on chain so the network switches to
    /// proof of stake; 0 runs the single in-process sequencer.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub validators: u32,
    /// With --validators: also run M follower processes (HTTP on the ports after
    /// the validators').
    #[arg(long, value_name = "M", default_value_t = 0, requires = "validators")]
    pub followers: u32,
    /// Also run K native prover workers (in this process) that prove every
    /// finalized block, rewarding the demo accounts; with --validators they are
    /// spread over the nodes, each settling the proofs it is sent.
    #[arg(long, value_name = "K", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=16))]
    pub provers: u32,
    /// Base units the devnet's rewards account pays per settled proof (one
    /// token by default); with --validators, validator 0 pays.
    #[arg(long, value_name = "AMOUNT", default_value_t = crate::rewards::DEFAULT_REWARD, value_parser = clap::value_parser!(u64).range(1..))]
    pub proof_reward: u64,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub p2p: P2pArgs,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new account key (or, with --sequencer/--consensus, an Ed25519 block-signing
    /// or consensus key) and store it encrypted.
    New {
        /// Name of the key file (`NAME.json` in the keys directory).
        name: String,
        /// Make an Ed25519 key instead of a Stark account key: a sequencer's block
        /// key, or a validator's consensus key (`--consensus` says the same).
        #[arg(long, visible_alias = "consensus")]
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

/// Everything a transaction needs besides its call: who signs, the fee, the
/// nonce, the node to submit to.
#[derive(Args)]
pub struct TxArgs {
    /// Key name (see `starling keys list`) or path of a keystore file.
    #[arg(long)]
    pub from: String,
    /// Fee in base units (it orders the mempool).
    #[arg(long, default_value_t = 1)]
    pub fee: u64,
    /// Nonce to use [default: the account's next nonce, asked from the node].
    #[arg(long)]
    pub nonce: Option<u64>,
    /// The node's JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080/rpc")]
    pub rpc: String,
    /// Wait until the transaction is in a block.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub common: KeysArgs,
}

/// How staking works, shown by `starling tx --help`.
pub const STAKING_HELP: &str = "\
Staking: an account becomes a staker with `stake`, bonding tokens (at least the
genesis `min_stake`) and naming the Ed25519 consensus key its validator node votes
with (`starling keys new NAME --consensus` makes one; the node runs with
`--validator-key`). Others add to its power with `delegate`; its commission is its
cut of their rewards.

Validator sets are fixed ahead of time: when an epoch (the genesis `epoch_length`
blocks) ends, the set of three epochs ahead is fixed from the stakes of that
moment. So a stake included in epoch e becomes active two epochs after e ends, in
epoch e+3; `increase-stake`, `delegate` and the intents take effect the same way.
Proof of stake starts at the first epoch whose set reaches the genesis
`activation_stake` with at least `min_validators` members.

Leaving takes two steps. `unstake-intent` (or `undelegate-intent`) starts the exit
window, the genesis `exit_window_epochs` (at least 4): the tokens stay bonded and
slashable meanwhile and earn nothing new once out of the sets. After the window,
`unstake` (or `undelegate`) returns them to the balance. Rewards accrue per block
and are paid by `claim-rewards`. A validator that signs two conflicting votes is
slashed by an `evidence` transaction that anyone may send.

Every amount is in base units. A transaction that breaks a staking rule against
the node's latest state is refused at once, naming the rule; read the registry
with the RPC methods starling_getValidators, starling_getStaker and
starling_getDelegation.";

#[derive(Subcommand)]
pub enum TxCommand {
    /// Transfer tokens from one of your keys to an address.
    Transfer {
        /// Recipient address (0x-prefixed, 64 hex digits).
        #[arg(long)]
        to: Address,
        /// Amount in base units.
        #[arg(long)]
        amount: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Become a staker: bond tokens and name the consensus key your validator votes with.
    ///
    /// The amount (at least the genesis `min_stake`) leaves the balance and is
    /// bonded. The stake counts in validator sets from two epochs after the end of
    /// the epoch it is included in; leaving takes `unstake-intent`, the exit window,
    /// then `unstake`. One staker per account and per consensus key.
    Stake {
        /// Keystore of the Ed25519 consensus key (from `starling keys new NAME
        /// --consensus`), unlocked with the same password as --from.
        #[arg(long, value_name = "FILE", required_unless_present = "consensus_pubkey")]
        consensus_key: Option<PathBuf>,
        /// The consensus public key itself (0x-prefixed, 64 hex digits), instead of
        /// its keystore.
        #[arg(long, value_name = "HEX", conflicts_with = "consensus_key")]
        consensus_pubkey: Option<SequencerPublicKey>,
        /// Tokens to bond, in base units.
        #[arg(long)]
        amount: u64,
        /// Your cut of your delegators' rewards, in basis points (100 = 1%; at most
        /// the genesis `max_commission_bps`).
        #[arg(long, default_value_t = 0)]
        commission_bps: u16,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Bond more tokens to your own stake.
    ///
    /// Counts in validator sets from two epochs after the end of the epoch it is
    /// included in. Refused once you announced your exit or were slashed.
    IncreaseStake {
        /// Tokens to add, in base units.
        #[arg(long)]
        amount: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Announce that you stop staking; starts the exit window.
    ///
    /// Sets fixed from now on leave you out; the ones already fixed (up to two
    /// epochs ahead) keep you, and you stay slashable. After `exit_window_epochs`
    /// epochs (the genesis parameter, at least 4), `unstake` returns the stake.
    UnstakeIntent {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// After the exit window: your stake and unclaimed rewards return to your balance.
    Unstake {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Bond tokens to a staker's pool: its power grows and you share its rewards.
    ///
    /// The staker keeps its commission of the pool's rewards; the rest is shared by
    /// bonded token. Counts from two epochs after the end of the epoch it is
    /// included in.
    Delegate {
        /// The staker's account address.
        #[arg(long)]
        staker: Address,
        /// Tokens to delegate, in base units.
        #[arg(long)]
        amount: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Start withdrawing tokens from a staker's pool; starts the exit window.
    ///
    /// The amount stops earning at once and can be taken back with `undelegate`
    /// after `exit_window_epochs` epochs. A second intent adds to the withdrawal
    /// and restarts its window.
    UndelegateIntent {
        /// The staker's account address.
        #[arg(long)]
        staker: Address,
        /// Tokens to withdraw, in base units.
        #[arg(long)]
        amount: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// After the exit window: the withdrawal from a staker's pool returns to your balance.
    Undelegate {
        /// The staker's account address.
        #[arg(long)]
        staker: Address,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Pay every reward you are owed, as staker and as delegator, to your balance.
    ClaimRewards {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Prove a validator signed two conflicting votes; its stake is slashed.
    ///
    /// The two votes must be by the same validator, at the same height, round and
    /// step, for different blocks (or one for none), each correctly signed.
    /// The staker loses the genesis `slash_bps` of its own stake and never joins
    /// a set again.
    Evidence {
        /// The first signed vote: hex of its encoded SignedVote message.
        #[arg(long, value_name = "HEX")]
        vote_a: String,
        /// The second signed vote, conflicting with the first.
        #[arg(long, value_name = "HEX")]
        vote_b: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}
