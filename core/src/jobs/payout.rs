//! Paying provers: which reward transfers a paying node signs next, and what
//! becomes of each one it has signed.
//!
//! For now rewards are not minted by the protocol: a node holding the key of a
//! funded rewards account pays each settled height's winner with an ordinary
//! signed transfer (which the block proof already covers), at a fixed amount
//! per proof. The host records every payment durably before submitting it; this
//! module decides, as pure logic, so that the rules "every proven height is
//! paid, in height order, exactly once" can be checked without a chain:
//!
//! - [`plan`] takes the next unpaid height, the settled winners from there on,
//!   and how many payments are still waiting for inclusion, and assigns the
//!   next heights consecutive nonces. It never skips a height (a gap in the
//!   winners stops it) and never pays one above the proven height.
//! - [`classify`] tells, for a recorded payment, whether it is included, still
//!   waiting (its nonce is unused: submit the same bytes again, which the chain
//!   can include at most once), or displaced (its nonce went to some other
//!   transaction of the account, so these bytes can never be included: the
//!   height must be paid again under a new nonce).

use alloc::vec::Vec;

use super::{JobId, RewardDue};
use crate::types::Address;

/// What a paying node pays, and how far ahead of inclusion it may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutPolicy {
    /// Base units paid per settled proof.
    pub amount: u64,
    /// Most payments signed and not yet included at once. Mempools hold only
    /// so many transactions per sender, and so far past its nonce; past that
    /// a payment would be refused, so planning waits for inclusions instead.
    pub max_in_flight: usize,
}

/// Where paying stands: the lowest height not yet paid, and the nonce the
/// next payment would use (before catching up with the account's own nonce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutCursor {
    pub next_height: JobId,
    pub next_nonce: u64,
}

/// One reward transfer to sign: `amount` to `prover` for the proof of
/// `height`, from the rewards account at `nonce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    pub height: JobId,
    pub prover: Address,
    pub amount: u64,
    pub nonce: u64,
}

/// The payments to sign now and the cursor after them. The host records all
/// of them together with the cursor, in one durable write, before submitting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub payments: Vec<Payment>,
    pub cursor: PayoutCursor,
}

/// Where a recorded payment stands against the committed chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentState {
    /// In a committed block: paid.
    Included,
    /// Its nonce is still unused: (re)submit the same bytes.
    Waiting,
    /// Not included, yet the account's nonce moved past it: another
    /// transaction took that nonce, so these bytes can never be included.
    Displaced,
}

/// Where a payment at `nonce` stands, given the rewards account's committed
/// nonce and whether the payment's transaction is in a committed block.
pub fn classify(nonce: u64, committed_nonce: u64, included: bool) -> PaymentState {
    if included {
        PaymentState::Included
    } else if nonce < committed_nonce {
        PaymentState::Displaced
    } else {
        PaymentState::Waiting
    }
}

/// Decides the next payments.
///
/// - `cursor`: where paying stands (`next_nonce` is raised to
///   `committed_nonce` if the account was used meanwhile).
/// - `proven`: the proven height; nothing above it is paid.
/// - `in_flight`: recorded payments still waiting for inclusion.
/// - `displaced`: heights whose payment was displaced, with their winners;
///   they are paid again first, under new nonces (the caller does not count
///   them in `in_flight`).
/// - `winners`: settled winners from `cursor.next_height` on, lowest first;
///   lower heights (already paid) are passed over, and the first gap ends the
///   plan, so a height is never skipped.
pub fn plan(
    cursor: PayoutCursor,
    committed_nonce: u64,
    proven: JobId,
    in_flight: usize,
    displaced: &[(JobId, Address)],
    winners: &[RewardDue],
    policy: &PayoutPolicy,
) -> Plan {
    let mut nonce = cursor.next_nonce.max(committed_nonce);
    let mut next_height = cursor.next_height;
    let mut payments = Vec::new();
    let mut pay = |height: JobId, prover: Address, payments: &mut Vec<Payment>| {
        payments.push(Payment { height, prover, amount: policy.amount, nonce });
        nonce += 1;
    };
    for &(height, prover) in displaced {
        pay(height, prover, &mut payments);
    }
    for due in winners.iter().filter(|due| due.height >= cursor.next_height) {
        if due.height != next_height
            || due.height > proven
            || in_flight + payments.len() >= policy.max_in_flight
        {
            break;
        }
        pay(due.height, due.prover, &mut payments);
        next_height += 1;
    }
    Plan { payments, cursor: PayoutCursor { next_height, next_nonce: nonce } }
}

#[cfg(test)]
mod tests {
    use super::super::testing::prover;
    use super::*;

    const POLICY: PayoutPolicy = PayoutPolicy { amount: 7, max_in_flight: 4 };

    fn due(height: JobId, seed: u8) -> RewardDue {
        RewardDue { height, prover: prover(seed) }
    }

    fn heights_and_nonces(plan: &Plan) -> Vec<(JobId, u64)> {
        plan.payments.iter().map(|p| (p.height, p.nonce)).collect()
    }

    /// Proves settled heights are paid in order, each to its own winner at the
    /// policy's amount, with consecutive nonces, and the cursor moves past them.
    #[test]
    fn pays_settled_heights_in_order() {
        let cursor = PayoutCursor { next_height: 1, next_nonce: 0 };
        let winners = [due(1, 1), due(2, 2), due(3, 1)];
        let plan = plan(cursor, 0, 3, 0, &[], &winners, &POLICY);
        assert_eq!(heights_and_nonces(&plan), [(1, 0), (2, 1), (3, 2)]);
        assert!(plan.payments.iter().zip(&winners).all(|(p, w)| p.prover == w.prover));
        assert!(plan.payments.iter().all(|p| p.amount == 7));
        assert_eq!(plan.cursor, PayoutCursor { next_height: 4, next_nonce: 3 });
    }

    /// Proves a height already paid is never planned again, and a gap in the
    /// winners stops the plan there: nothing above a missing height is paid.
    #[test]
    fn never_repays_and_never_skips() {
        let cursor = PayoutCursor { next_height: 3, next_nonce: 5 };
        let winners = [due(1, 1), due(2, 1), due(3, 2), due(5, 2)];
        let plan = plan(cursor, 5, 9, 0, &[], &winners, &POLICY);
        assert_eq!(heights_and_nonces(&plan), [(3, 5)]);
        assert_eq!(plan.cursor, PayoutCursor { next_height: 4, next_nonce: 6 });
    }

    /// Proves nothing above the proven height is paid, even with a winner.
    #[test]
    fn waits_for_the_proven_height() {
        let cursor = PayoutCursor { next_height: 1, next_nonce: 0 };
        let plan = plan(cursor, 0, 1, 0, &[], &[due(1, 1), due(2, 1)], &POLICY);
        assert_eq!(heights_and_nonces(&plan), [(1, 0)]);
        let none = super::plan(cursor, 0, 0, 0, &[], &[due(1, 1)], &POLICY);
        assert_eq!(none, Plan { payments: Vec::new(), cursor });
    }

    /// Proves planning stops at the in-flight bound (counting payments already
    /// waiting) and resumes from the same height once they are included.
    #[test]
    fn bounded_in_flight() {
        let cursor = PayoutCursor { next_height: 1, next_nonce: 0 };
        let winners: Vec<RewardDue> = (1..=10).map(|h| due(h, 1)).collect();
        let first = plan(cursor, 0, 10, 1, &[], &winners, &POLICY);
        assert_eq!(heights_and_nonces(&first), [(1, 0), (2, 1), (3, 2)]);
        let full = plan(first.cursor, 0, 10, 4, &[], &winners, &POLICY);
        assert!(full.payments.is_empty());
        assert_eq!(full.cursor, first.cursor);
        let resumed = plan(first.cursor, 3, 10, 0, &[], &winners, &POLICY);
        assert_eq!(heights_and_nonces(&resumed), [(4, 3), (5, 4), (6, 5), (7, 6)]);
    }

    /// Proves the nonce catches up with the account's when the account was
    /// used elsewhere, and displaced payments are paid again first, to their
    /// own winners, under fresh nonces.
    #[test]
    fn displaced_payments_are_paid_again_under_new_nonces() {
        let cursor = PayoutCursor { next_height: 3, next_nonce: 2 };
        let displaced = [(1, prover(9)), (2, prover(8))];
        let plan = plan(cursor, 4, 3, 0, &displaced, &[due(3, 1)], &POLICY);
        assert_eq!(heights_and_nonces(&plan), [(1, 4), (2, 5), (3, 6)]);
        assert_eq!(plan.payments[0].prover, prover(9));
        assert_eq!(plan.payments[1].prover, prover(8));
        assert_eq!(plan.cursor, PayoutCursor { next_height: 4, next_nonce: 7 });
    }

    /// Proves the three states of a recorded payment: included wins whatever
    /// the nonce; an unused nonce waits; a used one without inclusion is
    /// displaced.
    #[test]
    fn classifies_recorded_payments() {
        assert_eq!(classify(3, 4, true), PaymentState::Included);
        assert_eq!(classify(3, 3, false), PaymentState::Waiting);
        assert_eq!(classify(5, 3, false), PaymentState::Waiting);
        assert_eq!(classify(3, 4, false), PaymentState::Displaced);
    }
}
