//! `starling`: the Starling daemon and command-line tool.
//!
//! The daemon is a thin host around `starling-core`, which decides everything:
//!
//! - [`chain_state`] holds the chain as this node sees it (head, state tree, mempool)
//!   and keeps it consistent with [`storage`], the redb database: a block is
//!   committed in one durable transaction before anyone hears of it, and a
//!   transaction is recorded before the client is told it was accepted.
//! - [`node`] runs it: one lock around the chain state, a block producer on a timer,
//!   and the HTTP server (the page from `www/`+`web-ui/`, [`rpc`] at `/rpc`,
//!   [`metrics`] at `/metrics`). Expensive checks (signatures) and store reads run
//!   outside the lock.
//! - [`network`] is the peer-to-peer side (libp2p, via `starling-net`): it gossips
//!   what this node produces and admits, serves peers' sync requests from the
//!   store, and follows the chain from peers, checking every block.
//! - [`cli`] defines the command line and [`commands`] carries out each subcommand;
//!   [`keys`] manages keystore files, [`client`] talks to a node for `starling tx`,
//!   [`devnet`] builds the one-command local network.
//! - [`settlement`] verifies block proofs and tracks the proven height; with a
//!   rewards account key, [`rewards`] pays each settled proof's prover on chain.

mod chain_state;
mod cli;
mod client;
mod commands;
mod config;
mod consensus;
mod devnet;
mod keys;
mod metrics;
mod network;
mod node;
mod prover;
mod rewards;
mod rpc;
mod settlement;
mod snapshots;
mod storage;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Cli, Command};

/// Log filter unless `RUST_LOG` says otherwise: the WebRTC stack is chatty.
const DEFAULT_LOG: &str = "info,stwo=warn,webrtc=error,webrtc_ice=error,webrtc_sctp=error,\
webrtc_dtls=error,webrtc_mdns=error,webrtc_data=error,libp2p_webrtc=warn";

fn main() {
    // Two rustls crypto backends end up linked (ring through WebRTC's DTLS and
    // WebSocket, aws-lc-rs through QUIC), so rustls cannot pick a default and the
    // first WebRTC-direct handshake would panic: choose one before anything runs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| DEFAULT_LOG.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Node(args) => run_async(commands::node::run_node(args)),
        Command::Devnet(args) => run_async(commands::devnet::run_devnet(args)),
        Command::Keys(cmd) => commands::keys::run_keys(cmd),
        Command::Tx(cmd) => commands::tx::run_tx(cmd),
        Command::Genesis(args) => commands::genesis::write_genesis(args),
        Command::Prove(args) => commands::prove::prove_one(args),
        Command::Prover(args) => commands::prove::run_prover(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run_async(future: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}
