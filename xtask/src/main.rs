//! `cargo xtask`: the one entry point for building, running and testing Starling.
//!
//! The workspace mixes a native daemon, a browser build (Rust compiled to
//! WebAssembly, post-processed by `wasm-bindgen` and binaryen's `wasm-opt`) and
//! browser end-to-end tests driven by Node. Each of those needs tools at exact
//! versions; this program installs them ([`setup`]), strings the build steps
//! together ([`web`]) and runs every check CI runs ([`mod@test`]), so a fresh clone
//! needs nothing but `rustup`, `node`/`npm` and this command.
//!
//! It depends on nothing outside `std` so that it compiles in seconds.

mod bench;
mod cmd;
mod demo;
mod paths;
mod setup;
mod test;
mod web;

use std::process::ExitCode;

use paths::Paths;

const HELP: &str = "\
cargo xtask: build, run and test Starling

USAGE:
    cargo xtask <COMMAND> [ARGS]

COMMANDS:
    setup           Install or verify the tools the build needs: the wasm32 rustup
                    target, wasm-bindgen-cli 0.2.108, the Node tools in package.json
                    (binaryen's wasm-opt, playwright-core) and Debian's chromium.
                    Idempotent and quiet when everything is already there.
    build-web       Build the web page into <target dir>/site: the Leptos app compiled
                    to wasm32, bound by wasm-bindgen, optimised by wasm-opt, plus www/*
                    and the block prover's own module (starling_prover.js, for the
                    proving worker www/prover-worker.js). Also writes the
                    starling-wasm JS package into pkg/.
    demo [ARGS..]   setup + build-web + release build of the daemon, then run
                    `starling devnet --web-dir <site> ARGS..` (`--http-port 8080` unless
                    ARGS set it; without `--data-dir` the devnet starts a fresh chain
                    in a temporary directory). The daemon prints the page URL; stop
                    it with Ctrl-C. Example: cargo xtask demo -- --http-port 9000
    test            Everything CI checks, in order: setup, rustfmt, clippy (native
                    and wasm32), the no_std wasm32 build of starling-core, cargo test,
                    build-web, the daemon build and the browser end-to-end tests.
                    Runs every stage it can, then prints one summary line
                    `xtask: N passed, M failed` and exits non-zero on any failure.
    browser-test    Only the browser end-to-end tests (with the setup and builds
                    they need); quicker when working on the page.
    bench-wasm-prover [-- --runs N --transfers 4,128,1024]
                    The block prover in WebAssembly (Node, simd128) against the
                    same prover native, one thread each, on the same blocks in
                    one run: release builds of both, then medians and their
                    ratio (tests/browser/prover-bench.mjs; see BENCHMARKS.md).
    help            Print this message.

ENVIRONMENT:
    CARGO_TARGET_DIR   Where cargo builds (and where the site dir goes);
                       default <repo>/target.
    STARLING_BIN       Daemon binary the browser tests start; default
                       <target dir>/debug/starling.
    CHROMIUM           Chromium binary for the browser tests; default /usr/bin/chromium.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    let rest: Vec<String> = args.collect();
    let paths = Paths::discover();

    let result = match command.as_str() {
        "setup" => no_args(&command, &rest).and_then(|()| setup::run(&paths)),
        "build-web" => no_args(&command, &rest).and_then(|()| web::build(&paths).map(|_| ())),
        "demo" if rest.first().is_some_and(|a| a == "-h" || a == "--help") => {
            print!("{HELP}");
            Ok(())
        }
        "demo" => demo::run(&paths, rest),
        "test" => no_args(&command, &rest).and_then(|()| test::run(&paths, test::Suite::All)),
        "browser-test" => {
            no_args(&command, &rest).and_then(|()| test::run(&paths, test::Suite::BrowserOnly))
        }
        "bench-wasm-prover" => bench::wasm_prover(&paths, rest),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`; see `cargo xtask --help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("xtask {command}: error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Refuses stray arguments rather than silently ignoring a mistyped flag.
fn no_args(command: &str, rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(a) if a == "-h" || a == "--help" => {
            print!("{HELP}");
            std::process::exit(0)
        }
        Some(a) => {
            Err(format!("`{command}` takes no arguments (got `{a}`); see `cargo xtask --help`"))
        }
    }
}
