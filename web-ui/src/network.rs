//! How the page is connected: the transport, the remote address, its peers, and
//! how long it took from the page starting to connect and to verify its first
//! block. The `data-testid`s are part of the page's interface (the browser tests
//! and their timing harness read them); the times are also in `data-ms`
//! attributes (with the first dial's start in `data-dial-ms`, the peer's first
//! status answer in `data-status-ms` and its first blocks in `data-blocks-ms`),
//! as milliseconds since the page started loading.

use leptos::prelude::*;
use starling_wasm::peer::view::PeerInfo;

use crate::app::PageState;
use crate::blocks::short;

#[component]
pub fn Network(state: RwSignal<PageState>) -> impl IntoView {
    let transport = move || {
        state.with(|s| s.peer.transport().map_or_else(|| "—".to_owned(), |t| t.name().to_owned()))
    };
    let remote = move || {
        state.with(|s| s.peer.peers.first().map_or_else(|| "—".to_owned(), |p| p.addr.clone()))
    };
    let count = move || state.with(|s| s.peer.peers.len());
    let timings = move || state.with(|s| s.peer.timings);
    let connected = move || timings().connected_ms;
    let first_block = move || timings().first_verified_ms;
    let dial = move || timings().dial_started_ms;
    let peers = move || state.with(|s| s.peer.peers.clone());
    let failures = move || state.with(|s| s.peer.failures.clone());
    view! {
        <section class="panel facts network" data-testid="network">
            <h2>"Network"</h2>
            <dl>
                <div><dt>"Transport"</dt><dd data-testid="transport">{transport}</dd></div>
                <div><dt>"Peers"</dt><dd data-testid="peer-count">{count}</dd></div>
                <div>
                    <dt>"Connected after"</dt>
                    <dd
                        data-testid="time-to-connect"
                        data-ms=move || connected().map(|ms| format!("{ms:.0}"))
                        data-dial-ms=move || dial().map(|ms| format!("{ms:.0}"))
                    >
                        {move || connected().map_or_else(|| "—".to_owned(), |ms| {
                            let dialled = dial().map(|d| format!(" (dial took {:.0} ms)", ms - d)).unwrap_or_default();
                            format!("{ms:.0} ms{dialled}")
                        })}
                    </dd>
                </div>
                <div>
                    <dt>"First block verified after"</dt>
                    <dd
                        data-testid="time-to-first-block"
                        data-ms=move || first_block().map(|ms| format!("{ms:.0}"))
                        data-status-ms=move || timings().peer_status_ms.map(|ms| format!("{ms:.0}"))
                        data-blocks-ms=move || timings().first_blocks_ms.map(|ms| format!("{ms:.0}"))
                    >
                        {move || first_block().map_or_else(|| "—".to_owned(), |ms| format!("{ms:.0} ms"))}
                    </dd>
                </div>
                <div class="wide"><dt>"Remote address"</dt><dd data-testid="remote-addr" class="hex">{remote}</dd></div>
            </dl>
            <p class="hint times">"Times are counted from the moment this page started loading."</p>
            <table class="peers" data-testid="peer-list">
                <thead>
                    <tr><th>"Peer"</th><th>"Transport"</th><th>"Address"</th><th class="num">"Ping"</th></tr>
                </thead>
                <tbody>
                    <For each=peers key=|p: &PeerInfo| (p.peer_id.clone(), p.addr.clone(), p.rtt_ms.map(|ms| ms.round() as u64)) let:peer>
                        <tr data-testid="peer" data-peer-id=peer.peer_id.clone()>
                            <td class="hex" title=peer.peer_id.clone()>{short(&peer.peer_id)}</td>
                            <td>{peer.transport.map_or("?", |t| t.name())}</td>
                            <td class="hex">{peer.addr.clone()}</td>
                            <td class="num">{peer.rtt_ms.map(|ms| format!("{ms:.0} ms")).unwrap_or_default()}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            {move || {
                let failures = failures();
                (!failures.is_empty()).then(|| view! {
                    <details data-testid="dial-failures">
                        <summary>{format!("{} failed dial{}", failures.len(), if failures.len() == 1 { "" } else { "s" })}</summary>
                        <ul>{failures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                    </details>
                })
            }}
        </section>
    }
}
