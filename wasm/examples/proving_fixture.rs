//! The native half of the wasm/native block-proof cross-checks
//! (`tests/browser/prover.test.mjs`) and of the wasm prover benchmark
//! (`cargo xtask bench-wasm-prover`). It runs the same functions as the wasm
//! exports (`starling_wasm::proving`), compiled natively, on one thread.
//!
//! ```text
//! proving_fixture write DIR [--blocks N] [--transfers M]
//!     Builds a real chain (wasm/src/test_chain.rs: N blocks of M signed
//!     transfers, by the sequencer's block builder), writes each block's proving
//!     input to DIR/input-<height>.bin as a node hands it out, proves block 1
//!     natively into DIR/native-proof-1.bin, and prints one JSON line:
//!     {"inputs": [paths], "native_proof": path, "prover": hex, "prove_ms": n}.
//! proving_fixture verify INPUT PROOF
//!     Verifies PROOF against INPUT natively; prints the verified proof as JSON
//!     and exits 0, or prints the reason on stderr and exits 1.
//! proving_fixture prove INPUT PROVER_HEX OUT
//!     Proves INPUT natively into OUT; prints {"record_ms": n, "prove_ms": n,
//!     "bytes": n}: decoding and re-executing the block (signature checks
//!     included), then the proof alone, as the wasm `ProvingJob` splits them.
//! ```
//!
//! `cargo run -p starling-wasm --features test-chain,prover --example proving_fixture -- write /tmp/p`

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use starling_core::crypto::StarkSecretKey;
use starling_core::encoding::Message;
use starling_wasm::proving::{RecordedJob, parse_prover, prove_block, verify_block_proof};
use starling_wasm::test_chain::proving_inputs;

const USAGE: &str = "usage: proving_fixture write DIR [--blocks N] [--transfers M]
       proving_fixture verify INPUT PROOF
       proving_fixture prove INPUT PROVER_HEX OUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("write") => write(&args[1..]),
        Some("verify") if args.len() == 3 => verify(Path::new(&args[1]), Path::new(&args[2])),
        Some("prove") if args.len() == 4 => prove(Path::new(&args[1]), &args[2], &args[3]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("proving_fixture: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write(args: &[String]) -> Result<String, String> {
    let (mut blocks, mut transfers) = (2usize, 4usize);
    let dir = args.first().ok_or(USAGE)?;
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"))?;
        match flag.as_str() {
            "--blocks" => blocks = number.max(1),
            "--transfers" => transfers = number,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for input in proving_inputs(blocks, transfers) {
        let path = dir.join(format!("input-{}.bin", input.block.header.height));
        save(&path, &input.encode_message())?;
        paths.push(path);
    }
    let prover = StarkSecretKey::from_entropy(&[99; 32]).public_key().address().to_string();
    let input = load(&paths[0])?;
    let started = Instant::now();
    let proof = prove_block(&input, &prover)?;
    let prove_ms = ms(started.elapsed());
    let proof_path = dir.join("native-proof-1.bin");
    save(&proof_path, &proof)?;
    let inputs: Vec<String> = paths.iter().map(|p| json_string(&p.display().to_string())).collect();
    Ok(format!(
        r#"{{"inputs":[{}],"native_proof":{},"prover":{},"prove_ms":{prove_ms:.1}}}"#,
        inputs.join(","),
        json_string(&proof_path.display().to_string()),
        json_string(&prover),
    ))
}

fn verify(input: &Path, proof: &Path) -> Result<String, String> {
    let verified = verify_block_proof(&load(input)?, &load(proof)?)?;
    serde_json::to_string(&verified).map_err(|e| e.to_string())
}

fn prove(input: &Path, prover: &str, out: &str) -> Result<String, String> {
    let input = load(input)?;
    let prover = parse_prover(prover)?;
    let started = Instant::now();
    let job = RecordedJob::record(&input)?;
    let recorded = Instant::now();
    let proof = job.prove(prover)?;
    let (record_ms, prove_ms) = (ms(recorded - started), ms(recorded.elapsed()));
    save(Path::new(out), &proof)?;
    Ok(format!(
        r#"{{"record_ms":{record_ms:.1},"prove_ms":{prove_ms:.1},"bytes":{}}}"#,
        proof.len()
    ))
}

fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e3
}

fn load(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}
