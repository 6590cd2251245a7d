//! `starling keys new|import|list`.

use anyhow::Result;

use crate::cli::{KeysArgs, KeysCommand};
use crate::keys;

pub fn run_keys(cmd: KeysCommand) -> Result<()> {
    let dir = |c: &KeysArgs| c.keys_dir.clone().unwrap_or_else(keys::default_keys_dir);
    match cmd {
        KeysCommand::New { name, sequencer: true, common } => {
            let key =
                keys::new_sequencer_key(&dir(&common), &name, common.password_file.as_deref())?;
            println!("sequencer public key {key}");
        }
        KeysCommand::New { name, sequencer: false, common } => {
            let key = keys::new_key(&dir(&common), &name, common.password_file.as_deref())?;
            println!("address    {}\npublic key {key}", key.address());
        }
        KeysCommand::Import { name, keystore, common } => {
            let source = match &keystore {
                Some(path) => keys::ImportSource::Keystore(path),
                None => keys::ImportSource::PrivateKeyStdin,
            };
            let key =
                keys::import_key(&dir(&common), &name, source, common.password_file.as_deref())?;
            println!("address    {}\npublic key {key}", key.address());
        }
        KeysCommand::List { common } => {
            let d = dir(&common);
            let listed = keys::list_keys(&d)?;
            if listed.is_empty() {
                eprintln!("no keys in {} (create one with `starling keys new NAME`)", d.display());
            }
            for k in listed {
                match (k.problem, k.address) {
                    (Some(p), _) => println!("{:<20} not a usable keystore: {p}", k.name),
                    (None, Some(a)) => println!("{:<20} {a}", k.name),
                    (None, None) => {
                        println!("{:<20} (address shown once imported with starling)", k.name)
                    }
                }
            }
        }
    }
    Ok(())
}
