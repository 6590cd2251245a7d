//! How the driver's inputs are written into the write-ahead log, so a restarted
//! validator can feed them to a fresh driver in the same order.

use anyhow::{Result, bail};
use starling_core::consensus::{Input, SignedProposal, SignedVote, Timeout, TimeoutStep};
use starling_core::encoding::{Decode, Encode, Message, Reader};
use starling_core::types::Hash;

const PROPOSAL: u8 = 0;
const VOTE: u8 = 1;
const TIMEOUT: u8 = 2;
const PROPOSAL_BLOCK: u8 = 3;

/// The log encoding of `input`.
pub fn encode(input: &Input) -> Vec<u8> {
    let mut out = Vec::new();
    match input {
        Input::Proposal { proposal, valid } => {
            out.push(PROPOSAL);
            out.push(u8::from(*valid));
            out.extend_from_slice(&proposal.encode_message());
        }
        Input::Vote(vote) => {
            out.push(VOTE);
            out.extend_from_slice(&vote.encode_message());
        }
        Input::Timeout(t) => {
            out.push(TIMEOUT);
            t.height.encode_to(&mut out);
            t.round.encode_to(&mut out);
            out.push(match t.step {
                TimeoutStep::Propose => 0,
                TimeoutStep::Prevote => 1,
                TimeoutStep::Precommit => 2,
            });
        }
        Input::ProposalBlock { height, round, block_hash } => {
            out.push(PROPOSAL_BLOCK);
            height.encode_to(&mut out);
            round.encode_to(&mut out);
            block_hash.encode_to(&mut out);
        }
    }
    out
}

/// Reads back what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Input> {
    let Some((&tag, rest)) = bytes.split_first() else { bail!("empty log input") };
    Ok(match tag {
        PROPOSAL => {
            let Some((&valid, proposal)) = rest.split_first() else { bail!("short proposal") };
            Input::Proposal {
                proposal: SignedProposal::decode_message(proposal)?,
                valid: valid == 1,
            }
        }
        VOTE => Input::Vote(SignedVote::decode_message(rest)?),
        TIMEOUT => {
            let mut r = Reader::new(rest);
            let (height, round) = (r.u64()?, r.u32()?);
            let step = match r.u8()? {
                0 => TimeoutStep::Propose,
                1 => TimeoutStep::Prevote,
                2 => TimeoutStep::Precommit,
                s => bail!("unknown timeout step {s}"),
            };
            r.finish()?;
            Input::Timeout(Timeout { height, round, step })
        }
        PROPOSAL_BLOCK => {
            let mut r = Reader::new(rest);
            let (height, round) = (r.u64()?, r.u32()?);
            let block_hash = Hash::decode_from(&mut r)?;
            r.finish()?;
            Input::ProposalBlock { height, round, block_hash }
        }
        t => bail!("unknown log input tag {t}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_core::consensus::{Proposal, Vote, VoteKind};
    use starling_core::crypto::SequencerKey;
    use starling_core::types::ChainId;

    /// Proves every kind of input comes back from the log as it went in.
    #[test]
    fn inputs_round_trip() {
        let key = SequencerKey::from_seed(&[4; 32]);
        let chain_id = ChainId::new("starling-test").unwrap();
        let vote = Vote {
            chain_id: chain_id.clone(),
            height: 3,
            round: 1,
            kind: VoteKind::Prevote,
            value: None,
            validator: key.public_key(),
        };
        let proposal = Proposal {
            chain_id,
            height: 3,
            round: 1,
            block_hash: Hash([9; 32]),
            valid_round: Some(0),
            proposer: key.public_key(),
        };
        let inputs = [
            Input::Vote(vote.sign(&key)),
            Input::Proposal { proposal: proposal.sign(&key), valid: false },
            Input::Timeout(Timeout { height: 3, round: 2, step: TimeoutStep::Precommit }),
            Input::ProposalBlock { height: 3, round: 2, block_hash: Hash([1; 32]) },
        ];
        for input in inputs {
            assert_eq!(decode(&encode(&input)).unwrap(), input);
        }
        assert!(decode(&[9]).is_err());
        assert!(decode(&[]).is_err());
    }
}
