//! # starling-core
//!
//! Everything in Starling that *decides* something lives here; everything that
//! *does* something (sockets, disks, clocks, randomness, threads) lives in a host:
//! the `starling` daemon or the browser build. The crate is `no_std` + `alloc` and
//! sans-IO: time, entropy and messages come in as values, and decisions come out as
//! values. The same code therefore runs in a native node, in a browser tab compiled
//! to WebAssembly, and in deterministic tests of whole networks.
//!
//! ## The chain in one page
//!
//! - **Accounts** are named by an [`types::Address`]: the Poseidon2 digest of a
//!   Stark-curve public key. Each holds a balance, a nonce and (from the proof-of-stake
//!   stage on) a commitment to its staking records: see [`state::Account`].
//! - **State** is a sparse Merkle tree over accounts, hashed with Poseidon2 over the
//!   Mersenne-31 field ([`hash`]), chosen because it is cheap to prove in a STARK.
//!   Its root commits to every account; an inclusion proof lets anyone check one
//!   account against a root, and a [`state::Witness`] lets a browser re-execute a
//!   block without holding the whole state.
//! - **Transactions** ([`types::Transaction`]) are signed with Stark-curve ECDSA
//!   ([`crypto::stark`]), the curve Starknet wallets use, and carry the sender's
//!   nonce and a fee. [`mempool`] orders and bounds pending ones; [`exec`] applies
//!   them to state under the chain's rules.
//! - **Blocks** ([`types::Block`]) are a header (height, parent, state root,
//!   transaction root, time, proposer, validator set, parent certificate) signed
//!   with Ed25519 ([`crypto::ed25519`]), plus the ordered transactions. Every
//!   other party checks the signature, re-executes the transactions and compares
//!   the state root: see [`chain`].
//! - **Staking** ([`staking`]) lives in the state too: stakers, delegations,
//!   validator sets by epoch, rewards and slashing, as one registry committed to
//!   by a reserved account. It drives the stages of the roadmap. A chain starts
//!   with one sequencer signing every block while stakers join by transaction;
//!   the validator set of each epoch is fixed two epochs ahead, and at the first
//!   epoch boundary where that set holds enough stake in enough validators, the
//!   chain switches to proof of stake: validators propose blocks, more than two
//!   thirds of the power certify each one ([`consensus`]), and block rewards and
//!   fees go to them. Every header says which stage it was made in.
//! - **Encoding** ([`encoding`]) is one deterministic, length-limited binary format
//!   for everything hashed, signed or sent.
//! - **Proving jobs** ([`jobs`]): every finalized block becomes a job, "prove this
//!   block takes state root R to R′". Provers (native workers, browser tabs) lease
//!   jobs for a bounded time, lowest first; the first valid proof of a job wins and
//!   its prover is owed a reward; an expired lease returns the job to the pool.
//!   The proven height, up to which every block is proven, is what settlement
//!   follows.

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod chain;
pub mod consensus;
pub mod crypto;
pub mod encoding;
pub mod exec;
pub mod hash;
pub mod jobs;
pub mod keystore;
pub mod mempool;
pub mod proving;
pub mod staking;
pub mod state;
pub mod types;
