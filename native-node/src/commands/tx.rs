//! `starling tx transfer|stake|increase-stake|unstake-intent|unstake|delegate|
//! undelegate-intent|undelegate|claim-rewards|evidence`: build the call, sign it
//! with an account keystore, submit it over RPC and, with `--wait`, wait for it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use starling_core::consensus::SignedVote;
use starling_core::encoding::{Decode, Message, Reader};
use starling_core::types::{Call, ChainId, Hash, TxBody};

use crate::cli::{TxArgs, TxCommand};
use crate::{client, keys};

/// How long `--wait` waits for inclusion.
const WAIT: Duration = Duration::from_secs(60);

pub fn run_tx(cmd: TxCommand) -> Result<()> {
    let (call, tx) = match cmd {
        TxCommand::Transfer { to, amount, tx } => (Call::Transfer { to, amount }, tx),
        TxCommand::Stake { consensus_key, consensus_pubkey, amount, commission_bps, tx } => {
            let consensus_key = match (consensus_pubkey, consensus_key) {
                (Some(key), _) => key,
                (None, Some(path)) => {
                    keys::unlock_sequencer(&path, tx.common.password_file.as_deref())
                        .context("--consensus-key")?
                        .public_key()
                }
                (None, None) => bail!("pass --consensus-key FILE or --consensus-pubkey HEX"),
            };
            (Call::Stake { consensus_key, amount, commission_bps }, tx)
        }
        TxCommand::IncreaseStake { amount, tx } => (Call::IncreaseStake { amount }, tx),
        TxCommand::UnstakeIntent { tx } => (Call::UnstakeIntent, tx),
        TxCommand::Unstake { tx } => (Call::Unstake, tx),
        TxCommand::Delegate { staker, amount, tx } => (Call::Delegate { staker, amount }, tx),
        TxCommand::UndelegateIntent { staker, amount, tx } => {
            (Call::UndelegateIntent { staker, amount }, tx)
        }
        TxCommand::Undelegate { staker, tx } => (Call::Undelegate { staker }, tx),
        TxCommand::ClaimRewards { tx } => (Call::ClaimRewards, tx),
        TxCommand::Evidence { vote_a, vote_b, tx } => {
            let a = parse_vote(&vote_a).context("--vote-a")?;
            let b = parse_vote(&vote_b).context("--vote-b")?;
            (Call::Evidence { a: Box::new(a), b: Box::new(b) }, tx)
        }
    };
    send(call, tx)
}

/// A signed vote from hex: its encoded message (with the version byte), or the
/// bare encoding a transaction carries.
pub fn parse_vote(text: &str) -> Result<SignedVote> {
    let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    if digits.len() > 2 * SignedVote::MAX_BYTES {
        bail!("a signed vote is at most {} bytes", SignedVote::MAX_BYTES);
    }
    let bytes = hex::decode(digits).context("a signed vote is hex")?;
    if let Ok(vote) = SignedVote::decode_message(&bytes) {
        return Ok(vote);
    }
    let mut reader = Reader::new(&bytes);
    let vote = SignedVote::decode_from(&mut reader)
        .and_then(|v| reader.finish().map(|()| v))
        .map_err(|e| anyhow::anyhow!("not an encoded signed vote: {e}"))?;
    Ok(vote)
}

/// Signs `call` from `tx.from`'s key, submits it and, with `--wait`, waits for
/// its block. Prints the transaction hash on stdout.
fn send(call: Call, tx: TxArgs) -> Result<()> {
    let TxArgs { from, fee, nonce, rpc, wait, common } = tx;
    let dir = common.keys_dir.unwrap_or_else(keys::default_keys_dir);
    let key = keys::unlock_account(&keys::resolve(&dir, &from)?, common.password_file.as_deref())?;
    let client = client::RpcClient::new(&rpc);
    let sender = key.public_key().address();
    let nonce = match nonce {
        Some(n) => n,
        None => client.nonce(&sender)?,
    };
    let chain_id = ChainId::new(&client.chain_id()?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let staking = !matches!(call, Call::Transfer { .. });
    let body = TxBody { chain_id, sender_key: key.public_key(), nonce, fee, call };
    let call = body.call.clone();
    let hash = client.submit(&body.sign(&key)).map_err(|e| refusal(e, &call))?;
    println!("{hash}");
    if wait {
        let height = wait_for_inclusion(&client, &hash, staking)?;
        eprintln!("included in block {height}");
        if let Some(note) = when_it_counts(&client, &call, height) {
            eprintln!("{note}");
        }
    }
    Ok(())
}

/// Adds what to do about a refusal, for the rules a user most often meets.
fn refusal(error: anyhow::Error, call: &Call) -> anyhow::Error {
    let text = error.to_string();
    let hint = match call {
        Call::Stake { .. } if text.contains("below the minimum") => {
            Some("bond at least the minimum stake (`min_stake` in starling_getValidators params)")
        }
        Call::Stake { .. } if text.contains("commission") => {
            Some("lower --commission-bps to the genesis `max_commission_bps` or less")
        }
        Call::Unstake | Call::Undelegate { .. } if text.contains("exit window") => Some(
            "wait for the exit window to pass (see starling_getStaker / starling_getDelegation)",
        ),
        _ => None,
    };
    match hint {
        Some(hint) => error.context(format!("refused: {hint}")),
        None => error,
    }
}

/// Polls until `hash` is in a block; a transaction the node no longer knows was
/// dropped (it stopped applying to the latest state, or was replaced).
fn wait_for_inclusion(client: &client::RpcClient, hash: &Hash, staking: bool) -> Result<u64> {
    let deadline = Instant::now() + WAIT;
    loop {
        match client.included_in(hash) {
            Ok(Some(height)) => return Ok(height),
            Ok(None) => {}
            Err(e) if client::error_code(&e) == Some(29) => {
                let why = if staking {
                    "it broke a staking rule against the state it met (another transaction \
                     changed the registry first); check starling_getStaker"
                } else {
                    "it no longer applied (replaced, or the balance was spent first)"
                };
                bail!("the node dropped transaction {hash}: {why}");
            }
            Err(e) => return Err(e),
        }
        if Instant::now() > deadline {
            bail!("not included within {} s (it is still pending)", WAIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// When an included staking call takes effect, from the chain's epoch length
/// and exit window; `None` when the node does not say.
fn when_it_counts(client: &client::RpcClient, call: &Call, height: u64) -> Option<String> {
    let timed = matches!(
        call,
        Call::Stake { .. }
            | Call::IncreaseStake { .. }
            | Call::Delegate { .. }
            | Call::UnstakeIntent
            | Call::UndelegateIntent { .. }
    );
    if !timed {
        return None;
    }
    let answer = client.validators().ok()?;
    let params = &answer["params"];
    let epoch_length = params["epoch_length"].as_u64().filter(|l| *l > 0)?;
    let window = params["exit_window_epochs"].as_u64()?;
    let epoch = height / epoch_length;
    let first_block = |e: u64| e.saturating_mul(epoch_length);
    Some(match call {
        Call::Stake { .. } | Call::IncreaseStake { .. } | Call::Delegate { .. } => format!(
            "epoch {epoch}: it counts in validator sets from epoch {} (block {})",
            epoch + 3,
            first_block(epoch + 3)
        ),
        Call::UnstakeIntent => format!(
            "epoch {epoch}: out of the sets from epoch {}; `unstake` from epoch {} (block {})",
            epoch + 3,
            epoch + window,
            first_block(epoch + window)
        ),
        Call::UndelegateIntent { .. } => format!(
            "epoch {epoch}: `undelegate` from epoch {} (block {})",
            epoch + window,
            first_block(epoch + window)
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_core::consensus::{Vote, VoteKind};
    use starling_core::crypto::SequencerKey;
    use starling_core::encoding::Encode;

    /// Proves `--vote-a`/`--vote-b` take a vote's message encoding or its bare
    /// encoding, and refuse anything else.
    #[test]
    fn votes_parse_from_either_encoding() {
        let key = SequencerKey::from_seed(&[3; 32]);
        let vote = Vote {
            chain_id: ChainId::new("starling-test").unwrap(),
            height: 4,
            round: 0,
            kind: VoteKind::Prevote,
            value: None,
            validator: key.public_key(),
        }
        .sign(&key);
        let message = hex::encode(vote.encode_message());
        assert_eq!(parse_vote(&format!("0x{message}")).unwrap(), vote);
        assert_eq!(parse_vote(&hex::encode(vote.to_bytes())).unwrap(), vote);
        assert!(parse_vote("0x0102").is_err());
        assert!(parse_vote("zz").is_err());
    }
}
