//! 32-byte digests and account addresses.

use core::fmt;

/// Writes `bytes` as `0x`-prefixed lowercase hex.
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Parses `0x`-prefixed (or bare) hex of exactly 32 bytes.
pub(crate) fn parse_hex32(s: &str) -> Result<[u8; 32], HexError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).map_err(|_| HexError)?;
    Ok(out)
}

/// A string that is not 32 bytes of hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexError;

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected 32 bytes as hex (64 hex digits, optionally 0x-prefixed)")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HexError {}

macro_rules! bytes32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// All zero bytes.
            pub const ZERO: Self = Self([0; 32]);

            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::types::digest::write_hex(f, &self.0)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::types::digest::HexError;
            fn from_str(s: &str) -> Result<Self, $crate::types::digest::HexError> {
                $crate::types::digest::parse_hex32(s).map(Self)
            }
        }

        impl $crate::encoding::Encode for $name {
            fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }

        impl $crate::encoding::Decode for $name {
            fn decode_from(reader: &mut $crate::encoding::Reader<'_>) -> Result<Self, $crate::encoding::DecodeError> {
                reader.array().map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use bytes32;

bytes32! {
    /// A Poseidon2-M31 digest: eight field elements, each a little-endian `u32`
    /// below 2^31 - 1 (see [`crate::hash`]).
    Hash
}

bytes32! {
    /// An account's address: the Poseidon2 digest of its Stark public key
    /// (see [`crate::crypto::StarkPublicKey::address`]). It keys the state tree.
    Address
}

impl Address {
    /// The digest bytes of this address, for hashing into tree leaves.
    pub fn as_hash(&self) -> Hash {
        Hash(self.0)
    }
}
