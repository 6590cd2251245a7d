//! `cargo xtask demo`: a local devnet serving the freshly built page.

use std::os::unix::process::CommandExt;

use crate::paths::Paths;
use crate::{cmd, setup, web};

pub fn run(paths: &Paths, mut args: Vec<String>) -> Result<(), String> {
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    setup::run(paths)?;
    let site = web::build(paths)?;
    println!("demo: building the starling daemon (release)");
    cmd::run(cmd::cargo().current_dir(&paths.repo).args([
        "build",
        "--release",
        "-p",
        "starling-node",
    ]))?;

    let mut devnet = vec!["devnet".to_owned(), "--web-dir".to_owned(), site.display().to_string()];
    if !has_flag(&args, "--http-port") {
        devnet.extend(["--http-port".to_owned(), "8080".to_owned()]);
    }
    if !has_flag(&args, "--data-dir") {
        // A fresh chain per demo: an old data dir may hold a chain from an older,
        // incompatible build.
        let dir = std::env::temp_dir().join(format!("starling-demo-{}", std::process::id()));
        devnet.extend(["--data-dir".to_owned(), dir.display().to_string()]);
    }
    devnet.extend(args);

    let daemon = paths.daemon("release");
    println!("demo: {} {}", daemon.display(), devnet.join(" "));
    // Replace this process, so Ctrl-C and exit codes go straight to the daemon.
    let error = std::process::Command::new(&daemon).args(&devnet).exec();
    Err(format!("could not start {}: {error}", daemon.display()))
}

/// Whether `flag` was given, as `--flag value` or `--flag=value`.
fn has_flag(args: &[String], flag: &str) -> bool {
    args.iter().any(|a| a == flag || a.strip_prefix(flag).is_some_and(|rest| rest.starts_with('=')))
}
