//! Prometheus metrics, served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    method: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    reason: &'static str,
}

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    /// libp2p's own metrics (bytes in and out per protocol stack), registered by
    /// the network task when it builds its swarm.
    network: std::sync::Mutex<Registry>,
    pub height: Gauge,
    pub blocks_produced: Counter,
    pub txs_included: Counter,
    pub mempool_txs: Gauge,
    pub tx_accepted: Counter,
    tx_rejected: Family<ReasonLabels, Counter>,
    rpc_calls: Family<MethodLabels, Counter>,
    pub block_build_seconds: Histogram,
    pub peers: Gauge,
    pub peers_banned: Counter,
    pub blocks_followed: Counter,
    pub consensus_height: Gauge,
    pub consensus_round: Gauge,
    pub consensus_votes: Counter,
    pub consensus_timeouts: Counter,
    pub consensus_equivocations: Counter,
    pub finality_seconds: Histogram,
    pub proven_height: Gauge,
    pub proving_jobs_open: Gauge,
    pub proving_leases: Gauge,
    pub proofs_accepted: Counter,
    proofs_rejected: Family<ReasonLabels, Counter>,
    pub proof_verify_seconds: Histogram,
    pub prover_rewards_paid: Counter,
    pub prover_rewards_failed: Counter,
    pub prover_rewards_waiting: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("starling");
        let height = Gauge::default();
        let blocks_produced = Counter::default();
        let txs_included = Counter::default();
        let mempool_txs = Gauge::default();
        let tx_accepted = Counter::default();
        let tx_rejected = Family::<ReasonLabels, Counter>::default();
        let rpc_calls = Family::<MethodLabels, Counter>::default();
        let block_build_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let peers = Gauge::default();
        let peers_banned = Counter::default();
        let blocks_followed = Counter::default();
        let consensus_height = Gauge::default();
        let consensus_round = Gauge::default();
        let consensus_votes = Counter::default();
        let consensus_timeouts = Counter::default();
        let consensus_equivocations = Counter::default();
        let finality_seconds = Histogram::new(exponential_buckets(0.01, 1.5, 20));
        let proven_height = Gauge::default();
        let proving_jobs_open = Gauge::default();
        let proving_leases = Gauge::default();
        let proofs_accepted = Counter::default();
        let proofs_rejected = Family::<ReasonLabels, Counter>::default();
        let proof_verify_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let prover_rewards_paid = Counter::default();
        let prover_rewards_failed = Counter::default();
        let prover_rewards_waiting = Gauge::default();
        let r = &mut registry;
        r.register(
            "prover_rewards_paid",
            "Prover reward payments by this node seen included in a committed block",
            prover_rewards_paid.clone(),
        );
        r.register(
            "prover_rewards_failed",
            "Prover reward payments the mempool refused (retried on the next tick)",
            prover_rewards_failed.clone(),
        );
        r.register(
            "prover_rewards_waiting",
            "Prover reward payments signed and recorded, not yet included",
            prover_rewards_waiting.clone(),
        );
        r.register(
            "proven_height",
            "Highest height up to which every block's state transition has a verified proof",
            proven_height.clone(),
        );
        r.register(
            "proving_jobs_pending",
            "Finalized blocks published as proving jobs and not yet proven",
            proving_jobs_open.clone(),
        );
        r.register("proving_leases", "Proving jobs leased to provers", proving_leases.clone());
        r.register("proofs_accepted", "Block proofs verified and settled", proofs_accepted.clone());
        r.register("proofs_rejected", "Block proofs refused, by reason", proofs_rejected.clone());
        r.register(
            "proof_verify_seconds",
            "Time to check and verify a submitted block proof",
            proof_verify_seconds.clone(),
        );
        r.register(
            "consensus_height",
            "Height the consensus engine is deciding",
            consensus_height.clone(),
        );
        r.register("consensus_round", "Round of the height being decided", consensus_round.clone());
        r.register(
            "consensus_votes_received",
            "Votes received from validators for the height being decided",
            consensus_votes.clone(),
        );
        r.register(
            "consensus_timeouts_fired",
            "Consensus step timeouts that fired",
            consensus_timeouts.clone(),
        );
        r.register(
            "consensus_equivocations",
            "Conflicting vote pairs seen (double-signing validators)",
            consensus_equivocations.clone(),
        );
        r.register(
            "finality_seconds",
            "Time from starting a height to committing its decided block",
            finality_seconds.clone(),
        );
        r.register("peers", "Connected peers", peers.clone());
        r.register("peers_banned", "Peers banned for misbehaving", peers_banned.clone());
        r.register(
            "blocks_followed",
            "Blocks received from peers, checked and committed",
            blocks_followed.clone(),
        );
        r.register("height", "Height of the newest committed block", height.clone());
        r.register(
            "blocks_produced",
            "Blocks this node built and committed",
            blocks_produced.clone(),
        );
        r.register(
            "transactions_included",
            "Transactions included in produced blocks",
            txs_included.clone(),
        );
        r.register(
            "mempool_transactions",
            "Transactions waiting in the mempool",
            mempool_txs.clone(),
        );
        r.register(
            "transactions_accepted",
            "Transactions accepted into the mempool",
            tx_accepted.clone(),
        );
        r.register("transactions_rejected", "Transactions refused, by reason", tx_rejected.clone());
        r.register("rpc_calls", "JSON-RPC calls, by method and outcome", rpc_calls.clone());
        r.register(
            "block_build_seconds",
            "Time to build, sign and commit a block",
            block_build_seconds.clone(),
        );
        Self {
            registry,
            network: std::sync::Mutex::new(Registry::default()),
            height,
            blocks_produced,
            txs_included,
            mempool_txs,
            tx_accepted,
            tx_rejected,
            rpc_calls,
            block_build_seconds,
            peers,
            peers_banned,
            blocks_followed,
            consensus_height,
            consensus_round,
            consensus_votes,
            consensus_timeouts,
            consensus_equivocations,
            finality_seconds,
            proven_height,
            proving_jobs_open,
            proving_leases,
            proofs_accepted,
            proofs_rejected,
            proof_verify_seconds,
            prover_rewards_paid,
            prover_rewards_failed,
            prover_rewards_waiting,
        }
    }

    pub fn proof_rejected(&self, reason: &'static str) {
        self.proofs_rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn tx_rejected(&self, reason: &'static str) {
        self.tx_rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn rpc_call(&self, method: &str, ok: bool) {
        let known = crate::rpc::methods::METHODS.contains(&method);
        let method = if known { method.to_string() } else { "unknown".to_string() };
        let outcome = if ok { "ok" } else { "error" };
        self.rpc_calls.get_or_create(&MethodLabels { method, outcome }).inc();
    }

    /// Lets the network task register libp2p's metrics.
    pub fn with_network_registry<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        f(&mut self.network.lock().expect("metrics lock poisoned"))
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        let network = self.network.lock().expect("metrics lock poisoned");
        encode_registry(&mut out, &self.registry)
            .and_then(|()| encode_registry(&mut out, &network))
            .and_then(|()| encode_eof(&mut out))
            .expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
