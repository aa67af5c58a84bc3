//! The reader pages as maud templates: the layout every page shares, the stream, one entry,
//! the sources, and the error page.
//!
//! maud escapes every value it is given, so titles, excerpts, outlet names and search snippets
//! (all plain text) cannot become markup. The one exception is an entry's content, which the
//! store holds as HTML already cleaned by the sanitizer at ingest: it is inserted exactly as
//! stored ([`PreEscaped`]), never decoded or re-parsed here. Links taken from feeds are only
//! made clickable when they are `http`/`https`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::lang::detect;
use super::{STYLESHEET_VERSION, Selection, SourceRow, StreamView};
use crate::model::{FeedState, StoredEntry};
use crate::store::{Highlighted, Snippet};

/// Characters of an excerpt shown in the stream.
const EXCERPT_CHARS: usize = 260;

/// The section a page belongs to, for the navigation's `aria-current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Stories,
    Sources,
    None,
}

fn layout(title: &str, section: Section, tz: Tz, main: Markup) -> Markup {
    let current = |s: Section| (s == section).then_some("page");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Tributary" }
                link rel="stylesheet" href={ "/static/tributary.css?v=" (*STYLESHEET_VERSION) };
                link rel="icon" href="/static/tributary.svg" type="image/svg+xml";
                link rel="alternate" type="application/atom+xml" title="Tributary: all sources" href="/feed.atom";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    div.bar {
                        a.brand href="/" {
                            img src="/static/tributary.svg" alt="" width="24" height="24";
                            span { "Tributary" }
                        }
                        nav aria-label="Sections" {
                            ul {
                                li { a href="/" aria-current=[current(Section::Stories)] { "Stories" } }
                                li { a href="/digest/latest.html" { "Digest" } }
                                li { a href="/sources" aria-current=[current(Section::Sources)] { "Sources" } }
                                li { a href="/feed.atom" { "Atom" } }
                            }
                        }
                    }
                }
                (main)
                footer.site {
                    p {
                        "Times are " (tz.name()) ". "
                        "Subscribe to everything as "
                        a href="/feed.atom" { "Atom" } " or "
                        a href="/feeds/all.json" { "JSON Feed" } "; "
                        "sources as " a href="/opml" { "OPML" } "."
                    }
                }
            }
        }
    }
}

/// `<time>` with the full local date and time.
fn when(t: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        time datetime=(crate::model::rfc3339(t)) { (t.with_timezone(&tz).format("%-d %b %Y, %H:%M")) }
    }
}

/// `<time>` with the local clock time only (the day is in the heading above).
fn clock(t: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        time datetime=(crate::model::rfc3339(t)) title=(t.with_timezone(&tz).format("%-d %b %Y, %H:%M")) {
            (t.with_timezone(&tz).format("%H:%M"))
        }
    }
}

/// How long ago (or in how long) `t` is, in words.
fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let span = match n {
        0..60 => {
            return if future {
                "in under a minute"
            } else {
                "just now"
            }
            .to_string();
        }
        60..3600 => format!("{} min", n / 60),
        3600..86_400 => format!("{} h", n / 3600),
        _ => match n / 86_400 {
            1 => "1 day".to_string(),
            d => format!("{d} days"),
        },
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// `<time>` reading "5 min ago", with the full date as its tooltip.
fn ago(t: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        time datetime=(crate::model::rfc3339(t)) title=(t.with_timezone(&tz).format("%-d %b %Y, %H:%M %Z")) {
            (relative(t, now))
        }
    }
}

/// The link when it is a web address a reader may follow.
fn web_link(link: Option<&str>) -> Option<&str> {
    let link = link?;
    let url = url::Url::parse(link).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(link)
}

/// The host of a web link, without `www.`, for "Read at …".
fn host_of(link: &str) -> String {
    url::Url::parse(link)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_else(|| link.to_string())
}

/// The opening of `text`, cut at a word boundary.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:—-".contains(c))
    )
}

fn marked(h: &Highlighted) -> Markup {
    html! {
        @for (text, matched) in &h.runs {
            @if *matched { mark { (text) } } @else { (text) }
        }
    }
}

/// The language of `text` when it is not the pages' own (English).
fn lang_if_not_english(text: &str) -> Option<&'static str> {
    Some(detect(text)).filter(|l| *l != "en")
}

/// A name or title, marked with its language when that is not the pages' own.
fn text_in_lang(text: &str) -> Markup {
    text_within(text, "en")
}

/// A name or title inside an element in language `around`, marked with its own language when
/// that differs.
fn text_within(text: &str, around: &str) -> Markup {
    let lang = detect(text);
    html! {
        @if lang == around { (text) } @else { span lang=(lang) { (text) } }
    }
}

fn story_time(e: &StoredEntry) -> DateTime<Utc> {
    e.published.unwrap_or(e.first_seen)
}

fn long_day(d: NaiveDate) -> String {
    d.format("%A, %-d %B %Y").to_string()
}

pub fn stream(v: &StreamView) -> Markup {
    let sel = &v.selection;
    let heading = match &sel.q {
        Some(q) => format!("Stories matching “{q}”"),
        None if sel.day.is_some() => "Stories of the day".to_string(),
        None => "Latest stories".to_string(),
    };
    let title = match (&sel.q, sel.day) {
        (Some(q), _) => format!("“{q}”"),
        (None, Some(d)) => d.format("%-d %B %Y").to_string(),
        (None, None) => "Stories".to_string(),
    };
    // Consecutive stories of one local day share a heading.
    let mut days: Vec<(NaiveDate, Vec<&StoredEntry>)> = Vec::new();
    for e in &v.entries {
        let d = story_time(e).with_timezone(&v.timezone).date_naive();
        match days.last_mut() {
            Some((day, list)) if *day == d => list.push(e),
            _ => days.push((d, vec![e])),
        }
    }
    layout(
        &title,
        Section::Stories,
        v.timezone,
        html! {
            main #main .with-sidebar {
                (filters(v))
                section.stream aria-labelledby="page-heading" {
                    h1 #page-heading { (heading) }
                    @if sel.is_filtered() { (active_filters(v)) }
                    @if v.entries.is_empty() {
                        p.empty {
                            @if sel.before.is_some() { "No older stories." }
                            @else if sel.is_filtered() { "No stories match. Try fewer words or another day." }
                            @else { "No stories yet. They appear here after the first fetch." }
                        }
                    }
                    @for (day, list) in &days {
                        h2.day { (long_day(*day)) }
                        ol.stories {
                            @for e in list { li { (story(e, v.snippets.get(&e.rowid), v.timezone)) } }
                        }
                    }
                    (pager(v))
                }
            }
        },
    )
}

fn filters(v: &StreamView) -> Markup {
    let sel = &v.selection;
    let narrowed = sel.tag.is_some() || sel.feed.is_some() || sel.day.is_some();
    html! {
        div.sidebar {
            form.filters method="get" action="/" role="search" aria-label="Search and filter stories" {
                div.field.search {
                    label for="q" { "Search" }
                    div.search-row {
                        input #q type="search" name="q" value=[sel.q.as_deref()]
                            placeholder="Words or names" autocomplete="off";
                        button type="submit" { "Search" }
                    }
                }
                details.more open[narrowed] {
                    summary { "Tag, source and day" }
                    div.more-fields {
                        div.field {
                            label for="tag" { "Tag" }
                            select #tag name="tag" {
                                option value="" { "All tags" }
                                @for t in &v.tags {
                                    option value=(t) selected[sel.tag.as_deref() == Some(t.as_str())] { (t) }
                                }
                            }
                        }
                        div.field {
                            label for="feed" { "Source" }
                            select #feed name="feed" {
                                option value="" { "All sources" }
                                @for (id, name) in &v.feeds {
                                    option value=(id) lang=[lang_if_not_english(name)]
                                        selected[sel.feed.as_deref() == Some(id.as_str())] { (name) }
                                }
                            }
                        }
                        div.field {
                            label for="day" { "Day" }
                            input #day type="date" name="day" value=[sel.day.map(|d| d.format("%Y-%m-%d").to_string())];
                        }
                        div.field.apply {
                            button type="submit" { "Apply" }
                        }
                    }
                }
            }
            nav.browse aria-label="Browse by source and tag" {
                h2 { "Sources" }
                ul {
                    @for (id, name) in &v.feeds {
                        li {
                            a href={ "/?feed=" (url_component(id)) }
                                aria-current=[(sel.feed.as_deref() == Some(id.as_str())).then_some("true")] {
                                (text_in_lang(name))
                            }
                        }
                    }
                }
                @if !v.tags.is_empty() {
                    h2 { "Tags" }
                    p.tags {
                        @for t in &v.tags {
                            a.tag href={ "/?tag=" (url_component(t)) }
                                aria-current=[(sel.tag.as_deref() == Some(t.as_str())).then_some("true")] { (t) }
                        }
                    }
                }
            }
        }
    }
}

fn active_filters(v: &StreamView) -> Markup {
    let sel = &v.selection;
    let feed_name = sel.feed.as_ref().map(|id| {
        v.feeds
            .iter()
            .find(|(f, _)| f == id)
            .map_or(id.clone(), |(_, n)| n.clone())
    });
    let narrowed = sel.tag.is_some() || sel.feed.is_some() || sel.day.is_some();
    html! {
        div.active {
            p {
                @if narrowed {
                    "Showing stories "
                    @if let Some(name) = &feed_name { "from " strong { (text_in_lang(name)) } " " }
                    @if let Some(t) = &sel.tag { "tagged " strong { (t) } " " }
                    @if let Some(d) = sel.day { "of " strong { (d.format("%-d %B %Y")) } " " }
                    "· "
                }
                a href="/" { @if narrowed { "Show all stories" } @else { "Clear the search" } }
            }
            @if let Some(d) = sel.day {
                p.day-nav {
                    @if let Some(prev) = d.pred_opt() {
                        a href=(sel.with_day(Some(prev)).href(None)) rel="prev" { "← " (prev.format("%-d %b")) }
                    }
                    a href=(sel.with_day(None).href(None)) { "Any day" }
                    a href={ "/digest/" (d.format("%Y-%m-%d")) ".html" } { "Digest of the day" }
                    @if let Some(next) = d.succ_opt() {
                        a href=(sel.with_day(Some(next)).href(None)) rel="next" { (next.format("%-d %b")) " →" }
                    }
                }
            }
        }
    }
}

fn story(e: &StoredEntry, snippet: Option<&Snippet>, tz: Tz) -> Markup {
    let lang = detect(&format!("{} {}", e.title, e.excerpt));
    let href = format!("/entries/{}", e.rowid);
    let title_marked = snippet.map(|s| &s.title).filter(|t| t.has_match());
    let text_marked = snippet.map(|s| &s.text).filter(|t| t.has_match());
    html! {
        article.story lang=(lang) {
            h3 {
                a href=(href) {
                    @if let Some(t) = title_marked { (marked(t)) } @else { (e.title) }
                }
            }
            p.meta {
                a.outlet href={ "/?feed=" (url_component(&e.feed_id)) } { (text_within(&e.feed_title, lang)) }
                span.sep aria-hidden="true" { " · " }
                (clock(story_time(e), tz))
                @if !e.related.is_empty() {
                    span.sep aria-hidden="true" { " · " }
                    span.count { (e.related.len() + 1) " outlets" }
                }
            }
            @if let Some(t) = text_marked {
                p.excerpt.snippet { (marked(t)) }
            } @else if !e.excerpt.is_empty() {
                p.excerpt { (shorten(&e.excerpt, EXCERPT_CHARS)) }
            }
            @if !e.related.is_empty() {
                p.also {
                    span.label { "Also reported by " }
                    @for (i, r) in e.related.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/entries/" (r.entry_id) } title=(r.title) { (text_within(&r.feed_title, lang)) }
                    }
                }
            }
        }
    }
}

fn url_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn pager(v: &StreamView) -> Markup {
    let sel: &Selection = &v.selection;
    html! {
        @if sel.before.is_some() || v.next.is_some() {
            nav.pager aria-label="More stories" {
                @if sel.before.is_some() {
                    a href=(sel.href(None)) { "← Newest" }
                }
                @if let Some(next) = v.next {
                    a.older href=(sel.href(Some(next))) rel="next" { "Older stories →" }
                }
            }
        }
    }
}

pub fn entry(e: &StoredEntry, tz: Tz) -> Markup {
    let lang = detect(&format!("{} {}", e.title, e.excerpt));
    let link = web_link(e.link.as_deref());
    let body = e
        .content
        .as_deref()
        .or(e.summary.as_deref())
        .filter(|b| !b.trim().is_empty());
    let changed = e.updated > e.published.unwrap_or(e.first_seen);
    // The day the stream and the digest file the entry under (its time, as the store sorts it).
    let day = e
        .published
        .unwrap_or(e.first_seen)
        .with_timezone(&tz)
        .date_naive();
    layout(
        &e.title,
        Section::None,
        tz,
        html! {
            main #main .reading {
                p.crumbs {
                    a href="/" { "← All stories" }
                    " · "
                    a href={ "/?day=" (day.format("%Y-%m-%d")) } { "Stories of " (day.format("%-d %B %Y")) }
                    " · "
                    a href={ "/digest/" (day.format("%Y-%m-%d")) ".html" } { "Digest of the day" }
                }
                article.entry lang=(lang) {
                    header {
                        p.kicker {
                            a href={ "/?feed=" (url_component(&e.feed_id)) } { (text_within(&e.feed_title, lang)) }
                        }
                        h1 { (e.title) }
                        dl.dates {
                            @if !e.authors.is_empty() {
                                div { dt { "By" } dd { (e.authors.join(", ")) } }
                            }
                            @if let Some(p) = e.published {
                                div { dt { "Published" } dd { (when(p, tz)) } }
                            }
                            @if changed {
                                div { dt { "Updated" } dd { (when(e.updated, tz)) } }
                            }
                            div { dt { "Seen by Tributary" } dd { (when(e.first_seen, tz)) } }
                        }
                        @if let Some(l) = link {
                            p.original {
                                a.button href=(l) rel="noopener noreferrer" { "Read at " (host_of(l)) "\u{a0}↗" }
                            }
                        }
                    }
                    div.content {
                        @match body {
                            Some(html) => (PreEscaped(html)),
                            None if !e.excerpt.is_empty() => p { (e.excerpt) },
                            None => p.empty { "The feed gave no text for this entry." },
                        }
                    }
                }
                @if !e.related.is_empty() {
                    aside.outlets aria-labelledby="also-heading" {
                        h2 #also-heading { "Also reported by" }
                        ul {
                            @for r in &e.related {
                                li {
                                    a.outlet href={ "/entries/" (r.entry_id) } { (text_in_lang(&r.feed_title)) }
                                    span.their-title lang=(detect(&r.title)) { (r.title) }
                                    @if let Some(l) = web_link(r.link.as_deref()) {
                                        a.small href=(l) rel="noopener noreferrer" { "Original at " (host_of(l)) "\u{a0}↗" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn state_label(s: FeedState) -> &'static str {
    match s {
        FeedState::New => "Not fetched yet",
        FeedState::Ok => "OK",
        FeedState::Failing => "Failing",
        FeedState::Backoff => "Backing off",
        FeedState::Gone => "Gone",
        FeedState::Disabled => "Disabled",
    }
}

pub fn sources(rows: &[SourceRow], tz: Tz, now: DateTime<Utc>) -> Markup {
    let mut by_state: HashMap<&'static str, usize> = HashMap::new();
    for r in rows {
        *by_state.entry(r.status.state.as_str()).or_default() += 1;
    }
    let troubled = rows
        .iter()
        .filter(|r| {
            matches!(
                r.status.state,
                FeedState::Failing | FeedState::Backoff | FeedState::Gone
            )
        })
        .count();
    html! {
        (layout("Sources", Section::Sources, tz, html! {
            main #main .wide {
                h1 { "Sources" }
                p.lede {
                    (rows.len()) " feeds configured; "
                    (by_state.get("ok").copied().unwrap_or(0)) " healthy"
                    @if troubled > 0 { ", " strong.attention { (troubled) " need attention" } }
                    ". "
                    "Cluster share is the part of a feed's entries that other feeds carried too. "
                    "The daily " a href="/digest/latest.html" { "digest" } " sums them up."
                }
                table.sources {
                    caption.visually-hidden { "Health of every configured feed" }
                    thead {
                        tr {
                            th scope="col" { "Source" }
                            th scope="col" { "State" }
                            th scope="col" { "Last success" }
                            th scope="col" { "Last error" }
                            th scope="col" { "Next fetch" }
                            th scope="col" .num { "Entries" }
                            th scope="col" .num { "Cluster share" }
                        }
                    }
                    tbody {
                        @for r in rows { (source_row(r, tz, now)) }
                    }
                }
            }
        }))
    }
}

fn source_row(r: &SourceRow, tz: Tz, now: DateTime<Utc>) -> Markup {
    let s = &r.status;
    html! {
        tr {
            th scope="row" data-label="Source" {
                a.name href={ "/?feed=" (url_component(&s.id)) } { (text_in_lang(&s.title)) }
                span.id { (s.id) }
                @if let Some(l) = web_link(Some(&s.effective_url)) {
                    a.url href=(l) rel="noopener noreferrer" { (shorten(l, 60)) }
                }
                @if !r.tags.is_empty() {
                    span.tags {
                        @for t in &r.tags {
                            a.tag href={ "/?tag=" (url_component(t)) } { (t) }
                        }
                    }
                }
            }
            td data-label="State" {
                span class={ "state state-" (s.state.as_str()) } { (state_label(s.state)) }
                @if s.consecutive_errors > 0 {
                    span.small { (s.consecutive_errors) " failed in a row" }
                }
            }
            td data-label="Last success" {
                @if let Some(t) = s.last_success { (ago(t, now, tz)) } @else { span.none { "never" } }
            }
            td data-label="Last error" .error {
                @if let Some(e) = &s.last_error { (e) } @else { span.none { "none" } }
            }
            td data-label="Next fetch" {
                @if let Some(t) = s.next_fetch { (ago(t, now, tz)) } @else { span.none { "not scheduled" } }
            }
            td data-label="Entries" .num { (s.entries) }
            td data-label="Cluster share" .num {
                @match r.counts.share() {
                    Some(share) => {
                        span.share {
                            meter min="0" max="1" value=(format!("{share:.3}")) title={ (r.counts.shared) " of " (r.counts.entries) } {}
                            (format!("{:.0}%", share * 100.0))
                        }
                    }
                    None => span.none { "–" },
                }
            }
        }
    }
}

pub fn error(status: axum::http::StatusCode, message: &str) -> Markup {
    let heading = match status.as_u16() {
        404 => "Not found",
        400 => "That request could not be read",
        _ => "Something went wrong",
    };
    layout(
        heading,
        Section::None,
        Tz::UTC,
        html! {
            main #main .reading {
                h1 { (heading) }
                p { (message) }
                p { a href="/" { "← Back to all stories" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_become_clickable() {
        assert_eq!(
            web_link(Some("https://a.example/x")),
            Some("https://a.example/x")
        );
        assert_eq!(web_link(Some("javascript:alert(1)")), None);
        assert_eq!(web_link(Some(" JaVaScRiPt:alert(1)")), None);
        assert_eq!(web_link(Some("data:text/html,hi")), None);
        assert_eq!(web_link(None), None);
    }

    #[test]
    fn excerpts_are_cut_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now: DateTime<Utc> = "2026-01-14T12:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(relative(at("2026-01-14T11:55:00Z"), now), "5 min ago");
        assert_eq!(relative(at("2026-01-14T12:30:00Z"), now), "in 30 min");
        assert_eq!(relative(at("2026-01-12T12:00:00Z"), now), "2 days ago");
    }

    #[test]
    fn plain_text_is_escaped_and_stored_html_is_kept_as_stored() {
        let h = Highlighted {
            runs: vec![("<b>".into(), false), ("Баку".into(), true)],
        };
        assert_eq!(marked(&h).into_string(), "&lt;b&gt;<mark>Баку</mark>");
        let e = StoredEntry {
            rowid: 1,
            feed_id: "a".into(),
            uid: "u".into(),
            title: "<script>alert(1)</script>".into(),
            link: Some("javascript:alert(1)".into()),
            summary: None,
            content: Some("<p>A &lt;script&gt; shown as text</p>".into()),
            authors: vec![],
            published: None,
            updated: "2026-01-14T00:00:00Z".parse().unwrap(),
            first_seen: "2026-01-14T00:00:00Z".parse().unwrap(),
            feed_title: "A".into(),
            feed_url: "https://a.example/".into(),
            feed_link: None,
            tags: vec![],
            cluster_id: 1,
            related: vec![],
            excerpt: String::new(),
        };
        let page = entry(&e, Tz::UTC).into_string();
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("javascript:"));
        assert!(page.contains("<p>A &lt;script&gt; shown as text</p>"));
        assert!(page.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
    }
}
