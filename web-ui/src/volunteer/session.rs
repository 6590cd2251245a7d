//! A proving session: from Prove to Stop (or the tab's end), one loop per
//! worker, each leasing the lowest open job from the node that served the
//! page, proving it in its Web Worker while renewing the lease, and posting
//! the proof to `/proofs/{height}`.
//!
//! Nothing but leases is ever at stake: a job's input comes from the node and
//! its proof goes back to it, so a closed tab or a stopped session only gives
//! its leases back (at once when it can, by the lease's expiry otherwise) and
//! the jobs return to the pool.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use futures::FutureExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::tally::{Pace, Phase, Tally};
use super::worker::{ProverWorker, Report};
use crate::client::{RpcClient, call_keepalive, post_bytes, sleep};
use crate::rpc::{LeasedJob, SubmitAnswer, hex_bytes};

/// How long a worker waits before asking again when no job is open.
const IDLE_MS: i32 = 1000;
/// How long it waits after the node could not be reached.
const TROUBLE_MS: i32 = 3000;
/// How often a proving worker checks for Stop and for a lease due to renew.
const WATCH_MS: i32 = 250;

/// What the view reads: a phase per worker and the totals.
#[derive(Clone, Copy)]
pub struct Board {
    pub workers: RwSignal<Vec<Phase>>,
    pub tally: RwSignal<Tally>,
}

/// One session's shared state.
pub struct Session {
    /// The hex address the proofs are bound to, where rewards go.
    prover: String,
    rpc: RpcClient,
    board: Board,
    /// Heights this tab holds leases on, to give back on Stop or unload.
    held: RefCell<BTreeSet<u64>>,
    pace: Cell<Pace>,
    stopped: Cell<bool>,
}

impl Session {
    /// Starts `workers` proving loops for `prover`.
    pub fn start(prover: String, workers: usize, board: Board) -> Rc<Self> {
        board.workers.set(vec![Phase::Waiting; workers]);
        board.tally.set(Tally::new(js_sys::Date::now()));
        let session = Rc::new(Self {
            prover,
            rpc: RpcClient::same_origin(),
            board,
            held: RefCell::default(),
            pace: Cell::default(),
            stopped: Cell::new(false),
        });
        for index in 0..workers {
            spawn_local(run(session.clone(), index));
        }
        session
    }

    /// Ends the session: every worker stops (mid-proof if need be) and every
    /// lease still held is given back.
    pub fn stop(&self) {
        self.stopped.set(true);
        for height in std::mem::take(&mut *self.held.borrow_mut()) {
            self.release(height);
        }
    }

    /// Gives the lease on `height` back, even as the page goes away.
    fn release(&self, height: u64) {
        call_keepalive("starling_releaseLease", json!([height, self.prover]));
    }

    fn set_phase(&self, index: usize, phase: Phase) {
        self.board.workers.update(|w| {
            if let Some(slot) = w.get_mut(index) {
                *slot = phase;
            }
        });
    }
}

/// One worker's loop: lease, prove, submit, until the session stops.
async fn run(session: Rc<Session>, index: usize) {
    let mut worker = match ProverWorker::spawn() {
        Ok(worker) => worker,
        Err(e) => {
            let reason = format!("cannot start a Web Worker: {e}");
            return session.set_phase(index, Phase::Failed { height: None, reason });
        }
    };
    while !session.stopped.get() {
        session.set_phase(index, Phase::Waiting);
        let leased = session
            .rpc
            .call::<Option<LeasedJob>>("starling_leaseJob", json!([session.prover]))
            .await;
        if session.stopped.get() {
            // A lease granted after Stop is given back at once.
            if let Ok(Some(job)) = &leased {
                session.release(job.height);
            }
            break;
        }
        match leased {
            Ok(Some(job)) => prove_one(&session, index, &mut worker, job).await,
            Ok(None) => sleep(IDLE_MS).await,
            Err(e) => {
                session.set_phase(index, Phase::Failed { height: None, reason: e.to_string() });
                sleep(TROUBLE_MS).await;
            }
        }
    }
}

/// Proves one leased job and submits the proof; a job that fails gives its
/// lease back so another prover can take it at once.
async fn prove_one(session: &Session, index: usize, worker: &mut ProverWorker, job: LeasedJob) {
    let height = job.height;
    session.held.borrow_mut().insert(height);
    session.set_phase(index, Phase::Recording { height, transactions: job.transactions });
    let outcome = futures::select! {
        outcome = prove_and_submit(session, index, worker, &job).fuse() => Some(outcome),
        () = keep_lease(session, &job).fuse() => None,
    };
    let still_held = session.held.borrow_mut().remove(&height);
    // Stopped (the only way `keep_lease` ends): `Session::stop` gave the lease
    // back, and a new session may own the board.
    let Some(outcome) = outcome.filter(|_| !session.stopped.get()) else { return };
    match outcome {
        Ok(()) => {
            session.board.tally.update(|t| t.accept(job.transactions));
            session.set_phase(index, Phase::Accepted { height });
        }
        Err(reason) => {
            if still_held {
                session.release(height);
            }
            session.board.tally.update(|t| t.refused += 1);
            session.set_phase(index, Phase::Failed { height: Some(height), reason });
            sleep(TROUBLE_MS).await;
        }
    }
}

async fn prove_and_submit(
    session: &Session,
    index: usize,
    worker: &mut ProverWorker,
    job: &LeasedJob,
) -> Result<(), String> {
    let (height, transactions) = (job.height, job.transactions);
    let input = hex_bytes(&job.input).map_err(|e| format!("the job's input is not hex: {e}"))?;
    worker.start(&input, &session.prover)?;
    let proof = loop {
        match worker.next().await {
            Report::Started => {}
            Report::Recorded => {
                let expected_ms = session.pace.get().expected_ms(transactions);
                let started_ms = js_sys::Date::now();
                session.set_phase(
                    index,
                    Phase::Proving { height, transactions, started_ms, expected_ms },
                );
            }
            Report::Proved { proof, prove_ms } => {
                let mut pace = session.pace.get();
                pace.record(transactions, prove_ms);
                session.pace.set(pace);
                break proof;
            }
            Report::Failed(reason) => return Err(reason),
        }
    };
    session.set_phase(index, Phase::Submitting { height });
    let (status, body) = post_bytes(&format!("/proofs/{height}"), &proof).await?;
    let answer = SubmitAnswer::parse(&body).map_err(|e| format!("HTTP {status}: {e}"))?;
    answer.refusal().map_or(Ok(()), Err)
}

/// Renews the job's lease while it is proved, when about a third of it is
/// left; returns only when the session stops.
async fn keep_lease(session: &Session, job: &LeasedJob) {
    let leased_ms = js_sys::Date::now();
    let mut renew_at = leased_ms + renew_after_ms(job.expires_ms, leased_ms);
    loop {
        sleep(WATCH_MS).await;
        if session.stopped.get() {
            return;
        }
        let now = js_sys::Date::now();
        if now < renew_at {
            continue;
        }
        let renewed = session
            .rpc
            .call::<serde_json::Value>("starling_renewLease", json!([job.height, session.prover]))
            .await;
        // A lease that cannot be renewed does not stop the proof: the first
        // valid proof wins whoever holds the lease.
        let expires_ms = renewed.ok().and_then(|lease| lease["expires_ms"].as_u64());
        renew_at = now + expires_ms.map_or(RENEW_MAX_MS, |e| renew_after_ms(e, now));
    }
}

/// Renewals come at most this far apart, and at least `RENEW_MIN_MS`.
const RENEW_MAX_MS: f64 = 20_000.0;
const RENEW_MIN_MS: f64 = 5_000.0;

/// When to renew a lease that ends at `expires_ms` (the node's clock): after
/// two thirds of what is left by this page's clock, bounded so that a skewed
/// clock neither floods the node nor lets the lease lapse for long.
fn renew_after_ms(expires_ms: u64, now_ms: f64) -> f64 {
    ((expires_ms as f64 - now_ms) * 2.0 / 3.0).clamp(RENEW_MIN_MS, RENEW_MAX_MS)
}

/// Gives back every lease a session holds when the tab goes away.
pub fn release_on_unload(session: &Rc<RefCell<Option<Rc<Session>>>>) {
    let Some(window) = web_sys::window() else { return };
    let session = session.clone();
    let on_hide = Closure::<dyn FnMut()>::new(move || {
        if let Some(session) = session.borrow().as_ref() {
            session.stop();
        }
    });
    let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    // The page lives as long as the listener: it is never removed.
    on_hide.forget();
}
