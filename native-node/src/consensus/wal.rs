//! The validator's write-ahead log: what it saw and what it signed, on disk before
//! anything it signed leaves the process.
//!
//! Two promises rest on it. **Never sign twice**: before a vote or proposal is
//! signed, its slot (height, round, step) and value are appended and fsynced; a
//! later request for the same slot with another value is refused, across restarts
//! and `kill -9`. **Resume where it stopped**: every input the consensus driver
//! consumed at the current height is logged before it is handled, so a restarted
//! validator replays them into a fresh driver and is back in the same round with the
//! same lock, instead of forgetting a lock it voted on.
//!
//! The file is a sequence of records `len (u32) ‖ kind (u8) ‖ payload ‖ check`,
//! `check` being the first 8 bytes of SHA-256 over kind and payload. A crash can
//! tear only the last record (records are appended; signed ones are fsynced before
//! use), so a bad record ends the log: it and anything after it are cut off on
//! open. When a height is decided and its block is in the store, the log is
//! rewritten (to a temporary file, fsynced, renamed) to hold only the new height.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use starling_core::types::Hash;

/// Largest record accepted on open; anything claiming more is a torn or foreign file.
const MAX_RECORD: usize = 8 * 1024 * 1024;

const KIND_HEIGHT: u8 = 1;
const KIND_INPUT: u8 = 2;
const KIND_SIGNED: u8 = 3;

/// One step of one round at which a validator signs at most one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub height: u64,
    pub round: u32,
    pub step: Step,
}

/// The signing steps of a round, in protocol order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Propose = 0,
    Prevote = 1,
    Precommit = 2,
}

/// What was signed at a slot: a block hash, or nil.
pub type Value = Option<Hash>;

/// A record read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The validator moved to this height; earlier records are obsolete.
    Height(u64),
    /// An input the driver consumed (encoded by the engine), in order.
    Input(Vec<u8>),
    /// A signature the validator made: its slot, value and the signed message.
    Signed { slot: Slot, value: Value, message: Vec<u8> },
}

/// Why a signature was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct DoubleSign {
    pub slot: Slot,
    pub signed: Value,
    pub requested: Value,
}

impl std::fmt::Display for DoubleSign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Value| v.map_or("nil".to_string(), |h| h.to_string());
        write!(
            f,
            "refusing to sign {} at height {} round {} step {:?}: {} is already signed there",
            show(&self.requested),
            self.slot.height,
            self.slot.round,
            self.slot.step,
            show(&self.signed)
        )
    }
}

impl std::error::Error for DoubleSign {}

/// An open log.
pub struct Wal {
    path: PathBuf,
    file: File,
    height: u64,
    /// Every slot signed at the current height (earlier heights are refused whole).
    signed: BTreeMap<Slot, Value>,
}

impl Wal {
    /// Opens (or creates) the log at `path` and returns it with the records of the
    /// current height, in order, for replay. A torn tail is cut off.
    pub fn open(path: &Path) -> Result<(Self, Vec<Record>)> {
        let mut bytes = Vec::new();
        if path.exists() {
            File::open(path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .with_context(|| format!("reading the consensus log {}", path.display()))?;
        }
        let (records, good_len) = parse(&bytes);
        if good_len < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                dropped = bytes.len() - good_len,
                "the consensus log ends in a torn record; cutting it off"
            );
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the consensus log {}", path.display()))?;
        file.set_len(good_len as u64)?;
        file.sync_all()?;
        sync_dir(path)?;
        let mut wal = Self { path: path.to_path_buf(), file, height: 0, signed: BTreeMap::new() };
        let current = wal.absorb(records);
        Ok((wal, current))
    }

    /// Sets the height and the signed slots from `records`; returns those of the
    /// last height.
    fn absorb(&mut self, records: Vec<Record>) -> Vec<Record> {
        let start = records.iter().rposition(|r| matches!(r, Record::Height(_)));
        let current: Vec<Record> = match start {
            Some(i) => records[i..].to_vec(),
            None => records,
        };
        for record in &current {
            match record {
                Record::Height(h) => self.height = *h,
                Record::Signed { slot, value, .. } => {
                    self.signed.insert(*slot, *value);
                }
                Record::Input(_) => {}
            }
        }
        current
    }

    /// The height the log is at.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Appends an input before the driver handles it. Not fsynced by itself: the
    /// next signature's fsync makes it durable, and an input lost in a crash was
    /// never acted on in any way another node could see.
    pub fn input(&mut self, encoded: &[u8]) -> Result<()> {
        self.append(KIND_INPUT, encoded)
    }

    /// Records that the validator is about to sign `value` at `slot`, durably,
    /// unless that would contradict what it signed before. Signing the same value
    /// at the same slot again is allowed (signatures are deterministic, so it is
    /// the same message). `message` is the signed message, kept for rebroadcast.
    pub fn sign(&mut self, slot: Slot, value: Value, message: &[u8]) -> Result<()> {
        if slot.height < self.height {
            bail!(
                "refusing to sign at height {}: the validator has moved on to height {}",
                slot.height,
                self.height
            );
        }
        if slot.height > self.height {
            bail!("asked to sign at height {} while at height {}", slot.height, self.height);
        }
        match self.signed.get(&slot) {
            Some(signed) if *signed == value => return Ok(()),
            Some(signed) => {
                return Err(DoubleSign { slot, signed: *signed, requested: value }.into());
            }
            None => {}
        }
        self.append(KIND_SIGNED, &encode_signed(slot, value, message))?;
        self.file.sync_data().context("syncing the consensus log")?;
        self.signed.insert(slot, value);
        Ok(())
    }

    /// Moves to `height` once the previous height's block is durably stored:
    /// rewrites the log to hold only this height (atomically, by rename).
    pub fn start_height(&mut self, height: u64) -> Result<()> {
        if height < self.height {
            bail!("the consensus log is at height {}, cannot go back to {height}", self.height);
        }
        if height == self.height {
            return Ok(()); // resuming the height the log already holds
        }
        let tmp = self.path.with_extension("wal.tmp");
        let mut out = File::create(&tmp)?;
        out.write_all(&frame(KIND_HEIGHT, &height.to_le_bytes()))?;
        out.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.height = height;
        self.signed.clear();
        Ok(())
    }

    fn append(&mut self, kind: u8, payload: &[u8]) -> Result<()> {
        self.file.write_all(&frame(kind, payload)).context("appending to the consensus log")
    }
}

/// Makes a rename or a new file's entry durable (the directory holds the name).
fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).context("syncing the data directory")
}

fn checksum(kind: u8, payload: &[u8]) -> [u8; 8] {
    let digest = Sha256::new().chain_update([kind]).chain_update(payload).finalize();
    digest[..8].try_into().expect("8 of 32 bytes")
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 1 + payload.len() + 8);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(kind, payload));
    out
}

fn encode_signed(slot: Slot, value: Value, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 4 + 1 + 33 + message.len());
    out.extend_from_slice(&slot.height.to_le_bytes());
    out.extend_from_slice(&slot.round.to_le_bytes());
    out.push(slot.step as u8);
    match value {
        None => out.push(0),
        Some(hash) => {
            out.push(1);
            out.extend_from_slice(&hash.0);
        }
    }
    out.extend_from_slice(message);
    out
}

fn decode_signed(payload: &[u8]) -> Option<Record> {
    let height = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
    let round = u32::from_le_bytes(payload.get(8..12)?.try_into().ok()?);
    let step = match payload.get(12)? {
        0 => Step::Propose,
        1 => Step::Prevote,
        2 => Step::Precommit,
        _ => return None,
    };
    let (value, rest) = match payload.get(13)? {
        0 => (None, payload.get(14..)?),
        1 => (Some(Hash(payload.get(14..46)?.try_into().ok()?)), payload.get(46..)?),
        _ => return None,
    };
    Some(Record::Signed { slot: Slot { height, round, step }, value, message: rest.to_vec() })
}

/// Reads records until the end or the first bad one; returns them and the length
/// of the good prefix.
fn parse(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some((record, len)) = parse_one(&bytes[at..]) {
        records.push(record);
        at += len;
    }
    (records, at)
}

fn parse_one(bytes: &[u8]) -> Option<(Record, usize)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if len > MAX_RECORD {
        return None;
    }
    let kind = *bytes.get(4)?;
    let payload = bytes.get(5..5 + len)?;
    let check = bytes.get(5 + len..5 + len + 8)?;
    if check != checksum(kind, payload) {
        return None;
    }
    let record = match kind {
        KIND_HEIGHT => Record::Height(u64::from_le_bytes(payload.try_into().ok()?)),
        KIND_INPUT => Record::Input(payload.to_vec()),
        KIND_SIGNED => decode_signed(payload)?,
        _ => return None,
    };
    Some((record, 5 + len + 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(round: u32, step: Step) -> Slot {
        Slot { height: 5, round, step }
    }

    fn open(path: &Path) -> (Wal, Vec<Record>) {
        Wal::open(path).unwrap()
    }

    /// Proves a validator that signed a value at a slot is refused a different
    /// value there after reopening the log (as after kill -9), and may repeat the
    /// same one.
    #[test]
    fn a_signed_slot_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = open(&path);
        wal.start_height(5).unwrap();
        wal.sign(slot(0, Step::Prevote), Some(Hash([1; 32])), b"vote").unwrap();
        drop(wal);
        let (mut wal, records) = open(&path);
        assert_eq!(wal.height(), 5);
        assert!(records.contains(&Record::Signed {
            slot: slot(0, Step::Prevote),
            value: Some(Hash([1; 32])),
            message: b"vote".to_vec()
        }));
        let refused = wal.sign(slot(0, Step::Prevote), None, b"nil").unwrap_err();
        assert!(refused.downcast_ref::<DoubleSign>().is_some(), "{refused}");
        wal.sign(slot(0, Step::Prevote), Some(Hash([1; 32])), b"vote").unwrap();
        wal.sign(slot(0, Step::Precommit), None, b"other step").unwrap();
        wal.sign(slot(1, Step::Prevote), None, b"other round").unwrap();
    }

    /// Proves inputs come back in order, a torn last record is cut off on open
    /// without losing earlier ones, and appends continue after the cut.
    #[test]
    fn a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = open(&path);
        wal.start_height(2).unwrap();
        wal.input(b"first").unwrap();
        wal.input(b"second").unwrap();
        drop(wal);
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 3).unwrap();
        let (mut wal, records) = open(&path);
        assert_eq!(records, vec![Record::Height(2), Record::Input(b"first".to_vec())]);
        wal.input(b"third").unwrap();
        drop(wal);
        let (_, records) = open(&path);
        assert_eq!(records.last(), Some(&Record::Input(b"third".to_vec())));
    }

    /// Proves a flipped byte ends the log at the damaged record.
    #[test]
    fn a_corrupt_record_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = open(&path);
        wal.start_height(1).unwrap();
        wal.input(b"kept").unwrap();
        wal.input(b"damaged").unwrap();
        drop(wal);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 10;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let (_, records) = open(&path);
        assert_eq!(records, vec![Record::Height(1), Record::Input(b"kept".to_vec())]);
    }

    /// Proves moving to the next height forgets the old height's inputs and
    /// signatures, refuses signing at the old height, and refuses going back.
    #[test]
    fn a_new_height_compacts_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = open(&path);
        wal.start_height(5).unwrap();
        wal.input(b"old").unwrap();
        wal.sign(slot(0, Step::Prevote), None, b"v").unwrap();
        wal.start_height(6).unwrap();
        assert!(wal.sign(slot(3, Step::Prevote), None, b"late").is_err());
        assert!(wal.start_height(5).is_err());
        drop(wal);
        let (wal, records) = open(&path);
        assert_eq!(records, vec![Record::Height(6)]);
        assert_eq!(wal.height(), 6);
    }
}
