//! An account and the leaf digest that commits to it.

use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::hash::{DIGEST_ELEMENTS, Domain, M31, hash_elements, hash_to_elements, is_canonical};
use crate::types::{Address, Hash};

use super::StateError;
use super::node::EMPTY;

/// What the state holds for one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub balance: u64,
    /// Transactions this account has sent; the next one must carry this nonce.
    pub nonce: u64,
    /// Commitment to the account's staking records, maintained by the staking
    /// rules. [`Hash::ZERO`] is the commitment to *no* records, which is what every
    /// account has until it stakes or delegates.
    pub staking: Hash,
}

impl Account {
    /// Bytes of the encoding: balance, nonce, staking commitment.
    pub const ENCODED_LEN: usize = 8 + 8 + 32;

    /// Whether this is the account every address has before anything happens to
    /// it. An empty account is not stored: setting one removes the leaf, so "all
    /// fields zero" and "no account" are the same state and have the same root.
    pub fn is_empty(&self) -> bool {
        self.balance == 0 && self.nonce == 0 && self.staking == Hash::ZERO
    }
}

impl Encode for Account {
    fn encode_to(&self, out: &mut alloc::vec::Vec<u8>) {
        self.balance.encode_to(out);
        self.nonce.encode_to(out);
        self.staking.encode_to(out);
    }
}

impl Decode for Account {
    /// Refuses a staking commitment with a limb ≥ p: it would hash like another
    /// value, so the same account would have two encodings.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let balance = reader.u64()?;
        let nonce = reader.u64()?;
        let staking = Hash::decode_from(reader)?;
        if !is_canonical(&staking) {
            return Err(DecodeError::InvalidValue {
                field: "account staking commitment",
                reason: "a limb is not below 2^31 - 1",
            });
        }
        Ok(Self { balance, nonce, staking })
    }
}

/// Field elements hashed into a leaf: address (8), balance (4), nonce (4),
/// staking commitment (8).
const LEAF_ELEMENTS: usize = 2 * DIGEST_ELEMENTS + 8;

/// The four 16-bit limbs of a `u64`, least significant first. A 64-bit value does
/// not fit one 31-bit element, and 16-bit limbs are what a STARK range-checks
/// cheaply.
pub fn u64_limbs(value: u64) -> [M31; 4] {
    core::array::from_fn(|i| M31::new(((value >> (16 * i)) & 0xffff) as u32))
}

/// The digest of the leaf holding `account` at `address`:
/// `hash_elements(Leaf, address ‖ balance limbs ‖ nonce limbs ‖ staking)`, or
/// [`EMPTY`] (the digest of a subtree with no account) for an empty account.
///
/// The leaf commits to the whole address, and its digest does not depend on the
/// depth it sits at, so a proof can tell which address occupies a subtree however
/// high the leaf was lifted. Callers store only canonical addresses and
/// commitments: a limb ≥ p would hash like a smaller value.
pub fn leaf_digest(address: &Address, account: &Account) -> Hash {
    if account.is_empty() {
        return EMPTY;
    }
    let mut elements = [M31::ZERO; LEAF_ELEMENTS];
    elements[..8].copy_from_slice(&hash_to_elements(&address.as_hash()));
    elements[8..12].copy_from_slice(&u64_limbs(account.balance));
    elements[12..16].copy_from_slice(&u64_limbs(account.nonce));
    elements[16..].copy_from_slice(&hash_to_elements(&account.staking));
    hash_elements(Domain::Leaf, &elements)
}

/// Refuses what a leaf cannot commit to unambiguously: a non-canonical address or
/// staking commitment. Empty accounts are never stored, so they always pass.
pub fn check_canonical(address: &Address, account: &Account) -> Result<(), StateError> {
    if account.is_empty() {
        return Ok(());
    }
    if !is_canonical(&address.as_hash()) {
        return Err(StateError::NonCanonicalAddress(*address));
    }
    if !is_canonical(&account.staking) {
        return Err(StateError::NonCanonicalStaking(*address));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::encoding::Reader;

    use super::*;

    fn sample() -> Account {
        Account { balance: 0x0123_4567_89ab_cdef, nonce: 7, staking: Hash([3; 32]) }
    }

    /// Proves the encoding round-trips and has the documented length.
    #[test]
    fn encoding_round_trips() {
        let account = sample();
        let bytes = account.to_bytes();
        assert_eq!(bytes.len(), Account::ENCODED_LEN);
        let mut reader = Reader::new(&bytes);
        assert_eq!(Account::decode_from(&mut reader), Ok(account));
        reader.finish().unwrap();
    }

    /// Proves a non-canonical staking commitment does not decode.
    #[test]
    fn non_canonical_staking_is_refused() {
        let mut account = sample();
        account.staking = Hash([0xff; 32]);
        let bytes = account.to_bytes();
        assert!(matches!(
            Account::decode_from(&mut Reader::new(&bytes)),
            Err(DecodeError::InvalidValue { .. })
        ));
        assert_eq!(
            check_canonical(&Address::ZERO, &account),
            Err(StateError::NonCanonicalStaking(Address::ZERO))
        );
        let bad_address = Address([0xff; 32]);
        assert_eq!(
            check_canonical(&bad_address, &sample()),
            Err(StateError::NonCanonicalAddress(bad_address))
        );
        assert_eq!(check_canonical(&bad_address, &Account::default()), Ok(()));
    }

    /// Proves every field of the account and every element of the address change
    /// the leaf, and an empty account is the empty leaf.
    #[test]
    fn leaf_commits_to_everything() {
        let address = Address([1; 32]);
        let base = leaf_digest(&address, &sample());
        assert_eq!(leaf_digest(&address, &Account::default()), EMPTY);
        let mut other = sample();
        other.balance += 1 << 48;
        assert_ne!(leaf_digest(&address, &other), base);
        let mut other = sample();
        other.nonce += 1;
        assert_ne!(leaf_digest(&address, &other), base);
        let mut other = sample();
        other.staking.0[31] = 4;
        assert_ne!(leaf_digest(&address, &other), base);
        let mut other_address = address;
        other_address.0[31] = 2;
        assert_ne!(leaf_digest(&other_address, &sample()), base);
        // Balance and nonce are separate fields, not one 128-bit number.
        let swapped = Account { balance: 7, nonce: 0x0123_4567_89ab_cdef, ..sample() };
        assert_ne!(leaf_digest(&address, &swapped), base);
    }

    /// Proves balance limbs are 16-bit, least significant first.
    #[test]
    fn u64_limbs_are_little_endian_16_bit() {
        let limbs = u64_limbs(0x0123_4567_89ab_cdef).map(M31::value);
        assert_eq!(limbs, [0xcdef, 0x89ab, 0x4567, 0x0123]);
    }

    /// Proves the serde form carries the staking commitment as hex.
    #[test]
    fn serde_round_trips() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.contains("\"staking\":\"0x0303"), "{json}");
        assert_eq!(serde_json::from_str::<Account>(&json).unwrap(), sample());
    }
}
