//! The votes of one height, tallied by power.
//!
//! Every rule of Algorithm 1 that counts votes asks one of three questions about a
//! round and a vote kind: has more than two thirds of the power voted for this
//! value (a *quorum*, "2f+1" in the paper), for nil, or for anything at all? The
//! keeper answers each in O(log n) from running tallies, so a height of n
//! validators costs O(n log n) overall, never O(n²).
//!
//! Each validator counts once towards "anything", and at most once towards each
//! value. A validator that votes for two values in one round and step has
//! double-signed: the pair is handed back as evidence (once per validator, round
//! and step), and its further vote *does* count towards its own value, as in the
//! paper, which counts the senders of messages for each value. That is safe: two
//! quorums share more than a third of the power, so some correct validator would
//! have to double-sign as well. And it is needed for liveness: if only first votes
//! counted, a double-signer showing each half of the network a different prevote
//! could leave correct validators forever unable to see the quorum that justifies
//! re-proposing a locked value (lines 28-33), so a locked validator would never be
//! released. (The deterministic simulation found exactly that.)
//!
//! To bound memory, a validator's votes beyond its first are kept only when the
//! caller asks: the driver asks for nil and for blocks with a proposal in that
//! round, the only values a rule can act on; it hands the others in again once
//! their proposal is known. The same vote again (gossip repeats messages) is
//! recognised before any signature check.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::crypto::{SequencerPublicKey, SequencerSignature};
use crate::types::{ChainId, Hash};

use super::{SignedVote, ValidatorSet, Vote, VoteKind};

/// One validator's first vote in a round and step, without what the height fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoredVote {
    pub value: Option<Hash>,
    pub signature: SequencerSignature,
    /// A conflicting vote by the same validator was already reported.
    pub reported: bool,
}

/// What adding a vote did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// Counted: the validator's first vote of this round and step, or a further
    /// one (after the first conflict) that the caller asked to count.
    Counted,
    /// Nothing changed: the same vote again, or a further conflicting vote, not
    /// to be counted, by a validator already reported.
    Duplicate,
    /// The validator's first conflicting vote in this round and step: evidence,
    /// with its first vote. `counted`: it also counted towards its value.
    Conflict { first: StoredVote, counted: bool },
}

/// The votes of one kind in one round.
#[derive(Debug, Default)]
struct Tally {
    /// Each validator's first vote, by validator index; sized on first use.
    first: Vec<Option<StoredVote>>,
    /// Double-signers' further votes, by (value, validator index).
    further: BTreeMap<(Option<Hash>, usize), SequencerSignature>,
    /// Power per value voted for, nil included.
    power: BTreeMap<Option<Hash>, u64>,
    /// Power of everyone who voted, whatever for, each validator once.
    any: u64,
    /// The first value (nil included) to gather a quorum.
    quorum: Option<Option<Hash>>,
}

/// Prevotes and precommits of every round of one height that the driver keeps.
#[derive(Debug, Default)]
pub(crate) struct VoteKeeper {
    rounds: BTreeMap<(u32, VoteKind), Tally>,
}

impl VoteKeeper {
    /// The first vote of validator `index` in `round` and `kind`, if any.
    pub fn first(&self, round: u32, kind: VoteKind, index: usize) -> Option<&StoredVote> {
        self.rounds.get(&(round, kind))?.first.get(index)?.as_ref()
    }

    /// Whether validator `index`'s vote for `value` in `round` and `kind` is kept.
    pub fn has(&self, round: u32, kind: VoteKind, index: usize, value: Option<Hash>) -> bool {
        let Some(tally) = self.rounds.get(&(round, kind)) else { return false };
        let first = tally.first.get(index).copied().flatten();
        first.is_some_and(|f| f.value == value) || tally.further.contains_key(&(value, index))
    }

    /// Adds `signed`, by validator `index` (already checked), to the tallies. A
    /// vote conflicting with the validator's first one counts only if
    /// `count_conflicting`.
    pub fn add(
        &mut self,
        set: &ValidatorSet,
        index: usize,
        signed: &SignedVote,
        count_conflicting: bool,
    ) -> Added {
        let Vote { round, kind, value, .. } = signed.vote;
        let signature = signed.signature;
        let tally = self.rounds.entry((round, kind)).or_default();
        if tally.first.is_empty() {
            tally.first.resize(set.len(), None);
        }
        let power = set.validators()[index].power;
        let first = match &mut tally.first[index] {
            slot @ None => {
                *slot = Some(StoredVote { value, signature, reported: false });
                tally.any += power;
                tally.count(set, value, power);
                return Added::Counted;
            }
            Some(first) if first.value == value => return Added::Duplicate,
            Some(first) => first,
        };
        let report = !first.reported;
        first.reported = true;
        let first = *first;
        let counted =
            count_conflicting && tally.further.insert((value, index), signature).is_none();
        if counted {
            tally.count(set, value, power);
        }
        match (report, counted) {
            (true, _) => Added::Conflict { first, counted },
            (false, true) => Added::Counted,
            (false, false) => Added::Duplicate,
        }
    }

    /// The value (`Some(None)` for nil) that more than two thirds voted for in
    /// `round` and `kind`, if any.
    pub fn quorum_value(&self, round: u32, kind: VoteKind) -> Option<Option<Hash>> {
        self.rounds.get(&(round, kind))?.quorum
    }

    /// Whether more than two thirds voted in `round` and `kind`, for anything.
    pub fn quorum_any(&self, set: &ValidatorSet, round: u32, kind: VoteKind) -> bool {
        self.rounds.get(&(round, kind)).is_some_and(|t| set.is_quorum(t.any))
    }

    /// The power that voted for `value` in `round` and `kind`.
    pub fn power_for(&self, round: u32, kind: VoteKind, value: Option<Hash>) -> u64 {
        self.rounds.get(&(round, kind)).and_then(|t| t.power.get(&value)).copied().unwrap_or(0)
    }

    /// Whether anyone prevoted or precommitted block `value` in `round`.
    pub fn anyone_voted_for(&self, round: u32, value: Hash) -> bool {
        [VoteKind::Prevote, VoteKind::Precommit]
            .into_iter()
            .any(|kind| self.power_for(round, kind, Some(value)) > 0)
    }

    /// The counted precommits for `value` in `round`, as signed votes.
    pub fn precommits_for(
        &self,
        chain_id: &ChainId,
        set: &ValidatorSet,
        height: u64,
        round: u32,
        value: Hash,
    ) -> Vec<SignedVote> {
        let Some(tally) = self.rounds.get(&(round, VoteKind::Precommit)) else {
            return Vec::new();
        };
        let value = Some(value);
        let firsts = (tally.first.iter().enumerate())
            .filter_map(|(index, first)| Some((index, first.as_ref()?)))
            .filter(|(_, first)| first.value == value)
            .map(|(index, first)| (index, first.signature));
        let further = (tally.further.range((value, 0)..=(value, usize::MAX)))
            .map(|(&(_, index), &signature)| (index, signature));
        (firsts.chain(further))
            .map(|(index, signature)| {
                let validator = set.validators()[index].key;
                signed(chain_id, height, round, VoteKind::Precommit, value, validator, signature)
            })
            .collect()
    }
}

impl Tally {
    fn count(&mut self, set: &ValidatorSet, value: Option<Hash>, power: u64) {
        let for_value = self.power.entry(value).or_default();
        *for_value += power;
        if self.quorum.is_none() && set.is_quorum(*for_value) {
            self.quorum = Some(value);
        }
    }
}

impl StoredVote {
    /// The full signed vote this was, given what the height fixes.
    pub fn to_signed(
        self,
        chain_id: &ChainId,
        height: u64,
        round: u32,
        kind: VoteKind,
        validator: SequencerPublicKey,
    ) -> SignedVote {
        signed(chain_id, height, round, kind, self.value, validator, self.signature)
    }
}

fn signed(
    chain_id: &ChainId,
    height: u64,
    round: u32,
    kind: VoteKind,
    value: Option<Hash>,
    validator: SequencerPublicKey,
    signature: SequencerSignature,
) -> SignedVote {
    let vote = Vote { chain_id: chain_id.clone(), height, round, kind, value, validator };
    SignedVote { vote, signature }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::validator_set::tests::set_with;

    fn prevote(set: &ValidatorSet, index: usize, value: Option<Hash>) -> SignedVote {
        vote(set, index, VoteKind::Prevote, value)
    }

    /// A vote as the keeper sees it: signature checks are the driver's.
    fn vote(set: &ValidatorSet, index: usize, kind: VoteKind, value: Option<Hash>) -> SignedVote {
        let chain_id = ChainId::new("starling-test").unwrap();
        let validator = set.validators()[index].key;
        let vote = Vote { chain_id, height: 9, round: 0, kind, value, validator };
        SignedVote { vote, signature: SequencerSignature([index as u8; 64]) }
    }

    fn add(
        keeper: &mut VoteKeeper,
        set: &ValidatorSet,
        index: usize,
        value: Option<Hash>,
    ) -> Added {
        keeper.add(set, index, &prevote(set, index, value), true)
    }

    /// Proves a quorum is more than two thirds of the *power*: with powers
    /// 1, 1, 1, 3 the heavy validator and one light one (4 of 6) are not enough,
    /// and a third light one (5 of 6) is (lines 36 and 44 count "2f+1" by power).
    #[test]
    fn quorum_is_by_power() {
        let (set, keys) = set_with(&[1, 1, 1, 3]);
        let heavy = set.index_of(&keys[3].public_key()).unwrap();
        let light: Vec<usize> = (0..4).filter(|&i| i != heavy).collect();
        let block = Some(Hash([1; 32]));
        let mut keeper = VoteKeeper::default();
        add(&mut keeper, &set, heavy, block);
        add(&mut keeper, &set, light[0], block);
        assert_eq!(keeper.quorum_value(0, VoteKind::Prevote), None);
        add(&mut keeper, &set, light[1], block);
        assert_eq!(keeper.quorum_value(0, VoteKind::Prevote), Some(block));
        assert_eq!(keeper.power_for(0, VoteKind::Prevote, block), 5);
    }

    /// Proves "2f+1 of anything" (lines 34 and 47) counts votes for different
    /// values and nil together, while no single value has a quorum.
    #[test]
    fn quorum_of_any_mixes_values() {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let mut keeper = VoteKeeper::default();
        add(&mut keeper, &set, 0, Some(Hash([1; 32])));
        add(&mut keeper, &set, 1, Some(Hash([2; 32])));
        assert!(!keeper.quorum_any(&set, 0, VoteKind::Prevote));
        add(&mut keeper, &set, 2, None);
        assert!(keeper.quorum_any(&set, 0, VoteKind::Prevote));
        assert!(!keeper.quorum_any(&set, 0, VoteKind::Precommit));
        assert_eq!(keeper.quorum_value(0, VoteKind::Prevote), None);
    }

    /// Proves a validator counts once towards "anything" and once per value: a
    /// repeat changes nothing; a conflicting vote is reported once, with the first
    /// vote, and counts towards its own value; a third value counts too but is
    /// not reported again; a conflicting vote the caller does not want counted
    /// changes nothing once reported.
    #[test]
    fn double_signers_count_once_per_value_and_are_reported_once() {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let mut keeper = VoteKeeper::default();
        let (a, b) = (Some(Hash([1; 32])), Some(Hash([2; 32])));
        assert_eq!(add(&mut keeper, &set, 0, a), Added::Counted);
        assert_eq!(add(&mut keeper, &set, 0, a), Added::Duplicate);
        assert!(matches!(
            add(&mut keeper, &set, 0, None),
            Added::Conflict { first, counted: true } if first.value == a
        ));
        assert_eq!(add(&mut keeper, &set, 0, None), Added::Duplicate);
        assert_eq!(add(&mut keeper, &set, 0, b), Added::Counted);
        let uncounted = keeper.add(&set, 0, &prevote(&set, 0, Some(Hash([3; 32]))), false);
        assert_eq!(uncounted, Added::Duplicate);
        for value in [a, None, b] {
            assert_eq!(keeper.power_for(0, VoteKind::Prevote, value), 1);
            assert!(keeper.has(0, VoteKind::Prevote, 0, value));
        }
        assert!(!keeper.quorum_any(&set, 0, VoteKind::Prevote), "one validator, counted once");
        assert!(keeper.first(0, VoteKind::Prevote, 0).unwrap().reported);
    }

    /// Proves a certificate gathers every precommit for its block, a
    /// double-signer's further one included.
    #[test]
    fn precommits_for_include_further_votes() {
        let (set, _) = set_with(&[1, 1, 1, 1]);
        let chain = ChainId::new("starling-test").unwrap();
        let mut keeper = VoteKeeper::default();
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        for (index, value) in [(0, b), (0, a), (1, a), (2, b)] {
            keeper.add(&set, index, &vote(&set, index, VoteKind::Precommit, Some(value)), true);
        }
        let voters = |value| -> Vec<usize> {
            let votes = keeper.precommits_for(&chain, &set, 9, 0, value);
            votes.iter().map(|v| set.index_of(&v.vote.validator).unwrap()).collect()
        };
        assert_eq!(voters(a), [1, 0]);
        assert_eq!(voters(b), [0, 2]);
    }
}
