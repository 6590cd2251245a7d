//! The volunteer panel: press Prove and this tab proves the chain's blocks.
//!
//! Each worker (one per core by default) leases the lowest open proving job
//! from the node that served the page, re-executes and proves the block with
//! starling-core's prover compiled to WebAssembly in a Web Worker, and posts
//! the proof back; the node verifies it like any other and settles it. The
//! proof is bound to the reward address typed here, so the reward for it goes
//! there (no key is needed to prove: the address only says who is paid).
//!
//! The panel shows each worker's job and progress, the proofs the node
//! accepted and refused, the transactions proven per second, and the rewards
//! the node reports for the address. Page interface (`data-testid`s):
//! `volunteer`, `prover-address`, `prover-workers`, `prove-button`
//! (`data-state` idle/proving), `prover-error`, `proofs-accepted`,
//! `proofs-refused`, `transactions-proven`, `throughput`, `rewards-earned`
//! and one `prover-worker` per worker (`data-phase`, `data-height`); each
//! number's `data-count` holds it unformatted.

pub mod tally;

#[cfg(target_arch = "wasm32")]
mod panel;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use panel::Volunteer;
