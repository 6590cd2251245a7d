//! Block-proving throughput against the raw Poseidon2 baseline, in one run.
//!
//! A block proof is mostly Poseidon2 permutations (every leaf, Merkle parent
//! and sponge block), so its throughput is read as permutations proven per
//! second and compared with `proving::baseline`: the Poseidon component
//! alone, proving exactly as many permutations, with the same commit
//! sequence, commitment scheme and `ProofConfig::STANDARD`. The goal is a
//! block AIR at 80% or more of the baseline's permutations per second.
//!
//! Each size is measured on one thread (the figure a single-threaded wasm
//! prover is compared with) and on every core; block and baseline proofs
//! alternate run by run, so the machine's drift touches both alike. Every
//! proof is verified: timing a broken prover would be worthless.
//!
//! Run: `cargo bench -p starling-core --features parallel --bench proving`
//! (about two minutes on 2 cores, after the build); `-- --help` for the
//! options.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use starling_core::chain::{Allocation, BlockTemplate, Genesis, build_block};
use starling_core::crypto::{SequencerKey, StarkSecretKey};
use starling_core::proving::baseline::{prove_permutations, sample_uses, verify_permutations};
use starling_core::proving::components::BlockComponents;
use starling_core::proving::config::ProofConfig;
use starling_core::proving::poseidon::{PoseidonComponent, PoseidonEval};
use starling_core::proving::prover::{lookup_counts, prove_block};
use starling_core::proving::relations::Relations;
use starling_core::proving::trace::log_size_for;
use starling_core::proving::verifier::verify_block;
use starling_core::proving::witness::BlockWitness;
use starling_core::staking::StakingParams;
use starling_core::types::{Address, Call, ChainId, Transaction, TxBody};
use stwo::core::air::{Component, Components};
use stwo::core::channel::{Blake2sChannel, Channel};
use stwo::core::pcs::TreeVec;
use stwo::core::proof_of_work::GrindOps;
use stwo::prover::backend::simd::SimdBackend;
use stwo_constraint_framework::TraceLocationAllocator;

const CONFIG: ProofConfig = ProofConfig::STANDARD;

/// Transcripts the proof-of-work grind is timed on.
const GRIND_SAMPLES: usize = 15;

const USAGE: &str = "\
Block proofs vs the raw Poseidon2 baseline (every proof verified).

usage: cargo bench -p starling-core --features parallel --bench proving -- [options]

  --sizes K,K,...   transfers per block (default 16,64,256,1024)
  --runs N          proofs per measurement; medians over them (default 5)
  --threads T,T,... rayon threads per pass, `all` = every core (default 1,all)
  --quick           --sizes 16,64 --runs 1: checks that everything runs
  --help            this text";

/// What to measure.
struct Options {
    sizes: Vec<usize>,
    runs: usize,
    threads: Vec<usize>,
}

impl Options {
    /// The options, `None` for `--help`, or what is wrong with them.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut options = Self { sizes: vec![16, 64, 256, 1024], runs: 5, threads: vec![1, cores] };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--sizes" => options.sizes = numbers(&value()?, cores)?,
                "--runs" => options.runs = positive(&value()?)?,
                "--threads" => options.threads = numbers(&value()?, cores)?,
                "--quick" => (options.sizes, options.runs) = (vec![16, 64], 1),
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                "--help" | "-h" => return Ok(None),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(Some(options))
    }
}

/// A comma-separated list of positive numbers (`all` stands for `cores`).
fn numbers(list: &str, cores: usize) -> Result<Vec<usize>, String> {
    list.split(',').map(|item| if item == "all" { Ok(cores) } else { positive(item) }).collect()
}

fn positive(text: &str) -> Result<usize, String> {
    text.parse().ok().filter(|&n| n > 0).ok_or(format!("not a positive number: {text}"))
}

/// Timings of one thing, several runs.
#[derive(Default)]
struct Samples(Vec<Duration>);

impl Samples {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.0.push(start.elapsed());
        out
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.0.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    fn median_ms(&self) -> f64 {
        let ms = self.sorted_ms();
        let mid = ms.len() / 2;
        if ms.len() % 2 == 1 { ms[mid] } else { (ms[mid - 1] + ms[mid]) / 2.0 }
    }

    /// `median (min–max)` in ms.
    fn summary(&self) -> String {
        let ms = self.sorted_ms();
        let (min, max) = (ms[0], ms[ms.len() - 1]);
        format!("{:.0} ({:.0}–{:.0})", self.median_ms(), min, max)
    }

    /// Items per second at the median.
    fn rate(&self, items: usize) -> f64 {
        items as f64 / (self.median_ms() / 1e3)
    }
}

/// A block of `k` transfers, ready to prove: a genesis funds `k` users and
/// each pays the next (a ring), so every transfer writes two existing
/// accounts of a tree of about `k` accounts.
fn transfer_block(k: usize) -> BlockWitness {
    let key = SequencerKey::from_seed(&[7; 32]);
    let users: Vec<StarkSecretKey> = (0..k).map(user_key).collect();
    let addresses: Vec<Address> = users.iter().map(|u| u.public_key().address()).collect();
    let genesis = Genesis {
        chain_id: ChainId::new("starling-bench").expect("valid chain id"),
        sequencer: key.public_key(),
        timestamp_ms: 1_000,
        allocations: addresses
            .iter()
            .map(|&address| Allocation { address, balance: 1 << 40 })
            .collect(),
        staking: StakingParams::default(),
    };
    let (genesis_block, mut state) = genesis.block().expect("valid genesis");
    let parent = genesis_block.header;
    let txs: Vec<Transaction> = users
        .iter()
        .enumerate()
        .map(|(i, user)| transfer(&genesis.chain_id, user, addresses[(i + 1) % k], i as u64))
        .collect();
    let before = state.clone();
    let template =
        BlockTemplate { parent: &parent, timestamp_ms: 2_000, key: &key, parent_commit: None };
    let built = build_block(&mut state, template, txs).expect("the block builds");
    assert!(built.rejected.is_empty(), "a transfer failed: {:?}", built.rejected);
    BlockWitness::from_state(&built.block, &parent, &before).expect("a witness of the block")
}

fn user_key(i: usize) -> StarkSecretKey {
    // Byte 0 is masked by key derivation, so the index goes after it.
    let mut entropy = [0u8; 32];
    entropy[1..9].copy_from_slice(&(i as u64).to_le_bytes());
    StarkSecretKey::from_entropy(&entropy)
}

fn transfer(chain_id: &ChainId, from: &StarkSecretKey, to: Address, amount: u64) -> Transaction {
    let call = Call::Transfer { to, amount: 1 + amount };
    TxBody { chain_id: chain_id.clone(), sender_key: from.public_key(), nonce: 0, fee: 1, call }
        .sign(from)
}

/// Prove and verify timings of one kind of proof.
#[derive(Default)]
struct Timings {
    prove: Samples,
    verify: Samples,
}

impl Timings {
    /// Times `prove`, then `verify` on its proof; panics if either fails.
    fn run<P, E: Debug, F: Debug>(
        &mut self,
        prove: impl FnOnce() -> Result<P, E>,
        verify: impl FnOnce(&P) -> Result<(), F>,
    ) -> P {
        let proof = self.prove.time(prove).expect("proving succeeds");
        self.verify.time(|| verify(&proof)).expect("the proof verifies");
        proof
    }
}

/// One block size, measured on one thread count.
struct Row {
    threads: usize,
    transfers: usize,
    permutations: usize,
    block: Timings,
    /// The baseline's verify time is not reported: its verifier recomputes
    /// every permutation natively to balance the relation, which says
    /// nothing of a block proof's verification.
    raw: Timings,
    /// Building the other components' traces (and counting their
    /// permutations, each computed natively): the part of a block proof
    /// outside stwo, timed apart.
    others: Samples,
    proof_bytes: usize,
    /// Committed trace cells of the block proof and of the baseline proof.
    block_cells: u64,
    raw_cells: u64,
}

impl Row {
    /// The block AIR's permutations per second over the baseline's.
    fn ratio(&self) -> f64 {
        self.block.prove.rate(self.permutations) / self.raw.prove.rate(self.permutations)
    }
}

/// Proves the block of `transfers` transfers and the same number of raw
/// permutations, `runs` times each, alternating, on a pool of `threads`,
/// and the block's non-Poseidon trace building alone.
///
/// Each run proves a fresh transcript (another prover address, other raw
/// inputs): the proof-of-work grind's length is the luck of the transcript,
/// so the same proof repeated would repeat its luck instead of sampling it.
fn measure(witness: &BlockWitness, transfers: usize, runs: usize, threads: usize) -> Row {
    let permutations = lookup_counts(witness).expect("the witness fits the AIR").permutations.len();
    let (mut block, mut raw, mut others) =
        (Timings::default(), Timings::default(), Samples::default());
    let mut proof = None;
    for run in 0..runs {
        let prover = prover_address(run);
        let uses = sample_uses(permutations, run as u64);
        pool(threads).install(|| {
            others.time(|| lookup_counts(witness)).expect("the witness fits the AIR");
            proof = Some(block.run(
                || prove_block(witness, &CONFIG, prover),
                |proof| verify_block(&witness.statement, proof, &CONFIG),
            ));
            raw.run(
                || prove_permutations(&uses, &CONFIG),
                |proof| verify_permutations(&uses, proof, &CONFIG),
            );
        });
    }
    let proof = proof.expect("at least one run");
    let components = BlockComponents::new(&proof.sizes, &Relations::dummy(), &proof.claimed_sums);
    Row {
        threads,
        transfers,
        permutations,
        block,
        raw,
        others,
        proof_bytes: proof.to_bytes().len(),
        block_cells: trace_cells(&column_log_sizes(components.verifiers())),
        raw_cells: trace_cells(&baseline_component(permutations).trace_log_degree_bounds()),
    }
}

/// The `run`th prover: a small number, so a canonical address.
fn prover_address(run: usize) -> Address {
    let mut address = [0; 32];
    address[24..].copy_from_slice(&(run as u64 + 1).to_be_bytes());
    Address(address)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool")
}

/// The proof-of-work grind alone, on `samples` fresh transcripts: a fixed
/// cost inside every proof above, and its luck is most of a small proof's
/// spread.
fn grind_times(samples: usize, threads: usize) -> Samples {
    let mut times = Samples::default();
    for i in 0..samples {
        let mut channel = Blake2sChannel::default();
        channel.mix_u64(i as u64);
        pool(threads).install(|| times.time(|| SimdBackend::grind(&channel, CONFIG.pow_bits)));
    }
    times
}

/// Committed trace cells (main and interaction trees), the bulk of a
/// prover's work: each is extended, hashed and folded.
fn trace_cells(log_sizes: &TreeVec<Vec<u32>>) -> u64 {
    log_sizes.iter().flatten().map(|&log| 1u64 << log).sum()
}

fn column_log_sizes(components: Vec<&dyn Component>) -> TreeVec<Vec<u32>> {
    Components { components, n_preprocessed_columns: 0 }.column_log_sizes()
}

/// The component a baseline proof of `permutations` permutations proves.
fn baseline_component(permutations: usize) -> PoseidonComponent {
    let eval = PoseidonEval { log_size: log_size_for(permutations), relations: Relations::dummy() };
    PoseidonComponent::new(&mut TraceLocationAllocator::default(), eval, Default::default())
}

/// The table's columns: heading, width.
const COLUMNS: [(&str, usize); 14] = [
    ("threads", 7),
    ("txs", 5),
    ("perms", 6),
    ("cells/M", 7),
    ("block prove ms", 17),
    ("others' traces ms", 17),
    ("tx/s", 6),
    ("perms/s", 7),
    ("KiB", 4),
    ("verify ms", 9),
    ("raw cells/M", 11),
    ("raw prove ms", 17),
    ("raw perms/s", 11),
    ("AIR/raw", 7),
];

fn print_line(cells: [String; COLUMNS.len()]) {
    let padded: Vec<String> =
        cells.iter().zip(COLUMNS).map(|(cell, (_, width))| format!("{cell:>width$}")).collect();
    println!("{}", padded.join("  "));
}

fn print_row(row: &Row) {
    let millions = |cells: u64| format!("{:.1}", cells as f64 / 1e6);
    print_line([
        row.threads.to_string(),
        row.transfers.to_string(),
        row.permutations.to_string(),
        millions(row.block_cells),
        row.block.prove.summary(),
        row.others.summary(),
        format!("{:.0}", row.block.prove.rate(row.transfers)),
        format!("{:.0}", row.block.prove.rate(row.permutations)),
        format!("{:.0}", row.proof_bytes as f64 / 1024.0),
        format!("{:.1}", row.block.verify.median_ms()),
        millions(row.raw_cells),
        row.raw.prove.summary(),
        format!("{:.0}", row.raw.prove.rate(row.permutations)),
        format!("{:.0}%", 100.0 * row.ratio()),
    ]);
}

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => return println!("{USAGE}"),
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    println!(
        "config {} ({} bits), {} run(s) each, medians (min–max); {} cores; \
         cells = committed trace cells (main + interaction)",
        CONFIG.name,
        CONFIG.security_bits(),
        options.runs,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    print_line(COLUMNS.map(|(heading, _)| heading.to_string()));
    for &k in &options.sizes {
        let witness = transfer_block(k);
        for &threads in &options.threads {
            print_row(&measure(&witness, k, options.runs, threads));
        }
    }
    println!("proof-of-work grind ({} bits), inside every proof above:", CONFIG.pow_bits);
    for &threads in &options.threads {
        let times = grind_times(GRIND_SAMPLES, threads);
        println!("{threads:>7} thread(s): {} ms over {GRIND_SAMPLES} transcripts", times.summary());
    }
}
