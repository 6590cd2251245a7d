//! The recent blocks with their verdicts, and the transactions of the selected
//! block.

use leptos::prelude::*;
use starling_wasm::peer::verdict::{BlockRow, Verdict};

use crate::app::PageState;
use crate::client::clock_time;
use crate::labels::{finality_attr, finality_text};

#[component]
pub fn BlockTable(
    state: RwSignal<PageState>,
    selected: RwSignal<Option<BlockRow>>,
) -> impl IntoView {
    let rows = move || state.with(|s| s.peer.rows.clone());
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
                    <th>"Final by"</th>
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
                                data-finality=finality_attr(row.finality.as_ref())
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
                                <td class="finality">{finality_text(row.finality.as_ref())}</td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        {move || state.with(|s| s.peer.rows.is_empty()).then(|| view! { <p class="empty">"No blocks yet."</p> })}
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
pub fn BlockDetail(selected: RwSignal<Option<BlockRow>>) -> impl IntoView {
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
                        <dt>"Final by"</dt><dd>{finality_text(row.finality.as_ref())}</dd>
                        {summary.map(|s| view! {
                            <dt>"Parent"</dt><dd class="hex">{s.parent_hash}</dd>
                            <dt>"State root"</dt><dd class="hex">{s.state_root}</dd>
                            <dt>"Tx root"</dt><dd class="hex">{s.tx_root}</dd>
                            <dt>"Proposer"</dt><dd class="hex">{s.proposer}</dd>
                            <dt>"Validator set"</dt><dd class="hex">{if s.validators.trim_start_matches("0x").bytes().all(|b| b == b'0') {
                                "none: signed by the sequencer".to_owned()
                            } else {
                                s.validators
                            }}</dd>
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
pub fn short(hex: &str) -> String {
    if hex.len() <= 16 {
        return hex.to_owned();
    }
    format!("{}…{}", &hex[..10], &hex[hex.len() - 4..])
}
