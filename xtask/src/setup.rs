//! `cargo xtask setup`: installs or verifies every tool the build and tests use.
//!
//! Each check is cheap and each install happens only when its check fails, so this
//! runs at the start of `demo` and `test` without slowing them down, and on a fresh
//! CI machine it brings everything in from the package registries.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, find_program, probe};
use crate::paths::Paths;

/// wasm-bindgen's CLI must match the `wasm-bindgen` crate version exactly, or the
/// generated JS glue and the wasm module disagree about their interface. libp2p
/// pins the crate to this version, so the workspace pins it too.
pub const WASM_BINDGEN_VERSION: &str = "0.2.108";

pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian's Chromium, which the browser tests drive through playwright-core.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

pub fn run(paths: &Paths) -> Result<(), String> {
    let mut did = Vec::new();
    wasm_target(paths, &mut did)?;
    wasm_bindgen(&mut did)?;
    node_modules(paths, &mut did)?;
    chromium(&mut did)?;
    if did.is_empty() {
        println!(
            "setup: tools present (wasm32 target, wasm-bindgen {WASM_BINDGEN_VERSION}, node_modules, chromium)"
        );
    } else {
        println!("setup: installed {}", did.join(", "));
    }
    Ok(())
}

/// rust-toolchain.toml lists the wasm32 target, so rustup normally installs it with
/// the toolchain; this catches a toolchain installed before the target was listed.
fn wasm_target(paths: &Paths, did: &mut Vec<&'static str>) -> Result<(), String> {
    let installed = probe(
        Command::new("rustup").args(["target", "list", "--installed"]).current_dir(&paths.repo),
    )
    .ok_or("`rustup target list --installed` failed: is rustup installed and on PATH?")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    println!("setup: adding the {WASM_TARGET} target to the pinned toolchain");
    cmd::run(Command::new("rustup").args(["target", "add", WASM_TARGET]).current_dir(&paths.repo))?;
    did.push("the wasm32 target");
    Ok(())
}

fn wasm_bindgen(did: &mut Vec<&'static str>) -> Result<(), String> {
    if let Some(found) = installed_wasm_bindgen_version()
        && found == WASM_BINDGEN_VERSION
    {
        return Ok(());
    }
    println!("setup: installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (a few minutes, once)");
    cmd::run(cmd::cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        WASM_BINDGEN_VERSION,
        "--locked",
        "--force",
    ]))?;
    match installed_wasm_bindgen_version() {
        Some(v) if v == WASM_BINDGEN_VERSION => {
            did.push("wasm-bindgen-cli");
            Ok(())
        }
        other => Err(format!(
            "installed wasm-bindgen-cli but `wasm-bindgen --version` reports {other:?}; \
             is another wasm-bindgen earlier on PATH?"
        )),
    }
}

/// The version `wasm-bindgen --version` prints (`wasm-bindgen 0.2.108`), if any.
pub fn installed_wasm_bindgen_version() -> Option<String> {
    let program = find_program("wasm-bindgen")?;
    let out = probe(Command::new(program).arg("--version"))?;
    out.split_whitespace().nth(1).map(str::to_owned)
}

/// `npm ci` whenever node_modules does not match package-lock.json. After a
/// successful install the lockfile is copied into node_modules as a stamp; a
/// byte-for-byte comparison with it is exact and costs nothing.
fn node_modules(paths: &Paths, did: &mut Vec<&'static str>) -> Result<(), String> {
    let lock_path = paths.repo.join("package-lock.json");
    let stamp_path = paths.repo.join("node_modules").join(".starling-package-lock.json");
    let lock =
        std::fs::read(&lock_path).map_err(|e| format!("reading {}: {e}", lock_path.display()))?;
    let tools_present =
        ["wasm-opt", "playwright-core"].iter().all(|t| cmd::is_executable(&paths.node_bin(t)));
    if tools_present && std::fs::read(&stamp_path).ok().as_deref() == Some(lock.as_slice()) {
        return Ok(());
    }
    if find_program("npm").is_none() {
        return Err(
            "npm is not on PATH; install Node.js 20 or later (Debian: apt-get install nodejs npm)"
                .into(),
        );
    }
    println!("setup: installing the Node tools pinned in package-lock.json");
    // The committed .npmrc keeps registry addresses out of the lockfile; `npm ci`
    // installs exactly what the lockfile names and never rewrites it.
    cmd::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&paths.repo),
    )?;
    std::fs::write(&stamp_path, &lock)
        .map_err(|e| format!("writing {}: {e}", stamp_path.display()))?;
    did.push("node_modules");
    Ok(())
}

fn chromium(did: &mut Vec<&'static str>) -> Result<(), String> {
    if let Some(custom) = std::env::var_os("CHROMIUM") {
        return if cmd::is_executable(Path::new(&custom)) {
            Ok(())
        } else {
            Err(format!("CHROMIUM={} is not an executable file", Path::new(&custom).display()))
        };
    }
    if cmd::is_executable(Path::new(DEFAULT_CHROMIUM)) {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "{DEFAULT_CHROMIUM} is missing; install Debian's chromium \
             (sudo apt-get install chromium) or set CHROMIUM to a Chromium binary"
        ));
    }
    println!("setup: installing Debian's chromium for the browser tests");
    let apt = |args: &[&str]| {
        cmd::run(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "chromium"])?;
    did.push("chromium");
    Ok(())
}

fn is_root() -> bool {
    probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}
