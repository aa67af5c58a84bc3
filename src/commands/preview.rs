//! `tributary preview`: one feed through decode/parse/clean, printed, nothing stored.
//!
//! With `--html-item` (and the other `--html-*` flags) the source is read as a web page with
//! selectors, exactly as a `kind = "html"` feed with the same `[feed.html]` keys would be, so
//! an admin can try selectors before writing them into `feeds.toml`. `--full-text` likewise
//! tries a `full_text` selector on the entries' own pages.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::Utc;

use super::{load_config, runtime};
use crate::Exit;
use crate::cli::{Cli, PreviewArgs, PreviewHtmlArgs};
use tributary::config::{FeedConfig, SourceKind};
use tributary::fetch::Fetcher;
use tributary::fulltext::FullTextRule;
use tributary::model::{ParsedFeed, rfc3339};
use tributary::parse::ParseContext;
use tributary::parse::html_source::HtmlSource;
use tributary::refresh::{adhoc_feed, fetch_document, fetch_full_text, read_source};

/// Most entries whose page `--full-text` fetches: enough to judge a selector, few enough to
/// stay polite to the site.
const FULL_TEXT_PAGES: usize = 10;

pub fn run(cli: &Cli, args: &PreviewArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let zone = config.schedule.timezone;
    let max = usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX);
    let source = match html_source(&args.html)? {
        Some(html) => SourceKind::Html(html),
        None => SourceKind::Feed,
    };
    let full_text = full_text_rule(&args.html)?;
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let page = if is_url {
        url::Url::parse(&args.source).with_context(|| format!("invalid URL {}", args.source))?
    } else {
        match &args.html.base {
            Some(base) => url::Url::parse(base)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .with_context(|| format!("--base `{base}` is not an http(s) URL"))?,
            None if matches!(source, SourceKind::Html(_)) => bail!(
                "reading the file {} with --html-item needs --base URL, the address the page was saved from, to resolve its links",
                args.source
            ),
            // Not used to fetch: the full-text pages are the entries' own links.
            None => url::Url::parse("http://localhost/").context("placeholder address")?,
        }
    };
    let mut feed = adhoc_feed(page.clone(), &config);
    feed.source = source;
    let fetcher = if is_url || full_text.is_some() {
        Some(Fetcher::new(&config.fetch).context("building the HTTP client")?)
    } else {
        None
    };
    let rt = runtime()?;
    let mut parsed: ParsedFeed = match (&fetcher, is_url) {
        (Some(fetcher), true) => rt
            .block_on(fetch_document(fetcher, &feed, zone, max))
            .map_err(anyhow::Error::msg)?,
        _ => {
            let bytes =
                std::fs::read(&args.source).with_context(|| format!("reading {}", args.source))?;
            let ctx = ParseContext {
                base: args.html.base.as_ref().map(|_| page.clone()),
                zone,
                now: Utc::now(),
            };
            read_source(
                &feed.source,
                &bytes,
                args.content_type.as_deref(),
                &ctx,
                max,
            )
            .with_context(|| args.source.clone())?
        }
    };
    if let (Some(fetcher), Some(rule)) = (&fetcher, &full_text) {
        rt.block_on(add_full_text(fetcher, &feed, rule, &mut parsed, max));
    }
    print(&parsed, args.json, full_text.is_some())?;
    Ok(Exit::Ok)
}

/// The `[feed.html]` table the `--html-*` flags spell, checked as `feeds.toml` would be.
fn html_source(a: &PreviewHtmlArgs) -> anyhow::Result<Option<HtmlSource>> {
    let Some(item) = &a.html_item else {
        return Ok(None);
    };
    let src = HtmlSource {
        item: item.clone(),
        title: a.html_title.clone(),
        link: a.html_link.clone(),
        date: a.html_date.clone(),
        date_format: a.html_date_format.clone(),
        summary: a.html_summary.clone(),
        author: a.html_author.clone(),
        image: a.html_image.clone(),
    };
    src.validate()
        .map_err(|e| anyhow::anyhow!("--html-* selectors: {e}"))?;
    Ok(Some(src))
}

/// The `full_text` rule `--full-text` and `--full-text-strip` spell, checked.
fn full_text_rule(a: &PreviewHtmlArgs) -> anyhow::Result<Option<FullTextRule>> {
    let Some(selector) = &a.full_text else {
        return Ok(None);
    };
    let rule = FullTextRule {
        selector: selector.clone(),
        strip: a.full_text_strip.clone(),
    };
    rule.validate()
        .map_err(|e| anyhow::anyhow!("--full-text: {e}"))?;
    Ok(Some(rule))
}

/// Replaces the first [`FULL_TEXT_PAGES`] entries' content with their page's body, as a feed
/// with `full_text` would store it; a page that cannot be read is a warning.
async fn add_full_text(
    fetcher: &Fetcher,
    feed: &FeedConfig,
    rule: &FullTextRule,
    parsed: &mut ParsedFeed,
    max: usize,
) {
    for entry in parsed.entries.iter_mut().take(FULL_TEXT_PAGES) {
        let Some(page) = entry.link.as_deref().and_then(|l| url::Url::parse(l).ok()) else {
            continue;
        };
        match fetch_full_text(fetcher, feed, &page, rule, max).await {
            Ok(html) => entry.content = Some(html),
            Err(reason) => parsed.warnings.push(format!(
                "full text of {page}: {reason}; kept the feed's text"
            )),
        }
    }
    if parsed.entries.len() > FULL_TEXT_PAGES {
        parsed.warnings.push(format!(
            "full text: only the first {FULL_TEXT_PAGES} entries' pages were fetched"
        ));
    }
}

fn print(parsed: &ParsedFeed, json: bool, full_text: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, parsed)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
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
        // With --full-text the extracted body is what is being tried: show it first.
        let (first, second) = if full_text {
            (e.content.as_deref(), e.summary.as_deref())
        } else {
            (e.summary.as_deref(), e.content.as_deref())
        };
        let text = first.or(second).map(tributary::clean::plain_text);
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            writeln!(out, "    {}", tributary::parse::excerpt(&t, 160))?;
        }
    }
    out.flush()?;
    Ok(())
}
