//! The JSON-RPC methods: Starknet's names where the meaning matches, `starling_*`
//! for the rest. Every parameter is validated before anything is read or changed.

use serde_json::{Value, json};
use starling_core::encoding::{Decode, Message, Reader};
use starling_core::mempool::MempoolError;
use starling_core::types::{Address, Block, Hash, Header, Transaction};

use super::protocol::{RpcError, param, required, required_as};
use starling_net::names::Topic;

use crate::chain_state::{ChainState, SubmitError};

mod proving;
mod staking;
use crate::node::Node;
use crate::storage::Store;

/// Every method this node serves (metrics label calls by these names only).
pub const METHODS: [&str; 20] = [
    "starknet_chainId",
    "starknet_blockNumber",
    "starknet_blockHashAndNumber",
    "starknet_getBlockWithTxHashes",
    "starknet_getBlockWithTxs",
    "starknet_getNonce",
    "starknet_getTransactionByHash",
    "starknet_getTransactionStatus",
    "starling_status",
    "starling_getBlock",
    "starling_getAccount",
    "starling_addTransaction",
    "starling_getValidators",
    "starling_getStaker",
    "starling_getDelegation",
    "starling_leaseJob",
    "starling_renewLease",
    "starling_releaseLease",
    "starling_getProvingInput",
    "starling_getProverRewards",
];

/// Runs one method. Reads of stored blocks and transactions go to the store
/// directly; the chain lock is taken only for the head, the state and the mempool,
/// and only as long as needed, so readers never hold up block production.
pub fn dispatch(node: &Node, method: &str, params: &Value) -> Result<Value, RpcError> {
    let chain = || node.chain.lock().expect("chain lock poisoned");
    match method {
        "starknet_chainId" => Ok(json!(node.chain_id.to_felt_hex())),
        "starknet_blockNumber" => Ok(json!(chain().head.height)),
        "starknet_blockHashAndNumber" => {
            let c = chain();
            Ok(json!({ "block_hash": c.head.hash(), "block_number": c.head.height }))
        }
        "starknet_getBlockWithTxHashes" => block_json(node, params, false),
        "starknet_getBlockWithTxs" => block_json(node, params, true),
        "starknet_getNonce" => nonce(&chain(), params),
        "starknet_getTransactionByHash" => {
            let (tx, _) = find_tx(node, &hash_param(params, 0, "transaction_hash")?)?;
            Ok(tx_json(&tx))
        }
        "starknet_getTransactionStatus" => {
            tx_status(node, &hash_param(params, 0, "transaction_hash")?)
        }
        "starling_status" => Ok(status(node, &chain())),
        "starling_getBlock" => raw_block(&node.store, params),
        "starling_getAccount" => {
            let address = address_param(params, 0, "address")?;
            let account = chain().state.get(&address);
            Ok(json!({
                "address": address,
                "balance": account.balance.to_string(),
                "nonce": account.nonce,
            }))
        }
        "starling_addTransaction" => submit(node, params),
        "starling_getValidators" => staking::validators(&chain(), params),
        "starling_getStaker" => staking::staker(&chain(), params),
        "starling_getDelegation" => staking::delegation(&chain(), params),
        "starling_leaseJob" => proving::lease(node, params),
        "starling_renewLease" => proving::renew(node, params),
        "starling_releaseLease" => proving::release(node, params),
        "starling_getProvingInput" => proving::input(node, params),
        "starling_getProverRewards" => proving::rewards(node, params),
        _ => Err(RpcError::method_not_found(method)),
    }
}

fn hex_bytes(value: &Value, name: &str, max: usize) -> Result<Vec<u8>, RpcError> {
    let s = value
        .as_str()
        .ok_or_else(|| RpcError::invalid_params(format!("{name} must be a hex string")))?;
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() > max * 2 {
        return Err(RpcError::invalid_params(format!("{name} is longer than {max} bytes")));
    }
    hex::decode(digits).map_err(|e| RpcError::invalid_params(format!("{name}: {e}")))
}

fn hash_param(params: &Value, index: usize, name: &str) -> Result<Hash, RpcError> {
    required_as::<Hash>(params, index, name)
}

fn address_param(params: &Value, index: usize, name: &str) -> Result<Address, RpcError> {
    required_as::<Address>(params, index, name)
}

/// Resolves a Starknet block id: `"latest"`, `{"block_number": n}` or `{"block_hash": h}`.
fn block_height(store: &Store, head: u64, id: Option<&Value>) -> Result<u64, RpcError> {
    let bad = || {
        RpcError::invalid_params(
            "block_id must be \"latest\", {\"block_number\": n} or {\"block_hash\": h}",
        )
    };
    match id {
        None => Ok(head),
        Some(Value::String(s)) if s == "latest" || s == "pending" => Ok(head),
        Some(Value::Object(o)) => {
            if let Some(n) = o.get("block_number") {
                let n = n.as_u64().ok_or_else(bad)?;
                if n > head {
                    return Err(RpcError::block_not_found());
                }
                Ok(n)
            } else if let Some(h) = o.get("block_hash") {
                let h: Hash = serde_json::from_value(h.clone()).map_err(|_| bad())?;
                store
                    .height_of(&h)
                    .map_err(RpcError::internal)?
                    .ok_or_else(RpcError::block_not_found)
            } else {
                Err(bad())
            }
        }
        Some(_) => Err(bad()),
    }
}

/// `starknet_getNonce [block_id, address]`: the committed nonce at `"latest"`; at
/// `"pending"`, the next nonce counting the sender's transactions in the mempool
/// (what a wallet should sign next).
fn nonce(chain: &ChainState, params: &Value) -> Result<Value, RpcError> {
    let block_id = param(params, 0, "block_id");
    let address = address_param(params, 1, "contract_address")?;
    let committed = chain.state.get(&address).nonce;
    let nonce = if block_id == Some(&json!("pending")) {
        chain.mempool.pending_nonce(&address).unwrap_or(committed)
    } else {
        require_latest(chain, block_id)?;
        committed
    };
    Ok(json!(format!("{nonce:#x}")))
}

/// State reads are served at the head only: the node keeps the latest state.
fn require_latest(chain: &ChainState, id: Option<&Value>) -> Result<(), RpcError> {
    match block_height(&chain.store, chain.head.height, id)? {
        h if h == chain.head.height => Ok(()),
        _ => {
            Err(RpcError::invalid_params("only the latest state is kept; use block_id \"latest\""))
        }
    }
}

fn load_block(store: &Store, height: u64) -> Result<Block, RpcError> {
    store.block(height).map_err(RpcError::internal)?.ok_or_else(RpcError::block_not_found)
}

/// The newest committed height, from the store (which is written before the head
/// moves), without taking the chain lock.
fn stored_head(store: &Store) -> Result<u64, RpcError> {
    store.head_height().map_err(RpcError::internal)?.ok_or_else(RpcError::block_not_found)
}

fn block_json(node: &Node, params: &Value, full: bool) -> Result<Value, RpcError> {
    let head = stored_head(&node.store)?;
    let height = block_height(&node.store, head, param(params, 0, "block_id"))?;
    let block = load_block(&node.store, height)?;
    let h = &block.header;
    let transactions: Vec<Value> = if full {
        block.transactions.iter().map(tx_json).collect()
    } else {
        block.transactions.iter().map(|t| json!(t.hash())).collect()
    };
    Ok(json!({
        "status": "ACCEPTED_ON_L2",
        "block_hash": block.hash(),
        "parent_hash": h.parent_hash,
        "block_number": h.height,
        "new_root": h.state_root,
        "transactions_root": h.tx_root,
        "timestamp": h.timestamp_ms / 1000,
        "timestamp_ms": h.timestamp_ms,
        "sequencer_address": h.proposer,
        "signature": block.signature,
        "transactions": transactions,
    }))
}

/// A transaction as JSON: a transfer's `recipient` and `amount`, or a staking
/// call's own fields, beside what every transaction has.
fn tx_json(tx: &Transaction) -> Value {
    let b = &tx.body;
    let (kind, fields) = staking::call_json(&b.call);
    let mut out = json!({
        "transaction_hash": tx.hash(),
        "type": kind,
        "sender_address": tx.sender(),
        "sender_public_key": b.sender_key,
        "nonce": format!("{:#x}", b.nonce),
        "fee": b.fee.to_string(),
        "signature": [tx.signature.r, tx.signature.s],
    });
    if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
        out.extend(fields);
    }
    out
}

/// Finds a transaction in the mempool or in a block. The mempool is asked first: a
/// transaction only ever moves from the mempool into a block (committed to the
/// store before it leaves the mempool, both under the chain lock), so asking in
/// this order cannot miss one that moves in between, as the reverse order could.
fn find_tx(node: &Node, hash: &Hash) -> Result<(Transaction, Option<u64>), RpcError> {
    let pending = node.chain.lock().expect("chain lock poisoned").mempool.get(hash).cloned();
    if let Some(tx) = pending {
        return Ok((tx, None));
    }
    let loc = node.store.tx_location(hash).map_err(RpcError::internal)?;
    let loc = loc.ok_or_else(RpcError::tx_not_found)?;
    let block = load_block(&node.store, loc.height)?;
    let tx = block.transactions.get(loc.index as usize).cloned();
    tx.map(|t| (t, Some(loc.height)))
        .ok_or_else(|| RpcError::internal("transaction index points past its block"))
}

fn tx_status(node: &Node, hash: &Hash) -> Result<Value, RpcError> {
    let (_, height) = find_tx(node, hash)?;
    Ok(match height {
        Some(h) => {
            json!({ "finality_status": "ACCEPTED_ON_L2", "execution_status": "SUCCEEDED", "block_number": h })
        }
        None => json!({ "finality_status": "RECEIVED" }),
    })
}

fn status(node: &Node, chain: &ChainState) -> Value {
    json!({
        "chain_id": chain.chain_id().as_str(),
        "genesis_hash": chain.genesis_hash,
        "height": chain.head.height,
        "head_hash": chain.head.hash(),
        "state_root": chain.head.state_root,
        "mode": staking::current_mode(chain).map_or("single", |(mode, _)| mode),
        "epoch": staking::current_mode(chain).map(|(_, epoch)| epoch),
        // Every block a node commits is final: signed by the sequencer in the
        // single stage, certified by validators under proof of stake.
        "finalized_height": chain.head.height,
        // Every block up to here has a verified proof of its state transition.
        "proven_height": node.settlement.proven_height(),
        "round": node.consensus_round.load(std::sync::atomic::Ordering::Relaxed),
        "validators": chain.next_validators().map_or(0, |set| set.len()),
        "peers": node.net.peers(),
        "listen": node.net.listen(),
        "sequencer": chain.genesis.sequencer,
        "producing": node.producing,
        "mempool": chain.mempool.len(),
    })
}

/// The header at the front of a stored block (after the version byte): enough
/// for the block hash, without decoding the transactions.
fn stored_header(block: &[u8]) -> Result<Header, RpcError> {
    let mut reader = Reader::new(block.get(1..).unwrap_or_default());
    Header::decode_from(&mut reader).map_err(RpcError::internal)
}

/// `starling_getBlock [height]`: the block and its witness as stored, hex-encoded
/// without decoding them again.
fn raw_block(store: &Store, params: &Value) -> Result<Value, RpcError> {
    let height = required(params, 0, "height")?
        .as_u64()
        .ok_or_else(|| RpcError::invalid_params("height must be a non-negative integer"))?;
    let block = store.block_bytes(height).map_err(RpcError::internal)?;
    let block = block.ok_or_else(RpcError::block_not_found)?;
    let witness = store.witness_bytes(height).map_err(RpcError::internal)?;
    let certificate = store.certificate(height).map_err(RpcError::internal)?;
    Ok(json!({
        "height": height,
        "hash": stored_header(&block)?.hash(),
        "block": format!("0x{}", hex::encode(&block)),
        "witness": witness.map(|w| format!("0x{}", hex::encode(w))),
        "certificate": certificate.map(|c| format!("0x{}", hex::encode(c.encode_message()))),
    }))
}

/// `starling_addTransaction [tx_hex]`: decodes, validates and admits a transaction,
/// durably recording it before answering with its hash.
fn submit(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let bytes =
        hex_bytes(required(params, 0, "transaction")?, "transaction", Transaction::MAX_BYTES)?;
    let tx = Transaction::decode_message(&bytes)
        .map_err(|e| RpcError::invalid_params(format!("malformed transaction: {e}")))?;
    let hash = tx.hash();
    staking::precheck(&node.chain.lock().expect("chain lock poisoned"), &tx)?;
    match node.admit(tx) {
        Ok(()) => {
            tracing::debug!(%hash, size = bytes.len(), "accepted a transaction");
            node.net.publish(Topic::Transactions, bytes);
            Ok(json!({ "transaction_hash": hash }))
        }
        Err(SubmitError::Rejected(e)) => Err(mempool_error(e)),
        Err(SubmitError::Storage(e)) => Err(RpcError::internal(e)),
    }
}

/// Maps a mempool rejection to Starknet's error codes where one matches.
fn mempool_error(e: MempoolError) -> RpcError {
    let detail = e.to_string();
    let (code, message) = match e {
        MempoolError::Invalid(_) => (55, "Account validation failed"),
        MempoolError::NonceTooLow { .. } | MempoolError::NonceTooFar { .. } => {
            (52, "Invalid transaction nonce")
        }
        MempoolError::InsufficientBalance { .. } => {
            (54, "Account balance is smaller than the transaction's maximal fee")
        }
        MempoolError::FeeTooLow { .. } | MempoolError::ReplacementUnderpriced { .. } => {
            (53, "Max fee is smaller than the minimal transaction cost")
        }
        MempoolError::AlreadyKnown(_) => {
            (59, "A transaction with the same hash already exists in the mempool")
        }
        _ => (-32005, "Mempool limit reached"),
    };
    RpcError::new(code, message).with_data(detail)
}
