//! The Leptos view: chain facts, the recent blocks with their verdicts, and the
//! transactions of the selected block.
//!
//! Element ids and `data-` attributes are part of the page's interface: the browser
//! end-to-end tests (tests/browser/) read `#height`, `#connection[data-state]`,
//! `tr[data-block-height][data-verdict]`, `[data-reason]` and `#block-detail`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::client::{RpcClient, clock_time, sleep};
use crate::rpc::{BLOCK_NOT_FOUND, BlockResponse, CallError, Status};
use crate::tracker::{BlockRow, Tracker, Verdict};

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
}

/// Everything the view shows, replaced as polls complete.
#[derive(Clone, Debug, Default)]
struct PageState {
    status: Option<Status>,
    rows: Vec<BlockRow>,
    connection: Connection,
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
            <ConnectionError state=state />
            <ChainFacts state=state />
            <section class="panel">
                <h2>"Recent blocks"</h2>
                <p class="hint">
                    "Each block is checked here, in WebAssembly: the sequencer's signature, the link to its parent, "
                    "every transaction signature, and a re-execution on the witnessed parent state that must end at the "
                    "header's state root. Click a block for its transactions."
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
    };
    let label = move || match connection() {
        Connection::Connecting => "connecting…".to_owned(),
        Connection::Live => "● live".to_owned(),
        Connection::Error(_) => "● disconnected".to_owned(),
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
fn ChainFacts(state: RwSignal<PageState>) -> impl IntoView {
    let field = move |f: fn(&Status) -> String| {
        move || state.with(|s| s.status.as_ref().map(f).unwrap_or_else(|| "—".to_owned()))
    };
    view! {
        <section class="panel facts">
            <dl>
                <div><dt>"Chain"</dt><dd id="chain-id">{field(|s| s.chain_id.clone())}</dd></div>
                <div><dt>"Mode"</dt><dd id="mode">{field(|s| s.mode.clone())}</dd></div>
                <div class="big"><dt>"Height"</dt><dd id="height">{field(|s| s.height.to_string())}</dd></div>
                <div><dt>"Peers"</dt><dd id="peers">{field(|s| s.peers.to_string())}</dd></div>
                <div class="wide"><dt>"Sequencer key"</dt><dd id="sequencer" class="hex">{field(|s| s.sequencer.clone())}</dd></div>
                <div class="wide"><dt>"Head hash"</dt><dd id="head-hash" class="hex">{field(|s| s.head_hash.clone())}</dd></div>
                <div class="wide"><dt>"State root"</dt><dd id="state-root" class="hex">{field(|s| s.state_root.clone())}</dd></div>
                <div class="wide"><dt>"Genesis hash"</dt><dd id="genesis-hash" class="hex">{field(|s| s.genesis_hash.clone())}</dd></div>
            </dl>
        </section>
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
            <span class="badge ok" title="signature, transactions and state root checked in this browser">
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

/// Polls the node for as long as the page is open. Each round fetches the status,
/// then every block the tracker has not seen (and a parent where it needs one),
/// verifying each as it arrives so the list fills in progressively.
async fn follow_chain(state: RwSignal<PageState>) {
    let rpc = RpcClient::same_origin();
    let mut tracker = Tracker::new();
    loop {
        let connection = match poll_once(&rpc, &mut tracker, state).await {
            Ok(()) => Connection::Live,
            Err(e) => Connection::Error(e.to_string()),
        };
        state.update(|s| s.connection = connection);
        sleep(POLL_MS).await;
    }
}

async fn poll_once(
    rpc: &RpcClient,
    tracker: &mut Tracker,
    state: RwSignal<PageState>,
) -> Result<(), CallError> {
    let status: Status = rpc.call("starling_status", json!([])).await?;
    let heights = tracker.on_status(&status).map_err(CallError::BadResponse)?;
    state.update(|s| {
        s.status = Some(status);
        s.rows = tracker.rows();
    });
    for height in heights {
        let block: BlockResponse = match rpc.call("starling_getBlock", json!([height])).await {
            // The status was a moment ahead of what the node serves; next round.
            Err(CallError::Rpc { code: BLOCK_NOT_FOUND, .. }) => break,
            other => other?,
        };
        let parent: Option<BlockResponse> = match tracker.parent_needed(height) {
            Some(p) => Some(rpc.call("starling_getBlock", json!([p])).await?),
            None => None,
        };
        tracker.ingest(height, &block, parent.as_ref());
        state.update(|s| s.rows = tracker.rows());
    }
    Ok(())
}
