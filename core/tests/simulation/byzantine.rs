//! Junk a [`Fault::Garbage`](super::Fault::Garbage) validator sends besides its
//! votes: every kind of message an honest driver must refuse or survive.

use std::rc::Rc;

use starling_core::consensus::{Proposal, Vote, VoteKind};
use starling_core::crypto::SequencerKey;
use starling_core::types::{ChainId, Hash};

use super::host::Sim;
use super::network::Msg;

impl Sim<'_> {
    /// Sends one piece of junk derived from `vote` to a random peer.
    pub(super) fn send_garbage(&mut self, node: usize, vote: &Vote) {
        let key = self.nodes[node].key.clone().expect("garbage comes from a validator");
        let rng = &mut self.net.rng;
        let junk = match rng.below(7) {
            // A bad signature.
            0 => {
                let mut signed = vote.clone().sign(&key);
                signed.signature.0[rng.below(64) as usize] ^= 1 << rng.below(8);
                Msg::Vote(signed)
            }
            // Another chain.
            1 => Msg::Vote(
                Vote { chain_id: ChainId::new("elsewhere").unwrap(), ..vote.clone() }.sign(&key),
            ),
            // Another height, near this one.
            2 => {
                let height = (vote.height + rng.between(1, 5)).saturating_sub(3).max(1);
                Msg::Vote(Vote { height, ..vote.clone() }.sign(&key))
            }
            // A validly signed vote for a random round, kind and value: real
            // votes of a faulty validator, often double-signing.
            3 => {
                let round =
                    if rng.chance(500) { rng.below(6) as u32 } else { rng.below(100_000) as u32 };
                let kind = if rng.chance(500) { VoteKind::Prevote } else { VoteKind::Precommit };
                let value = rng.chance(700).then(|| Hash(rng.bytes32()));
                Msg::Vote(Vote { round, kind, value, ..vote.clone() }.sign(&key))
            }
            // A stranger's vote.
            4 => {
                let stranger = SequencerKey::from_seed(&rng.bytes32());
                Msg::Vote(Vote { validator: stranger.public_key(), ..vote.clone() }.sign(&stranger))
            }
            // A proposal out of turn (or, in turn, a second one), with a random
            // valid round that may not be below its round.
            5 => {
                let proposal = Proposal {
                    chain_id: vote.chain_id.clone(),
                    height: vote.height,
                    round: vote.round,
                    block_hash: Hash(rng.bytes32()),
                    valid_round: rng
                        .chance(500)
                        .then(|| rng.below(u64::from(vote.round) + 2) as u32),
                    proposer: key.public_key(),
                };
                Msg::Proposal(proposal.sign(&key))
            }
            // The round's proposer's proposal, forged: signed with our key.
            _ => {
                let proposer =
                    starling_core::consensus::proposer(&self.set, vote.height, vote.round).key;
                let proposal = Proposal {
                    chain_id: vote.chain_id.clone(),
                    height: vote.height,
                    round: vote.round,
                    block_hash: Hash(rng.bytes32()),
                    valid_round: None,
                    proposer,
                };
                let signature = key.sign(&proposal.signing_digest().0);
                Msg::Proposal(starling_core::consensus::SignedProposal { proposal, signature })
            }
        };
        let peer = rng.below(self.nodes.len() as u64) as usize;
        self.net.send(node, peer, &Rc::new(junk));
    }
}
