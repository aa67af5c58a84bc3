//! `tributary digest`: write (and optionally mail) one day's digest, for cron.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::Utc;

use super::{load_config, load_feeds, open_store, runtime};
use crate::Exit;
use crate::cli::{Cli, DigestArgs};
use tributary::digest;

pub fn run(cli: &Cli, args: &DigestArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let feeds = load_feeds(cli, &config)?;
    let date = args
        .date
        .unwrap_or_else(|| digest::previous_day(Utc::now(), config.digest.timezone));
    let store = open_store(&config)?;
    let built = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        digest::build(&store, &config, &feeds, date)?
    };
    let doc = args.format.render(&built, &config.server.base_url);
    if args.out.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(doc.as_bytes())?;
        out.flush()?;
    } else {
        tributary::atomic::write_if_changed(&args.out, doc.as_bytes())
            .with_context(|| format!("writing {}", args.out.display()))?;
        tracing::info!(path = %args.out.display(), date = %date, stories = built.story_count, "digest written");
    }
    if args.send {
        let Some(smtp) = &config.digest.smtp else {
            bail!("--send needs a [digest.smtp] section in the config");
        };
        runtime()?.block_on(tributary::mail::send_digest(smtp, &built))?;
        tracing::info!(date = %date, recipients = smtp.to.len(), "digest mailed");
    }
    Ok(Exit::Ok)
}
