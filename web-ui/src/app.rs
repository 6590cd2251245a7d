//! The Leptos page: chain facts, how the page is connected, the recent blocks
//! with their verdicts, and the transactions of the selected block.
//!
//! Element ids, `data-testid`s and `data-` attributes are part of the page's
//! interface: the browser end-to-end tests (tests/browser/) read `#height` (the
//! latest verified height), `#node-height`, `#connection[data-state]`,
//! `#connection-error`, `#stopped`, `tr[data-block-height][data-verdict]`
//! (with `data-finality`), `[data-reason]`, `#block-detail`, `#trust`, `#mode`
//! and the network, consensus, settlement and volunteer panels' `data-testid`s
//! (see [`crate::network`], [`crate::consensus`], [`crate::settlement`] and
//! [`crate::volunteer`]).
//!
//! What the page trusts is stated on the page itself (the facts panel's note) and
//! in `starling_wasm::peer::chain`'s docs; keep the two in step.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use starling_wasm::peer::identity::ChainIdentity;
use starling_wasm::peer::node::{self, NodeConfig};
use starling_wasm::peer::verdict::BlockRow;
use starling_wasm::peer::view::{Link, PeerView};

use crate::blocks::{BlockDetail, BlockTable};
use crate::bootstrap::{Bootstrap, bootstrap, forced_transport};
use crate::client::{RpcClient, sleep};
use crate::consensus::Consensus;
use crate::facts::ChainFacts;
use crate::network::Network;
use crate::rpc::{BlockResponse, Status};
use crate::settlement::Settlement;
use crate::volunteer::Volunteer;

/// How long to wait before asking for the status again when the first try failed.
const RETRY_MS: i32 = 1000;

/// Everything the view shows.
#[derive(Clone, Debug, Default)]
pub struct PageState {
    /// The node's status when the page started: its claims, shown as such.
    pub status: Option<Status>,
    /// The chain pinned from that status.
    pub identity: Option<ChainIdentity>,
    /// Why the page has not started its node yet (it keeps trying).
    pub startup_error: Option<String>,
    /// What the browser node reports.
    pub peer: PeerView,
}

#[component]
pub fn App() -> impl IntoView {
    let state = RwSignal::new(PageState::default());
    let selected = RwSignal::new(None::<BlockRow>);
    spawn_local(start(state));

    view! {
        <header class="top">
            <h1>"Starling"</h1>
            <span class="subtitle">"live chain, verified in your browser"</span>
            <ConnectionBadge state=state />
        </header>
        <main>
            <Stopped state=state />
            <ConnectionError state=state />
            <ChainFacts state=state />
            <Consensus state=state />
            <Settlement />
            <Volunteer />
            <Network state=state />
            <section class="panel">
                <h2>"Recent blocks"</h2>
                <p class="hint">
                    "Each block is checked here, in WebAssembly: the signature of the sequencer (or, under proof of stake, "
                    "of the proposing validator, a member of the epoch's set), the link to its parent, every transaction "
                    "signature, and a re-execution on the witnessed parent state that must end at the header's state root; "
                    "under proof of stake also its commit certificate. A block is verified only on top of an accepted "
                    "parent, so every block after a rejected one is rejected too (the page does not fetch it again: reload "
                    "to check again). Click a block for its transactions."
                </p>
                <BlockTable state=state selected=selected />
            </section>
            <BlockDetail selected=selected />
        </main>
    }
}

/// The badge's state: `connecting`, `live`, `error` (retrying) or `stopped`.
fn connection_state(s: &PageState) -> &'static str {
    match &s.peer.link {
        Link::Connected => "live",
        Link::Stopped(_) => "stopped",
        Link::Lost(_) => "error",
        Link::Starting | Link::Dialing { .. } if s.startup_error.is_some() => "error",
        Link::Starting | Link::Dialing { .. } => "connecting",
    }
}

#[component]
fn ConnectionBadge(state: RwSignal<PageState>) -> impl IntoView {
    let data_state = move || state.with(connection_state);
    let label = move || {
        state.with(|s| match (&s.peer.link, connection_state(s)) {
            (Link::Dialing { transport, .. }, "connecting") => {
                format!("connecting over {transport}…")
            }
            (_, "connecting") => "connecting…".to_owned(),
            (_, "live") => format!("● live over {}", s.peer.transport().map_or("?", |t| t.name())),
            (_, "error") => "● disconnected".to_owned(),
            _ => "■ stopped".to_owned(),
        })
    };
    view! { <span id="connection" class="connection" data-state=data_state>{label}</span> }
}

#[component]
fn ConnectionError(state: RwSignal<PageState>) -> impl IntoView {
    let error = move || {
        state.with(|s| match &s.peer.link {
            Link::Lost(e) => Some(e.clone()),
            _ => s.startup_error.clone(),
        })
    };
    move || {
        error().map(|e| {
            view! {
                <div id="connection-error" class="banner error" role="alert">
                    <strong>"Connection problem: "</strong>
                    {e}
                    " — trying again."
                </div>
            }
        })
    }
}

#[component]
fn Stopped(state: RwSignal<PageState>) -> impl IntoView {
    let stopped = move || {
        state.with(|s| match &s.peer.link {
            Link::Stopped(e) => Some(e.clone()),
            _ => None,
        })
    };
    move || {
        stopped().map(|e| {
            view! {
                <div id="stopped" class="banner error" role="alert">
                    <strong>"Stopped: "</strong>
                    {e}
                    ". The blocks below are those this page checked before it stopped."
                </div>
            }
        })
    }
}

/// Starts the page: the node's status and genesis over HTTP (retried until they
/// come), then the browser node, which runs for as long as the page is open.
async fn start(state: RwSignal<PageState>) {
    let window = web_sys::window().expect("a page has a window");
    let location = window.location();
    let host = location.hostname().unwrap_or_default();
    let only = match forced_transport(&location.search().unwrap_or_default()) {
        Ok(only) => only,
        Err(e) => {
            state.update(|s| s.peer.link = Link::Stopped(e));
            return;
        }
    };
    let rpc = RpcClient::same_origin();
    let Bootstrap { identity, genesis, targets } = loop {
        match fetch_bootstrap(&rpc, &host, only, state).await {
            Ok(b) => break b,
            Err(e) => state.update(|s| s.startup_error = Some(e)),
        }
        sleep(RETRY_MS).await;
    };
    state.update(|s| {
        s.identity = Some(identity.clone());
        s.startup_error = None;
    });
    let config = NodeConfig { identity, genesis, targets };
    node::run(config, move |view| state.update(|s| s.peer = view.clone())).await;
}

async fn fetch_bootstrap(
    rpc: &RpcClient,
    host: &str,
    only: Option<starling_wasm::peer::dial::Transport>,
    state: RwSignal<PageState>,
) -> Result<Bootstrap, String> {
    let status: Status = rpc.call("starling_status", json!([])).await.map_err(|e| e.to_string())?;
    state.update(|s| s.status = Some(status.clone()));
    let genesis: BlockResponse =
        rpc.call("starling_getBlock", json!([0])).await.map_err(|e| e.to_string())?;
    bootstrap(&status, &genesis, host, only)
}
