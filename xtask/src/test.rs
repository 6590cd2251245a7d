//! `cargo xtask test`: every check CI runs, as named stages.
//!
//! Stages run in order and a failure does not stop the independent ones after it
//! (one run shows every problem); a stage whose inputs failed is skipped and says
//! why. The last line is `xtask: N passed, M failed[, K skipped]` so both people
//! and CI log readers get the verdict in one place.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::paths::Paths;
use crate::{cmd, setup, web};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    All,
    BrowserOnly,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    Setup,
    Fmt,
    Clippy,
    ClippyWasm,
    CoreNoStd,
    CargoTest,
    Netns,
    BuildWeb,
    Daemon,
    Browser,
}

impl Stage {
    fn title(self) -> &'static str {
        match self {
            Stage::Setup => "setup (toolchain, wasm-bindgen, node tools, chromium)",
            Stage::Fmt => "rustfmt check",
            Stage::Clippy => "clippy, native, all targets, -D warnings",
            Stage::ClippyWasm => "clippy, wasm32 crates, -D warnings",
            Stage::CoreNoStd => "starling-core builds no_std for wasm32",
            Stage::CargoTest => "cargo test --workspace, and the wasm crate's prover tests",
            Stage::Netns => "hosts in network namespaces: a link cut and restored (root)",
            Stage::BuildWeb => "build-web (site + pkg)",
            Stage::Daemon => {
                "build the starling daemon, the lying sequencer and the proving fixture"
            }
            Stage::Browser => "browser end-to-end and wasm/native proof tests (node --test)",
        }
    }

    /// Stages whose failure makes this one pointless.
    fn needs(self) -> &'static [Stage] {
        match self {
            Stage::Setup => &[],
            Stage::BuildWeb => &[Stage::Setup],
            Stage::Browser => &[Stage::Setup, Stage::BuildWeb, Stage::Daemon],
            _ => &[Stage::Setup],
        }
    }
}

enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

pub fn run(paths: &Paths, suite: Suite) -> Result<(), String> {
    let stages: &[Stage] = match suite {
        Suite::All => &[
            Stage::Setup,
            Stage::Fmt,
            Stage::Clippy,
            Stage::ClippyWasm,
            Stage::CoreNoStd,
            Stage::CargoTest,
            Stage::Netns,
            Stage::BuildWeb,
            Stage::Daemon,
            Stage::Browser,
        ],
        Suite::BrowserOnly => &[Stage::Setup, Stage::BuildWeb, Stage::Daemon, Stage::Browser],
    };
    let started = Instant::now();
    let mut results: Vec<(Stage, Outcome, Duration)> = Vec::new();
    for (i, &stage) in stages.iter().enumerate() {
        println!("\n==> [{}/{}] {}", i + 1, stages.len(), stage.title());
        let blocked = stage.needs().iter().find(|need| {
            results.iter().any(|(s, outcome, _)| s == *need && !matches!(outcome, Outcome::Passed))
        });
        let t = Instant::now();
        let outcome = match blocked {
            Some(need) => Outcome::Skipped(format!("needs `{}`", need.title())),
            None if stage == Stage::Netns && !is_root() => {
                Outcome::Skipped("needs root to create network namespaces (CI runs as root)".into())
            }
            None => match run_stage(paths, stage) {
                Ok(()) => Outcome::Passed,
                Err(e) => Outcome::Failed(e),
            },
        };
        let took = t.elapsed();
        match &outcome {
            Outcome::Passed => println!("    ok ({:.1}s)", took.as_secs_f64()),
            Outcome::Failed(e) => println!("    FAILED ({:.1}s): {e}", took.as_secs_f64()),
            Outcome::Skipped(why) => println!("    skipped: {why}"),
        }
        results.push((stage, outcome, took));
    }

    println!("\nxtask test summary ({:.0}s in all):", started.elapsed().as_secs_f64());
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (stage, outcome, took) in &results {
        let (mark, note) = match outcome {
            Outcome::Passed => {
                passed += 1;
                ("ok     ", String::new())
            }
            Outcome::Failed(e) => {
                failed += 1;
                ("FAILED ", format!(": {e}"))
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                ("skipped", format!(": {why}"))
            }
        };
        println!("  {mark} {:>6.1}s  {}{note}", took.as_secs_f64(), stage.title());
    }
    let not_passed: Vec<&str> = results
        .iter()
        .filter(|(_, o, _)| !matches!(o, Outcome::Passed))
        .map(|(s, _, _)| s.title())
        .collect();
    if !not_passed.is_empty() {
        println!("not passed: {}", not_passed.join("; "));
    }
    // Last, alone on its line, so log readers (people and CI) find the verdict.
    let skipped_note = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
    println!("xtask: {passed} passed, {failed} failed{skipped_note}");
    if not_passed.is_empty() {
        Ok(())
    } else {
        // Already reported above; an empty message tells `main` to add nothing.
        Err(String::new())
    }
}

fn run_stage(paths: &Paths, stage: Stage) -> Result<(), String> {
    let cargo = || {
        let mut c = cmd::cargo();
        c.current_dir(&paths.repo);
        c
    };
    // Clippy over `args`, every warning an error.
    let clippy =
        |args: &[&str]| cmd::run(cargo().arg("clippy").args(args).args(["--", "-D", "warnings"]));
    match stage {
        Stage::Setup => setup::run(paths),
        Stage::Fmt => cmd::run(cargo().args(["fmt", "--all", "--check"])),
        Stage::Clippy => clippy(&["--workspace", "--all-targets"]).and_then(|()| {
            // The wasm crate's prover code, its tests and the proving fixture
            // need features no workspace member turns on.
            clippy(&["-p", "starling-wasm", "--all-targets", "--features", "test-chain,prover"])
        }),
        // The browser crates' wasm-only code (the Leptos view, the JS bindings) is
        // compiled only for wasm32, so the native pass above never sees it.
        Stage::ClippyWasm => {
            clippy(&[
                "--target",
                setup::WASM_TARGET,
                "-p",
                "starling-wasm",
                "-p",
                "starling-web-ui",
            ])
            .and_then(|()| {
                // The prover module (a build of its own, see web.rs).
                clippy(&[
                    "--target",
                    setup::WASM_TARGET,
                    "-p",
                    "starling-wasm",
                    "--features",
                    "prover",
                ])
            })
        }
        // Proves the core has no std dependency creeping in: the browser and the
        // proving workers build it exactly like this.
        Stage::CoreNoStd => cmd::run(cargo().args([
            "build",
            "-p",
            "starling-core",
            "--target",
            setup::WASM_TARGET,
            "--no-default-features",
        ])),
        Stage::CargoTest => cmd::run(cargo().args(["test", "--workspace"])).and_then(|()| {
            // The wasm crate's proving tests, which need its `prover` feature.
            cmd::run(cargo().args([
                "test",
                "-p",
                "starling-wasm",
                "--features",
                "test-chain,prover",
                "--lib",
                "proving",
            ]))
        }),
        // Ignored by a plain `cargo test` (it needs root and iproute2).
        Stage::Netns => cmd::run(cargo().args([
            "test",
            "-p",
            "starling-node",
            "--test",
            "netns",
            "--",
            "--ignored",
        ])),
        Stage::BuildWeb => web::build(paths).map(|_| ()),
        Stage::Daemon => cmd::run(cargo().args(["build", "-p", "starling-node"])).and_then(|()| {
            // The browser tests' dishonest peer (wasm/examples/lying_sequencer.rs)
            // and the native prover/verifier the wasm prover's proofs are
            // checked against (wasm/examples/proving_fixture.rs), in one build.
            cmd::run(cargo().args([
                "build",
                "-p",
                "starling-wasm",
                "--features",
                "test-chain,prover",
                "--example",
                "lying_sequencer",
                "--example",
                "proving_fixture",
            ]))
        }),
        Stage::Browser => browser_tests(paths),
    }
}

/// Whether this process runs as root (network namespaces need it).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs every `tests/browser/*.test.mjs` with Node's test runner against the debug
/// daemon, the lying sequencer, the proving fixture and the freshly built site
/// (which holds the prover module).
fn browser_tests(paths: &Paths) -> Result<(), String> {
    let dir = paths.repo.join("tests").join("browser");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.test.mjs files in {}", dir.display()));
    }
    let daemon = std::env::var_os("STARLING_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| paths.daemon("debug"));
    let chromium = std::env::var_os("CHROMIUM").unwrap_or_else(|| setup::DEFAULT_CHROMIUM.into());
    cmd::run(
        Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .args(&files)
            .current_dir(&paths.repo)
            .env("STARLING_BIN", daemon)
            .env("STARLING_WEB_DIR", paths.site())
            .env(
                "LYING_SEQUENCER",
                paths.target.join("debug").join("examples").join("lying_sequencer"),
            )
            .env(
                "PROVING_FIXTURE",
                paths.target.join("debug").join("examples").join("proving_fixture"),
            )
            .env("CHROMIUM", chromium),
    )
}
