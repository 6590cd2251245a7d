//! The raw Poseidon2 baseline: a proof of `N` permutations and nothing else.
//!
//! A block proof is mostly permutations (every leaf, Merkle parent and
//! sponge block is one), so how many it proves per second is measured
//! against this: the [`poseidon`](super::poseidon) component alone, proven
//! with [`single`](super::single) — the block prover's commit sequence and
//! commitment scheme — under the same [`ProofConfig`]. The difference
//! between the two is what the block's other components cost.
//!
//! The statement is the list of uses itself: the verifier, knowing them,
//! computes each output with [`crate::hash::permute`] and *uses* each tuple,
//! so the relation balances only if the component yielded exactly those
//! permutations.

use alloc::string::String;
use alloc::vec::Vec;

use stwo::core::fields::m31::BaseField;
use stwo::core::fields::qm31::SecureField;
use stwo::prover::ProvingError;
use stwo_constraint_framework::Relation;

use super::config::ProofConfig;
use super::lookups::PermutationUse;
use super::poseidon::{PoseidonEval, gen_trace};
use super::relations::{PERMUTATION_SIZE, Relations};
use super::single::{ComponentProof, prove_component, verify_component};
use super::trace::{base, log_size_for};
use crate::hash::constants::WIDTH;
use crate::hash::{M31, permute};

/// `n` deterministic pseudo-random uses (splitmix64 from `seed`), every
/// third one `full`, as sponges that absorb more use them.
pub fn sample_uses(n: usize, seed: u64) -> Vec<PermutationUse> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|i| PermutationUse {
            input: core::array::from_fn(|_| M31::new(next() as u32)),
            full: i % 3 == 0,
        })
        .collect()
}

/// What the channel is bound to before any randomness is drawn: the
/// number of uses, then each use's input and `full` flag.
pub fn statement(uses: &[PermutationUse]) -> Vec<u32> {
    let mut words = alloc::vec![uses.len() as u32];
    for u in uses {
        words.extend(u.input.map(M31::value));
        words.push(u32::from(u.full));
    }
    words
}

/// The verifier's side of the permutation relation: `Σ 1/combine(tuple)`
/// over the uses, each tuple computed with the hash module's permutation
/// (not the AIR's). The component's claimed sum must be its negation.
pub fn public_sum(uses: &[PermutationUse], relations: &Relations) -> SecureField {
    let one = SecureField::from_u32_unchecked(1, 0, 0, 0);
    uses.iter()
        .map(|u| {
            let denominator: SecureField = relations.permutation.combine(&tuple(u));
            one / denominator
        })
        .sum()
}

/// The tuple a use is yielded as: `[in_0..in_15, out_0..out_7,
/// full·out_8..full·out_15]`.
fn tuple(u: &PermutationUse) -> [BaseField; PERMUTATION_SIZE] {
    let mut out = u.input;
    permute(&mut out);
    core::array::from_fn(|i| match i {
        i if i < WIDTH => base(u.input[i]),
        i if i < WIDTH + WIDTH / 2 || u.full => base(out[i - WIDTH]),
        _ => BaseField::from_u32_unchecked(0),
    })
}

/// Proves the Poseidon component alone, one row per use (padded to a power
/// of two, as in a block proof).
pub fn prove_permutations(
    uses: &[PermutationUse],
    config: &ProofConfig,
) -> Result<ComponentProof, ProvingError> {
    let trace = gen_trace(uses);
    let log_size = trace.log_size();
    prove_component(
        &statement(uses),
        trace.evaluations(),
        |relations| trace.interaction(relations),
        |relations| PoseidonEval { log_size, relations },
        config,
    )
}

/// Verifies a [`prove_permutations`] proof of `uses` under `config`.
pub fn verify_permutations(
    uses: &[PermutationUse],
    proof: &ComponentProof,
    config: &ProofConfig,
) -> Result<(), String> {
    let log_size = log_size_for(uses.len());
    verify_component(
        &statement(uses),
        |relations| PoseidonEval { log_size, relations },
        |relations| public_sum(uses, relations),
        proof,
        config,
    )
}
