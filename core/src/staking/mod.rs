//! Proof of stake, kept in the chain state: stakers, delegations, validator sets
//! by epoch, rewards and slashing.
//!
//! # The idea
//!
//! A chain run by one sequencer is as honest as that sequencer. Proof of stake
//! hands block production to *stakers*: accounts that lock ("bond") tokens and
//! name an Ed25519 *consensus key* to vote with. Each epoch, the stakers with the
//! most *power* form the epoch's [`ValidatorSet`](crate::consensus::ValidatorSet): they propose blocks in turn
//! and vote on them (see [`crate::consensus`]); a block is final once more than
//! two thirds of the set's power signed its commit certificate. Power is a
//! staker's own stake plus what other accounts *delegated* to its pool, so token
//! holders who run no node still choose who validates.
//!
//! What keeps validators honest is what they stand to lose. Signing two
//! different votes at the same step (the one thing BFT safety forbids) is
//! provable by anyone holding the two signed votes; submitted as an `Evidence`
//! transaction, it burns part of the staker's stake and removes it from future
//! sets ([`evidence`]). Bonded tokens cannot run away from that: leaving takes an
//! intent and then an *exit window* of several epochs, during which the staker
//! is still slashable.
//!
//! What pays them is [`rewards`]: each proof-of-stake block mints
//! `block_reward`, which together with the block's fees goes part to the
//! proposer's pool and part to the pools of the validators whose signatures
//! certified the parent block, by power. Within a pool the staker takes its
//! commission and the rest is shared by bonded token.
//!
//! # Where it lives
//!
//! Everything here is *state*, changed only by transactions and by the
//! end-of-block hook, so every node computes the same validator sets and
//! rewards, and a block's state root commits to them. The records are a
//! [`StakingState`] (the *registry*) held as the preimage of one reserved
//! account, [`REGISTRY`]: its `staking` field is the registry's
//! [`commitment`](StakingState::commitment) and its balance *escrows* every
//! bonded token (stakes, delegations, withdrawals under way, unclaimed rewards),
//! so the sum of all balances is still the whole supply. Nobody holds the key of
//! that address (it is not the digest of a public key), and transfers to it are
//! refused. Hosts keep the preimage beside the state tree
//! ([`crate::state::StateTree::registry`]); witnesses and snapshot chunks carry
//! it, checked against the proven commitment, so a browser checking a block
//! statelessly knows the validator set too.
//!
//! # Epochs and stages
//!
//! Block `h` is in epoch `h / epoch_length`. At the end of each epoch's last
//! block the registry rolls ([`epochs`]): the set of three epochs ahead is fixed
//! from the stakes of that moment, so a stake made in epoch `e` first counts in
//! epoch `e + 3`, and the sets of the current epoch, the next two and the
//! previous one are always known.
//!
//! A chain starts in [`Mode::Single`]: the genesis sequencer signs every block.
//! Stakers join by transaction meanwhile. At the first epoch boundary where the
//! set of the epoch about to start holds at least `activation_stake` of power in
//! at least `min_validators` members, the chain switches to [`Mode::Pos`] for
//! good (it falls back only if an epoch has no eligible staker at all). Every
//! header shows which: its `validators` field is zero under the sequencer and
//! the hash of the certifying set under proof of stake.
//! [`StakingState::authority_for`] tells hosts who signs which height.

mod calls;
mod delegate;
pub mod epochs;
mod error;
pub mod evidence;
mod hook;
mod mode;
mod params;
mod records;
mod registry;
pub mod rewards;
mod stake;
#[cfg(test)]
pub(crate) mod testing;

pub use error::StakingError;
pub use evidence::{EvidenceError, check_evidence};
pub use hook::{BlockEnd, Issuance, finish_block};
pub use mode::{Authority, Mode, ModeSince};
pub use params::{BPS, MIN_EXIT_WINDOW_EPOCHS, ParamsError, StakingParams};
pub use records::{Delegation, Staker, Unbonding};
pub use registry::{DelegationView, MAX_DELEGATIONS, MAX_STAKERS, MAX_UNBONDING, StakingState};

pub(crate) use calls::{Flow, apply_staking_call};

use crate::hash::{Domain, hash_elements};
use crate::types::Address;

/// The registry account: the Poseidon2 digest of no elements in the
/// [`Domain::Staking`] domain. Every address of an account with a key is a digest
/// in [`Domain::Address`], so no key can ever sign for it.
pub const REGISTRY: Address = Address(hash_elements(Domain::Staking, &[]).0);
