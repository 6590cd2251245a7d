//! Peer reputation: scores, bans and request rate limits.
//!
//! A peer that sends garbage must not be able to crash, stall or bloat a node. Decoding
//! and validation already refuse bad input; this module decides what happens to the
//! peer that sent it:
//!
//! - **Scores.** Every peer has a score that starts at 0. Each [`Offence`] lowers it by
//!   a fixed [`Offence::penalty`]. Negative scores drift back toward 0 over time
//!   ([`ReputationConfig::recovery_per_minute`]), so an honest peer that times out now
//!   and then is forgiven, while a peer that keeps misbehaving is not.
//! - **Bans.** A score at or below [`ReputationConfig::ban_threshold`] bans the peer
//!   for [`ReputationConfig::ban_duration_ms`]. Bans expire: [`Reputation::expire`]
//!   lifts them, resets the score to 0 and tells the host which peers to unblock.
//! - **Rate limits.** Requests are limited per peer with a token bucket
//!   ([`Reputation::allow_request`]), so one peer cannot keep the node busy serving it.
//! - **Bounded memory.** At most [`ReputationConfig::max_tracked_peers`] peers are
//!   tracked; the best-behaved peer that is not banned is forgotten to make room, so a
//!   flood of fresh peer ids cannot grow the table and cannot push out a ban.
//!
//! The module is sans-IO like the rest of Starling: `no_std` + `alloc`, no clock and no
//! randomness. Time comes in as `now_ms` (milliseconds from any fixed origin, ideally a
//! monotonic clock); time that goes backwards counts as no time passing. All arithmetic
//! is integer and saturating, and no input panics.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Milliseconds in a minute: the unit of [`ReputationConfig::recovery_per_minute`].
const MS_PER_MINUTE: u64 = 60_000;
/// Milli-tokens in one token: the bucket counts in thousandths so refill stays integer.
const MILLI: u64 = 1_000;

/// Tuning for [`Reputation`]. The defaults suit a node with a few dozen peers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReputationConfig {
    /// A score at or below this bans the peer.
    pub ban_threshold: i32,
    /// How long a ban lasts, in milliseconds.
    pub ban_duration_ms: u64,
    /// Points per minute by which a negative score drifts back toward 0 (never above
    /// 0). Zero or negative turns recovery off.
    pub recovery_per_minute: i32,
    /// Token-bucket refill rate for requests, in tokens per second.
    pub requests_per_second: u32,
    /// Token-bucket capacity: how many requests a peer may make at once.
    pub request_burst: u32,
    /// The most peers tracked at once. When full, the tracked peer with the highest
    /// score that is not banned is forgotten (ties: the smallest id); banned peers are
    /// kept until their ban is lifted. If every tracked peer is banned, a new peer is
    /// not tracked at all.
    pub max_tracked_peers: usize,
}

impl Default for ReputationConfig {
    fn default() -> Self {
        Self {
            ban_threshold: -100,
            ban_duration_ms: 10 * MS_PER_MINUTE,
            recovery_per_minute: 10,
            requests_per_second: 20,
            request_burst: 40,
            max_tracked_peers: 4096,
        }
    }
}

/// Something a peer did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offence {
    /// Sent bytes that do not decode.
    MalformedMessage,
    /// Sent a message over a size limit.
    Oversized,
    /// Sent a block, header or transaction with a bad signature.
    InvalidSignature,
    /// Sent a correctly signed block that fails validation, or a response that does
    /// not match the request.
    InvalidBlock,
    /// Made requests faster than the rate limit allows.
    Flooding,
    /// Answered empty or short where it claimed to have the data.
    UnhelpfulResponse,
    /// Did not answer in time.
    Timeout,
}

impl Offence {
    /// The change this offence makes to the peer's score: always negative.
    pub fn penalty(self) -> i32 {
        match self {
            Self::MalformedMessage | Self::Oversized => -50,
            Self::InvalidSignature | Self::InvalidBlock => -100,
            Self::Flooding => -10,
            Self::UnhelpfulResponse | Self::Timeout => -5,
        }
    }

    /// A short lowercase phrase for logs, to follow the peer's name.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MalformedMessage => "sent a malformed message",
            Self::Oversized => "sent an oversized message",
            Self::InvalidSignature => "sent an invalid signature",
            Self::InvalidBlock => "sent an invalid block or a mismatched response",
            Self::Flooding => "exceeded the request rate",
            Self::UnhelpfulResponse => "sent an unhelpful response",
            Self::Timeout => "did not answer in time",
        }
    }
}

/// Whether a peer may be talked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not banned.
    Good,
    /// Banned until `until_ms` (the ban is over at exactly `until_ms`).
    Banned {
        /// When the ban ends.
        until_ms: u64,
    },
}

/// What is known about one peer.
#[derive(Clone, Debug)]
struct PeerState {
    /// Score as of `last_update_ms`, before recovery since then.
    score: i32,
    /// The time recovery of a negative `score` counts from.
    last_update_ms: u64,
    /// End of the latest ban, kept until [`Reputation::expire`] reports it lifted. While
    /// the ban is over but not yet lifted, a `score` at or below the threshold is the
    /// score that caused it and counts as 0 (the reset happens at the ban's end).
    ban_until_ms: Option<u64>,
    /// Tokens in the request bucket, in milli-tokens.
    tokens_milli: u64,
    /// The time the bucket was last refilled up to.
    refill_ms: u64,
}

impl PeerState {
    fn new(config: &ReputationConfig, now_ms: u64) -> Self {
        Self {
            score: 0,
            last_update_ms: now_ms,
            ban_until_ms: None,
            tokens_milli: bucket_capacity(config),
            refill_ms: now_ms,
        }
    }

    /// The end of a ban in force at `now_ms`, if any.
    fn ban_in_force(&self, now_ms: u64) -> Option<u64> {
        self.ban_until_ms.filter(|&until| now_ms < until)
    }

    /// The score at `now_ms`, without changing anything.
    fn score_at(&self, config: &ReputationConfig, now_ms: u64) -> i32 {
        match self.ban_until_ms {
            // Frozen while the ban is in force.
            Some(until) if now_ms < until => self.score,
            // The ban is over: the score that caused it was reset to 0 at its end.
            Some(_) if self.score <= config.ban_threshold => 0,
            _ => recovered(self.score, self.last_update_ms, now_ms, config),
        }
    }

    /// Brings the stored score up to `now_ms`: applies a ban's reset and recovery.
    fn settle(&mut self, config: &ReputationConfig, now_ms: u64) {
        match self.ban_until_ms {
            Some(until) if now_ms < until => {}
            Some(_) if self.score <= config.ban_threshold => {
                self.score = 0;
                self.last_update_ms = now_ms;
            }
            _ => {
                let score = recovered(self.score, self.last_update_ms, now_ms, config);
                let gained = score.abs_diff(self.score);
                self.score = score;
                if score >= 0 {
                    self.last_update_ms = now_ms;
                } else if gained > 0 {
                    // Advance only by the time the recovered points took, rounded up, so
                    // the leftover fraction of a point still counts later and frequent
                    // updates never recover more than one long wait would.
                    let rate = u64::from(config.recovery_per_minute.unsigned_abs());
                    let spent = u64::from(gained).saturating_mul(MS_PER_MINUTE).div_ceil(rate);
                    self.last_update_ms = self.last_update_ms.saturating_add(spent).min(now_ms);
                }
            }
        }
    }

    /// Tops the request bucket up to `now_ms`.
    fn refill(&mut self, config: &ReputationConfig, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.refill_ms);
        let added = elapsed.saturating_mul(u64::from(config.requests_per_second));
        self.tokens_milli = self.tokens_milli.saturating_add(added).min(bucket_capacity(config));
        self.refill_ms = self.refill_ms.max(now_ms);
    }
}

/// The bucket's capacity in milli-tokens.
fn bucket_capacity(config: &ReputationConfig) -> u64 {
    u64::from(config.request_burst).saturating_mul(MILLI)
}

/// A negative `score` after recovering from `since_ms` to `now_ms`; never above 0.
fn recovered(score: i32, since_ms: u64, now_ms: u64, config: &ReputationConfig) -> i32 {
    if score >= 0 || config.recovery_per_minute <= 0 {
        return score;
    }
    let elapsed = now_ms.saturating_sub(since_ms);
    let rate = u64::from(config.recovery_per_minute.unsigned_abs());
    let gained = elapsed.saturating_mul(rate) / MS_PER_MINUTE;
    let deficit = u64::from(score.unsigned_abs());
    // Here `gained < deficit <= 2^31`, so it fits an i32 and the sum stays negative.
    if gained >= deficit { 0 } else { score.saturating_add(i32::try_from(gained).unwrap_or(0)) }
}

/// Scores, bans and request rate limits for every peer, keyed by peer id `P`.
#[derive(Clone, Debug)]
pub struct Reputation<P> {
    config: ReputationConfig,
    peers: BTreeMap<P, PeerState>,
}

impl<P: Ord + Clone> Reputation<P> {
    /// An empty table.
    pub fn new(config: ReputationConfig) -> Self {
        Self { config, peers: BTreeMap::new() }
    }

    /// Lowers the peer's score; returns `Banned { until_ms }` when this offence (or an
    /// earlier one still in force) bans the peer. While a ban is in force further
    /// offences change nothing. A ban sets the score back to 0 when the ban is lifted
    /// (in [`Reputation::expire`]). A peer that cannot be tracked (every tracked peer
    /// is banned) stays `Good`.
    pub fn penalize(&mut self, peer: &P, offence: Offence, now_ms: u64) -> Standing {
        if !self.track(peer, now_ms) {
            return Standing::Good;
        }
        let config = &self.config;
        let Some(state) = self.peers.get_mut(peer) else {
            return Standing::Good;
        };
        if let Some(until_ms) = state.ban_in_force(now_ms) {
            return Standing::Banned { until_ms };
        }
        state.settle(config, now_ms);
        state.score = state.score.saturating_add(offence.penalty());
        if state.score <= config.ban_threshold {
            state.ban_until_ms = Some(now_ms.saturating_add(config.ban_duration_ms));
        }
        match state.ban_in_force(now_ms) {
            Some(until_ms) => Standing::Banned { until_ms },
            None => Standing::Good,
        }
    }

    /// `Banned` if a ban is in force at `now_ms`.
    pub fn standing(&self, peer: &P, now_ms: u64) -> Standing {
        match self.peers.get(peer).and_then(|state| state.ban_in_force(now_ms)) {
            Some(until_ms) => Standing::Banned { until_ms },
            None => Standing::Good,
        }
    }

    /// Whether a ban is in force at `now_ms`.
    pub fn is_banned(&self, peer: &P, now_ms: u64) -> bool {
        matches!(self.standing(peer, now_ms), Standing::Banned { .. })
    }

    /// Token bucket: true if the peer may make one more request now (consumes a
    /// token). A banned peer is never allowed. A refusal does not penalize by itself:
    /// the host decides whether it is [`Offence::Flooding`].
    pub fn allow_request(&mut self, peer: &P, now_ms: u64) -> bool {
        if self.is_banned(peer, now_ms) {
            return false;
        }
        if !self.track(peer, now_ms) {
            // Untrackable (every slot holds a ban): not limited, see `max_tracked_peers`.
            return true;
        }
        let Some(state) = self.peers.get_mut(peer) else {
            return true;
        };
        state.refill(&self.config, now_ms);
        if state.tokens_milli >= MILLI {
            state.tokens_milli -= MILLI;
            true
        } else {
            false
        }
    }

    /// The peer's score with recovery applied up to `now_ms` (0 for an untracked peer).
    pub fn score(&self, peer: &P, now_ms: u64) -> i32 {
        self.peers.get(peer).map_or(0, |state| state.score_at(&self.config, now_ms))
    }

    /// Lifts bans that have ended by `now_ms` and returns those peers (so the host can
    /// unblock them); each lifted ban is returned once.
    pub fn expire(&mut self, now_ms: u64) -> Vec<P> {
        let mut lifted = Vec::new();
        for (peer, state) in &mut self.peers {
            if state.ban_until_ms.is_some_and(|until| until <= now_ms) {
                state.settle(&self.config, now_ms);
                state.ban_until_ms = None;
                lifted.push(peer.clone());
            }
        }
        lifted
    }

    /// Forgets a disconnected peer's rate bucket and score unless it is banned or has a
    /// negative score (a misbehaving peer cannot reset its score by reconnecting).
    pub fn disconnected(&mut self, peer: &P) {
        if self
            .peers
            .get(peer)
            .is_some_and(|state| state.ban_until_ms.is_none() && state.score >= 0)
        {
            self.peers.remove(peer);
        }
    }

    /// How many peers are tracked.
    pub fn tracked(&self) -> usize {
        self.peers.len()
    }

    /// How many bans are in force at `now_ms`.
    pub fn banned(&self, now_ms: u64) -> usize {
        self.peers.values().filter(|state| state.ban_in_force(now_ms).is_some()).count()
    }

    /// Makes sure `peer` is tracked, forgetting another peer if the table is full.
    /// Returns false if the peer cannot be tracked.
    fn track(&mut self, peer: &P, now_ms: u64) -> bool {
        if self.peers.contains_key(peer) {
            return true;
        }
        if self.peers.len() >= self.config.max_tracked_peers {
            let Some(victim) = self.eviction_candidate(now_ms) else {
                return false;
            };
            self.peers.remove(&victim);
        }
        if self.peers.len() >= self.config.max_tracked_peers {
            return false;
        }
        self.peers.insert(peer.clone(), PeerState::new(&self.config, now_ms));
        true
    }

    /// The tracked peer with the highest score that has no ban record (ties: the
    /// smallest id). A ban that is over but not yet lifted still counts, so that
    /// [`Reputation::expire`] can report it. Linear in the number of tracked peers.
    fn eviction_candidate(&self, now_ms: u64) -> Option<P> {
        let mut best: Option<(&P, i32)> = None;
        for (peer, state) in &self.peers {
            if state.ban_until_ms.is_some() {
                continue;
            }
            let score = state.score_at(&self.config, now_ms);
            // Strictly greater: the map iterates in id order, so ties keep the smallest.
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((peer, score));
            }
        }
        best.map(|(peer, _)| peer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const MINUTE: u64 = MS_PER_MINUTE;

    fn table() -> Reputation<u32> {
        Reputation::new(ReputationConfig::default())
    }

    /// A single invalid signature bans the peer at once with the default settings.
    #[test]
    fn single_invalid_signature_bans() {
        let mut rep = table();
        let until_ms = 1_000 + 10 * MINUTE;
        assert_eq!(
            rep.penalize(&7, Offence::InvalidSignature, 1_000),
            Standing::Banned { until_ms }
        );
        assert!(rep.is_banned(&7, 1_000));
        assert_eq!(rep.standing(&7, 5_000), Standing::Banned { until_ms });
        assert_eq!(rep.banned(1_000), 1);
        assert!(!rep.is_banned(&8, 1_000));
    }

    /// Small offences add up until the score reaches the threshold, which bans.
    #[test]
    fn small_offences_accumulate_to_ban() {
        let mut rep = table();
        for _ in 0..19 {
            assert_eq!(rep.penalize(&1, Offence::Timeout, 0), Standing::Good);
        }
        assert_eq!(rep.score(&1, 0), -95);
        assert_eq!(
            rep.penalize(&1, Offence::UnhelpfulResponse, 0),
            Standing::Banned { until_ms: 10 * MINUTE }
        );
        // Further offences during the ban change nothing.
        assert_eq!(
            rep.penalize(&1, Offence::Flooding, 5),
            Standing::Banned { until_ms: 10 * MINUTE }
        );
        assert_eq!(rep.score(&1, 5), -100);
    }

    /// A ban ends at exactly `until_ms`, `expire` reports the peer once, and the score
    /// is back to 0.
    #[test]
    fn ban_expires_at_until_and_is_reported_once() {
        let mut rep = table();
        let Standing::Banned { until_ms } = rep.penalize(&3, Offence::InvalidBlock, 100) else {
            panic!("an invalid block must ban");
        };
        assert!(rep.is_banned(&3, until_ms - 1));
        assert!(rep.expire(until_ms - 1).is_empty());
        assert!(!rep.is_banned(&3, until_ms));
        assert_eq!(rep.banned(until_ms), 0);
        assert_eq!(rep.expire(until_ms), vec![3]);
        assert!(rep.expire(until_ms + 1).is_empty());
        assert_eq!(rep.score(&3, until_ms), 0);
        // A fresh offence after the lift starts from 0 again.
        assert_eq!(rep.penalize(&3, Offence::Timeout, until_ms + 1), Standing::Good);
        assert_eq!(rep.score(&3, until_ms + 1), -5);
    }

    /// An offence after a ban ended but before `expire` starts from 0, and the lift is
    /// still reported.
    #[test]
    fn offence_between_ban_end_and_expire() {
        let mut rep = table();
        let Standing::Banned { until_ms } = rep.penalize(&3, Offence::InvalidSignature, 0) else {
            panic!("an invalid signature must ban");
        };
        assert_eq!(rep.penalize(&3, Offence::Timeout, until_ms), Standing::Good);
        assert_eq!(rep.score(&3, until_ms), -5);
        assert_eq!(rep.expire(until_ms), vec![3]);
        assert_eq!(rep.score(&3, until_ms), -5);
    }

    /// A banned peer's requests are refused, even with tokens in its bucket.
    #[test]
    fn banned_peer_requests_refused() {
        let mut rep = table();
        assert!(rep.allow_request(&9, 0));
        let Standing::Banned { until_ms } = rep.penalize(&9, Offence::InvalidSignature, 0) else {
            panic!("an invalid signature must ban");
        };
        assert!(!rep.allow_request(&9, 1));
        assert!(!rep.allow_request(&9, until_ms - 1));
        assert!(rep.allow_request(&9, until_ms));
    }

    /// The bucket allows `burst` requests at once, then refuses, then refills at the
    /// configured rate up to the burst.
    #[test]
    fn bucket_bursts_then_refills_at_rate() {
        let mut rep = table();
        for _ in 0..40 {
            assert!(rep.allow_request(&1, 1_000));
        }
        assert!(!rep.allow_request(&1, 1_000));
        // 20 per second: one token every 50 ms.
        assert!(!rep.allow_request(&1, 1_049));
        assert!(rep.allow_request(&1, 1_050));
        assert!(!rep.allow_request(&1, 1_050));
        // One second later: exactly 20 more.
        for _ in 0..20 {
            assert!(rep.allow_request(&1, 2_050));
        }
        assert!(!rep.allow_request(&1, 2_050));
        // A long idle period refills only up to the burst.
        for _ in 0..40 {
            assert!(rep.allow_request(&1, 1_000_000));
        }
        assert!(!rep.allow_request(&1, 1_000_000));
        // Other peers have their own buckets.
        assert!(rep.allow_request(&2, 1_000_000));
    }

    /// Negative scores recover at the configured rate but never rise above 0.
    #[test]
    fn negative_scores_recover_but_not_above_zero() {
        let mut rep = table();
        rep.penalize(&5, Offence::MalformedMessage, 0);
        assert_eq!(rep.score(&5, 0), -50);
        // 10 points a minute: one point every 6 s.
        assert_eq!(rep.score(&5, 5_999), -50);
        assert_eq!(rep.score(&5, 6_000), -49);
        assert_eq!(rep.score(&5, MINUTE - 1), -41);
        assert_eq!(rep.score(&5, MINUTE), -40);
        assert_eq!(rep.score(&5, 3 * MINUTE / 2), -35);
        assert_eq!(rep.score(&5, 5 * MINUTE), 0);
        assert_eq!(rep.score(&5, 500 * MINUTE), 0);
        // Recovery keeps fractions across updates: a penalty in between does not lose
        // the time already accrued toward the next point.
        let mut rep = table();
        rep.penalize(&5, Offence::MalformedMessage, 0);
        rep.penalize(&5, Offence::Timeout, 9_000); // -50 + 1 point recovered - 5
        assert_eq!(rep.score(&5, 9_000), -54);
        assert_eq!(rep.score(&5, 12_000), -53);
        // A score back at 0 stays there, and a later offence recovers from its own time.
        rep.penalize(&5, Offence::Timeout, 1_000 * MINUTE);
        assert_eq!(rep.score(&5, 1_000 * MINUTE), -5);
        assert_eq!(rep.score(&5, 1_000 * MINUTE + 6_000), -4);
    }

    /// Disconnecting and reconnecting does not reset a negative score, but a peer in
    /// good standing is forgotten.
    #[test]
    fn reconnecting_does_not_reset_negative_score() {
        let mut rep = table();
        rep.penalize(&4, Offence::Oversized, 0);
        rep.disconnected(&4);
        assert_eq!(rep.tracked(), 1);
        assert_eq!(rep.score(&4, 0), -50);
        assert_eq!(
            rep.penalize(&4, Offence::Oversized, 0),
            Standing::Banned { until_ms: 10 * MINUTE }
        );
        rep.disconnected(&4);
        assert!(rep.is_banned(&4, 1));

        assert!(rep.allow_request(&6, 0));
        rep.disconnected(&6);
        assert_eq!(rep.tracked(), 1);
    }

    /// Memory stays bounded at `max_tracked_peers`: well-behaved peers are forgotten
    /// first, bans are kept, and a peer that cannot be tracked is not limited.
    #[test]
    fn memory_bounded_with_many_peers() {
        let config = ReputationConfig { max_tracked_peers: 8, ..ReputationConfig::default() };
        let mut rep = Reputation::new(config);
        for peer in 0..10_000u32 {
            rep.allow_request(&peer, u64::from(peer));
            assert!(rep.tracked() <= 8);
        }
        assert_eq!(rep.tracked(), 8);

        // A misbehaving peer outlives well-behaved ones.
        let mut rep =
            Reputation::new(ReputationConfig { max_tracked_peers: 3, ..Default::default() });
        rep.penalize(&1, Offence::Timeout, 0);
        rep.allow_request(&2, 0);
        rep.allow_request(&3, 0);
        rep.allow_request(&4, 0); // evicts 2: highest score (0), smallest id
        assert_eq!(rep.tracked(), 3);
        assert_eq!(rep.score(&1, 0), -5);
        rep.allow_request(&0, 0); // evicts 3
        rep.allow_request(&5, 0); // evicts 0
        assert_eq!(rep.score(&1, 0), -5);

        // Bans are kept; when every slot holds a ban, new peers are not tracked.
        let mut rep =
            Reputation::new(ReputationConfig { max_tracked_peers: 3, ..Default::default() });
        for peer in 0..3u32 {
            rep.penalize(&peer, Offence::InvalidSignature, 0);
        }
        assert_eq!(rep.penalize(&99, Offence::InvalidSignature, 0), Standing::Good);
        assert!(!rep.is_banned(&99, 0));
        assert!(rep.allow_request(&99, 0));
        assert_eq!(rep.tracked(), 3);
        assert_eq!(rep.banned(0), 3);
        // Lifting the bans makes room again.
        assert_eq!(rep.expire(10 * MINUTE).len(), 3);
        assert!(rep.penalize(&99, Offence::InvalidSignature, 10 * MINUTE) != Standing::Good);
        assert_eq!(rep.tracked(), 3);
    }

    /// Time going backwards, extreme values and degenerate settings never panic.
    #[test]
    fn time_going_backwards_does_not_panic() {
        let mut rep = table();
        rep.penalize(&1, Offence::MalformedMessage, 10 * MINUTE);
        assert_eq!(rep.score(&1, 0), -50);
        rep.penalize(&1, Offence::Timeout, 0);
        assert_eq!(rep.score(&1, 0), -55);
        // The bucket was created at 10 minutes; earlier times refill nothing.
        for _ in 0..40 {
            assert!(rep.allow_request(&1, 5_000));
        }
        assert!(!rep.allow_request(&1, 0));
        assert!(!rep.allow_request(&1, 5_050));
        assert!(!rep.allow_request(&1, 10 * MINUTE + 49));
        assert!(rep.allow_request(&1, 10 * MINUTE + 50));
        let Standing::Banned { until_ms } = rep.penalize(&2, Offence::InvalidBlock, 1_000) else {
            panic!("an invalid block must ban");
        };
        assert!(rep.is_banned(&2, 0));
        assert!(rep.expire(0).is_empty());
        assert_eq!(rep.expire(until_ms), vec![2]);

        // Extremes: huge times, a score at i32::MIN, every setting at its limit.
        let mut rep = Reputation::new(ReputationConfig {
            ban_threshold: i32::MIN,
            ban_duration_ms: u64::MAX,
            recovery_per_minute: i32::MAX,
            requests_per_second: u32::MAX,
            request_burst: u32::MAX,
            max_tracked_peers: 1,
        });
        for _ in 0..1_000 {
            rep.penalize(&1, Offence::InvalidSignature, u64::MAX);
        }
        rep.penalize(&1, Offence::InvalidSignature, 0);
        assert_eq!(rep.score(&1, u64::MAX), -100_100);
        assert_eq!(rep.score(&1, 0), -100_100);
        // The lowest score saturates and still recovers fully to exactly 0.
        let config = ReputationConfig { recovery_per_minute: i32::MAX, ..Default::default() };
        assert_eq!(recovered(i32::MIN, 0, u64::MAX, &config), 0);
        assert_eq!(recovered(i32::MIN, u64::MAX, 0, &config), i32::MIN);
        let mut state = PeerState::new(&config, 0);
        state.score = i32::MIN;
        state.settle(&config, 1);
        assert_eq!(state.score, i32::MIN + 35_791);
        state.score = state.score.saturating_add(i32::MIN);
        assert_eq!(state.score, i32::MIN);
        state.settle(&config, u64::MAX);
        assert_eq!(state.score, 0);
        assert!(rep.allow_request(&1, u64::MAX));
        let _ = rep.expire(u64::MAX);
        rep.disconnected(&1);

        let mut rep = Reputation::new(ReputationConfig {
            ban_threshold: 0,
            ban_duration_ms: 0,
            recovery_per_minute: -5,
            requests_per_second: 0,
            request_burst: 0,
            max_tracked_peers: 0,
        });
        assert_eq!(rep.penalize(&1, Offence::Timeout, 0), Standing::Good);
        assert!(rep.allow_request(&1, 0));
        assert_eq!(rep.tracked(), 0);
    }
}
