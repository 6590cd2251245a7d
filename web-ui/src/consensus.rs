//! The consensus panel: the mode and when proof of stake began, the epoch, the
//! newest final block, the height and round the validators are on with its
//! proposer, the votes arriving (tallied by power per height and round),
//! finality latency, and the validator set with each member's share.
//!
//! Everything here is checked in this browser (see `starling_wasm::peer::consensus`):
//! votes and proposals count only with a valid signature from a member of the
//! set, and the set is read from the staking registry in the witness of the
//! newest accepted block, proven against its parent's state root (or assumed with
//! the anchor, and labelled so). The `data-testid`s and `data-` attributes are part
//! of the page's interface (tests/browser/ read them).

use leptos::prelude::*;
use starling_wasm::peer::consensus::{
    ConsensusView, Role, Tally, ValidatorRow, VoteTally, share_bps,
};

use crate::app::PageState;
use crate::blocks::short;
use crate::labels::{grouped, mode_attr, mode_label, percent, share};

#[component]
pub fn Consensus(state: RwSignal<PageState>) -> impl IntoView {
    let c = move || state.with(|s| s.peer.consensus.clone());
    let dash = || "—".to_owned();
    let mode = move || c().mode.map_or_else(dash, |m| mode_label(m).to_owned());
    let mode_attr = move || c().mode.map(mode_attr);
    let switch_text = move || match c().switch {
        Some(s) if s.done => format!("block {}", s.height),
        Some(s) => format!("scheduled at block {}", s.height),
        None => "not scheduled".to_owned(),
    };
    let switch_text = move || if c().mode.is_some() { switch_text() } else { dash() };
    let epoch = move || {
        let view = c();
        match (view.epoch, view.epoch_length) {
            (Some(e), Some(len)) => {
                let first = e.saturating_mul(len);
                format!("{e} (blocks {first}–{})", first.saturating_add(len - 1))
            }
            _ => dash(),
        }
    };
    let finalized = move || c().finalized.map_or_else(dash, |h| h.to_string());
    let latest = move || c().latest;
    let round = move || latest().map_or_else(dash, |l| format!("{} · round {}", l.height, l.round));
    let proposer = move || latest().and_then(|l| l.proposer);
    let proposal_seen = move || latest().is_some_and(|l| l.proposal_seen);
    let votes = move || {
        let counts = c().counts;
        format!(
            "{} votes, {} proposals ({} rejected, {} not checkable)",
            counts.votes, counts.proposals, counts.rejected, counts.unchecked
        )
    };
    let latency = move || c().latency;
    view! {
        <section class="panel facts consensus" data-testid="consensus">
            <h2>"Consensus"</h2>
            <dl>
                <div class="big"><dt>"Mode"</dt><dd data-testid="consensus-mode" data-mode=mode_attr>{mode}</dd></div>
                <div>
                    <dt>"Proof of stake since"</dt>
                    <dd
                        data-testid="switch-height"
                        data-height=move || c().switch.map(|s| s.height.to_string())
                        data-done=move || c().switch.map(|s| s.done.to_string())
                    >
                        {switch_text}
                    </dd>
                </div>
                <div><dt>"Epoch"</dt><dd data-testid="epoch" data-epoch=move || c().epoch.map(|e| e.to_string())>{epoch}</dd></div>
                <div><dt>"Finalized (verified)"</dt><dd data-testid="finalized-height">{finalized}</dd></div>
                <div>
                    <dt>"Height · round (latest votes)"</dt>
                    <dd
                        data-testid="round"
                        data-height=move || latest().map(|l| l.height.to_string())
                        data-round=move || latest().map(|l| l.round.to_string())
                    >
                        {round}
                    </dd>
                </div>
                <div class="wide">
                    <dt>"Proposer of that round"</dt>
                    <dd data-testid="proposer" class="hex" data-seen=move || proposal_seen().to_string()>
                        {move || proposer().unwrap_or_else(dash)}
                        {move || proposal_seen().then_some(" (its proposal arrived ✓)")}
                    </dd>
                </div>
                <div>
                    <dt>"Checked here"</dt>
                    <dd data-testid="votes-seen" data-count=move || c().counts.votes.to_string()>{votes}</dd>
                </div>
                <div>
                    <dt>"Finality latency"</dt>
                    <dd
                        data-testid="finality-latency"
                        data-ms=move || latency().map(|l| l.median_ms.to_string())
                        title="from the first proposal seen for a height to its block verified here with its certificate"
                    >
                        {move || latency().map_or_else(dash, |l| format!(
                            "median {} ms over {} block{} (last {} ms)",
                            l.median_ms, l.samples, if l.samples == 1 { "" } else { "s" }, l.last_ms
                        ))}
                    </dd>
                </div>
            </dl>
            <h3>"Votes by power"</h3>
            <p class="hint">
                "Prevotes and precommits as they arrive on gossip, each counted once and only with a valid signature "
                "of a member of the height's validator set. A block is final when precommits for it hold more than "
                "two thirds of the power; the certificate of those precommits is checked again with the block."
            </p>
            <Tallies state=state />
            <h3>"Validator set"</h3>
            <ValidatorSet state=state />
        </section>
    }
}

#[component]
fn Tallies(state: RwSignal<PageState>) -> impl IntoView {
    let tallies = move || state.with(|s| s.peer.consensus.tallies.clone());
    view! {
        <table class="tallies" data-testid="vote-tallies">
            <thead>
                <tr>
                    <th class="num">"Height"</th>
                    <th class="num">"Round"</th>
                    <th>"Proposal"</th>
                    <th>"Prevotes"</th>
                    <th>"Precommits"</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=tallies
                    key=|t: &Tally| (t.height, t.round, t.prevotes, t.precommits, t.proposal_seen)
                    let:t
                >
                    <tr
                        data-testid="tally"
                        data-height=t.height
                        data-round=t.round
                        data-total-power=t.total_power
                        data-prevote-power=t.prevotes.power
                        data-precommit-power=t.precommits.power
                    >
                        <td class="num">{t.height}</td>
                        <td class="num">{t.round}</td>
                        <td>{if t.proposal_seen { "seen" } else { "—" }}</td>
                        <td><VoteBar votes=t.prevotes total=t.total_power quorum=t.is_quorum(&t.prevotes) /></td>
                        <td><VoteBar votes=t.precommits total=t.total_power quorum=t.is_quorum(&t.precommits) /></td>
                    </tr>
                </For>
            </tbody>
        </table>
        {move || state.with(|s| s.peer.consensus.tallies.is_empty()).then(|| view! {
            <p class="empty">"No votes yet (the sequencer signs blocks alone until proof of stake begins)."</p>
        })}
    }
}

/// One kind of vote of a round: a bar of the power that voted, and the numbers.
#[component]
fn VoteBar(votes: VoteTally, total: u64, quorum: bool) -> impl IntoView {
    let bps = share_bps(votes.power, total);
    let width = format!("width: {:.2}%", f64::from(bps) / 100.0);
    let nil = (votes.nil_power > 0).then(|| format!(", nil {}", share(votes.nil_power, total)));
    view! {
        <div class="vote-bar" class:quorum=quorum title="share of the set's power that voted">
            <span class="fill" style=width></span>
        </div>
        <span class="vote-count">
            {format!("{} · {}", votes.count, percent(bps))}
            {nil}
            {quorum.then_some(" · > 2/3 ✓")}
        </span>
    }
}

#[component]
fn ValidatorSet(state: RwSignal<PageState>) -> impl IntoView {
    let c = move || state.with(|s| s.peer.consensus.clone());
    let source = move || {
        let view: ConsensusView = c();
        let Some(height) = view.registry_height else {
            return "Not known yet: the set is read from the staking registry in the witness of the first block \
                    this page accepts."
                .to_owned();
        };
        let what = match view.validators.as_ref() {
            None => "No validator set yet (nobody staked enough).".to_owned(),
            Some(set) => match set.role {
                Role::Certifying => format!(
                    "Epoch {} set, certifying block {} and the blocks being decided.",
                    set.epoch,
                    height + 1
                ),
                Role::Scheduled { from_height } => format!(
                    "Epoch {} set: it takes over from the sequencer at block {from_height}.",
                    set.epoch
                ),
                Role::Staked => {
                    format!("Epoch {} stakers: not certifying (the sequencer signs).", set.epoch)
                }
            },
        };
        let trust = if view.registry_verified {
            format!(
                " Read from the staking registry in the witness of block {height}, verified here against \
                 block {}'s state root.",
                height.saturating_sub(1)
            )
        } else {
            format!(
                " Read from the staking registry in the witness of block {height}, the anchor: assumed with \
                 the anchor's state, not verified."
            )
        };
        what + &trust
    };
    let members = move || c().validators.map(|v| v.members).unwrap_or_default();
    let total = move || c().validators.map(|v| v.total_power);
    view! {
        <p
            class="hint"
            data-testid="validators-source"
            data-verified=move || c().registry_height.map(|_| c().registry_verified.to_string())
        >
            {source}
        </p>
        <table class="validators" data-testid="validator-set" data-set-hash=move || c().validators.map(|v| v.set_hash)>
            <thead>
                <tr>
                    <th>"Consensus key"</th>
                    <th>"Staker"</th>
                    <th class="num">"Power"</th>
                    <th class="num">"Share"</th>
                </tr>
            </thead>
            <tbody>
                <For each=members key=|v: &ValidatorRow| (v.key.clone(), v.power) let:v>
                    <tr data-testid="validator" data-key=v.key.clone()>
                        <td class="hex" title=v.key.clone()>{short(&v.key)}</td>
                        <td class="hex" title=v.staker.clone()>{short(&v.staker)}</td>
                        <td class="num">{grouped(v.power)}</td>
                        <td class="num">{percent(v.share_bps)}</td>
                    </tr>
                </For>
            </tbody>
            <tfoot>
                {move || total().map(|t| view! {
                    <tr><td colspan="2">"Total"</td><td class="num">{grouped(t)}</td><td class="num">"100 %"</td></tr>
                })}
            </tfoot>
        </table>
    }
}
