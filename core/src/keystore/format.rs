//! The JSON layout of a version-3 keystore: parsing with every field checked, and
//! writing in the layout starkli's `eth-keystore` writes.

use super::kdf::{DKLEN, Kdf, KdfParams};
use super::{KeystoreError, MAX_JSON_LEN};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Longest salt accepted. Writers use 32 bytes; the definition sets no bound, but a
/// salt only needs to be unique, and a bound keeps hostile files small and simple.
pub(super) const MAX_SALT_LEN: usize = 64;

/// A keystore file whose every field has been checked; nothing derived yet.
#[derive(Debug)]
pub(super) struct Checked {
    pub id: String,
    pub kdf: Kdf,
    pub salt: Vec<u8>,
    pub iv: [u8; 16],
    pub ciphertext: [u8; 32],
    pub mac: [u8; 32],
    pub public_key: Option<[u8; 32]>,
}

// ---- Reading -------------------------------------------------------------------------
//
// The raw structs mirror the file loosely (every KDF parameter optional, strings kept
// as strings) so that `check` can say exactly which field is wrong instead of serde's
// generic "data did not match any variant". Unknown fields (geth's `address`, future
// extensions) are ignored, as every other reader does.

#[derive(Deserialize)]
struct RawFile {
    // geth wrote `Crypto` in some versions; eth-keystore accepts both spellings too.
    #[serde(alias = "Crypto")]
    crypto: RawCrypto,
    id: String,
    version: u64,
    #[serde(default)]
    public_key: Option<String>,
}

#[derive(Deserialize)]
struct RawCrypto {
    cipher: String,
    cipherparams: RawCipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: RawKdfParams,
    mac: String,
}

#[derive(Deserialize)]
struct RawCipherParams {
    iv: String,
}

#[derive(Deserialize)]
struct RawKdfParams {
    dklen: u64,
    salt: String,
    // scrypt
    #[serde(default)]
    n: Option<u64>,
    #[serde(default)]
    r: Option<u64>,
    #[serde(default)]
    p: Option<u64>,
    // pbkdf2
    #[serde(default)]
    c: Option<u64>,
    #[serde(default)]
    prf: Option<String>,
}

/// Parses `json` and checks every field: size, version, cipher, KDF and its
/// parameters (structure only; cost limits are the caller's business), hex fields
/// and their exact lengths, the id's UUID form and the optional public key.
pub(super) fn parse(json: &str) -> Result<Checked, KeystoreError> {
    if json.len() > MAX_JSON_LEN {
        return Err(KeystoreError::TooLarge { len: json.len(), max: MAX_JSON_LEN });
    }
    let raw: RawFile = serde_json::from_str(json)
        .map_err(|e| KeystoreError::quoting(KeystoreError::Json, &alloc::format!("{e}")))?;

    if raw.version != 3 {
        return Err(KeystoreError::UnsupportedVersion(raw.version));
    }
    let crypto = raw.crypto;
    if crypto.cipher != "aes-128-ctr" {
        return Err(KeystoreError::quoting(KeystoreError::UnsupportedCipher, &crypto.cipher));
    }
    let kdf = check_kdf(&crypto.kdf, &crypto.kdfparams)?;
    if crypto.kdfparams.dklen != DKLEN as u64 {
        return invalid("crypto.kdfparams.dklen", "must be 32");
    }
    let salt = decode_salt(&crypto.kdfparams.salt)?;
    let iv = decode_exact::<16>("crypto.cipherparams.iv", &crypto.cipherparams.iv)?;
    let ciphertext = decode_exact::<32>("crypto.ciphertext", &crypto.ciphertext)?;
    let mac = decode_exact::<32>("crypto.mac", &crypto.mac)?;
    if !is_uuid(&raw.id) {
        return invalid("id", "must be a UUID (8-4-4-4-12 hex digits)");
    }
    let public_key = raw.public_key.as_deref().map(parse_public_key).transpose()?;

    Ok(Checked { id: raw.id, kdf, salt, iv, ciphertext, mac, public_key })
}

fn check_kdf(name: &str, params: &RawKdfParams) -> Result<Kdf, KeystoreError> {
    match name {
        "scrypt" => {
            let n = params.n.ok_or_else(|| missing("crypto.kdfparams.n"))?;
            let r = params.r.ok_or_else(|| missing("crypto.kdfparams.r"))?;
            let p = params.p.ok_or_else(|| missing("crypto.kdfparams.p"))?;
            if n < 2 || !n.is_power_of_two() {
                return invalid("crypto.kdfparams.n", "must be a power of two, at least 2");
            }
            let too_big = |field| KeystoreError::InvalidField { field, reason: "exceeds 2^32 - 1" };
            let params = KdfParams {
                // n ≤ 2^63, so its log fits in a u8.
                log_n: n.trailing_zeros() as u8,
                r: u32::try_from(r).map_err(|_| too_big("crypto.kdfparams.r"))?,
                p: u32::try_from(p).map_err(|_| too_big("crypto.kdfparams.p"))?,
            };
            params.check_rfc7914()?;
            Ok(Kdf::Scrypt(params))
        }
        "pbkdf2" => {
            let prf = params.prf.as_deref().ok_or_else(|| missing("crypto.kdfparams.prf"))?;
            if prf != "hmac-sha256" {
                return Err(KeystoreError::quoting(KeystoreError::UnsupportedPrf, prf));
            }
            let c = params.c.ok_or_else(|| missing("crypto.kdfparams.c"))?;
            if c == 0 {
                return invalid("crypto.kdfparams.c", "must be at least 1");
            }
            let rounds = u32::try_from(c).map_err(|_| KeystoreError::CostTooHigh {
                what: "PBKDF2 iterations",
                value: c,
                max: u32::MAX.into(),
            })?;
            Ok(Kdf::Pbkdf2 { rounds })
        }
        other => Err(KeystoreError::quoting(KeystoreError::UnsupportedKdf, other)),
    }
}

fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, KeystoreError> {
    Err(KeystoreError::InvalidField { field, reason })
}

fn missing(field: &'static str) -> KeystoreError {
    KeystoreError::InvalidField { field, reason: "is missing" }
}

/// The salt: 1 to [`MAX_SALT_LEN`] bytes of hex. As for every hex field, an optional
/// `0x` prefix (some writers add one) and either case are accepted.
fn decode_salt(text: &str) -> Result<Vec<u8>, KeystoreError> {
    const FIELD: &str = "crypto.kdfparams.salt";
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 2 * MAX_SALT_LEN {
        return invalid(FIELD, "must be 1 to 64 bytes");
    }
    hex::decode(digits).map_err(|_| KeystoreError::InvalidField {
        field: FIELD,
        reason: "must be hex with an even number of digits",
    })
}

/// Hex of exactly `N` bytes; the length is checked before decoding.
fn decode_exact<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N], KeystoreError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 2 * N {
        let reason = match N {
            16 => "must be exactly 16 bytes (32 hex digits)",
            _ => "must be exactly 32 bytes (64 hex digits)",
        };
        return invalid(field, reason);
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out)
        .map_err(|_| KeystoreError::InvalidField { field, reason: "must be hex" })?;
    Ok(out)
}

/// The canonical textual UUID form: 8-4-4-4-12 hex digits. Any version is accepted,
/// since geth's own test vectors carry non-v4 ids.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A Stark public key as `0x` and 1 to 64 hex digits (a field element, so leading
/// zeros may be dropped), to 32 big-endian bytes.
fn parse_public_key(text: &str) -> Result<[u8; 32], KeystoreError> {
    const FIELD: &str = "public_key";
    let bad = || KeystoreError::InvalidField {
        field: FIELD,
        reason: "must be 0x and 1 to 64 hex digits",
    };
    let digits = text.strip_prefix("0x").ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut padded = [b'0'; 64];
    padded[64 - digits.len()..].copy_from_slice(digits.as_bytes());
    let mut out = [0u8; 32];
    hex::decode_to_slice(padded, &mut out).map_err(|_| bad())?;
    Ok(out)
}

// ---- Writing -------------------------------------------------------------------------
//
// Field names and order follow what starkli (through `eth-keystore`) writes, so a file
// from either tool reads the same to a human diffing them.

#[derive(Serialize)]
struct OutFile<'a> {
    crypto: OutCrypto<'a>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<&'a str>,
    version: u8,
}

#[derive(Serialize)]
struct OutCrypto<'a> {
    cipher: &'a str,
    cipherparams: OutCipherParams<'a>,
    ciphertext: &'a str,
    kdf: &'a str,
    kdfparams: OutScryptParams<'a>,
    mac: &'a str,
}

#[derive(Serialize)]
struct OutCipherParams<'a> {
    iv: &'a str,
}

#[derive(Serialize)]
struct OutScryptParams<'a> {
    dklen: usize,
    n: u64,
    p: u32,
    r: u32,
    salt: &'a str,
}

/// What `encrypt` puts in a file.
pub(super) struct Sealed<'a> {
    pub id: &'a str,
    pub params: KdfParams,
    pub salt: &'a [u8],
    pub iv: &'a [u8; 16],
    pub ciphertext: &'a [u8; 32],
    pub mac: &'a [u8; 32],
    pub public_key: Option<&'a [u8; 32]>,
}

/// Compact JSON for `sealed`; all hex lowercase without `0x`, as starkli writes.
pub(super) fn write(sealed: &Sealed<'_>) -> String {
    let salt = hex::encode(sealed.salt);
    let iv = hex::encode(sealed.iv);
    let ciphertext = hex::encode(sealed.ciphertext);
    let mac = hex::encode(sealed.mac);
    let public_key = sealed.public_key.map(|key| alloc::format!("0x{}", hex::encode(key)));
    let file = OutFile {
        crypto: OutCrypto {
            cipher: "aes-128-ctr",
            cipherparams: OutCipherParams { iv: &iv },
            ciphertext: &ciphertext,
            kdf: "scrypt",
            kdfparams: OutScryptParams {
                dklen: DKLEN,
                n: sealed.params.n(),
                p: sealed.params.p,
                r: sealed.params.r,
                salt: &salt,
            },
            mac: &mac,
        },
        id: sealed.id,
        public_key: public_key.as_deref(),
        version: 3,
    };
    // Structs of strings and integers always serialize; only maps with non-string
    // keys or failing `Serialize` impls can make serde_json return an error.
    serde_json::to_string(&file).expect("keystore JSON of plain fields always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UUIDs are recognised by shape alone, and near-misses are refused.
    #[test]
    fn uuid_shape() {
        assert!(is_uuid("3198bc9c-6672-5ab3-d995-4942343ae5b6"));
        assert!(is_uuid("3198BC9C-6672-5AB3-D995-4942343AE5B6"));
        assert!(!is_uuid("3198bc9c66725ab3d9954942343ae5b6"));
        assert!(!is_uuid("3198bc9c-6672-5ab3-d995-4942343ae5b"));
        assert!(!is_uuid("3198bc9c-6672-5ab3-d995-4942343ae5bg"));
        assert!(!is_uuid("3198bc9c-6672-5ab3-d9954-942343ae5b6"));
    }

    /// Public keys may drop leading zeros (felt style) and are left-padded; anything
    /// without `0x`, empty, too long or non-hex is refused.
    #[test]
    fn public_key_forms() {
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(parse_public_key("0x1").unwrap(), one);
        let full = alloc::format!("0x{}", "ab".repeat(32));
        assert_eq!(parse_public_key(&full).unwrap(), [0xab; 32]);
        for bad in ["1", "0x", "0xg1", &alloc::format!("0x1{}", "0".repeat(64))] {
            assert!(parse_public_key(bad).is_err(), "{bad}");
        }
    }

    /// Exact-length hex refuses a byte too few or too many and accepts a `0x` prefix.
    #[test]
    fn exact_hex_lengths() {
        assert!(decode_exact::<16>("f", &"00".repeat(16)).is_ok());
        assert!(decode_exact::<16>("f", &alloc::format!("0x{}", "00".repeat(16))).is_ok());
        assert!(decode_exact::<16>("f", &"00".repeat(15)).is_err());
        assert!(decode_exact::<16>("f", &"00".repeat(17)).is_err());
        assert!(decode_exact::<16>("f", &"zz".repeat(16)).is_err());
    }
}
