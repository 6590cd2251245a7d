//! Timeouts: how long a step waits before giving up on the round.
//!
//! The driver never reads a clock: it asks the host to schedule a [`Timeout`] and
//! reacts when the host hands it back (Algorithm 1, lines 57-67). Each timeout
//! grows by `delta_ms` per round, so that after the network stabilises (GST) some
//! round is long enough for every correct validator to hear every other: that is
//! what makes the protocol live under partial synchrony.

/// Base durations per step and the growth per round, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeoutConfig {
    /// How long to wait for the round's proposal (`timeoutPropose`, line 21).
    pub propose_ms: u64,
    /// How long to wait, after more than two thirds prevoted, for a decisive
    /// prevote quorum (`timeoutPrevote`, line 35).
    pub prevote_ms: u64,
    /// How long to wait, after more than two thirds precommitted, for a decisive
    /// precommit quorum (`timeoutPrecommit`, line 48).
    pub precommit_ms: u64,
    /// Added to every timeout once per round.
    pub delta_ms: u64,
}

/// Which step a timeout ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutStep {
    Propose,
    Prevote,
    Precommit,
}

/// A timeout the host must hand back as [`crate::consensus::Input::Timeout`] once
/// its time has passed. Stale timeouts (an earlier height, round or step) are
/// harmless: the driver ignores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timeout {
    pub height: u64,
    pub round: u32,
    pub step: TimeoutStep,
}

impl Default for TimeoutConfig {
    /// Tendermint's defaults, suited to validators spread over the Internet.
    fn default() -> Self {
        Self { propose_ms: 3000, prevote_ms: 1000, precommit_ms: 1000, delta_ms: 500 }
    }
}

impl TimeoutConfig {
    /// How long `step` waits in `round`: its base plus `delta_ms` per round.
    pub fn duration_ms(&self, step: TimeoutStep, round: u32) -> u64 {
        let base = match step {
            TimeoutStep::Propose => self.propose_ms,
            TimeoutStep::Prevote => self.prevote_ms,
            TimeoutStep::Precommit => self.precommit_ms,
        };
        base.saturating_add(self.delta_ms.saturating_mul(u64::from(round)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves timeouts grow linearly with the round (so some round eventually
    /// outlasts any message delay) and saturate instead of overflowing.
    #[test]
    fn timeouts_grow_linearly_per_round() {
        let config =
            TimeoutConfig { propose_ms: 300, prevote_ms: 100, precommit_ms: 200, delta_ms: 50 };
        assert_eq!(config.duration_ms(TimeoutStep::Propose, 0), 300);
        assert_eq!(config.duration_ms(TimeoutStep::Propose, 4), 500);
        assert_eq!(config.duration_ms(TimeoutStep::Prevote, 2), 200);
        assert_eq!(config.duration_ms(TimeoutStep::Precommit, 1), 250);
        let huge = TimeoutConfig { delta_ms: u64::MAX, ..config };
        assert_eq!(huge.duration_ms(TimeoutStep::Propose, u32::MAX), u64::MAX);
    }
}
