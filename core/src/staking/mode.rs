//! The stages: who signs blocks, by epoch.

use alloc::vec::Vec;

use crate::consensus::ValidatorSet;
use crate::crypto::SequencerPublicKey;
use crate::encoding::{Decode, DecodeError, Encode, Reader};

use super::{StakingParams, StakingState};

/// How blocks are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The genesis sequencer signs every block.
    Single,
    /// The epoch's validators propose and certify blocks.
    Pos,
}

/// The mode of the coming blocks and the epoch it began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ModeSince {
    pub mode: Mode,
    pub since_epoch: u64,
}

/// Who must sign (and, in proof of stake, certify) a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority<'a> {
    /// The genesis sequencer signs it; nobody certifies it.
    Sequencer(SequencerPublicKey),
    /// A member of this set proposes and signs it; more than two thirds of the
    /// set's power certify it.
    Validators(&'a ValidatorSet),
}

/// The mode of an epoch whose set is `set`, after an epoch in `mode`.
///
/// The chain moves to proof of stake at the first epoch whose set meets the
/// genesis thresholds (total power and members), and back to the sequencer only
/// if an epoch has no eligible staker at all (so the chain never stalls without
/// anyone to sign).
pub(crate) fn next_mode(mode: Mode, set: Option<&ValidatorSet>, params: &StakingParams) -> Mode {
    match (mode, set) {
        (Mode::Single, Some(set))
            if set.total_power() >= params.activation_stake
                && set.len() >= params.min_validators as usize =>
        {
            Mode::Pos
        }
        (Mode::Pos, None) => Mode::Single,
        (mode, _) => mode,
    }
}

impl StakingState {
    /// The mode of the next block.
    pub fn mode(&self) -> Mode {
        self.mode.mode
    }

    /// The mode of the next block and the epoch it began.
    pub fn mode_since(&self) -> ModeSince {
        self.mode
    }

    /// The mode of `epoch`, for the epochs the registry holds sets for: the
    /// previous one, the current one and the next two (their sets are fixed, so
    /// their modes are too). `None` outside those.
    pub fn mode_at(&self, epoch: u64) -> Option<Mode> {
        let _ = self.set_index(epoch)?;
        if epoch < self.epoch {
            // The mode changes only at the start of an epoch, so the previous
            // epoch ran in the other mode exactly when the current one began it.
            let changed = self.mode.since_epoch == self.epoch && self.epoch > 0;
            return Some(if changed { other(self.mode.mode) } else { self.mode.mode });
        }
        let ahead = (self.epoch + 1..=epoch)
            .fold(self.mode.mode, |mode, e| next_mode(mode, self.validator_set(e), &self.params));
        Some(ahead)
    }

    /// Who signs the block at `height`, for heights in the epochs the registry
    /// holds sets for ([`Self::mode_at`]); `None` outside them. Asked of the
    /// registry after block `h - 1`, it names the signer of block `h` and the set
    /// whose certificate makes it final; asked about `h - 1`, the set that
    /// certified the parent.
    pub fn authority_for(&self, height: u64) -> Option<Authority<'_>> {
        let epoch = self.params.epoch_of(height);
        match self.mode_at(epoch)? {
            Mode::Single => Some(Authority::Sequencer(self.sequencer)),
            Mode::Pos => self.validator_set(epoch).map(Authority::Validators),
        }
    }
}

fn other(mode: Mode) -> Mode {
    match mode {
        Mode::Single => Mode::Pos,
        Mode::Pos => Mode::Single,
    }
}

impl Encode for ModeSince {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(match self.mode {
            Mode::Single => 0,
            Mode::Pos => 1,
        });
        self.since_epoch.encode_to(out);
    }
}

impl Decode for ModeSince {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mode = match reader.u8()? {
            0 => Mode::Single,
            1 => Mode::Pos,
            tag => return Err(DecodeError::UnknownTag { field: "staking mode", tag }),
        };
        Ok(Self { mode, since_epoch: reader.u64()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::testing::set_of;

    /// Proves the switch rule: single moves to proof of stake only when the set
    /// meets both thresholds, and back only when there is no set.
    #[test]
    fn activation_needs_power_and_members() {
        let params =
            StakingParams { activation_stake: 30, min_validators: 3, ..StakingParams::default() };
        let enough = set_of(&[10, 10, 10]);
        let weak = set_of(&[10, 10, 9]);
        let few = set_of(&[20, 20]);
        assert_eq!(next_mode(Mode::Single, Some(&enough), &params), Mode::Pos);
        assert_eq!(next_mode(Mode::Single, Some(&weak), &params), Mode::Single);
        assert_eq!(next_mode(Mode::Single, Some(&few), &params), Mode::Single);
        assert_eq!(next_mode(Mode::Single, None, &params), Mode::Single);
        assert_eq!(next_mode(Mode::Pos, Some(&weak), &params), Mode::Pos);
        assert_eq!(next_mode(Mode::Pos, None, &params), Mode::Single);
    }

    /// Proves the mode encoding round-trips and refuses unknown modes and
    /// truncations.
    #[test]
    fn mode_encoding() {
        let mode = ModeSince { mode: Mode::Pos, since_epoch: 9 };
        let bytes = mode.to_bytes();
        assert_eq!(ModeSince::decode_from(&mut Reader::new(&bytes)), Ok(mode));
        for cut in 0..bytes.len() {
            assert!(ModeSince::decode_from(&mut Reader::new(&bytes[..cut])).is_err());
        }
        let mut unknown = bytes;
        unknown[0] = 2;
        assert!(matches!(
            ModeSince::decode_from(&mut Reader::new(&unknown)),
            Err(DecodeError::UnknownTag { .. })
        ));
    }
}
