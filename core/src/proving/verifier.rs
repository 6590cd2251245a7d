//! Checking a block proof against a statement the verifier built itself.
//!
//! Cheap checks first, each with its own reason: the configuration the proof
//! was made under, its shape, then whether its lookups balance against *this*
//! statement (a proof of other roots or other transactions fails here), and
//! only then stwo's verification of the STARK itself (a tampered proof fails
//! there).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use stwo::core::air::Components;
use stwo::core::channel::Blake2sChannel;
use stwo::core::circle::CirclePoint;
use stwo::core::fields::qm31::{SECURE_EXTENSION_DEGREE, SecureField};
use stwo::core::pcs::CommitmentSchemeVerifier;
use stwo::core::vcs_lifted::blake2_merkle::Blake2sMerkleChannel;
use stwo::core::verifier::verify;

use super::components::BlockComponents;
use super::config::ProofConfig;
use super::proof::BlockProof;
use super::public::{mix_statement, public_sum};
use super::relations::Relations;
use super::statement::BlockStatement;
use stwo::core::channel::Channel;

/// Committed trees: preprocessed, main trace, interaction trace, composition.
const TREES: usize = 4;

/// Why a proof does not prove a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// Made under another configuration than the one required.
    WrongConfig { security_bits: u32, required: &'static str },
    /// Its structure does not fit the components it declares.
    Malformed(&'static str),
    /// Its lookups do not balance against this statement: it proves other
    /// roots or other transactions (or is forged).
    WrongStatement,
    /// The STARK does not verify: the proof was tampered with or is forged.
    Invalid(String),
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongConfig { security_bits, required } => write!(
                f,
                "proof made under another configuration ({security_bits} bits); {required} is required"
            ),
            Self::Malformed(what) => write!(f, "malformed proof: {what}"),
            Self::WrongStatement => {
                f.write_str("the proof does not prove this block: its roots or transactions differ")
            }
            Self::Invalid(why) => write!(f, "invalid proof: {why}"),
        }
    }
}

/// Verifies `proof` of `statement` under `config` (use
/// [`ProofConfig::STANDARD`]).
pub fn verify_block(
    statement: &BlockStatement,
    proof: &BlockProof,
    config: &ProofConfig,
) -> Result<(), ProofError> {
    let stark = &proof.stark;
    if !config.matches(&stark.0.config) {
        return Err(ProofError::WrongConfig {
            security_bits: stark.0.config.security_bits(),
            required: config.name,
        });
    }
    let channel = &mut Blake2sChannel::default();
    mix_statement(channel, statement, &proof.prover, &proof.sizes);
    let shapes = BlockComponents::new(&proof.sizes, &Relations::dummy(), &proof.claimed_sums);
    check_shape(&shapes, proof)?;
    let log_sizes =
        Components { components: shapes.verifiers(), n_preprocessed_columns: 0 }.column_log_sizes();
    let scheme = &mut CommitmentSchemeVerifier::<Blake2sMerkleChannel>::new(config.pcs());
    scheme.commit(stark.0.commitments[0], &log_sizes[0], channel);
    scheme.commit(stark.0.commitments[1], &log_sizes[1], channel);
    let relations = Relations::draw(channel);
    let sums = proof.claimed_sums.to_array();
    let total: SecureField =
        sums.iter().copied().sum::<SecureField>() + public_sum(&relations, statement);
    if total != SecureField::default() {
        return Err(ProofError::WrongStatement);
    }
    channel.mix_felts(&sums);
    scheme.commit(stark.0.commitments[2], &log_sizes[2], channel);
    let components = BlockComponents::new(&proof.sizes, &relations, &proof.claimed_sums);
    verify(&components.verifiers(), channel, scheme, stark.clone())
        .map_err(|e| ProofError::Invalid(e.to_string()))
}

/// Checks the proof's vectors have the lengths its components imply, so that
/// stwo's verifier (which indexes them) never sees a malformed proof.
fn check_shape(components: &BlockComponents, proof: &BlockProof) -> Result<(), ProofError> {
    let stark = &proof.stark.0;
    if stark.commitments.len() != TREES {
        return Err(ProofError::Malformed("wrong number of commitments"));
    }
    let verifiers = components.verifiers();
    let max_bound = verifiers.iter().map(|c| c.max_constraint_log_degree_bound()).max();
    let Some(max_bound) = max_bound else {
        return Err(ProofError::Malformed("no components"));
    };
    let components = Components { components: verifiers, n_preprocessed_columns: 0 };
    let mut expected: Vec<Vec<usize>> = components
        .mask_points(CirclePoint::zero(), max_bound, false)
        .iter()
        .map(|tree| tree.iter().map(Vec::len).collect())
        .collect();
    expected.push(alloc::vec![1; 2 * SECURE_EXTENSION_DEGREE]);
    let found: Vec<Vec<usize>> =
        stark.sampled_values.iter().map(|tree| tree.iter().map(Vec::len).collect()).collect();
    if found != expected {
        return Err(ProofError::Malformed("sampled values do not fit the components"));
    }
    let columns: Vec<usize> = expected.iter().map(Vec::len).collect();
    let queried: Vec<usize> = stark.queried_values.iter().map(Vec::len).collect();
    if queried != columns || stark.decommitments.len() != TREES {
        return Err(ProofError::Malformed("queried values do not fit the components"));
    }
    Ok(())
}
