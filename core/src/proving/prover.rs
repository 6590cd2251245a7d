//! Proving a block: build every component's trace from the witness, commit,
//! and let stwo prove the constraints and lookups.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use stwo::core::channel::{Blake2sChannel, Channel};
use stwo::core::fields::qm31::SecureField;
use stwo::core::poly::circle::CanonicCoset;
use stwo::core::vcs_lifted::blake2_merkle::Blake2sMerkleChannel;
use stwo::prover::backend::simd::SimdBackend;
use stwo::prover::poly::circle::PolyOps;
use stwo::prover::poly::twiddles::TwiddleTree;
use stwo::prover::{CommitmentSchemeProver, prove};

use super::components::{BlockComponents, ClaimedSums, LogSizes};
use super::config::ProofConfig;
use super::lookups::LookupCounts;
use super::proof::BlockProof;
use super::public::{mix_statement, public_sum};
use super::relations::Relations;
use super::trace::Evaluation;
use super::witness::BlockWitness;
use super::{merkle, poseidon, range_check, split, transaction, write};
use crate::types::Address;

/// Why a block could not be proven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProveError {
    /// The witness breaks a rule the AIR enforces (a bug, or a tampered witness).
    Trace(String),
    /// The lookups do not balance: the witness does not prove its statement.
    Unbalanced,
    /// stwo refused to prove.
    Stark(String),
}

impl fmt::Display for ProveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trace(why) => write!(f, "the witness does not fit the AIR: {why}"),
            Self::Unbalanced => f.write_str("the witness does not prove its statement"),
            Self::Stark(why) => write!(f, "proving failed: {why}"),
        }
    }
}

/// Extra log2 rows the composition polynomial is evaluated on: every
/// component keeps its constraints at degree 3 or less (stwo 2.3's lifted
/// commitments need the composition no larger than the largest trace).
const LOG_EXPAND: u32 = 1;

/// The main trace of every component, in the fixed order.
struct Traces {
    transaction: transaction::TransactionTrace,
    write: write::WriteTrace,
    split: split::SplitTrace,
    merkle: merkle::MerkleTrace,
    poseidon: poseidon::PoseidonTrace,
    byte: range_check::ByteTrace,
}

/// The traces of the components that use the Poseidon and byte tables, in
/// the fixed order.
type UserTraces =
    (transaction::TransactionTrace, write::WriteTrace, split::SplitTrace, merkle::MerkleTrace);

/// Builds the using components' traces, counting their uses into `counts`.
fn user_traces(
    witness: &BlockWitness,
    counts: &mut LookupCounts,
) -> Result<UserTraces, ProveError> {
    let trace_error = |e: &dyn fmt::Display| ProveError::Trace(e.to_string());
    let transaction = transaction::gen_trace(witness, counts).map_err(|e| trace_error(&e))?;
    // The writes are checked against their paths (every path hashed) once,
    // and laid out by the three components that share them; the Merkle rows
    // reuse the hashed paths.
    let (plans, paths) = write::plans_with_levels(witness).map_err(|e| trace_error(&e))?;
    let write = write::trace_from(&plans, counts);
    let split = split::trace_from(&plans, counts);
    let merkle = merkle::trace_from_levels(&plans, &paths, counts);
    Ok((transaction, write, split, merkle))
}

/// What proving `witness` would use of the Poseidon and byte tables: one
/// Poseidon row per permutation in `permutations`. For sizing and
/// benchmarks (a proof's work is mostly its permutations); proving counts
/// them itself.
pub fn lookup_counts(witness: &BlockWitness) -> Result<LookupCounts, ProveError> {
    let mut counts = LookupCounts::default();
    user_traces(witness, &mut counts)?;
    Ok(counts)
}

impl Traces {
    fn build(witness: &BlockWitness) -> Result<Self, ProveError> {
        let counts = &mut LookupCounts::default();
        let (transaction, write, split, merkle) = user_traces(witness, counts)?;
        let poseidon = poseidon::gen_trace(&counts.permutations);
        let byte = range_check::gen_trace(&counts.bytes);
        Ok(Self { transaction, write, split, merkle, poseidon, byte })
    }

    fn sizes(&self) -> LogSizes {
        LogSizes {
            transaction: self.transaction.log_size(),
            write: self.write.log_size(),
            split: self.split.log_size(),
            merkle: self.merkle.log_size(),
            poseidon: self.poseidon.log_size(),
            byte: self.byte.log_size(),
        }
    }

    fn evaluations(&self) -> Vec<Evaluation> {
        let mut all = self.transaction.evaluations();
        all.extend(self.write.evaluations());
        all.extend(self.split.evaluations());
        all.extend(self.merkle.evaluations());
        all.extend(self.poseidon.evaluations());
        all.extend(self.byte.evaluations());
        all
    }

    fn interaction(&self, relations: &Relations) -> (Vec<Evaluation>, ClaimedSums) {
        let parts = [
            self.transaction.interaction(relations),
            self.write.interaction(relations),
            self.split.interaction(relations),
            self.merkle.interaction(relations),
            self.poseidon.interaction(relations),
            self.byte.interaction(relations),
        ];
        let sums = ClaimedSums::from_array(parts.each_ref().map(|(_, sum)| *sum));
        (parts.into_iter().flat_map(|(columns, _)| columns).collect(), sums)
    }
}

/// Proves `witness`'s statement under `config`, for `prover` (the account
/// the proof's reward goes to).
pub fn prove_block(
    witness: &BlockWitness,
    config: &ProofConfig,
    prover: Address,
) -> Result<BlockProof, ProveError> {
    let statement = &witness.statement;
    let traces = Traces::build(witness)?;
    let sizes = traces.sizes();
    let max_log_size = sizes.to_array().into_iter().max().unwrap_or(4);
    let twiddles = twiddles(max_log_size + LOG_EXPAND, config);
    let channel = &mut Blake2sChannel::default();
    mix_statement(channel, statement, &prover, &sizes);
    let mut scheme = commitment_scheme(config, &twiddles);

    let mut tree = scheme.tree_builder();
    tree.extend_evals(Vec::new());
    tree.commit(channel);
    let mut tree = scheme.tree_builder();
    tree.extend_evals(traces.evaluations());
    tree.commit(channel);

    let relations = Relations::draw(channel);
    let (interaction, sums) = traces.interaction(&relations);
    let total: SecureField =
        sums.to_array().iter().copied().sum::<SecureField>() + public_sum(&relations, statement);
    if total != SecureField::default() {
        return Err(ProveError::Unbalanced);
    }
    channel.mix_felts(&sums.to_array());
    let mut tree = scheme.tree_builder();
    tree.extend_evals(interaction);
    tree.commit(channel);

    let components = BlockComponents::new(&sizes, &relations, &sums);
    let stark = prove::<SimdBackend, Blake2sMerkleChannel>(&components.provers(), channel, scheme)
        .map_err(|e| ProveError::Stark(e.to_string()))?;
    Ok(BlockProof { prover, sizes, claimed_sums: sums, stark })
}

/// The twiddle factors for a proof whose largest constraint domain (a
/// component's trace size times its constraint expansion) has
/// `2^log_bound` rows, once blown up by `config`'s factor.
pub(crate) fn twiddles(log_bound: u32, config: &ProofConfig) -> TwiddleTree<SimdBackend> {
    let log_domain = log_bound + config.log_blowup_factor;
    SimdBackend::precompute_twiddles(CanonicCoset::new(log_domain).circle_domain().half_coset)
}

/// The commitment scheme every Starling proof is made with (block proofs and
/// [`super::single`] ones alike, so their timings compare): `config`'s FRI
/// and proof-of-work parameters, and each committed polynomial's
/// coefficients kept, so its out-of-domain samples are evaluated from them.
pub(crate) fn commitment_scheme<'a>(
    config: &ProofConfig,
    twiddles: &'a TwiddleTree<SimdBackend>,
) -> CommitmentSchemeProver<'a, SimdBackend, Blake2sMerkleChannel> {
    let mut scheme = CommitmentSchemeProver::new(config.pcs(), twiddles);
    scheme.set_store_polynomials_coefficients();
    scheme
}
