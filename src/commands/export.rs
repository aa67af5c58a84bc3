//! `tributary export`: write a merged feed to a file or standard output.

use std::io::Write;

use anyhow::Context;
use chrono::Utc;

use super::{load_config, load_feeds, open_store};
use crate::Exit;
use crate::cli::{Cli, ExportArgs};
use tributary::config::{ConfigError, ConfigErrors};
use tributary::export::{self, Filters};

pub fn run(cli: &Cli, args: &ExportArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let feeds = load_feeds(cli, &config)?;
    let Some(output) = config.output(args.output.as_deref()) else {
        let known: Vec<&str> = config.outputs.iter().map(|o| o.name.as_str()).collect();
        return Err(ConfigErrors(vec![ConfigError {
            file: config.path.clone().unwrap_or_else(|| "config".into()),
            line: 0,
            column: 0,
            feed: None,
            key: Some("output.name".into()),
            message: format!(
                "no output named `{}`; configured: {}",
                args.output.as_deref().unwrap_or(""),
                known.join(", ")
            ),
        }])
        .into());
    };
    let store = open_store(&config)?;
    let store = store.lock().unwrap_or_else(|p| p.into_inner());
    let merged = export::merged_feed(
        &store,
        &config,
        &feeds,
        output,
        &Filters::default(),
        Utc::now(),
    )?;
    let doc = args.format.render(&merged);
    if args.out.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(doc.as_bytes())
            .context("writing to standard output")?;
        stdout.flush().context("writing to standard output")?;
    } else {
        tributary::atomic::write_if_changed(&args.out, doc.as_bytes())
            .with_context(|| format!("writing {}", args.out.display()))?;
        tracing::info!(path = %args.out.display(), entries = merged.entries.len(), "merged feed written");
    }
    Ok(Exit::Ok)
}
