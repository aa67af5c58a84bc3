//! Finding the feed behind an address an admin pastes: the address itself, a feed the page
//! advertises (`<link rel="alternate">`), or one at a path sites commonly use.
//!
//! When a page has no feed at all, it can still be read as an HTML source (`kind = "html"`).
//! [`guess_html_source`] looks for the page's list of stories (repeated elements, each with a
//! headline link and often a date) and proposes the `[feed.html]` selectors, so `feeds add`
//! can print a template that works as pasted, or nearly.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::model::ParsedFeed;
use crate::parse::dates;
use crate::parse::html_source::{HtmlSource, parse_html_source};
use crate::refresh::{DocumentFailure, adhoc_feed, fetch_document_detailed};

/// Paths tried, relative to the site root, when a page advertises no feed.
pub const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feed/",
];

/// What an address turned out to be.
#[derive(Debug)]
pub enum Discovery {
    /// A feed, with its parse.
    Feed(Url, Box<ParsedFeed>),
    /// An HTML page advertising these feeds.
    Advertised(Vec<Url>),
    /// Not a feed, advertising none; `found` is a feed at a common path, if any. When there is
    /// none, `guess` holds selectors that read the page as an HTML source, if the page has a
    /// recognisable list of stories.
    Page {
        found: Option<(Url, Box<ParsedFeed>)>,
        guess: Option<Box<HtmlGuess>>,
    },
}

/// Selectors guessed for a page, with what the page gives when read with them.
#[derive(Debug, Clone)]
pub struct HtmlGuess {
    pub source: HtmlSource,
    pub preview: ParsedFeed,
}

/// Looks at `url` and says what it is; network or HTTP failures are errors with a reason.
pub async fn discover(fetcher: &Fetcher, url: &Url, config: &Config) -> Result<Discovery, String> {
    let max = usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX);
    let zone = config.schedule.timezone;
    match fetch_document_detailed(fetcher, &adhoc_feed(url.clone(), config), zone, max).await {
        Ok(feed) => Ok(Discovery::Feed(url.clone(), Box::new(feed))),
        Err(DocumentFailure::NotAFeed { advertised, .. }) if !advertised.is_empty() => {
            Ok(Discovery::Advertised(
                advertised
                    .iter()
                    .filter_map(|a| Url::parse(a).ok())
                    .collect(),
            ))
        }
        Err(DocumentFailure::NotAFeed {
            url: page_url,
            page,
            ..
        }) => {
            for path in COMMON_PATHS {
                let Ok(candidate) = url.join(path) else {
                    continue;
                };
                if let Ok(feed) = fetch_document_detailed(
                    fetcher,
                    &adhoc_feed(candidate.clone(), config),
                    zone,
                    max,
                )
                .await
                {
                    return Ok(Discovery::Page {
                        found: Some((candidate, Box::new(feed))),
                        guess: None,
                    });
                }
            }
            let guess = tokio::task::spawn_blocking(move || {
                guess_html_source(&page, &page_url, zone, Utc::now())
            })
            .await
            .ok()
            .flatten()
            .map(Box::new);
            Ok(Discovery::Page { found: None, guess })
        }
        Err(DocumentFailure::Other(reason)) => Err(reason),
    }
}

// ---------------------------------------------------------------------------------------------
// Guessing selectors for a page without a feed
// ---------------------------------------------------------------------------------------------

/// Fewest repeated elements taken for a list of stories.
const MIN_ITEMS: usize = 3;

/// Candidate lists read in full (best first) before giving up.
const MAX_TRIED: usize = 3;

/// Longest text taken for a date (a date selector matching a paragraph is no date).
const MAX_DATE_LEN: usize = 48;

/// Date formats tried on a list's dates, most specific first; the first that reads every
/// date wins. Month names (`%b`, `%B`) may be English, Russian or Azerbaijani.
const DATE_FORMATS: &[&str] = &[
    "%d.%b.%Y",
    "%d.%m.%Y %H:%M",
    "%H:%M %d.%m.%Y",
    "%d.%m.%Y",
    "%d %B %Y, %H:%M",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%B %d, %Y",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
];

/// Proposes `[feed.html]` selectors for `html` (the decoded page at `page_url`): the repeated
/// elements with the most headline text (each holding a link), with the date, summary and
/// image inside them when most items have one. Returns `None` when no candidate reads at least
/// three entries. Never panics; a page the HTML parser cannot take gives `None`.
pub fn guess_html_source(
    html: &str,
    page_url: &Url,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<HtmlGuess> {
    let candidates = catch_unwind(AssertUnwindSafe(|| {
        let doc = Html::parse_document(html);
        candidates(&doc, zone)
    }))
    .ok()?;
    candidates.into_iter().find_map(|source| {
        let preview = parse_html_source(html, &source, page_url, zone, now).ok()?;
        (preview.entries.len() >= MIN_ITEMS).then_some(HtmlGuess { source, preview })
    })
}

/// Candidate sources, best first (at most [`MAX_TRIED`]).
fn candidates(doc: &Html, zone: chrono_tz::Tz) -> Vec<HtmlSource> {
    type Found<'a> = (
        usize,
        ElementRef<'a>,
        String,
        Vec<ElementRef<'a>>,
        HtmlSource,
    );
    let mut found: Vec<Found<'_>> = Vec::new();
    for parent in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<(String, Vec<ElementRef<'_>>)> = Vec::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            let sig = compound(child);
            match index.get(&sig) {
                Some(&i) => groups[i].1.push(child),
                None => {
                    index.insert(sig.clone(), groups.len());
                    groups.push((sig, vec![child]));
                }
            }
        }
        for (child_sel, items) in groups {
            if items.len() < MIN_ITEMS {
                continue;
            }
            if let Some((score, source)) = candidate(parent, &items, zone) {
                found.push((score, parent, child_sel, items, source));
            }
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.0));
    // The item selector is built last, for the best few only: it searches the whole page.
    found
        .into_iter()
        .take(MAX_TRIED * 3)
        .filter_map(|(_, parent, child_sel, items, mut source)| {
            source.item = item_selector(doc, parent, &child_sel, &items)?;
            Some(source)
        })
        .take(MAX_TRIED)
        .collect()
}

/// One group of repeated siblings as a source (its item selector still empty), with its
/// score: headline words, doubled when the items are dated, quartered inside navigation.
fn candidate(
    parent: ElementRef<'_>,
    items: &[ElementRef<'_>],
    zone: chrono_tz::Tz,
) -> Option<(usize, HtmlSource)> {
    let heads: Vec<Option<ElementRef<'_>>> = items.iter().map(|i| headline(*i)).collect();
    let linked = heads.iter().flatten().count();
    if linked < MIN_ITEMS || linked * 2 < items.len() {
        return None;
    }
    // Sections each holding a list of their own are containers, not stories.
    let containers = items.iter().filter(|i| headline_links(**i) > 3).count();
    if containers * 2 > items.len() {
        return None;
    }
    let title = title_selector(items, &heads)?;
    let mut score: usize = heads
        .iter()
        .flatten()
        .map(|a| words(&text(*a)).min(12))
        .sum();
    let mut source = HtmlSource::new("", &title, &format!("{title}@href"));
    if let Some((date, format)) = date_selector(items, zone) {
        source.date = Some(date);
        source.date_format = format;
        score *= 2;
    }
    source.summary = common_selector(items, "p", |el| {
        text(el).chars().count() >= 30 && el.select(&sel("a[href]")).next().is_none()
    });
    source.image = common_selector(items, "img", |el| el.value().attr("src").is_some())
        .map(|s| format!("{s}@src"));
    let in_nav = parent
        .ancestors()
        .filter_map(ElementRef::wrap)
        .chain(std::iter::once(parent))
        .any(|a| a.value().name() == "nav" || a.value().attr("role") == Some("navigation"));
    if in_nav {
        score /= 4;
    }
    Some((score, source))
}

/// The item's headline link: of its `a[href]` (itself included) that lead somewhere, the one
/// with the most text.
fn headline(item: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let leads = |a: &ElementRef<'_>| {
        a.value().attr("href").is_some_and(|h| {
            let h = h.trim().to_ascii_lowercase();
            !h.is_empty()
                && !h.starts_with('#')
                && !h.starts_with("javascript:")
                && !h.starts_with("mailto:")
        }) && !text(*a).is_empty()
    };
    std::iter::once(item)
        .filter(|i| i.value().name() == "a")
        .chain(item.select(&sel("a[href]")))
        .filter(leads)
        .max_by_key(|a| text(*a).chars().count())
}

/// How many links with a headline's worth of words (four or more) are in `item`.
fn headline_links(item: ElementRef<'_>) -> usize {
    item.select(&sel("a[href]"))
        .filter(|a| words(&text(*a)) >= 4)
        .count()
}

/// `h3 a`, `a` or `a.class`: the first that finds each item's headline link as the first
/// link with text, as [`parse_html_source`] reads it.
fn title_selector(items: &[ElementRef<'_>], heads: &[Option<ElementRef<'_>>]) -> Option<String> {
    // A heading's link first: it stays right when a category link is added before it.
    let mut options = Vec::new();
    let first_head = heads.iter().flatten().next()?;
    if let Some(h) = first_head
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| matches!(a.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
    {
        options.push(format!("{} a", h.value().name()));
    }
    options.push("a".to_string());
    if let Some(class) = first_class(*first_head) {
        options.push(format!("a.{class}"));
    }
    let linked = heads.iter().flatten().count();
    options.into_iter().find(|opt| {
        let Ok(s) = Selector::parse(opt) else {
            return false;
        };
        let hits = items
            .iter()
            .zip(heads)
            .filter(|(item, head)| {
                let first = item
                    .select(&s)
                    .chain(std::iter::once(**item).filter(|i| s.matches(i)))
                    .find(|a| !text(*a).is_empty());
                matches!((first, head), (Some(f), Some(h)) if f.id() == h.id())
            })
            .count();
        hits * 5 >= linked * 4
    })
}

/// The selector of the date inside most items, and the format that reads all of them
/// (`None`: the automatic parser reads them, or they are `time@datetime`).
fn date_selector(
    items: &[ElementRef<'_>],
    zone: chrono_tz::Tz,
) -> Option<(String, Option<String>)> {
    // Candidate selector → the date text it gives in each item that has one.
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for item in items {
        let mut here: Vec<(String, String)> = Vec::new();
        for el in item.descendants().skip(1).filter_map(ElementRef::wrap) {
            if el.value().name() == "time"
                && let Some(dt) = el.value().attr("datetime")
                && dates::parse_date(dt, zone).is_some()
            {
                here.push(("time@datetime".into(), dt.to_string()));
                continue;
            }
            let Some(t) = short_text(el).filter(|t| readable_date(t, zone).is_some()) else {
                continue;
            };
            let s = match first_class(el) {
                Some(c) => format!(".{c}"),
                None => el.value().name().to_string(),
            };
            here.push((s, t));
        }
        let mut taken: Vec<String> = Vec::new();
        for (s, t) in here {
            if taken.contains(&s) {
                continue;
            }
            if !seen.contains_key(&s) {
                order.push(s.clone());
            }
            seen.entry(s.clone()).or_default().push(t);
            taken.push(s);
        }
    }
    let best = order
        .into_iter()
        .max_by_key(|s| (seen[s].len(), s.starts_with("time@")))?;
    let samples = &seen[&best];
    if samples.len() * 2 < items.len() {
        return None;
    }
    if best == "time@datetime" {
        return Some((best, None));
    }
    let format = DATE_FORMATS
        .iter()
        .find(|f| {
            samples
                .iter()
                .all(|t| dates::parse_date_with_format(t, f, zone).is_some())
        })
        .map(|f| f.to_string());
    if format.is_none() && !samples.iter().all(|t| dates::parse_date(t, zone).is_some()) {
        return None;
    }
    Some((best, format))
}

/// A date in one of [`DATE_FORMATS`] or one the automatic parser reads.
fn readable_date(t: &str, zone: chrono_tz::Tz) -> Option<()> {
    let by_format = DATE_FORMATS
        .iter()
        .any(|f| dates::parse_date_with_format(t, f, zone).is_some());
    (by_format || dates::parse_date(t, zone).is_some()).then_some(())
}

/// `tag` or `tag.class` of the elements named `tag` in most items that satisfy `keep`.
fn common_selector(
    items: &[ElementRef<'_>],
    tag: &str,
    keep: impl Fn(ElementRef<'_>) -> bool,
) -> Option<String> {
    let tag_sel = sel(tag);
    let firsts: Vec<ElementRef<'_>> = items
        .iter()
        .filter_map(|i| i.select(&tag_sel).find(|el| keep(*el)))
        .collect();
    if firsts.is_empty() || firsts.len() * 2 < items.len() {
        return None;
    }
    // The plain tag when the first such element of every item is the one wanted, else the
    // tag with the wanted element's class.
    let plain_ok = items
        .iter()
        .all(|i| i.select(&tag_sel).next().is_none_or(&keep));
    if plain_ok {
        return Some(tag.to_string());
    }
    first_class(firsts[0]).map(|c| format!("{tag}.{c}"))
}

/// The item selector: the parent's id or class (or an ancestor's) then the child's class or
/// compound. One that selects exactly the group's elements is preferred; else one that selects
/// them and only elements like them (same compound, in a parent of the same compound): the
/// same list repeated under several headings.
fn item_selector(
    doc: &Html,
    parent: ElementRef<'_>,
    child: &str,
    items: &[ElementRef<'_>],
) -> Option<String> {
    // `.item` reads better than `div.item`; the compound is kept when the class alone
    // selects more.
    let children: Vec<&str> = match child.split_once('.') {
        Some((_, class)) => vec![&child[child.len() - class.len() - 1..], child],
        None => vec![child],
    };
    let mut options: Vec<String> = Vec::new();
    let mut prefix = String::new();
    let mut node = Some(parent);
    for _ in 0..4 {
        let Some(el) = node else {
            break;
        };
        let ident = identity(el);
        let here = ident
            .clone()
            .unwrap_or_else(|| el.value().name().to_string());
        prefix = if prefix.is_empty() {
            here
        } else {
            format!("{here} > {prefix}")
        };
        if ident.is_some() || matches!(el.value().name(), "main" | "article" | "body") {
            for child in &children {
                options.push(format!("{prefix} {child}"));
                options.push(format!("{prefix} > {child}"));
            }
        }
        node = el.parent().and_then(ElementRef::wrap);
    }
    let parent_compound = compound(parent);
    let selects = |css: &str, strict: bool| {
        let Ok(s) = Selector::parse(css) else {
            return false;
        };
        let mut of_group = 0;
        let all_alike = doc.select(&s).all(|el| {
            if items.iter().any(|i| i.id() == el.id()) {
                of_group += 1;
                return true;
            }
            !strict
                && compound(el) == child
                && el
                    .parent()
                    .and_then(ElementRef::wrap)
                    .is_some_and(|p| compound(p) == parent_compound)
        });
        all_alike && of_group == items.len()
    };
    [true, false]
        .into_iter()
        .find_map(|strict| options.iter().find(|css| selects(css, strict)).cloned())
}

/// `#id` or `.class` when the element has one usable as a CSS identifier.
fn identity(el: ElementRef<'_>) -> Option<String> {
    if let Some(id) = el.value().id().filter(|i| is_ident(i)) {
        return Some(format!("#{id}"));
    }
    first_class(el).map(|c| format!(".{c}"))
}

/// `tag` or `tag.class`: how a child is told apart from its siblings.
fn compound(el: ElementRef<'_>) -> String {
    match first_class(el) {
        Some(c) => format!("{}.{c}", el.value().name()),
        None => el.value().name().to_string(),
    }
}

fn first_class(el: ElementRef<'_>) -> Option<String> {
    el.value()
        .attr("class")?
        .split_ascii_whitespace()
        .find(|c| is_ident(c))
        .map(str::to_string)
}

/// A CSS identifier that needs no escaping.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s != "-"
}

/// The element's text when it is short enough to be a date, without collecting a long one.
fn short_text(el: ElementRef<'_>) -> Option<String> {
    let mut raw = String::new();
    for t in el.text() {
        raw.push_str(t);
        if raw.len() > MAX_DATE_LEN * 8 {
            return None;
        }
    }
    let t = crate::clean::collapse_whitespace(&raw);
    (!t.is_empty() && t.chars().count() <= MAX_DATE_LEN).then_some(t)
}

fn text(el: ElementRef<'_>) -> String {
    crate::clean::collapse_whitespace(&el.text().collect::<String>())
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// A selector known to parse.
fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|_| unreachable!("constant selector `{css}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn now() -> DateTime<Utc> {
        "2026-01-15T00:00:00Z".parse().unwrap()
    }

    fn guess(rel: &str, page: &str) -> Option<HtmlGuess> {
        let bytes = fixture(rel);
        let text = crate::decode::decode(&bytes, Some("text/html"), usize::MAX)
            .unwrap()
            .text;
        guess_html_source(&text, &Url::parse(page).unwrap(), chrono_tz::UTC, now())
    }

    #[test]
    fn the_latest_news_list_is_found_with_its_dates_and_format() {
        let g = guess(
            "site/news.html",
            "https://caucasus-analysis.example/en/news/",
        )
        .expect("a list is found");
        assert_eq!(g.source.item, ".latest-news li");
        assert_eq!(g.source.title, "a");
        assert_eq!(g.source.link, "a@href");
        assert_eq!(g.source.date.as_deref(), Some(".date"));
        assert_eq!(g.source.date_format.as_deref(), Some("%d.%b.%Y"));
        assert_eq!(g.source.summary, None);
        assert_eq!(g.preview.entries.len(), 10);
        let first = &g.preview.entries[0];
        assert_eq!(first.title, "“Muslim NATO”: Turkey’s New Strategic Vector");
        assert_eq!(
            first.link.as_deref(),
            Some("https://caucasus-analysis.example/en/news/muslim-nato-turkey-strategic-vector")
        );
        assert_eq!(
            first.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-01-10T00:00:00+00:00")
        );
        assert!(g.preview.warnings.is_empty(), "{:?}", g.preview.warnings);
    }

    #[test]
    fn a_russian_page_gets_heading_links_genitive_dates_and_its_teaser() {
        let g = guess("site/news-1251.html", "https://kavkaz-vestnik.example/ru/")
            .expect("a list is found");
        assert_eq!(g.source.item, ".news-list .item");
        assert_eq!(g.source.title, "h3 a");
        assert_eq!(g.source.date.as_deref(), Some(".date"));
        assert_eq!(g.source.date_format.as_deref(), Some("%d %B %Y"));
        assert_eq!(g.preview.entries.len(), 10);
        assert!(
            g.preview.entries.iter().all(|e| e.published.is_some()),
            "{:?}",
            g.preview.warnings
        );
    }

    #[test]
    fn time_elements_links_as_items_and_navigation_menus() {
        let page = r##"<html><body>
            <nav class="menu"><a href="/a">Politics</a><a href="/b">Economy</a><a href="/c">Sport</a><a href="/d">Culture</a></nav>
            <div id="stream">
              <a class="story" href="/s/1">Parliament passes the budget after a long night <time datetime="2026-01-12T08:00:00Z">Mon</time></a>
              <a class="story" href="/s/2">Border crossing reopens for freight traffic <time datetime="2026-01-11T08:00:00Z">Sun</time></a>
              <a class="story" href="/s/3">New rail link between the two capitals announced <time datetime="2026-01-10T08:00:00Z">Sat</time></a>
            </div></body></html>"##;
        let g = guess_html_source(
            page,
            &Url::parse("https://x.example/").unwrap(),
            chrono_tz::UTC,
            now(),
        )
        .expect("the stream is found");
        assert_eq!(g.source.item, "#stream .story");
        assert_eq!(g.source.date.as_deref(), Some("time@datetime"));
        assert_eq!(g.source.date_format, None);
        assert_eq!(g.preview.entries.len(), 3);
        assert_eq!(
            g.preview.entries[2].link.as_deref(),
            Some("https://x.example/s/3")
        );
    }

    #[test]
    fn sections_holding_lists_are_not_taken_for_stories() {
        let mut page = String::from("<html><body>");
        for s in 0..12 {
            page.push_str(&format!(
                "<div class=\"section\"><h2>Section {s}</h2><ul class=\"stories\">"
            ));
            for i in 0..5 {
                // Each section leads with a longer headline: its first link is its longest.
                let more = if i == 0 { " and what comes next" } else { "" };
                page.push_str(&format!(
                    "<li><a href=\"/s{s}/{i}\">Story {i} of section {s} on the talks in Baku{more}</a></li>"
                ));
            }
            page.push_str("</ul></div>");
        }
        let g = guess_html_source(
            &page,
            &Url::parse("https://x.example/").unwrap(),
            chrono_tz::UTC,
            now(),
        )
        .expect("a list is found");
        assert_eq!(g.source.item, ".stories li", "{:?}", g.source);
        assert_eq!(g.preview.entries.len(), 60);
    }

    #[test]
    fn pages_without_a_list_of_stories_give_nothing() {
        let empty = String::from_utf8(fixture("site/empty.html")).unwrap();
        let url = Url::parse("https://x.example/").unwrap();
        assert!(guess_html_source(&empty, &url, chrono_tz::UTC, now()).is_none());
        assert!(guess_html_source("", &url, chrono_tz::UTC, now()).is_none());
        let menu = r#"<ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li></ul>"#;
        assert!(guess_html_source(menu, &url, chrono_tz::UTC, now()).is_none());
    }
}
