//! Random sequences of every board operation, checked against a small model of
//! what the board promises. proptest seeds deterministically from the test's
//! name, so a failure replays exactly (and shrinks to a short sequence).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use proptest::prelude::*;

use super::testing::{job, prover};
use super::{JobBoard, JobId, Lease, LeaseError, LeasePolicy, Reject, RewardDue};
use crate::types::Address;

/// The board's first height; the operations also name heights below it.
const START: JobId = 3;

/// One input to the board. Heights are offsets from 0 so that some fall below
/// the start and some past the last published job.
#[derive(Clone, Debug)]
enum Op {
    Publish,
    Lease(u8),
    LeaseSpecific(JobId, u8),
    Renew(JobId, u8),
    Release(JobId, u8),
    Expire,
    Submit(JobId, u8),
    TakeRewards,
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let height = 0..START + 24;
    let who = 0u8..4;
    prop_oneof![
        3 => Just(Op::Publish),
        3 => who.clone().prop_map(Op::Lease),
        1 => (height.clone(), who.clone()).prop_map(|(h, p)| Op::LeaseSpecific(h, p)),
        2 => (height.clone(), who.clone()).prop_map(|(h, p)| Op::Renew(h, p)),
        1 => (height.clone(), who.clone()).prop_map(|(h, p)| Op::Release(h, p)),
        2 => Just(Op::Expire),
        4 => (height, who).prop_map(|(h, p)| Op::Submit(h, p)),
        1 => Just(Op::TakeRewards),
        3 => (0u64..40).prop_map(Op::Tick),
    ]
}

/// What the board should hold, kept independently of it.
#[derive(Default)]
struct Model {
    now_ms: u64,
    next: JobId,
    leases: BTreeMap<JobId, Lease>,
    accepted: BTreeMap<JobId, Address>,
    paid: BTreeSet<JobId>,
    proven: Option<JobId>,
}

impl Model {
    /// A lease the board granted: the job must not be leased already, and the
    /// prover must have had room.
    fn granted(&mut self, lease: Lease, policy: &LeasePolicy) {
        assert!(self.leases.insert(lease.job, lease).is_none(), "job {} leased twice", lease.job);
        assert!(!self.accepted.contains_key(&lease.job), "a proven job leased");
        let held = self.leases.values().filter(|l| l.prover == lease.prover).count();
        assert!(held <= policy.max_per_prover);
    }

    /// Rewards the board handed over: each accepted job's winner, once, and
    /// only at or below the proven height.
    fn paid(&mut self, rewards: Vec<RewardDue>) {
        for reward in rewards {
            assert_eq!(self.accepted.get(&reward.height), Some(&reward.prover));
            assert!(self.proven.is_some_and(|p| reward.height <= p));
            assert!(self.paid.insert(reward.height), "reward {} paid twice", reward.height);
        }
    }
}

/// Applies `op` to the board and checks its answer against the model.
fn step(board: &mut JobBoard, model: &mut Model, op: Op) {
    let policy = board.policy().clone();
    let who = |p: u8| prover(p + 1);
    match op {
        Op::Publish => {
            board.publish(job(model.next.max(START))).unwrap();
            model.next = board.next_height();
        }
        Op::Lease(p) => match board.lease(who(p), model.now_ms) {
            Ok(lease) => model.granted(lease, &policy),
            Err(LeaseError::NoOpenJob | LeaseError::TooManyLeases { .. }) => {}
            Err(e) => panic!("unexpected {e}"),
        },
        Op::LeaseSpecific(h, p) => {
            if let Ok(lease) = board.lease_specific(h, who(p), model.now_ms) {
                assert_eq!(lease.job, h);
                model.granted(lease, &policy);
            }
        }
        Op::Renew(h, p) => {
            let result = board.renew(h, who(p), model.now_ms);
            let held = model.leases.get(&h).filter(|l| l.prover == who(p));
            if let Ok(lease) = result {
                let before = held.expect("only the holder renews");
                assert!(model.now_ms < before.expires_ms, "only before expiry");
                assert!(lease.expires_ms >= before.expires_ms);
                model.leases.insert(h, lease);
            }
        }
        Op::Release(h, p) => {
            if let Ok(lease) = board.release(h, who(p)) {
                assert_eq!(model.leases.remove(&h), Some(lease));
            }
        }
        Op::Expire => {
            for lease in board.expire(model.now_ms) {
                assert!(lease.expires_ms <= model.now_ms);
                assert_eq!(model.leases.remove(&lease.job), Some(lease));
            }
            assert!(model.leases.values().all(|l| l.expires_ms > model.now_ms));
        }
        Op::Submit(h, p) => submit(board, model, h, who(p)),
        Op::TakeRewards => model.paid(board.take_rewards()),
        Op::Tick(ms) => model.now_ms += ms,
    }
}

/// A proof from `prover` for `height`, always valid: accepted exactly when the
/// job is published and unproven, refused for the right reason otherwise.
fn submit(board: &mut JobBoard, model: &mut Model, height: JobId, prover: Address) {
    let published = (START..model.next).contains(&height);
    let result = board.accept(height, prover);
    match (result, model.accepted.get(&height)) {
        (Ok(settled), None) => {
            assert!(published);
            assert_eq!(settled.winner, RewardDue { height, prover });
            assert_eq!(settled.ended_lease, model.leases.remove(&height));
            model.accepted.insert(height, prover);
            if let Some(proven) = settled.proven_height {
                assert!(model.proven < Some(proven), "proven height only rises");
                model.proven = Some(proven);
            }
        }
        (Err(Reject::Duplicate { winner_is_sender }), Some(winner)) => {
            assert_eq!(winner_is_sender, *winner == prover);
        }
        (Err(Reject::FutureHeight), None) => assert!(height >= model.next.max(START)),
        (Err(Reject::Stale), None) => assert!(height < START),
        (other, winner) => panic!("submission for {height}: {other:?}, model winner {winner:?}"),
    }
}

/// The proven height the model expects: the end of the contiguous run of
/// accepted jobs from the start.
fn expected_proven(model: &Model) -> Option<JobId> {
    let mut height = START;
    while model.accepted.contains_key(&height) {
        height += 1;
    }
    (height > START).then(|| height - 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Proves, over random sequences of every operation, that a job is never
    /// leased to two provers at once nor to a prover past its limit, that the
    /// board's leases are exactly the model's, that the proven height never
    /// decreases and is the end of the contiguous run of proofs, that every
    /// accepted job gets exactly one reward (to its winner, once settled), and
    /// that the board's internal invariants hold after every step.
    #[test]
    fn random_operations_keep_the_invariants(ops in prop::collection::vec(op(), 1..160)) {
        let policy = LeasePolicy { duration_ms: 50, max_per_prover: 2, max_hold_ms: 120 };
        let mut board = JobBoard::new(START, policy);
        let mut model = Model::default();
        for op in ops {
            step(&mut board, &mut model, op);
            board.assert_invariants();
            prop_assert!(board.leases().eq(model.leases.values()));
            prop_assert_eq!(board.proven_height(), model.proven);
            prop_assert_eq!(model.proven, expected_proven(&model));
        }
        model.paid(board.take_rewards());
        let settled = model.accepted.keys().filter(|h| model.proven.is_some_and(|p| **h <= p));
        let paid = model.paid.iter().copied();
        prop_assert!(settled.copied().eq(paid), "every settled job paid once");
    }
}
