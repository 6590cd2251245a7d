//! The one binary encoding for everything Starling hashes, signs or sends.
//!
//! Rules, chosen so that every value has exactly one encoding (hashes and signatures
//! depend on it) and so that a hostile peer cannot make a decoder allocate or loop
//! beyond what the input itself pays for:
//!
//! - integers are fixed-width little-endian;
//! - fixed-size byte strings (hashes, keys, signatures) are written as they are;
//! - variable-length values carry a `u32` length prefix that is checked against a
//!   per-field maximum *and* against the bytes actually left before anything is
//!   allocated;
//! - enums carry a one-byte tag; unknown tags are errors;
//! - top-level messages start with [`WIRE_VERSION`] and must be consumed exactly:
//!   trailing bytes are an error, so two encodings of one value cannot exist.

use alloc::vec::Vec;
use core::fmt;

/// Version byte that starts every top-level encoded message.
pub const WIRE_VERSION: u8 = 1;

/// Why a byte string could not be decoded. Decoding never panics on any input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended while `needed` more bytes were expected.
    UnexpectedEnd { needed: usize, remaining: usize },
    /// A whole message is longer than its limit; rejected before parsing.
    MessageTooLong { len: usize, max: usize },
    /// A length-prefixed field declares more items than its limit allows.
    TooLong { field: &'static str, len: usize, max: usize },
    /// The message decoded but bytes were left over.
    TrailingBytes(usize),
    /// An enum tag or version byte that this build does not know.
    UnknownTag { field: &'static str, tag: u8 },
    /// A field's bytes are well-formed but its value is not allowed.
    InvalidValue { field: &'static str, reason: &'static str },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed, remaining } => {
                write!(f, "input ended early: needed {needed} more bytes, {remaining} left")
            }
            Self::MessageTooLong { len, max } => {
                write!(f, "message is {len} bytes, the limit is {max}")
            }
            Self::TooLong { field, len, max } => {
                write!(f, "{field} has length {len}, the limit is {max}")
            }
            Self::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the message"),
            Self::UnknownTag { field, tag } => write!(f, "unknown {field} tag {tag}"),
            Self::InvalidValue { field, reason } => write!(f, "invalid {field}: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding of `self` as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value from the front of `reader`.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// A top-level message: versioned, size-limited and decoded exactly.
pub trait Message: Encode + Decode {
    /// Largest encoding accepted by [`Message::decode_message`].
    const MAX_BYTES: usize;

    /// Encodes with the leading [`WIRE_VERSION`] byte.
    fn encode_message(&self) -> Vec<u8> {
        let mut out = alloc::vec![WIRE_VERSION];
        self.encode_to(&mut out);
        out
    }

    /// Decodes a whole message: checks the size limit first, then the version,
    /// then requires every byte to be consumed.
    fn decode_message(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(DecodeError::MessageTooLong { len: bytes.len(), max: Self::MAX_BYTES });
        }
        let mut reader = Reader::new(bytes);
        let version = reader.u8()?;
        if version != WIRE_VERSION {
            return Err(DecodeError::UnknownTag { field: "wire version", tag: version });
        }
        let value = Self::decode_from(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

/// A cursor over input bytes that never reads past the end.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the front of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError::UnexpectedEnd { needed: n, remaining: self.bytes.len() });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a `u32` length prefix and checks it against `max` items, and against
    /// the bytes left assuming each item takes at least `min_item_bytes`, so a
    /// forged length can never cause a large allocation.
    pub fn length(
        &mut self,
        field: &'static str,
        max: usize,
        min_item_bytes: usize,
    ) -> Result<usize, DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { field, len, max });
        }
        let needed = len.saturating_mul(min_item_bytes.max(1));
        if needed > self.remaining() {
            return Err(DecodeError::UnexpectedEnd { needed, remaining: self.remaining() });
        }
        Ok(len)
    }

    /// Reads a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.length(field, max, 1)?;
        self.take(len)
    }

    /// Reads a length-prefixed list of at most `max` items.
    pub fn list<T: Decode>(
        &mut self,
        field: &'static str,
        max: usize,
        min_item_bytes: usize,
    ) -> Result<Vec<T>, DecodeError> {
        let len = self.length(field, max, min_item_bytes)?;
        (0..len).map(|_| T::decode_from(self)).collect()
    }
}

/// Writes a length prefix for `len` items.
///
/// # Panics
/// If `len` does not fit a `u32`; every encoded field has a limit far below that.
pub fn put_length(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("encoded lengths are limited far below u32::MAX");
    out.extend_from_slice(&len.to_le_bytes());
}

/// Writes a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_length(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Writes a length-prefixed list.
pub fn put_list<T: Encode>(out: &mut Vec<u8>, items: &[T]) {
    put_length(out, items.len());
    for item in items {
        item.encode_to(out);
    }
}

impl Encode for u32 {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Decode for u32 {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u32()
    }
}

/// `None` is the tag byte 0; `Some(v)` is 1 followed by `v`. Any other tag is refused,
/// so each option has one encoding.
impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode_to(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8()? {
            0 => Ok(None),
            1 => T::decode_from(reader).map(Some),
            tag => Err(DecodeError::UnknownTag { field: "option", tag }),
        }
    }
}

impl Encode for u64 {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Decode for u64 {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u64()
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_to_read_past_the_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(DecodeError::UnexpectedEnd { needed: 4, remaining: 3 }));
    }

    #[test]
    fn forged_length_is_rejected_before_allocation() {
        // Claims 1000 items of at least 32 bytes each with only 4 bytes behind it.
        let mut bytes = Vec::new();
        put_length(&mut bytes, 1000);
        bytes.extend_from_slice(&[0; 4]);
        let mut r = Reader::new(&bytes);
        assert!(matches!(
            r.list::<[u8; 32]>("items", 10_000, 32),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        let mut r = Reader::new(&bytes);
        assert!(matches!(r.list::<[u8; 32]>("items", 10, 32), Err(DecodeError::TooLong { .. })));
    }

    #[test]
    fn length_prefixed_bytes_round_trip() {
        let mut out = Vec::new();
        put_bytes(&mut out, b"starling");
        let mut r = Reader::new(&out);
        assert_eq!(r.bytes("name", 16).unwrap(), b"starling");
        r.finish().unwrap();
    }
}
