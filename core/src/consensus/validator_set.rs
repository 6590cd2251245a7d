//! The validators of one epoch and their voting power.

use alloc::vec::Vec;
use core::fmt;

use crate::crypto::SequencerPublicKey;
use crate::encoding::{Decode, DecodeError, Encode, Reader, put_list};
use crate::hash::{Domain, hash_bytes};
use crate::types::{Address, Hash};

/// Most validators an epoch may have; bounds decoding and every per-validator loop.
pub const MAX_VALIDATORS: usize = 1024;

/// One validator: the key it votes with, the account its rewards go to, and its
/// voting power (its stake plus what is delegated to it, in base units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validator {
    pub key: SequencerPublicKey,
    pub staker: Address,
    pub power: u64,
}

/// Validators sorted by key, each once, each with power > 0, total power within a
/// `u64`. The index of a validator in this order names it in certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: u64,
}

/// Why a list of validators is not a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidatorSetError {
    Empty,
    TooMany(usize),
    DuplicateKey(SequencerPublicKey),
    ZeroPower(SequencerPublicKey),
    PowerOverflow,
}

impl fmt::Display for ValidatorSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a validator set needs at least one validator"),
            Self::TooMany(n) => write!(f, "{n} validators, the limit is {MAX_VALIDATORS}"),
            Self::DuplicateKey(k) => write!(f, "validator key {k} appears twice"),
            Self::ZeroPower(k) => write!(f, "validator {k} has no voting power"),
            Self::PowerOverflow => f.write_str("total voting power overflows"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ValidatorSetError {}

impl ValidatorSet {
    /// Sorts `validators` by key and checks the set's rules.
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooMany(validators.len()));
        }
        validators.sort_unstable_by_key(|v| v.key);
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if i > 0 && validators[i - 1].key == v.key {
                return Err(ValidatorSetError::DuplicateKey(v.key));
            }
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.key));
            }
            total = total.checked_add(v.power).ok_or(ValidatorSetError::PowerOverflow)?;
        }
        Ok(Self { validators, total_power: total })
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    /// The position of `key` in the set, which names it in certificates.
    pub fn index_of(&self, key: &SequencerPublicKey) -> Option<usize> {
        self.validators.binary_search_by(|v| v.key.cmp(key)).ok()
    }

    pub fn get(&self, key: &SequencerPublicKey) -> Option<&Validator> {
        self.index_of(key).map(|i| &self.validators[i])
    }

    /// Whether `power` is more than two thirds of the total: a quorum.
    pub fn is_quorum(&self, power: u64) -> bool {
        3 * u128::from(power) > 2 * u128::from(self.total_power)
    }

    /// Whether `power` is more than one third of the total: enough that at least
    /// one honest validator is among it when fewer than a third are faulty.
    pub fn is_one_third(&self, power: u64) -> bool {
        3 * u128::from(power) > u128::from(self.total_power)
    }

    /// The digest committing to the whole set, in order.
    pub fn hash(&self) -> Hash {
        hash_bytes(Domain::ValidatorSet, &self.to_bytes())
    }
}

impl Encode for Validator {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.key.encode_to(out);
        self.staker.encode_to(out);
        self.power.encode_to(out);
    }
}

impl Decode for Validator {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            key: SequencerPublicKey::decode_from(reader)?,
            staker: Address::decode_from(reader)?,
            power: reader.u64()?,
        })
    }
}

impl Encode for ValidatorSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_list(out, &self.validators);
    }
}

impl Decode for ValidatorSet {
    /// Refuses lists that are not sets (unsorted, duplicated, zero power, overflow),
    /// so every set has one encoding.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let validators: Vec<Validator> = reader.list("validators", MAX_VALIDATORS, 72)?;
        if validators.windows(2).any(|w| w[0].key >= w[1].key) {
            return Err(DecodeError::InvalidValue {
                field: "validators",
                reason: "not sorted by key, or a key appears twice",
            });
        }
        Self::new(validators).map_err(|_| DecodeError::InvalidValue {
            field: "validators",
            reason: "empty, zero power or total power overflows",
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::SequencerKey;
    use crate::encoding::Reader;

    /// Validators with seeds 1..=n and the given powers, and their keys.
    pub(crate) fn set_with(powers: &[u64]) -> (ValidatorSet, Vec<SequencerKey>) {
        let keys: Vec<SequencerKey> =
            (1..=powers.len()).map(|i| SequencerKey::from_seed(&[i as u8; 32])).collect();
        let validators = keys
            .iter()
            .zip(powers)
            .map(|(k, &power)| Validator { key: k.public_key(), staker: Address([7; 32]), power })
            .collect();
        (ValidatorSet::new(validators).unwrap(), keys)
    }

    /// Proves the quorum and one-third thresholds are strict: exactly two thirds
    /// is not a quorum, exactly one third is not enough to skip.
    #[test]
    fn thresholds_are_strict() {
        let (set, _) = set_with(&[1, 1, 1]);
        assert!(!set.is_quorum(2));
        assert!(set.is_quorum(3));
        assert!(!set.is_one_third(1));
        assert!(set.is_one_third(2));
        let (weighted, _) = set_with(&[10, 20, 70]);
        assert!(weighted.is_quorum(70 + 10 - 9));
        assert!(!weighted.is_quorum(66));
    }

    /// Proves a set is sorted by key, finds its members, and refuses duplicates,
    /// zero power, emptiness and overflow.
    #[test]
    fn sets_are_checked() {
        let (set, keys) = set_with(&[3, 4, 5]);
        assert!(set.validators().windows(2).all(|w| w[0].key < w[1].key));
        for key in &keys {
            assert_eq!(set.get(&key.public_key()).unwrap().key, key.public_key());
        }
        let v = set.validators()[0];
        assert_eq!(ValidatorSet::new(vec![v, v]), Err(ValidatorSetError::DuplicateKey(v.key)));
        let zero = Validator { power: 0, ..v };
        assert_eq!(ValidatorSet::new(vec![zero]), Err(ValidatorSetError::ZeroPower(v.key)));
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let big = set.validators().iter().map(|v| Validator { power: u64::MAX, ..*v }).collect();
        assert_eq!(ValidatorSet::new(big), Err(ValidatorSetError::PowerOverflow));
    }

    /// Proves a set round-trips and that an unsorted encoding is refused.
    #[test]
    fn encoding_is_canonical() {
        let (set, _) = set_with(&[3, 4, 5]);
        let bytes = set.to_bytes();
        assert_eq!(ValidatorSet::decode_from(&mut Reader::new(&bytes)).unwrap(), set);
        let mut swapped = set.validators().to_vec();
        swapped.swap(0, 1);
        let mut unsorted = Vec::new();
        put_list(&mut unsorted, &swapped);
        assert!(ValidatorSet::decode_from(&mut Reader::new(&unsorted)).is_err());
    }
}
