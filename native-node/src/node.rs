//! A running node: the chain behind a lock, the block producer, and the HTTP server
//! (web page, JSON-RPC, metrics).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use starling_core::consensus::{CommitCertificate, SignedVote, ValidatorSet};
use starling_core::crypto::{SequencerKey, SequencerPublicKey};
use starling_core::exec::{VerifiedTransaction, check_chain};
use starling_core::jobs::LeasePolicy;
use starling_core::mempool::MempoolError;
use starling_core::types::{Block, ChainId, Hash, Header, Transaction};
use starling_net::messages::SignedHeader;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};

use crate::chain_state::{ChainState, FollowError, SubmitError};
use crate::consensus;
use crate::metrics::Metrics;
use crate::network::NetShared;
use crate::rpc::{self, protocol};
use crate::settlement::Settlement;
use crate::snapshots::Snapshots;
use crate::storage::Store;

/// Limits on what one block may hold.
#[derive(Clone, Copy, Debug)]
pub struct BlockLimits {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub interval: Duration,
}

/// Proofs verified at once; more wait their turn.
const MAX_CONCURRENT_VERIFICATIONS: usize = 2;

/// Shared by the producer and every request handler.
pub struct Node {
    pub chain: Mutex<ChainState>,
    /// The chain's id, readable without the lock.
    pub chain_id: ChainId,
    /// The chain's genesis block hash, readable without the lock.
    pub genesis_hash: Hash,
    /// The chain's store, for reads that need no lock (redb readers see the last
    /// committed state).
    pub store: Arc<Store>,
    pub metrics: Metrics,
    /// Whether this node signs blocks (it holds the sequencer key).
    pub producing: bool,
    /// What the peer-to-peer task shares: its addresses, its peers, its inbox.
    pub net: NetShared,
    /// The state snapshot served to peers that start from one.
    pub snapshots: Snapshots,
    /// Bounds the JSON-RPC requests in progress (each may hold a large answer).
    rpc_permits: tokio::sync::Semaphore,
    /// What one block may hold and how often blocks come.
    limits: OnceLock<BlockLimits>,
    /// The consensus engine's inbox, once it runs.
    consensus: OnceLock<SyncSender<consensus::Event>>,
    /// Blocks proposed for the height being decided (built here or fetched),
    /// served to peers that ask for a proposal's block.
    proposals: Mutex<HashMap<Hash, Block>>,
    /// The round of the height being decided, for `starling_status`.
    pub consensus_round: AtomicU32,
    /// The settlement verifier: proving jobs, submitted proofs, proven height.
    pub settlement: Settlement,
    /// Bounds the proofs verified at once (each holds up to a few MiB and a core).
    pub(crate) verifying: Arc<tokio::sync::Semaphore>,
    /// Pays provers from the rewards account, when this node holds its key.
    rewards: OnceLock<crate::rewards::Payer>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Node {
    /// A node serving `chain`; it freezes a state snapshot for peers every
    /// `snapshot_interval` blocks.
    pub fn new(chain: ChainState, producing: bool, snapshot_interval: u64) -> Result<Arc<Self>> {
        let settlement = Settlement::open(
            chain.store.clone(),
            chain.genesis.staking.block_reward,
            LeasePolicy::default(),
        )
        .context("resuming settlement from the store")?;
        let snapshots = Snapshots::new(snapshot_interval);
        snapshots.after_block(&chain);
        let metrics = Metrics::new();
        metrics.height.set(chain.head.height as i64);
        let chain_id = chain.chain_id().clone();
        let genesis_hash = chain.genesis_hash;
        let store = chain.store.clone();
        let rpc_permits = tokio::sync::Semaphore::new(protocol::MAX_CONCURRENT_REQUESTS);
        metrics.proven_height.set(settlement.proven_height() as i64);
        Ok(Arc::new(Self {
            chain: Mutex::new(chain),
            chain_id,
            genesis_hash,
            store,
            metrics,
            producing,
            net: NetShared::default(),
            snapshots,
            rpc_permits,
            limits: OnceLock::new(),
            consensus: OnceLock::new(),
            proposals: Mutex::new(HashMap::new()),
            consensus_round: AtomicU32::new(0),
            settlement,
            verifying: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_VERIFICATIONS)),
            rewards: OnceLock::new(),
        }))
    }

    /// Makes this node pay provers from the rewards account whose key is
    /// `key`, `amount` base units per settled proof (once, at start).
    pub fn pay_provers(
        &self,
        key: starling_core::crypto::StarkSecretKey,
        amount: u64,
    ) -> Result<()> {
        let fee = self.chain.lock().expect("chain lock poisoned").mempool.config().min_fee.max(1);
        let first = self.settlement.first_height();
        let payer = crate::rewards::Payer::open(&self.store, key, amount, fee, first)
            .context("resuming prover payments from the store")?;
        tracing::info!(account = %payer.account(), amount, "paying provers from the rewards account");
        let _ = self.rewards.set(payer);
        Ok(())
    }

    /// The prover payer, if this node pays provers.
    pub fn rewards(&self) -> Option<&crate::rewards::Payer> {
        self.rewards.get()
    }

    /// Sets what blocks this node builds may hold (once, at start).
    pub fn set_limits(&self, limits: BlockLimits) {
        let _ = self.limits.set(limits);
    }

    fn limits(&self) -> BlockLimits {
        *self.limits.get_or_init(|| {
            crate::config::BlockConfig::default().limits().expect("the default limits are valid")
        })
    }

    /// Checks a transaction from a client or a peer (chain and signature outside the
    /// chain lock, so a flood of submissions does not stall block production) and
    /// durably admits it to the mempool.
    pub fn admit(&self, tx: Transaction) -> Result<(), SubmitError> {
        let verified = check_chain(&tx, &self.chain_id)
            .and_then(|()| VerifiedTransaction::verify(tx))
            .map_err(|e| SubmitError::Rejected(MempoolError::Invalid(e)));
        let result = verified.and_then(|tx| {
            let mut chain = self.chain.lock().expect("chain lock poisoned");
            let inserted = chain.submit(tx);
            self.metrics.mempool_txs.set(chain.mempool.len() as i64);
            inserted
        });
        match &result {
            Ok(_) => {
                self.metrics.tx_accepted.inc();
            }
            Err(SubmitError::Rejected(e)) => self.metrics.tx_rejected(rejection_label(e)),
            Err(SubmitError::Storage(_)) => {}
        }
        result.map(|_| ())
    }

    /// Builds, commits and announces one block (while the sequencer signs them).
    fn produce_one(&self, key: &SequencerKey, limits: &BlockLimits) -> Result<()> {
        let started = std::time::Instant::now();
        let mut chain = self.chain.lock().expect("chain lock poisoned");
        let Some(produced) =
            chain.produce_block(key, now_ms(), limits.max_txs, limits.max_bytes)?
        else {
            return Ok(()); // validators decide blocks now
        };
        let header = &produced.block.header;
        self.metrics.block_build_seconds.observe(started.elapsed().as_secs_f64());
        self.metrics.height.set(header.height as i64);
        self.metrics.blocks_produced.inc();
        self.metrics.txs_included.inc_by(produced.block.transactions.len() as u64);
        self.metrics.mempool_txs.set(chain.mempool.len() as i64);
        self.snapshots.after_block(&chain);
        drop(chain);
        self.head_changed();
        self.net.announce(SignedHeader::of(&produced.block));
        tracing::info!(
            height = header.height,
            hash = %header.hash(),
            txs = produced.block.transactions.len(),
            left_out = produced.rejected,
            state_root = %header.state_root,
            "committed block"
        );
        Ok(())
    }

    /// Produces a block every `limits.interval` until the task is dropped. A failure
    /// to commit stops production (and the node) rather than risk a fork on disk.
    pub async fn run_producer(
        self: Arc<Self>,
        key: SequencerKey,
        limits: BlockLimits,
    ) -> Result<()> {
        let mut ticker = tokio::time::interval(limits.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let node = self.clone();
            let key = key.clone();
            tokio::task::spawn_blocking(move || node.produce_one(&key, &limits))
                .await
                .context("block producer panicked")?
                .context("producing a block")?;
        }
    }
}

/// What the consensus engine asks of the node.
impl Node {
    /// Hands an event to the consensus engine; `false` if it is not running or
    /// is too far behind to take it.
    pub fn consensus_event(&self, event: consensus::Event) -> bool {
        self.consensus.get().is_some_and(|tx| tx.try_send(event).is_ok())
    }

    pub fn set_consensus(&self, events: SyncSender<consensus::Event>) {
        let _ = self.consensus.set(events);
    }

    /// Tells the engine the head moved, whichever path moved it.
    pub fn head_changed(&self) {
        self.consensus_event(consensus::Event::Head);
    }

    /// The height after the head and its validators, once validators certify it.
    pub fn next_certified_height(&self) -> Option<(u64, ValidatorSet)> {
        let chain = self.chain.lock().expect("chain lock poisoned");
        chain.next_validators().map(|set| (chain.head.height + 1, set))
    }

    /// The key that must have signed `header`, if the registry knows who may
    /// sign at its height: the sequencer, or the proposer if it is a validator.
    pub fn header_signer(&self, header: &Header) -> Option<SequencerPublicKey> {
        let chain = self.chain.lock().expect("chain lock poisoned");
        chain.signer_of(header.height, &header.proposer)
    }

    pub fn clear_proposals(&self) {
        self.proposals.lock().expect("proposals lock").clear();
    }

    pub fn hold_proposal(&self, block: Block) {
        self.proposals.lock().expect("proposals lock").insert(block.hash(), block);
    }

    pub fn proposal(&self, hash: &Hash) -> Option<Block> {
        self.proposals.lock().expect("proposals lock").get(hash).cloned()
    }

    /// Whether a proposed block is valid on top of the head; `None` if the head
    /// has already moved past its height (sync got there first).
    pub fn check_proposal(&self, block: &Block) -> Option<bool> {
        let chain = self.chain.lock().expect("chain lock poisoned");
        if block.header.height <= chain.head.height {
            return None;
        }
        match chain.check_proposal(block, now_ms()) {
            Ok(()) => Some(true),
            Err(e) => {
                tracing::info!(height = block.header.height, error = %e, "refusing a proposal");
                Some(false)
            }
        }
    }

    /// Builds a proposal on the head from the mempool, signed with `key`.
    pub fn build_proposal(&self, key: &SequencerKey) -> Result<Block> {
        let limits = self.limits();
        let chain = self.chain.lock().expect("chain lock poisoned");
        chain.build_proposal(key, now_ms(), limits.max_txs, limits.max_bytes)
    }

    /// How long until the next block is due (the block interval after the head's).
    pub fn until_next_block(&self) -> Duration {
        let head_ms = self.chain.lock().expect("chain lock poisoned").head.timestamp_ms;
        let due = head_ms.saturating_add(self.limits().interval.as_millis() as u64);
        Duration::from_millis(due.saturating_sub(now_ms()))
    }

    /// Durably commits a decided block with its certificate.
    pub fn commit_decided(&self, block: &Block, certificate: &CommitCertificate) -> Result<()> {
        let mut chain = self.chain.lock().expect("chain lock poisoned");
        if block.header.height <= chain.head.height {
            return Ok(()); // sync got it here first
        }
        let (_, result) = chain.follow(&[(block, Some(certificate))]);
        match result {
            Ok(()) => {}
            Err(FollowError::Storage(e)) => return Err(e),
            Err(e) => anyhow::bail!("{e}"),
        }
        self.metrics.height.set(chain.head.height as i64);
        self.metrics.txs_included.inc_by(block.transactions.len() as u64);
        self.metrics.mempool_txs.set(chain.mempool.len() as i64);
        self.snapshots.after_block(&chain);
        Ok(())
    }

    /// A validator double-signed. Its votes are evidence anyone can submit as a
    /// transaction (`starling tx evidence`); the node logs them in full.
    pub fn report_equivocation(&self, a: SignedVote, b: SignedVote) {
        use starling_core::encoding::Message;
        tracing::warn!(
            vote_a = %hex::encode(a.encode_message()),
            vote_b = %hex::encode(b.encode_message()),
            "equivocation evidence"
        );
    }
}

/// The metrics label of a refusal.
fn rejection_label(e: &MempoolError) -> &'static str {
    match e {
        MempoolError::Invalid(_) => "invalid",
        MempoolError::NonceTooLow { .. } | MempoolError::NonceTooFar { .. } => "nonce",
        MempoolError::InsufficientBalance { .. } => "balance",
        MempoolError::AlreadyKnown(_) => "duplicate",
        MempoolError::FeeTooLow { .. } | MempoolError::ReplacementUnderpriced { .. } => "fee",
        _ => "limits",
    }
}

async fn rpc_handler(State(node): State<Arc<Node>>, body: Body) -> Response {
    let bytes = match to_bytes(body, protocol::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let e = protocol::RpcError::invalid_request(format!(
                "request body exceeds {} bytes",
                protocol::MAX_BODY_BYTES
            ));
            let body = protocol::response(&serde_json::Value::Null, Err(e));
            return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
        }
    };
    let Ok(_permit) = node.rpc_permits.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let worker = node.clone();
    let answer = tokio::task::spawn_blocking(move || rpc::handle_body(&worker, &bytes)).await;
    match answer {
        Ok(Some(v)) => axum::Json(v).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn metrics_handler(State(node): State<Arc<Node>>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], node.metrics.render()).into_response()
}

const WEB_MISSING: &str = "<!doctype html><title>Starling</title><h1>Starling node</h1>\
<p>The web page has not been built. Run <code>cargo xtask demo</code>, or pass \
<code>--web-dir</code> pointing at a built site. JSON-RPC is at <code>/rpc</code>, \
metrics at <code>/metrics</code>.</p>";

/// The HTTP routes: the page at `/`, JSON-RPC at `/rpc`, metrics at `/metrics`,
/// block proofs at `/proofs/{height}`.
pub fn router(node: Arc<Node>, web_dir: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/rpc", post(rpc_handler))
        .route("/metrics", get(metrics_handler))
        .with_state(node.clone())
        .merge(crate::settlement::http::routes(node));
    match web_dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            api.fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => api.fallback(get(|| async { axum::response::Html(WEB_MISSING) })),
    }
}

/// Binds the HTTP listener; returns it with the address actually bound.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (is another node using it? choose one with --http-port)")
    })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves HTTP until the process ends.
pub async fn serve(listener: TcpListener, app: Router) -> Result<()> {
    axum::serve(listener, app).await.context("HTTP server failed")
}
