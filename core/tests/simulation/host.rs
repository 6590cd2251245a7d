//! The simulated hosts: what each node's host does with its driver's effects and
//! with what arrives from the network, and the checks every run makes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::rc::Rc;

use starling_core::consensus::{
    CommitCertificate, Driver, Effect, Input, Proposal, SignedVote, Validator, ValidatorSet, Vote,
    VoteKind,
};
use starling_core::crypto::SequencerKey;
use starling_core::types::{Address, ChainId, Hash};

use super::network::{Event, Msg, Network};
use super::rng::Rng;
use super::{Config, Fault, Report, block, is_valid};

/// Messages of the next height a host keeps until it starts that height.
const FUTURE_KEPT: usize = 4096;
/// Heights a node sends at most in answer to one status message.
const COMMITS_PER_ANSWER: u64 = 8;

/// One node: its driver and what its host remembers.
pub(super) struct Node {
    pub key: Option<SequencerKey>,
    pub fault: Fault,
    pub driver: Driver,
    started_ms: u64,
    /// Messages accepted at the current height, re-sent by gossip.
    seen: Vec<Rc<Msg>>,
    /// Messages for the next height, with their senders.
    future: Vec<(usize, Rc<Msg>)>,
    commits: BTreeMap<u64, (Hash, CommitCertificate)>,
    /// What an honest host signed per (height, round, step): it never signs a
    /// second, different message for one step.
    signed: HashMap<(u64, u32, u8), Option<Hash>>,
}

/// The whole simulation.
pub(super) struct Sim<'a> {
    config: &'a Config,
    pub net: Network,
    pub nodes: Vec<Node>,
    pub set: ValidatorSet,
    pub chain: ChainId,
    by_key: HashMap<[u8; 32], usize>,
    /// The block honest nodes decided per height.
    agreed: BTreeMap<u64, Hash>,
    /// Heights whose first certificate went through `CommitCertificate::verify`.
    checked_heights: HashSet<u64>,
    /// Precommit signatures verified so far: (height, round, block, signer, signature).
    verified: HashSet<(u64, u32, Hash, u16, [u8; 64])>,
    heal_height: Option<u64>,
    /// Some node started a height (or the network healed) since the last look.
    progressed: bool,
    report: Report,
}

/// Runs `config` to its liveness target; an error names the broken property.
pub fn run(config: &Config) -> Result<Report, String> {
    let mut sim = Sim::new(config);
    sim.start()?;
    while let Some(event) = sim.net.next() {
        sim.handle(event)?;
        if std::mem::take(&mut sim.progressed) && sim.done() {
            sim.report.end_ms = sim.net.now;
            return Ok(sim.report);
        }
        if sim.net.now > config.heal_at_ms + config.liveness_bound_ms {
            return Err(format!(
                "liveness: heights {:?} at {} ms, {} ms after the heal; {}",
                sim.heights(),
                sim.net.now,
                config.liveness_bound_ms,
                sim.describe()
            ));
        }
    }
    Err("the event queue ran dry".into())
}

impl<'a> Sim<'a> {
    fn new(config: &'a Config) -> Self {
        assert_eq!(config.powers.len(), config.faults.len());
        let mut rng = Rng::new(config.seed);
        let chain = ChainId::new("starling-sim").unwrap();
        let keys: Vec<SequencerKey> =
            config.powers.iter().map(|_| SequencerKey::from_seed(&rng.bytes32())).collect();
        let validators = keys
            .iter()
            .zip(&config.powers)
            .map(|(k, &power)| Validator { key: k.public_key(), staker: Address([1; 32]), power })
            .collect();
        let set = ValidatorSet::new(validators).unwrap();
        let by_key = keys.iter().enumerate().map(|(i, k)| (k.public_key().0, i)).collect();
        let mut nodes: Vec<Node> = keys
            .into_iter()
            .zip(&config.faults)
            .map(|(k, &f)| Node::new(config, &chain, Some(k), f))
            .collect();
        nodes.extend((0..config.observers).map(|_| Node::new(config, &chain, None, Fault::Honest)));
        Self {
            config,
            net: Network::new(rng, config.links, config.partition.clone()),
            nodes,
            set,
            chain,
            by_key,
            agreed: BTreeMap::new(),
            checked_heights: HashSet::new(),
            verified: HashSet::new(),
            heal_height: None,
            progressed: false,
            report: Report::default(),
        }
    }

    fn start(&mut self) -> Result<(), String> {
        self.net.schedule(self.config.heal_at_ms, Event::Heal);
        for node in 0..self.nodes.len() {
            if self.nodes[node].fault == Fault::Silent {
                continue;
            }
            if let Some(every) = self.config.gossip_every_ms {
                let first = self.net.rng.between(1, every);
                self.net.schedule(first, Event::Gossip { node });
            }
            let effects = self.nodes[node].driver.start_height(1, self.set.clone());
            self.process(node, effects)?;
        }
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Deliver { from, to, msg } => {
                self.report.delivered += 1;
                let effects = self.deliver(from, to, &msg)?;
                self.process(to, effects)
            }
            Event::Timeout { node, timeout } => {
                let effects = self.nodes[node].driver.handle(Input::Timeout(timeout));
                self.process(node, effects)
            }
            Event::Gossip { node } => {
                self.gossip(node);
                Ok(())
            }
            Event::Heal => {
                self.net.heal();
                self.progressed = true;
                self.heal_height = Some(
                    self.honest().map(|i| self.nodes[i].driver.height() - 1).max().unwrap_or(0),
                );
                Ok(())
            }
        }
    }

    /// Carries out a driver's effects, and those they lead to.
    fn process(&mut self, node: usize, effects: Vec<Effect>) -> Result<(), String> {
        let mut work = VecDeque::from(effects);
        while let Some(effect) = work.pop_front() {
            let more = match effect {
                Effect::BuildProposal { height, round } => {
                    let valid = self.nodes[node].fault != Fault::InvalidBlocks;
                    let block_hash = block(height, round, node, valid, 0);
                    self.nodes[node].driver.handle(Input::ProposalBlock {
                        height,
                        round,
                        block_hash,
                    })
                }
                Effect::SignProposal(proposal) => self.sign_proposal(node, proposal)?,
                Effect::SignVote(vote) => self.sign_vote(node, vote)?,
                Effect::ScheduleTimeout { timeout, after_ms } => {
                    self.net.schedule(after_ms, Event::Timeout { node, timeout });
                    Vec::new()
                }
                Effect::Decide { height, block_hash, certificate, .. } => {
                    let latency = self.net.now - self.nodes[node].started_ms;
                    if self.is_honest(node) {
                        self.report.latencies_ms.push(latency);
                    }
                    self.decided(node, height, block_hash, certificate)?
                }
                Effect::Equivocation(first, second) => {
                    self.check_evidence(&first, &second)?;
                    Vec::new()
                }
            };
            work.extend(more);
        }
        Ok(())
    }

    /// An honest host refuses to sign two different messages for one step; the
    /// driver must never ask it to.
    fn record_signing(
        &mut self,
        node: usize,
        step: (u64, u32, u8),
        value: Option<Hash>,
    ) -> Result<(), String> {
        if self.nodes[node].fault != Fault::Honest {
            return Ok(());
        }
        match self.nodes[node].signed.insert(step, value) {
            Some(before) if before != value => Err(format!(
                "node {node} was asked to double-sign at {step:?}: {before:?} then {value:?}"
            )),
            _ => Ok(()),
        }
    }

    fn sign_proposal(&mut self, node: usize, proposal: Proposal) -> Result<Vec<Effect>, String> {
        let step = (proposal.height, proposal.round, 2);
        self.record_signing(node, step, Some(proposal.block_hash))?;
        let key = self.nodes[node].key.clone().expect("only validators sign");
        let signed = Msg::Proposal(proposal.clone().sign(&key));
        match self.nodes[node].fault {
            Fault::Equivocate => {
                let block_hash = block(proposal.height, proposal.round, node, true, 7);
                let other = Msg::Proposal(
                    Proposal { block_hash, valid_round: None, ..proposal }.sign(&key),
                );
                self.broadcast_split(node, signed.clone(), other);
            }
            _ => self.broadcast(node, signed.clone()),
        }
        self.deliver(node, node, &Rc::new(signed))
    }

    fn sign_vote(&mut self, node: usize, vote: Vote) -> Result<Vec<Effect>, String> {
        let step = (vote.height, vote.round, vote.kind as u8);
        self.record_signing(node, step, vote.value)?;
        let key = self.nodes[node].key.clone().expect("only validators sign");
        let signed = Msg::Vote(vote.clone().sign(&key));
        match self.nodes[node].fault {
            Fault::Equivocate => {
                let other = self.conflicting(node, &vote).sign(&key);
                self.broadcast_split(node, signed.clone(), Msg::Vote(other));
            }
            Fault::Garbage => {
                self.broadcast(node, signed.clone());
                self.send_garbage(node, &vote);
            }
            _ => self.broadcast(node, signed.clone()),
        }
        self.deliver(node, node, &Rc::new(signed))
    }

    pub(super) fn broadcast(&mut self, from: usize, msg: Msg) {
        let msg = Rc::new(msg);
        for to in 0..self.nodes.len() {
            self.net.send(from, to, &msg);
        }
    }

    /// Sends `a` to a random half of the network and `b` to the rest.
    fn broadcast_split(&mut self, from: usize, a: Msg, b: Msg) {
        let (a, b) = (Rc::new(a), Rc::new(b));
        for to in 0..self.nodes.len() {
            let msg = if self.net.rng.chance(500) { &a } else { &b };
            self.net.send(from, to, msg);
        }
    }

    /// A message arrives at `to` (from itself, for its own messages).
    fn deliver(&mut self, from: usize, to: usize, msg: &Rc<Msg>) -> Result<Vec<Effect>, String> {
        if self.nodes[to].fault == Fault::Silent {
            return Ok(Vec::new());
        }
        match &**msg {
            Msg::Proposal(p) => {
                let valid = is_valid(&p.proposal.block_hash);
                self.hand_in(
                    from,
                    to,
                    msg,
                    p.proposal.height,
                    Input::Proposal { proposal: p.clone(), valid },
                )
            }
            Msg::Vote(v) => self.hand_in(from, to, msg, v.vote.height, Input::Vote(v.clone())),
            Msg::Status { height } => {
                self.answer_status(to, from, *height);
                Ok(Vec::new())
            }
            Msg::Commit { height, block, certificate } => {
                if *height != self.nodes[to].driver.height() {
                    return Ok(Vec::new());
                }
                self.report.synced += 1;
                self.decided(to, *height, *block, certificate.clone())
            }
        }
    }

    /// Hands a proposal or vote to the driver, or keeps it for the next height.
    fn hand_in(
        &mut self,
        from: usize,
        to: usize,
        msg: &Rc<Msg>,
        height: u64,
        input: Input,
    ) -> Result<Vec<Effect>, String> {
        let node = &mut self.nodes[to];
        if height > node.driver.height() {
            if height == node.driver.height() + 1 && node.future.len() < FUTURE_KEPT {
                node.future.push((from, msg.clone()));
            }
            return Ok(Vec::new());
        }
        match node.driver.try_handle(input) {
            Ok(effects) => {
                node.seen.push(msg.clone());
                Ok(effects)
            }
            Err(reject) if reject.is_peer_fault() && self.nodes[from].fault == Fault::Honest => {
                Err(format!("node {to} refused a message of honest node {from}: {reject}"))
            }
            Err(_) => {
                self.report.rejected += 1;
                Ok(Vec::new())
            }
        }
    }

    /// A node behind us asked: send it the commits it lacks.
    fn answer_status(&mut self, node: usize, peer: usize, height: u64) {
        let commits: Vec<Msg> =
            (self.nodes[node].commits.range(height..height + COMMITS_PER_ANSWER))
                .map(|(&height, (block, certificate))| Msg::Commit {
                    height,
                    block: *block,
                    certificate: certificate.clone(),
                })
                .collect();
        for commit in commits {
            self.net.send(node, peer, &Rc::new(commit));
        }
    }

    /// Gossip: tell one random peer our height and re-send it everything we
    /// accepted at this height, so what was lost is eventually delivered.
    fn gossip(&mut self, node: usize) {
        let peer = self.net.rng.below(self.nodes.len() as u64) as usize;
        let height = self.nodes[node].driver.height();
        self.net.send(node, peer, &Rc::new(Msg::Status { height }));
        for msg in self.nodes[node].seen.clone() {
            self.net.send(node, peer, &msg);
        }
        let every = self.config.gossip_every_ms.expect("gossip is on");
        self.net.schedule(every, Event::Gossip { node });
    }

    /// A node decided `height` (by its driver, or from a peer's certificate):
    /// check the decision, then start the next height.
    fn decided(
        &mut self,
        node: usize,
        height: u64,
        block: Hash,
        certificate: CommitCertificate,
    ) -> Result<Vec<Effect>, String> {
        self.verify_certificate(height, &block, &certificate)?;
        if self.is_honest(node) {
            if !is_valid(&block) {
                return Err(format!("node {node} decided an invalid block at height {height}"));
            }
            let agreed = *self.agreed.entry(height).or_insert(block);
            if agreed != block {
                return Err(format!(
                    "safety: node {node} decided {block} at height {height}, others {agreed}"
                ));
            }
            self.report.decisions.push((self.net.now, node, height, block));
        }
        self.progressed = true;
        let set = self.set.clone();
        let now = self.net.now;
        let n = &mut self.nodes[node];
        n.commits.insert(height, (block, certificate));
        n.started_ms = now;
        n.seen.clear();
        let mut effects = n.driver.start_height(height + 1, set);
        for (from, msg) in std::mem::take(&mut n.future) {
            effects.extend(self.deliver(from, node, &msg)?);
        }
        Ok(effects)
    }

    /// Checks a decision's certificate: the real [`CommitCertificate::verify`]
    /// for the first one of each height, then, for the others (each node builds
    /// its own from the precommits it got), the same checks with every precommit
    /// signature verified once per run rather than once per node.
    fn verify_certificate(
        &mut self,
        height: u64,
        block: &Hash,
        certificate: &CommitCertificate,
    ) -> Result<(), String> {
        let fail = |e: &dyn std::fmt::Display| format!("certificate for height {height}: {e}");
        if self.config.check_signatures && self.checked_heights.insert(height) {
            certificate.verify(&self.chain, &self.set, height, block).map_err(|e| fail(&e))?;
        }
        let signers: Vec<usize> = certificate.signers().collect();
        let power: u64 =
            signers.iter().map(|&i| self.set.validators().get(i).map_or(0, |v| v.power)).sum();
        let sound = certificate.height == height
            && certificate.block_hash == *block
            && signers.windows(2).all(|w| w[0] < w[1])
            && signers.iter().all(|&i| i < self.set.len())
            && self.set.is_quorum(power);
        if !sound {
            return Err(fail(&"wrong block or height, unsorted, unknown signer or no quorum"));
        }
        if !self.config.check_signatures {
            return Ok(());
        }
        for s in &certificate.signatures {
            if !self.verified.insert((
                height,
                certificate.round,
                *block,
                s.validator,
                s.signature.0,
            )) {
                continue;
            }
            let vote = Vote {
                chain_id: self.chain.clone(),
                height,
                round: certificate.round,
                kind: VoteKind::Precommit,
                value: Some(*block),
                validator: self.set.validators()[usize::from(s.validator)].key,
            };
            vote.validator.verify(&vote.signing_digest().0, &s.signature).map_err(|e| fail(&e))?;
        }
        Ok(())
    }

    /// Evidence must be two conflicting votes, both signed, by a faulty validator.
    fn check_evidence(&mut self, first: &SignedVote, second: &SignedVote) -> Result<(), String> {
        self.report.equivocations_reported += 1;
        let accused = self.by_key[&first.vote.validator.0];
        let genuine = first.vote.conflicts_with(&second.vote)
            && (!self.config.check_signatures
                || (first.verify().is_ok() && second.verify().is_ok()));
        if !genuine || self.nodes[accused].fault == Fault::Honest {
            return Err(format!("bad evidence against node {accused}: {first:?} / {second:?}"));
        }
        Ok(())
    }

    /// Honest validators and observers: the nodes whose decisions must agree.
    fn is_honest(&self, node: usize) -> bool {
        self.nodes[node].fault == Fault::Honest
    }

    fn honest(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.is_honest(i))
    }

    /// Each node's fault and consensus state, for failure reports.
    fn describe(&self) -> String {
        let nodes: Vec<String> = (self.nodes.iter().enumerate())
            .map(|(i, n)| {
                let d = &n.driver;
                let power = self.config.powers.get(i).copied().unwrap_or(0);
                let proposer = d.proposer(d.height(), d.round()).map(|v| self.by_key[&v.key.0]);
                format!(
                    "#{i} {:?} power {power}: h{} r{} {:?} locked {:?} valid {:?} (round proposer #{proposer:?})",
                    n.fault,
                    d.height(),
                    d.round(),
                    d.step(),
                    d.locked().map(|l| (l.round, l.value.0[0], l.value.0[9])),
                    d.valid().map(|l| (l.round, l.value.0[0], l.value.0[9])),
                )
            })
            .collect();
        nodes.join("; ")
    }

    /// Height each node is at.
    fn heights(&self) -> Vec<u64> {
        self.nodes.iter().map(|n| n.driver.height()).collect()
    }

    /// Whether every honest node has decided the target height.
    fn done(&self) -> bool {
        let Some(heal_height) = self.heal_height else { return false };
        let target = self.config.min_heights.max(heal_height + self.config.heights_after_heal);
        self.honest().all(|i| self.nodes[i].driver.height() > target)
    }

    /// A different vote for the same step, for an equivocating validator.
    pub(super) fn conflicting(&mut self, node: usize, vote: &Vote) -> Vote {
        let value = match vote.value {
            Some(_) if self.net.rng.chance(500) => None,
            _ => Some(block(vote.height, vote.round, node, true, 9)),
        };
        Vote { value, ..vote.clone() }
    }
}

impl Node {
    fn new(config: &Config, chain: &ChainId, key: Option<SequencerKey>, fault: Fault) -> Self {
        let mut driver =
            Driver::new(chain.clone(), config.timeouts, key.as_ref().map(|k| k.public_key()));
        if !config.check_signatures {
            driver = driver.assume_signatures_verified();
        }
        Self {
            key,
            fault,
            driver,
            started_ms: 0,
            seen: Vec::new(),
            future: Vec::new(),
            commits: BTreeMap::new(),
            signed: HashMap::new(),
        }
    }
}
