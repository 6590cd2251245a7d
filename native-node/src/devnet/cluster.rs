//! `starling devnet --validators N [--followers M]`: a local proof-of-stake
//! network of real `starling node` processes on loopback.
//!
//! The devnet's data directory holds the genesis (`genesis.json`, with
//! [`super::staking_params`]: 10-block epochs, proof of stake once all N
//! validators bonded), a password file for the devnet's keystores, and one data
//! directory per process: `validator-0` .. `validator-{N-1}`, then `follower-0`
//! .. Each validator directory holds its Ed25519 consensus key
//! (`consensus-key.json`, random, in the keystore format `--validator-key`
//! reads); `validator-0` also holds the genesis sequencer's key
//! (`sequencer-key.json`), so it signs blocks until proof of stake starts, and
//! the key of the prover rewards account (`prover-rewards-key.json`), so it
//! alone pays provers (`--proof-reward` each). Each
//! directory gets a `node.toml` with the block time and a `node.log` with the
//! process's output.
//!
//! Validator `i` serves HTTP (page, RPC, metrics) on PORT + i, followers on the
//! ports after. Validator 0 starts first; everyone else bootstraps from its TCP
//! address as its `starling_status` lists it. Once all answer, the devnet sends
//! each validator's staker account a `Stake` transaction over RPC (so the switch
//! happens on chain, at the first epoch whose fixed set holds them all), then
//! demo transfers. It watches the processes, reports one that dies with its
//! exit status and log, and stops them all on Ctrl-C or SIGTERM. Should the
//! devnet itself die, its children get SIGTERM from the kernel (Linux).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use starling_core::chain::Genesis;
use starling_core::crypto::{SequencerKey, SequencerPublicKey, StarkSecretKey};
use starling_core::keystore::KdfParams;
use starling_core::types::{Call, ChainId, Hash, TxBody};

use super::{DEMO_BALANCE, TOKEN, VALIDATOR_COMMISSION_BPS, VALIDATOR_STAKE, demo_key, staker_key};
use crate::cli::DevnetArgs;
use crate::client::{self, RpcClient};
use crate::{config, keys};

/// Most validator processes one devnet runs.
pub const MAX_VALIDATORS: u32 = 64;
/// Most follower processes one devnet runs.
pub const MAX_FOLLOWERS: u32 = 64;
/// The password of the devnet's keystores (devnet only).
const PASSWORD: &str = "starling-devnet";
/// How long a process may take to answer RPC after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long stake transactions may take to be included.
const STAKE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long stopped processes get to exit before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One process of the devnet, before it runs.
struct Member {
    name: String,
    dir: PathBuf,
    http_port: u16,
    /// `Some(i)` for validator `i`.
    validator: Option<u32>,
}

/// A running process.
struct Process {
    name: String,
    log: PathBuf,
    child: Child,
    url: String,
    rpc: RpcClient,
    /// Set once its exit has been seen.
    exited: Option<ExitStatus>,
}

/// Every process started, stopped together when dropped.
#[derive(Default)]
struct Cluster {
    processes: Vec<Process>,
}

pub async fn run(args: DevnetArgs) -> Result<()> {
    let validators = args.validators;
    if validators > MAX_VALIDATORS || args.followers > MAX_FOLLOWERS {
        bail!("a devnet runs at most {MAX_VALIDATORS} validators and {MAX_FOLLOWERS} followers");
    }
    config::BlockConfig { interval_ms: args.block_time_ms, ..Default::default() }.limits()?;
    let data_dir = match args.data_dir.clone() {
        Some(d) => d,
        None => super::temporary_dir()?,
    };
    let (genesis, sequencer) =
        super::load_or_create(&data_dir, args.accounts, validators, args.block_time_ms)?;
    let demo_accounts = super::demo_accounts(&genesis, validators);
    let password = data_dir.join("password");
    if !password.is_file() {
        keys::write_new(&password, PASSWORD)?;
    }
    let count = validators + args.followers;
    let base = http_ports(args.http.http_host, args.http.http_port.unwrap_or(8080), count as u16)?;
    let members: Vec<Member> = (0..count)
        .map(|k| {
            let (name, validator) = match k.checked_sub(validators) {
                None => (format!("validator-{k}"), Some(k)),
                Some(j) => (format!("follower-{j}"), None),
            };
            Member { dir: data_dir.join(&name), name, http_port: base + k as u16, validator }
        })
        .collect();
    let mut consensus_keys = Vec::new();
    for m in &members {
        std::fs::create_dir_all(&m.dir)
            .with_context(|| format!("cannot create {}", m.dir.display()))?;
        let toml = node_config(args.block_time_ms);
        std::fs::write(m.dir.join("node.toml"), toml)?;
        if let Some(i) = m.validator {
            consensus_keys.push(consensus_key(&m.dir.join("consensus-key.json"), &password)?);
            if i == 0 {
                let path = m.dir.join("sequencer-key.json");
                if !path.is_file() {
                    let json = keys::ed25519_keystore(&sequencer, PASSWORD, KdfParams::STANDARD)?;
                    keys::write_new(&path, &json)?;
                }
                let path = m.dir.join("prover-rewards-key.json");
                if !path.is_file() {
                    let json = keys::account_keystore(
                        &super::rewards_key(),
                        PASSWORD,
                        KdfParams::STANDARD,
                    )?;
                    keys::write_new(&path, &json)?;
                }
            }
        }
    }
    print_accounts(&data_dir, demo_accounts, validators, &genesis.staking);

    let stop = watch_signals()?;
    let mut cluster = Cluster::default();
    let result = start_and_watch(&args, &members, &consensus_keys, &genesis, &mut cluster, &stop);
    cluster.stop();
    match result {
        // Told to stop while starting: not a failure.
        Err(_) if stop.load(Ordering::SeqCst) => Ok(()),
        other => other,
    }
}

/// Starts the processes, stakes, runs the demo traffic and watches them until
/// `stop` is set.
fn start_and_watch(
    args: &DevnetArgs,
    members: &[Member],
    consensus_keys: &[SequencerPublicKey],
    genesis: &Genesis,
    cluster: &mut Cluster,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    let validators = args.validators;
    let data_dir = members[0].dir.parent().context("a member directory has a parent")?;
    let password = data_dir.join("password");
    let http_host = args.http.http_host;
    let demo_accounts = super::demo_accounts(genesis, validators);
    let exe = std::env::current_exe().context("cannot find the starling executable")?;
    let genesis_path = data_dir.join("genesis.json");
    let spawn = |m: &Member, bootstrap: &[String], cluster: &mut Cluster| -> Result<()> {
        let k = members.iter().position(|x| x.name == m.name).unwrap_or(0) as u16;
        let mut cmd = Command::new(&exe);
        cmd.arg("node")
            .arg("--data-dir")
            .arg(&m.dir)
            .arg("--genesis")
            .arg(&genesis_path)
            .arg("--config")
            .arg(m.dir.join("node.toml"))
            .arg("--password-file")
            .arg(&password)
            .args(["--http-host", &http_host.to_string()])
            .args(["--http-port", &m.http_port.to_string()])
            .args(["--p2p-host", &args.p2p.p2p_host.to_string()])
            .args(["--snapshot-interval", &args.p2p.snapshot_interval.to_string()]);
        if let Some(web) = &args.http.web_dir {
            cmd.arg("--web-dir").arg(web);
        }
        if m.validator.is_some() {
            cmd.arg("--validator-key").arg(m.dir.join("consensus-key.json"));
        }
        if m.validator == Some(0) {
            cmd.arg("--sequencer-key").arg(m.dir.join("sequencer-key.json"));
            cmd.arg("--prover-rewards-key").arg(m.dir.join("prover-rewards-key.json"));
            cmd.args(["--proof-reward", &args.proof_reward.to_string()]);
        }
        if let Some(p) = args.p2p.p2p_port {
            let port = p.checked_add(2 * k).context("--p2p-port leaves no room for every node")?;
            cmd.args(["--p2p-port", &port.to_string()]);
        }
        if args.p2p.no_discovery {
            cmd.arg("--no-discovery");
        }
        for addr in args.p2p.bootstrap.iter().map(|a| a.to_string()).chain(bootstrap.to_vec()) {
            cmd.args(["--bootstrap", &addr]);
        }
        cluster.spawn(m, cmd, http_host)
    };

    // Validator 0 first: everyone else learns its address.
    spawn(&members[0], &[], cluster)?;
    cluster.wait_ready(0, stop)?;
    let first = p2p_address(&cluster.processes[0], stop)?;
    for m in &members[1..] {
        spawn(m, std::slice::from_ref(&first), cluster)?;
    }
    for i in 1..cluster.processes.len() {
        cluster.wait_ready(i, stop)?;
    }
    println!("{}", cluster.processes[0].url);
    for p in &cluster.processes {
        println!("{} {}", p.name, p.url);
    }
    eprintln!("page: {} (log of each node: node.log in its directory)", cluster.processes[0].url);

    let nodes: Vec<String> = cluster.processes.iter().map(|p| rpc_url(&p.url)).collect();
    super::start_provers(&nodes, args.provers, demo_accounts);
    let chain_id = genesis.chain_id.clone();
    stake_all(cluster, &chain_id, consensus_keys, &genesis.staking, stop)?;
    let rpcs: Vec<String> =
        cluster.processes[..validators as usize].iter().map(|p| rpc_url(&p.url)).collect();
    let traffic = {
        let stop = stop.clone();
        let (accounts, tps) = (demo_accounts, args.demo_tps);
        std::thread::spawn(move || demo_traffic(&rpcs, &chain_id, accounts, tps, &stop))
    };
    let watched = cluster.watch(stop);
    stop.store(true, Ordering::SeqCst);
    let _ = traffic.join();
    watched
}

/// Loads the consensus key at `path`, creating a random one there first.
fn consensus_key(path: &Path, password: &Path) -> Result<SequencerPublicKey> {
    if !path.is_file() {
        let key = SequencerKey::from_seed(&keys::entropy());
        keys::write_new(path, &keys::ed25519_keystore(&key, PASSWORD, KdfParams::STANDARD)?)?;
    }
    Ok(keys::unlock_sequencer(path, Some(password))?.public_key())
}

/// Prints the devnet's accounts and the staking parameters on stderr.
fn print_accounts(
    dir: &Path,
    demo: u32,
    validators: u32,
    params: &starling_core::staking::StakingParams,
) {
    let show = |label: String, k: &StarkSecretKey| {
        let (address, secret) = (k.public_key().address(), hex::encode(k.to_bytes()));
        eprintln!("  {label:<12} {address}  private key 0x{secret}");
    };
    eprintln!("devnet data directory: {}", dir.display());
    eprintln!("accounts (devnet only, never use these keys elsewhere):");
    for i in 0..demo.min(4) {
        show(format!("demo {i}"), &demo_key(i));
    }
    for i in 0..validators {
        show(format!("staker {i}"), &staker_key(i));
    }
    show("rewards".to_string(), &super::rewards_key());
    eprintln!(
        "each account holds {} tokens; each staker bonds {} for validator-N; epochs are {} \
         blocks; proof of stake starts once {} validators hold {} tokens in a fixed set",
        DEMO_BALANCE / TOKEN,
        VALIDATOR_STAKE / TOKEN,
        params.epoch_length,
        params.min_validators,
        params.activation_stake / TOKEN,
    );
}

/// The first of `count` consecutive free HTTP ports from `port` (any free
/// block when `port` is 0).
fn http_ports(host: IpAddr, port: u16, count: u16) -> Result<u16> {
    let free = |p: u16| TcpListener::bind(SocketAddr::new(host, p)).is_ok();
    if port != 0 {
        let last =
            port.checked_add(count - 1).context("--http-port leaves no room for every node")?;
        if let Some(busy) = (port..=last).find(|p| !free(*p)) {
            bail!(
                "port {busy} is in use; the devnet needs {port}-{last} (choose another --http-port)"
            );
        }
        return Ok(port);
    }
    for _ in 0..100 {
        let start = TcpListener::bind(SocketAddr::new(host, 0))?.local_addr()?.port();
        let fits = start.checked_add(count - 1).is_some();
        if fits && (start..start + count).all(free) {
            return Ok(start);
        }
    }
    bail!("found no {count} consecutive free ports; choose them with --http-port")
}

/// SIGINT and SIGTERM set the returned flag (registered before this returns).
fn watch_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            flag.store(true, Ordering::SeqCst);
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        flag.store(true, Ordering::SeqCst);
    });
    Ok(stop)
}

fn rpc_url(url: &str) -> String {
    format!("{url}rpc")
}

/// Sleeps a polling step; an error once the devnet is told to stop.
fn pause(stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::SeqCst) {
        bail!("stopped");
    }
    std::thread::sleep(Duration::from_millis(100));
    Ok(())
}

impl Cluster {
    fn spawn(&mut self, m: &Member, mut cmd: Command, host: IpAddr) -> Result<()> {
        let log_path = m.dir.join("node.log");
        let mut log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        writeln!(log, "--- starling devnet starts {} at {} ms", m.name, crate::node::now_ms())?;
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        process::die_with_parent(&mut cmd);
        let child = cmd.spawn().with_context(|| format!("cannot start {}", m.name))?;
        let host = match host {
            IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            other => other,
        };
        let url = format!("http://{}/", SocketAddr::new(host, m.http_port));
        let rpc = RpcClient::new(&rpc_url(&url));
        self.processes.push(Process {
            name: m.name.clone(),
            log: log_path,
            child,
            url,
            rpc,
            exited: None,
        });
        Ok(())
    }

    /// Waits until process `i` answers RPC; fails if it exits first.
    fn wait_ready(&mut self, i: usize, stop: &AtomicBool) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let p = &mut self.processes[i];
            if let Some(status) = p.child.try_wait()? {
                bail!("{} exited at start ({status}); {}", p.name, log_tail(&p.log));
            }
            if p.rpc.call("starling_status", json!([])).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer RPC within {:?}; {}",
                    p.name,
                    START_TIMEOUT,
                    log_tail(&p.log)
                );
            }
            pause(stop)?;
        }
    }

    /// Watches the processes until told to stop, reporting each that exits;
    /// fails once none is left.
    fn watch(&mut self, stop: &AtomicBool) -> Result<()> {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(250));
            for p in &mut self.processes {
                if p.exited.is_some() {
                    continue;
                }
                if let Some(status) = p.child.try_wait()? {
                    p.exited = Some(status);
                    // A Ctrl-C in the terminal reaches the children too; that is no death.
                    std::thread::sleep(Duration::from_millis(300));
                    if !stop.load(Ordering::SeqCst) {
                        eprintln!("{} exited ({status}); {}", p.name, log_tail(&p.log));
                    }
                }
            }
            if self.processes.iter().all(|p| p.exited.is_some()) && !stop.load(Ordering::SeqCst) {
                bail!("every node of the devnet has exited");
            }
        }
        eprintln!("stopping the devnet");
        Ok(())
    }

    /// Asks every process still running to stop (SIGINT, which a node handles
    /// like Ctrl-C), then kills those that have not exited after a grace period.
    fn stop(&mut self) {
        for p in self.processes.iter_mut().filter(|p| p.exited.is_none()) {
            process::interrupt(&p.child);
        }
        let deadline = Instant::now() + STOP_GRACE;
        for p in self.processes.iter_mut().filter(|p| p.exited.is_none()) {
            loop {
                match p.child.try_wait() {
                    Ok(Some(status)) => p.exited = Some(status),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    _ => {
                        let _ = p.child.kill();
                        p.exited = p.child.wait().ok();
                    }
                }
                break;
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log, to show why a process stopped.
fn log_tail(path: &Path) -> String {
    let lines: Vec<String> = File::open(path)
        .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
        .unwrap_or_default();
    let tail = lines[lines.len().saturating_sub(5)..].join("\n    ");
    format!("log {}:\n    {tail}", path.display())
}

/// The TCP address other nodes dial to reach `p`, from its `starling_status`
/// `listen` list (loopback preferred).
fn p2p_address(p: &Process, stop: &AtomicBool) -> Result<String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let status = p.rpc.call("starling_status", json!([]))?;
        let listen: Vec<&str> = status["listen"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let tcp = |a: &&str| {
            let parts: Vec<&str> = a.split('/').collect();
            parts.len() == 7 && parts[3] == "tcp" && parts[5] == "p2p"
        };
        let mut candidates: Vec<&str> = listen.into_iter().filter(tcp).collect();
        candidates.sort_by_key(|a| !a.starts_with("/ip4/127.0.0.1/"));
        if let Some(addr) = candidates.first() {
            return Ok(addr.to_string());
        }
        if Instant::now() > deadline {
            bail!("{} lists no TCP address in starling_status", p.name);
        }
        pause(stop)?;
    }
}

/// Sends each validator's `Stake` (to validator 0, which sequences until proof
/// of stake starts) unless it staked already, and waits for them all to be
/// included.
fn stake_all(
    cluster: &Cluster,
    chain_id: &ChainId,
    consensus_keys: &[SequencerPublicKey],
    params: &starling_core::staking::StakingParams,
    stop: &AtomicBool,
) -> Result<()> {
    let rpc = &cluster.processes[0].rpc;
    let mut pending: Vec<(u32, Hash)> = Vec::new();
    for (i, key) in (0u32..).zip(consensus_keys) {
        let staker = staker_key(i);
        let address = staker.public_key().address();
        match rpc.call("starling_getStaker", json!([address])) {
            Ok(_) => {
                eprintln!("validator-{i}: {address} has staked already");
                continue;
            }
            Err(e) if client::error_code(&e) == Some(20) => {}
            Err(e) => return Err(e.context("cannot read the staking registry")),
        }
        let body = TxBody {
            chain_id: chain_id.clone(),
            sender_key: staker.public_key(),
            nonce: rpc.nonce(&address)?,
            fee: 1,
            call: Call::Stake {
                consensus_key: *key,
                amount: VALIDATOR_STAKE,
                commission_bps: VALIDATOR_COMMISSION_BPS,
            },
        };
        let hash = rpc
            .submit(&body.sign(&staker))
            .with_context(|| format!("validator-{i}'s stake was refused"))?;
        eprintln!("validator-{i}: stake transaction {hash} sent for consensus key {key}");
        pending.push((i, hash));
    }
    let deadline = Instant::now() + STAKE_TIMEOUT;
    let mut last = None;
    while !pending.is_empty() {
        let mut still = Vec::new();
        for (i, hash) in pending {
            match rpc.included_in(&hash)? {
                Some(height) => {
                    eprintln!("validator-{i}: stake {hash} included in block {height}");
                    last = last.max(Some(height));
                }
                None => still.push((i, hash)),
            }
        }
        pending = still;
        if !pending.is_empty() {
            if Instant::now() > deadline {
                eprintln!("warning: stakes still pending after {STAKE_TIMEOUT:?}; going on");
                return Ok(());
            }
            pause(stop)?;
        }
    }
    if let Some(height) = last {
        let switch = params.epoch_of(height) + 3;
        eprintln!(
            "the validator set of epoch {switch} (from block {}) holds every stake: proof of \
             stake starts there",
            switch * params.epoch_length
        );
    }
    Ok(())
}

/// About `per_second` demo transfers between demo accounts 1.., each account
/// always through the same validator's RPC (whose mempool then knows its
/// pending nonce), until `stop`.
fn demo_traffic(
    rpcs: &[String],
    chain_id: &ChainId,
    accounts: u32,
    per_second: f64,
    stop: &AtomicBool,
) {
    if per_second <= 0.0 || accounts < 3 || rpcs.is_empty() {
        return;
    }
    let clients: Vec<RpcClient> = rpcs.iter().map(|u| RpcClient::new(u)).collect();
    let keys: Vec<StarkSecretKey> = (0..accounts).map(demo_key).collect();
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let mut rng = crate::node::now_ms() | 1;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(interval);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let from = 1 + (rng % u64::from(accounts - 1)) as usize;
        let to = ((rng >> 20) % u64::from(accounts)) as usize;
        let client = &clients[(from - 1) % clients.len()];
        let sender = &keys[from];
        let sent = client.nonce(&sender.public_key().address()).and_then(|nonce| {
            let body = TxBody {
                chain_id: chain_id.clone(),
                sender_key: sender.public_key(),
                nonce,
                fee: 1 + rng % 10,
                call: Call::Transfer {
                    to: keys[to].public_key().address(),
                    amount: 1 + (rng >> 40) % TOKEN,
                },
            };
            client.submit(&body.sign(sender))
        });
        if let Err(e) = sent {
            tracing::debug!("demo transfer refused: {e:#}");
        }
    }
}

/// Signals to child processes, without a libc crate: the two calls are in
/// every C library the binary links anyway.
mod process {
    use std::process::{Child, Command};

    #[cfg(unix)]
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }

    #[cfg(target_os = "linux")]
    unsafe extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }

    /// Sends SIGINT (a node's Ctrl-C: it stops cleanly).
    pub fn interrupt(child: &Child) {
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(child.id()) {
            const SIGINT: i32 = 2;
            // SAFETY: kill(2) only sends a signal; the pid is our own child's,
            // not yet reaped (we wait for it only after this), so it names no
            // other process.
            unsafe {
                kill(pid, SIGINT);
            }
        }
        #[cfg(not(unix))]
        let _ = child;
    }

    /// Makes the kernel send the child SIGTERM when the devnet exits, however it
    /// exits (Linux). The parent-death signal follows the *thread* that spawned
    /// the child, so children must be spawned from the devnet's main thread.
    pub fn die_with_parent(cmd: &mut Command) {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            const PR_SET_PDEATHSIG: i32 = 1;
            const SIGTERM: std::ffi::c_ulong = 15;
            // SAFETY: runs in the child between fork and exec, where only
            // async-signal-safe calls are allowed; prctl(2) is a plain system
            // call that touches no memory of ours.
            unsafe {
                cmd.pre_exec(|| {
                    prctl(PR_SET_PDEATHSIG, SIGTERM);
                    Ok(())
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = cmd;
    }
}

/// A devnet node's configuration: its block time, and consensus timeouts scaled to
/// it (a devnet's blocks come far faster than the defaults, made for the Internet,
/// expect).
fn node_config(block_time_ms: u64) -> String {
    let propose = (3 * block_time_ms).max(1_000);
    let vote = block_time_ms.max(500);
    format!(
        "[block]\ninterval_ms = {block_time_ms}\n\n[consensus]\npropose_ms = {propose}\n\
         prevote_ms = {vote}\nprecommit_ms = {vote}\ndelta_ms = {}\n",
        vote / 2
    )
}
