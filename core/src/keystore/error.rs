//! Why a keystore file was refused.

use alloc::string::String;
use core::fmt;

/// The longest piece of a hostile file that an error message will quote.
///
/// Values copied from the file (an unknown cipher name, a JSON parser message that
/// echoes a string) are cut to this many bytes so that a 64 KiB file cannot turn one
/// error into a 64 KiB log line or alert box.
const MAX_QUOTED: usize = 96;

/// Everything that can go wrong reading, checking or opening a keystore file.
///
/// Each case is specific enough for a host to tell the user what to do: retype the
/// password ([`WrongPassword`](Self::WrongPassword)), use a different tool for a
/// format Starling does not read (the `Unsupported*` cases), or treat the file as
/// damaged (the rest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeystoreError {
    /// The text is longer than any real keystore; refused before parsing.
    TooLarge {
        /// Length of the input in bytes.
        len: usize,
        /// The most this module reads.
        max: usize,
    },
    /// Not JSON, or a required field is missing or has the wrong JSON type.
    Json(String),
    /// `version` is not 3.
    UnsupportedVersion(u64),
    /// `crypto.cipher` is not `aes-128-ctr`.
    UnsupportedCipher(String),
    /// `crypto.kdf` is neither `scrypt` nor `pbkdf2`.
    UnsupportedKdf(String),
    /// `crypto.kdfparams.prf` of a PBKDF2 file is not `hmac-sha256`.
    UnsupportedPrf(String),
    /// A field is present and of the right JSON type, but its value is not acceptable.
    InvalidField {
        /// The field's path in the file, e.g. `crypto.cipherparams.iv`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key-derivation cost asked for by the file is above the caller's limits,
    /// so deriving the key could exhaust memory or take minutes.
    CostTooHigh {
        /// Which measure of cost is too high.
        what: &'static str,
        /// The file's value.
        value: u64,
        /// The limit it exceeds.
        max: u64,
    },
    /// The MAC does not match: the password is wrong, or the ciphertext, MAC, salt or
    /// KDF parameters were altered (the format cannot tell these apart).
    WrongPassword,
}

impl KeystoreError {
    /// Builds a variant that quotes text from the file, cut to [`MAX_QUOTED`] bytes.
    pub(super) fn quoting(make: fn(String) -> Self, text: &str) -> Self {
        make(truncated(text))
    }
}

/// `text` cut to at most [`MAX_QUOTED`] bytes on a character boundary, with `…`
/// marking a cut.
fn truncated(text: &str) -> String {
    if text.len() <= MAX_QUOTED {
        return String::from(text);
    }
    let mut end = MAX_QUOTED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::from(&text[..end]);
    out.push('…');
    out
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => write!(
                f,
                "keystore file is {len} bytes, more than the {max} bytes any keystore needs"
            ),
            Self::Json(message) => write!(f, "keystore file is not valid keystore JSON: {message}"),
            Self::UnsupportedVersion(version) => {
                write!(f, "keystore version {version} is not supported (only version 3 is)")
            }
            Self::UnsupportedCipher(cipher) => {
                write!(f, "keystore cipher \"{cipher}\" is not supported (only aes-128-ctr is)")
            }
            Self::UnsupportedKdf(kdf) => write!(
                f,
                "keystore key derivation \"{kdf}\" is not supported (only scrypt and pbkdf2 are)"
            ),
            Self::UnsupportedPrf(prf) => write!(
                f,
                "keystore PBKDF2 function \"{prf}\" is not supported (only hmac-sha256 is)"
            ),
            Self::InvalidField { field, reason } => {
                write!(f, "keystore field {field} is invalid: {reason}")
            }
            Self::CostTooHigh { what, value, max } => write!(
                f,
                "keystore key derivation is too expensive to run here: {what} is {value}, \
                 the limit is {max}"
            ),
            Self::WrongPassword => {
                f.write_str("wrong password for this keystore (or the file has been altered)")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for KeystoreError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// A long value from a hostile file is quoted only in part, and cutting never
    /// splits a multi-byte character (which would panic).
    #[test]
    fn quoted_values_are_bounded_and_cut_on_char_boundaries() {
        let long = "é".repeat(1000);
        let KeystoreError::UnsupportedCipher(quoted) =
            KeystoreError::quoting(KeystoreError::UnsupportedCipher, &long)
        else {
            unreachable!()
        };
        assert!(quoted.len() <= MAX_QUOTED + '…'.len_utf8());
        assert!(quoted.ends_with('…'));

        let short = KeystoreError::quoting(KeystoreError::UnsupportedKdf, "argon2");
        assert_eq!(short, KeystoreError::UnsupportedKdf("argon2".into()));
    }

    /// Every case renders a message that names the problem, so hosts can show
    /// `to_string()` to users as is.
    #[test]
    fn messages_name_the_problem() {
        assert!(KeystoreError::WrongPassword.to_string().contains("wrong password"));
        let field = KeystoreError::InvalidField { field: "crypto.mac", reason: "must be 32 bytes" };
        assert_eq!(field.to_string(), "keystore field crypto.mac is invalid: must be 32 bytes");
        let cost = KeystoreError::CostTooHigh { what: "scrypt n", value: 1 << 21, max: 1 << 20 };
        assert!(cost.to_string().contains("2097152"));
    }
}
