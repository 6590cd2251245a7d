//! Password-based key derivation: scrypt (written and read) and PBKDF2-HMAC-SHA256
//! (read only), with the cost bounds that keep a hostile file from stalling a host.

use super::KeystoreError;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of the derived key: 16 bytes of AES-128 key, then 16 bytes of MAC key.
pub(super) const DKLEN: usize = 32;

/// scrypt cost parameters, as `encrypt` writes them: `n = 2^log_n`, block size `r`,
/// parallelism `p`.
///
/// Stored as `log_n` because scrypt requires `n` to be a power of two; the file holds
/// `n` itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Base-2 logarithm of the CPU/memory cost `n`.
    pub log_n: u8,
    /// Block size; memory use is `128 · r · n` bytes.
    pub r: u32,
    /// Parallelism; the work is repeated `p` times.
    pub p: u32,
}

impl KdfParams {
    /// `n = 2^13, r = 8, p = 1`: the defaults of starkli and of the `eth-keystore` crate
    /// it writes keystores with, so files made by either tool look alike. Deriving
    /// costs 8 MiB and tens of milliseconds natively, a little more in a browser.
    pub const STANDARD: Self = Self { log_n: 13, r: 8, p: 1 };

    /// `n = 2^10, r = 8, p = 1`: eight times cheaper than [`STANDARD`](Self::STANDARD).
    ///
    /// **For tests only.** It makes a password eight times cheaper to guess; nothing
    /// that protects a real key should use it.
    pub const LIGHT: Self = Self { log_n: 10, r: 8, p: 1 };

    /// `n`, the value the file stores.
    pub fn n(&self) -> u64 {
        1u64 << self.log_n
    }

    /// Checks the rules of RFC 7914 §2 that the scrypt implementation enforces too:
    /// `1 ≤ log_n < 16·r` (so `n < 2^(128·r/8)`), `r ≥ 1`, `p ≥ 1`, `r·p < 2^30`.
    ///
    /// `field` names the file field to blame when these come from a file.
    pub(super) fn check_rfc7914(&self) -> Result<(), KeystoreError> {
        let invalid = |field, reason| Err(KeystoreError::InvalidField { field, reason });
        if self.r == 0 {
            return invalid("crypto.kdfparams.r", "must be at least 1");
        }
        if self.p == 0 {
            return invalid("crypto.kdfparams.p", "must be at least 1");
        }
        if self.log_n == 0 {
            return invalid("crypto.kdfparams.n", "must be at least 2");
        }
        if u64::from(self.log_n) >= 16 * u64::from(self.r) {
            return invalid(
                "crypto.kdfparams.n",
                "must be below 2^(16·r) (RFC 7914); this file's r is too small for its n",
            );
        }
        if u64::from(self.r) * u64::from(self.p) >= 1 << 30 {
            return invalid("crypto.kdfparams.p", "r·p must be below 2^30 (RFC 7914)");
        }
        Ok(())
    }

    /// Bytes scrypt allocates: the `n`-entry table (`128·r·n`), the `p` lanes
    /// (`128·r·p`) and one scratch block (`128·r`). Saturates rather than overflows.
    pub fn memory_bytes(&self) -> u64 {
        let block = 128u128 * u128::from(self.r);
        let blocks = u128::from(self.n()) + u128::from(self.p) + 1;
        u64::try_from(block * blocks).unwrap_or(u64::MAX)
    }

    /// Work in units of one 128-byte block mix: scrypt runs `2·n` mixes of `r` blocks
    /// for each of `p` lanes, so `n·r·p` up to a constant. Saturates.
    pub fn work(&self) -> u64 {
        let work = u128::from(self.n()) * u128::from(self.r) * u128::from(self.p);
        u64::try_from(work).unwrap_or(u64::MAX)
    }
}

/// Upper bounds on the key-derivation cost a file may demand before [`decrypt`]
/// (or [`decrypt_with_limits`]) agrees to run it.
///
/// A keystore file chooses its own KDF cost, and the cost is paid before the MAC can
/// say anything, so without bounds a file with `n = 2^30` would ask a browser tab for
/// 1 TiB, and one with `p = 2^20` would spin for hours. The bounds are checked before
/// any derivation starts.
///
/// [`decrypt`]: super::decrypt
/// [`decrypt_with_limits`]: super::decrypt_with_limits
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecryptLimits {
    /// Largest scrypt `log2(n)` accepted.
    pub max_scrypt_log_n: u8,
    /// Largest scrypt allocation accepted, in bytes (see [`KdfParams::memory_bytes`]).
    pub max_scrypt_memory: u64,
    /// Largest scrypt work accepted (see [`KdfParams::work`]).
    pub max_scrypt_work: u64,
    /// Largest PBKDF2 iteration count `c` accepted.
    pub max_pbkdf2_rounds: u32,
}

impl DecryptLimits {
    /// What [`decrypt`](super::decrypt) uses: safe for a browser tab on a phone.
    ///
    /// - `n ≤ 2^20`;
    /// - memory ≤ 65 MiB (a 64 MiB table plus lane buffers: `n = 2^16` at `r = 8`,
    ///   eight times starkli's default);
    /// - work ≤ `2^21` (32 times starkli's default; about a second natively);
    /// - PBKDF2 `c ≤ 2^20` (four times the 262,144 that geth and the definition's
    ///   example use).
    ///
    /// Files written by geth with its "standard" scrypt cost (`n = 2^18, r = 8`,
    /// 256 MiB) exceed this; a host with memory to spare opens them with
    /// [`NATIVE`](Self::NATIVE).
    pub const DEFAULT: Self = Self {
        max_scrypt_log_n: 20,
        max_scrypt_memory: (64 << 20) + (1 << 20),
        max_scrypt_work: 1 << 21,
        max_pbkdf2_rounds: 1 << 20,
    };

    /// For native hosts (the daemon, the CLI) that may spend up to 1 GiB and several
    /// seconds once, when a user imports a key: admits geth's "standard" cost and
    /// `n = 2^20` at `r = 8`.
    pub const NATIVE: Self = Self {
        max_scrypt_log_n: 20,
        max_scrypt_memory: (1 << 30) + (16 << 20),
        max_scrypt_work: 1 << 24,
        max_pbkdf2_rounds: 1 << 22,
    };

    /// `Ok` when deriving `kdf` stays within these limits.
    pub(super) fn admit(&self, kdf: &Kdf) -> Result<(), KeystoreError> {
        let over = |what, value: u64, max: u64| {
            if value > max { Err(KeystoreError::CostTooHigh { what, value, max }) } else { Ok(()) }
        };
        match kdf {
            Kdf::Scrypt(params) => {
                over("scrypt log2(n)", params.log_n.into(), self.max_scrypt_log_n.into())?;
                over("scrypt memory in bytes", params.memory_bytes(), self.max_scrypt_memory)?;
                over("scrypt work n·r·p", params.work(), self.max_scrypt_work)
            }
            Kdf::Pbkdf2 { rounds } => {
                over("PBKDF2 iterations", (*rounds).into(), self.max_pbkdf2_rounds.into())
            }
        }
    }
}

impl Default for DecryptLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The key-derivation function a file names, with its cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kdf {
    /// scrypt (RFC 7914), what Starling, starkli and geth write.
    Scrypt(KdfParams),
    /// PBKDF2 with HMAC-SHA256 (RFC 8018), which the definition requires readers to
    /// accept; Starling never writes it.
    Pbkdf2 {
        /// The iteration count `c`.
        rounds: u32,
    },
}

impl Kdf {
    /// The name the file's `crypto.kdf` field carries.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Scrypt(_) => "scrypt",
            Self::Pbkdf2 { .. } => "pbkdf2",
        }
    }

    /// Derives the 32-byte key from `password` and `salt`.
    ///
    /// The caller has already validated the parameters (structure and
    /// [`DecryptLimits`]); an error here can only mean a platform whose `usize` cannot
    /// hold the sizes, which is reported as a cost problem.
    pub(super) fn derive(
        &self,
        password: &[u8],
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; DKLEN]>, KeystoreError> {
        let mut key = Zeroizing::new([0u8; DKLEN]);
        match self {
            Self::Scrypt(params) => {
                let too_big = || KeystoreError::CostTooHigh {
                    what: "scrypt memory in bytes",
                    value: params.memory_bytes(),
                    max: usize::MAX as u64,
                };
                let scrypt_params = scrypt::Params::new(params.log_n, params.r, params.p, DKLEN)
                    .map_err(|_| too_big())?;
                scrypt::scrypt(password, salt, &scrypt_params, key.as_mut())
                    .map_err(|_| too_big())?;
            }
            Self::Pbkdf2 { rounds } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *rounds, key.as_mut());
            }
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The standard parameters are the ones starkli writes (`n = 8192, r = 8, p = 1`),
    /// and both presets open under the default limits, so anything `encrypt` writes
    /// with them can be opened in a browser.
    #[test]
    fn presets_match_starkli_and_fit_default_limits() {
        assert_eq!(
            (KdfParams::STANDARD.n(), KdfParams::STANDARD.r, KdfParams::STANDARD.p),
            (8192, 8, 1)
        );
        assert_eq!(KdfParams::LIGHT.n(), 1024);
        for params in [KdfParams::STANDARD, KdfParams::LIGHT] {
            params.check_rfc7914().unwrap();
            DecryptLimits::DEFAULT.admit(&Kdf::Scrypt(params)).unwrap();
        }
        // 8 MiB table + one lane + scratch.
        assert_eq!(KdfParams::STANDARD.memory_bytes(), 128 * 8 * (8192 + 2));
    }

    /// The bounds that protect a browser: `n` above `2^20`, memory above the cap and
    /// work above the cap are each refused, and a legal geth-standard file passes only
    /// the native limits.
    #[test]
    fn limits_refuse_each_kind_of_excess() {
        let scrypt = |log_n, r, p| Kdf::Scrypt(KdfParams { log_n, r, p });
        let limits = DecryptLimits::DEFAULT;
        let what = |kdf| match limits.admit(&kdf) {
            Err(KeystoreError::CostTooHigh { what, .. }) => what,
            other => panic!("expected CostTooHigh, got {other:?}"),
        };
        assert_eq!(what(scrypt(21, 1, 1)), "scrypt log2(n)");
        assert_eq!(what(scrypt(17, 8, 1)), "scrypt memory in bytes");
        assert_eq!(what(scrypt(14, 8, 64)), "scrypt work n·r·p");
        assert_eq!(what(Kdf::Pbkdf2 { rounds: (1 << 20) + 1 }), "PBKDF2 iterations");

        let geth_standard = scrypt(18, 8, 1);
        assert!(limits.admit(&geth_standard).is_err());
        DecryptLimits::NATIVE.admit(&geth_standard).unwrap();
        DecryptLimits::NATIVE.admit(&scrypt(20, 8, 1)).unwrap();
        assert!(DecryptLimits::NATIVE.admit(&scrypt(21, 8, 1)).is_err());
    }

    /// Costs are computed without overflow even for absurd values a file may carry.
    #[test]
    fn cost_arithmetic_saturates() {
        let absurd = KdfParams { log_n: 63, r: u32::MAX, p: u32::MAX };
        assert_eq!(absurd.memory_bytes(), u64::MAX);
        assert_eq!(absurd.work(), u64::MAX);
    }

    /// RFC 7914's structural rules are enforced with a message naming the field.
    #[test]
    fn rfc7914_rules() {
        let check = |log_n, r, p| KdfParams { log_n, r, p }.check_rfc7914();
        assert!(check(13, 8, 1).is_ok());
        assert!(matches!(
            check(13, 0, 1),
            Err(KeystoreError::InvalidField { field: "crypto.kdfparams.r", .. })
        ));
        assert!(matches!(
            check(13, 8, 0),
            Err(KeystoreError::InvalidField { field: "crypto.kdfparams.p", .. })
        ));
        assert!(matches!(
            check(0, 8, 1),
            Err(KeystoreError::InvalidField { field: "crypto.kdfparams.n", .. })
        ));
        // n = 2^16 needs r ≥ 2.
        assert!(matches!(
            check(16, 1, 1),
            Err(KeystoreError::InvalidField { field: "crypto.kdfparams.n", .. })
        ));
        assert!(check(15, 1, 1).is_ok());
        assert!(check(13, 1 << 15, 1 << 15).is_err());
    }

    /// scrypt output matches RFC 7914 §12's second test vector ("password", "NaCl",
    /// N = 1024, r = 8, p = 16), first 32 bytes, so the derivation is wired up right
    /// independently of the keystore layer.
    #[test]
    fn scrypt_matches_rfc7914_vector() {
        let kdf = Kdf::Scrypt(KdfParams { log_n: 10, r: 8, p: 16 });
        let key = kdf.derive(b"password", b"NaCl").unwrap();
        let expected: Vec<u8> =
            hex::decode("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
                .unwrap();
        assert_eq!(key.as_slice(), expected.as_slice());
    }

    /// PBKDF2-HMAC-SHA256 matches RFC 7914 §11's vector ("passwd", "salt", c = 1),
    /// first 32 bytes.
    #[test]
    fn pbkdf2_matches_rfc7914_vector() {
        let key = Kdf::Pbkdf2 { rounds: 1 }.derive(b"passwd", b"salt").unwrap();
        let expected: Vec<u8> =
            hex::decode("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
                .unwrap();
        assert_eq!(key.as_slice(), expected.as_slice());
    }
}
