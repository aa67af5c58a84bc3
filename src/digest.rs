//! The daily digest: one calendar day's stories across all feeds, each once, with every outlet
//! that carried it, grouped by topic.
//!
//! A day (in the digest time zone) holds the stories whose primary entry was published that
//! day, or first seen that day when the feed gave no date or one in the future. Within a topic
//! stories are ordered by how many outlets carried them, then newest first. The header counts
//! stories, outlets and the feeds failing that day, so a quiet day is told apart from a broken
//! one. A digest can be rebuilt for any day at any time from the store; a late item shows up in
//! the rebuilt digest and the day's Atom entry is updated under the same id.

use std::collections::BTreeSet;
use std::fmt::Write;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::{Config, DigestTopic, FeedsFile};
use crate::dedup::story::normalize;
use crate::dedup::uuid_urn;
use crate::export::xml_escape;
use crate::model::{StoredEntry, rfc3339};
use crate::store::{EntryFilter, Store, StoreError};

/// Characters of text shown under each story.
pub const EXCERPT_CHARS: usize = 300;
/// Most stories one digest lists.
pub const MAX_STORIES: usize = 2000;
/// Days the digest Atom feed carries.
pub const ATOM_DAYS: i64 = 14;

/// The section for stories no topic claims.
pub const OTHER: &str = "Other";

/// One story in a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub title: String,
    pub link: Option<String>,
    pub outlet: String,
    /// Local time (HH:MM in the digest zone) of the story.
    pub time: String,
    pub excerpt: String,
    /// Other outlets: name and link.
    pub also: Vec<(String, Option<String>)>,
    pub at: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl Story {
    /// Outlets that carried the story.
    pub fn outlets(&self) -> usize {
        1 + self.also.len()
    }
}

/// A topic section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    pub stories: Vec<Story>,
}

/// One day's digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub date: NaiveDate,
    pub zone: Tz,
    pub sections: Vec<Section>,
    pub story_count: usize,
    pub outlet_count: usize,
    /// Feeds whose last fetch that day failed: display name and reason.
    pub failing: Vec<(String, String)>,
    /// Newest change among the day's stories (the end of the day when it has none).
    pub updated: DateTime<Utc>,
}

/// The UTC instants a local calendar day spans.
pub fn day_bounds(date: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        zone.from_local_datetime(&midnight)
            .earliest()
            // A zone that skips midnight starts the day at the first instant after it.
            .or_else(|| {
                zone.from_local_datetime(&(midnight + chrono::TimeDelta::hours(1)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

/// The calendar day before the one `now` falls on, in `zone`: the day a scheduled digest covers.
pub fn previous_day(now: DateTime<Utc>, zone: Tz) -> NaiveDate {
    let today = now.with_timezone(&zone).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// Builds the digest of `date` from the store.
pub fn build(
    store: &Store,
    config: &Config,
    feeds: &FeedsFile,
    date: NaiveDate,
) -> Result<Digest, StoreError> {
    let zone = config.digest.timezone;
    let (start, end) = day_bounds(date, zone);
    let entries = store.entries(&EntryFilter {
        since: Some(start),
        until: Some(end),
        limit: MAX_STORIES,
        ..Default::default()
    })?;
    let name_of = |id: &str, own: &str| match feeds.get(id) {
        Some(f) => f.display_title(Some(own)).to_string(),
        None if own.is_empty() => id.to_string(),
        None => own.to_string(),
    };
    let mut outlets = BTreeSet::new();
    let topics = &config.digest.topics;
    let mut sections: Vec<Section> = topics
        .iter()
        .map(|t| Section {
            name: t.name.clone(),
            stories: Vec::new(),
        })
        .collect();
    let mut other = Section {
        name: if topics.is_empty() {
            "Stories".into()
        } else {
            OTHER.into()
        },
        stories: Vec::new(),
    };
    for e in &entries {
        outlets.insert(e.feed_id.clone());
        outlets.extend(e.related.iter().map(|r| r.feed_id.clone()));
        let story = Story {
            title: e.title.clone(),
            link: e.link.clone(),
            outlet: name_of(&e.feed_id, &e.feed_title),
            time: e
                .published
                .unwrap_or(e.first_seen)
                .with_timezone(&zone)
                .format("%H:%M")
                .to_string(),
            excerpt: crate::parse::excerpt(&e.excerpt, EXCERPT_CHARS),
            also: e
                .related
                .iter()
                .map(|r| (name_of(&r.feed_id, &r.feed_title), r.link.clone()))
                .collect(),
            at: e.published.unwrap_or(e.first_seen),
            updated: e.updated,
        };
        match topics.iter().position(|t| matches_topic(t, e, feeds)) {
            Some(i) => sections[i].stories.push(story),
            None => other.stories.push(story),
        }
    }
    sections.push(other);
    sections.retain(|s| !s.stories.is_empty());
    for s in &mut sections {
        s.stories.sort_by(|a, b| {
            b.outlets()
                .cmp(&a.outlets())
                .then(b.at.cmp(&a.at))
                .then(a.title.cmp(&b.title))
        });
    }
    let failing = store
        .failing_between(start, end)?
        .into_iter()
        .filter(|f| feeds.get(&f.feed_id).is_some())
        .map(|f| (name_of(&f.feed_id, ""), f.error))
        .collect();
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(end);
    Ok(Digest {
        date,
        zone,
        story_count: entries.len(),
        outlet_count: outlets.len(),
        sections,
        failing,
        updated,
    })
}

/// A topic claims a story when a keyword appears in the title or text of any member (any case,
/// any script, as a word or the start of one), or a member's feed carries one of its tags.
fn matches_topic(topic: &DigestTopic, e: &StoredEntry, feeds: &FeedsFile) -> bool {
    let tagged = |feed_id: &str| {
        feeds
            .get(feed_id)
            .is_some_and(|f| f.tags.iter().any(|t| topic.tags.contains(t)))
    };
    if tagged(&e.feed_id) || e.related.iter().any(|r| tagged(&r.feed_id)) {
        return true;
    }
    let mut text = normalize(&e.title);
    text.push(' ');
    text.push_str(&normalize(&e.excerpt));
    for r in &e.related {
        text.push(' ');
        text.push_str(&normalize(&r.title));
    }
    let words: Vec<&str> = text.split(' ').collect();
    topic.keywords.iter().any(|k| {
        let k = normalize(k);
        let parts: Vec<&str> = k.split(' ').filter(|p| !p.is_empty()).collect();
        !parts.is_empty()
            && words.windows(parts.len()).any(|w| {
                w.iter()
                    .zip(&parts)
                    .all(|(word, part)| word.starts_with(part))
            })
    })
}

fn long_date(d: NaiveDate) -> String {
    d.format("%A, %-d %B %Y").to_string()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The header sentence: counts, and which feeds failed.
fn summary_line(d: &Digest) -> String {
    let mut s = format!(
        "{} from {}.",
        plural(d.story_count, "story", "stories"),
        plural(d.outlet_count, "outlet", "outlets")
    );
    if d.failing.is_empty() {
        s.push_str(" No feed failures recorded.");
    } else {
        let names: Vec<&str> = d.failing.iter().map(|(n, _)| n.as_str()).collect();
        let _ = write!(
            s,
            " {} failing that day: {}.",
            plural(d.failing.len(), "feed", "feeds"),
            names.join(", ")
        );
    }
    s
}

fn esc(s: &str) -> String {
    xml_escape(s).into_owned()
}

/// HTML for mail clients and browsers: inline styles only, no script, no external assets,
/// one narrow column that reads on a phone.
pub fn render_html(d: &Digest) -> String {
    let mut out = String::with_capacity(4096 + d.story_count * 800);
    let title = format!("Tributary digest: {}", long_date(d.date));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n</head>\n",
        esc(&title)
    );
    out.push_str("<body style=\"margin:0;padding:0;background:#f4f4f1;color:#1d1d1b;font-family:Georgia,'Times New Roman',serif;\">\n");
    out.push_str(
        "<div style=\"max-width:640px;margin:0 auto;padding:16px;background:#ffffff;\">\n",
    );
    let _ = writeln!(
        out,
        "<h1 style=\"font-size:24px;line-height:1.25;margin:8px 0 4px;\">{}</h1>",
        esc(&long_date(d.date))
    );
    let _ = writeln!(
        out,
        "<p style=\"font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#55554f;margin:0 0 16px;\">{}</p>",
        esc(&summary_line(d))
    );
    if !d.failing.is_empty() {
        out.push_str("<ul style=\"font-family:Helvetica,Arial,sans-serif;font-size:13px;color:#8a2d1c;margin:0 0 16px;padding-left:18px;\">\n");
        for (name, reason) in &d.failing {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong>: {}</li>",
                esc(name),
                esc(reason)
            );
        }
        out.push_str("</ul>\n");
    }
    if d.story_count == 0 {
        out.push_str("<p style=\"font-size:16px;\">No stories were published this day.</p>\n");
    }
    for section in &d.sections {
        let _ = writeln!(
            out,
            "<h2 style=\"font-family:Helvetica,Arial,sans-serif;font-size:13px;letter-spacing:0.08em;text-transform:uppercase;color:#55554f;border-bottom:1px solid #dddddd;padding-bottom:4px;margin:24px 0 8px;\">{} <span style=\"font-weight:normal;\">({})</span></h2>",
            esc(&section.name),
            section.stories.len()
        );
        for s in &section.stories {
            out.push_str("<div style=\"margin:0 0 18px;\">\n");
            let title = match &s.link {
                Some(l) => format!(
                    "<a href=\"{}\" style=\"color:#1d1d1b;text-decoration:none;\">{}</a>",
                    esc(l),
                    esc(&s.title)
                ),
                None => esc(&s.title),
            };
            let _ = writeln!(
                out,
                "<h3 style=\"font-size:18px;line-height:1.3;margin:0 0 2px;\">{title}</h3>"
            );
            let _ = writeln!(
                out,
                "<p style=\"font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#6b6b66;margin:0 0 4px;\">{} · {}</p>",
                esc(&s.outlet),
                esc(&s.time)
            );
            if !s.excerpt.is_empty() {
                let _ = writeln!(
                    out,
                    "<p style=\"font-size:15px;line-height:1.5;margin:0 0 4px;\">{}</p>",
                    esc(&s.excerpt)
                );
            }
            if !s.also.is_empty() {
                let links: Vec<String> = s
                    .also
                    .iter()
                    .map(|(name, link)| match link {
                        Some(l) => format!(
                            "<a href=\"{}\" style=\"color:#1f5c8a;\">{}</a>",
                            esc(l),
                            esc(name)
                        ),
                        None => esc(name),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "<p style=\"font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#55554f;margin:0;\">Also reported by: {}</p>",
                    links.join(", ")
                );
            }
            out.push_str("</div>\n");
        }
    }
    let _ = writeln!(
        out,
        "<p style=\"font-family:Helvetica,Arial,sans-serif;font-size:11px;color:#8b8b85;margin:24px 0 0;\">Times in {}. Built by Tributary.</p>",
        esc(d.zone.name())
    );
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

/// Escapes Markdown's inline specials in text.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn md_link(text: &str, link: Option<&str>) -> String {
    match link {
        Some(l) => format!("[{}](<{}>)", md(text), l.replace('>', "%3E")),
        None => md(text),
    }
}

/// Markdown, for plain-text mail and note-taking tools.
pub fn render_markdown(d: &Digest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", long_date(d.date));
    let _ = writeln!(out, "{}\n", md(&summary_line(d)));
    for (name, reason) in &d.failing {
        let _ = writeln!(out, "- **{}**: {}", md(name), md(reason));
    }
    if !d.failing.is_empty() {
        out.push('\n');
    }
    if d.story_count == 0 {
        out.push_str("No stories were published this day.\n\n");
    }
    for section in &d.sections {
        let _ = writeln!(
            out,
            "## {} ({})\n",
            md(&section.name),
            section.stories.len()
        );
        for s in &section.stories {
            let _ = writeln!(out, "### {}\n", md_link(&s.title, s.link.as_deref()));
            let _ = writeln!(out, "*{} · {}*\n", md(&s.outlet), md(&s.time));
            if !s.excerpt.is_empty() {
                let _ = writeln!(out, "{}\n", md(&s.excerpt));
            }
            if !s.also.is_empty() {
                let links: Vec<String> = s
                    .also
                    .iter()
                    .map(|(n, l)| md_link(n, l.as_deref()))
                    .collect();
                let _ = writeln!(out, "Also reported by: {}\n", links.join(", "));
            }
        }
    }
    let _ = writeln!(out, "---\nTimes in {}. Built by Tributary.", d.zone.name());
    out
}

/// The digest as an Atom feed: one entry per day, newest first, each with a stable id per date
/// and the day's HTML digest as content.
pub fn render_atom(days: &[Digest], base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let updated = days
        .iter()
        .map(|d| d.updated)
        .max()
        .unwrap_or_else(Utc::now);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    let _ = writeln!(out, "  <id>{}</id>", uuid_urn(&["digest"]));
    out.push_str("  <title type=\"text\">Tributary daily digest</title>\n");
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(updated));
    out.push_str("  <author><name>Tributary</name></author>\n");
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        esc(&format!("{base}/digest.atom"))
    );
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        esc(&format!("{base}/digest/latest.html"))
    );
    for d in days {
        let date = d.date.format("%Y-%m-%d").to_string();
        let (_, day_end) = day_bounds(d.date, d.zone);
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>{}</id>", uuid_urn(&["digest", &date]));
        let _ = writeln!(
            out,
            "    <title type=\"text\">{}</title>",
            esc(&format!(
                "{}: {}",
                long_date(d.date),
                plural(d.story_count, "story", "stories")
            ))
        );
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            esc(&format!("{base}/digest/{date}.html"))
        );
        let _ = writeln!(out, "    <published>{}</published>", rfc3339(day_end));
        let _ = writeln!(
            out,
            "    <updated>{}</updated>",
            rfc3339(d.updated.max(day_end))
        );
        let _ = writeln!(
            out,
            "    <summary type=\"text\">{}</summary>",
            esc(&summary_line(d))
        );
        let _ = writeln!(
            out,
            "    <content type=\"html\">{}</content>",
            esc(&render_html(d))
        );
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The last `ATOM_DAYS` complete days before `now`, newest first.
pub fn recent_days(
    store: &Store,
    config: &Config,
    feeds: &FeedsFile,
    now: DateTime<Utc>,
) -> Result<Vec<Digest>, StoreError> {
    let mut day = previous_day(now, config.digest.timezone);
    let mut out = Vec::new();
    for _ in 0..ATOM_DAYS {
        out.push(build(store, config, feeds, day)?);
        day = match day.pred_opt() {
            Some(d) => d,
            None => break,
        };
    }
    Ok(out)
}

/// The formats a digest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormat {
    Html,
    Md,
    Atom,
}

impl DigestFormat {
    pub fn extension(self) -> &'static str {
        match self {
            DigestFormat::Html => "html",
            DigestFormat::Md => "md",
            DigestFormat::Atom => "atom",
        }
    }

    pub fn parse(s: &str) -> Option<DigestFormat> {
        match s {
            "html" => Some(DigestFormat::Html),
            "md" => Some(DigestFormat::Md),
            "atom" => Some(DigestFormat::Atom),
            _ => None,
        }
    }

    /// Renders one day; the Atom form is a one-entry feed of that day.
    pub fn render(self, d: &Digest, base_url: &str) -> String {
        match self {
            DigestFormat::Html => render_html(d),
            DigestFormat::Md => render_markdown(d),
            DigestFormat::Atom => render_atom(std::slice::from_ref(d), base_url),
        }
    }
}

/// Writes the day's digest in every configured format to `[digest] dir`, one file per date and
/// format (`2026-01-14.html`), atomically. Returns the files written (changed ones only).
pub fn write_files(d: &Digest, config: &Config) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for f in config
        .digest
        .formats
        .iter()
        .filter_map(|f| DigestFormat::parse(f))
    {
        let path =
            config
                .digest
                .dir
                .join(format!("{}.{}", d.date.format("%Y-%m-%d"), f.extension()));
        if crate::atomic::write_if_changed(&path, f.render(d, &config.server.base_url).as_bytes())?
        {
            written.push(path);
        }
    }
    Ok(written)
}

/// Why a scheduled digest could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the digest files: {0}")]
    Write(#[from] std::io::Error),
}

/// The scheduled run: builds `date`, writes its files, and queues it for mailing when
/// `[digest.smtp]` is set. Returns the digest and the files written.
pub fn publish(
    store: &mut Store,
    config: &Config,
    feeds: &FeedsFile,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Digest, Vec<std::path::PathBuf>), PublishError> {
    let d = build(store, config, feeds, date)?;
    let files = write_files(&d, config)?;
    if config.digest.smtp.is_some() {
        store.delivery_pending(&date.format("%Y-%m-%d").to_string(), now)?;
    }
    Ok((d, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_day_spans_the_right_utc_instants() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
        let (s, e) = day_bounds(d, chrono_tz::Asia::Baku);
        assert_eq!(
            (rfc3339(s), rfc3339(e)),
            ("2026-01-13T20:00:00Z".into(), "2026-01-14T20:00:00Z".into())
        );
        // A day with a daylight-saving change is 23 hours long.
        let (s, e) = day_bounds(
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
            chrono_tz::Europe::Berlin,
        );
        assert_eq!((e - s).num_hours(), 23);
        let now: DateTime<Utc> = "2026-01-14T21:30:00Z".parse().unwrap();
        assert_eq!(
            previous_day(now, chrono_tz::Asia::Baku),
            NaiveDate::from_ymd_opt(2026, 1, 14).unwrap()
        );
        assert_eq!(
            previous_day(now, chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2026, 1, 13).unwrap()
        );
    }

    #[test]
    fn markdown_specials_in_titles_are_escaped() {
        assert_eq!(md("a*b_[c]"), "a\\*b\\_\\[c\\]");
        assert_eq!(
            md_link("x", Some("https://a.example/x>y")),
            "[x](<https://a.example/x%3Ey>)"
        );
    }
}
