//! `tributary cluster split`: an admin's correction of story folding.

use chrono::Utc;

use super::{load_config, open_store};
use crate::Exit;
use crate::cli::{Cli, ClusterAction, ClusterArgs};
use tributary::store::SplitRefusal;

pub fn run(cli: &Cli, args: &ClusterArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let store = open_store(&config)?;
    let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
    match &args.action {
        ClusterAction::Split { entry } => match store.split_entry(entry, Utc::now())? {
            Ok(split) => {
                println!(
                    "entry {} now stands alone (story {}); story {} keeps {} entr{}",
                    split.entry_id,
                    split.new_cluster,
                    split.from_cluster,
                    split.remaining,
                    if split.remaining == 1 { "y" } else { "ies" }
                );
                Ok(Exit::Ok)
            }
            Err(SplitRefusal::NoSuchEntry) => anyhow::bail!(
                "no entry with id `{entry}` in {}",
                config.storage.database.display()
            ),
            Err(SplitRefusal::AlreadyAlone) => {
                println!("entry {entry} is not folded with any other; nothing to split");
                Ok(Exit::Ok)
            }
        },
    }
}
