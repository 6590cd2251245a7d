//! What the volunteer panel counts and shows, as plain data: each worker's
//! phase and how far along it is, and the session's totals (proofs accepted,
//! transactions proven per second). Pure, so it is tested natively; the
//! workers and the node's answers feed it from `volunteer::session`.

/// What one proving worker is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Asking the node for an open job (none is open, or none yet asked).
    Waiting,
    /// A job is leased; its input is with the worker, which re-executes the block.
    Recording { height: u64, transactions: u64 },
    /// The worker is proving. `expected_ms` is the pace's guess (none before
    /// the first proof of the session).
    Proving { height: u64, transactions: u64, started_ms: f64, expected_ms: Option<f64> },
    /// The proof is on its way to the node.
    Submitting { height: u64 },
    /// The node accepted the proof.
    Accepted { height: u64 },
    /// The job failed (the proof refused, the worker's error, the node gone);
    /// the lease was given back.
    Failed { height: Option<u64>, reason: String },
}

impl Phase {
    /// The job's height, if the worker has one.
    pub fn height(&self) -> Option<u64> {
        match self {
            Phase::Waiting => None,
            Phase::Recording { height, .. }
            | Phase::Proving { height, .. }
            | Phase::Submitting { height }
            | Phase::Accepted { height } => Some(*height),
            Phase::Failed { height, .. } => *height,
        }
    }

    /// A short name for the phase, as the page's `data-phase` attribute.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Recording { .. } => "recording",
            Phase::Proving { .. } => "proving",
            Phase::Submitting { .. } => "submitting",
            Phase::Accepted { .. } => "accepted",
            Phase::Failed { .. } => "failed",
        }
    }

    /// How far the job is, in [0, 1] for the progress bar, or `None` while
    /// proving with no pace to guess from (the bar is then indeterminate).
    /// The prover reports no progress of its own while it runs, so the
    /// proving stretch is an estimate from this session's earlier proofs,
    /// held below its end until the proof is really there.
    pub fn progress(&self, now_ms: f64) -> Option<f64> {
        const RECORDED: f64 = 0.05;
        const PROVED: f64 = 0.9;
        match self {
            Phase::Waiting | Phase::Failed { .. } => Some(0.0),
            Phase::Recording { .. } => Some(RECORDED),
            Phase::Proving { started_ms, expected_ms, .. } => expected_ms.map(|expected| {
                let done = ((now_ms - started_ms) / expected.max(1.0)).clamp(0.0, 0.95);
                RECORDED + (PROVED - RECORDED) * done
            }),
            Phase::Submitting { .. } => Some(PROVED),
            Phase::Accepted { .. } => Some(1.0),
        }
    }
}

/// How long proofs take here: a running average of milliseconds per unit of
/// work, a unit being one transaction or the block end (so an empty block
/// still costs one).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pace {
    ms_per_unit: Option<f64>,
}

impl Pace {
    /// Weight of the newest proof in the average.
    const NEWEST: f64 = 0.3;

    fn units(transactions: u64) -> f64 {
        transactions as f64 + 1.0
    }

    /// Folds in a proof of `transactions` transactions that took `ms`.
    pub fn record(&mut self, transactions: u64, ms: f64) {
        let sample = ms / Self::units(transactions);
        self.ms_per_unit = Some(match self.ms_per_unit {
            None => sample,
            Some(mean) => mean + Self::NEWEST * (sample - mean),
        });
    }

    /// The expected time to prove a block of `transactions` transactions.
    pub fn expected_ms(&self, transactions: u64) -> Option<f64> {
        self.ms_per_unit.map(|m| m * Self::units(transactions))
    }
}

/// The session's totals since Prove was pressed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// When the session started (page clock, ms).
    pub started_ms: f64,
    pub accepted: u64,
    pub refused: u64,
    /// Transactions in the accepted proofs' blocks.
    pub transactions: u64,
}

impl Tally {
    pub fn new(started_ms: f64) -> Self {
        Self { started_ms, ..Self::default() }
    }

    pub fn accept(&mut self, transactions: u64) {
        self.accepted += 1;
        self.transactions += transactions;
    }

    /// Transactions proven (and accepted) per second of the session so far,
    /// idle time included: what the tab contributes, not the prover's peak.
    pub fn throughput(&self, now_ms: f64) -> f64 {
        let seconds = (now_ms - self.started_ms) / 1000.0;
        if seconds <= 0.0 { 0.0 } else { self.transactions as f64 / seconds }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the bar only moves forward through a job's phases and never
    /// reaches its end before the node accepted the proof, however late the
    /// proof is.
    #[test]
    fn progress_rises_through_the_phases_and_waits_for_the_proof() {
        let proving = |now| {
            Phase::Proving { height: 3, transactions: 1, started_ms: 0.0, expected_ms: Some(100.0) }
                .progress(now)
                .unwrap()
        };
        let steps = [
            Phase::Waiting.progress(0.0).unwrap(),
            Phase::Recording { height: 3, transactions: 1 }.progress(0.0).unwrap(),
            proving(0.0),
            proving(50.0),
            proving(10_000.0),
            Phase::Submitting { height: 3 }.progress(0.0).unwrap(),
            Phase::Accepted { height: 3 }.progress(0.0).unwrap(),
        ];
        assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
        assert!(steps[2] < steps[3] && steps[3] < steps[4], "the estimate moves: {steps:?}");
        assert!(steps[4] < steps[5], "a late proof stays short of the end: {steps:?}");
        assert_eq!(steps[6], 1.0);
        let unknown =
            Phase::Proving { height: 3, transactions: 1, started_ms: 0.0, expected_ms: None };
        assert_eq!(unknown.progress(5.0), None, "no pace yet: the bar says it does not know");
    }

    /// Proves the pace scales with the block's transactions and follows
    /// newer proofs without forgetting older ones at once.
    #[test]
    fn the_pace_learns_from_proofs() {
        let mut pace = Pace::default();
        assert_eq!(pace.expected_ms(4), None);
        pace.record(1, 200.0);
        assert_eq!(pace.expected_ms(1), Some(200.0));
        assert_eq!(pace.expected_ms(3), Some(400.0), "twice the units, twice the time");
        pace.record(1, 400.0);
        let next = pace.expected_ms(1).unwrap();
        assert!(200.0 < next && next < 400.0, "{next}");
    }

    /// Proves throughput counts accepted transactions over the whole session.
    #[test]
    fn throughput_is_accepted_transactions_per_session_second() {
        let mut tally = Tally::new(1_000.0);
        assert_eq!(tally.throughput(1_000.0), 0.0);
        tally.accept(3);
        tally.accept(5);
        tally.refused += 1;
        assert_eq!(tally.throughput(5_000.0), 2.0);
        assert_eq!((tally.accepted, tally.transactions), (2, 8));
    }

    #[test]
    fn a_failed_job_keeps_its_height_for_the_page() {
        let failed = Phase::Failed { height: Some(7), reason: "stale".into() };
        assert_eq!((failed.height(), failed.name()), (Some(7), "failed"));
        assert_eq!(Phase::Waiting.height(), None);
    }
}
