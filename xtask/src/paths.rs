//! Where things are: the repository, cargo's target dir and the built site.

use std::path::{Path, PathBuf};

/// The directories every command works with, resolved once at start.
pub struct Paths {
    /// The workspace root (the parent of this crate's directory).
    pub repo: PathBuf,
    /// Cargo's target directory: `CARGO_TARGET_DIR` when set (the CI script puts it
    /// outside the clone so builds are cached across clones), else `<repo>/target`.
    pub target: PathBuf,
}

impl Paths {
    pub fn discover() -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root")
            .to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            // Cargo reads a relative CARGO_TARGET_DIR against its working directory;
            // `cargo xtask` runs from there too, so resolve it the same way.
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir().map(|cwd| cwd.join(&dir)).unwrap_or(dir)
                }
            }
            _ => repo.join("target"),
        };
        Self { repo, target }
    }

    /// The static site the daemon serves: wasm-bindgen output plus `www/*`.
    pub fn site(&self) -> PathBuf {
        self.target.join("site")
    }

    /// Local Node tools installed by `npm ci` from the root package.json.
    pub fn node_bin(&self, tool: &str) -> PathBuf {
        self.repo.join("node_modules").join(".bin").join(tool)
    }

    /// The daemon binary of the given cargo profile directory (`debug`/`release`).
    pub fn daemon(&self, profile_dir: &str) -> PathBuf {
        self.target.join(profile_dir).join("starling")
    }
}
