//! The chain's staking parameters, fixed at genesis.

use alloc::vec::Vec;
use core::fmt;

use crate::consensus::MAX_VALIDATORS;
use crate::encoding::{Decode, DecodeError, Encode, Reader};

/// One in ten thousand: rates are in basis points.
pub const BPS: u16 = 10_000;

/// The fewest epochs a staker (or delegator) waits between announcing its exit and
/// taking its tokens back. A validator set is fixed two epochs ahead, and the
/// epoch after a set's last one still pays the signers of that set's last
/// certificate, so a staker stays in sets (and so slashable and payable) for
/// three epochs after its intent; it may leave in the fourth.
pub const MIN_EXIT_WINDOW_EPOCHS: u64 = 4;

/// Everything the staking rules are parameterised by. Part of the genesis and
/// copied into the registry, so a stateless verifier holding only a witness has
/// them too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StakingParams {
    /// Blocks per epoch; validator sets change only at epoch boundaries.
    pub epoch_length: u64,
    /// The least stake a staker may hold, and the least a set member has.
    pub min_stake: u64,
    /// Total power an epoch's set must reach for proof of stake to start.
    pub activation_stake: u64,
    /// Members an epoch's set must have for proof of stake to start.
    pub min_validators: u32,
    /// Most members of a set: the stakers with the most power (stake plus
    /// delegations), ties broken by consensus key.
    pub max_validators: u32,
    /// Epochs between an exit intent (unstake or undelegate) and the withdrawal.
    pub exit_window_epochs: u64,
    /// Tokens minted per proof-of-stake block, paid out with the block's fees.
    pub block_reward: u64,
    /// The proposer's pool's share of a block's reward and fees, in basis points;
    /// the rest goes to the signers of the block's parent certificate.
    pub proposer_bps: u16,
    /// Highest commission a staker may charge its delegators, in basis points.
    pub max_commission_bps: u16,
    /// Share of a staker's own stake burned when it is caught double-signing.
    pub slash_bps: u16,
    /// The block interval the chain aims for, in milliseconds. A proof-of-stake
    /// epoch that produces fewer than two thirds of the blocks this interval
    /// expects hands the next epoch to the genesis sequencer (the liveness
    /// fallback); 0 turns the fallback off.
    pub target_block_ms: u64,
}

impl Default for StakingParams {
    fn default() -> Self {
        Self {
            epoch_length: 20,
            min_stake: 1_000,
            activation_stake: 4_000,
            min_validators: 4,
            max_validators: 100,
            exit_window_epochs: MIN_EXIT_WINDOW_EPOCHS,
            block_reward: 10,
            proposer_bps: 1_000,
            max_commission_bps: 5_000,
            slash_bps: 500,
            target_block_ms: 1_000,
        }
    }
}

/// Why a set of staking parameters cannot run a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsError {
    ZeroEpochLength,
    ZeroMinStake,
    /// `max_validators` is 0 or above [`MAX_VALIDATORS`].
    MaxValidators(u32),
    /// `min_validators` is 0 or above `max_validators`.
    MinValidators(u32),
    ExitWindowTooShort {
        min: u64,
        found: u64,
    },
    /// A basis-point rate above 10 000.
    RateAbove100Percent(&'static str),
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroEpochLength => f.write_str("epoch_length must be at least 1"),
            Self::ZeroMinStake => f.write_str("min_stake must be at least 1"),
            Self::MaxValidators(n) => {
                write!(f, "max_validators is {n}, it must be 1 to {MAX_VALIDATORS}")
            }
            Self::MinValidators(n) => {
                write!(f, "min_validators is {n}, it must be 1 to max_validators")
            }
            Self::ExitWindowTooShort { min, found } => {
                write!(f, "exit_window_epochs is {found}, it must be at least {min}")
            }
            Self::RateAbove100Percent(name) => write!(f, "{name} is above 10000 basis points"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParamsError {}

impl StakingParams {
    /// Checks the parameters can run a chain.
    pub fn check(&self) -> Result<(), ParamsError> {
        if self.epoch_length == 0 {
            return Err(ParamsError::ZeroEpochLength);
        }
        if self.min_stake == 0 {
            return Err(ParamsError::ZeroMinStake);
        }
        if self.max_validators == 0 || self.max_validators as usize > MAX_VALIDATORS {
            return Err(ParamsError::MaxValidators(self.max_validators));
        }
        if self.min_validators == 0 || self.min_validators > self.max_validators {
            return Err(ParamsError::MinValidators(self.min_validators));
        }
        if self.exit_window_epochs < MIN_EXIT_WINDOW_EPOCHS {
            let found = self.exit_window_epochs;
            return Err(ParamsError::ExitWindowTooShort { min: MIN_EXIT_WINDOW_EPOCHS, found });
        }
        let rates = [
            ("proposer_bps", self.proposer_bps),
            ("max_commission_bps", self.max_commission_bps),
            ("slash_bps", self.slash_bps),
        ];
        match rates.iter().find(|(_, rate)| *rate > BPS) {
            Some((name, _)) => Err(ParamsError::RateAbove100Percent(name)),
            None => Ok(()),
        }
    }

    /// The epoch block `height` belongs to.
    pub fn epoch_of(&self, height: u64) -> u64 {
        height / self.epoch_length
    }

    /// Whether an epoch that took `span_ms` (from the last block of the epoch
    /// before to its own last block) produced fewer than two thirds of the blocks
    /// [`Self::target_block_ms`] expects in that time: `epoch_length` blocks
    /// where `span / target` were due.
    pub fn epoch_too_slow(&self, span_ms: u64) -> bool {
        let blocks = u128::from(self.epoch_length);
        self.target_block_ms > 0
            && 3 * blocks * u128::from(self.target_block_ms) < 2 * u128::from(span_ms)
    }

    /// Whether block `height` is the last of its epoch: the registry rolls to the
    /// next epoch at its end.
    pub fn ends_epoch(&self, height: u64) -> bool {
        height % self.epoch_length == self.epoch_length - 1
    }
}

/// `amount × bps / 10 000`, rounded down; never more than `amount` for a valid rate.
pub(crate) fn share(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / u128::from(BPS)) as u64
}

/// Bytes of the encoding.
pub(crate) const PARAMS_BYTES: usize = 8 * 6 + 4 * 2 + 2 * 3;

impl Encode for StakingParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.epoch_length.encode_to(out);
        self.min_stake.encode_to(out);
        self.activation_stake.encode_to(out);
        self.min_validators.encode_to(out);
        self.max_validators.encode_to(out);
        self.exit_window_epochs.encode_to(out);
        self.block_reward.encode_to(out);
        out.extend_from_slice(&self.proposer_bps.to_le_bytes());
        out.extend_from_slice(&self.max_commission_bps.to_le_bytes());
        out.extend_from_slice(&self.slash_bps.to_le_bytes());
        self.target_block_ms.encode_to(out);
    }
}

impl Decode for StakingParams {
    /// Refuses parameters that fail [`StakingParams::check`]: the registry never
    /// holds any.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let params = Self {
            epoch_length: reader.u64()?,
            min_stake: reader.u64()?,
            activation_stake: reader.u64()?,
            min_validators: reader.u32()?,
            max_validators: reader.u32()?,
            exit_window_epochs: reader.u64()?,
            block_reward: reader.u64()?,
            proposer_bps: u16::from_le_bytes(reader.array()?),
            max_commission_bps: u16::from_le_bytes(reader.array()?),
            slash_bps: u16::from_le_bytes(reader.array()?),
            target_block_ms: reader.u64()?,
        };
        params.check().map_err(|_| DecodeError::InvalidValue {
            field: "staking parameters",
            reason: "they fail the parameter rules",
        })?;
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the defaults are valid and round-trip, truncations are refused, and
    /// every rule refuses (in the decoder too).
    #[test]
    fn defaults_are_valid_and_rules_refuse() {
        let p = StakingParams::default();
        assert_eq!(p.check(), Ok(()));
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), PARAMS_BYTES);
        assert_eq!(StakingParams::decode_from(&mut Reader::new(&bytes)), Ok(p));
        for cut in 0..bytes.len() {
            assert!(StakingParams::decode_from(&mut Reader::new(&bytes[..cut])).is_err());
        }
        let bad = [
            (StakingParams { epoch_length: 0, ..p }, ParamsError::ZeroEpochLength),
            (StakingParams { min_stake: 0, ..p }, ParamsError::ZeroMinStake),
            (StakingParams { max_validators: 0, ..p }, ParamsError::MaxValidators(0)),
            (StakingParams { max_validators: 1025, ..p }, ParamsError::MaxValidators(1025)),
            (StakingParams { min_validators: 101, ..p }, ParamsError::MinValidators(101)),
            (
                StakingParams { exit_window_epochs: 3, ..p },
                ParamsError::ExitWindowTooShort { min: 4, found: 3 },
            ),
            (
                StakingParams { slash_bps: 10_001, ..p },
                ParamsError::RateAbove100Percent("slash_bps"),
            ),
        ];
        for (params, error) in bad {
            assert_eq!(params.check(), Err(error));
            let bytes = params.to_bytes();
            assert!(StakingParams::decode_from(&mut Reader::new(&bytes)).is_err());
        }
    }

    /// Proves epochs are `height / epoch_length` and the last block of each ends it.
    #[test]
    fn epochs_split_heights() {
        let p = StakingParams { epoch_length: 5, ..StakingParams::default() };
        assert_eq!((p.epoch_of(4), p.epoch_of(5)), (0, 1));
        assert!(p.ends_epoch(4) && p.ends_epoch(9) && !p.ends_epoch(5));
        let one = StakingParams { epoch_length: 1, ..p };
        assert!(one.ends_epoch(0) && one.ends_epoch(7));
    }

    /// Proves a genesis file without staking parameters loads the defaults, and a
    /// partial one fills in the rest.
    #[test]
    fn serde_fills_defaults() {
        let p: StakingParams = serde_json::from_str(r#"{"epoch_length": 7}"#).unwrap();
        assert_eq!(p, StakingParams { epoch_length: 7, ..StakingParams::default() });
    }

    /// Proves shares round down and a full rate is the whole amount.
    #[test]
    fn shares_round_down() {
        assert_eq!(share(999, 1_000), 99);
        assert_eq!(share(u64::MAX, BPS), u64::MAX);
        assert_eq!(share(5, 0), 0);
    }
}
