//! The Leptos view: chain facts, the recent blocks with their verdicts, and the
//! transactions of the selected block.
//!
//! Element ids and `data-` attributes are part of the page's interface: the browser
//! end-to-end tests (tests/browser/) read `#height` (the latest verified height),
//! `#node-height`, `#connection[data-state]`, `#chain-switched`,
//! `tr[data-block-height][data-verdict]`, `[data-reason]` and `#block-detail`.
//!
//! What the page trusts is stated on the page itself (the facts panel's note) and
//! in [`crate::tracker`]'s docs; keep the two in step.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::client::{RpcClient, clock_time, sleep};
use crate::identity::ChainIdentity;
use crate::rpc::{BLOCK_NOT_FOUND, BlockResponse, CallError, Status};
use crate::tracker::{StatusError, Tracker};
use crate::verdict::{BlockRow, Verdict, VerifiedHead};

/// How long to wait between polls of `starling_status`; the devnet makes a block
/// about every second.
const POLL_MS: i32 = 1000;

#[derive(Clone, Debug, Default, PartialEq)]
enum Connection {
    #[default]
    Connecting,
    /// The last poll succeeded.
    Live,
    /// The last poll failed; the page keeps showing what it had.
    Error(String),
    /// The node switched chains: the page stopped polling and verifying for good.
    Stopped(String),
}

/// Everything the view shows, replaced as polls complete.
#[derive(Clone, Debug, Default)]
struct PageState {
    /// The node's latest status: its claims, shown as such.
    status: Option<Status>,
    /// The chain pinned by the first status.
    identity: Option<ChainIdentity>,
    verified_head: Option<VerifiedHead>,
    anchor: Option<u64>,
    rows: Vec<BlockRow>,
    connection: Connection,
}

impl PageState {
    /// Copies what the tracker knows into the view's state.
    fn show(&mut self, tracker: &Tracker) {
        self.identity = tracker.identity().cloned();
        self.verified_head = tracker.verified_head().cloned();
        self.anchor = tracker.anchor();
        self.rows = tracker.rows();
    }
}

#[component]
pub fn App() -> impl IntoView {
    let state = RwSignal::new(PageState::default());
    let selected = RwSignal::new(None::<BlockRow>);
    spawn_local(follow_chain(state));

    view! {
        <header class="top">
            <h1>"Starling"</h1>
            <span class="subtitle">"live chain, verified in your browser"</span>
            <ConnectionBadge state=state />
        </header>
        <main>
            <ChainSwitched state=state />
            <ConnectionError state=state />
            <ChainFacts state=state />
            <section class="panel">
                <h2>"Recent blocks"</h2>
                <p class="hint">
                    "Each block is checked here, in WebAssembly: the sequencer's signature, the link to its parent, "
                    "every transaction signature, and a re-execution on the witnessed parent state that must end at the "
                    "header's state root. A block is verified only on top of an accepted parent, so every block after a "
                    "rejected one is rejected too (the page does not re-fetch it: reload to check again). "
                    "Click a block for its transactions."
                </p>
                <BlockTable state=state selected=selected />
            </section>
            <BlockDetail selected=selected />
        </main>
    }
}

#[component]
fn ConnectionBadge(state: RwSignal<PageState>) -> impl IntoView {
    let connection = move || state.with(|s| s.connection.clone());
    let data_state = move || match connection() {
        Connection::Connecting => "connecting",
        Connection::Live => "live",
        Connection::Error(_) => "error",
        Connection::Stopped(_) => "stopped",
    };
    let label = move || match connection() {
        Connection::Connecting => "connecting…".to_owned(),
        Connection::Live => "● live".to_owned(),
        Connection::Error(_) => "● disconnected".to_owned(),
        Connection::Stopped(_) => "■ stopped".to_owned(),
    };
    view! { <span id="connection" class="connection" data-state=data_state>{label}</span> }
}

#[component]
fn ConnectionError(state: RwSignal<PageState>) -> impl IntoView {
    let error = move || {
        state.with(|s| match &s.connection {
            Connection::Error(e) => Some(e.clone()),
            _ => None,
        })
    };
    move || {
        error().map(|e| {
            view! {
                <div id="connection-error" class="banner error" role="alert">
                    <strong>"Connection problem: "</strong>
                    {e}
                    " — retrying every second."
                </div>
            }
        })
    }
}

#[component]
fn ChainSwitched(state: RwSignal<PageState>) -> impl IntoView {
    let stopped = move || {
        state.with(|s| match &s.connection {
            Connection::Stopped(e) => Some(e.clone()),
            _ => None,
        })
    };
    move || {
        stopped().map(|e| {
            view! {
                <div id="chain-switched" class="banner error" role="alert">
                    <strong>"Stopped: "</strong>
                    {e}
                    ". The blocks below are those of the chain this page started on."
                </div>
            }
        })
    }
}

#[component]
fn ChainFacts(state: RwSignal<PageState>) -> impl IntoView {
    view! {
        <section class="panel facts">
            <dl>
                <div><dt>"Chain"</dt><dd id="chain-id">{fact(state, pinned, |i| i.chain_id.clone())}</dd></div>
                <div class="big"><dt>"Verified height"</dt><dd id="height">{fact(state, verified, |v| v.height.to_string())}</dd></div>
                <div><dt>"Node's head (unverified)"</dt><dd id="node-height">{fact(state, node, |s| s.height.to_string())}</dd></div>
                <div><dt>"Mode · peers (node says)"</dt><dd><span id="mode">{fact(state, node, |s| s.mode.clone())}</span>" · "<span id="peers">{fact(state, node, |s| s.peers.to_string())}</span></dd></div>
                <div class="wide"><dt>"Verified head hash"</dt><dd id="head-hash" class="hex">{fact(state, verified, |v| v.hash.clone())}</dd></div>
                <div class="wide"><dt>"Verified state root"</dt><dd id="state-root" class="hex">{fact(state, verified, |v| v.state_root.clone())}</dd></div>
                <div class="wide"><dt>"Sequencer key (trusted)"</dt><dd id="sequencer" class="hex">{fact(state, pinned, |i| i.sequencer.clone())}</dd></div>
                <div class="wide"><dt>"Genesis hash (trusted)"</dt><dd id="genesis-hash" class="hex">{fact(state, pinned, |i| i.genesis_hash.clone())}</dd></div>
            </dl>
            <TrustNote state=state />
        </section>
    }
}

/// A fact's text, or a dash while its source is unknown. `pick` chooses the
/// source, so each fact says whether it is pinned, verified or the node's claim.
fn fact<T>(
    state: RwSignal<PageState>,
    pick: fn(&PageState) -> Option<&T>,
    show: fn(&T) -> String,
) -> impl Fn() -> String + Copy + Send + Sync + 'static
where
    T: 'static,
{
    move || state.with(|s| pick(s).map(show).unwrap_or_else(|| "—".to_owned()))
}

/// The chain pinned by the first status: trusted.
fn pinned(s: &PageState) -> Option<&ChainIdentity> {
    s.identity.as_ref()
}

/// The newest block checked in this browser.
fn verified(s: &PageState) -> Option<&VerifiedHead> {
    s.verified_head.as_ref()
}

/// What the node says about itself: shown as its claim.
fn node(s: &PageState) -> Option<&Status> {
    s.status.as_ref()
}

/// Says in words what the rows' verdicts rest on: the one thing taken from the
/// node on trust, and the anchor's state root when the page joined mid-chain.
#[component]
fn TrustNote(state: RwSignal<PageState>) -> impl IntoView {
    let anchor = move || {
        state.with(|s| match s.anchor {
            Some(h) => format!(
                " This page joined mid-chain: block {h} is its anchor, whose signature is checked but \
                 whose state root is assumed (checking it would take the whole history); blocks after it \
                 are verified from that state."
            ),
            None => " Verification starts at genesis, so nothing else is assumed.".to_owned(),
        })
    };
    view! {
        <p id="trust" class="hint trust">
            "Trusted: the chain id, genesis hash and sequencer key from this node's first status, pinned "
            "for as long as the page is open. Verified here: the height, hash and state root above, and "
            "every block marked verified. The node's head, mode and peers are its own claims."
            {anchor}
        </p>
    }
}

#[component]
fn BlockTable(state: RwSignal<PageState>, selected: RwSignal<Option<BlockRow>>) -> impl IntoView {
    let rows = move || state.with(|s| s.rows.clone());
    let is_selected =
        move |height: u64| selected.with(|sel| sel.as_ref().is_some_and(|r| r.height == height));
    view! {
        <table id="blocks" class="blocks">
            <thead>
                <tr>
                    <th>"Height"</th>
                    <th>"Hash"</th>
                    <th>"Time"</th>
                    <th class="num">"Txs"</th>
                    <th>"State root"</th>
                    <th>"Verdict"</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=rows
                    key=|row| (row.height, row.hash.clone(), row.verdict.clone())
                    let:row
                >
                    {
                        let height = row.height;
                        let clicked = row.clone();
                        let summary = row.summary.clone();
                        view! {
                            <tr
                                data-block-height=height
                                data-verdict=row.verdict.attr()
                                class:selected=move || is_selected(height)
                                on:click=move |_| selected.set(Some(clicked.clone()))
                            >
                                <td class="num">{height}</td>
                                <td class="hex" title=row.hash.clone()>{short(&row.hash)}</td>
                                <td>{summary.as_ref().map(|s| clock_time(s.timestamp_ms)).unwrap_or_default()}</td>
                                <td class="num">{summary.as_ref().map(|s| s.transactions.len().to_string()).unwrap_or_default()}</td>
                                <td class="hex" title=summary.as_ref().map(|s| s.state_root.clone())>
                                    {summary.as_ref().map(|s| short(&s.state_root)).unwrap_or_default()}
                                </td>
                                <td><VerdictBadge verdict=row.verdict.clone() /></td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        {move || state.with(|s| s.rows.is_empty()).then(|| view! { <p class="empty">"No blocks yet."</p> })}
    }
}

#[component]
fn VerdictBadge(verdict: Verdict) -> impl IntoView {
    match verdict {
        Verdict::Verified => view! {
            <span class="badge ok" title="signature, transactions and state root checked in this browser, on top of a parent accepted here">
                "verified ✓"
            </span>
        }
        .into_any(),
        Verdict::Genesis => view! {
            <span class="badge genesis" title="genesis: trusted because it hashes to the chain's genesis hash">
                "genesis ✓"
            </span>
        }
        .into_any(),
        Verdict::Anchor => view! {
            <span
                class="badge anchor"
                title="where this page started: signature checked, state root assumed, not verified"
            >
                "anchor (assumed)"
            </span>
        }
        .into_any(),
        Verdict::Rejected(reason) => {
            let shown = reason.clone();
            view! {
                <span class="badge bad" data-reason=reason>
                    "rejected ✗ "
                    <span class="reason">{shown}</span>
                </span>
            }
            .into_any()
        }
    }
}

#[component]
fn BlockDetail(selected: RwSignal<Option<BlockRow>>) -> impl IntoView {
    move || {
        selected.get().map(|row| {
            let summary = row.summary.clone();
            let txs = summary.as_ref().map(|s| s.transactions.clone()).unwrap_or_default();
            let tx_count = txs.len();
            view! {
                <section id="block-detail" class="panel detail" data-block-height=row.height>
                    <div class="detail-head">
                        <h2>{format!("Block {}", row.height)}</h2>
                        <VerdictBadge verdict=row.verdict.clone() />
                        <button class="close" on:click=move |_| selected.set(None)>"close"</button>
                    </div>
                    <dl class="kv">
                        <dt>"Hash"</dt><dd class="hex">{row.hash.clone()}</dd>
                        {summary.map(|s| view! {
                            <dt>"Parent"</dt><dd class="hex">{s.parent_hash}</dd>
                            <dt>"State root"</dt><dd class="hex">{s.state_root}</dd>
                            <dt>"Tx root"</dt><dd class="hex">{s.tx_root}</dd>
                            <dt>"Proposer"</dt><dd class="hex">{s.proposer}</dd>
                            <dt>"Time"</dt><dd>{clock_time(s.timestamp_ms)}</dd>
                        })}
                    </dl>
                    <h3>{format!("{tx_count} transaction{}", if tx_count == 1 { "" } else { "s" })}</h3>
                    <table class="txs">
                        <thead>
                            <tr>
                                <th>"Hash"</th>
                                <th>"Sender"</th>
                                <th>"To"</th>
                                <th class="num">"Amount"</th>
                                <th class="num">"Fee"</th>
                                <th class="num">"Nonce"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {txs
                                .into_iter()
                                .map(|tx| view! {
                                    <tr data-tx-hash=tx.hash.clone()>
                                        <td class="hex" title=tx.hash.clone()>{short(&tx.hash)}</td>
                                        <td class="hex" title=tx.sender.clone()>{short(&tx.sender)}</td>
                                        <td class="hex" title=tx.to.clone()>{short(&tx.to)}</td>
                                        <td class="num">{tx.amount}</td>
                                        <td class="num">{tx.fee}</td>
                                        <td class="num">{tx.nonce}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}

/// `0x1234abcd…ef01`: enough to tell hashes apart at a glance; the full value is
/// in the cell's tooltip and in the detail panel.
fn short(hex: &str) -> String {
    if hex.len() <= 16 {
        return hex.to_owned();
    }
    format!("{}…{}", &hex[..10], &hex[hex.len() - 4..])
}

/// Polls the node until the page closes or the node switches chains. Each round
/// fetches the status, then the blocks the tracker asks for, oldest first,
/// verifying each as it arrives so the list fills in progressively.
async fn follow_chain(state: RwSignal<PageState>) {
    let rpc = RpcClient::same_origin();
    let mut tracker = Tracker::new();
    loop {
        let connection = match poll_once(&rpc, &mut tracker, state).await {
            Ok(()) => Connection::Live,
            Err(PollError::Stopped(e)) => Connection::Stopped(e.to_string()),
            Err(PollError::Call(e)) => Connection::Error(e.to_string()),
        };
        let stopped = matches!(connection, Connection::Stopped(_));
        state.update(|s| s.connection = connection);
        if stopped {
            return;
        }
        sleep(POLL_MS).await;
    }
}

/// Why a round ended early.
enum PollError {
    /// Worth retrying next round.
    Call(CallError),
    /// The node switched chains; the page stops.
    Stopped(StatusError),
}

impl From<CallError> for PollError {
    fn from(e: CallError) -> Self {
        Self::Call(e)
    }
}

async fn poll_once(
    rpc: &RpcClient,
    tracker: &mut Tracker,
    state: RwSignal<PageState>,
) -> Result<(), PollError> {
    let status: Status = rpc.call("starling_status", json!([])).await?;
    let heights = match tracker.on_status(&status) {
        Ok(heights) => heights,
        Err(e @ StatusError::Switched(_)) => return Err(PollError::Stopped(e)),
        Err(e) => return Err(CallError::BadResponse(e.to_string()).into()),
    };
    state.update(|s| {
        s.status = Some(status);
        s.show(tracker);
    });
    for height in heights {
        let block: BlockResponse = match rpc.call("starling_getBlock", json!([height])).await {
            // The status was a moment ahead of what the node serves; next round.
            Err(CallError::Rpc { code: BLOCK_NOT_FOUND, .. }) => break,
            other => other?,
        };
        tracker.ingest(height, &block);
        state.update(|s| s.show(tracker));
    }
    Ok(())
}
