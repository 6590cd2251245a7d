//! What peers send each other, in core's canonical encoding.
//!
//! Every message is a [`Message`]: it starts with the wire version, has a hard size
//! limit checked before parsing, and must decode exactly. Lists carry their own
//! count limits, so no peer can make a decoder allocate more than it sent.

use starling_core::crypto::{SequencerPublicKey, SequencerSignature};
use starling_core::encoding::{Decode, DecodeError, Encode, Message, Reader, put_list};
use starling_core::state::Witness;
use starling_core::types::{Address, Block, BlockError, ChainId, Hash, Header};

/// Most headers one request may ask for.
pub const MAX_HEADERS_PER_REQUEST: u32 = 1024;
/// Most blocks one request may ask for.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 256;
/// Most accounts one state chunk may hold.
pub const MAX_CHUNK_ACCOUNTS: u32 = 1024;
/// Largest sync response on the wire. A responder stops adding blocks before the
/// answer would pass it (but always sends at least one block it has).
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Smallest encoding of a signed header: an empty chain id is impossible, but a
/// generous lower bound is all the decoder needs.
const MIN_SIGNED_HEADER_BYTES: usize = 4 + 8 + 32 * 4 + 8 + 64;

/// A block header with the signature that makes it the chain's (proof of stake
/// later adds commit certificates here). Announced on gossip and served by sync so
/// a node can check the chain of headers before it downloads any body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeader {
    pub header: Header,
    pub signature: SequencerSignature,
}

impl SignedHeader {
    /// The header and signature of `block`.
    pub fn of(block: &Block) -> Self {
        Self { header: block.header.clone(), signature: block.signature }
    }

    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    pub fn height(&self) -> u64 {
        self.header.height
    }

    /// Checks chain, proposer and signature: everything but the body.
    pub fn verify(&self, chain_id: &ChainId, sequencer: &SequencerPublicKey) -> Result<(), BlockError> {
        if &self.header.chain_id != chain_id {
            return Err(BlockError::WrongChain);
        }
        if &self.header.proposer != sequencer {
            return Err(BlockError::UnexpectedProposer {
                expected: *sequencer,
                found: self.header.proposer,
            });
        }
        sequencer.verify(&self.hash().0, &self.signature).map_err(BlockError::BadSignature)
    }
}

impl Encode for SignedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedHeader {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header: Header::decode_from(reader)?,
            signature: SequencerSignature::decode_from(reader)?,
        })
    }
}

impl Message for SignedHeader {
    const MAX_BYTES: usize = 512;
}

/// A request on the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// What chain and head the peer has.
    Status,
    /// Signed headers `from..from + count`.
    Headers { from: u64, count: u32 },
    /// Whole blocks `from..from + count`, each with the witness a stateless
    /// verifier (a browser) needs if `witnesses` is set.
    Blocks { from: u64, count: u32, witnesses: bool },
    /// Up to `count` accounts of the state after block `height`, in address order
    /// starting at `start`, each with its Merkle proof against that block's root.
    StateChunk { height: u64, start: Address, count: u32 },
}

impl Encode for SyncRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Status => out.push(0),
            Self::Headers { from, count } => {
                out.push(1);
                from.encode_to(out);
                out.extend_from_slice(&count.to_le_bytes());
            }
            Self::Blocks { from, count, witnesses } => {
                out.push(2);
                from.encode_to(out);
                out.extend_from_slice(&count.to_le_bytes());
                encode_bool(*witnesses, out);
            }
            Self::StateChunk { height, start, count } => {
                out.push(3);
                height.encode_to(out);
                start.encode_to(out);
                out.extend_from_slice(&count.to_le_bytes());
            }
        }
    }
}

impl Decode for SyncRequest {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8()? {
            0 => Ok(Self::Status),
            1 => Ok(Self::Headers {
                from: reader.u64()?,
                count: count(reader, "header count", MAX_HEADERS_PER_REQUEST)?,
            }),
            2 => Ok(Self::Blocks {
                from: reader.u64()?,
                count: count(reader, "block count", MAX_BLOCKS_PER_REQUEST)?,
                witnesses: decode_bool(reader, "witnesses flag")?,
            }),
            3 => Ok(Self::StateChunk {
                height: reader.u64()?,
                start: Address::decode_from(reader)?,
                count: count(reader, "account count", MAX_CHUNK_ACCOUNTS)?,
            }),
            tag => Err(DecodeError::UnknownTag { field: "sync request", tag }),
        }
    }
}

impl Message for SyncRequest {
    const MAX_BYTES: usize = 64;
}

/// What a peer has: its genesis (so peers of different chains part at once), its
/// head, and the height of the state snapshot it serves, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub genesis_hash: Hash,
    pub head_height: u64,
    pub head_hash: Hash,
    pub snapshot_height: Option<u64>,
}

/// A block as sync serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedBlock {
    pub block: Block,
    /// Proofs of the accounts the block touches against its parent's state root.
    pub witness: Option<Witness>,
}

/// A run of accounts from a state snapshot, each proven against the root of the
/// block at `height`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChunk {
    pub height: u64,
    pub accounts: Witness,
    /// Where the next chunk starts; `None` after the last account.
    pub next: Option<Address>,
}

/// Why a peer did not answer a request with data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The peer asked too often; try later.
    RateLimited,
    /// The responder does not have what was asked (beyond its head, or a snapshot
    /// it no longer serves).
    Unavailable,
    /// The responder is busy; try another peer.
    Busy,
}

impl Refusal {
    fn tag(self) -> u8 {
        match self {
            Self::RateLimited => 0,
            Self::Unavailable => 1,
            Self::Busy => 2,
        }
    }
}

/// An answer on the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncResponse {
    Status(PeerStatus),
    Headers(Vec<SignedHeader>),
    Blocks(Vec<SyncedBlock>),
    StateChunk(StateChunk),
    Refused(Refusal),
}

impl Encode for SyncResponse {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Status(s) => {
                out.push(0);
                s.genesis_hash.encode_to(out);
                s.head_height.encode_to(out);
                s.head_hash.encode_to(out);
                encode_option(s.snapshot_height.as_ref(), out);
            }
            Self::Headers(headers) => {
                out.push(1);
                put_list(out, headers);
            }
            Self::Blocks(blocks) => {
                out.push(2);
                put_list(out, blocks);
            }
            Self::StateChunk(chunk) => {
                out.push(3);
                chunk.height.encode_to(out);
                chunk.accounts.encode_to(out);
                encode_option(chunk.next.as_ref(), out);
            }
            Self::Refused(r) => {
                out.push(4);
                out.push(r.tag());
            }
        }
    }
}

impl Decode for SyncResponse {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8()? {
            0 => Ok(Self::Status(PeerStatus {
                genesis_hash: Hash::decode_from(reader)?,
                head_height: reader.u64()?,
                head_hash: Hash::decode_from(reader)?,
                snapshot_height: decode_option(reader, "snapshot height")?,
            })),
            1 => Ok(Self::Headers(reader.list(
                "headers",
                MAX_HEADERS_PER_REQUEST as usize,
                MIN_SIGNED_HEADER_BYTES,
            )?)),
            2 => Ok(Self::Blocks(reader.list(
                "blocks",
                MAX_BLOCKS_PER_REQUEST as usize,
                MIN_SIGNED_HEADER_BYTES,
            )?)),
            3 => Ok(Self::StateChunk(StateChunk {
                height: reader.u64()?,
                accounts: Witness::decode_from(reader)?,
                next: decode_option(reader, "next address")?,
            })),
            4 => Ok(Self::Refused(match reader.u8()? {
                0 => Refusal::RateLimited,
                1 => Refusal::Unavailable,
                2 => Refusal::Busy,
                tag => return Err(DecodeError::UnknownTag { field: "refusal", tag }),
            })),
            tag => Err(DecodeError::UnknownTag { field: "sync response", tag }),
        }
    }
}

impl Message for SyncResponse {
    const MAX_BYTES: usize = MAX_RESPONSE_BYTES;
}

impl Encode for SyncedBlock {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.block.encode_to(out);
        encode_option(self.witness.as_ref(), out);
    }
}

impl Decode for SyncedBlock {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            block: Block::decode_from(reader)?,
            witness: decode_option(reader, "witness")?,
        })
    }
}

fn count(reader: &mut Reader<'_>, field: &'static str, max: u32) -> Result<u32, DecodeError> {
    let n = reader.u32()?;
    if n > max {
        return Err(DecodeError::TooLong { field, len: n as usize, max: max as usize });
    }
    Ok(n)
}

fn encode_bool(value: bool, out: &mut Vec<u8>) {
    out.push(u8::from(value));
}

fn decode_bool(reader: &mut Reader<'_>, field: &'static str) -> Result<bool, DecodeError> {
    match reader.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidValue { field, reason: "a flag is 0 or 1" }),
    }
}

fn encode_option<T: Encode>(value: Option<&T>, out: &mut Vec<u8>) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            v.encode_to(out);
        }
    }
}

fn decode_option<T: Decode>(
    reader: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<T>, DecodeError> {
    match reader.u8()? {
        0 => Ok(None),
        1 => Ok(Some(T::decode_from(reader)?)),
        tag => Err(DecodeError::UnknownTag { field, tag }),
    }
}
