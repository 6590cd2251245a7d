//! Proving one component on its own: an empty preprocessed tree, the main
//! trace, the relations drawn from the Blake2s channel, the interaction
//! trace, then stwo's proof under a [`ProofConfig`] — the block prover's
//! commit sequence, with its commitment scheme, for a single component.
//!
//! The verifier plays the part of every other component: it adds the public
//! side of the component's relation itself and requires the total to be
//! zero. The components' tests prove each one end to end this way, and
//! `baseline` (with `prover`) measures the Poseidon component alone with it.

use alloc::string::{String, ToString};

use stwo::core::air::Component;
use stwo::core::channel::{Blake2sChannel, Channel};
use stwo::core::fields::qm31::SecureField;
use stwo::core::pcs::CommitmentSchemeVerifier;
use stwo::core::proof::StarkProof;
use stwo::core::vcs_lifted::blake2_merkle::{Blake2sMerkleChannel, Blake2sMerkleHasher};
use stwo::core::verifier::verify;
use stwo_constraint_framework::{FrameworkComponent, FrameworkEval, TraceLocationAllocator};

use super::config::ProofConfig;
use super::relations::Relations;

/// A proof and the component's claimed LogUp sum, which the verifier
/// needs (it is mixed into the channel before the composition).
#[derive(Clone, Debug)]
pub struct ComponentProof {
    pub proof: StarkProof<Blake2sMerkleHasher>,
    pub claimed_sum: SecureField,
}

#[cfg(feature = "prover")]
pub use prover::prove_component;

#[cfg(feature = "prover")]
mod prover {
    use alloc::vec::Vec;

    use stwo::prover::backend::simd::SimdBackend;
    use stwo::prover::{ProvingError, prove};

    use super::*;
    use crate::proving::prover::{commitment_scheme, twiddles};
    use crate::proving::trace::Evaluation;

    /// Proves the component `make_eval` builds, over `main` (committed) and
    /// the `interaction` it derives once the relations are drawn. `statement`
    /// is mixed into the channel first, as the verifier will. Fails if the
    /// traces do not satisfy the constraints (stwo's own final check).
    pub fn prove_component<E: FrameworkEval + Sync>(
        statement: &[u32],
        main: Vec<Evaluation>,
        interaction: impl FnOnce(&Relations) -> (Vec<Evaluation>, SecureField),
        make_eval: impl Fn(Relations) -> E,
        config: &ProofConfig,
    ) -> Result<ComponentProof, ProvingError> {
        let bound = make_eval(Relations::dummy()).max_constraint_log_degree_bound();
        let twiddles = twiddles(bound, config);
        let channel = &mut Blake2sChannel::default();
        config.pcs().mix_into(channel);
        channel.mix_u32s(statement);
        let mut scheme = commitment_scheme(config, &twiddles);

        let mut tree = scheme.tree_builder();
        tree.extend_evals(Vec::new());
        tree.commit(channel);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(main);
        tree.commit(channel);

        let relations = Relations::draw(channel);
        let (columns, claimed_sum) = interaction(&relations);
        let mut tree = scheme.tree_builder();
        tree.extend_evals(columns);
        tree.commit(channel);
        channel.mix_felts(&[claimed_sum]);

        let component = FrameworkComponent::new(
            &mut TraceLocationAllocator::default(),
            make_eval(relations),
            claimed_sum,
        );
        let proof = prove::<SimdBackend, Blake2sMerkleChannel>(&[&component], channel, scheme)?;
        Ok(ComponentProof { proof, claimed_sum })
    }
}

/// Verifies a `prove_component` proof. `public_sum` is the LogUp sum of
/// the tuples the verifier itself uses (or yields) in the component's
/// relation; with the claimed sum it must make zero.
pub fn verify_component<E: FrameworkEval>(
    statement: &[u32],
    make_eval: impl Fn(Relations) -> E,
    public_sum: impl FnOnce(&Relations) -> SecureField,
    proof: &ComponentProof,
    config: &ProofConfig,
) -> Result<(), String> {
    let ComponentProof { proof, claimed_sum } = proof;
    let claimed_sum = *claimed_sum;
    if !config.matches(&proof.0.config) {
        return Err("proof made under another configuration".to_string());
    }
    let channel = &mut Blake2sChannel::default();
    proof.0.config.mix_into(channel);
    channel.mix_u32s(statement);
    let mut scheme = CommitmentSchemeVerifier::<Blake2sMerkleChannel>::new(proof.0.config);
    let sizes = FrameworkComponent::new(
        &mut TraceLocationAllocator::default(),
        make_eval(Relations::dummy()),
        claimed_sum,
    )
    .trace_log_degree_bounds();
    if proof.0.commitments.len() != 4 || sizes.len() != 3 {
        return Err("proof has the wrong number of commitments".to_string());
    }
    scheme.commit(proof.0.commitments[0], &sizes[0], channel);
    scheme.commit(proof.0.commitments[1], &sizes[1], channel);
    let relations = Relations::draw(channel);
    scheme.commit(proof.0.commitments[2], &sizes[2], channel);
    channel.mix_felts(&[claimed_sum]);

    if claimed_sum + public_sum(&relations) != SecureField::from_u32_unchecked(0, 0, 0, 0) {
        return Err("the relation does not balance".to_string());
    }
    let component = FrameworkComponent::new(
        &mut TraceLocationAllocator::default(),
        make_eval(relations),
        claimed_sum,
    );
    verify(&[&component], channel, &mut scheme, proof.clone()).map_err(|e| e.to_string())
}
