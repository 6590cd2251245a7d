//! The volunteer panel's view: the reward address, Prove/Stop, the totals and
//! a progress bar per worker.

use std::cell::RefCell;
use std::rc::Rc;
use std::str::FromStr;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use starling_core::types::Address;

use super::session::{Board, Session, release_on_unload};
use super::tally::{Phase, Tally};
use crate::client::{RpcClient, sleep};
use crate::labels::{grouped, tokens};
use crate::rpc::{CallError, ProverRewards};

/// Where the page remembers the reward address between visits.
const ADDRESS_KEY: &str = "starling.prover-address";
/// Most workers a tab runs (the node leases at most this many jobs to one prover).
const MAX_WORKERS: usize = 16;
/// How often the clock behind the progress bars ticks while proving.
const TICK_MS: i32 = 250;
/// How often the node is asked for the address's rewards.
const REWARDS_MS: i32 = 3000;

/// What the node said about the address's rewards.
#[derive(Clone, Debug, Default, PartialEq)]
enum Rewards {
    #[default]
    Unknown,
    Reported(ProverRewards),
    /// The node has no rewards to report (an older node, or it does not pay).
    NotPaid,
}

#[component]
pub fn Volunteer() -> impl IntoView {
    let address = RwSignal::new(remembered_address());
    let workers = RwSignal::new(default_workers());
    let error = RwSignal::new(None::<String>);
    let board =
        Board { workers: RwSignal::new(Vec::new()), tally: RwSignal::new(Tally::default()) };
    let now = RwSignal::new(js_sys::Date::now());
    let rewards = RwSignal::new(Rewards::Unknown);
    let session: Rc<RefCell<Option<Rc<Session>>>> = Rc::default();
    let proving = RwSignal::new(false);
    release_on_unload(&session);
    spawn_local(poll_rewards(address, rewards));
    spawn_local(tick(now, proving));

    let toggle = {
        let session = session.clone();
        move |_| {
            if let Some(running) = session.borrow_mut().take() {
                running.stop();
                proving.set(false);
                return;
            }
            match Address::from_str(address.get_untracked().trim()) {
                Ok(prover) => {
                    error.set(None);
                    remember_address(&prover.to_string());
                    let count = workers.get_untracked().clamp(1, MAX_WORKERS);
                    *session.borrow_mut() = Some(Session::start(prover.to_string(), count, board));
                    proving.set(true);
                }
                Err(_) => error.set(Some(
                    "Enter the account address your rewards should go to (0x and 64 hex digits)."
                        .into(),
                )),
            }
        }
    };
    let tally = board.tally;
    let throughput = move || format!("{:.2}", tally.get().throughput(now.get()));
    view! {
        <section class="panel volunteer" data-testid="volunteer">
            <h2>"Prove blocks"</h2>
            <p class="hint">
                "Every block's state transition is proven with a STARK. Press Prove and this tab takes proving jobs "
                "from the node, proves them in WebAssembly (one Web Worker per core) and hands the proofs back; "
                "the node verifies each one before it counts. Closing the tab gives back only the jobs in progress."
            </p>
            <div class="controls">
                <label>
                    "Reward address "
                    <input
                        type="text"
                        class="hex"
                        size="68"
                        placeholder="0x… (your account address)"
                        data-testid="prover-address"
                        prop:value=move || address.get()
                        on:input=move |ev| address.set(event_target_value(&ev))
                        prop:disabled=move || proving.get()
                    />
                </label>
                <label>
                    " Workers "
                    <input
                        type="number"
                        min="1"
                        max=MAX_WORKERS.to_string()
                        data-testid="prover-workers"
                        prop:value=move || workers.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() {
                                workers.set(n);
                            }
                        }
                        prop:disabled=move || proving.get()
                    />
                </label>
                <button
                    data-testid="prove-button"
                    data-state=move || if proving.get() { "proving" } else { "idle" }
                    on:click=toggle
                >
                    {move || if proving.get() { "Stop" } else { "Prove" }}
                </button>
            </div>
            {move || error.get().map(|e| view! { <p class="banner error" data-testid="prover-error">{e}</p> })}
            <dl>
                <div><dt>"Proofs accepted"</dt><dd data-testid="proofs-accepted" data-count=move || tally.get().accepted.to_string()>{move || grouped(tally.get().accepted)}</dd></div>
                <div><dt>"Refused or failed"</dt><dd data-testid="proofs-refused" data-count=move || tally.get().refused.to_string()>{move || grouped(tally.get().refused)}</dd></div>
                <div><dt>"Transactions proven"</dt><dd data-testid="transactions-proven" data-count=move || tally.get().transactions.to_string()>{move || grouped(tally.get().transactions)}</dd></div>
                <div><dt>"Throughput (tx/s, this session)"</dt><dd data-testid="throughput">{throughput}</dd></div>
                <div class="wide"><dt>"Rewards (the node's word)"</dt><dd data-testid="rewards-earned" data-paid=move || paid(&rewards.get())>{move || rewards_text(&rewards.get())}</dd></div>
            </dl>
            <ol class="workers">
                <For each=move || 0..board.workers.with(Vec::len) key=|i| *i let:index>
                    <WorkerRow phase=Signal::derive(move || board.workers.with(|w| w.get(index).cloned().unwrap_or(Phase::Waiting))) now=now />
                </For>
            </ol>
        </section>
    }
}

#[component]
fn WorkerRow(phase: Signal<Phase>, now: RwSignal<f64>) -> impl IntoView {
    let progress = move || phase.get().progress(now.get());
    view! {
        <li
            data-testid="prover-worker"
            data-phase=move || phase.get().name()
            data-height=move || phase.get().height().map(|h| h.to_string())
        >
            <span class="what">{move || describe(&phase.get())}</span>
            // An indeterminate bar (no value) while the pace is unknown.
            <progress max="1" prop:value=move || progress().unwrap_or(0.0) attr:data-known=move || progress().is_some().to_string()></progress>
        </li>
    }
}

/// A worker's job in words.
fn describe(phase: &Phase) -> String {
    let txs =
        |n: &u64| if *n == 1 { "1 transaction".to_owned() } else { format!("{n} transactions") };
    match phase {
        Phase::Waiting => "waiting for an open job".to_owned(),
        Phase::Recording { height, transactions } => {
            format!("block {height} ({}): re-executing", txs(transactions))
        }
        Phase::Proving { height, transactions, expected_ms, .. } => match expected_ms {
            Some(ms) => format!(
                "block {height} ({}): proving, about {:.1} s",
                txs(transactions),
                ms / 1000.0
            ),
            None => format!("block {height} ({}): proving", txs(transactions)),
        },
        Phase::Submitting { height } => format!("block {height}: sending the proof"),
        Phase::Accepted { height } => format!("block {height}: proof accepted"),
        Phase::Failed { height: Some(h), reason } => format!("block {h}: {reason}"),
        Phase::Failed { height: None, reason } => reason.clone(),
    }
}

fn rewards_text(rewards: &Rewards) -> String {
    match rewards {
        Rewards::Unknown => "—".to_owned(),
        Rewards::NotPaid => "this node does not pay proving rewards".to_owned(),
        Rewards::Reported(r) if r.reward_per_proof.is_none() => {
            format!("{} proofs settled; this node does not pay rewards", grouped(r.proofs_settled))
        }
        Rewards::Reported(r) => format!(
            "{} paid, {} pending ({} proofs settled)",
            tokens(r.rewards_paid),
            tokens(r.rewards_pending),
            grouped(r.proofs_settled)
        ),
    }
}

/// The base units the node has paid the address, where it pays (for scripts
/// and tests: the text groups digits and rounds to tokens).
fn paid(rewards: &Rewards) -> Option<String> {
    match rewards {
        Rewards::Reported(r) if r.reward_per_proof.is_some() => Some(r.rewards_paid.to_string()),
        _ => None,
    }
}

/// Keeps `now` moving while proving, so the bars advance. One loop for the
/// page's life, so Stop then Prove never leaves two running.
async fn tick(now: RwSignal<f64>, proving: RwSignal<bool>) {
    loop {
        if proving.get_untracked() {
            now.set(js_sys::Date::now());
        }
        sleep(TICK_MS).await;
    }
}

/// Asks the node for the typed address's rewards, while it parses.
async fn poll_rewards(address: RwSignal<String>, rewards: RwSignal<Rewards>) {
    let rpc = RpcClient::same_origin();
    loop {
        if let Ok(prover) = Address::from_str(address.get_untracked().trim()) {
            let answer =
                rpc.call::<ProverRewards>("starling_getProverRewards", json!([prover])).await;
            rewards.set(match answer {
                Ok(r) => Rewards::Reported(r),
                Err(CallError::Rpc { .. }) => Rewards::NotPaid,
                Err(_) => rewards.get_untracked(),
            });
        } else {
            rewards.set(Rewards::Unknown);
        }
        sleep(REWARDS_MS).await;
    }
}

/// One worker per core, as the browser counts them.
fn default_workers() -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (cores as usize).clamp(1, MAX_WORKERS)
}

/// The address from `?prover=` in the page's URL, or the one used last time.
fn remembered_address() -> String {
    let Some(window) = web_sys::window() else { return String::new() };
    let search = window.location().search().unwrap_or_default();
    let from_url = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("prover="))
        .map(str::to_owned);
    from_url
        .or_else(|| window.local_storage().ok().flatten()?.get_item(ADDRESS_KEY).ok().flatten())
        .unwrap_or_default()
}

fn remember_address(address: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        // Private windows may refuse storage; the address then is not remembered.
        let _ = storage.set_item(ADDRESS_KEY, address);
    }
}
