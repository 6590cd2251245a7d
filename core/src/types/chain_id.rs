//! Chain identifiers.

use alloc::string::String;
use core::fmt;

use crate::encoding::{Decode, DecodeError, Encode, Reader, put_bytes};

/// Names one chain, e.g. `starling-devnet`. Every transaction and header commits to
/// it, so a signature on one chain is never valid on another.
///
/// Like Starknet's `SN_MAIN`, it is short printable ASCII that fits one field element
/// (at most [`ChainId::MAX_LEN`] bytes); `starknet_chainId` returns it as hex.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ChainId(String);

/// A string that is not a valid chain id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidChainId;

impl fmt::Display for InvalidChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a chain id is 1 to {} printable ASCII characters", ChainId::MAX_LEN)
    }
}

impl ChainId {
    pub const MAX_LEN: usize = 31;

    pub fn new(name: &str) -> Result<Self, InvalidChainId> {
        let valid = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name.bytes().all(|b| b.is_ascii_graphic());
        if valid { Ok(Self(name.into())) } else { Err(InvalidChainId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a `0x`-prefixed hex number of its ASCII bytes (Starknet's form).
    pub fn to_felt_hex(&self) -> String {
        let mut out = String::from("0x");
        for b in self.0.bytes() {
            out.push_str(&alloc::format!("{b:02x}"));
        }
        out
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", self.0)
    }
}

impl Encode for ChainId {
    fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
        put_bytes(out, self.0.as_bytes());
    }
}

impl Decode for ChainId {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = reader.bytes("chain id", Self::MAX_LEN)?;
        let invalid =
            DecodeError::InvalidValue { field: "chain id", reason: "not printable ASCII" };
        let name = core::str::from_utf8(bytes).map_err(|_| invalid.clone())?;
        Self::new(name).map_err(|_| invalid)
    }
}

impl<'de> serde::Deserialize<'de> for ChainId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}
