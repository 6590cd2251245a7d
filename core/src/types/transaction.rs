//! Account transactions.

use alloc::vec::Vec;

use crate::crypto::{SignatureError, StarkPublicKey, StarkSecretKey, StarkSignature};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::hash::{Domain, hash_bytes};
use crate::types::{Address, ChainId, Hash};

/// What a transaction does. One tag byte on the wire; later issues add staking calls.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Call {
    /// Moves `amount` from the sender to `to`.
    Transfer { to: Address, amount: u64 },
}

/// Everything a transaction's signature covers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxBody {
    /// The chain this transaction is valid on (replay protection across chains).
    pub chain_id: ChainId,
    /// The sender's key; the sender's address is derived from it, so a transaction
    /// from a new account needs no prior registration.
    pub sender_key: StarkPublicKey,
    /// Must equal the sender's account nonce; it increases by one per transaction
    /// (replay protection on this chain, and the per-sender order).
    pub nonce: u64,
    /// Paid by the sender on top of the call; burned until rewards arrive with
    /// proof of stake. Orders the mempool.
    pub fee: u64,
    pub call: Call,
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transaction {
    pub body: TxBody,
    pub signature: StarkSignature,
}

impl TxBody {
    /// The transaction hash: the digest of the body's encoding, which is what is signed.
    pub fn hash(&self) -> Hash {
        hash_bytes(Domain::Transaction, &self.to_bytes())
    }

    pub fn sender(&self) -> Address {
        self.sender_key.address()
    }

    /// Signs the body with `key` (which should be the key named in `sender_key`).
    pub fn sign(self, key: &StarkSecretKey) -> Transaction {
        let signature = key.sign(&self.hash());
        Transaction { body: self, signature }
    }
}

impl Transaction {
    pub fn hash(&self) -> Hash {
        self.body.hash()
    }

    pub fn sender(&self) -> Address {
        self.body.sender()
    }

    /// This transaction's leaf in its block's transaction root: the digest of the
    /// whole signed encoding. The hash ([`Transaction::hash`]) covers only the body,
    /// and ECDSA signatures are malleable (`(r, n − s)` verifies too), so a root over
    /// hashes alone would let a relay swap signatures under an unchanged block hash.
    pub fn leaf(&self) -> Hash {
        hash_bytes(Domain::SignedTransaction, &self.to_bytes())
    }

    /// The total the sender must hold: amount moved plus fee; `None` on overflow.
    pub fn total_cost(&self) -> Option<u64> {
        match self.body.call {
            Call::Transfer { amount, .. } => amount.checked_add(self.body.fee),
        }
    }

    /// Checks the signature against the sender's key.
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        self.body.sender_key.verify(&self.hash(), &self.signature)
    }
}

impl Encode for Call {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Call::Transfer { to, amount } => {
                out.push(0);
                to.encode_to(out);
                amount.encode_to(out);
            }
        }
    }
}

impl Decode for Call {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8()? {
            0 => Ok(Call::Transfer { to: Address::decode_from(reader)?, amount: reader.u64()? }),
            tag => Err(DecodeError::UnknownTag { field: "call", tag }),
        }
    }
}

impl Encode for TxBody {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.sender_key.encode_to(out);
        self.nonce.encode_to(out);
        self.fee.encode_to(out);
        self.call.encode_to(out);
    }
}

impl Decode for TxBody {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: ChainId::decode_from(reader)?,
            sender_key: StarkPublicKey::decode_from(reader)?,
            nonce: reader.u64()?,
            fee: reader.u64()?,
            call: Call::decode_from(reader)?,
        })
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.body.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for Transaction {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            body: TxBody::decode_from(reader)?,
            signature: StarkSignature::decode_from(reader)?,
        })
    }
}

impl Message for Transaction {
    /// Generous: a transfer encodes to under 200 bytes.
    const MAX_BYTES: usize = 1024;
}

/// Smallest possible encoding of a transaction, used to bound list lengths on decode.
pub(crate) const MIN_TX_BYTES: usize = 4 + 1 + 32 + 8 + 8 + 1 + 32 + 8 + 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::Decode;
    use proptest::prelude::*;

    fn key() -> StarkSecretKey {
        StarkSecretKey::from_entropy(&[3; 32])
    }

    fn body(nonce: u64, fee: u64, to: [u8; 32], amount: u64) -> TxBody {
        TxBody {
            chain_id: ChainId::new("starling-test").unwrap(),
            sender_key: key().public_key(),
            nonce,
            fee,
            call: Call::Transfer { to: Address(to), amount },
        }
    }

    proptest! {
        /// Any transaction encodes to bytes that decode to the same transaction,
        /// and re-encode to the same bytes (one value, one encoding).
        #[test]
        fn transactions_round_trip(nonce: u64, fee: u64, to: [u8; 32], amount: u64, r: [u8; 32], s: [u8; 32]) {
            let tx = Transaction { body: body(nonce, fee, to, amount), signature: StarkSignature { r: Hash(r), s: Hash(s) } };
            let bytes = tx.encode_message();
            prop_assert!(bytes.len() > MIN_TX_BYTES, "version byte plus at least the minimum");
            let back = Transaction::decode_message(&bytes).unwrap();
            prop_assert_eq!(&back, &tx);
            prop_assert_eq!(back.encode_message(), bytes);
        }

        /// Every strict prefix of an encoding is refused, never misread.
        #[test]
        fn truncated_transactions_are_refused(cut in 0usize..200) {
            let bytes = body(1, 2, [4; 32], 5).sign(&key()).encode_message();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(Transaction::decode_message(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn a_transfer_encodes_to_a_fixed_layout() {
        let bytes = body(1, 2, [4; 32], 5).to_bytes();
        // chain id (4 + 13) | key 32 | nonce 8 | fee 8 | call tag 1 | to 32 | amount 8
        assert_eq!(bytes.len(), 17 + 32 + 8 + 8 + 1 + 32 + 8);
        assert_eq!(&bytes[..4], &13u32.to_le_bytes());
        assert_eq!(bytes[17 + 32 + 16], 0, "transfer tag");
    }

    #[test]
    fn version_trailing_bytes_and_unknown_calls_are_refused() {
        let mut bytes = body(1, 2, [4; 32], 5).sign(&key()).encode_message();
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 2;
        assert!(matches!(
            Transaction::decode_message(&wrong_version),
            Err(DecodeError::UnknownTag { field: "wire version", tag: 2 })
        ));
        bytes.push(0);
        assert_eq!(Transaction::decode_message(&bytes), Err(DecodeError::TrailingBytes(1)));
        let mut reader = Reader::new(&[9]);
        assert!(matches!(Call::decode_from(&mut reader), Err(DecodeError::UnknownTag { .. })));
        let long = alloc::vec![0u8; Transaction::MAX_BYTES + 1];
        assert!(matches!(
            Transaction::decode_message(&long),
            Err(DecodeError::MessageTooLong { .. })
        ));
    }

    #[test]
    fn the_signature_covers_every_field() {
        let tx = body(1, 2, [4; 32], 5).sign(&key());
        assert_eq!(tx.verify_signature(), Ok(()));
        for changed in [
            body(2, 2, [4; 32], 5),
            body(1, 3, [4; 32], 5),
            body(1, 2, [5; 32], 5),
            body(1, 2, [4; 32], 6),
        ] {
            let forged = Transaction { body: changed, signature: tx.signature };
            assert!(forged.verify_signature().is_err());
        }
        let mut other_chain = tx.clone();
        other_chain.body.chain_id = ChainId::new("another").unwrap();
        assert!(other_chain.verify_signature().is_err(), "no replay across chains");
    }

    #[test]
    fn total_cost_refuses_overflow() {
        let tx = body(0, 1, [4; 32], u64::MAX).sign(&key());
        assert_eq!(tx.total_cost(), None);
        assert_eq!(body(0, 1, [4; 32], 5).sign(&key()).total_cost(), Some(6));
    }
}
