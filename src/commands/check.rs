//! `tributary check`: validate `feeds.toml` and the config, printing every problem.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;

use super::{config_path, runtime};
use crate::Exit;
use crate::cli::{CheckArgs, Cli};
use tributary::config::{Config, ConfigErrors, FeedsFile};
use tributary::fetch::Fetcher;
use tributary::refresh::fetch_document;

pub fn run(cli: &Cli, args: &CheckArgs) -> anyhow::Result<Exit> {
    let mut problems = Vec::new();
    let config = match Config::load(config_path(cli).as_deref()) {
        Ok(c) => c,
        Err(ConfigErrors(mut e)) => {
            problems.append(&mut e);
            Config::defaults(Path::new("."))
        }
    };
    let feeds = match FeedsFile::load(&cli.feeds, &config) {
        Ok(f) => Some(f),
        Err(ConfigErrors(mut e)) => {
            problems.append(&mut e);
            None
        }
    };
    if !problems.is_empty() {
        return Err(ConfigErrors(problems).into());
    }
    let feeds = feeds.unwrap_or_default();
    let enabled = feeds.feeds.iter().filter(|f| f.enabled).count();
    println!(
        "{}: {} feeds ({} enabled), {} outputs: ok",
        cli.feeds.display(),
        feeds.feeds.len(),
        enabled,
        config.outputs.len()
    );
    if !args.online {
        return Ok(Exit::Ok);
    }
    let fetcher = Arc::new(Fetcher::new(&config.fetch).context("building the HTTP client")?);
    let max = usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX);
    let rt = runtime()?;
    let results: Vec<(String, Result<String, String>)> = rt.block_on(async {
        futures_util::stream::iter(feeds.feeds.iter().filter(|f| f.enabled))
            .map(|f| {
                let fetcher = fetcher.clone();
                let zone = f.timezone.unwrap_or(config.schedule.timezone);
                async move {
                    let r = fetch_document(&fetcher, f, zone, max).await.map(|p| {
                        let mut line = format!("{} {} entries", p.format.as_str(), p.entries.len());
                        if !p.warnings.is_empty() {
                            line.push_str(&format!(
                                "; {} warnings: {}",
                                p.warnings.len(),
                                p.warnings.join("; ")
                            ));
                        }
                        line
                    });
                    (f.id.clone(), r)
                }
            })
            .buffered(config.fetch.concurrency)
            .collect()
            .await
    });
    let mut failed = 0;
    for (id, r) in &results {
        match r {
            Ok(line) => println!("ok     {id}: {line}"),
            Err(e) => {
                failed += 1;
                println!("FAILED {id}: {e}");
            }
        }
    }
    println!(
        "{} of {} feeds fetched and parsed",
        results.len() - failed,
        results.len()
    );
    Ok(if failed == 0 {
        Exit::Ok
    } else {
        Exit::SomeFeedsFailed
    })
}
