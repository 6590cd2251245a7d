//! Blocks: a signed header and the ordered transactions it commits to.

use alloc::vec::Vec;

use crate::consensus::CommitCertificate;
use crate::crypto::{SequencerKey, SequencerPublicKey, SequencerSignature, SignatureError};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader, put_list};
use crate::hash::{Domain, compress, hash_bytes};
use crate::types::transaction::MIN_TX_BYTES;
use crate::types::{ChainId, Hash, Transaction};

/// Most transactions a block may carry on the wire. Block building uses a lower,
/// configurable limit; this one only bounds what a decoder will accept.
pub const MAX_BLOCK_TXS: usize = 16_384;

/// What a block's signature and hash cover.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    pub chain_id: ChainId,
    pub height: u64,
    /// Hash of the previous header; [`Hash::ZERO`] for genesis.
    pub parent_hash: Hash,
    /// Root of the account state after applying this block's transactions.
    pub state_root: Hash,
    /// Merkle root of the signed transactions, in block order (see [`tx_root`]).
    pub tx_root: Hash,
    /// Milliseconds since the Unix epoch, as the proposer saw them.
    pub timestamp_ms: u64,
    /// The sequencer (or, under proof of stake, the validator) that built and
    /// signed the block.
    pub proposer: SequencerPublicKey,
    /// [`Hash::ZERO`] while the genesis sequencer signs blocks; under proof of
    /// stake, the hash of the validator set that must certify this block. So
    /// every header shows which stage the chain is in.
    pub validators: Hash,
    /// [`Hash::ZERO`] when the block carries no certificate for its parent, else
    /// the digest of that certificate ([`certificate_digest`]).
    pub parent_commit: Hash,
}

/// A header with its transactions and the proposer's signature, and, under
/// proof of stake, the certificate that made its parent final (the block's own
/// certificate cannot be in it: it is made after the block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub signature: SequencerSignature,
    pub transactions: Vec<Transaction>,
    pub parent_commit: Option<CommitCertificate>,
}

/// Why a block's own contents are inconsistent (independent of any state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockError {
    BadSignature(SignatureError),
    UnexpectedProposer {
        expected: SequencerPublicKey,
        found: SequencerPublicKey,
    },
    TxRootMismatch {
        header: Hash,
        computed: Hash,
    },
    WrongChain,
    /// The header's `parent_commit` is not the digest of the certificate carried.
    ParentCommitMismatch {
        header: Hash,
        computed: Hash,
    },
}

impl core::fmt::Display for BlockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadSignature(e) => write!(f, "block signature: {e}"),
            Self::UnexpectedProposer { expected, found } => {
                write!(f, "block proposed by {found}, expected {expected}")
            }
            Self::TxRootMismatch { header, computed } => {
                write!(f, "transaction root {header} in header, {computed} computed")
            }
            Self::WrongChain => f.write_str("block is for another chain"),
            Self::ParentCommitMismatch { header, computed } => {
                write!(f, "parent certificate digest {header} in header, {computed} computed")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BlockError {}

/// The Merkle root of a block's transactions, in order, over their signed
/// encodings ([`Transaction::leaf`]), so the block hash commits to signatures too.
pub fn tx_root(transactions: &[Transaction]) -> Hash {
    merkle_root(&transactions.iter().map(Transaction::leaf).collect::<Vec<_>>())
}

/// A binary Merkle tree built with [`compress`]: an odd node at any level is paired
/// with [`Hash::ZERO`]; the empty list's root is `hash_bytes(TxRoot, [])`. The count
/// is mixed in last, so lists that differ only by trailing zero-hash padding cannot
/// share a root.
fn merkle_root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return hash_bytes(Domain::TxRoot, &[]);
    }
    let mut level: Vec<Hash> = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| compress(&pair[0], pair.get(1).unwrap_or(&Hash::ZERO)))
            .collect();
    }
    let count = hash_bytes(Domain::TxRoot, &(leaves.len() as u64).to_le_bytes());
    compress(&level[0], &count)
}

/// What a header's `parent_commit` holds for a block carrying `certificate`:
/// [`Hash::ZERO`] for none, else the digest of its encoding.
pub fn certificate_digest(certificate: Option<&CommitCertificate>) -> Hash {
    certificate.map_or(Hash::ZERO, |c| hash_bytes(Domain::CommitCertificate, &c.to_bytes()))
}

impl Header {
    /// The block hash: digest of the header's encoding.
    pub fn hash(&self) -> Hash {
        hash_bytes(Domain::Header, &self.to_bytes())
    }

    /// Signs this header, producing a block with `transactions` and no parent
    /// certificate.
    pub fn seal(self, key: &SequencerKey, transactions: Vec<Transaction>) -> Block {
        self.seal_with(key, transactions, None)
    }

    /// Signs this header, producing a block with `transactions` and
    /// `parent_commit` (which the header's `parent_commit` field must match).
    pub fn seal_with(
        self,
        key: &SequencerKey,
        transactions: Vec<Transaction>,
        parent_commit: Option<CommitCertificate>,
    ) -> Block {
        let signature = key.sign(&self.hash().0);
        Block { header: self, signature, transactions, parent_commit }
    }
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Checks what can be checked without state: chain, proposer, signature,
    /// transaction root and parent certificate digest. Transaction signatures and
    /// state are checked by execution, the certificate itself by the chain rules.
    pub fn verify_seal(
        &self,
        chain_id: &ChainId,
        proposer: &SequencerPublicKey,
    ) -> Result<(), BlockError> {
        if &self.header.chain_id != chain_id {
            return Err(BlockError::WrongChain);
        }
        if &self.header.proposer != proposer {
            return Err(BlockError::UnexpectedProposer {
                expected: *proposer,
                found: self.header.proposer,
            });
        }
        proposer.verify(&self.hash().0, &self.signature).map_err(BlockError::BadSignature)?;
        let computed = tx_root(&self.transactions);
        if computed != self.header.tx_root {
            return Err(BlockError::TxRootMismatch { header: self.header.tx_root, computed });
        }
        let computed = certificate_digest(self.parent_commit.as_ref());
        if computed != self.header.parent_commit {
            let header = self.header.parent_commit;
            return Err(BlockError::ParentCommitMismatch { header, computed });
        }
        Ok(())
    }
}

impl Encode for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.height.encode_to(out);
        self.parent_hash.encode_to(out);
        self.state_root.encode_to(out);
        self.tx_root.encode_to(out);
        self.timestamp_ms.encode_to(out);
        self.proposer.encode_to(out);
        self.validators.encode_to(out);
        self.parent_commit.encode_to(out);
    }
}

impl Decode for Header {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: ChainId::decode_from(reader)?,
            height: reader.u64()?,
            parent_hash: Hash::decode_from(reader)?,
            state_root: Hash::decode_from(reader)?,
            tx_root: Hash::decode_from(reader)?,
            timestamp_ms: reader.u64()?,
            proposer: SequencerPublicKey::decode_from(reader)?,
            validators: Hash::decode_from(reader)?,
            parent_commit: Hash::decode_from(reader)?,
        })
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        self.signature.encode_to(out);
        put_list(out, &self.transactions);
        self.parent_commit.encode_to(out);
    }
}

impl Decode for Block {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header: Header::decode_from(reader)?,
            signature: SequencerSignature::decode_from(reader)?,
            transactions: reader.list("transactions", MAX_BLOCK_TXS, MIN_TX_BYTES)?,
            parent_commit: Option::<CommitCertificate>::decode_from(reader)?,
        })
    }
}

impl Message for Block {
    const MAX_BYTES: usize = 4 * 1024 * 1024;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::StarkSecretKey;
    use crate::types::{Address, Call, TxBody};

    fn chain() -> ChainId {
        ChainId::new("starling-test").unwrap()
    }

    fn transfer(nonce: u64) -> Transaction {
        let key = StarkSecretKey::from_entropy(&[1; 32]);
        let to = Address([2; 32]);
        let body = TxBody {
            chain_id: chain(),
            sender_key: key.public_key(),
            nonce,
            fee: 1,
            call: Call::Transfer { to, amount: 3 },
        };
        body.sign(&key)
    }

    fn block(key: &SequencerKey, txs: Vec<Transaction>) -> Block {
        let header = Header {
            chain_id: chain(),
            height: 1,
            parent_hash: Hash([7; 32]),
            state_root: Hash([8; 32]),
            tx_root: tx_root(&txs),
            timestamp_ms: 1_700_000_000_000,
            proposer: key.public_key(),
            validators: Hash::ZERO,
            parent_commit: Hash::ZERO,
        };
        header.seal(key, txs)
    }

    #[test]
    fn blocks_round_trip_and_keep_their_hash() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let b = block(&key, alloc::vec![transfer(0), transfer(1)]);
        let back = Block::decode_message(&b.encode_message()).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.hash(), b.hash());
    }

    #[test]
    fn a_sealed_block_verifies_and_any_change_is_caught() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let b = block(&key, alloc::vec![transfer(0), transfer(1)]);
        assert_eq!(b.verify_seal(&chain(), &key.public_key()), Ok(()));

        let mut changed = b.clone();
        changed.header.state_root = Hash([9; 32]);
        assert!(matches!(
            changed.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::BadSignature(_))
        ));

        let mut dropped = b.clone();
        dropped.transactions.pop();
        assert!(matches!(
            dropped.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::TxRootMismatch { .. })
        ));

        let other = SequencerKey::from_seed(&[6; 32]);
        assert!(matches!(
            b.verify_seal(&chain(), &other.public_key()),
            Err(BlockError::UnexpectedProposer { .. })
        ));
        let forged = block(&other, b.transactions.clone());
        assert!(matches!(
            forged.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::UnexpectedProposer { .. })
        ));
        assert_eq!(
            b.verify_seal(&ChainId::new("x").unwrap(), &key.public_key()),
            Err(BlockError::WrongChain)
        );
    }

    #[test]
    fn merkle_root_depends_on_order_count_and_content() {
        let tx_root = merkle_root;
        let (a, b, c) = (Hash([1; 32]), Hash([2; 32]), Hash([3; 32]));
        assert_ne!(tx_root(&[a, b]), tx_root(&[b, a]), "order matters");
        assert_ne!(tx_root(&[a]), tx_root(&[a, Hash::ZERO]), "zero padding is not a transaction");
        assert_ne!(tx_root(&[a, b, c]), tx_root(&[a, b]));
        assert_ne!(tx_root(&[]), tx_root(&[Hash::ZERO]));
        assert_eq!(tx_root(&[a, b, c]), tx_root(&[a, b, c]));
    }

    #[test]
    fn the_block_hash_commits_to_transaction_signatures() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let b = block(&key, alloc::vec![transfer(0)]);
        let mut swapped = b.clone();
        swapped.transactions[0].signature.s = Hash([1; 32]);
        assert_eq!(swapped.transactions[0].hash(), b.transactions[0].hash(), "same body");
        assert!(matches!(
            swapped.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::TxRootMismatch { .. })
        ));
    }

    #[test]
    fn forged_transaction_counts_are_refused_before_allocation() {
        let key = SequencerKey::from_seed(&[5; 32]);
        let mut bytes = block(&key, alloc::vec![]).encode_message();
        bytes.pop(); // the absent parent certificate
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&(MAX_BLOCK_TXS as u32 + 1).to_le_bytes());
        assert!(matches!(Block::decode_message(&bytes), Err(DecodeError::TooLong { .. })));
        bytes[n - 4..].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(Block::decode_message(&bytes), Err(DecodeError::UnexpectedEnd { .. })));
    }

    /// Proves a block carrying a parent certificate round-trips, its header must
    /// name the certificate's digest, and a swapped or dropped certificate is
    /// caught by the seal check; truncations are refused.
    #[test]
    fn the_header_commits_to_the_parent_certificate() {
        use crate::consensus::CommitSignature;
        let key = SequencerKey::from_seed(&[5; 32]);
        let cert = CommitCertificate {
            height: 0,
            round: 2,
            block_hash: Hash([7; 32]),
            signatures: alloc::vec![CommitSignature {
                validator: 0,
                signature: key.sign(b"precommit")
            }],
        };
        let mut header = block(&key, alloc::vec![]).header;
        header.parent_commit = certificate_digest(Some(&cert));
        header.validators = Hash([3; 32]);
        let b = header.seal_with(&key, alloc::vec![], Some(cert.clone()));
        assert_eq!(b.verify_seal(&chain(), &key.public_key()), Ok(()));
        let bytes = b.encode_message();
        assert_eq!(Block::decode_message(&bytes), Ok(b.clone()));
        for cut in 0..bytes.len() {
            assert!(Block::decode_message(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let dropped = Block { parent_commit: None, ..b.clone() };
        assert!(matches!(
            dropped.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::ParentCommitMismatch { .. })
        ));
        let mut other = cert;
        other.round = 3;
        let swapped = Block { parent_commit: Some(other), ..b };
        assert!(matches!(
            swapped.verify_seal(&chain(), &key.public_key()),
            Err(BlockError::ParentCommitMismatch { .. })
        ));
    }
}
