//! What the registry records per staker, per delegation and per pending
//! withdrawal, and their encodings.

use alloc::vec::Vec;

use crate::crypto::SequencerPublicKey;
use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::types::Address;

/// One staker: an account that bonded tokens to run a validator, and the pool
/// delegators add to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Staker {
    /// The account that staked; rewards and returned stake go to it.
    pub address: Address,
    /// The Ed25519 key it votes and proposes with (one staker per key).
    pub consensus_key: SequencerPublicKey,
    /// Its own bonded tokens.
    pub stake: u64,
    /// Tokens delegated to its pool (not counting withdrawals under way).
    pub delegated: u64,
    /// Its cut of the pool's rewards before the rest is shared, in basis points.
    pub commission_bps: u16,
    /// The epoch it staked in; evidence about earlier votes is not its own.
    pub joined_epoch: u64,
    /// The epoch of its exit intent, if it announced one.
    pub exit_epoch: Option<u64>,
    /// Caught double-signing: slashed once, never in a set again (tombstoned).
    pub slashed: bool,
    /// The pool's reward per bonded token, ever, as a 64.64 fixed-point number
    /// that wraps (see [`super::rewards`]).
    pub reward_per_token: u128,
    /// `reward_per_token` when the staker's own stake was last settled.
    pub checkpoint: u128,
    /// Commission and settled rewards on its own stake, not yet claimed.
    pub unclaimed: u64,
}

/// Tokens an account delegated to one staker's pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Delegation {
    pub delegator: Address,
    pub staker: Address,
    pub amount: u64,
    /// The pool's `reward_per_token` when this delegation was last settled.
    pub checkpoint: u128,
    /// Settled rewards not yet claimed.
    pub unclaimed: u64,
}

/// Delegated tokens on their way out of a pool: they earn nothing, count for no
/// power, and may be withdrawn once the exit window has passed. One entry per
/// delegator and staker; a second intent adds to it and restarts its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unbonding {
    pub delegator: Address,
    pub staker: Address,
    pub amount: u64,
    /// The epoch of the latest intent.
    pub since_epoch: u64,
}

/// Encoded sizes, which bound list lengths on decode.
pub(crate) const STAKER_BYTES: usize = 32 + 32 + 8 + 8 + 2 + 8 + 9 + 1 + 16 + 16 + 8;
pub(crate) const DELEGATION_BYTES: usize = 32 + 32 + 8 + 16 + 8;
pub(crate) const UNBONDING_BYTES: usize = 32 + 32 + 8 + 8;

fn put_u128(out: &mut Vec<u8>, value: u128) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn get_u128(reader: &mut Reader<'_>) -> Result<u128, DecodeError> {
    Ok(u128::from_le_bytes(reader.array()?))
}

impl Encode for Staker {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.address.encode_to(out);
        self.consensus_key.encode_to(out);
        self.stake.encode_to(out);
        self.delegated.encode_to(out);
        out.extend_from_slice(&self.commission_bps.to_le_bytes());
        self.joined_epoch.encode_to(out);
        match self.exit_epoch {
            None => out.extend_from_slice(&[0; 9]),
            Some(epoch) => {
                out.push(1);
                epoch.encode_to(out);
            }
        }
        out.push(u8::from(self.slashed));
        put_u128(out, self.reward_per_token);
        put_u128(out, self.checkpoint);
        self.unclaimed.encode_to(out);
    }
}

impl Decode for Staker {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let address = Address::decode_from(reader)?;
        let consensus_key = SequencerPublicKey::decode_from(reader)?;
        let stake = reader.u64()?;
        let delegated = reader.u64()?;
        let commission_bps = u16::from_le_bytes(reader.array()?);
        let joined_epoch = reader.u64()?;
        // Fixed width (tag and eight bytes, zero when absent) so every staker
        // encodes to the same length.
        let exit_epoch = match (reader.u8()?, reader.u64()?) {
            (0, 0) => None,
            (1, epoch) => Some(epoch),
            (tag, _) => return Err(DecodeError::UnknownTag { field: "staker exit epoch", tag }),
        };
        let slashed = match reader.u8()? {
            0 => false,
            1 => true,
            tag => return Err(DecodeError::UnknownTag { field: "staker slashed flag", tag }),
        };
        Ok(Self {
            address,
            consensus_key,
            stake,
            delegated,
            commission_bps,
            joined_epoch,
            exit_epoch,
            slashed,
            reward_per_token: get_u128(reader)?,
            checkpoint: get_u128(reader)?,
            unclaimed: reader.u64()?,
        })
    }
}

impl Encode for Delegation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.delegator.encode_to(out);
        self.staker.encode_to(out);
        self.amount.encode_to(out);
        put_u128(out, self.checkpoint);
        self.unclaimed.encode_to(out);
    }
}

impl Decode for Delegation {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            delegator: Address::decode_from(reader)?,
            staker: Address::decode_from(reader)?,
            amount: reader.u64()?,
            checkpoint: get_u128(reader)?,
            unclaimed: reader.u64()?,
        })
    }
}

impl Encode for Unbonding {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.delegator.encode_to(out);
        self.staker.encode_to(out);
        self.amount.encode_to(out);
        self.since_epoch.encode_to(out);
    }
}

impl Decode for Unbonding {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            delegator: Address::decode_from(reader)?,
            staker: Address::decode_from(reader)?,
            amount: reader.u64()?,
            since_epoch: reader.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::sample_records;

    /// Proves each record round-trips at its fixed size and refuses every
    /// truncation and unknown flag bytes.
    #[test]
    fn records_round_trip_and_refuse_truncation() {
        let (staker, delegation, unbonding) = sample_records();
        check(&staker, STAKER_BYTES);
        check(&delegation, DELEGATION_BYTES);
        check(&unbonding, UNBONDING_BYTES);
        let exiting = Staker { exit_epoch: None, slashed: true, ..staker };
        check(&exiting, STAKER_BYTES);

        let bytes = staker.to_bytes();
        let flag_at = 32 + 32 + 8 + 8 + 2 + 8;
        for (at, value) in [(flag_at, 2), (flag_at + 9, 2)] {
            let mut bad = bytes.clone();
            bad[at] = value;
            assert!(matches!(
                Staker::decode_from(&mut Reader::new(&bad)),
                Err(DecodeError::UnknownTag { .. })
            ));
        }
        let mut absent_with_epoch = exiting.to_bytes();
        absent_with_epoch[flag_at + 1] = 1;
        assert!(Staker::decode_from(&mut Reader::new(&absent_with_epoch)).is_err());
    }

    fn check<T: Encode + Decode + PartialEq + core::fmt::Debug>(value: &T, len: usize) {
        let bytes = value.to_bytes();
        assert_eq!(bytes.len(), len);
        let mut reader = Reader::new(&bytes);
        assert_eq!(&T::decode_from(&mut reader).unwrap(), value);
        reader.finish().unwrap();
        for cut in 0..len {
            assert!(T::decode_from(&mut Reader::new(&bytes[..cut])).is_err(), "cut at {cut}");
        }
    }
}
