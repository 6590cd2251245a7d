//! The security configuration every block proof is made and checked with.
//!
//! A STARK's soundness comes from FRI's queries (each worth `log_blowup_factor`
//! bits) plus a proof-of-work grind before they are drawn. Starling fixes one
//! named configuration, [`ProofConfig::STANDARD`], at 96 bits, and the verifier
//! refuses a proof made under any other — in particular a cheaper one, which
//! would otherwise be the easiest way to forge. stwo's own default is a
//! benchmark setting of a few bits, never to be used here.

use stwo::core::fri::FriConfig;
use stwo::core::pcs::PcsConfig;

/// Fewest bits of security a configuration may claim.
pub const MIN_SECURITY_BITS: u32 = 96;

/// A named FRI + proof-of-work configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofConfig {
    pub name: &'static str,
    /// Proof-of-work bits ground before the queries are drawn.
    pub pow_bits: u32,
    /// log2 of the Reed–Solomon blowup: each query is worth this many bits.
    pub log_blowup_factor: u32,
    pub n_queries: usize,
    /// log2 of the degree bound of FRI's last layer, sent in the clear.
    pub log_last_layer_degree_bound: u32,
}

impl ProofConfig {
    /// 96 bits: 20 of proof of work plus 76 queries at blowup 2. Blowup 2
    /// keeps the committed domains (and proving time) smallest; the price is
    /// more queries, so larger proofs and slower verification than at blowup
    /// 4 or 8 — proving is what volunteers pay for, so it is what we spare.
    pub const STANDARD: ProofConfig = ProofConfig {
        name: "starling-96",
        pow_bits: 20,
        log_blowup_factor: 1,
        n_queries: 76,
        log_last_layer_degree_bound: 0,
    };

    /// Bits of security: proof-of-work bits plus bits from the queries.
    pub const fn security_bits(&self) -> u32 {
        self.pow_bits + self.log_blowup_factor * self.n_queries as u32
    }

    /// The configuration as stwo takes it.
    pub fn pcs(&self) -> PcsConfig {
        PcsConfig {
            pow_bits: self.pow_bits,
            fri_config: FriConfig::new(
                self.log_last_layer_degree_bound,
                self.log_blowup_factor,
                self.n_queries,
                1,
            ),
            lifting_log_size: None,
        }
    }

    /// Whether `pcs` is exactly this configuration (a proof names the
    /// configuration it was made with).
    pub fn matches(&self, pcs: &PcsConfig) -> bool {
        *pcs == self.pcs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the standard configuration reaches the required security level,
    /// counting proof of work, and that stwo counts it the same way.
    #[test]
    fn standard_is_at_least_96_bits() {
        let config = ProofConfig::STANDARD;
        assert!(config.security_bits() >= MIN_SECURITY_BITS, "{}", config.security_bits());
        assert_eq!(config.pcs().security_bits(), config.security_bits());
    }

    /// Proves stwo's default (a benchmark setting) is far below it, and is not
    /// taken for the standard configuration.
    #[test]
    fn stwo_default_is_refused() {
        let default = PcsConfig::default();
        assert!(default.security_bits() < MIN_SECURITY_BITS);
        assert!(!ProofConfig::STANDARD.matches(&default));
        assert!(ProofConfig::STANDARD.matches(&ProofConfig::STANDARD.pcs()));
    }
}
