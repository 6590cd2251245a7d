//! Block proofs across the browser boundary: proving a job's block (feature
//! `prover`) and checking a proof, from the bytes a node hands out.
//!
//! A node gives a prover one [`ProvingInput`] per job (JSON-RPC carries it as
//! hex) and takes back [`BlockProof::to_bytes`]. Both sides of that exchange
//! are here as plain Rust over byte slices, so the native tests, the native
//! half of the wasm/native cross-checks (`examples/proving_fixture.rs`) and the
//! `#[wasm_bindgen]` exports (in `js.rs`) run exactly the same code.
//!
//! The prover is [`starling_core::proving::prover::prove_block`] under
//! [`ProofConfig::STANDARD`], on one thread: a browser proves on several cores
//! by running one Web Worker per core (`www/prover-worker.js`), each with its
//! own job, not by splitting one proof across threads.
//!
//! What a verified proof means: the block in the input, applied to the state
//! root of the input's parent header, gives the block's state root (see
//! [`starling_core::proving`] for what the AIR checks and what it leaves to
//! validators). It says nothing about whether that parent and block are the
//! chain's: the caller must already hold them as accepted (verified with
//! [`crate::ChainVerifier`], or read from its own store).

use serde::Serialize;
use starling_core::encoding::Message;
use starling_core::proving::config::ProofConfig;
use starling_core::proving::input::ProvingInput;
use starling_core::proving::proof::BlockProof;
use starling_core::proving::verifier::verify_block;
use starling_core::proving::witness::BlockWitness;
use starling_core::types::Address;

/// What a proving job is about, as the page shows it; hashes as `0x` hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    pub height: u64,
    pub block_hash: String,
    /// The parent's state root, where the proof starts.
    pub pre_root: String,
    /// The block's state root, where the proof ends.
    pub post_root: String,
    pub transactions: usize,
}

impl JobSummary {
    fn of(input: &ProvingInput) -> Self {
        let job = input.job();
        Self {
            height: job.height,
            block_hash: job.block_hash.to_string(),
            pre_root: job.pre_root.to_string(),
            post_root: job.post_root.to_string(),
            transactions: input.block.transactions.len(),
        }
    }
}

/// A proof that verified: the job it proves and who made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedProof {
    pub job: JobSummary,
    /// The address the proof's reward goes to (bound into the proof).
    pub prover: String,
    /// The proof's encoded size.
    pub bytes: usize,
}

/// Decodes a job's input from its `encode_message()` bytes.
pub fn decode_input(input: &[u8]) -> Result<ProvingInput, String> {
    ProvingInput::decode_message(input).map_err(|e| format!("proving input does not decode: {e}"))
}

/// Parses a prover's reward address: 64 hex digits, `0x` optional. It must be
/// canonical (every 4-byte limb a field element), as addresses of real keys
/// are: a proof naming any other would not even decode
/// ([`BlockProof::from_bytes`] refuses it), so it is refused before proving.
pub fn parse_prover(prover_hex: &str) -> Result<Address, String> {
    let address: Address =
        prover_hex.parse().map_err(|e| format!("prover address {prover_hex:?}: {e}"))?;
    if !starling_core::hash::is_canonical(&address.as_hash()) {
        return Err(format!(
            "prover address {prover_hex:?} is not canonical (a limb is not below 2^31 - 1)"
        ));
    }
    Ok(address)
}

/// A job's input, decoded and its block re-executed on the witness: what the
/// prover needs, and the first thing that fails on a bad input. Split from
/// proving so a worker can report the (fast) recording before the (slow) proof.
#[cfg(feature = "prover")]
pub struct RecordedJob {
    summary: JobSummary,
    witness: BlockWitness,
}

#[cfg(feature = "prover")]
impl RecordedJob {
    /// Decodes `input` and records the writes its block makes. Refuses an input
    /// whose block does not apply on its witness or does not follow its parent
    /// header, with the reason.
    pub fn record(input: &[u8]) -> Result<Self, String> {
        let input = decode_input(input)?;
        let witness = record(&input)?;
        Ok(Self { summary: JobSummary::of(&input), witness })
    }

    pub fn summary(&self) -> &JobSummary {
        &self.summary
    }

    /// Proves the recorded block for `prover` under [`ProofConfig::STANDARD`];
    /// returns [`BlockProof::to_bytes`], what a node accepts as a submission.
    pub fn prove(&self, prover: Address) -> Result<Vec<u8>, String> {
        use starling_core::proving::prover::prove_block;
        let proof = prove_block(&self.witness, &ProofConfig::STANDARD, prover)
            .map_err(|e| format!("block {} could not be proven: {e}", self.summary.height))?;
        Ok(proof.to_bytes())
    }
}

fn record(input: &ProvingInput) -> Result<BlockWitness, String> {
    input.record().map_err(|e| {
        format!("the proving input for block {} is inconsistent: {e}", input.block.header.height)
    })
}

/// One call from input bytes to proof bytes: decode, record, prove for
/// `prover_hex` (see [`parse_prover`]).
#[cfg(feature = "prover")]
pub fn prove_block(input: &[u8], prover_hex: &str) -> Result<Vec<u8>, String> {
    let prover = parse_prover(prover_hex)?;
    RecordedJob::record(input)?.prove(prover)
}

/// Checks that `proof` (as [`BlockProof::to_bytes`] wrote it) proves the block
/// of `input` on top of its parent, under [`ProofConfig::STANDARD`].
///
/// The statement is built here from the input, never taken from the proof: the
/// block is re-executed on the witness (proven against the parent's state
/// root), which gives its transactions and the block reward the registry sets.
/// Errors say which check failed: the input, the proof's encoding, its
/// configuration, a proof of another block (other roots or transactions), or
/// a STARK that does not verify (tampered or forged).
pub fn verify_block_proof(input: &[u8], proof: &[u8]) -> Result<VerifiedProof, String> {
    let input = decode_input(input)?;
    let statement = record(&input)?.statement;
    let height = input.block.header.height;
    let decoded =
        BlockProof::from_bytes(proof).map_err(|e| format!("proof of block {height}: {e}"))?;
    verify_block(&statement, &decoded, &ProofConfig::STANDARD)
        .map_err(|e| format!("proof of block {height} refused: {e}"))?;
    Ok(VerifiedProof {
        job: JobSummary::of(&input),
        prover: decoded.prover.to_string(),
        bytes: proof.len(),
    })
}

#[cfg(test)]
mod tests {
    //! The plain functions behind the JS exports, natively. Proving needs the
    //! `prover` feature: `cargo test -p starling-wasm --features prover`; the
    //! wasm/native cross-checks are `tests/browser/prover.test.mjs`.

    use super::*;
    use crate::test_chain::proving_inputs;

    #[test]
    fn bad_inputs_and_addresses_are_refused_with_their_reason() {
        let input = proving_inputs(1, 2).remove(0).encode_message();
        let err = verify_block_proof(&input[..input.len() - 1], &[1, 2, 3]).unwrap_err();
        assert!(err.starts_with("proving input does not decode: "), "{err}");
        let err = verify_block_proof(&input, &[1, 2, 3]).unwrap_err();
        assert_eq!(err, "proof of block 1: proof is truncated");
        let err = parse_prover(&format!("0x{}", "ff".repeat(32))).unwrap_err();
        assert!(err.contains("is not canonical"), "{err}");
        assert!(parse_prover("0x12").is_err());
        assert!(parse_prover(&"21".repeat(32)).is_ok(), "0x is optional");
    }

    /// An input whose parts do not fit (here: the witness of another block) is
    /// refused when its block is re-executed, before any proof is looked at.
    #[test]
    fn an_inconsistent_input_is_refused_when_recorded() {
        let mut inputs = proving_inputs(2, 2);
        inputs[1].witness = inputs[0].witness.clone();
        let err = verify_block_proof(&inputs[1].encode_message(), &[]).unwrap_err();
        assert!(err.starts_with("the proving input for block 2 is inconsistent: "), "{err}");
    }

    #[cfg(feature = "prover")]
    #[test]
    fn a_proof_verifies_for_its_block_and_prover_only() {
        let inputs: Vec<Vec<u8>> =
            proving_inputs(2, 3).iter().map(|input| input.encode_message()).collect();
        let prover = format!("0x{}", "21".repeat(32));
        let job = RecordedJob::record(&inputs[0]).unwrap();
        assert_eq!((job.summary().height, job.summary().transactions), (1, 3));
        let proof = prove_block(&inputs[0], &prover).unwrap();
        assert_eq!(job.prove(parse_prover(&prover).unwrap()).unwrap(), proof, "deterministic");

        let verified = verify_block_proof(&inputs[0], &proof).unwrap();
        assert_eq!(verified.job, *job.summary());
        assert_eq!((verified.prover, verified.bytes), (prover, proof.len()));

        let err = verify_block_proof(&inputs[1], &proof).unwrap_err();
        assert!(err.starts_with("proof of block 2 refused: the proof does not prove"), "{err}");
        let mut stolen = proof.clone();
        stolen[1..33].copy_from_slice(&[0x33; 32]);
        let err = verify_block_proof(&inputs[0], &stolen).unwrap_err();
        assert!(err.starts_with("proof of block 1 refused: "), "{err}");
    }
}
