//! Keeping the staking registry's preimage consistent with the registry
//! account's commitment, wherever state is held.

use crate::staking::{REGISTRY, StakingState};
use crate::types::{Address, Hash};

use super::{Account, StateError};

/// A registry preimage with its commitment, hashed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeldRegistry {
    state: StakingState,
    commitment: Hash,
}

impl HeldRegistry {
    pub fn new(state: StakingState) -> Self {
        let commitment = state.commitment();
        Self { state, commitment }
    }

    pub fn state(&self) -> &StakingState {
        &self.state
    }

    pub fn commitment(&self) -> Hash {
        self.commitment
    }

    /// The registry account holding this registry, `escrow` and `nonce`.
    pub fn account(&self, escrow: u64, nonce: u64) -> Account {
        Account { balance: escrow, nonce, staking: self.commitment }
    }
}

/// The commitment the registry account holds when `held` is the preimage
/// ([`Hash::ZERO`] for none).
pub(crate) fn commitment_of(held: Option<&HeldRegistry>) -> Hash {
    held.map_or(Hash::ZERO, HeldRegistry::commitment)
}

/// Refuses a write to the registry account that would change its commitment:
/// only [`super::StateView::write_registry`] does that, with the preimage.
pub(crate) fn check_write(
    address: &Address,
    account: &Account,
    held: Option<&HeldRegistry>,
) -> Result<(), StateError> {
    if *address == REGISTRY && account.staking != commitment_of(held) {
        return Err(StateError::RegistryMismatch(
            "the registry account's commitment changes only with the registry",
        ));
    }
    Ok(())
}

/// Checks a preimage that came with proofs: `proven` is the registry account as
/// proven (`None` when no proof of it came), `preimage` what came with them.
/// A non-empty registry account needs its preimage, matching its commitment; a
/// preimage without a proof of the account is refused too.
pub(crate) fn check_preimage(
    proven: Option<&Account>,
    preimage: Option<&StakingState>,
) -> Result<Option<HeldRegistry>, StateError> {
    let held = preimage.cloned().map(HeldRegistry::new);
    match proven {
        None if held.is_some() => {
            Err(StateError::RegistryMismatch("a preimage came without the registry account"))
        }
        None => Ok(None),
        Some(account) if account.staking != commitment_of(held.as_ref()) => {
            Err(StateError::RegistryMismatch(match held {
                None => "the registry account's preimage is missing",
                Some(_) => "the preimage does not match the proven commitment",
            }))
        }
        Some(_) => Ok(held),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staking::StakingParams;
    use crate::staking::testing::registry;

    /// Proves a preimage is accepted only with a proof of an account holding its
    /// commitment, and required whenever that account holds one.
    #[test]
    fn preimages_must_match_the_proven_commitment() {
        let held = HeldRegistry::new(registry());
        let account = held.account(5, 0);
        let state = held.state();
        assert_eq!(check_preimage(Some(&account), Some(state)), Ok(Some(held.clone())));
        assert_eq!(check_preimage(None, None), Ok(None));
        assert_eq!(check_preimage(Some(&Account::default()), None), Ok(None));
        let params = StakingParams { epoch_length: 7, ..*state.params() };
        let tampered = StakingState::genesis(params, state.sequencer());
        for (proven, preimage) in [
            (Some(&account), Some(&tampered)),
            (Some(&account), None),
            (None, Some(state)),
            (Some(&Account::default()), Some(state)),
        ] {
            assert!(matches!(
                check_preimage(proven, preimage),
                Err(StateError::RegistryMismatch(_))
            ));
        }
        assert!(check_write(&REGISTRY, &account, None).is_err());
        assert!(check_write(&REGISTRY, &account, Some(&held)).is_ok());
        assert!(check_write(&Address::ZERO, &account, None).is_ok());
    }
}
