//! `tributary preview`: one feed through decode/parse/clean, printed, nothing stored.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::Utc;

use super::{load_config, runtime};
use crate::Exit;
use crate::cli::{Cli, PreviewArgs};
use tributary::fetch::Fetcher;
use tributary::model::{ParsedFeed, rfc3339};
use tributary::parse::ParseContext;
use tributary::refresh::{fetch_document, process_document};

pub fn run(cli: &Cli, args: &PreviewArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let zone = config.schedule.timezone;
    let max = usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX);
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let parsed: ParsedFeed = if is_url {
        let url = url::Url::parse(&args.source)
            .with_context(|| format!("invalid URL {}", args.source))?;
        let fetcher = Fetcher::new(&config.fetch).context("building the HTTP client")?;
        let feed = tributary::refresh::adhoc_feed(url, &config);
        match runtime()?.block_on(fetch_document(&fetcher, &feed, zone, max)) {
            Ok(p) => p,
            Err(e) => bail!("{e}"),
        }
    } else {
        let bytes =
            std::fs::read(&args.source).with_context(|| format!("reading {}", args.source))?;
        let ctx = ParseContext {
            base: None,
            zone,
            now: Utc::now(),
        };
        process_document(&bytes, args.content_type.as_deref(), &ctx, max)
            .with_context(|| args.source.clone())?
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &parsed)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} ({}), {} entries",
            parsed.title,
            parsed.format.as_str(),
            parsed.entries.len()
        )?;
        if let Some(link) = &parsed.link {
            writeln!(out, "{link}")?;
        }
        for w in &parsed.warnings {
            writeln!(out, "warning: {w}")?;
        }
        for e in &parsed.entries {
            let date = e
                .published
                .map(rfc3339)
                .unwrap_or_else(|| "(no date)".into());
            writeln!(out, "\n{date}  {}", e.title)?;
            if let Some(l) = &e.link {
                writeln!(out, "    {l}")?;
            }
            let text = e
                .summary
                .as_deref()
                .or(e.content.as_deref())
                .map(tributary::clean::plain_text);
            if let Some(t) = text.filter(|t| !t.is_empty()) {
                writeln!(out, "    {}", tributary::parse::excerpt(&t, 160))?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}
