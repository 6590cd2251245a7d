//! `cargo xtask build-web`: the browser build.
//!
//! Four steps, each with a pinned tool:
//! 1. cargo builds `starling-web-ui` (the Leptos page) and `starling-wasm` (the JS
//!    package) for `wasm32-unknown-unknown` in release mode, with simd128 on (see
//!    `.cargo/config.toml`);
//! 2. `wasm-bindgen --target web` generates the ES-module glue that loads them;
//! 3. binaryen's `wasm-opt -O2` from npm shrinks and speeds up the modules (Debian's
//!    older binaryen miscompiles this output, hence the npm one);
//! 4. `www/*` (the HTML shell, styles and the proving worker) is copied next to
//!    the page's module.
//!
//! The block prover is a module of its own, `starling_prover.js` +
//! `starling_prover_bg.wasm` in the site, loaded only by the proving Web
//! Workers (`www/prover-worker.js`). It is `starling-wasm` built a second time
//! with its `prover` feature, in a cargo run of its own: in the same run as the
//! page, cargo would unify the feature into the `starling-core` the page links,
//! and every visitor would download stwo's prover. Both builds use the same
//! `.cargo/config.toml` flags, so the prover gets simd128 too (stwo's SIMD
//! backend is about 4x slower without it; see ../shared/DESIGN.md).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::paths::Paths;
use crate::{cmd, setup};

/// The features rustc enables for our wasm32 build: the target's defaults since
/// Rust 1.82 plus simd128 from `.cargo/config.toml`. wasm-opt must be told, or it
/// refuses (or worse, lowers) instructions it thinks are unavailable.
const WASM_FEATURES: &[&str] = &[
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Builds the site and the JS package; returns the site directory.
pub fn build(paths: &Paths) -> Result<PathBuf, String> {
    let started = Instant::now();
    let site = paths.site();
    let (wasm_bindgen, wasm_opt) = web_tools(paths)?;

    println!("build-web: compiling starling-web-ui and starling-wasm for wasm32 (release)");
    let out = wasm_release(paths, &["-p", "starling-web-ui", "-p", "starling-wasm"])?;

    // A clean site dir, so files dropped from www/ do not linger in what is served.
    if site.exists() {
        std::fs::remove_dir_all(&site).map_err(|e| format!("clearing {}: {e}", site.display()))?;
    }
    println!("build-web: wasm-bindgen + wasm-opt -> {}", site.display());
    // The page is a binary crate (its `main` mounts the app), so its artifact keeps
    // the package's hyphens.
    bind(&wasm_bindgen, &out.join("starling-web-ui.wasm"), &site, "starling_web_ui", false)?;
    optimise(&wasm_opt, &site.join("starling_web_ui_bg.wasm"))?;
    cmd::copy_dir(&paths.repo.join("www"), &site)?;

    let pkg = paths.repo.join("pkg");
    println!("build-web: JS package of starling-wasm -> {}", pkg.display());
    bind(&wasm_bindgen, &out.join("starling_wasm.wasm"), &pkg, "starling_wasm", true)?;
    optimise(&wasm_opt, &pkg.join("starling_wasm_bg.wasm"))?;

    // After the package is bound: this rebuild replaces starling_wasm.wasm.
    let prover = prover_module(paths, &site)?;

    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len() / 1024).unwrap_or(0);
    println!(
        "build-web: site ready in {:.1}s ({} KiB of wasm for the page, {} KiB for the prover) at {}",
        started.elapsed().as_secs_f64(),
        size(&site.join("starling_web_ui_bg.wasm")),
        size(&prover),
        site.display()
    );
    Ok(site)
}

/// Builds the prover module (`starling-wasm` with `prover`, release, wasm32)
/// into `out_dir` as `starling_prover.js` and `starling_prover_bg.wasm`;
/// returns the path of the latter.
pub fn prover_module(paths: &Paths, out_dir: &Path) -> Result<PathBuf, String> {
    let (wasm_bindgen, wasm_opt) = web_tools(paths)?;
    println!("build-web: compiling the prover module (starling-wasm, feature prover) for wasm32");
    let built = wasm_release(paths, &["-p", "starling-wasm", "--features", "prover"])?
        .join("starling_wasm.wasm");
    bind(&wasm_bindgen, &built, out_dir, "starling_prover", false)?;
    let module = out_dir.join("starling_prover_bg.wasm");
    optimise(&wasm_opt, &module)?;
    Ok(module)
}

/// Builds `packages` (cargo's `-p`/`--features` arguments) for wasm32 in
/// release; returns the directory their artifacts are in.
fn wasm_release(paths: &Paths, packages: &[&str]) -> Result<PathBuf, String> {
    cmd::run(
        cmd::cargo()
            .current_dir(&paths.repo)
            .args(["build", "--release", "--target", setup::WASM_TARGET].iter().chain(packages)),
    )?;
    Ok(paths.target.join(setup::WASM_TARGET).join("release"))
}

/// wasm-bindgen and wasm-opt, which `cargo xtask setup` installs.
fn web_tools(paths: &Paths) -> Result<(PathBuf, PathBuf), String> {
    let wasm_bindgen = cmd::find_program("wasm-bindgen")
        .ok_or("wasm-bindgen is not installed; run `cargo xtask setup`")?;
    let wasm_opt = paths.node_bin("wasm-opt");
    if !cmd::is_executable(&wasm_opt) {
        return Err(format!("{} is missing; run `cargo xtask setup`", wasm_opt.display()));
    }
    Ok((wasm_bindgen, wasm_opt))
}

fn bind(
    wasm_bindgen: &Path,
    wasm: &Path,
    out_dir: &Path,
    name: &str,
    typescript: bool,
) -> Result<(), String> {
    let mut command = Command::new(wasm_bindgen);
    command.args(["--target", "web", "--out-name", name, "--out-dir"]).arg(out_dir);
    if !typescript {
        command.arg("--no-typescript");
    }
    cmd::run(command.arg(wasm))
}

fn optimise(wasm_opt: &Path, module: &Path) -> Result<(), String> {
    cmd::run(
        Command::new(wasm_opt).arg("-O2").args(WASM_FEATURES).arg(module).arg("-o").arg(module),
    )
}
