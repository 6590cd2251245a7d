//! STARK proofs of block state transitions.
//!
//! Finality comes from the validators; *validity* comes from here. A block
//! proof shows, to anyone holding the block, that applying its transactions
//! in order to the state with root `R` gives the state with root `R′` — every
//! balance, nonce and Merkle path recomputed with Poseidon2 inside the proof.
//! A proof is checked in milliseconds, so a settlement verifier (the role
//! Ethereum plays for Starknet) can accept a root only with one.
//!
//! # What is proven, and what is not
//!
//! The statement ([`statement::BlockStatement`]) is built by the *verifier*
//! from the block: the pre- and post-state roots and one entry per
//! transaction (kind, sender, recipient, amount, fee, nonce), plus the block
//! end. The proof shows that a sequence of account writes exists such that:
//!
//! - the writes chain the roots: write `w` rewrites one leaf of the tree whose
//!   root write `w − 1` left, along a Merkle path recomputed with Poseidon2
//!   (the same [`crate::hash`] functions, constants and layouts the state
//!   tree uses), from `R` to `R′`; the tree keeps its canonical compressed
//!   shape (an account is inserted into an empty subtree or splits another
//!   account's lifted leaf, at the depth where their keys part);
//! - each transaction's writes follow its rules: a transfer debits amount +
//!   fee from a sender that can afford it, bumps its nonce (which must be the
//!   transaction's), and credits the recipient without overflow; a staking
//!   call does the same for the fee and moves tokens only between the sender
//!   and the registry's escrow (deposits exactly as the call says, withdrawals
//!   and slashes never creating tokens); the block end may raise the escrow by
//!   at most the block reward plus the block's fees.
//!
//! Not proven, and checked by validators instead (DESIGN.md): transaction
//! signatures and chain ids; the staking registry's internal bookkeeping (who
//! is owed what inside the escrow: the proof pins the registry's *balance*
//! moves, not how its commitment changes); the header and its certificate.
//!
//! # The AIR
//!
//! Six components, written with `stwo-constraint-framework` and tied together
//! by the lookup relations of [`relations`] (LogUp):
//!
//! | component | one row per | checks |
//! |---|---|---|
//! | [`poseidon`] | Poseidon2 permutation used | the permutation, round by round |
//! | [`range_check`] | byte value 0..255 | yields range-checked bytes |
//! | [`transaction`] | transaction, and the block end | the balance/nonce rules |
//! | [`write`] | account write | old and new leaf digests, the leaf's place |
//! | [`split`] | write that splits a lifted leaf | opens the occupant, keys part at `c` |
//! | [`merkle`] | level of a write's path | old and new parents, key bit binding |
//!
//! The verifier adds the public part of two relations itself: it yields one
//! [`relations::Transaction`] tuple per statement entry and the pre-state
//! root, and uses the post-state root. A prover that skips, reorders or
//! invents a transaction or a write leaves some relation unbalanced.
//!
//! # Security
//!
//! Proofs use stwo's circle STARK over Mersenne-31 with the Blake2s Merkle
//! channel, under [`config::ProofConfig::STANDARD`] (96 bits counting proof of
//! work); a proof made under any other configuration is refused.
//!
//! The prover (stwo's SIMD backend) is behind the `prover` feature; the
//! verifier builds without it, `no_std`, for browsers and light clients.
//!
//! # Throughput
//!
//! `baseline` (with `prover`) proves Poseidon2 permutations alone, the same
//! way a block is proven: a block proof's permutations per second are
//! measured against it (`core/benches/proving.rs`, figures in BENCHMARKS.md).

#[cfg(feature = "prover")]
pub mod baseline;
pub mod components;
pub mod config;
pub mod input;
pub mod key_bits;
pub mod lookups;
pub mod merkle;
pub mod poseidon;
pub mod proof;
#[cfg(feature = "prover")]
pub mod prover;
pub mod public;
pub mod range_check;
pub mod relations;
pub mod single;
pub mod split;
pub mod statement;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(all(test, feature = "prover"))]
mod tests;
#[cfg(feature = "prover")]
pub mod trace;
pub mod transaction;
pub mod uint;
pub mod verifier;
pub mod witness;
pub mod write;
