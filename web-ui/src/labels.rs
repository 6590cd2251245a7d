//! How the page words and formats what it shows: modes, finality, powers and
//! shares. Plain Rust, tested natively; the panels (wasm32 only) call these.

use starling_core::staking::Mode;
use starling_core::types::TOKEN;
use starling_wasm::Finality;
use starling_wasm::peer::consensus::share_bps;

/// How the page names a mode.
pub fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Single => "single",
        Mode::Pos => "proof of stake",
    }
}

/// The `data-mode` attribute of a mode: `single` or `pos`, as `starling_status`
/// names them.
pub fn mode_attr(mode: Mode) -> &'static str {
    match mode {
        Mode::Single => "single",
        Mode::Pos => "pos",
    }
}

/// `mode` as `starling_status` names it, in the page's words.
pub fn claimed_mode_label(mode: &str) -> String {
    match mode {
        "pos" => mode_label(Mode::Pos).to_owned(),
        "single" => mode_label(Mode::Single).to_owned(),
        other => other.to_owned(),
    }
}

/// `n` with thin spaces between groups of three digits.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// `amount` base units as tokens: grouped whole tokens, then the fraction
/// without trailing zeros.
pub fn tokens(amount: u64) -> String {
    let (whole, fraction) = (amount / TOKEN, amount % TOKEN);
    let whole = grouped(whole);
    if fraction == 0 {
        return format!("{whole} tokens");
    }
    let fraction = format!("{fraction:09}");
    format!("{whole}.{} tokens", fraction.trim_end_matches('0'))
}

/// Basis points as a percentage, with two decimals unless it is whole.
pub fn percent(bps: u32) -> String {
    if bps.is_multiple_of(100) {
        format!("{} %", bps / 100)
    } else {
        format!("{}.{:02} %", bps / 100, bps % 100)
    }
}

/// `part` of `total` as a percentage.
pub fn share(part: u64, total: u64) -> String {
    percent(share_bps(part, total))
}

/// The row's `data-finality`: `sequencer` or `certified`; absent when nothing
/// made the block final here (genesis, a rejected block).
pub fn finality_attr(finality: Option<&Finality>) -> Option<&'static str> {
    finality.map(|f| match f {
        Finality::Sequencer => "sequencer",
        Finality::Certified { .. } => "certified",
    })
}

/// What made a block final, in words.
pub fn finality_text(finality: Option<&Finality>) -> String {
    match finality {
        None => "—".to_owned(),
        Some(Finality::Sequencer) => "sequencer's signature".to_owned(),
        Some(Finality::Certified { round, signers, power, total_power, validators }) => {
            let round = if *round > 0 { format!(", round {round}") } else { String::new() };
            format!(
                "certificate: {signers} of {validators} validators, {} of power{round}",
                share(*power, *total_power)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves modes read the same whether verified or claimed by the node.
    #[test]
    fn modes_are_named_alike_from_the_registry_and_the_status() {
        assert_eq!(mode_label(Mode::Pos), "proof of stake");
        assert_eq!(claimed_mode_label("pos"), "proof of stake");
        assert_eq!(claimed_mode_label("single"), mode_label(Mode::Single));
        assert_eq!(claimed_mode_label("fallback"), "fallback", "an unknown mode is shown as is");
        assert_eq!((mode_attr(Mode::Single), mode_attr(Mode::Pos)), ("single", "pos"));
    }

    /// Proves numbers and shares format as the page shows them.
    #[test]
    fn numbers_and_shares() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(tokens(0), "0 tokens");
        assert_eq!(tokens(1_500_000_000), "1.5 tokens");
        assert_eq!(tokens(2_000_000_000_000_001), "2\u{2009}000\u{2009}000.000000001 tokens");
        assert_eq!(grouped(10_000_000_000_000), "10\u{2009}000\u{2009}000\u{2009}000\u{2009}000");
        assert_eq!(percent(2_500), "25 %");
        assert_eq!(percent(3_333), "33.33 %");
        assert_eq!(percent(5), "0.05 %");
        assert_eq!(share(1, 4), "25 %");
        assert_eq!(share(1, 0), "0 %");
    }

    /// Proves finality is worded by what made the block final.
    #[test]
    fn finality_in_words() {
        let certified =
            Finality::Certified { round: 2, signers: 3, power: 30, total_power: 40, validators: 4 };
        assert_eq!(
            finality_text(Some(&certified)),
            "certificate: 3 of 4 validators, 75 % of power, round 2"
        );
        assert_eq!(finality_text(Some(&Finality::Sequencer)), "sequencer's signature");
        assert_eq!(finality_text(None), "—");
        assert_eq!(finality_attr(Some(&certified)), Some("certified"));
        assert_eq!(finality_attr(None), None);
    }
}
