//! Turning decoded feed text into [`ParsedFeed`]: the feed-rs adapter.
//!
//! feed-rs does the format work (RSS 0.9x/1.0/2.0, Atom, JSON Feed). This module wraps it:
//! it hands feed-rs only UTF-8 text (see [`crate::decode`]), strips characters XML forbids
//! before parsing, gives it a deterministic id generator (an item without guid gets the same
//! key on every fetch), runs it under `catch_unwind` so a parser panic becomes a per-feed
//! error, plugs in Tributary's own date parser, and maps the result through [`crate::clean`].

pub mod dates;
pub mod html_source;
pub mod repair;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Link, Text};
use url::Url;

use crate::clean;
use crate::model::{FeedFormat, NewEntry, ParsedFeed};

/// Why a document could not be read as a feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The document is HTML, not a feed; `advertised` lists `<link rel="alternate">` feeds.
    #[error("not a feed: the document is an HTML page{}", advertised_suffix(.advertised))]
    NotAFeed { advertised: Vec<String> },
    #[error("not a feed: {0}")]
    Invalid(String),
    #[error("the feed parser crashed on this document: {0}")]
    Panicked(String),
}

fn advertised_suffix(advertised: &[String]) -> String {
    if advertised.is_empty() {
        " advertising no feed".to_string()
    } else {
        format!("; this page advertises: {}", advertised.join(", "))
    }
}

/// What the parser needs to know besides the text.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// The document's URL (after redirects): base for relative links.
    pub base: Option<Url>,
    /// Zone for dates that carry none.
    pub zone: chrono_tz::Tz,
    /// Dates later than this (plus a little slack) are clamped to it.
    pub now: DateTime<Utc>,
}

/// Parses decoded feed text into cleaned entries.
pub fn parse_feed(text: &str, ctx: &ParseContext) -> Result<ParsedFeed, ParseError> {
    let mut warnings = Vec::new();
    let stripped = clean::strip_non_xml(text);
    let mut well_formed = stripped.len() == text.len();
    if !well_formed {
        warnings
            .push("removed characters that XML does not allow (control characters)".to_string());
    }
    let text: &str = &stripped;
    let trimmed = text.trim_start();
    if looks_like_html(trimmed) {
        return Err(ParseError::NotAFeed {
            advertised: advertised_feeds(text, ctx.base.as_ref()),
        });
    }
    // Recovery before rejection: repair what real publishers get wrong, and if the parser still
    // refuses a cut-off document, keep the items before the cut.
    let is_json = trimmed.starts_with('{');
    let repaired = if is_json {
        repair::repair_json(trimmed)
    } else {
        repair::repair_xml(trimmed)
    };
    warnings.extend(repaired.warnings.iter().cloned());
    well_formed &= !repaired.ill_formed;
    let mut feed = match run_parser(ctx, &repaired.text) {
        Ok(feed) => feed,
        Err(ParseError::Invalid(first)) if !is_json => {
            match repair::truncate_to_last_item(&repaired.text) {
                Some(cut) => {
                    let feed = run_parser(ctx, &cut.text)
                        .map_err(|_| ParseError::Invalid(first.clone()))?;
                    warnings.push(format!(
                        "the document is broken ({first}); kept the items before the break"
                    ));
                    warnings.extend(cut.warnings);
                    well_formed = false;
                    feed
                }
                None => return Err(ParseError::Invalid(first)),
            }
        }
        Err(e) => return Err(e),
    };
    if feed.feed_type == FeedType::RSS1 {
        // RSS 1.0 items are identified by `rdf:about`, which the parser does not keep.
        let about = repair::rdf_about_ids(&repaired.text);
        if about.len() == feed.entries.len() {
            for (entry, id) in feed.entries.iter_mut().zip(about) {
                if entry.id.is_empty() && !id.is_empty() {
                    entry.id = id;
                }
            }
        }
    }
    let format = detect_format(&feed, trimmed);
    // RSS `<ttl>` and the syndication module's `sy:updatePeriod`: the longer one wins.
    let syndication = syndication_minutes(trimmed);
    feed.ttl = feed.ttl.max(syndication);
    Ok(map_feed(feed, format, ctx, warnings, well_formed))
}

/// How often the feed says it changes, from `sy:updatePeriod` / `sy:updateFrequency`, in minutes.
fn syndication_minutes(text: &str) -> Option<u32> {
    let element = |local: &str| -> Option<&str> {
        let head = &text[..text.len().min(64 * 1024)];
        let start = head
            .find(&format!(":{local}>"))
            .map(|i| i + local.len() + 2)?;
        let rest = &head[start..];
        Some(rest[..rest.find('<')?].trim())
    };
    let base = match element("updatePeriod")? {
        "hourly" => 60,
        "daily" => 1440,
        "weekly" => 10_080,
        "monthly" => 43_200,
        "yearly" => 525_600,
        _ => return None,
    };
    let frequency = element("updateFrequency")
        .and_then(|f| f.parse::<u32>().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    Some(base / frequency)
}

/// feed-rs under `catch_unwind`: a panic inside the parser becomes this feed's error.
///
/// Each run gets a new parser: a feed-rs parser keeps state between items (Media RSS scopes)
/// that a failed parse leaves behind, and a second parse with it panics.
fn run_parser(ctx: &ParseContext, text: &str) -> Result<Feed, ParseError> {
    let zone = ctx.zone;
    let parser = feed_rs::parser::Builder::new()
        .base_uri(ctx.base.as_ref().map(Url::as_str))
        // An empty id marks "the feed gave none": the adapter derives a stable one itself.
        .id_generator(|_links, _title, _uri| String::new())
        .timestamp_parser(move |s| dates::parse_date(s, zone).map(|d| d.with_timezone(&Utc)))
        .sanitize_content(false)
        .build();
    quiet_parser_panics();
    IN_PARSER.set(true);
    let result = catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())));
    IN_PARSER.set(false);
    match result {
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(e)) => Err(ParseError::Invalid(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(ParseError::Panicked(msg))
        }
    }
}

thread_local! {
    /// Whether this thread is inside feed-rs, whose panics [`run_parser`] catches and reports.
    static IN_PARSER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A panic inside feed-rs is caught and reported as that feed's error; the default hook would
/// also print it, with a backtrace, to the terminal or the daemon's log. Installed once, the
/// hook stays silent for those panics and hands every other panic to the previous hook.
fn quiet_parser_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_PARSER.get() {
                previous(info);
            }
        }));
    });
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let head = head.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.contains("<html")
            && !head.contains("<rss")
            && !head.contains("<feed")
            && !head.contains("<rdf:rdf"))
}

/// Feeds an HTML page advertises with `<link rel="alternate" type="…rss/atom/json…">`.
pub fn advertised_feeds(html: &str, base: Option<&Url>) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let Ok(sel) = scraper::Selector::parse("link[rel~=alternate][href]") else {
        return Vec::new();
    };
    doc.select(&sel)
        .filter(|el| {
            let t = el.value().attr("type").unwrap_or("").to_ascii_lowercase();
            t.contains("rss") || t.contains("atom") || t.contains("feed+json") || t.contains("rdf")
        })
        .filter_map(|el| clean::resolve_link(el.value().attr("href")?, base))
        .collect()
}

fn detect_format(feed: &Feed, text: &str) -> FeedFormat {
    match feed.feed_type {
        FeedType::Atom if text.contains("http://purl.org/atom/ns#") => FeedFormat::Atom03,
        FeedType::Atom => FeedFormat::Atom,
        FeedType::JSON => FeedFormat::Json,
        FeedType::RSS0 => FeedFormat::Rss0,
        FeedType::RSS1 => FeedFormat::Rss1,
        FeedType::RSS2 => FeedFormat::Rss2,
    }
}

fn map_feed(
    feed: Feed,
    format: FeedFormat,
    ctx: &ParseContext,
    mut warnings: Vec<String>,
    well_formed: bool,
) -> ParsedFeed {
    let base = ctx.base.as_ref();
    let title = feed.title.as_ref().map(text_to_plain).unwrap_or_default();
    let link = alternate_link(&feed.links).and_then(|l| clean::resolve_link(&l.href, base));
    let mut entries = Vec::with_capacity(feed.entries.len());
    for (i, entry) in feed.entries.into_iter().enumerate() {
        match map_entry(entry, ctx) {
            Some(e) => entries.push(e),
            None => warnings.push(format!("item {} {EMPTY_ITEM}; skipped", i + 1)),
        }
    }
    ParsedFeed {
        format,
        title,
        link,
        entries,
        warnings,
        well_formed,
        ttl_minutes: feed.ttl,
    }
}

fn map_entry(entry: Entry, ctx: &ParseContext) -> Option<NewEntry> {
    let entry_base = entry
        .base
        .as_deref()
        .and_then(|b| clean::resolve_link(b, ctx.base.as_ref()))
        .and_then(|b| Url::parse(&b).ok());
    let base = entry_base.as_ref().or(ctx.base.as_ref());
    // An item whose only address is its enclosure or media file (a podcast episode, a photo)
    // links to that.
    let link = alternate_link(&entry.links)
        .and_then(|l| clean::resolve_link(&l.href, base))
        .or_else(|| {
            let url = entry
                .media
                .iter()
                .flat_map(|m| &m.content)
                .find_map(|c| c.url.as_ref())?;
            clean::resolve_link(url.as_str(), base)
        });
    let summary = entry
        .summary
        .as_ref()
        .map(|t| text_to_html(t, base))
        .filter(|s| !s.is_empty());
    let content = entry
        .content
        .as_ref()
        .and_then(|c| {
            let body = c.body.as_deref()?;
            let is_html = c.content_type.subty() == "html" || c.content_type.subty() == "xhtml";
            Some(if is_html {
                clean::sanitize_html(body, base)
            } else {
                escape_text_as_html(body)
            })
        })
        .filter(|s| !s.is_empty());
    let mut title = entry.title.as_ref().map(text_to_plain).unwrap_or_default();
    if title.is_empty() {
        // A title-less item (allowed in RSS) is titled by the start of its text.
        let text = summary
            .as_deref()
            .or(content.as_deref())
            .map(clean::plain_text)
            .unwrap_or_default();
        title = excerpt(&text, 80);
    }
    if title.is_empty() {
        // A media title (a podcast episode, a photo) names it next.
        title = entry
            .media
            .iter()
            .find_map(|m| m.title.as_ref())
            .map(text_to_plain)
            .unwrap_or_default();
    }
    let authors: Vec<String> = entry
        .authors
        .iter()
        .filter_map(|p| {
            let name = p
                .name
                .as_deref()
                .map(clean::plain_text)
                .filter(|n| !n.is_empty());
            name.or_else(|| p.email.as_deref().map(clean::plain_text))
        })
        .collect();
    let id_from_feed = !entry.id.trim().is_empty();
    let published = entry.published.or(entry.updated);
    if title.is_empty() {
        // Nothing to title it by: its link, else a placeholder when the item has anything at
        // all (a body, an id, a date, an author). Only an item with nothing in it is dropped.
        let has_something = summary.is_some()
            || content.is_some()
            || id_from_feed
            || published.is_some()
            || !authors.is_empty()
            || !entry.categories.is_empty();
        title = match (&link, has_something) {
            (Some(l), _) => l.clone(),
            (None, true) => UNTITLED.to_string(),
            (None, false) => return None,
        };
    }
    let id = if id_from_feed {
        clean::plain_text(&entry.id)
    } else {
        match &link {
            Some(l) => l.clone(),
            None => {
                // Untitled items without a body are told apart by their date and authors.
                let fallback;
                let body = match summary.as_deref().or(content.as_deref()) {
                    None if title == UNTITLED => {
                        fallback = format!(
                            "{}\u{0}{}",
                            published.map(|d| d.to_rfc3339()).unwrap_or_default(),
                            authors.join("\u{0}")
                        );
                        Some(fallback.as_str())
                    }
                    body => body,
                };
                format!("urn:sha256:{}", crate::dedup::content_hash(&title, body))
            }
        }
    };
    // Dates in the future are clamped to the fetch time (policy in `dates`).
    let clamp = |d: Option<DateTime<Utc>>| {
        d.map(|d| {
            if d > ctx.now + dates::FUTURE_TOLERANCE {
                ctx.now
            } else {
                d
            }
        })
    };
    Some(NewEntry {
        id,
        id_from_feed,
        title,
        link,
        published: clamp(published),
        updated: clamp(entry.updated),
        summary,
        content,
        authors,
    })
}

/// What the warning for a dropped item says of it.
pub const EMPTY_ITEM: &str = "is empty (no title, link, content, id, date, author or category)";

/// The title of an item that has nothing to be titled by.
const UNTITLED: &str = "(no title)";

fn alternate_link(links: &[Link]) -> Option<&Link> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")) && !l.href.trim().is_empty())
        .or_else(|| {
            links.iter().find(|l| {
                !matches!(
                    l.rel.as_deref(),
                    Some("self" | "enclosure" | "hub" | "edit" | "replies")
                )
            })
        })
        // An item whose only address is its enclosure (a podcast episode) links to that.
        .or_else(|| {
            links
                .iter()
                .find(|l| !l.href.trim().is_empty() && l.rel.as_deref() != Some("self"))
        })
}

fn text_to_plain(t: &Text) -> String {
    if t.content_type.subty() == "plain" {
        clean::collapse_whitespace(&clean::strip_non_xml(&t.content))
    } else {
        clean::plain_text(&t.content)
    }
}

fn text_to_html(t: &Text, base: Option<&Url>) -> String {
    if t.content_type.subty() == "plain" && !looks_like_markup(&t.content) {
        escape_text_as_html(&t.content)
    } else {
        clean::sanitize_html(&t.content, base)
    }
}

/// RSS descriptions are declared plain text by feed-rs yet nearly always carry HTML.
fn looks_like_markup(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || s.contains("&lt;")
        || s.contains("&amp;")
}

fn escape_text_as_html(s: &str) -> String {
    let s = clean::strip_non_xml(s);
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.trim().chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The first `max` characters of `text`, cut at a word boundary, with an ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let at = cut
        .rfind(char::is_whitespace)
        .filter(|&i| i > max / 2)
        .unwrap_or(cut.len());
    format!(
        "{}…",
        cut[..at].trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext {
            base: Some(Url::parse("https://news.example/rss").unwrap()),
            zone: chrono_tz::UTC,
            now: "2026-02-01T00:00:00Z".parse().unwrap(),
        }
    }

    const NO_GUID: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Digest</title><link>https://news.example/</link>
<item><title>Talks in Baku</title><link>/news/1</link><description>First &lt;b&gt;bold&lt;/b&gt;</description><pubDate>Wed, 14 Jan 2026 10:00:00 +0400</pubDate></item>
<item><title></title><description>Only a description with some words in it</description></item>
</channel></rss>"#;

    #[test]
    fn items_without_guid_get_the_same_id_every_time() {
        let a = parse_feed(NO_GUID, &ctx()).unwrap();
        let b = parse_feed(NO_GUID, &ctx()).unwrap();
        assert_eq!(a.entries.len(), 2);
        assert_eq!(a.entries[0].id, "https://news.example/news/1");
        assert!(!a.entries[0].id_from_feed);
        assert_eq!(a.entries[1].id, b.entries[1].id);
        assert!(a.entries[1].id.starts_with("urn:sha256:"));
        assert_eq!(
            a.entries[1].title,
            "Only a description with some words in it"
        );
        assert_eq!(a.format, FeedFormat::Rss2);
        assert_eq!(a.entries[0].summary.as_deref(), Some("First <b>bold</b>"));
        assert_eq!(
            a.entries[0].published.unwrap().to_rfc3339(),
            "2026-01-14T06:00:00+00:00"
        );
    }

    #[test]
    fn items_with_only_a_date_an_id_or_an_enclosure_are_kept() {
        let doc = r#"<rss version="2.0"><channel><title>T</title>
            <item><pubDate>Sun, 06 Jul 2014 12:56:00 GMT</pubDate></item>
            <item><pubDate>Mon, 07 Jul 2014 12:56:00 GMT</pubDate></item>
            <item><guid isPermaLink="false">only-an-id</guid></item>
            <item><enclosure url="http://cdn.example/ep1.mp3" length="1" type="audio/mpeg"/></item>
            <item></item>
            </channel></rss>"#;
        let f = parse_feed(doc, &ctx()).unwrap();
        assert_eq!(f.entries.len(), 4, "{:?}", f.warnings);
        assert_eq!(f.entries[0].title, "(no title)");
        // Two date-only items are two entries, with ids stable across fetches.
        assert_ne!(f.entries[0].id, f.entries[1].id);
        assert_eq!(
            f.entries[0].id,
            parse_feed(doc, &ctx()).unwrap().entries[0].id
        );
        assert_eq!(f.entries[2].id, "only-an-id");
        assert_eq!(
            f.entries[3].link.as_deref(),
            Some("http://cdn.example/ep1.mp3")
        );
        assert_eq!(
            f.warnings,
            ["item 5 is empty (no title, link, content, id, date, author or category); skipped"]
        );
        // An empty item is not broken XML.
        assert!(f.well_formed);
    }

    #[test]
    fn control_characters_are_removed_before_parsing() {
        let doc = "<rss version=\"2.0\"><channel><title>T</title><item><guid>g1</guid><title>Bad\u{8}title</title></item></channel></rss>";
        let f = parse_feed(doc, &ctx()).unwrap();
        assert_eq!(f.entries[0].title, "Badtitle");
        assert_eq!(f.warnings.len(), 1);
    }

    #[test]
    fn html_page_is_reported_with_its_advertised_feeds() {
        let page = r#"<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head><body>x</body></html>"#;
        match parse_feed(page, &ctx()) {
            Err(ParseError::NotAFeed { advertised }) => {
                assert_eq!(advertised, vec!["https://news.example/feed"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn future_dates_are_clamped_to_now() {
        let doc = "<rss version=\"2.0\"><channel><title>T</title><item><guid>g</guid><title>x</title><pubDate>Wed, 14 Jan 2099 10:00:00 +0000</pubDate></item></channel></rss>";
        let f = parse_feed(doc, &ctx()).unwrap();
        assert_eq!(f.entries[0].published, Some(ctx().now));
    }

    #[test]
    fn syndication_period_is_read_as_minutes() {
        let doc = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>T</title>
            <sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
            <item><guid>g</guid><title>x</title></item></channel></rss>"#;
        assert_eq!(parse_feed(doc, &ctx()).unwrap().ttl_minutes, Some(720));
        assert_eq!(syndication_minutes("<x/>"), None);
    }

    #[test]
    fn excerpt_cuts_at_a_word() {
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("short", 9), "short");
    }
}
