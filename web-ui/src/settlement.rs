//! The settlement panel: the node's finalized height beside its proven height
//! (every block up to it has a STARK proof of its state transition that the
//! node's settlement verifier checked), refreshed every few seconds.
//!
//! These are the node's claims, labelled so: the page verifies blocks itself,
//! but not yet proofs (the verifier is `no_std` and will run here with the
//! volunteer prover). `data-testid`s `settlement`, `finalized-claim` and
//! `proven-height` (with `data-height`) are part of the page's interface.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::client::{RpcClient, sleep};
use crate::rpc::Status;

/// How often the node's settlement is asked for.
const POLL_MS: i32 = 2000;

/// What the node last said of finality and settlement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Claims {
    finalized: Option<u64>,
    proven: Option<u64>,
}

async fn poll(claims: RwSignal<Claims>) {
    let rpc = RpcClient::same_origin();
    loop {
        if let Ok(status) = rpc.call::<Status>("starling_status", json!([])).await {
            let finalized = status.finalized_height.or(Some(status.height));
            claims.set(Claims { finalized, proven: status.proven_height });
        }
        sleep(POLL_MS).await;
    }
}

#[component]
pub fn Settlement() -> impl IntoView {
    let claims = RwSignal::new(Claims::default());
    spawn_local(poll(claims));
    let dash = || "—".to_owned();
    let finalized = move || claims.get().finalized.map_or_else(dash, |h| h.to_string());
    let proven = move || claims.get().proven.map_or_else(dash, |h| h.to_string());
    let behind = move || match claims.get() {
        Claims { finalized: Some(f), proven: Some(p) } => {
            let lag = f.saturating_sub(p);
            if lag == 0 {
                "every final block is proven".to_owned()
            } else {
                format!("{lag} blocks")
            }
        }
        _ => dash(),
    };
    view! {
        <section class="panel facts settlement" data-testid="settlement">
            <h2>"Settlement"</h2>
            <dl>
                <div><dt>"Finalized (node)"</dt><dd data-testid="finalized-claim">{finalized}</dd></div>
                <div class="big">
                    <dt>"Proven (node's settlement verifier)"</dt>
                    <dd
                        data-testid="proven-height"
                        data-height=move || claims.get().proven.map(|h| h.to_string())
                    >
                        {proven}
                    </dd>
                </div>
                <div><dt>"Proofs behind finality"</dt><dd data-testid="proof-lag">{behind}</dd></div>
            </dl>
            <p class="hint">
                "A block counts as proven once a STARK proof of its state transition, chaining from the last "
                "proven state root, has been verified by the node; anyone may prove (`starling prover`). "
                "These figures are the node's word; the blocks above are verified in this browser."
            </p>
        </section>
    }
}
