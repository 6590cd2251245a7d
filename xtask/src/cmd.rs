//! Running external programs with readable progress and error messages.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo that started us (cargo sets `CARGO` for `cargo run`), so nested builds
/// use the same toolchain; plain `cargo` otherwise.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
}

/// Prints the command line (indented, shell-like) so a log shows what ran.
fn describe(cmd: &Command) -> String {
    let mut line = shell_word(cmd.get_program());
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&shell_word(arg));
    }
    line
}

fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c));
    if plain { word.into_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// Runs `cmd` with inherited stdio after echoing it; an error names the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let line = describe(cmd);
    println!("    $ {line}");
    let status = cmd.status().map_err(|e| format!("could not start `{line}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{line}` failed ({status})")) }
}

/// Runs `cmd` without echoing and returns its stdout when it exits successfully;
/// `None` when it cannot start or fails. For probes such as `tool --version`.
pub fn probe(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Finds `name` on `PATH`, then in cargo's bin directory (where `cargo install`
/// puts things, which is not always on `PATH` in CI shells).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p));
    on_path.or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        let candidate = cargo_home.join("bin").join(name);
        is_executable(&candidate).then_some(candidate)
    })
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Copies the regular files and directories under `from` into `to`, replacing files
/// of the same name.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("reading {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", from.display()))?;
        let source = entry.path();
        let dest = to.join(entry.file_name());
        if source.is_dir() {
            copy_dir(&source, &dest)?;
        } else {
            std::fs::copy(&source, &dest)
                .map_err(|e| format!("copying {} to {}: {e}", source.display(), dest.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoed command lines must paste back into a shell unchanged.
    #[test]
    fn echoed_commands_quote_what_a_shell_would_split() {
        let mut cmd = Command::new("wasm-opt");
        cmd.args(["-O2", "a b.wasm", "it's", ""]);
        assert_eq!(describe(&cmd), r#"wasm-opt -O2 'a b.wasm' 'it'\''s' ''"#);
    }

    #[test]
    fn copy_dir_copies_nested_files_and_replaces_old_ones() {
        let root = std::env::temp_dir().join(format!("xtask-copy-{}", std::process::id()));
        let (from, to) = (root.join("from"), root.join("to"));
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(from.join("index.html"), "new").unwrap();
        std::fs::write(from.join("sub").join("x.css"), "css").unwrap();
        std::fs::write(to.join("index.html"), "old").unwrap();
        copy_dir(&from, &to).unwrap();
        assert_eq!(std::fs::read_to_string(to.join("index.html")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(to.join("sub").join("x.css")).unwrap(), "css");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
