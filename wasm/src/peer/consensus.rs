//! What the page shows of consensus, and what it tells gossip about proposals
//! and votes. Pure logic (no I/O, no clock), tested natively on a real
//! proof-of-stake chain; [`super::follower`] feeds it what the swarm reports.
//!
//! Every proposal and vote is checked before it counts: it must decode, name the
//! pinned chain and carry a valid Ed25519 signature, and its signer must belong
//! to the validator set that the staking registry names for its height (for a
//! proposal, be the proposer [`proposer`] picks for its height and round). The
//! registry is the one the page holds from the newest block it accepted
//! ([`super::chain::Chain::registry`]), which knows the sets of the previous,
//! current and next two epochs, so votes on the heights being decided are
//! checked even when the page lags a few blocks behind.
//!
//! Gossip is told, for every message, so it never holds one: a message that does
//! not decode, names another chain, has a bad signature or a signer outside the
//! set is *rejected* (the daemon rejects the same, so an honest peer never
//! relays one); one for a height the page already holds final, or that it cannot
//! check (a height outside the registry's epochs, or signed by the sequencer),
//! is *ignored*; the rest are *accepted*.
//!
//! Tallies are by power, per height and round, newest first; only the most recent
//! [`TALLY_HEIGHTS`] heights and [`MAX_ROUNDS`] rounds of each are kept, so a
//! validator that votes for far-away heights or rounds cannot grow memory.
//! Finality latency is the time from the first valid proposal seen for a height
//! to the moment its block was verified here with its certificate: the median of
//! the last [`LATENCY_SAMPLES`].

use std::collections::{BTreeMap, VecDeque};

use starling_core::consensus::{SignedProposal, SignedVote, ValidatorSet, VoteKind, proposer};
use starling_core::encoding::Message;
use starling_core::staking::{Authority, Mode, StakingState};
use starling_core::types::{ChainId, Hash};
use starling_net::libp2p::gossipsub::MessageAcceptance;

use super::chain::KnownRegistry;

/// Heights whose tallies are kept (the newest).
pub const TALLY_HEIGHTS: usize = 6;
/// Rounds tallied per height (the newest).
pub const MAX_ROUNDS: usize = 4;
/// Finality latencies the median is taken over.
pub const LATENCY_SAMPLES: usize = 20;
/// How far above the finalized height votes are tallied.
const TALLY_AHEAD: u64 = 32;
/// First-proposal times kept for heights not final yet.
const MAX_PENDING: usize = 64;

/// The votes of one round: each validator's first vote of each kind, by its
/// index in the set, with its power and value.
#[derive(Default)]
struct RoundTally {
    prevotes: BTreeMap<usize, (u64, Option<Hash>)>,
    precommits: BTreeMap<usize, (u64, Option<Hash>)>,
    proposal: Option<Hash>,
}

struct HeightTally {
    total_power: u64,
    rounds: BTreeMap<u32, RoundTally>,
}

/// How many messages of each outcome the page saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Valid votes (accepted, or ignored only because their height is final here).
    pub votes: u64,
    /// Valid proposals (likewise).
    pub proposals: u64,
    /// Messages the page could not check.
    pub unchecked: u64,
    /// Messages that failed a check.
    pub rejected: u64,
}

/// The consensus messages seen, as a state machine the host feeds.
pub struct Consensus {
    chain_id: ChainId,
    heights: BTreeMap<u64, HeightTally>,
    /// When the first valid proposal of each height not yet final arrived.
    first_proposal_ms: BTreeMap<u64, u64>,
    /// The newest latencies, oldest first.
    latencies: VecDeque<u64>,
    /// The highest height and round of a valid message.
    latest: Option<(u64, u32)>,
    counts: Counts,
}

impl Consensus {
    pub fn new(chain_id: ChainId) -> Self {
        Self {
            chain_id,
            heights: BTreeMap::new(),
            first_proposal_ms: BTreeMap::new(),
            latencies: VecDeque::new(),
            latest: None,
            counts: Counts::default(),
        }
    }

    /// A message on the votes topic; `registry` is the page's newest, `finalized`
    /// its newest final height. Returns what to tell gossip.
    pub fn on_vote(
        &mut self,
        data: &[u8],
        registry: Option<&StakingState>,
        finalized: Option<u64>,
    ) -> MessageAcceptance {
        let Ok(signed) = SignedVote::decode_message(data) else {
            return self.reject();
        };
        let vote = &signed.vote;
        if vote.chain_id != self.chain_id || signed.verify().is_err() {
            return self.reject();
        }
        let Some(set) = set_for(registry, vote.height) else {
            return self.unchecked();
        };
        let Some(index) = set.index_of(&vote.validator) else {
            return self.reject();
        };
        self.counts.votes += 1;
        self.seen(vote.height, vote.round);
        let power = set.validators()[index].power;
        if let Some(round) = self.round_mut(set, vote.height, vote.round, finalized) {
            let votes = match vote.kind {
                VoteKind::Prevote => &mut round.prevotes,
                VoteKind::Precommit => &mut round.precommits,
            };
            votes.entry(index).or_insert((power, vote.value));
        }
        past_or_accept(vote.height, finalized)
    }

    /// A message on the proposals topic, checked like a vote; its signer must be
    /// the round's proposer. The first valid proposal of a height starts its
    /// finality clock at `now_ms`.
    pub fn on_proposal(
        &mut self,
        data: &[u8],
        registry: Option<&StakingState>,
        finalized: Option<u64>,
        now_ms: u64,
    ) -> MessageAcceptance {
        let Ok(signed) = SignedProposal::decode_message(data) else {
            return self.reject();
        };
        let p = &signed.proposal;
        let bad_round = p.valid_round.is_some_and(|valid| valid >= p.round);
        if p.chain_id != self.chain_id || bad_round || signed.verify().is_err() {
            return self.reject();
        }
        let Some(set) = set_for(registry, p.height) else {
            return self.unchecked();
        };
        if proposer(set, p.height, p.round).key != p.proposer {
            return self.reject();
        }
        self.counts.proposals += 1;
        self.seen(p.height, p.round);
        let past = finalized.is_some_and(|f| p.height <= f);
        if !past {
            self.first_proposal_ms.entry(p.height).or_insert(now_ms);
            while self.first_proposal_ms.len() > MAX_PENDING {
                self.first_proposal_ms.pop_last();
            }
        }
        let hash = p.block_hash;
        if let Some(round) = self.round_mut(set, p.height, p.round, finalized) {
            round.proposal.get_or_insert(hash);
        }
        past_or_accept(p.height, finalized)
    }

    /// The block at `height` was verified with its finality at `now_ms`: its
    /// latency is recorded if its proposal was seen, and older clocks stop.
    pub fn on_final(&mut self, height: u64, now_ms: u64) {
        if let Some(started) = self.first_proposal_ms.remove(&height) {
            self.latencies.push_back(now_ms.saturating_sub(started));
            if self.latencies.len() > LATENCY_SAMPLES {
                self.latencies.pop_front();
            }
        }
        self.first_proposal_ms.retain(|h, _| *h > height);
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The median of the recent finality latencies, in milliseconds, and how many
    /// it is taken over.
    pub fn latency(&self) -> Option<Latency> {
        let mut sorted: Vec<u64> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let n = sorted.len();
        let median_ms = match n {
            0 => return None,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
        };
        Some(Latency { median_ms, samples: n, last_ms: *self.latencies.back()? })
    }

    /// Everything the page shows about consensus, from the page's newest
    /// registry and final height.
    pub fn view(&self, known: Option<&KnownRegistry>, finalized: Option<u64>) -> ConsensusView {
        let registry = known.map(|k| &k.registry);
        let latest = self.latest.map(|(height, round)| {
            let set = set_for(registry, height);
            let proposer = set.map(|set| proposer(set, height, round).key.to_string());
            let proposal_seen = self
                .heights
                .get(&height)
                .and_then(|h| h.rounds.get(&round))
                .is_some_and(|r| r.proposal.is_some());
            Current { height, round, proposer, proposal_seen }
        });
        let tallies = self
            .heights
            .iter()
            .rev()
            .flat_map(|(&height, h)| {
                h.rounds.iter().rev().map(move |(&round, r)| Tally {
                    height,
                    round,
                    total_power: h.total_power,
                    prevotes: tally(&r.prevotes),
                    precommits: tally(&r.precommits),
                    proposal_seen: r.proposal.is_some(),
                })
            })
            .collect();
        ConsensusView {
            mode: registry.map(StakingState::mode),
            registry_height: known.map(|k| k.height),
            registry_verified: known.is_some_and(|k| k.verified),
            epoch: registry.map(StakingState::epoch),
            epoch_length: registry.map(|r| r.params().epoch_length),
            switch: registry.and_then(switch),
            finalized,
            latest,
            counts: self.counts,
            tallies,
            latency: self.latency(),
            validators: known.and_then(validators),
        }
    }

    fn reject(&mut self) -> MessageAcceptance {
        self.counts.rejected += 1;
        MessageAcceptance::Reject
    }

    fn unchecked(&mut self) -> MessageAcceptance {
        self.counts.unchecked += 1;
        MessageAcceptance::Ignore
    }

    fn seen(&mut self, height: u64, round: u32) {
        if self.latest.is_none_or(|latest| (height, round) > latest) {
            self.latest = Some((height, round));
        }
    }

    /// The tally of `round` at `height`, made if need be; `None` if the height
    /// is too far ahead, or the round older than every kept one when as many
    /// rounds are kept as allowed.
    fn round_mut(
        &mut self,
        set: &ValidatorSet,
        height: u64,
        round: u32,
        finalized: Option<u64>,
    ) -> Option<&mut RoundTally> {
        if height > finalized.unwrap_or(0).saturating_add(TALLY_AHEAD) {
            return None;
        }
        if !self.heights.contains_key(&height) {
            if self.heights.len() >= TALLY_HEIGHTS {
                if self.heights.first_key_value().is_some_and(|(&lowest, _)| lowest > height) {
                    return None;
                }
                self.heights.pop_first();
            }
            let total_power = set.total_power();
            self.heights.insert(height, HeightTally { total_power, rounds: BTreeMap::new() });
        }
        let rounds = &mut self.heights.get_mut(&height)?.rounds;
        if !rounds.contains_key(&round) && rounds.len() >= MAX_ROUNDS {
            if rounds.first_key_value().is_some_and(|(&lowest, _)| lowest > round) {
                return None;
            }
            rounds.pop_first();
        }
        Some(rounds.entry(round).or_default())
    }
}

/// The set that certifies `height`, if the registry knows validators do.
fn set_for(registry: Option<&StakingState>, height: u64) -> Option<&ValidatorSet> {
    match registry?.authority_for(height)? {
        Authority::Validators(set) => Some(set),
        Authority::Sequencer(_) => None,
    }
}

/// Ignore a valid message for a height already final here, accept the others.
fn past_or_accept(height: u64, finalized: Option<u64>) -> MessageAcceptance {
    if finalized.is_some_and(|f| height <= f) {
        MessageAcceptance::Ignore
    } else {
        MessageAcceptance::Accept
    }
}

fn tally(votes: &BTreeMap<usize, (u64, Option<Hash>)>) -> VoteTally {
    let mut by_value: BTreeMap<Hash, u64> = BTreeMap::new();
    let mut out = VoteTally::default();
    for (power, value) in votes.values() {
        out.count += 1;
        out.power += power;
        match value {
            Some(hash) => *by_value.entry(*hash).or_default() += power,
            None => out.nil_power += power,
        }
    }
    out.top_value_power = by_value.values().copied().max().unwrap_or(0);
    out
}

/// When the chain switched, or will switch, to proof of stake, by the registry.
fn switch(registry: &StakingState) -> Option<Switch> {
    let length = registry.params().epoch_length;
    if registry.mode() == Mode::Pos {
        let height = registry.mode_since().since_epoch.saturating_mul(length);
        return Some(Switch { height, done: true });
    }
    let epoch = registry.epoch();
    (epoch + 1..=epoch + 2)
        .find(|e| registry.mode_at(*e) == Some(Mode::Pos))
        .map(|e| Switch { height: e.saturating_mul(length), done: false })
}

/// The set the page shows: the one certifying the block after the registry's
/// (under proof of stake); else the set that takes over at a scheduled switch;
/// else the current epoch's staked set, which certifies nothing yet.
fn validators(known: &KnownRegistry) -> Option<ValidatorsView> {
    let registry = &known.registry;
    let length = registry.params().epoch_length;
    let next = known.height.saturating_add(1);
    let (epoch, set, role) = match registry.authority_for(next) {
        Some(Authority::Validators(set)) => {
            (registry.params().epoch_of(next), set, Role::Certifying)
        }
        _ => match switch(registry).filter(|s| !s.done) {
            Some(s) => {
                let epoch = s.height / length;
                (epoch, registry.validator_set(epoch)?, Role::Scheduled { from_height: s.height })
            }
            None => (registry.epoch(), registry.validator_set(registry.epoch())?, Role::Staked),
        },
    };
    let total = set.total_power();
    let members = set
        .validators()
        .iter()
        .map(|v| ValidatorRow {
            key: v.key.to_string(),
            staker: v.staker.to_string(),
            power: v.power,
            share_bps: share_bps(v.power, total),
        })
        .collect();
    Some(ValidatorsView {
        epoch,
        role,
        set_hash: set.hash().to_string(),
        total_power: total,
        members,
    })
}

/// `part` of `total` in basis points (hundredths of a percent).
pub fn share_bps(part: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    (u128::from(part) * 10_000 / u128::from(total)) as u32
}

// --- what the page shows ------------------------------------------------------

/// Everything the page shows about consensus. Plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsensusView {
    /// The mode of the newest accepted block, from the registry of its parent
    /// state; `None` before the page holds a registry.
    pub mode: Option<Mode>,
    /// The block whose witness carried the registry shown.
    pub registry_height: Option<u64>,
    /// Whether that registry was proven against its parent's state root (false
    /// for an anchor's, assumed).
    pub registry_verified: bool,
    /// The epoch of the newest accepted block.
    pub epoch: Option<u64>,
    pub epoch_length: Option<u64>,
    /// When proof of stake began, or is scheduled to.
    pub switch: Option<Switch>,
    /// The newest block verified here with its finality.
    pub finalized: Option<u64>,
    /// The highest height and round of a valid proposal or vote.
    pub latest: Option<Current>,
    pub counts: Counts,
    /// Newest height first, newest round first within it.
    pub tallies: Vec<Tally>,
    pub latency: Option<Latency>,
    pub validators: Option<ValidatorsView>,
}

/// The first proof-of-stake block: `done` once the registry says the chain is in
/// proof of stake, else the first block of the epoch it is scheduled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub height: u64,
    pub done: bool,
}

/// The height and round consensus is on, as the newest valid messages say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    pub height: u64,
    pub round: u32,
    /// Who proposes in that round, by the set of that height.
    pub proposer: Option<String>,
    /// Whether its proposal arrived here.
    pub proposal_seen: bool,
}

/// One round's votes of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VoteTally {
    /// Validators that voted.
    pub count: usize,
    /// Their power, nil votes included.
    pub power: u64,
    /// The power of nil votes.
    pub nil_power: u64,
    /// The power behind the most voted block.
    pub top_value_power: u64,
}

/// The votes of one height and round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub height: u64,
    pub round: u32,
    pub total_power: u64,
    pub prevotes: VoteTally,
    pub precommits: VoteTally,
    pub proposal_seen: bool,
}

impl Tally {
    /// Whether more than two thirds of the power voted for one block.
    pub fn is_quorum(&self, votes: &VoteTally) -> bool {
        3 * u128::from(votes.top_value_power) > 2 * u128::from(self.total_power)
    }
}

/// Finality latency, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    pub median_ms: u64,
    pub samples: usize,
    pub last_ms: u64,
}

/// What the shown set does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// It certifies the blocks being decided now.
    Certifying,
    /// The chain is still in the single stage; this set takes over at this block.
    Scheduled { from_height: u64 },
    /// The stakers' set of the current epoch; it certifies nothing (single stage).
    Staked,
}

/// A validator set as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorsView {
    pub epoch: u64,
    pub role: Role,
    pub set_hash: String,
    pub total_power: u64,
    pub members: Vec<ValidatorRow>,
}

/// One validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorRow {
    /// Its Ed25519 consensus key.
    pub key: String,
    /// The account that staked.
    pub staker: String,
    pub power: u64,
    /// Its share of the set's power, in basis points.
    pub share_bps: u32,
}

#[cfg(test)]
mod tests;
