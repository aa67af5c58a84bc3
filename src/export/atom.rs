//! The merged feed as Atom 1.0 (RFC 4287).
//!
//! Valid against the RFC's RELAX NG grammar and its two Schematron rules: the feed carries an
//! author (Tributary), and every entry has content. Each entry keeps its stable id, its
//! original link, RFC 3339 dates and an `atom:source` naming the feed it came from. Content is
//! `type="html"`, already sanitized with absolute URLs; nothing outside XML 1.0 reaches here
//! because [`crate::clean`] removed it on the way in (it is stripped again as a last guard).
//! One entry stands for each story: the other outlets that carried it are listed as
//! `link rel="related"` and in an "Also reported by" line at the end of the content.

use std::fmt::Write;

use super::{MergedFeed, xml_escape};
use crate::clean::strip_non_xml;
use crate::dedup::uuid_urn;
use crate::model::{StoredEntry, rfc3339};

/// Renders the merged feed.
pub fn render(feed: &MergedFeed<'_>) -> String {
    let mut out = String::with_capacity(4096 + feed.entries.len() * 2048);
    let base = feed.base_url.trim_end_matches('/');
    let out_name = &feed.output.name;
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <id>{}</id>", uuid_urn(&["output", out_name]));
    let _ = writeln!(
        out,
        "  <title type=\"text\">{}</title>",
        text(&feed.output.title)
    );
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(feed.updated));
    out.push_str("  <author><name>Tributary</name></author>\n");
    let _ = writeln!(
        out,
        "  <generator version=\"{}\">Tributary</generator>",
        env!("CARGO_PKG_VERSION")
    );
    let page = |cursor: Option<String>| {
        let mut q = feed.query_string.clone();
        if let Some(c) = cursor {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str("before=");
            q.push_str(&c);
        }
        let sep = if q.is_empty() { "" } else { "?" };
        format!("{base}/feeds/{out_name}.atom{sep}{q}")
    };
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        text(&page(None))
    );
    if let Some(next) = feed.next {
        // RFC 5005 paging: the first page and the next (older) one.
        let _ = writeln!(
            out,
            "  <link rel=\"first\" type=\"application/atom+xml\" href=\"{}\"/>",
            text(&page(None))
        );
        let _ = writeln!(
            out,
            "  <link rel=\"next\" type=\"application/atom+xml\" href=\"{}\"/>",
            text(&page(Some(next.encode())))
        );
    }
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        text(&format!("{base}/"))
    );
    for e in &feed.entries {
        entry(&mut out, e);
    }
    out.push_str("</feed>\n");
    out
}

fn entry(out: &mut String, e: &StoredEntry) {
    out.push_str("  <entry>\n");
    let _ = writeln!(out, "    <id>{}</id>", text(&e.uid));
    let _ = writeln!(out, "    <title type=\"text\">{}</title>", text(&e.title));
    if let Some(link) = &e.link {
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            text(link)
        );
    }
    for r in &e.related {
        if let Some(link) = &r.link {
            let _ = writeln!(
                out,
                "    <link rel=\"related\" type=\"text/html\" href=\"{}\" title=\"{}\"/>",
                text(link),
                text(&r.feed_title)
            );
        }
    }
    if let Some(p) = e.published {
        let _ = writeln!(out, "    <published>{}</published>", rfc3339(p));
    }
    let _ = writeln!(
        out,
        "    <updated>{}</updated>",
        rfc3339(e.updated.max(e.published.unwrap_or(e.updated)))
    );
    for a in &e.authors {
        let _ = writeln!(out, "    <author><name>{}</name></author>", text(a));
    }
    for t in &e.tags {
        let _ = writeln!(out, "    <category term=\"{}\"/>", text(t));
    }
    out.push_str("    <source>\n");
    let _ = writeln!(out, "      <id>{}</id>", uuid_urn(&["feed", &e.feed_id]));
    let _ = writeln!(
        out,
        "      <title type=\"text\">{}</title>",
        text(&e.feed_title)
    );
    let _ = writeln!(
        out,
        "      <link rel=\"self\" href=\"{}\"/>",
        text(&e.feed_url)
    );
    if let Some(site) = &e.feed_link {
        let _ = writeln!(
            out,
            "      <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            text(site)
        );
    }
    out.push_str("    </source>\n");
    if e.content.is_some()
        && let Some(summary) = &e.summary
    {
        let _ = writeln!(
            out,
            "    <summary type=\"html\">{}</summary>",
            text(summary)
        );
    }
    let body = super::body_with_related(e);
    let _ = writeln!(out, "    <content type=\"html\">{}</content>", text(&body));
    out.push_str("  </entry>\n");
}

fn text(s: &str) -> String {
    xml_escape(&strip_non_xml(s)).into_owned()
}
