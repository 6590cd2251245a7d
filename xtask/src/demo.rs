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

#[cfg(test)]
mod tests {
    use super::has_flag;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The demo adds its defaults only for flags the user did not give, in either
    /// of clap's spellings, so a user's `--http-port=9000` is never overridden.
    #[test]
    fn user_flags_are_recognised_in_both_spellings() {
        assert!(has_flag(&args(&["--http-port", "9000"]), "--http-port"));
        assert!(has_flag(&args(&["--http-port=9000"]), "--http-port"));
        assert!(!has_flag(&args(&["--http-portx=1"]), "--http-port"));
        assert!(!has_flag(&args(&["--data-dir", "d"]), "--http-port"));
    }
}
