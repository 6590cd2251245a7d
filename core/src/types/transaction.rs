//! Account transactions.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::consensus::SignedVote;
use crate::crypto::{
    SequencerPublicKey, SignatureError, StarkPublicKey, StarkSecretKey, StarkSignature,
};
use crate::encoding::{Decode, DecodeError, Encode, Message, Reader};
use crate::hash::{Domain, hash_bytes};
use crate::staking::REGISTRY;
use crate::types::{Address, ChainId, Hash};

/// What a transaction does. One tag byte on the wire, then the fields in order.
///
/// Every call but `Transfer` is a staking call (see [`crate::staking`]): it
/// reads and writes the sender's account and the staking registry, and nothing
/// else. Amounts bonded by `Stake`, `IncreaseStake` and `Delegate` are paid from
/// the sender's balance like a transfer's; withdrawals and rewards come back to it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Call {
    /// Tag 0. Moves `amount` from the sender to `to`.
    Transfer { to: Address, amount: u64 },
    /// Tag 1. Makes the sender a staker voting with `consensus_key`, bonding
    /// `amount` (at least `min_stake`) and charging its delegators
    /// `commission_bps` of their rewards.
    Stake { consensus_key: SequencerPublicKey, amount: u64, commission_bps: u16 },
    /// Tag 2. Bonds `amount` more to the sender's own stake.
    IncreaseStake { amount: u64 },
    /// Tag 3. Announces the sender's exit as a staker: it leaves every validator
    /// set fixed from now on, and may unstake after the exit window.
    UnstakeIntent,
    /// Tag 4. After the exit window: the stake and its rewards return to the balance.
    Unstake,
    /// Tag 5. Bonds `amount` to `staker`'s pool.
    Delegate { staker: Address, amount: u64 },
    /// Tag 6. Starts withdrawing `amount` from `staker`'s pool.
    UndelegateIntent { staker: Address, amount: u64 },
    /// Tag 7. After the exit window: the withdrawal from `staker`'s pool returns
    /// to the balance.
    Undelegate { staker: Address },
    /// Tag 8. Pays every reward the sender is owed (as staker and as delegator)
    /// to its balance.
    ClaimRewards,
    /// Tag 9. Proves a validator signed two conflicting votes; it is slashed.
    /// The votes are boxed: they are large, and transfers are the common case.
    Evidence {
        #[serde(with = "vote_hex")]
        a: Box<SignedVote>,
        #[serde(with = "vote_hex")]
        b: Box<SignedVote>,
    },
}

impl Call {
    /// The call's name, as its JSON `type` tag spells it (`"transfer"`, `"stake"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Call::Transfer { .. } => "transfer",
            Call::Stake { .. } => "stake",
            Call::IncreaseStake { .. } => "increase_stake",
            Call::UnstakeIntent => "unstake_intent",
            Call::Unstake => "unstake",
            Call::Delegate { .. } => "delegate",
            Call::UndelegateIntent { .. } => "undelegate_intent",
            Call::Undelegate { .. } => "undelegate",
            Call::ClaimRewards => "claim_rewards",
            Call::Evidence { .. } => "evidence",
        }
    }

    /// The tokens the call takes from the sender's balance besides the fee.
    pub fn amount(&self) -> u64 {
        match self {
            Call::Transfer { amount, .. }
            | Call::Stake { amount, .. }
            | Call::IncreaseStake { amount }
            | Call::Delegate { amount, .. } => *amount,
            Call::UnstakeIntent
            | Call::Unstake
            | Call::UndelegateIntent { .. }
            | Call::Undelegate { .. }
            | Call::ClaimRewards
            | Call::Evidence { .. } => 0,
        }
    }

    /// The account the call moves tokens to or names besides the sender and the
    /// registry: a transfer's recipient, or a pool's staker.
    pub fn named_address(&self) -> Option<Address> {
        match self {
            Call::Transfer { to, .. } => Some(*to),
            Call::Delegate { staker, .. }
            | Call::UndelegateIntent { staker, .. }
            | Call::Undelegate { staker } => Some(*staker),
            _ => None,
        }
    }

    /// Every account applying the call reads or writes besides the sender's: the
    /// recipient of a transfer, the registry for every staking call.
    pub fn touched_account(&self) -> Address {
        match self {
            Call::Transfer { to, .. } => *to,
            _ => REGISTRY,
        }
    }
}

/// A signed vote in JSON: the hex of its encoding.
mod vote_hex {
    use alloc::boxed::Box;
    use alloc::string::String;

    use crate::consensus::SignedVote;
    use crate::encoding::{Decode, Encode, Reader};

    pub fn serialize<S: serde::Serializer>(vote: &SignedVote, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(vote.to_bytes()))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Box<SignedVote>, D::Error> {
        use serde::de::Error;
        let text = <String as serde::Deserialize>::deserialize(d)?;
        let bytes = hex::decode(text.trim_start_matches("0x")).map_err(D::Error::custom)?;
        let mut reader = Reader::new(&bytes);
        let vote = SignedVote::decode_from(&mut reader).map_err(D::Error::custom)?;
        reader.finish().map_err(D::Error::custom)?;
        Ok(Box::new(vote))
    }
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

    /// The total the sender must hold: amount moved (or bonded) plus fee; `None`
    /// on overflow.
    pub fn total_cost(&self) -> Option<u64> {
        self.body.call.amount().checked_add(self.body.fee)
    }

    /// The accounts applying this transaction reads or writes: the sender's and
    /// the recipient's (for a staking call, the registry's).
    pub fn touched_accounts(&self) -> [Address; 2] {
        [self.sender(), self.body.call.touched_account()]
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
            Call::Stake { consensus_key, amount, commission_bps } => {
                out.push(1);
                consensus_key.encode_to(out);
                amount.encode_to(out);
                out.extend_from_slice(&commission_bps.to_le_bytes());
            }
            Call::IncreaseStake { amount } => {
                out.push(2);
                amount.encode_to(out);
            }
            Call::UnstakeIntent => out.push(3),
            Call::Unstake => out.push(4),
            Call::Delegate { staker, amount } => {
                out.push(5);
                staker.encode_to(out);
                amount.encode_to(out);
            }
            Call::UndelegateIntent { staker, amount } => {
                out.push(6);
                staker.encode_to(out);
                amount.encode_to(out);
            }
            Call::Undelegate { staker } => {
                out.push(7);
                staker.encode_to(out);
            }
            Call::ClaimRewards => out.push(8),
            Call::Evidence { a, b } => {
                out.push(9);
                a.encode_to(out);
                b.encode_to(out);
            }
        }
    }
}

impl Decode for Call {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match reader.u8()? {
            0 => Call::Transfer { to: Address::decode_from(reader)?, amount: reader.u64()? },
            1 => Call::Stake {
                consensus_key: SequencerPublicKey::decode_from(reader)?,
                amount: reader.u64()?,
                commission_bps: u16::from_le_bytes(reader.array()?),
            },
            2 => Call::IncreaseStake { amount: reader.u64()? },
            3 => Call::UnstakeIntent,
            4 => Call::Unstake,
            5 => Call::Delegate { staker: Address::decode_from(reader)?, amount: reader.u64()? },
            6 => Call::UndelegateIntent {
                staker: Address::decode_from(reader)?,
                amount: reader.u64()?,
            },
            7 => Call::Undelegate { staker: Address::decode_from(reader)? },
            8 => Call::ClaimRewards,
            9 => Call::Evidence {
                a: Box::new(SignedVote::decode_from(reader)?),
                b: Box::new(SignedVote::decode_from(reader)?),
            },
            tag => return Err(DecodeError::UnknownTag { field: "call", tag }),
        })
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
    /// Generous: a transfer encodes to under 200 bytes, evidence (two signed
    /// votes) to under 600.
    const MAX_BYTES: usize = 1024;
}

/// Smallest possible encoding of a transaction (a one-character chain id and a
/// call with no fields), used to bound list lengths on decode.
pub(crate) const MIN_TX_BYTES: usize = 4 + 1 + 32 + 8 + 8 + 1 + 64;

#[cfg(test)]
pub(crate) mod tests {
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

    /// One of every call, with every field set.
    pub(crate) fn every_call() -> Vec<Call> {
        use crate::consensus::{Vote, VoteKind};
        use crate::crypto::SequencerKey;
        let validator = SequencerKey::from_seed(&[8; 32]);
        let vote = |value: u8| {
            Vote {
                chain_id: ChainId::new("starling-test").unwrap(),
                height: 4,
                round: 1,
                kind: VoteKind::Precommit,
                value: Some(Hash([value; 32])),
                validator: validator.public_key(),
            }
            .sign(&validator)
        };
        let staker = Address([6; 32]);
        alloc::vec![
            Call::Transfer { to: staker, amount: 1 },
            Call::Stake { consensus_key: validator.public_key(), amount: 2, commission_bps: 300 },
            Call::IncreaseStake { amount: 3 },
            Call::UnstakeIntent,
            Call::Unstake,
            Call::Delegate { staker, amount: 4 },
            Call::UndelegateIntent { staker, amount: 5 },
            Call::Undelegate { staker },
            Call::ClaimRewards,
            Call::Evidence { a: Box::new(vote(1)), b: Box::new(vote(2)) },
        ]
    }

    /// Proves every call round-trips inside a signed transaction with its own
    /// tag (0 to 9, in order), within the size limit, through JSON too, and that
    /// every strict prefix is refused.
    #[test]
    fn every_call_round_trips_and_refuses_truncation() {
        for (tag, call) in every_call().into_iter().enumerate() {
            let encoded = call.to_bytes();
            assert_eq!(usize::from(encoded[0]), tag);
            let tx = TxBody { call, ..body(1, 2, [4; 32], 5) }.sign(&key());
            let bytes = tx.encode_message();
            assert!(bytes.len() <= Transaction::MAX_BYTES && bytes.len() > MIN_TX_BYTES);
            assert_eq!(Transaction::decode_message(&bytes).as_ref(), Ok(&tx));
            for cut in 0..bytes.len() {
                assert!(Transaction::decode_message(&bytes[..cut]).is_err(), "tag {tag} cut {cut}");
            }
            let json = serde_json::to_string(&tx).unwrap();
            assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), tx, "{json}");
            let tag = alloc::format!("\"type\":\"{}\"", tx.body.call.kind());
            assert!(json.contains(&tag), "{json}");
        }
    }

    /// Proves what each call costs the sender and which accounts it touches:
    /// bonding calls cost their amount plus fee, the others the fee; staking
    /// calls touch the sender and the registry.
    #[test]
    fn staking_costs_and_touched_accounts() {
        for call in every_call() {
            let tx = TxBody { call: call.clone(), ..body(0, 10, [4; 32], 0) }.sign(&key());
            let cost = match call {
                Call::Transfer { .. } => 11,
                Call::Stake { .. } => 12,
                Call::IncreaseStake { .. } => 13,
                Call::Delegate { .. } => 14,
                _ => 10,
            };
            assert_eq!(tx.total_cost(), Some(cost), "{call:?}");
            let other =
                if matches!(call, Call::Transfer { .. }) { Address([6; 32]) } else { REGISTRY };
            assert_eq!(tx.touched_accounts(), [tx.sender(), other]);
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
        let mut reader = Reader::new(&[10]);
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
