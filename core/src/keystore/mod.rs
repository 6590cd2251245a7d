//! Encrypted key files: the Web3 Secret Storage format, version 3.
//!
//! One format for every place a Starling secret key rests: files the daemon and
//! `starling keys new|import|list` keep on disk, and the entries the browser build
//! keeps in browser storage. It is the format starkli writes (through the
//! `eth-keystore` crate), so keys move between starkli and Starling as files, and the
//! format every Ethereum wallet has read since 2015, so it is well understood:
//!
//! ```json
//! {"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"…16 bytes…"},
//!   "ciphertext":"…32 bytes…","kdf":"scrypt",
//!   "kdfparams":{"dklen":32,"n":8192,"p":1,"r":8,"salt":"…32 bytes…"},
//!   "mac":"…32 bytes…"},
//!  "id":"…uuid v4…","version":3}
//! ```
//!
//! - `derived = scrypt(password, salt, n, r, p, 32)` (files from other tools may use
//!   PBKDF2-HMAC-SHA256 instead; [`decrypt`] reads those too);
//! - `ciphertext = AES-128-CTR(key = derived[0..16], counter = iv)(secret)`, with a
//!   128-bit big-endian counter;
//! - `mac = keccak256(derived[16..32] ‖ ciphertext)`, compared in constant time.
//!
//! All hex is lowercase without `0x` when written; a `0x` prefix is tolerated when read.
//!
//! **Passwords are bytes.** Hosts pass the UTF-8 bytes of what the user typed, without
//! Unicode normalisation, which is what starkli does; a password typed with a
//! different normalisation (some wallets apply NFKC) is a different password.
//!
//! **No randomness here.** The host supplies 48 bytes of fresh entropy per file (salt
//! and IV), as for everything else in this crate.
//!
//! **Hostile files.** A keystore names its own KDF cost, and that cost is paid before
//! the MAC can reject anything, so [`decrypt`] refuses files above
//! [`DecryptLimits::DEFAULT`] (and any input over [`MAX_JSON_LEN`]) before deriving;
//! every field is checked for type and exact length first.
//!
//! **What the MAC does not cover.** Version 3 authenticates the ciphertext (and,
//! through the derived key, the password, salt and KDF parameters) but not the IV:
//! a file with an altered IV decrypts to a different 32-byte secret without error.
//! Files Starling writes can carry the key's public key (see
//! [`encrypt_with_public_key`]); hosts should compare it with the public key of the
//! decrypted secret, which also catches that case.
//!
//! The optional top-level `"public_key"` field (`0x` + 64 hex digits) is a Starling
//! addition so `keys list` can show a key without its password; starkli and other
//! readers ignore unknown fields, so the file stays compatible.

mod error;
mod format;
mod kdf;

#[cfg(test)]
mod tests;

pub use error::KeystoreError;
pub use kdf::{DecryptLimits, Kdf, KdfParams};

use aes::cipher::{KeyIvInit, StreamCipher};
use alloc::string::String;
use sha3::{Digest, Keccak256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Longest keystore text accepted. A real file is about 500 bytes (a few more with
/// formatting); the bound stops a hostile blob from costing parse time and memory.
pub const MAX_JSON_LEN: usize = 64 * 1024;

/// AES-128 in counter mode with a 128-bit big-endian counter starting at the IV, the
/// definition's `aes-128-ctr`.
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// What [`peek`] tells about a file without its password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeystoreInfo {
    /// The file's `id` (a UUID; v4 for files Starling writes).
    pub id: String,
    /// The key-derivation function and its cost.
    pub kdf: Kdf,
    /// The `public_key` field, if the file carries one (32 big-endian bytes). Not
    /// authenticated: compare it with the decrypted key's public key before trusting it.
    pub public_key: Option<[u8; 32]>,
    /// Whether [`decrypt`] will attempt this file, i.e. its KDF cost is within
    /// [`DecryptLimits::DEFAULT`]. A file that is otherwise valid but too costly can
    /// still be opened with [`decrypt_with_limits`] by a host that can afford it.
    pub within_default_limits: bool,
}

/// Encrypts a 32-byte secret key under `password` into keystore JSON (compact, as
/// starkli writes it), with scrypt at `params`.
///
/// `entropy` must be fresh from a cryptographic RNG for every call: bytes `0..32`
/// become the scrypt salt and `32..48` the AES-CTR IV. Reusing it with the same
/// password reuses the keystream, and XORing two such ciphertexts reveals the XOR of
/// the two secrets. The file's `id` is a UUID v4 derived by hashing the entropy, so it
/// is unique per file and reveals nothing beyond the salt and IV, which are public in
/// the file anyway.
///
/// Use [`KdfParams::STANDARD`]; any params within [`DecryptLimits::DEFAULT`] give a
/// file every Starling host can open.
///
/// # Panics
///
/// If `params` break RFC 7914's rules (`r`, `p` or `log_n` zero, `log_n ≥ 16·r`,
/// `r·p ≥ 2^30`) or need more memory than the platform can address. These are
/// constants chosen by the calling code, not user input.
pub fn encrypt(
    secret: &[u8; 32],
    password: &[u8],
    entropy: &[u8; 48],
    params: KdfParams,
) -> String {
    encrypt_with_public_key(secret, password, entropy, params, None)
}

/// [`encrypt`], adding a top-level `"public_key": "0x…"` field (64 hex digits) that
/// [`peek`] reports, so a key list can show which key a file holds without asking
/// for its password. `public_key` is the caller's business (Starling passes the Stark
/// public key of `secret`); it is not checked against `secret` here and is not
/// covered by the MAC.
///
/// # Panics
///
/// As [`encrypt`].
pub fn encrypt_with_public_key(
    secret: &[u8; 32],
    password: &[u8],
    entropy: &[u8; 48],
    params: KdfParams,
    public_key: Option<&[u8; 32]>,
) -> String {
    if let Err(e) = params.check_rfc7914() {
        panic!("keystore scrypt parameters {params:?} are invalid: {e}");
    }
    let (salt, iv) = entropy.split_at(32);
    let iv: &[u8; 16] = iv.try_into().expect("48 - 32 = 16");
    let kdf = Kdf::Scrypt(params);
    let derived = kdf
        .derive(password, salt)
        .unwrap_or_else(|e| panic!("keystore scrypt parameters {params:?}: {e}"));

    let mut ciphertext = Zeroizing::new(*secret);
    apply_keystream(&derived, iv, &mut ciphertext);
    let mac = mac(&derived, &ciphertext);
    let id = uuid_v4_from(entropy);

    format::write(&format::Sealed {
        id: &id,
        params,
        salt,
        iv,
        ciphertext: &ciphertext,
        mac: &mac,
        public_key,
    })
}

/// Opens keystore JSON with `password`, refusing files whose KDF cost is above
/// [`DecryptLimits::DEFAULT`].
///
/// Everything is checked before the (costly) derivation: the input size, version 3,
/// cipher `aes-128-ctr`, KDF `scrypt` or `pbkdf2`/`hmac-sha256`, `dklen` 32, hex
/// fields of exact length (IV 16 bytes, ciphertext 32, MAC 32, salt 1 to 64), the id's
/// UUID form and the KDF cost. Then the MAC is compared in constant time.
///
/// A wrong password gives [`KeystoreError::WrongPassword`]. See the module docs for
/// the one alteration the format cannot detect (the IV).
pub fn decrypt(json: &str, password: &[u8]) -> Result<[u8; 32], KeystoreError> {
    decrypt_with_limits(json, password, &DecryptLimits::DEFAULT)
}

/// [`decrypt`] with caller-chosen bounds on the KDF cost, for hosts that can afford
/// more than the default: e.g. [`DecryptLimits::NATIVE`] to import a geth keystore
/// written at geth's "standard" cost (256 MiB of scrypt).
pub fn decrypt_with_limits(
    json: &str,
    password: &[u8],
    limits: &DecryptLimits,
) -> Result<[u8; 32], KeystoreError> {
    let file = format::parse(json)?;
    limits.admit(&file.kdf)?;
    let derived = file.kdf.derive(password, &file.salt)?;
    let expected = mac(&derived, &file.ciphertext);
    if !bool::from(expected.ct_eq(&file.mac)) {
        return Err(KeystoreError::WrongPassword);
    }
    let mut secret = file.ciphertext;
    apply_keystream(&derived, &file.iv, &mut secret);
    Ok(secret)
}

/// Checks a keystore file as [`decrypt`] would, without a password and without
/// deriving anything, and says what it holds: for `starling keys list`, or to vet a
/// file before storing it.
///
/// A file whose cost exceeds the default limits is still reported (with
/// `within_default_limits: false`) rather than refused, so a list can say why it
/// cannot be opened here.
pub fn peek(json: &str) -> Result<KeystoreInfo, KeystoreError> {
    let file = format::parse(json)?;
    Ok(KeystoreInfo {
        within_default_limits: DecryptLimits::DEFAULT.admit(&file.kdf).is_ok(),
        id: file.id,
        kdf: file.kdf,
        public_key: file.public_key,
    })
}

/// XORs `data` with the AES-128-CTR keystream keyed by `derived[0..16]` from `iv`;
/// encryption and decryption are the same operation.
fn apply_keystream(derived: &[u8; 32], iv: &[u8; 16], data: &mut [u8; 32]) {
    let key: &[u8; 16] = derived[..16].try_into().expect("32-byte key has a 16-byte half");
    let mut cipher = Aes128Ctr::new(key.into(), iv.into());
    cipher.apply_keystream(data);
}

/// `keccak256(derived[16..32] ‖ ciphertext)`: the definition's MAC. Keccak-256 is
/// Ethereum's pre-standard SHA-3, not FIPS-202 SHA3-256.
fn mac(derived: &[u8; 32], ciphertext: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(&derived[16..]);
    hasher.update(ciphertext);
    hasher.finalize().into()
}

/// A UUID v4 (RFC 9562 §5.4) in its 8-4-4-4-12 text form, from a hash of `entropy`
/// under a domain tag: random where `entropy` is, yet computed without drawing
/// randomness here. The tag keeps the id from being a copy of the salt's bytes.
fn uuid_v4_from(entropy: &[u8; 48]) -> String {
    let digest =
        Keccak256::new().chain_update(b"starling/keystore/id/v1").chain_update(entropy).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    let hex = hex::encode(bytes);
    alloc::format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
