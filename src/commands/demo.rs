//! `tributary demo`: the whole pipeline on the bundled fixtures, offline.
//!
//! Serves `fixtures/feeds/` on 127.0.0.1 as stand-in outlets, fetches them all into a
//! database under `--out-dir`, writes the merged Atom and JSON feeds there, starts the HTTP
//! server on another loopback port, prints what to open, and serves until interrupted
//! (`--once`: exits after writing the outputs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::Utc;

use super::{app_state, load_config, runtime, shutdown_signal};
use crate::Exit;
use crate::cli::{Cli, DemoArgs};
use tributary::config::FeedsFile;
use tributary::demo::FixtureServer;
use tributary::export::{self, Filters, Format};
use tributary::fetch::Fetcher;
use tributary::metrics::Metrics;
use tributary::refresh::{Refresher, Selection};
use tributary::server;
use tributary::store::Store;

pub fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<Exit> {
    let fixtures = fixtures_dir(args.fixtures.as_deref())?;
    let mut config = load_config(cli)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    config.storage.database = cli
        .db
        .clone()
        .unwrap_or_else(|| args.out_dir.join("demo.db"));
    config.storage.retention_days = 0;
    config.server.listen = ([127, 0, 0, 1], 0).into();
    for o in &mut config.outputs {
        o.path = None;
    }

    runtime()?.block_on(async move {
        let site = FixtureServer::start(&fixtures)
            .await
            .context("starting the fixture server")?;
        let feeds_toml = fixtures.join("demo-feeds.toml");
        let text = std::fs::read_to_string(&feeds_toml)
            .with_context(|| format!("reading {}", feeds_toml.display()))?;
        let text = text.replace("{base}", &site.base_url());
        let feeds = FeedsFile::parse_str(&text, &feeds_toml, &config)?;

        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .context("binding the demo server")?;
        let addr = listener.local_addr()?;
        config.server.base_url = format!("http://{addr}");
        let config = Arc::new(config);
        let store = Arc::new(std::sync::Mutex::new(Store::open(
            &config.storage.database,
        )?));
        let fetcher = Arc::new(Fetcher::new(&config.fetch)?);
                let metrics = Arc::new(Metrics::new());
        let refresher = Refresher::new(config.clone(), fetcher, store.clone()).with_metrics(metrics.clone());
        let feeds = Arc::new(feeds);
        let cycle = refresher
            .run_cycle(feeds.clone(), Selection::All, |_| {})
            .await?;

        println!(
            "Tributary demo: {} feeds served from {}",
            feeds.feeds.len(),
            site.base_url()
        );
        println!();
        println!("{:<16} {:>5} {:>8} {:>7}  NOTES", "FEED", "NEW", "UPDATED", "FOLDED");
        let mut reports = cycle.reports.clone();
        reports.sort_by(|a, b| a.feed_id.cmp(&b.feed_id));
        for r in &reports {
            let notes = match &r.error {
                Some(e) => format!("FAILED: {e}"),
                None if r.warnings.is_empty() => String::new(),
                None => format!("{} recovered: {}", r.warnings.len(), r.warnings.join("; ")),
            };
            println!("{:<16} {:>5} {:>8} {:>7}  {}", r.feed_id, r.inserted, r.updated, r.folded, notes);
        }

        let out_dir = args.out_dir.clone();
        let written = {
            let s = store.lock().unwrap_or_else(|p| p.into_inner());
            let output = config.output(None).context("no output configured")?;
            let merged = export::merged_feed(&s, &config, &feeds, output, &Filters::default(), Utc::now())?;
            let mut written = Vec::new();
            for format in [Format::Atom, Format::Json] {
                let path = out_dir.join(format!("{}.{}", output.name, format.extension()));
                tributary::atomic::write_if_changed(&path, format.render(&merged).as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                written.push(path);
            }
            let shared = merged.entries.iter().filter(|e| !e.related.is_empty()).count();
            println!(
                "\n{} stories in the merged feed ({shared} carried by several feeds, folded into one entry each).",
                merged.entries.len()
            );
            written
        };
        println!("\nFiles:");
        println!("  database     {}", config.storage.database.display());
        for p in &written {
            println!("  merged feed  {}", p.display());
        }
        if args.once {
            return Ok(if cycle.failed().next().is_some() {
                Exit::SomeFeedsFailed
            } else {
                Exit::Ok
            });
        }
        let base = &config.server.base_url;
        println!("\nOpen:");
        println!("  {base}/feed.atom        merged Atom feed (subscribe in any reader)");
        println!("  {base}/feeds/all.json   the same as JSON Feed");
        println!("  {}/   the stand-in outlets", site.base_url());
        println!("\nServing until interrupted (Ctrl-C).");
                drop(store);
        let state = app_state(&config, feeds, Some(refresher), metrics)?;
        server::serve(listener, state, shutdown_signal())
            .await
            .context("serving HTTP")?;
        drop(site);
        Ok(Exit::Ok)
    })
}

/// `--fixtures`, else `./fixtures`, else the folder shipped with the source tree.
fn fixtures_dir(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidates: Vec<PathBuf> = match arg {
        Some(p) => vec![p.to_path_buf()],
        None => vec![
            PathBuf::from("fixtures"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        ],
    };
    for c in &candidates {
        if c.join("demo-feeds.toml").is_file() {
            return Ok(c.clone());
        }
    }
    bail!(
        "no fixtures folder with demo-feeds.toml found (looked in {}); pass --fixtures DIR",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}
