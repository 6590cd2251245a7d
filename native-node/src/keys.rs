//! Key files: Web3 secret storage v3 keystores (the format starkli writes), kept in
//! a directory, one `<name>.json` per key.
//!
//! Beside the standard fields, files written here carry `public_key` and `address`
//! at the top level so `keys list` can show them without a password; starkli and
//! other readers ignore unknown fields.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use starling_core::crypto::{SequencerKey, SequencerPublicKey, StarkPublicKey, StarkSecretKey};
use starling_core::keystore::{self, DecryptLimits, KdfParams};

/// Default directory for key files: `$STARLING_HOME/keys`, else `~/.starling/keys`.
pub fn default_keys_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("STARLING_HOME") {
        return PathBuf::from(home).join("keys");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| ".".into());
    home.join(".starling").join("keys")
}

/// Fresh entropy from the operating system.
pub fn entropy<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random source failed");
    out
}

/// The password for a keystore: from `password_file` if given, else the
/// `STARLING_PASSWORD` environment variable, else asked on the terminal.
pub fn password(password_file: Option<&Path>, confirm: bool) -> Result<String> {
    if let Some(path) = password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read password file {}", path.display()))?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_string());
    }
    if let Ok(p) = std::env::var("STARLING_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: pass --password-file, set STARLING_PASSWORD, or run in a terminal");
    }
    let first = rpassword::prompt_password("Keystore password: ")?;
    if confirm && rpassword::prompt_password("Repeat password: ")? != first {
        bail!("the passwords differ");
    }
    Ok(first)
}

fn key_path(dir: &Path, name: &str) -> Result<PathBuf> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!("key names are 1-64 letters, digits, '-' or '_'");
    }
    Ok(dir.join(format!("{name}.json")))
}

/// Adds top-level fields (readers of the standard format ignore them) to keystore
/// JSON, so `keys list` and the unlock check can read them without a password.
fn annotate(json: &str, fields: &[(&str, String)]) -> Result<String> {
    let mut value: Value = serde_json::from_str(json)?;
    for (name, text) in fields {
        value[*name] = Value::from(text.as_str());
    }
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Annotates an account keystore with its public key and address.
fn annotate_account(json: &str, key: &StarkSecretKey) -> Result<String> {
    let public = key.public_key();
    annotate(json, &[("public_key", public.to_string()), ("address", public.address().to_string())])
}

/// Encrypts an account key and annotates the file with its public key and address.
pub fn account_keystore(key: &StarkSecretKey, password: &str, params: KdfParams) -> Result<String> {
    let json = keystore::encrypt(&key.to_bytes(), password.as_bytes(), &entropy(), params);
    annotate_account(&json, key)
}

/// Writes a new file, refusing to overwrite, readable only by its owner.
pub fn write_new(path: &Path, contents: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!("cannot create {} (a key of that name may already exist)", path.display())
    })?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// `starling keys new`: creates and stores a new account key.
pub fn new_key(dir: &Path, name: &str, password_file: Option<&Path>) -> Result<StarkPublicKey> {
    let path = key_path(dir, name)?;
    if path.exists() {
        bail!("a key named {name:?} already exists at {}", path.display());
    }
    let key = StarkSecretKey::from_entropy(&entropy());
    let pass = password(password_file, true)?;
    write_new(&path, &account_keystore(&key, &pass, KdfParams::STANDARD)?)?;
    Ok(key.public_key())
}

/// `starling keys new --sequencer`: creates and stores a new Ed25519 block-signing
/// key, in the same keystore format (the secret is the 32-byte seed).
pub fn new_sequencer_key(
    dir: &Path,
    name: &str,
    password_file: Option<&Path>,
) -> Result<SequencerPublicKey> {
    let path = key_path(dir, name)?;
    if path.exists() {
        bail!("a key named {name:?} already exists at {}", path.display());
    }
    let key = SequencerKey::from_seed(&entropy());
    let pass = password(password_file, true)?;
    write_new(&path, &ed25519_keystore(&key, &pass, KdfParams::STANDARD)?)?;
    Ok(key.public_key())
}

/// Encrypts an Ed25519 key (a sequencer's or a validator's consensus key: the
/// secret is its 32-byte seed) and annotates the file with its public key, the
/// format `starling node --sequencer-key` and `--validator-key` read.
pub fn ed25519_keystore(key: &SequencerKey, password: &str, params: KdfParams) -> Result<String> {
    let json = keystore::encrypt(&key.seed(), password.as_bytes(), &entropy(), params);
    annotate(&json, &[("sequencer_public_key", key.public_key().to_string())])
}

/// Where an imported key comes from.
pub enum ImportSource<'a> {
    /// An existing keystore (e.g. starkli's); copied after it is checked to decrypt.
    Keystore(&'a Path),
    /// A raw hex private key read from standard input.
    PrivateKeyStdin,
}

/// `starling keys import`: stores a key from a keystore file or a raw private key.
pub fn import_key(
    dir: &Path,
    name: &str,
    source: ImportSource<'_>,
    password_file: Option<&Path>,
) -> Result<StarkPublicKey> {
    let path = key_path(dir, name)?;
    let (key, json) = match source {
        ImportSource::Keystore(file) => {
            let json = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let pass = password(password_file, false)?;
            let secret =
                keystore::decrypt_with_limits(&json, pass.as_bytes(), &DecryptLimits::NATIVE)
                    .with_context(|| format!("cannot unlock {}", file.display()))?;
            let key = StarkSecretKey::from_bytes(&secret)
                .map_err(|e| anyhow::anyhow!("the keystore does not hold a Stark key: {e}"))?;
            let json = annotate_account(&json, &key)?;
            (key, json)
        }
        ImportSource::PrivateKeyStdin => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let secret = parse_secret(line.trim())?;
            let key = StarkSecretKey::from_bytes(&secret)
                .map_err(|e| anyhow::anyhow!("not a valid Stark private key: {e}"))?;
            let pass = password(password_file, true)?;
            let json = account_keystore(&key, &pass, KdfParams::STANDARD)?;
            (key, json)
        }
    };
    write_new(&path, &json)?;
    Ok(key.public_key())
}

/// Parses a hex private key of up to 32 bytes (left-padded).
pub fn parse_secret(text: &str) -> Result<[u8; 32]> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 64 {
        bail!("a private key is 1 to 64 hex digits");
    }
    let padded = format!("{digits:0>64}");
    let mut out = [0u8; 32];
    hex::decode_to_slice(&padded, &mut out).context("a private key is hex")?;
    Ok(out)
}

/// One row of `starling keys list`.
pub struct KeyInfo {
    pub name: String,
    pub address: Option<String>,
    pub problem: Option<String>,
}

/// `starling keys list`: every `*.json` in the directory, checked to be a keystore.
pub fn list_keys(dir: &Path) -> Result<Vec<KeyInfo>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        let json = std::fs::read_to_string(&path).unwrap_or_default();
        let problem = keystore::peek(&json).err().map(|e| e.to_string());
        let value = serde_json::from_str::<Value>(&json).ok();
        let field = |name: &str| value.as_ref()?.get(name)?.as_str().map(str::to_string);
        let address = field("address")
            .or_else(|| field("sequencer_public_key").map(|k| format!("{k} (sequencer)")));
        out.push(KeyInfo { name, address, problem });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Resolves `--from`: a key name in `dir`, or a path to a keystore file.
pub fn resolve(dir: &Path, name_or_path: &str) -> Result<PathBuf> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    let path = key_path(dir, name_or_path)?;
    if !path.is_file() {
        bail!("no key named {name_or_path:?} in {} (see `starling keys list`)", dir.display());
    }
    Ok(path)
}

/// Unlocks an account key file.
pub fn unlock_account(path: &Path, password_file: Option<&Path>) -> Result<StarkSecretKey> {
    let (secret, json) = unlock(path, password_file)?;
    let key = StarkSecretKey::from_bytes(&secret)
        .map_err(|e| anyhow::anyhow!("{} does not hold a Stark key: {e}", path.display()))?;
    check_recorded(path, &json, "public_key", &key.public_key().to_string())?;
    Ok(key)
}

/// Unlocks a sequencer or consensus key file (an Ed25519 seed in the same
/// keystore format).
pub fn unlock_sequencer(path: &Path, password_file: Option<&Path>) -> Result<SequencerKey> {
    let (secret, json) = unlock(path, password_file)?;
    let key = SequencerKey::from_seed(&secret);
    check_recorded(path, &json, "sequencer_public_key", &key.public_key().to_string())?;
    Ok(key)
}

/// Reads and decrypts a key file. Files from other tools may use a heavier scrypt
/// cost than the browser allows (geth's standard n = 2^18), so the daemon accepts
/// the native limits.
fn unlock(path: &Path, password_file: Option<&Path>) -> Result<([u8; 32], String)> {
    let json = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let pass = password(password_file, false)?;
    let secret = keystore::decrypt_with_limits(&json, pass.as_bytes(), &DecryptLimits::NATIVE)
        .with_context(|| format!("cannot unlock {}", path.display()))?;
    Ok((secret, json))
}

/// The v3 MAC does not cover the IV, so a file with an altered IV decrypts to a
/// wrong secret without error; the public key recorded beside it catches that.
fn check_recorded(path: &Path, json: &str, field: &str, derived: &str) -> Result<()> {
    let value: Value = serde_json::from_str(json)?;
    match value.get(field).and_then(Value::as_str) {
        Some(recorded) if !recorded.eq_ignore_ascii_case(derived) => bail!(
            "{} decrypts to a key that is not its recorded {field} (the file was altered)",
            path.display()
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_restricted_to_safe_file_names() {
        let dir = Path::new("/tmp");
        assert!(key_path(dir, "alice-1").is_ok());
        assert!(key_path(dir, "../etc/passwd").is_err());
        assert!(key_path(dir, "").is_err());
    }

    #[test]
    fn private_keys_parse_with_or_without_prefix_and_padding() {
        assert_eq!(parse_secret("0x1").unwrap()[31], 1);
        assert_eq!(parse_secret("ff").unwrap()[31], 0xff);
        assert!(parse_secret("xyz").is_err());
        assert!(parse_secret(&"1".repeat(65)).is_err());
    }

    #[test]
    fn written_account_keystores_unlock_and_list_their_address() {
        let dir = tempfile::tempdir().unwrap();
        let key = StarkSecretKey::from_entropy(&[9; 32]);
        let json = account_keystore(&key, "pw", KdfParams::LIGHT).unwrap();
        let path = dir.path().join("k.json");
        write_new(&path, &json).unwrap();
        assert!(write_new(&path, &json).is_err(), "never overwrites a key");
        let back = keystore::decrypt(&json, b"pw").unwrap();
        assert_eq!(back, key.to_bytes());
        let listed = list_keys(dir.path()).unwrap();
        assert_eq!(
            listed[0].address.as_deref(),
            Some(key.public_key().address().to_string().as_str())
        );
        assert!(listed[0].problem.is_none());
    }
}
