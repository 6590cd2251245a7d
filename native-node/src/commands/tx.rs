//! `starling tx transfer`.

use anyhow::{Result, bail};
use starling_core::types::{Call, ChainId, TxBody};

use crate::cli::TxCommand;
use crate::{client, keys};

pub fn run_tx(cmd: TxCommand) -> Result<()> {
    let TxCommand::Transfer { from, to, amount, fee, nonce, rpc, wait, common } = cmd;
    let dir = common.keys_dir.unwrap_or_else(keys::default_keys_dir);
    let key = keys::unlock_account(&keys::resolve(&dir, &from)?, common.password_file.as_deref())?;
    let client = client::RpcClient::new(&rpc);
    let sender = key.public_key().address();
    let nonce = match nonce {
        Some(n) => n,
        None => client.nonce(&sender)?,
    };
    let chain_id = ChainId::new(&client.chain_id()?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let body = TxBody {
        chain_id,
        sender_key: key.public_key(),
        nonce,
        fee,
        call: Call::Transfer { to, amount },
    };
    let hash = client.submit(&body.sign(&key))?;
    println!("{hash}");
    if wait {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(height) = client.included_in(&hash)? {
                eprintln!("included in block {height}");
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("not included within 60 s (it is still pending)");
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
    Ok(())
}
