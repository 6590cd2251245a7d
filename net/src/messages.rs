//! What peers send each other, in core's canonical encoding.
//!
//! Every message is a [`Message`]: it starts with the wire version, has a hard size
//! limit checked before parsing, and must decode exactly. Lists carry their own
//! count limits, so no peer can make a decoder allocate more than it sent.

use starling_core::consensus::CommitCertificate;
use starling_core::crypto::{SequencerPublicKey, SequencerSignature};
use starling_core::encoding::{Decode, DecodeError, Encode, Message, Reader, put_bytes, put_list};
use starling_core::proving::proof::MAX_PROOF_BYTES;
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
    pub fn verify(
        &self,
        chain_id: &ChainId,
        sequencer: &SequencerPublicKey,
    ) -> Result<(), BlockError> {
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
    /// The block a consensus proposal at `height` names, by hash: proposals are
    /// gossiped small and validators fetch the body from whoever relayed them.
    Proposal { height: u64, block_hash: Hash },
    /// The settled proof of the block at `height`, which a [`ProofAnnouncement`]
    /// said the peer holds.
    Proof { height: u64 },
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
            Self::Proposal { height, block_hash } => {
                out.push(4);
                height.encode_to(out);
                block_hash.encode_to(out);
            }
            Self::Proof { height } => {
                out.push(5);
                height.encode_to(out);
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
            4 => {
                Ok(Self::Proposal { height: reader.u64()?, block_hash: Hash::decode_from(reader)? })
            }
            5 => Ok(Self::Proof { height: reader.u64()? }),
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
    /// The precommits that made it final, for a proof-of-stake block.
    pub certificate: Option<CommitCertificate>,
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
    StateChunk(Box<StateChunk>),
    Refused(Refusal),
    /// A proposed block (not final, so without certificate).
    Proposal(Box<SyncedBlock>),
    /// A block proof's bytes (`BlockProof::to_bytes`), at most
    /// [`MAX_PROOF_BYTES`]; the asker verifies it like any submission.
    Proof(Vec<u8>),
}

impl Encode for SyncResponse {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Status(s) => {
                out.push(0);
                s.genesis_hash.encode_to(out);
                s.head_height.encode_to(out);
                s.head_hash.encode_to(out);
                s.snapshot_height.encode_to(out);
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
                chunk.next.encode_to(out);
            }
            Self::Refused(r) => {
                out.push(4);
                out.push(r.tag());
            }
            Self::Proposal(block) => {
                out.push(5);
                block.encode_to(out);
            }
            Self::Proof(bytes) => {
                out.push(6);
                put_bytes(out, bytes);
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
                snapshot_height: Option::decode_from(reader)?,
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
            3 => Ok(Self::StateChunk(Box::new(StateChunk {
                height: reader.u64()?,
                accounts: Witness::decode_from(reader)?,
                next: Option::decode_from(reader)?,
            }))),
            4 => Ok(Self::Refused(match reader.u8()? {
                0 => Refusal::RateLimited,
                1 => Refusal::Unavailable,
                2 => Refusal::Busy,
                tag => return Err(DecodeError::UnknownTag { field: "refusal", tag }),
            })),
            5 => Ok(Self::Proposal(Box::new(SyncedBlock::decode_from(reader)?))),
            6 => Ok(Self::Proof(reader.bytes("proof", MAX_PROOF_BYTES)?.to_vec())),
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
        self.witness.encode_to(out);
        self.certificate.encode_to(out);
    }
}

impl Decode for SyncedBlock {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            block: Block::decode_from(reader)?,
            witness: Option::decode_from(reader)?,
            certificate: Option::decode_from(reader)?,
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

/// "I settled a proof of block `height` by `prover`": gossiped on the proofs
/// topic by a node that verified it. A proof is hundreds of KiB, far over the
/// gossip limit, so only this travels by gossip; a node that has not settled
/// the block fetches the proof from the announcer ([`SyncRequest::Proof`]),
/// verifies it itself, and only then relays the announcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofAnnouncement {
    pub height: u64,
    pub prover: Address,
    /// Hash of the proof's bytes: what is fetched must be what was announced.
    pub proof_hash: Hash,
}

impl Encode for ProofAnnouncement {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.prover.encode_to(out);
        self.proof_hash.encode_to(out);
    }
}

impl Decode for ProofAnnouncement {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64()?,
            prover: Address::decode_from(reader)?,
            proof_hash: Hash::decode_from(reader)?,
        })
    }
}

impl Message for ProofAnnouncement {
    const MAX_BYTES: usize = 1 + 8 + 32 + 32;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use starling_core::chain::{
        Allocation, BlockTemplate, BuiltBlock, Genesis, build_block, verify_block,
    };
    use starling_core::crypto::{SequencerKey, SignatureError, StarkSecretKey};
    use starling_core::encoding::WIRE_VERSION;
    use starling_core::staking::StakingParams;
    use starling_core::state::StateTree;
    use starling_core::types::{Call, Transaction, TxBody};

    pub(crate) struct Fixture {
        genesis: Genesis,
        key: SequencerKey,
        users: Vec<StarkSecretKey>,
    }

    pub(crate) fn fixture() -> Fixture {
        let key = SequencerKey::from_seed(&[1; 32]);
        let users: Vec<StarkSecretKey> =
            (10..13).map(|i| StarkSecretKey::from_entropy(&[i; 32])).collect();
        let genesis = Genesis {
            chain_id: ChainId::new("starling-test").unwrap(),
            sequencer: key.public_key(),
            timestamp_ms: 1_000,
            allocations: users
                .iter()
                .map(|u| Allocation { address: u.public_key().address(), balance: 100 })
                .collect(),
            staking: StakingParams::default(),
        };
        Fixture { genesis, key, users }
    }

    fn address(f: &Fixture, user: usize) -> Address {
        f.users[user].public_key().address()
    }

    fn pay(f: &Fixture, from: usize, nonce: u64, to: usize, amount: u64) -> Transaction {
        let body = TxBody {
            chain_id: f.genesis.chain_id.clone(),
            sender_key: f.users[from].public_key(),
            nonce,
            fee: 1,
            call: Call::Transfer { to: address(f, to), amount },
        };
        body.sign(&f.users[from])
    }

    fn build(
        f: &Fixture,
        state: &mut StateTree,
        parent: &Header,
        txs: Vec<Transaction>,
    ) -> BuiltBlock {
        let template = BlockTemplate {
            parent,
            timestamp_ms: parent.timestamp_ms + 1000,
            key: &f.key,
            parent_commit: None,
        };
        build_block(state, template, txs).unwrap()
    }

    /// The genesis block, then two real signed blocks with transfers, each with the
    /// witness a stateless verifier needs, and the state after the last one.
    fn chain(f: &Fixture) -> (Block, Vec<BuiltBlock>, StateTree) {
        let (genesis, mut state) = f.genesis.block().unwrap();
        let first =
            build(f, &mut state, &genesis.header, vec![pay(f, 0, 0, 1, 10), pay(f, 1, 0, 2, 5)]);
        assert!(first.rejected.is_empty());
        let second = build(f, &mut state, &first.block.header, vec![pay(f, 2, 0, 0, 7)]);
        assert!(second.rejected.is_empty());
        (genesis, vec![first, second], state)
    }

    fn round_trip<M: Message + PartialEq + core::fmt::Debug>(value: &M) {
        let bytes = value.encode_message();
        assert_eq!(bytes[0], WIRE_VERSION);
        assert!(bytes.len() <= M::MAX_BYTES, "{} bytes over the limit", bytes.len());
        let back = M::decode_message(&bytes).unwrap();
        assert_eq!(&back, value);
        assert_eq!(back.encode_message(), bytes, "re-encoding is canonical");
    }

    /// A Blocks response of two real signed blocks with transfers, one with its witness.
    pub(crate) fn blocks_response(f: &Fixture) -> SyncResponse {
        let (_, built, _) = chain(f);
        SyncResponse::Blocks(vec![
            SyncedBlock {
                block: built[0].block.clone(),
                witness: Some(built[0].witness.clone()),
                certificate: None,
            },
            SyncedBlock { block: built[1].block.clone(), witness: None, certificate: None },
        ])
    }

    /// Proves every sync request variant round-trips exactly, at its limits too.
    #[test]
    fn every_request_round_trips() {
        let f = fixture();
        let requests = [
            SyncRequest::Status,
            SyncRequest::Headers { from: 0, count: 0 },
            SyncRequest::Headers { from: u64::MAX, count: MAX_HEADERS_PER_REQUEST },
            SyncRequest::Blocks { from: 7, count: 1, witnesses: false },
            SyncRequest::Blocks { from: 7, count: MAX_BLOCKS_PER_REQUEST, witnesses: true },
            SyncRequest::StateChunk { height: 3, start: Address([0; 32]), count: 1 },
            SyncRequest::StateChunk {
                height: u64::MAX,
                start: address(&f, 2),
                count: MAX_CHUNK_ACCOUNTS,
            },
            SyncRequest::Proof { height: 0 },
            SyncRequest::Proof { height: u64::MAX },
        ];
        for request in &requests {
            round_trip(request);
        }
    }

    /// Proves every sync response variant round-trips exactly, with real signed
    /// blocks and witnesses, and that a block and witness still verify afterwards.
    #[test]
    fn every_response_round_trips() {
        let f = fixture();
        let (genesis, built, state) = chain(&f);
        let head = &built[1].block;
        let accounts: Vec<Address> = (0..3).map(|i| address(&f, i)).collect();

        let mut responses = vec![
            SyncResponse::Status(PeerStatus {
                genesis_hash: genesis.hash(),
                head_height: head.header.height,
                head_hash: head.hash(),
                snapshot_height: None,
            }),
            SyncResponse::Status(PeerStatus {
                genesis_hash: genesis.hash(),
                head_height: head.header.height,
                head_hash: head.hash(),
                snapshot_height: Some(1),
            }),
            SyncResponse::Headers(vec![]),
            SyncResponse::Headers(vec![
                SignedHeader::of(&genesis),
                SignedHeader::of(&built[0].block),
                SignedHeader::of(head),
            ]),
            SyncResponse::Blocks(vec![]),
            blocks_response(&f),
            SyncResponse::StateChunk(Box::new(StateChunk {
                height: 2,
                accounts: state.witness(&accounts[..2]),
                next: Some(accounts[2]),
            })),
            SyncResponse::StateChunk(Box::new(StateChunk {
                height: 2,
                accounts: state.witness(&accounts),
                next: None,
            })),
            SyncResponse::StateChunk(Box::new(StateChunk {
                height: 0,
                accounts: Witness::default(),
                next: None,
            })),
        ];
        responses.extend(
            [Refusal::RateLimited, Refusal::Unavailable, Refusal::Busy].map(SyncResponse::Refused),
        );
        responses.extend([SyncResponse::Proof(vec![]), SyncResponse::Proof(vec![7; 300_000])]);
        for response in &responses {
            round_trip(response);
        }

        // What came back is still a block a stateless verifier accepts.
        let bytes = blocks_response(&f).encode_message();
        let SyncResponse::Blocks(blocks) = SyncResponse::decode_message(&bytes).unwrap() else {
            panic!("not a blocks response");
        };
        let witness = blocks[0].witness.as_ref().unwrap();
        verify_block(&blocks[0].block, &genesis.header, witness, &f.genesis.chain_id).unwrap();
        assert_eq!(blocks[1].witness, None);
    }

    /// Proves a proof announcement round-trips at its fixed size, and that a
    /// proof response over the proof size limit is refused before it is read.
    #[test]
    fn proof_messages_round_trip_and_are_bounded() {
        let announcement =
            ProofAnnouncement { height: 9, prover: Address([3; 32]), proof_hash: Hash([5; 32]) };
        round_trip(&announcement);
        assert_eq!(announcement.encode_message().len(), ProofAnnouncement::MAX_BYTES);
        let mut long = SyncResponse::Proof(vec![0; 8]).encode_message();
        let at = long.len() - 8 - 4;
        long[at..at + 4].copy_from_slice(&((MAX_PROOF_BYTES + 1) as u32).to_le_bytes());
        assert!(SyncResponse::decode_message(&long).is_err());
    }

    /// Proves a signed header of a real sealed block verifies, hashes like its block
    /// and round-trips as a message within its size limit.
    #[test]
    fn a_sealed_blocks_header_verifies() {
        let f = fixture();
        let (_, built, _) = chain(&f);
        let block = &built[1].block;
        let signed = SignedHeader::of(block);
        assert_eq!(signed.verify(&f.genesis.chain_id, &f.key.public_key()), Ok(()));
        assert_eq!(signed.hash(), block.hash());
        assert_eq!(signed.height(), 2);
        round_trip(&signed);
    }

    /// Proves a header on another chain is refused as WrongChain.
    #[test]
    fn a_header_of_another_chain_is_refused() {
        let f = fixture();
        let (_, built, _) = chain(&f);
        let signed = SignedHeader::of(&built[0].block);
        let other = ChainId::new("starling-other").unwrap();
        assert_eq!(signed.verify(&other, &f.key.public_key()), Err(BlockError::WrongChain));
    }

    /// Proves a header proposed by a key other than the sequencer's is refused as
    /// UnexpectedProposer, naming both keys, even when its own signature is valid.
    #[test]
    fn a_header_from_another_proposer_is_refused() {
        let f = fixture();
        let (_, built, _) = chain(&f);
        let signed = SignedHeader::of(&built[0].block);
        let other = SequencerKey::from_seed(&[9; 32]);
        assert_eq!(
            signed.verify(&f.genesis.chain_id, &other.public_key()),
            Err(BlockError::UnexpectedProposer {
                expected: other.public_key(),
                found: f.key.public_key()
            })
        );
        // A header the other key proposed and signed itself is no better.
        let mut header = built[0].block.header.clone();
        header.proposer = other.public_key();
        let forged = SignedHeader::of(&header.seal(&other, built[0].block.transactions.clone()));
        assert_eq!(forged.verify(&f.genesis.chain_id, &other.public_key()), Ok(()));
        assert!(matches!(
            forged.verify(&f.genesis.chain_id, &f.key.public_key()),
            Err(BlockError::UnexpectedProposer { .. })
        ));
    }

    /// Proves changing any signed header field (or the signature), or signing with
    /// another key under the sequencer's name, is refused as BadSignature.
    #[test]
    fn a_changed_header_fails_its_signature() {
        let f = fixture();
        let (_, built, _) = chain(&f);
        let signed = SignedHeader::of(&built[1].block);
        let changes: [fn(&mut SignedHeader); 6] = [
            |s| s.header.height += 1,
            |s| s.header.parent_hash = Hash([1; 32]),
            |s| s.header.state_root = Hash([2; 32]),
            |s| s.header.tx_root = Hash([3; 32]),
            |s| s.header.timestamp_ms += 1,
            |s| s.signature.0[0] ^= 1,
        ];
        for change in changes {
            let mut changed = signed.clone();
            change(&mut changed);
            assert!(matches!(
                changed.verify(&f.genesis.chain_id, &f.key.public_key()),
                Err(BlockError::BadSignature(_))
            ));
        }
        let other = SequencerKey::from_seed(&[9; 32]);
        let impostor = SignedHeader { signature: other.sign(&signed.hash().0), ..signed.clone() };
        assert_eq!(
            impostor.verify(&f.genesis.chain_id, &f.key.public_key()),
            Err(BlockError::BadSignature(SignatureError::Mismatch))
        );
    }

    /// Proves a signed header with the longest chain id still fits its message limit.
    #[test]
    fn the_largest_signed_header_fits_its_limit() {
        let key = SequencerKey::from_seed(&[1; 32]);
        let header = Header {
            chain_id: ChainId::new(&"x".repeat(ChainId::MAX_LEN)).unwrap(),
            height: u64::MAX,
            parent_hash: Hash([1; 32]),
            state_root: Hash([2; 32]),
            tx_root: Hash([3; 32]),
            timestamp_ms: u64::MAX,
            proposer: key.public_key(),
            validators: Hash([4; 32]),
            parent_commit: Hash([5; 32]),
        };
        let signed = SignedHeader::of(&header.seal(&key, vec![]));
        round_trip(&signed);
        assert!(signed.encode_message().len() > MIN_SIGNED_HEADER_BYTES);
    }

    /// Proves a request asking for more headers, blocks or accounts than allowed is
    /// refused with TooLong, while the limit itself is accepted.
    #[test]
    fn requests_over_their_count_limits_are_refused() {
        let over = [
            (
                SyncRequest::Headers { from: 1, count: MAX_HEADERS_PER_REQUEST + 1 },
                "header count",
                MAX_HEADERS_PER_REQUEST,
            ),
            (
                SyncRequest::Blocks { from: 1, count: MAX_BLOCKS_PER_REQUEST + 1, witnesses: true },
                "block count",
                MAX_BLOCKS_PER_REQUEST,
            ),
            (
                SyncRequest::StateChunk {
                    height: 1,
                    start: Address([0; 32]),
                    count: MAX_CHUNK_ACCOUNTS + 1,
                },
                "account count",
                MAX_CHUNK_ACCOUNTS,
            ),
            (
                SyncRequest::Headers { from: 1, count: u32::MAX },
                "header count",
                MAX_HEADERS_PER_REQUEST,
            ),
        ];
        for (request, field, max) in over {
            let len = match request {
                SyncRequest::Headers { count, .. }
                | SyncRequest::Blocks { count, .. }
                | SyncRequest::StateChunk { count, .. } => count as usize,
                SyncRequest::Status | SyncRequest::Proposal { .. } | SyncRequest::Proof { .. } => {
                    unreachable!()
                }
            };
            assert_eq!(
                SyncRequest::decode_message(&request.encode_message()),
                Err(DecodeError::TooLong { field, len, max: max as usize })
            );
        }
    }

    /// Proves unknown request, response and refusal tags are refused as UnknownTag.
    #[test]
    fn unknown_tags_are_refused() {
        for tag in [6, 7, 0x80, 0xff] {
            assert_eq!(
                SyncRequest::decode_message(&[WIRE_VERSION, tag]),
                Err(DecodeError::UnknownTag { field: "sync request", tag })
            );
        }
        for tag in [7, 8, 0x80, 0xff] {
            assert_eq!(
                SyncResponse::decode_message(&[WIRE_VERSION, tag]),
                Err(DecodeError::UnknownTag { field: "sync response", tag })
            );
        }
        assert_eq!(
            SyncResponse::decode_message(&[WIRE_VERSION, 4, 3]),
            Err(DecodeError::UnknownTag { field: "refusal", tag: 3 })
        );
    }

    /// Proves a witnesses flag other than 0 or 1 is refused, not read as true.
    #[test]
    fn a_flag_byte_of_two_is_refused() {
        let mut bytes = SyncRequest::Blocks { from: 1, count: 2, witnesses: true }.encode_message();
        *bytes.last_mut().unwrap() = 2;
        assert_eq!(
            SyncRequest::decode_message(&bytes),
            Err(DecodeError::InvalidValue { field: "witnesses flag", reason: "a flag is 0 or 1" })
        );
    }

    /// Proves an option tag other than 0 or 1 is refused in each optional field:
    /// snapshot height, a block's certificate, and a state chunk's next address.
    #[test]
    fn unknown_option_tags_are_refused() {
        let status = SyncResponse::Status(PeerStatus {
            genesis_hash: Hash([1; 32]),
            head_height: 5,
            head_hash: Hash([2; 32]),
            snapshot_height: None,
        });
        let mut bytes = status.encode_message();
        *bytes.last_mut().unwrap() = 2;
        assert_eq!(
            SyncResponse::decode_message(&bytes),
            Err(DecodeError::UnknownTag { field: "option", tag: 2 })
        );

        let f = fixture();
        let (_, built, _) = chain(&f);
        let blocks = SyncResponse::Blocks(vec![SyncedBlock {
            block: built[0].block.clone(),
            witness: None,
            certificate: None,
        }]);
        let mut bytes = blocks.encode_message();
        *bytes.last_mut().unwrap() = 7;
        assert_eq!(
            SyncResponse::decode_message(&bytes),
            Err(DecodeError::UnknownTag { field: "option", tag: 7 })
        );

        let chunk = SyncResponse::StateChunk(Box::new(StateChunk {
            height: 1,
            accounts: Witness::default(),
            next: None,
        }));
        let mut bytes = chunk.encode_message();
        *bytes.last_mut().unwrap() = 0xff;
        assert_eq!(
            SyncResponse::decode_message(&bytes),
            Err(DecodeError::UnknownTag { field: "option", tag: 0xff })
        );
    }

    /// Proves a message with any wire version but the current one is refused.
    #[test]
    fn a_wrong_wire_version_is_refused() {
        let f = fixture();
        let request = SyncRequest::Headers { from: 1, count: 2 }.encode_message();
        let response = blocks_response(&f).encode_message();
        for version in [0, WIRE_VERSION + 1, 0xff] {
            let mut bytes = request.clone();
            bytes[0] = version;
            let wrong = DecodeError::UnknownTag { field: "wire version", tag: version };
            assert_eq!(SyncRequest::decode_message(&bytes), Err(wrong.clone()));
            let mut bytes = response.clone();
            bytes[0] = version;
            assert_eq!(SyncResponse::decode_message(&bytes), Err(wrong));
        }
    }

    /// Proves a valid message followed by extra bytes is refused as TrailingBytes.
    #[test]
    fn trailing_bytes_are_refused() {
        let f = fixture();
        let mut request = SyncRequest::Status.encode_message();
        request.push(0);
        assert_eq!(SyncRequest::decode_message(&request), Err(DecodeError::TrailingBytes(1)));
        let mut response = blocks_response(&f).encode_message();
        response.extend_from_slice(&[0, 0, 0]);
        assert_eq!(SyncResponse::decode_message(&response), Err(DecodeError::TrailingBytes(3)));
    }

    /// Proves every truncation of a real encoded Blocks response (and of each
    /// request) is an error, never a panic or a shorter valid message.
    #[test]
    fn every_truncation_is_an_error() {
        let f = fixture();
        let bytes = blocks_response(&f).encode_message();
        for n in 0..bytes.len() {
            assert!(SyncResponse::decode_message(&bytes[..n]).is_err(), "prefix of {n} bytes");
        }
        let requests = [
            SyncRequest::Status,
            SyncRequest::Headers { from: 1, count: 2 },
            SyncRequest::Blocks { from: 1, count: 2, witnesses: true },
            SyncRequest::StateChunk { height: 1, start: address(&f, 0), count: 2 },
        ];
        for request in requests {
            let bytes = request.encode_message();
            for n in 0..bytes.len() {
                assert!(
                    SyncRequest::decode_message(&bytes[..n]).is_err(),
                    "{request:?} cut at {n}"
                );
            }
        }
    }

    /// Proves flipping any single byte of a real encoded Blocks response never
    /// panics the decoder (it either errors or decodes to a different value).
    #[test]
    fn corrupting_any_byte_never_panics() {
        let f = fixture();
        let original = blocks_response(&f);
        let bytes = original.encode_message();
        for i in 0..bytes.len() {
            for flip in [0x01, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[i] ^= flip;
                if let Ok(decoded) = SyncResponse::decode_message(&corrupt) {
                    assert_ne!(decoded, original, "byte {i} changed but decoded the same");
                }
            }
        }
    }

    /// Proves a forged Headers or Blocks count is refused from the count alone,
    /// before any item is read or allocated: TooLong over the limit, UnexpectedEnd
    /// for the bytes the count would need when they are not there.
    #[test]
    fn forged_list_lengths_are_refused_before_allocation() {
        for (tag, field, max) in
            [(1, "headers", MAX_HEADERS_PER_REQUEST), (2, "blocks", MAX_BLOCKS_PER_REQUEST)]
        {
            let forged = |count: u32| {
                let mut bytes = vec![WIRE_VERSION, tag];
                bytes.extend_from_slice(&count.to_le_bytes());
                SyncResponse::decode_message(&bytes)
            };
            assert_eq!(
                forged(u32::MAX),
                Err(DecodeError::TooLong { field, len: u32::MAX as usize, max: max as usize })
            );
            assert_eq!(
                forged(max + 1),
                Err(DecodeError::TooLong { field, len: max as usize + 1, max: max as usize })
            );
            // Within the limit, but nothing follows: the shortfall is computed from
            // the count (count × smallest item), not found by reading an item.
            for count in [1, max.min(1000)] {
                assert_eq!(
                    forged(count),
                    Err(DecodeError::UnexpectedEnd {
                        needed: count as usize * MIN_SIGNED_HEADER_BYTES,
                        remaining: 0
                    })
                );
            }
        }
        let mut bytes = vec![WIRE_VERSION, 1];
        bytes.extend_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            SyncResponse::decode_message(&bytes),
            Err(DecodeError::UnexpectedEnd {
                needed: 1000 * MIN_SIGNED_HEADER_BYTES,
                remaining: 0
            })
        );
    }

    /// Proves an input over a message's byte limit is refused before it is parsed.
    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let mut bytes = SyncRequest::Status.encode_message();
        bytes.resize(SyncRequest::MAX_BYTES + 1, 0);
        assert_eq!(
            SyncRequest::decode_message(&bytes),
            Err(DecodeError::MessageTooLong {
                len: SyncRequest::MAX_BYTES + 1,
                max: SyncRequest::MAX_BYTES
            })
        );
        let mut bytes = SyncResponse::Refused(Refusal::Busy).encode_message();
        bytes.resize(MAX_RESPONSE_BYTES + 1, 0);
        assert!(matches!(
            SyncResponse::decode_message(&bytes),
            Err(DecodeError::MessageTooLong { .. })
        ));
    }
}
