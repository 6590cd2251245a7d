//! Starts the real `starling` binary and talks to it over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_starling");

/// Where a daemon's log goes: appended to the file named by `STARLING_TEST_LOG_FILE`
/// when set (for debugging a failing test), else nowhere.
fn daemon_log() -> Stdio {
    let Ok(path) = std::env::var("STARLING_TEST_LOG_FILE") else { return Stdio::null() };
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    Stdio::from(file)
}

/// A running daemon, killed (SIGKILL) when dropped.
pub struct Daemon {
    pub child: Child,
    pub url: String,
}

impl Daemon {
    /// Runs `starling devnet` on an ephemeral port in `data_dir` with `extra` flags,
    /// and waits for it to print its URL.
    pub fn devnet(data_dir: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["devnet", "--http-port", "0", "--data-dir", data_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        Self::start(&args)
    }

    /// Runs the binary with `args` (which must make it serve HTTP) and waits for
    /// the URL it prints.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", std::env::var("STARLING_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .stderr(daemon_log())
            .spawn()
            .expect("the starling binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the daemon prints its URL")
            .trim()
            .to_string();
        assert!(url.starts_with("http://"), "first stdout line is the URL, got {url:?}");
        Self { child, url }
    }

    pub fn rpc_url(&self) -> String {
        format!("{}rpc", self.url)
    }

    /// Sends a raw body to `/rpc`; returns HTTP status and the JSON answer.
    pub fn post(&self, body: &str) -> (u16, Value) {
        let response =
            ureq::post(&self.rpc_url()).set("content-type", "application/json").send_string(body);
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("rpc transport error: {e}"),
        };
        let status = response.status();
        (status, response.into_json().unwrap_or(Value::Null))
    }

    /// Posts a body the server may answer before reading it all (an oversized
    /// one): a writer thread sends it and ignores the broken pipe that an early
    /// answer causes, while this thread reads the answer. Returns the HTTP status
    /// and the JSON body.
    pub fn post_early_answered(&self, body: String) -> (u16, Value) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://").trim_end_matches('/').to_string();
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "POST /rpc HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let _ =
                writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(body.as_bytes()));
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let _ = sender.join();
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let json = text.find('{').and_then(|i| serde_json::from_str(text[i..].trim()).ok());
        (status, json.unwrap_or(Value::Null))
    }

    /// Calls a method; `None` when the node cannot be reached (e.g. it was killed).
    pub fn try_call(rpc_url: &str, method: &str, params: Value) -> Option<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        match ureq::post(rpc_url).send_json(body) {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r.into_json().ok(),
            Err(_) => None,
        }
    }

    /// Calls a method; returns the whole response object.
    pub fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        self.post(&body.to_string()).1
    }

    /// Calls a method that must succeed; returns its result.
    pub fn result(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    pub fn height(&self) -> u64 {
        self.result("starling_status", json!([]))["height"].as_u64().unwrap()
    }

    /// Waits until `condition` holds, polling; panics after `secs` seconds.
    pub fn wait_for(&self, secs: u64, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        wait(secs, what, || condition(self));
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `condition` holds, polling; panics after `secs` seconds.
pub fn wait(secs: u64, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the Prometheus sample `name` that the node at `url` (its
/// `http://host:port/`) shows at `/metrics` now.
pub fn metric_at(url: &str, name: &str) -> f64 {
    let text = ureq::get(&format!("{url}metrics")).call().unwrap().into_string().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("/metrics has no sample {name}:\n{text}"))
}

/// Runs the CLI to completion; returns (success, stdout, stderr).
pub fn cli(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

/// A keys directory and a password file, as a user of the CLI has them.
pub struct Wallet {
    pub keys: std::path::PathBuf,
    pub password: std::path::PathBuf,
}

impl Wallet {
    /// Creates `keys/` and a password file under `dir`.
    pub fn new(dir: &Path, password: &str) -> Self {
        let wallet = Self { keys: dir.join("keys"), password: dir.join("password") };
        std::fs::write(&wallet.password, password).unwrap();
        wallet
    }

    /// Runs a CLI command with `--keys-dir` and `--password-file` appended; it must succeed.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut all = args.to_vec();
        all.extend([
            "--keys-dir",
            self.keys.to_str().unwrap(),
            "--password-file",
            self.password.to_str().unwrap(),
        ]);
        let (ok, out, err) = cli(&all, stdin);
        assert!(ok, "`starling {}` failed: {err}", args.join(" "));
        out
    }

    /// Transfers `amount` from key `from` to `to` and waits for inclusion; returns the hash.
    pub fn transfer(&self, rpc: &str, from: &str, to: &str, amount: u64, fee: u64) -> String {
        let (amount, fee) = (amount.to_string(), fee.to_string());
        let args = [
            "tx", "transfer", "--from", from, "--to", to, "--amount", &amount, "--fee", &fee,
            "--wait", "--rpc", rpc,
        ];
        self.run(&args, None).trim().to_string()
    }
}

/// The hex private key of devnet demo account 0, as `starling devnet` prints it.
pub fn demo_key_hex() -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["devnet", "--http-port", "0", "--demo-tps", "0", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut key = None;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
        if let Some(k) = line.split("private key ").nth(1) {
            key = Some(k.trim().to_string());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    key.expect("devnet prints its demo keys")
}

/// Devnet demo account 0's key (never used by the demo traffic).
pub fn demo_key() -> starling_core::crypto::StarkSecretKey {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(demo_key_hex().trim_start_matches("0x"), &mut bytes).unwrap();
    starling_core::crypto::StarkSecretKey::from_bytes(&bytes).unwrap()
}

impl Daemon {
    /// Runs `starling node` following `bootstrap` (no key, no discovery: only the
    /// peers named), with the genesis at `genesis`, and waits for its URL.
    pub fn follower(data_dir: &Path, genesis: &Path, bootstrap: &str) -> Self {
        Self::follower_of(data_dir, genesis, &[bootstrap])
    }

    pub fn status(&self) -> Value {
        self.result("starling_status", json!([]))
    }

    /// The node's loopback address for `transport` ("tcp", "ws", "quic-v1" or
    /// "webrtc-direct"), as `starling_status` lists it. Waits for the listener.
    pub fn p2p_addr(&self, transport: &str) -> String {
        let mut found = None;
        self.wait_for(30, "a listen address", |d| {
            let status = d.status();
            found = status["listen"].as_array().unwrap().iter().find_map(|a| {
                let a = a.as_str().unwrap();
                let parts: Vec<&str> = a.split('/').collect();
                let matches = a.starts_with("/ip4/127.0.0.1/")
                    && match transport {
                        "tcp" => parts[3] == "tcp" && parts[5] == "p2p",
                        other => parts.contains(&other),
                    };
                matches.then(|| a.to_string())
            });
            found.is_some()
        });
        found.unwrap()
    }

    pub fn peers(&self) -> u64 {
        self.status()["peers"].as_u64().unwrap()
    }

    /// The hash and state root of block `height`.
    pub fn block_id(&self, height: u64) -> (Value, Value) {
        let b = self.result("starknet_getBlockWithTxHashes", json!([{ "block_number": height }]));
        (b["block_hash"].clone(), b["new_root"].clone())
    }
}

impl Daemon {
    /// Runs `starling node` following every peer in `bootstrap` (no key, no
    /// discovery: only the peers named), with the genesis at `genesis`.
    pub fn follower_of(data_dir: &Path, genesis: &Path, bootstrap: &[&str]) -> Self {
        let mut args = vec![
            "node",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
            "--http-port",
            "0",
            "--no-discovery",
        ];
        for addr in bootstrap {
            args.extend(["--bootstrap", addr]);
        }
        Self::start(&args)
    }

    /// The value of the Prometheus sample `name` (e.g. `starling_peers_banned_total`)
    /// that `/metrics` shows now.
    pub fn metric(&self, name: &str) -> f64 {
        metric_at(&self.url, name)
    }
}

/// A running process whose stdout and stderr lines are collected as they come
/// (for `starling devnet --validators N`, which prints a URL per node and reports
/// on stderr). Killed (SIGKILL) when dropped.
pub struct Watched {
    pub child: Child,
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Watched {
    /// Runs the binary with `args`, collecting its output.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", std::env::var("STARLING_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the starling binary starts");
        let collect = |stream: Box<dyn std::io::Read + Send>| {
            let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Self { child, stdout, stderr }
    }

    /// Runs `starling devnet --validators n` in `data` on free ports, with
    /// `extra` flags; returns it with the page URL and validator i's URL at i
    /// (from the lines it prints: the page first, then `validator-i URL`).
    pub fn validator_devnet(data: &Path, n: usize, extra: &[&str]) -> (Self, String, Vec<String>) {
        let count = n.to_string();
        let mut args = vec!["devnet", "--validators", &count, "--http-port", "0", "--data-dir"];
        args.push(data.to_str().unwrap());
        args.extend_from_slice(extra);
        let mut devnet = Self::start(&args);
        let lines = devnet.stdout_lines(1 + n, 120);
        let urls = (0..n)
            .map(|i| {
                let (name, url) = lines[1 + i].split_once(' ').unwrap();
                assert_eq!(name, format!("validator-{i}"));
                url.to_string()
            })
            .collect();
        (devnet, lines[0].clone(), urls)
    }

    /// Waits until stdout holds `n` lines; returns them. Panics (showing
    /// stderr) after `secs` seconds or if the process exits first.
    pub fn stdout_lines(&mut self, n: usize, secs: u64) -> Vec<String> {
        self.wait_until(secs, &format!("{n} lines on stdout"), |w| {
            w.stdout.lock().unwrap().len() >= n
        });
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until `condition` holds, polling; panics after `secs` seconds or
    /// if the process exits first, showing what it printed on stderr.
    pub fn wait_until(&mut self, secs: u64, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !condition(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("exited ({status}) before {what}; stderr:\n{}", self.stderr_text());
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits up to `secs` seconds for the process to exit.
    pub fn terminate(&mut self, secs: u64) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running {secs} s after SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `starling prover` process working for `d`, its proofs bound to
/// `reward_address`; killed when dropped.
pub struct Prover(Child);

impl Prover {
    pub fn start(d: &Daemon, reward_address: &str) -> Self {
        let child = Command::new(BIN)
            .args(["prover", "--rpc", &d.rpc_url(), "--reward-address", reward_address])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Prover {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Proves block `height` of `d`'s chain with `starling prove` (its proof
/// bound to `reward_address`, written under `dir`) and returns the proof.
pub fn prove_with_cli(d: &Daemon, height: u64, reward_address: &str, dir: &Path) -> Vec<u8> {
    let file = dir.join(format!("block-{height}.proof"));
    let (ok, out, err) = cli(
        &[
            "prove",
            "--block",
            &height.to_string(),
            "--rpc",
            &d.rpc_url(),
            "--reward-address",
            reward_address,
            "--out",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "starling prove failed: {out}{err}");
    std::fs::read(&file).unwrap()
}
