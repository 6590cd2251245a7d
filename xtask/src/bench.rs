//! `cargo xtask bench-wasm-prover`: the block prover in WebAssembly against the
//! same prover native, single-threaded, on the same blocks in one run.
//!
//! Builds the two halves in release mode (the native proving fixture, and the
//! prover module with simd128 exactly as the site ships it) and hands over to
//! `tests/browser/prover-bench.mjs`, which alternates the runs and prints the
//! medians and their ratio.

use std::process::Command;

use crate::paths::Paths;
use crate::{cmd, setup, web};

pub fn wasm_prover(paths: &Paths, mut args: Vec<String>) -> Result<(), String> {
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    setup::run(paths)?;
    println!("bench-wasm-prover: building the native proving fixture (release, one thread)");
    cmd::run(cmd::cargo().current_dir(&paths.repo).args([
        "build",
        "--release",
        "-p",
        "starling-wasm",
        "--features",
        "test-chain,prover",
        "--example",
        "proving_fixture",
    ]))?;
    let module_dir = paths.target.join("prover-bench");
    web::prover_module(paths, &module_dir)?;
    cmd::run(
        Command::new("node")
            .arg(paths.repo.join("tests").join("browser").join("prover-bench.mjs"))
            .args(&args)
            .current_dir(&paths.repo)
            .env(
                "PROVING_FIXTURE",
                paths.target.join("release").join("examples").join("proving_fixture"),
            )
            .env("PROVER_MODULE_DIR", &module_dir),
    )
}
