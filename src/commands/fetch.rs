//! `tributary fetch`: the one-shot run for cron.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::{load_config, load_feeds, open_store, runtime};
use crate::Exit;
use crate::cli::{Cli, FetchArgs};
use tributary::config::{ConfigError, ConfigErrors, FeedsFile};
use tributary::fetch::Fetcher;
use tributary::lock::RunLock;
use tributary::refresh::{Refresher, Selection};

pub fn run(cli: &Cli, args: &FetchArgs) -> anyhow::Result<Exit> {
    let config = Arc::new(load_config(cli)?);
    let mut feeds = load_feeds(cli, &config)?;
    let _lock = RunLock::acquire(&RunLock::path_for(&config.storage.database))?;
    let selection = if !args.feeds.is_empty() {
        Selection::Explicit
    } else if args.all {
        Selection::All
    } else {
        Selection::Due
    };
    if !args.feeds.is_empty() {
        let unknown: Vec<ConfigError> = args
            .feeds
            .iter()
            .filter(|id| feeds.get(id).is_none())
            .map(|id| ConfigError {
                file: cli.feeds.clone(),
                line: 0,
                column: 0,
                feed: Some(id.clone()),
                key: None,
                message: "no such feed in this file (see `tributary feeds list`)".into(),
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ConfigErrors(unknown).into());
        }
        feeds = FeedsFile {
            path: feeds.path.clone(),
            feeds: feeds
                .feeds
                .into_iter()
                .filter(|f| args.feeds.contains(&f.id))
                .collect(),
        };
    }
    let feeds = Arc::new(feeds);
    let store = open_store(&config)?;
    let fetcher = Arc::new(Fetcher::new(&config.fetch).context("building the HTTP client")?);
    let refresher = Refresher::new(config.clone(), fetcher, store);

    let enabled = feeds.feeds.iter().filter(|f| f.enabled).count() as u64;
    let bar = if std::io::stderr().is_terminal() && !cli.quiet {
        let bar = ProgressBar::new(enabled);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} feeds  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let rt = runtime()?;
    let cycle = rt.block_on(refresher.run_cycle(feeds, selection, |r| {
        bar.inc(1);
        bar.set_message(r.feed_id.clone());
    }))?;
    bar.finish_and_clear();

    let attempted = cycle.reports.iter().filter(|r| !r.skipped).count();
    let failed: Vec<_> = cycle.failed().collect();
    let new: usize = cycle.reports.iter().map(|r| r.inserted).sum();
    let updated: usize = cycle.reports.iter().map(|r| r.updated).sum();
    tracing::info!(
        feeds = attempted,
        failed = failed.len(),
        new,
        updated,
        pruned = cycle.pruned,
        outputs_written = cycle.written.len(),
        "fetch run finished"
    );
    Ok(if failed.is_empty() {
        Exit::Ok
    } else {
        Exit::SomeFeedsFailed
    })
}
