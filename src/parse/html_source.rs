//! HTML-page sources: reading a web page that has no feed as if it were one.
//!
//! Many regional outlets publish no feed (or a broken one) but every page carries a list of
//! their latest stories: a title, a link and a date per item. A feed with `kind = "html"` in
//! `feeds.toml` names that list with CSS selectors (the `[feed.html]` table, mirrored by
//! [`HtmlSource`]), and this module turns the page into the same [`ParsedFeed`] an RSS or Atom
//! document gives, so the rest of the pipeline (clean, dedup, store, export) cannot tell them
//! apart.
//!
//! # Selectors
//!
//! Every field is a CSS selector evaluated inside each item, optionally followed by
//! `@attribute`: `a@href` is the `href` of the first `a` in the item, `time@datetime` the
//! `datetime` of its first `time`, and `@href` (no selector) an attribute of the item element
//! itself. Without `@`, a field takes the matched element's text (`summary` takes its inner
//! HTML; `link` defaults to `href` and `image` to `src`). A field's selector is tried on the
//! item's descendants first and then on the item itself, so `link = "a"` also works when the
//! items are the `<a>` elements. The first match with a non-empty value wins.
//!
//! # What an item becomes
//!
//! - `id` and `link`: the link resolved against the page URL (or the page's `<base href>`),
//!   so the same article is never stored twice however the page writes its link.
//! - `title`: plain text; `summary`: sanitized HTML (an `image` is put in front of it);
//!   `authors`: the author's text.
//! - `published`: the date read with `date_format` (strftime, with English, Russian and
//!   Azerbaijani month names) or, without one, with the shared automatic parser. Dates more
//!   than a few minutes in the future are clamped to the fetch time.
//!
//! Problems with one item never fail the page: an item without a link or a title is skipped,
//! a date that cannot be read leaves the entry undated (the store then files it by the time
//! Tributary first saw it), and each case is recorded as a warning naming the item's position.
//! A page whose item selector matches nothing is an error, not an empty success: it usually
//! means the site changed its layout.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::clean;
use crate::model::{FeedFormat, NewEntry, ParsedFeed};
use crate::parse::dates;

/// Most items read from one page; a list page longer than this is cut, with a warning.
pub const MAX_ITEMS: usize = 1000;

/// Most per-item warnings kept for one page; the rest are counted in one closing warning.
const MAX_WARNINGS: usize = 50;

/// Longest value quoted back in a warning (a date selector that matched a whole paragraph).
const MAX_QUOTED: usize = 80;

/// The `[feed.html]` table of a `kind = "html"` feed: where the items and their fields are on
/// the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlSource {
    /// Selector for one item of the list, e.g. `.latest-news li`.
    pub item: String,
    /// The item's title, e.g. `a` (text) or `a@title` (attribute).
    pub title: String,
    /// The item's link as `selector@attribute`, e.g. `a@href`; `@href` is an attribute of
    /// the item itself; without `@` the matched element's `href` is used.
    pub link: String,
    /// The item's date, e.g. `.date` or `time@datetime`.
    pub date: Option<String>,
    /// strftime format of the date, e.g. `%d.%b.%Y` for `10.Jan.2026`; `None` reads the date
    /// automatically.
    pub date_format: Option<String>,
    /// The item's summary (its inner HTML is kept, sanitized).
    pub summary: Option<String>,
    /// The item's author (text).
    pub author: Option<String>,
    /// The item's image as `selector@attribute`, e.g. `img@src`; shown before the summary.
    pub image: Option<String>,
}

impl HtmlSource {
    /// A source with the three required selectors and no optional ones.
    pub fn new(item: &str, title: &str, link: &str) -> HtmlSource {
        HtmlSource {
            item: item.to_string(),
            title: title.to_string(),
            link: link.to_string(),
            ..HtmlSource::default()
        }
    }

    /// Checks that every selector parses and every `@attribute` names an attribute; the
    /// message names the field and the selector at fault.
    pub fn validate(&self) -> Result<(), String> {
        Compiled::new(self).map(|_| ())
    }
}

/// Why an HTML page could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlSourceError {
    /// A selector in `[feed.html]` does not parse; the message names it.
    #[error("{0}")]
    InvalidSelector(String),
    /// The item selector matched nothing: the page is not the list it was configured for.
    #[error("item selector `{selector}` matched nothing on {url}")]
    NoItems { selector: String, url: String },
    /// Items were found but none had both a link and a title.
    #[error(
        "item selector `{selector}` matched {count} items on {url} but none has both a title and a link ({first_problem})"
    )]
    NoUsableItems {
        selector: String,
        url: String,
        count: usize,
        first_problem: String,
    },
    /// The HTML parser crashed on this page.
    #[error("the HTML parser crashed on {url}: {message}")]
    Panicked { url: String, message: String },
}

/// Reads the items of an HTML page as feed entries.
///
/// `html` is the decoded page text and `base` the page URL (after redirects); relative links
/// are resolved against it, or against the page's `<base href>` when it has one. Zone-less
/// dates are read in `zone`; dates later than `now` (plus a little slack) are clamped to it.
pub fn parse_html_source(
    html: &str,
    src: &HtmlSource,
    base: &Url,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, HtmlSourceError> {
    let compiled = Compiled::new(src).map_err(HtmlSourceError::InvalidSelector)?;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let doc = Html::parse_document(html);
        read_page(&doc, &compiled, base, zone, now)
    }));
    match result {
        Ok(parsed) => parsed,
        Err(panic) => Err(HtmlSourceError::Panicked {
            url: base.to_string(),
            message: panic_message(&*panic),
        }),
    }
}

/// The URL relative links on a page resolve against: its first `<base href>` (itself
/// resolved against the page URL) when that is an http(s) URL, else the page URL.
pub fn page_base(doc: &Html, page_url: &Url) -> Url {
    let Ok(sel) = Selector::parse("base[href]") else {
        return page_url.clone();
    };
    doc.select(&sel)
        .next()
        .and_then(|el| el.value().attr("href"))
        .and_then(|href| clean::resolve_link(href, Some(page_url)))
        .and_then(|href| Url::parse(&href).ok())
        .unwrap_or_else(|| page_url.clone())
}

/// The page's own name: its `<title>`, else its `og:site_name`.
pub fn page_title(doc: &Html) -> String {
    let from = |css: &str, attr: Option<&str>| -> Option<String> {
        let sel = Selector::parse(css).ok()?;
        let el = doc.select(&sel).next()?;
        let raw = match attr {
            Some(a) => el.value().attr(a)?.to_string(),
            None => el.text().collect(),
        };
        Some(one_line(&raw)).filter(|s| !s.is_empty())
    };
    from("title", None)
        .or_else(|| from(r#"meta[property="og:site_name"][content]"#, Some("content")))
        .unwrap_or_default()
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

// ---------------------------------------------------------------------------------------------
// Compiled selectors
// ---------------------------------------------------------------------------------------------

/// One field's `selector@attribute`, parsed.
#[derive(Debug)]
struct Field {
    /// As the admin wrote it, for messages.
    raw: String,
    /// `None`: the item element itself.
    selector: Option<Selector>,
    attr: Option<String>,
}

#[derive(Debug)]
struct Compiled {
    item_raw: String,
    item: Selector,
    title: Field,
    link: Field,
    date: Option<Field>,
    date_format: Option<String>,
    summary: Option<Field>,
    author: Option<Field>,
    image: Option<Field>,
}

impl Compiled {
    fn new(src: &HtmlSource) -> Result<Compiled, String> {
        let item_raw = src.item.trim().to_string();
        if item_raw.is_empty() {
            return Err("item selector is empty".to_string());
        }
        let item = Selector::parse(&item_raw)
            .map_err(|e| format!("item selector `{item_raw}` is not valid CSS: {e}"))?;
        let optional = |name: &str, spec: &Option<String>| -> Result<Option<Field>, String> {
            spec.as_deref().map(|s| compile_field(name, s)).transpose()
        };
        let date_format = src
            .date_format
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        if let Some(format) = &date_format {
            if src.date.is_none() {
                return Err(format!(
                    "date_format `{format}` is set but no date selector is"
                ));
            }
            if !["%Y", "%y", "%F", "%D"].iter().any(|d| format.contains(d)) {
                return Err(format!(
                    "date_format `{format}` has no year (%Y or %y); dates cannot be read without one"
                ));
            }
        }
        Ok(Compiled {
            item_raw,
            item,
            title: compile_field("title", &src.title)?,
            link: compile_field("link", &src.link)?,
            date: optional("date", &src.date)?,
            date_format,
            summary: optional("summary", &src.summary)?,
            author: optional("author", &src.author)?,
            image: optional("image", &src.image)?,
        })
    }
}

fn compile_field(name: &str, spec: &str) -> Result<Field, String> {
    let raw = spec.trim().to_string();
    let (css, attr) = split_attribute(&raw);
    let attr = match attr {
        Some(a) if !is_attribute_name(a) => {
            return Err(format!(
                "{name} selector `{raw}`: `{a}` after @ is not an attribute name"
            ));
        }
        Some(a) => Some(a.to_ascii_lowercase()),
        None => None,
    };
    let css = css.trim();
    let selector = if css.is_empty() {
        None
    } else {
        Some(
            Selector::parse(css)
                .map_err(|e| format!("{name} selector `{raw}` is not valid CSS: {e}"))?,
        )
    };
    Ok(Field {
        raw,
        selector,
        attr,
    })
}

/// Splits `a[title="x@y"]@href` at its last `@` outside brackets and quotes.
fn split_attribute(spec: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut at = None;
    for (i, c) in spec.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth = depth.saturating_sub(1),
            (None, '@') if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    match at {
        Some(i) => (&spec[..i], Some(spec[i + 1..].trim())),
        None => (spec, None),
    }
}

fn is_attribute_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '"' | '\'' | '>' | '/' | '=' | '@')
        })
}

// ---------------------------------------------------------------------------------------------
// Reading the page
// ---------------------------------------------------------------------------------------------

/// Per-item warnings, capped so a long page of broken items cannot flood the feed's record.
#[derive(Default)]
struct Warnings {
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, w: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(w);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!(
                "… and {} more item warnings not shown",
                self.dropped
            ));
        }
        self.list
    }
}

fn read_page(
    doc: &Html,
    src: &Compiled,
    page_url: &Url,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, HtmlSourceError> {
    let base = page_base(doc, page_url);
    let mut warnings = Warnings::default();
    let mut entries = Vec::new();
    let mut seen_links: HashMap<String, usize> = HashMap::new();
    let mut first_problem = None;
    let mut count = 0usize;
    for item in doc.select(&src.item) {
        count += 1;
        if count > MAX_ITEMS {
            continue;
        }
        match read_item(item, count, src, &base, zone, now, &mut warnings) {
            Ok(entry) => {
                let link = entry.id.clone();
                if let Some(first) = seen_links.get(&link) {
                    warnings.push(format!(
                        "item {count}: same link as item {first} ({link}); skipped"
                    ));
                    continue;
                }
                seen_links.insert(link, count);
                entries.push(entry);
            }
            Err(problem) => {
                if first_problem.is_none() {
                    first_problem = Some(problem.clone());
                }
                warnings.push(problem);
            }
        }
    }
    if count == 0 {
        return Err(HtmlSourceError::NoItems {
            selector: src.item_raw.clone(),
            url: page_url.to_string(),
        });
    }
    if entries.is_empty() {
        return Err(HtmlSourceError::NoUsableItems {
            selector: src.item_raw.clone(),
            url: page_url.to_string(),
            count: count.min(MAX_ITEMS),
            first_problem: first_problem.unwrap_or_default(),
        });
    }
    let mut warnings = warnings.finish();
    if count > MAX_ITEMS {
        warnings.push(format!(
            "item selector `{}` matched {count} items; only the first {MAX_ITEMS} were read",
            src.item_raw
        ));
    }
    Ok(ParsedFeed {
        format: FeedFormat::Html,
        title: page_title(doc),
        link: Some(page_url.to_string()),
        entries,
        warnings,
        // An HTML page is read leniently by design: nothing about it is "broken XML".
        well_formed: true,
        ttl_minutes: None,
    })
}

/// What looking a field up in one item found.
enum Lookup {
    Found(String),
    /// The selector matched no element.
    NoElement,
    /// Elements matched, but none had a non-empty value.
    NoValue,
}

/// The first non-empty value `read` gives for the elements `field` matches in `item`
/// (descendants first, then the item itself).
fn lookup<'a>(
    item: ElementRef<'a>,
    field: &Field,
    read: impl Fn(ElementRef<'a>) -> Option<String>,
) -> Lookup {
    let Some(sel) = &field.selector else {
        return match read(item).filter(|v| !v.is_empty()) {
            Some(v) => Lookup::Found(v),
            None => Lookup::NoValue,
        };
    };
    let mut matched = false;
    for el in item.select(sel) {
        matched = true;
        if let Some(v) = read(el).filter(|v| !v.is_empty()) {
            return Lookup::Found(v);
        }
    }
    if !matched && sel.matches(&item) {
        matched = true;
        if let Some(v) = read(item).filter(|v| !v.is_empty()) {
            return Lookup::Found(v);
        }
    }
    if matched {
        Lookup::NoValue
    } else {
        Lookup::NoElement
    }
}

/// The field's one-line text: the attribute when it names one, else the element's text.
fn text_of<'a>(field: &'a Field) -> impl Fn(ElementRef<'_>) -> Option<String> + 'a {
    move |el| match &field.attr {
        Some(a) => el.value().attr(a).map(one_line),
        None => Some(one_line(&el.text().collect::<String>())),
    }
}

/// The field's attribute (`default` when the spec names none).
fn attr_of<'a>(
    field: &'a Field,
    default: &'a str,
) -> impl Fn(ElementRef<'_>) -> Option<String> + 'a {
    move |el| {
        let name = field.attr.as_deref().unwrap_or(default);
        el.value().attr(name).map(|v| v.trim().to_string())
    }
}

fn one_line(s: &str) -> String {
    clean::collapse_whitespace(&clean::strip_non_xml(s))
}

fn quoted(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTED {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX_QUOTED).collect::<String>())
    }
}

fn missing(pos: usize, what: &str, field: &Field, found: &Lookup, wanted: &str) -> String {
    let why = match found {
        Lookup::NoElement => format!("selector `{}` matched nothing", field.raw),
        _ => format!("selector `{}` found no {wanted}", field.raw),
    };
    format!("item {pos}: no {what} ({why}); skipped")
}

fn read_item(
    item: ElementRef<'_>,
    pos: usize,
    src: &Compiled,
    base: &Url,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
    warnings: &mut Warnings,
) -> Result<NewEntry, String> {
    let raw_link = match lookup(item, &src.link, attr_of(&src.link, "href")) {
        Lookup::Found(v) => v,
        other => {
            let attr = src.link.attr.as_deref().unwrap_or("href");
            return Err(missing(
                pos,
                "link",
                &src.link,
                &other,
                &format!("`{attr}` value"),
            ));
        }
    };
    let Some(link) = clean::resolve_link(&raw_link, Some(base)) else {
        return Err(format!(
            "item {pos}: link `{}` is not an http(s) URL; skipped",
            quoted(&raw_link)
        ));
    };
    let title = match lookup(item, &src.title, text_of(&src.title)) {
        Lookup::Found(v) => v,
        other => return Err(missing(pos, "title", &src.title, &other, "text")),
    };

    let published = src.date.as_ref().and_then(|field| {
        let text = match lookup(item, field, text_of(field)) {
            Lookup::Found(v) => v,
            other => {
                let why = match other {
                    Lookup::NoElement => "matched nothing",
                    _ => "found no text",
                };
                warnings.push(format!(
                    "item {pos}: no date (selector `{}` {why})",
                    field.raw
                ));
                return None;
            }
        };
        let parsed = match &src.date_format {
            Some(format) => dates::parse_date_with_format(&text, format, zone),
            None => dates::parse_date(&text, zone),
        };
        if parsed.is_none() {
            warnings.push(match &src.date_format {
                Some(format) => format!(
                    "item {pos}: date `{}` does not match `{format}`",
                    quoted(&text)
                ),
                None => format!(
                    "item {pos}: date `{}` is not a date Tributary can read; set date_format",
                    quoted(&text)
                ),
            });
        }
        parsed.map(|d| dates::clamp_future(d, now).0)
    });

    let image =
        src.image
            .as_ref()
            .and_then(|field| match lookup(item, field, attr_of(field, "src")) {
                Lookup::Found(v) => clean::resolve_link(&v, Some(base)),
                _ => None,
            });
    let summary_html = src.summary.as_ref().and_then(|field| {
        let read = |el: ElementRef<'_>| match &field.attr {
            Some(a) => el.value().attr(a).map(escape_text),
            None => Some(clean::sanitize_html(&el.inner_html(), Some(base))),
        };
        match lookup(item, field, read) {
            Lookup::Found(v) => Some(v),
            _ => None,
        }
    });
    let summary = match (image, summary_html) {
        (None, s) => s,
        (Some(img), s) => {
            let tag = clean::sanitize_html(
                &format!(r#"<p><img src="{}" alt=""></p>"#, escape_text(&img)),
                Some(base),
            );
            Some(format!("{tag}{}", s.unwrap_or_default()))
        }
    };
    let authors = src
        .author
        .as_ref()
        .and_then(|field| match lookup(item, field, text_of(field)) {
            Lookup::Found(v) => Some(v),
            _ => None,
        })
        .into_iter()
        .collect();

    Ok(NewEntry {
        id: link.clone(),
        id_from_feed: false,
        title,
        link: Some(link),
        published,
        updated: None,
        summary,
        content: None,
        authors,
    })
}

/// Text as HTML: the characters markup gives meaning to are escaped.
fn escape_text(s: &str) -> String {
    let s = clean::strip_non_xml(s);
    let mut out = String::with_capacity(s.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://caucasus-analysis.example/en/news/").unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-01-15T00:00:00Z".parse().unwrap()
    }

    fn parse(html: &str, src: &HtmlSource) -> Result<ParsedFeed, HtmlSourceError> {
        parse_html_source(html, src, &page(), chrono_tz::UTC, now())
    }

    #[test]
    fn attribute_is_split_from_the_selector_outside_brackets() {
        assert_eq!(split_attribute("a@href"), ("a", Some("href")));
        assert_eq!(split_attribute("@href"), ("", Some("href")));
        assert_eq!(split_attribute("a"), ("a", None));
        assert_eq!(
            split_attribute(r#"a[href^="mailto:x@y"]"#),
            (r#"a[href^="mailto:x@y"]"#, None)
        );
        assert_eq!(
            split_attribute(r#"a[title="x@y"]@data-url"#),
            (r#"a[title="x@y"]"#, Some("data-url"))
        );
    }

    #[test]
    fn validation_names_the_bad_selector() {
        let mut src = HtmlSource::new(".latest-news li", "a", "a@href");
        assert_eq!(src.validate(), Ok(()));
        src.link = "a[href@href".to_string();
        let err = src.validate().unwrap_err();
        assert!(err.contains("link selector `a[href@href`"), "{err}");
        src.link = "a@".to_string();
        let err = src.validate().unwrap_err();
        assert!(err.contains("link selector `a@`"), "{err}");
        let mut src = HtmlSource::new("li >", "a", "a@href");
        assert!(src.validate().unwrap_err().contains("item selector `li >`"));
        src.item = "li".into();
        src.date = Some(".date".into());
        src.date_format = Some("%d.%b".into());
        assert!(src.validate().unwrap_err().contains("has no year"));
        src.date = None;
        src.date_format = Some("%d.%b.%Y".into());
        assert!(src.validate().unwrap_err().contains("no date selector"));
    }

    #[test]
    fn optional_fields_fill_summary_image_and_author() {
        let html = r#"<ul><li class="n"><a href="/en/news/1" title="Full title">Short</a>
            <img data-src="/img/1.jpg"><p>Teaser <b>bold</b><script>x()</script></p>
            <span class="by"> Leyla  Aliyeva </span><time datetime="2026-01-10T08:00:00+04:00">Jan 10</time></li></ul>"#;
        let src = HtmlSource {
            title: "a@title".into(),
            date: Some("time@datetime".into()),
            summary: Some("p".into()),
            author: Some(".by".into()),
            image: Some("img@data-src".into()),
            ..HtmlSource::new("li.n", "a", "a")
        };
        let feed = parse(html, &src).unwrap();
        let e = &feed.entries[0];
        assert_eq!(e.title, "Full title");
        assert_eq!(
            e.link.as_deref(),
            Some("https://caucasus-analysis.example/en/news/1")
        );
        assert_eq!(e.authors, vec!["Leyla Aliyeva"]);
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2026-01-10T04:00:00+00:00"
        );
        let summary = e.summary.as_deref().unwrap();
        assert!(
            summary.starts_with(
                r#"<p><img src="https://caucasus-analysis.example/img/1.jpg" alt=""></p>"#
            ),
            "{summary}"
        );
        assert!(summary.ends_with("Teaser <b>bold</b>"), "{summary}");
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    }

    #[test]
    fn items_that_are_links_themselves_use_the_item_attribute() {
        let html =
            r#"<div><a class="card" href="a1">One</a><a class="card" href="a2">Two</a></div>"#;
        let feed = parse(html, &HtmlSource::new("a.card", "", "@href")).unwrap();
        let links: Vec<_> = feed
            .entries
            .iter()
            .filter_map(|e| e.link.as_deref())
            .collect();
        assert_eq!(
            links,
            [
                "https://caucasus-analysis.example/en/news/a1",
                "https://caucasus-analysis.example/en/news/a2"
            ]
        );
        assert_eq!(feed.entries[1].title, "Two");
        // `a@href` falls back to the item itself when nothing inside it matches.
        let again = parse(html, &HtmlSource::new("a.card", "", "a@href")).unwrap();
        assert_eq!(again.entries, feed.entries);
    }

    #[test]
    fn base_href_is_honoured() {
        let html = r#"<html><head><base href="https://cdn.example/mirror/"></head>
            <body><ul><li><a href="story">Story</a></li></ul></body></html>"#;
        let feed = parse(html, &HtmlSource::new("li", "a", "a@href")).unwrap();
        assert_eq!(feed.entries[0].id, "https://cdn.example/mirror/story");
    }

    #[test]
    fn repeated_links_and_unsafe_links_are_skipped_with_warnings() {
        let html = r#"<ul><li><a href="/x">X</a></li><li><a href="javascript:alert(1)">Bad</a></li>
            <li><a href="/x#comments">X again</a></li><li><a href="/x">X third</a></li></ul>"#;
        let feed = parse(html, &HtmlSource::new("li", "a", "a@href")).unwrap();
        assert_eq!(feed.entries.len(), 2);
        assert!(feed.warnings[0].starts_with("item 2: link `javascript:alert(1)` is not"));
        assert_eq!(
            feed.warnings[1],
            "item 4: same link as item 1 (https://caucasus-analysis.example/x); skipped"
        );
    }

    #[test]
    fn items_without_any_link_are_an_error_not_an_empty_feed() {
        let html = "<ul><li>one</li><li>two</li></ul>";
        let err = parse(html, &HtmlSource::new("li", "a", "a@href")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "item selector `li` matched 2 items on https://caucasus-analysis.example/en/news/ but none has both a title and a link (item 1: no link (selector `a@href` matched nothing); skipped)"
        );
    }

    #[test]
    fn future_dates_are_clamped_to_the_fetch_time() {
        let html = r#"<ul><li><a href="/x">X</a><i>10.Jan.2099</i></li></ul>"#;
        let src = HtmlSource {
            date: Some("i".into()),
            date_format: Some("%d.%b.%Y".into()),
            ..HtmlSource::new("li", "a", "a@href")
        };
        assert_eq!(parse(html, &src).unwrap().entries[0].published, Some(now()));
    }

    #[test]
    fn warnings_are_capped_for_long_broken_pages() {
        let items: String = (0..200)
            .map(|i| format!("<li><a href='/n/{i}'>N{i}</a><i>someday</i></li>"))
            .collect();
        let src = HtmlSource {
            date: Some("i".into()),
            ..HtmlSource::new("li", "a", "a@href")
        };
        let feed = parse(&format!("<ul>{items}</ul>"), &src).unwrap();
        assert_eq!(feed.entries.len(), 200);
        assert_eq!(feed.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            feed.warnings.last().unwrap(),
            "… and 150 more item warnings not shown"
        );
    }

    #[test]
    fn page_title_falls_back_to_the_site_name() {
        let doc = Html::parse_document(
            r#"<html><head><title> </title><meta property="og:site_name" content="Caucasus Analysis"></head></html>"#,
        );
        assert_eq!(page_title(&doc), "Caucasus Analysis");
    }
}
