//! Following the chain from the page: which blocks to fetch and what each one's
//! verdict is. Pure logic (no I/O, no clock), so it is tested natively on real
//! blocks; the async loop in `app` feeds it RPC results.
//!
//! Trust model: the page trusts only the chain identity from the first status it
//! sees (chain id, genesis hash, sequencer key). Genesis is accepted by its hash.
//! Every later block is verified in wasm against its parent's header: the parent's
//! header is authenticated by the child itself, whose signed header commits to the
//! parent's hash, so a parent fetched just for that purpose needs no separate check.

use std::collections::{BTreeMap, VecDeque};

use starling_core::types::{Block, Header};
use starling_wasm::{
    BlockSummary, ChainVerifier, check_genesis, decode_block_hex, decode_witness_hex,
};

use crate::rpc::{BlockResponse, Status};

/// How many of the most recent blocks the page lists.
pub const WINDOW: u64 = 20;

/// The outcome of checking one block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Signature, linkage, transactions and state root all checked in the browser.
    Verified,
    /// The genesis block, accepted because it hashes to the chain's genesis hash.
    Genesis,
    /// Failed a check; the string says which. Rejected blocks stay on the page.
    Rejected(String),
}

impl Verdict {
    /// The value of the row's `data-verdict` attribute.
    pub fn attr(&self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Genesis => "genesis",
            Verdict::Rejected(_) => "rejected",
        }
    }
}

/// One listed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRow {
    pub height: u64,
    /// The hash computed from the decoded header (the node's claim if it did not decode).
    pub hash: String,
    /// `None` when the block did not even decode.
    pub summary: Option<BlockSummary>,
    pub verdict: Verdict,
}

/// The chain the page follows, fixed by the first status that named it.
struct Identity {
    chain_id: String,
    genesis_hash: String,
    sequencer: String,
    verifier: ChainVerifier,
}

/// The page's view of the chain: recent rows and the headers needed to check the
/// next blocks.
#[derive(Default)]
pub struct Tracker {
    identity: Option<Identity>,
    /// Newest first, at most [`WINDOW`].
    rows: VecDeque<BlockRow>,
    /// Headers of accepted blocks, the parents of the blocks still to come.
    accepted: BTreeMap<u64, Header>,
    /// The lowest height not yet checked.
    next: u64,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the node's latest status and returns the heights to fetch, oldest
    /// first. A status that names a different chain, or a head below what was
    /// already seen (the node was restarted on a fresh data dir), starts over.
    pub fn on_status(&mut self, status: &Status) -> Result<Vec<u64>, String> {
        let same_chain = self.identity.as_ref().is_some_and(|id| {
            id.chain_id == status.chain_id
                && id.genesis_hash == status.genesis_hash
                && id.sequencer == status.sequencer
        });
        if !same_chain || status.height + 1 < self.next {
            *self = Self::new();
            let verifier = ChainVerifier::new(&status.chain_id, &status.sequencer)
                .map_err(|e| format!("the node's status is unusable: {e}"))?;
            self.identity = Some(Identity {
                chain_id: status.chain_id.clone(),
                genesis_hash: status.genesis_hash.clone(),
                sequencer: status.sequencer.clone(),
                verifier,
            });
        }
        let oldest_listed = (status.height + 1).saturating_sub(WINDOW);
        Ok((self.next.max(oldest_listed)..=status.height).collect())
    }

    /// The parent height to fetch before `height` can be checked, if its header is
    /// not already held.
    pub fn parent_needed(&self, height: u64) -> Option<u64> {
        let parent = height.checked_sub(1)?;
        (!self.accepted.contains_key(&parent)).then_some(parent)
    }

    /// Checks the block the node returned for `height` (with its parent, when
    /// [`Self::parent_needed`] asked for one) and lists it. Never fails: whatever is
    /// wrong becomes the row's rejection reason.
    pub fn ingest(
        &mut self,
        height: u64,
        response: &BlockResponse,
        parent: Option<&BlockResponse>,
    ) -> BlockRow {
        let (summary, header, verdict) = match decode_block_hex(&response.block) {
            Err(reason) => (None, None, Verdict::Rejected(reason)),
            Ok(block) => {
                let verdict = match self.check(height, &block, response, parent) {
                    Ok(v) => v,
                    Err(reason) => Verdict::Rejected(reason),
                };
                (Some(BlockSummary::of(&block)), Some(block.header), verdict)
            }
        };
        if let (Some(header), Verdict::Verified | Verdict::Genesis) = (header, &verdict) {
            self.accepted.insert(height, header);
            // Keep only what the next blocks can need.
            self.accepted = self.accepted.split_off(&height.saturating_sub(WINDOW));
        }
        let hash = summary.as_ref().map_or_else(|| response.hash.clone(), |s| s.hash.clone());
        let row = BlockRow { height, hash, summary, verdict };
        self.next = self.next.max(height + 1);

        let at = self.rows.iter().position(|r| r.height <= height).unwrap_or(self.rows.len());
        if self.rows.get(at).is_some_and(|r| r.height == height) {
            self.rows[at] = row.clone();
        } else {
            self.rows.insert(at, row.clone());
        }
        self.rows.truncate(WINDOW as usize);
        row
    }

    fn check(
        &self,
        height: u64,
        block: &Block,
        response: &BlockResponse,
        parent: Option<&BlockResponse>,
    ) -> Result<Verdict, String> {
        let identity = self.identity.as_ref().ok_or("no chain status yet")?;
        if block.header.height != height {
            return Err(format!(
                "asked for block {height}, the node sent block {}",
                block.header.height
            ));
        }
        if height == 0 {
            check_genesis(block, &identity.genesis_hash)?;
            return Ok(Verdict::Genesis);
        }
        let fetched_parent;
        let parent_header = match (self.accepted.get(&(height - 1)), parent) {
            (Some(header), _) => header,
            (None, Some(p)) => {
                fetched_parent =
                    decode_block_hex(&p.block).map_err(|e| format!("parent {e}"))?.header;
                &fetched_parent
            }
            (None, None) => return Err(format!("parent block {} is not available", height - 1)),
        };
        let witness_hex = response
            .witness
            .as_deref()
            .ok_or_else(|| format!("the node sent no witness for block {height}"))?;
        let witness = decode_witness_hex(witness_hex)?;
        identity.verifier.verify(block, parent_header, &witness)?;
        Ok(Verdict::Verified)
    }

    /// The listed blocks, newest first.
    pub fn rows(&self) -> Vec<BlockRow> {
        self.rows.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use starling_wasm::test_chain::{CHAIN, TestChain, hex_of};

    use super::*;

    fn status(chain: &TestChain, height: u64) -> Status {
        Status {
            chain_id: CHAIN.into(),
            genesis_hash: chain.genesis.hash().to_string(),
            height,
            head_hash: chain.block(height).hash().to_string(),
            state_root: chain.block(height).header.state_root.to_string(),
            mode: "single".into(),
            peers: 0,
            sequencer: chain.sequencer_hex(),
        }
    }

    /// What `starling_getBlock` returns for `height`.
    fn response(chain: &TestChain, height: u64) -> BlockResponse {
        BlockResponse {
            height,
            hash: chain.block(height).hash().to_string(),
            block: hex_of(chain.block(height)),
            witness: chain.witness(height).map(hex_of),
        }
    }

    /// Does what the page's poll loop does with one status.
    fn poll(tracker: &mut Tracker, chain: &TestChain, height: u64) -> Vec<u64> {
        let heights = tracker.on_status(&status(chain, height)).unwrap();
        for &h in &heights {
            let parent = tracker.parent_needed(h).map(|p| response(chain, p));
            tracker.ingest(h, &response(chain, h), parent.as_ref());
        }
        heights
    }

    fn verdicts(tracker: &Tracker) -> Vec<(u64, &'static str)> {
        tracker.rows().iter().map(|r| (r.height, r.verdict.attr())).collect()
    }

    #[test]
    fn follows_a_growing_chain_fetching_each_block_once() {
        let chain = TestChain::build(5, 7);
        let mut tracker = Tracker::new();
        assert_eq!(poll(&mut tracker, &chain, 3), vec![0, 1, 2, 3]);
        assert_eq!(
            verdicts(&tracker),
            vec![(3, "verified"), (2, "verified"), (1, "verified"), (0, "genesis")]
        );
        assert_eq!(poll(&mut tracker, &chain, 3), Vec::<u64>::new());
        assert_eq!(poll(&mut tracker, &chain, 5), vec![4, 5]);
        assert_eq!(tracker.rows()[0].summary.as_ref().unwrap().transactions.len(), 1);
    }

    #[test]
    fn joins_a_long_chain_with_only_the_recent_window_and_one_parent() {
        let chain = TestChain::build(30, 7);
        let mut tracker = Tracker::new();
        let heights = tracker.on_status(&status(&chain, 30)).unwrap();
        assert_eq!(heights, (11..=30).collect::<Vec<_>>());
        assert_eq!(tracker.parent_needed(11), Some(10));
        let parent = response(&chain, 10);
        assert_eq!(
            tracker.ingest(11, &response(&chain, 11), Some(&parent)).verdict,
            Verdict::Verified
        );
        assert_eq!(tracker.parent_needed(12), None, "an accepted block is the next one's parent");
    }

    #[test]
    fn a_tampered_block_is_listed_as_rejected_and_does_not_poison_its_child() {
        let chain = TestChain::build(3, 7);
        let mut tracker = Tracker::new();
        poll(&mut tracker, &chain, 1);
        tracker.on_status(&status(&chain, 3)).unwrap();

        let mut forged = chain.block(2).clone();
        forged.signature.0[3] ^= 0x40;
        let tampered = BlockResponse { block: hex_of(&forged), ..response(&chain, 2) };
        let row = tracker.ingest(2, &tampered, None);
        assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("signature")), "{row:?}");
        assert!(row.summary.is_some(), "a rejected block still shows what it claims");

        // Block 3 needs the genuine block 2 as its parent, fetched afresh.
        assert_eq!(tracker.parent_needed(3), Some(2));
        let parent = response(&chain, 2);
        assert_eq!(
            tracker.ingest(3, &response(&chain, 3), Some(&parent)).verdict,
            Verdict::Verified
        );
        assert_eq!(
            verdicts(&tracker),
            vec![(3, "verified"), (2, "rejected"), (1, "verified"), (0, "genesis")]
        );
    }

    #[test]
    fn a_genesis_that_does_not_match_the_chain_is_rejected() {
        let chain = TestChain::build(1, 7);
        let other = TestChain::build(1, 9);
        let mut tracker = Tracker::new();
        tracker.on_status(&status(&chain, 1)).unwrap();
        let row = tracker.ingest(0, &response(&other, 0), None);
        assert!(matches!(&row.verdict, Verdict::Rejected(r) if r.contains("genesis")), "{row:?}");
    }

    #[test]
    fn missing_witness_undecodable_block_and_wrong_height_are_rejected_with_reasons() {
        let chain = TestChain::build(3, 7);
        let mut tracker = Tracker::new();
        poll(&mut tracker, &chain, 0);
        tracker.on_status(&status(&chain, 3)).unwrap();

        let no_witness = BlockResponse { witness: None, ..response(&chain, 1) };
        let row = tracker.ingest(1, &no_witness, None);
        assert_eq!(row.verdict, Verdict::Rejected("the node sent no witness for block 1".into()));

        let garbage = BlockResponse { block: "0x0102".into(), ..response(&chain, 2) };
        let row = tracker.ingest(2, &garbage, Some(&response(&chain, 1)));
        assert!(row.summary.is_none());
        assert_eq!(row.hash, chain.block(2).hash().to_string(), "falls back to the node's hash");
        assert!(
            matches!(&row.verdict, Verdict::Rejected(r) if r.starts_with("block does not decode"))
        );

        let row = tracker.ingest(3, &response(&chain, 2), Some(&response(&chain, 2)));
        assert!(
            matches!(&row.verdict, Verdict::Rejected(r) if r.contains("asked for block 3")),
            "{row:?}"
        );
    }

    #[test]
    fn a_node_on_a_new_chain_resets_the_list() {
        let first = TestChain::build(2, 7);
        let second = TestChain::build(1, 9);
        let mut tracker = Tracker::new();
        poll(&mut tracker, &first, 2);
        assert_eq!(poll(&mut tracker, &second, 1), vec![0, 1]);
        assert_eq!(verdicts(&tracker), vec![(1, "verified"), (0, "genesis")]);
    }

    #[test]
    fn the_list_keeps_only_the_most_recent_window() {
        let chain = TestChain::build(25, 7);
        let mut tracker = Tracker::new();
        for h in [5, 12, 25] {
            poll(&mut tracker, &chain, h);
        }
        let rows = tracker.rows();
        assert_eq!(rows.len(), WINDOW as usize);
        assert_eq!((rows[0].height, rows[19].height), (25, 6));
        assert!(rows.iter().all(|r| r.verdict == Verdict::Verified));
    }
}
