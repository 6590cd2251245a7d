//! Timeouts the driver asked for, in deadline order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use starling_core::consensus::Timeout;

/// Pending timeouts. Stale ones (an earlier round or height) are still handed
/// back: the driver ignores them, which is simpler than cancelling.
#[derive(Default)]
pub struct Timers {
    queue: BinaryHeap<Reverse<(Instant, Timeout)>>,
}

impl Timers {
    pub fn schedule(&mut self, timeout: Timeout, after_ms: u64, now: Instant) {
        self.queue.push(Reverse((now + Duration::from_millis(after_ms), timeout)));
    }

    /// How long until the next timeout is due (`None` if none is pending).
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        self.queue.peek().map(|Reverse((at, _))| at.saturating_duration_since(now))
    }

    /// Removes and returns the timeouts due at `now`, earliest first.
    pub fn due(&mut self, now: Instant) -> Vec<Timeout> {
        let mut out = Vec::new();
        while let Some(Reverse((at, timeout))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            out.push(timeout);
        }
        out
    }

    /// Forgets every timeout (a new height starts).
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_core::consensus::TimeoutStep;

    /// Proves timeouts come due in deadline order, not scheduling order.
    #[test]
    fn timeouts_fire_in_deadline_order() {
        let t = |round| Timeout { height: 1, round, step: TimeoutStep::Propose };
        let now = Instant::now();
        let mut timers = Timers::default();
        timers.schedule(t(0), 300, now);
        timers.schedule(t(1), 100, now);
        timers.schedule(t(2), 200, now);
        assert_eq!(timers.wait(now), Some(Duration::from_millis(100)));
        assert!(timers.due(now).is_empty());
        assert_eq!(timers.due(now + Duration::from_millis(250)), vec![t(1), t(2)]);
        assert_eq!(timers.due(now + Duration::from_millis(300)), vec![t(0)]);
        assert_eq!(timers.wait(now), None);
    }
}
