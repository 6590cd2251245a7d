//! The chain rules across the stages: stakers joining under the sequencer, the
//! switch to proof of stake, and proof-of-stake blocks proposed by validators,
//! certified, rewarded, and checked from witnesses and on full state.
//!
//! Every block a [`Net`] commits is also verified from its witness alone
//! ([`verify_block`]) and applied by a follower ([`apply_block`]) that must reach
//! the same state, and the total supply (every balance, the registry's escrow
//! included) must move by exactly what the block minted and burned.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::*;
use crate::consensus::{CertificateError, CommitCertificate, SignedVote, Vote, VoteKind};
use crate::crypto::{SequencerKey, StarkSecretKey};
use crate::exec::TxError;
use crate::staking::{Authority, Mode, REGISTRY, StakingError, StakingParams};
use crate::state::{StateTree, Witness};
use crate::types::{Block, Call, Hash, Header, Transaction, TxBody, certificate_digest};

const USERS: usize = 6;
const FUNDS: u64 = 100_000;
const STAKE: u64 = 128;

fn params() -> StakingParams {
    StakingParams {
        epoch_length: 4,
        min_stake: 100,
        activation_stake: 3 * STAKE,
        min_validators: 3,
        max_validators: 10,
        exit_window_epochs: 4,
        block_reward: 1_000,
        proposer_bps: 2_000,
        max_commission_bps: 5_000,
        slash_bps: 1_000,
        // Blocks here are 1 s apart; the fallback test slows them down.
        target_block_ms: 1_000,
    }
}

/// A chain with a producer, a follower and the keys of every participant.
struct Net {
    chain_id: ChainId,
    sequencer: SequencerKey,
    users: Vec<StarkSecretKey>,
    /// User `i`'s consensus key, if it stakes.
    keys: Vec<SequencerKey>,
    state: StateTree,
    follower: StateTree,
    head: Block,
    /// The certificate of `head`, when it is a proof-of-stake block.
    head_commit: Option<CommitCertificate>,
    headers: Vec<Header>,
    /// Milliseconds between consecutive blocks' times.
    gap_ms: u64,
}

impl Net {
    fn new() -> Self {
        let sequencer = SequencerKey::from_seed(&[1; 32]);
        let users: Vec<StarkSecretKey> =
            (0..USERS).map(|i| StarkSecretKey::from_entropy(&[50 + i as u8; 32])).collect();
        let keys = (0..USERS).map(|i| SequencerKey::from_seed(&[100 + i as u8; 32])).collect();
        let genesis = Genesis {
            chain_id: ChainId::new("starling-test").unwrap(),
            sequencer: sequencer.public_key(),
            timestamp_ms: 1_000,
            allocations: users
                .iter()
                .map(|u| Allocation { address: u.public_key().address(), balance: FUNDS })
                .collect(),
            staking: params(),
        };
        let (block, state) = genesis.block().unwrap();
        Self {
            chain_id: genesis.chain_id,
            sequencer,
            users,
            keys,
            follower: state.clone(),
            state,
            headers: alloc::vec![block.header.clone()],
            head: block,
            head_commit: None,
            gap_ms: 1_000,
        }
    }

    /// Four stakers of [`STAKE`] each at block 1, and blocks up to the first
    /// proof-of-stake block (12, the first of epoch 3) and one more.
    fn activated() -> Self {
        let mut net = Self::new();
        let stakes = (0..4).map(|i| net.stake(i, STAKE, 0)).collect();
        net.step(stakes);
        net.run_to(13);
        assert_eq!(net.headers[11].validators, Hash::ZERO);
        assert_ne!(net.headers[12].validators, Hash::ZERO);
        net
    }

    fn address(&self, user: usize) -> Address {
        self.users[user].public_key().address()
    }

    fn balance(&self, user: usize) -> u64 {
        self.state.get(&self.address(user)).balance
    }

    /// `call` from `user` with its next nonce (plus `later` for a second
    /// transaction in one block) and a fee of 10.
    fn tx_at(&self, user: usize, later: u64, call: Call) -> Transaction {
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            sender_key: self.users[user].public_key(),
            nonce: self.state.get(&self.address(user)).nonce + later,
            fee: 10,
            call,
        };
        body.sign(&self.users[user])
    }

    fn tx(&self, user: usize, call: Call) -> Transaction {
        self.tx_at(user, 0, call)
    }

    fn stake(&self, user: usize, amount: u64, commission_bps: u16) -> Transaction {
        let consensus_key = self.keys[user].public_key();
        self.tx(user, Call::Stake { consensus_key, amount, commission_bps })
    }

    fn registry(&self) -> &crate::staking::StakingState {
        self.state.registry().unwrap()
    }

    /// The key that signs the next block: the sequencer, or the validators in
    /// turn by height.
    fn proposer(&self) -> &SequencerKey {
        let height = self.head.header.height + 1;
        match self.registry().authority_for(height).unwrap() {
            Authority::Sequencer(_) => &self.sequencer,
            Authority::Validators(set) => {
                let member = set.validators()[height as usize % set.len()].key;
                self.keys.iter().find(|k| k.public_key() == member).unwrap()
            }
        }
    }

    fn template(&self) -> BlockTemplate<'_> {
        let height = self.head.header.height + 1;
        let certified =
            matches!(self.registry().authority_for(height), Some(Authority::Validators(_)));
        BlockTemplate {
            parent: &self.head.header,
            timestamp_ms: self.head.header.timestamp_ms + self.gap_ms,
            key: self.proposer(),
            // Only a proof-of-stake block carries its parent's certificate.
            parent_commit: self.head_commit.clone().filter(|_| certified),
        }
    }

    /// Builds the next block on a copy of the state.
    fn propose(&self, txs: Vec<Transaction>) -> (BuiltBlock, StateTree) {
        let mut post = self.state.clone();
        let built = build_block(&mut post, self.template(), txs).unwrap();
        (built, post)
    }

    /// Checks `built` every way, then makes it the head, certified by every
    /// validator whose key this net holds.
    fn commit(&mut self, built: &BuiltBlock, post: StateTree) {
        let block = &built.block;
        let parent = self.head.header.clone();
        verify_block(block, &parent, &built.witness, &self.chain_id).unwrap();
        let supply = total_supply(&self.state);
        let applied = apply_block(block, &parent, &mut self.follower).unwrap();
        assert_eq!(self.follower.root(), post.root());
        assert_eq!(self.follower.registry(), post.registry());
        assert_eq!(applied.issuance, built.issuance);
        if !block.transactions.iter().any(|tx| matches!(tx.body.call, Call::Evidence { .. })) {
            let expected =
                supply + u128::from(built.issuance.minted) - u128::from(built.issuance.burned);
            assert_eq!(total_supply(&post), expected, "supply at block {}", block.header.height);
        }
        self.state = post;
        self.head = block.clone();
        self.headers.push(block.header.clone());
        self.head_commit = (block.header.validators != Hash::ZERO).then(|| self.certify(block, 0));
    }

    fn step(&mut self, txs: Vec<Transaction>) -> BuiltBlock {
        let (built, post) = self.propose(txs);
        self.commit(&built, post);
        built
    }

    fn run_to(&mut self, height: u64) {
        while self.head.header.height < height {
            self.step(Vec::new());
        }
    }

    /// A certificate for `block` by the validators of its set this net holds
    /// keys for, leaving out the first `absent` of them.
    fn certify(&self, block: &Block, absent: usize) -> CommitCertificate {
        let Some(Authority::Validators(set)) = self.registry().authority_for(block.header.height)
        else {
            panic!("block {} is not a proof-of-stake block", block.header.height);
        };
        let votes: Vec<SignedVote> = set
            .validators()
            .iter()
            .filter_map(|v| self.keys.iter().find(|k| k.public_key() == v.key))
            .skip(absent)
            .map(|key| {
                Vote {
                    chain_id: self.chain_id.clone(),
                    height: block.header.height,
                    round: 0,
                    kind: VoteKind::Precommit,
                    value: Some(block.hash()),
                    validator: key.public_key(),
                }
                .sign(key)
            })
            .collect();
        CommitCertificate::from_precommits(set, block.header.height, 0, block.hash(), &votes)
    }
}

/// Every balance, the registry's escrow included.
fn total_supply(state: &StateTree) -> u128 {
    state.accounts().map(|(_, a)| u128::from(a.balance)).sum()
}

fn rejected(built: &BuiltBlock) -> Vec<&TxError> {
    built.rejected.iter().map(|(_, e)| e).collect()
}

/// Proves proof of stake starts at the first epoch boundary whose (already
/// fixed) set meets `activation_stake` and `min_validators`, and not at an
/// earlier boundary whose set falls short, and that every header shows the
/// stage: zero `validators` before, the certifying set's hash after, and a
/// parent certificate from the second proof-of-stake block on.
#[test]
fn pos_activates_at_the_first_boundary_whose_set_qualifies() {
    let mut net = Net::new();
    let early = alloc::vec![net.stake(0, STAKE, 0), net.stake(1, STAKE, 0)];
    net.step(early);
    net.run_to(4);
    // Epoch 1: the third staker. Epoch 3's set (fixed at the end of epoch 0)
    // has two members; epoch 4's (fixed at the end of epoch 1) has three.
    let late = alloc::vec![net.stake(2, STAKE, 0)];
    net.step(late);
    net.run_to(11);
    assert_eq!(net.registry().validator_set(3).unwrap().len(), 2);
    assert_eq!(net.registry().validator_set(4).unwrap().len(), 3);
    assert_eq!(net.registry().mode_at(3), Some(Mode::Single));
    assert_eq!(net.registry().mode_at(4), Some(Mode::Pos));
    net.run_to(17);
    for h in 0..16 {
        assert_eq!(net.headers[h].validators, Hash::ZERO, "block {h} is the sequencer's");
        assert_eq!(net.headers[h].proposer, net.sequencer.public_key());
    }
    let set = net.registry().validator_set(4).unwrap().clone();
    assert_eq!(net.headers[16].validators, set.hash());
    assert!(set.get(&net.headers[16].proposer).is_some());
    assert_eq!(net.headers[16].parent_commit, Hash::ZERO, "its parent had no certificate");
    assert_ne!(net.headers[17].parent_commit, Hash::ZERO);
    assert_eq!(net.registry().mode_since().since_epoch, 4);
}

/// Proves the proposer's pool and the parent certificate's signers' pools are
/// paid (a validator that did not sign gets nothing), in proportion to power,
/// and that under proof of stake fees go to them instead of being burned.
#[test]
fn rewards_go_to_the_proposer_and_the_signers_by_power() {
    let mut net = Net::activated();
    let absent = net.certify(&net.head, 1);
    assert_eq!(absent.signatures.len(), 3);
    net.head_commit = Some(absent);
    let set = net.registry().validator_set(net.registry().epoch()).unwrap().clone();
    let rewards = |net: &Net| -> Vec<u64> {
        set.validators().iter().map(|v| net.registry().staker_rewards(&v.staker).unwrap()).collect()
    };
    let before = rewards(&net);
    let pay = net.tx(5, Call::Transfer { to: net.address(4), amount: 1 });
    let built = net.step(alloc::vec![pay]);
    assert_eq!(built.issuance.minted, 1_000);
    let gained: Vec<u64> = rewards(&net).iter().zip(&before).map(|(a, b)| a - b).collect();
    let proposer = set.index_of(&built.block.header.proposer).unwrap();
    let signers: Vec<usize> = built.block.parent_commit.as_ref().unwrap().signers().collect();
    assert_eq!(signers.len(), 3);
    // 1 010 (reward and fee): 20% to the proposer, 808 to three signers of
    // equal power, 269 each; the remainder to the proposer. Each pool's stake is
    // 128 tokens, so shares are exact up to 1 token of rounding.
    for (i, gain) in gained.iter().enumerate() {
        let expected = match (i == proposer, signers.contains(&i)) {
            (true, true) => 202 + 1 + 269,
            (true, false) => 202 + 1,
            (false, true) => 269,
            (false, false) => 0,
        };
        assert!(gain.abs_diff(expected) <= 1, "validator {i}: {gain}, expected {expected}");
    }
    assert!(built.issuance.burned <= 4, "only rounding dust is not paid");
}

/// Proves a block built in proof-of-stake mode validates on full state, from a
/// witness carrying the registry preimage, and by a follower; and that a
/// witness whose registry preimage is tampered with or missing is refused.
#[test]
fn pos_blocks_verify_from_witnesses_and_tampered_registries_are_refused() {
    let net = Net::activated();
    let pay = net.tx(5, Call::Transfer { to: net.address(4), amount: 7 });
    let (built, post) = net.propose(alloc::vec![pay]);
    let parent = &net.head.header;
    assert!(built.witness.registry().is_some());
    verify_block(&built.block, parent, &built.witness, &net.chain_id).unwrap();
    let mut replay = net.state.clone();
    validate_block(&built.block, parent, &mut replay).unwrap();
    assert_eq!(replay.root(), post.root());

    let tampered = crate::staking::testing::tampered(built.witness.registry().unwrap());
    for registry in [Some(tampered), None] {
        let forged = Witness::with_registry(built.witness.proofs().to_vec(), registry);
        let err = verify_block(&built.block, parent, &forged, &net.chain_id);
        assert!(
            matches!(err, Err(ChainError::State(crate::state::StateError::RegistryMismatch(_)))),
            "{err:?}"
        );
    }
}

/// Proves a proof-of-stake block is refused when signed by a key outside the
/// set, when its header names another set, when its parent certificate is
/// missing, short of a quorum or for another block, and when a certificate comes
/// where none belongs; and that `build_block` refuses the same.
#[test]
fn bad_pos_blocks_are_refused() {
    let net = Net::activated();
    let (built, _) = net.propose(Vec::new());
    let parent = &net.head.header;
    let good = &built.block;
    let key = net.proposer();
    let check = |block: &Block| validate_block(block, parent, &mut net.state.clone());
    let reseal = |header: Header, cert: Option<CommitCertificate>, key: &SequencerKey| {
        let header = Header { parent_commit: certificate_digest(cert.as_ref()), ..header };
        header.seal_with(key, good.transactions.clone(), cert)
    };
    check(good).unwrap();

    let outsider = Header { proposer: net.sequencer.public_key(), ..good.header.clone() };
    let err = check(&reseal(outsider, good.parent_commit.clone(), &net.sequencer));
    assert_eq!(err, Err(ChainError::NotAValidator(net.sequencer.public_key())));

    let single = Header { validators: Hash::ZERO, ..good.header.clone() };
    let err = check(&reseal(single, good.parent_commit.clone(), key));
    assert!(matches!(err, Err(ChainError::WrongValidators { .. })), "{err:?}");

    let header = good.header.clone();
    assert_eq!(check(&reseal(header.clone(), None, key)), Err(ChainError::MissingParentCommit));

    let short = net.certify(&net.head, 2);
    let err = check(&reseal(header.clone(), Some(short), key));
    assert!(matches!(err, Err(ChainError::ParentCommit(CertificateError::NoQuorum { .. }))));

    let stale = net.certify(&net.head, 0);
    let stale = CommitCertificate { height: parent.height - 1, ..stale };
    let err = check(&reseal(header, Some(stale), key));
    assert!(matches!(err, Err(ChainError::ParentCommit(CertificateError::WrongHeight { .. }))));

    let mut template = net.template();
    template.key = &net.sequencer;
    let err = build_block(&mut net.state.clone(), template, Vec::new()).err();
    assert_eq!(err, Some(ChainError::NotAValidator(net.sequencer.public_key())));
    let mut template = net.template();
    template.parent_commit = None;
    let err = build_block(&mut net.state.clone(), template, Vec::new()).err();
    assert_eq!(err, Some(ChainError::MissingParentCommit));
}

/// Proves the single stage refuses a block naming a validator set or carrying a
/// certificate.
#[test]
fn single_stage_blocks_carry_no_validators_or_certificate() {
    let net = Net::new();
    let (built, _) = net.propose(Vec::new());
    let parent = &net.head.header;
    let check = |block: &Block| validate_block(block, parent, &mut net.state.clone());
    let claimed = Header { validators: Hash([3; 32]), ..built.block.header.clone() };
    let err = check(&claimed.seal(&net.sequencer, Vec::new()));
    assert!(matches!(err, Err(ChainError::WrongValidators { .. })), "{err:?}");
    let cert = CommitCertificate {
        height: 0,
        round: 0,
        block_hash: parent.hash(),
        signatures: Vec::new(),
    };
    let header =
        Header { parent_commit: certificate_digest(Some(&cert)), ..built.block.header.clone() };
    let err = check(&header.seal_with(&net.sequencer, Vec::new(), Some(cert)));
    assert_eq!(err, Err(ChainError::UnexpectedParentCommit));
}

/// Proves a delegation raises its pool's power in the next set fixed, and the
/// delegator earns the pool's rewards less the staker's commission, which it
/// can claim to its balance.
#[test]
fn delegation_raises_power_and_earns_rewards_after_commission() {
    let mut net = Net::new();
    let mut stakes: Vec<Transaction> = (0..3).map(|i| net.stake(i, STAKE, 0)).collect();
    stakes.push(net.stake(3, STAKE, 5_000));
    net.step(stakes);
    let pool = net.address(3);
    let delegate = net.tx(5, Call::Delegate { staker: pool, amount: 3 * STAKE });
    net.step(alloc::vec![delegate]);
    net.run_to(3);
    let power = |net: &Net, epoch| {
        net.registry().validator_set(epoch).unwrap().get(&net.keys[3].public_key()).unwrap().power
    };
    assert_eq!(power(&net, 3), 4 * STAKE, "fixed at the end of epoch 0, with the delegation");
    net.run_to(20);
    let staker = net.registry().staker_rewards(&pool).unwrap();
    let view = net.registry().delegation(&net.address(5), &pool).unwrap();
    assert!(view.pending_rewards > 0);
    // The staker keeps half as commission and a quarter of the rest: it earns
    // 5/8 of the pool, the delegator 3/8, up to the rounding of the commission
    // (under one token per payment; a pool is paid at most twice per block, in
    // the 9 proof-of-stake blocks 12 to 20).
    let pool_total = staker + view.pending_rewards;
    let payments = 2 * 9;
    assert!((view.pending_rewards * 8).abs_diff(pool_total * 3) <= 8 * payments, "{view:?}");

    let before = net.balance(5);
    let claim = net.tx(5, Call::ClaimRewards);
    net.step(alloc::vec![claim]);
    assert_eq!(net.balance(5), before - 10 + view.pending_rewards);
}

/// Proves unstaking before the exit window has passed is refused (the block
/// leaves it out), and after it returns the stake and its rewards; and that
/// evidence of double-signing slashes a staker once, burning from the escrow,
/// with the replay refused and the staker out of the next set fixed.
#[test]
fn unstake_waits_for_the_window_and_evidence_slashes_once() {
    let mut net = Net::activated();
    let intent = net.tx(3, Call::UnstakeIntent);
    net.step(alloc::vec![intent]);
    let intent_epoch = net.registry().epoch();
    let early = net.tx(3, Call::Unstake);
    let built = net.step(alloc::vec![early]);
    assert!(matches!(
        rejected(&built)[..],
        [TxError::Staking(StakingError::ExitWindowOpen { .. })]
    ));

    // Validator 1 signs two different prevotes at one step.
    let key = &net.keys[1];
    let vote = |value: u8| {
        Vote {
            chain_id: net.chain_id.clone(),
            height: net.head.header.height,
            round: 0,
            kind: VoteKind::Prevote,
            value: Some(Hash([value; 32])),
            validator: key.public_key(),
        }
        .sign(key)
    };
    let (a, b) = (vote(1), vote(2));
    let escrow = net.state.get(&REGISTRY).balance;
    let stake = net.registry().staker(&net.address(1)).unwrap().stake;
    let evidence = net.tx(4, Call::Evidence { a: Box::new(a.clone()), b: Box::new(b.clone()) });
    let built = net.step(alloc::vec![evidence]);
    assert!(built.rejected.is_empty());
    let slashed = stake / 10;
    let minted = built.issuance.minted - built.issuance.burned;
    assert_eq!(net.state.get(&REGISTRY).balance, escrow + minted + 10 - slashed);
    assert!(net.registry().staker(&net.address(1)).unwrap().slashed);
    let replay = net.tx(5, Call::Evidence { a: Box::new(b), b: Box::new(a) });
    let built = net.step(alloc::vec![replay]);
    assert!(matches!(rejected(&built)[..], [TxError::Staking(StakingError::Evidence(_))]));
    let next_boundary = (net.registry().epoch() + 1) * params().epoch_length - 1;
    net.run_to(next_boundary);
    let furthest = net.registry().validator_set(net.registry().epoch() + 2).unwrap();
    assert!(furthest.get(&net.keys[1].public_key()).is_none(), "slashed: out of new sets");
    assert!(furthest.get(&net.keys[3].public_key()).is_none(), "exiting: out of new sets");

    let window_end = (intent_epoch + params().exit_window_epochs) * params().epoch_length;
    net.run_to(window_end - 1);
    let rewards = net.registry().staker_rewards(&net.address(3)).unwrap();
    let before = net.balance(3);
    let unstake = net.tx(3, Call::Unstake);
    let built = net.step(alloc::vec![unstake]);
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    assert_eq!(net.balance(3), before - 10 + STAKE + rewards);
    assert!(net.registry().staker(&net.address(3)).is_none());
}

/// Proves the liveness fallback: a proof-of-stake epoch whose blocks came three
/// times slower than the target (under two thirds of the expected blocks) hands
/// the next epoch to the genesis sequencer, whose blocks carry no validators hash
/// and no certificate, and the epoch after returns to proof of stake by itself.
#[test]
fn a_slow_epoch_falls_back_to_the_sequencer_for_one_epoch() {
    let mut net = Net::activated();
    net.run_to(16); // the first block of epoch 4, at the target pace
    net.gap_ms = 3_000;
    net.run_to(19); // the rest of epoch 4: 10 s for 4 blocks, where 4 s were due
    assert_eq!(net.registry().mode(), crate::staking::Mode::Single, "epoch 5 falls back");
    net.gap_ms = 1_000;
    net.run_to(24);
    for height in 20..24 {
        let header = &net.headers[height];
        assert_eq!(header.validators, Hash::ZERO, "block {height} is the sequencer's");
        assert_eq!(header.proposer, net.sequencer.public_key());
        assert_eq!(header.parent_commit, Hash::ZERO);
    }
    assert_ne!(net.headers[24].validators, Hash::ZERO, "epoch 6 is proof of stake again");
    assert_eq!(net.registry().mode(), crate::staking::Mode::Pos);
}

/// Proves an epoch a little slower than 1.5 times the target (5.5 s for 4
/// blocks of 1 s) does not fall back: the threshold is under two thirds of the
/// expected blocks.
#[test]
fn an_epoch_at_two_thirds_of_the_pace_stays_proof_of_stake() {
    let mut net = Net::activated();
    net.run_to(16);
    net.gap_ms = 1_500;
    net.run_to(19);
    assert_eq!(net.registry().mode(), crate::staking::Mode::Pos);
}
