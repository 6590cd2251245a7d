//! The facts panel: what the page pinned, what it verified, and what its peers
//! claim, each labelled as such, with the note saying what "verified" rests on.

use leptos::prelude::*;
use starling_wasm::peer::identity::ChainIdentity;
use starling_wasm::peer::verdict::VerifiedHead;

use crate::app::PageState;
use crate::labels::{claimed_mode_label, mode_label};

#[component]
pub fn ChainFacts(state: RwSignal<PageState>) -> impl IntoView {
    let peer_count = move || state.with(|s| s.peer.peers.len().to_string());
    // The mode from the verified registry once the page holds one; until then
    // the node's claim from its status.
    let mode = move || {
        state.with(|s| match (s.peer.consensus.mode, &s.status) {
            (Some(mode), _) => mode_label(mode).to_owned(),
            (None, Some(status)) => claimed_mode_label(&status.mode),
            (None, None) => "—".to_owned(),
        })
    };
    let mode_source = move || {
        state.with(|s| if s.peer.consensus.mode.is_some() { "verified" } else { "claimed" })
    };
    view! {
        <section class="panel facts">
            <dl>
                <div><dt>"Chain"</dt><dd id="chain-id">{fact(state, pinned, |i| i.chain_id.to_string())}</dd></div>
                <div class="big"><dt>"Verified height"</dt><dd id="height">{fact(state, verified, |v| v.height.to_string())}</dd></div>
                <div><dt>"Peers' head (unverified)"</dt><dd id="node-height">{fact(state, claimed, |h| h.to_string())}</dd></div>
                <div><dt>"Mode · peers"</dt><dd><span id="mode" data-source=mode_source>{mode}</span>" · "<span id="peers">{peer_count}</span></dd></div>
                <div class="wide"><dt>"Verified head hash"</dt><dd id="head-hash" class="hex">{fact(state, verified, |v| v.hash.clone())}</dd></div>
                <div class="wide"><dt>"Verified state root"</dt><dd id="state-root" class="hex">{fact(state, verified, |v| v.state_root.clone())}</dd></div>
                <div class="wide"><dt>"Sequencer key (trusted)"</dt><dd id="sequencer" class="hex">{fact(state, pinned, |i| i.sequencer.to_string())}</dd></div>
                <div class="wide"><dt>"Genesis hash (trusted)"</dt><dd id="genesis-hash" class="hex">{fact(state, pinned, |i| i.genesis_hash.to_string())}</dd></div>
            </dl>
            <TrustNote state=state />
        </section>
    }
}

/// A fact's text, or a dash while its source is unknown. `pick` chooses the
/// source, so each fact says whether it is pinned, verified or a claim.
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

/// The chain pinned from the node's status: trusted.
fn pinned(s: &PageState) -> Option<&ChainIdentity> {
    s.identity.as_ref()
}

/// The newest block checked in this browser.
fn verified(s: &PageState) -> Option<&VerifiedHead> {
    s.peer.verified_head.as_ref()
}

/// The highest head a peer claimed: not verified.
fn claimed(s: &PageState) -> Option<&u64> {
    s.peer.claimed_head.as_ref()
}

/// Says in words what the rows' verdicts rest on: the one thing taken from the
/// node on trust, and the anchor's state root when the page joined mid-chain.
#[component]
fn TrustNote(state: RwSignal<PageState>) -> impl IntoView {
    let anchor = move || {
        state.with(|s| match s.peer.anchor {
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
            "Trusted: the chain id, genesis hash and sequencer key from the status of the node that served "
            "this page, pinned for as long as the page is open. Verified here: the height, hash and state "
            "root above, and every block marked verified, whichever peer sent it. Under proof of stake, who "
            "signs and certifies each block is read from the staking registry in its witness, proven against "
            "its parent's state root, and each block's commit certificate (precommits of more than two thirds "
            "of the set's power) is checked here; the mode and the validator set come from that registry. "
            "The peers' head is a claim, and so is the mode until the first block is checked."
            {anchor}
        </p>
    }
}
