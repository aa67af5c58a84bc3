//! Publishing the merged feed: choosing the entries of an output and writing them as Atom
//! ([`atom`]) or JSON Feed ([`jsonfeed`]), to a string or atomically to a file.

pub mod atom;
pub mod jsonfeed;
pub mod opml;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig, FeedsFile, OutputConfig};
use crate::model::StoredEntry;
use crate::store::{Cursor, EntryFilter, Store, StoreError};

/// A merged feed ready to render: the output, its entries newest first, and where it lives.
#[derive(Debug, Clone)]
pub struct MergedFeed<'a> {
    pub output: &'a OutputConfig,
    pub entries: Vec<StoredEntry>,
    /// Public base URL for self links (`server.base_url`).
    pub base_url: &'a str,
    /// Newest change among the entries, else `now`.
    pub updated: DateTime<Utc>,
    /// The reader's filters, as a query string (without paging), for self and paging links.
    pub query_string: String,
    /// Where the next (older) page starts, when there may be one (RFC 5005 `rel="next"`).
    pub next: Option<Cursor>,
}

/// What a reader asked for on top of the output's own selection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only feeds carrying this tag.
    pub tag: Option<String>,
    /// Only this feed.
    pub feed: Option<String>,
    /// Full-text search.
    pub q: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// At most this many (never more than the output's limit).
    pub limit: Option<usize>,
    /// Older than this position (paging).
    pub before: Option<Cursor>,
}

impl Filters {
    /// The filters as a query string, without paging: `tag=…&feed=…`.
    pub fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &self.tag {
            q.append_pair("tag", v);
        }
        if let Some(v) = &self.feed {
            q.append_pair("feed", v);
        }
        if let Some(v) = &self.q {
            q.append_pair("q", v);
        }
        if let Some(v) = self.since {
            q.append_pair("since", &crate::model::rfc3339(v));
        }
        if let Some(v) = self.limit {
            q.append_pair("limit", &v.to_string());
        }
        q.finish()
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Atom,
    Json,
}

impl Format {
    pub fn render(self, feed: &MergedFeed<'_>) -> String {
        match self {
            Format::Atom => atom::render(feed),
            Format::Json => jsonfeed::render(feed),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }
}

/// Reads the entries of `output` from the store: feeds filtered by the output's tags and the
/// reader's selection, one entry per story, each labelled with its feed's display title and tags.
pub fn merged_feed<'a>(
    store: &Store,
    config: &'a Config,
    feeds: &FeedsFile,
    output: &'a OutputConfig,
    filters: &Filters,
    now: DateTime<Utc>,
) -> Result<MergedFeed<'a>, StoreError> {
    let restricted = !output.tags.is_empty() || filters.tag.is_some() || filters.feed.is_some();
    let feed_ids: Option<Vec<String>> = restricted.then(|| {
        feeds
            .feeds
            .iter()
            .filter(|f| output.tags.is_empty() || f.tags.iter().any(|t| output.tags.contains(t)))
            .filter(|f| filters.tag.as_ref().is_none_or(|t| f.tags.contains(t)))
            .filter(|f| filters.feed.as_ref().is_none_or(|id| &f.id == id))
            .map(|f| f.id.clone())
            .collect()
    });
    let limit = filters.limit.unwrap_or(output.limit).clamp(1, output.limit);
    let mut entries = store.entries(&EntryFilter {
        feed_ids,
        since: filters.since,
        until: None,
        query: filters.q.clone(),
        before: filters.before,
        limit,
    })?;
    // Looked up for every entry and outlet: by id, not by a walk of a long feeds list.
    let by_id: HashMap<&str, &FeedConfig> =
        feeds.feeds.iter().map(|f| (f.id.as_str(), f)).collect();
    let configured = |id: &str| by_id.get(id).copied();
    for e in &mut entries {
        let feed = configured(&e.feed_id);
        e.feed_title = display_title(feed, &e.feed_id, &e.feed_title);
        if let Some(f) = feed {
            e.tags = f.tags.clone();
        }
        for r in &mut e.related {
            r.feed_title = display_title(configured(&r.feed_id), &r.feed_id, &r.feed_title);
        }
    }
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(now);
    let next = (entries.len() == limit)
        .then(|| entries.last().map(Cursor::after))
        .flatten();
    Ok(MergedFeed {
        output,
        entries,
        base_url: &config.server.base_url,
        updated,
        query_string: filters.query_string(),
        next,
    })
}

/// A feed's title for readers: configured, else its own, else its id.
fn display_title(feed: Option<&FeedConfig>, id: &str, own: &str) -> String {
    match feed {
        Some(f) => f.display_title(Some(own)).to_string(),
        None if own.is_empty() => id.to_string(),
        None => own.to_string(),
    }
}

/// Rewrites every `[[output]]` that has a `path`, in Atom, only when its content changed.
/// Returns the files written.
pub fn write_file_outputs(
    store: &Store,
    config: &Config,
    feeds: &FeedsFile,
    now: DateTime<Utc>,
) -> Result<Vec<std::path::PathBuf>, ExportError> {
    let mut written = Vec::new();
    for output in config.outputs.iter().filter(|o| o.path.is_some()) {
        let Some(path) = &output.path else { continue };
        let merged = merged_feed(store, config, feeds, output, &Filters::default(), now)?;
        let format = if path.extension().is_some_and(|e| e == "json") {
            Format::Json
        } else {
            Format::Atom
        };
        if crate::atomic::write_if_changed(path, format.render(&merged).as_bytes()).map_err(
            |source| ExportError::Write {
                path: path.clone(),
                source,
            },
        )? {
            written.push(path.clone());
        }
    }
    Ok(written)
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// An entry's HTML body (content, else summary) followed, for a story several outlets
/// carried, by an "Also reported by" line linking each of them.
pub fn body_with_related(e: &StoredEntry) -> String {
    let mut body = e
        .content
        .as_deref()
        .or(e.summary.as_deref())
        .unwrap_or("")
        .to_string();
    if e.related.is_empty() {
        return body;
    }
    let outlets: Vec<String> = e
        .related
        .iter()
        .map(|r| {
            let name = xml_escape(&r.feed_title).into_owned();
            match &r.link {
                Some(l) => format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">{name}</a>",
                    xml_escape(l)
                ),
                None => name,
            }
        })
        .collect();
    body.push_str(&format!(
        "\n<p>Also reported by: {}.</p>",
        outlets.join(", ")
    ));
    body
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Related;

    #[test]
    fn filters_round_trip_into_a_query_string_without_paging() {
        let f = Filters {
            tag: Some("caucasus".into()),
            q: Some("Баку газ".into()),
            limit: Some(20),
            before: Some(Cursor {
                time: chrono::DateTime::from_timestamp(1, 0).unwrap(),
                id: 3,
            }),
            ..Default::default()
        };
        assert_eq!(
            f.query_string(),
            "tag=caucasus&q=%D0%91%D0%B0%D0%BA%D1%83+%D0%B3%D0%B0%D0%B7&limit=20"
        );
    }

    #[test]
    fn other_outlets_are_named_and_linked_after_the_body() {
        let related = |feed: &str, link: Option<&str>| Related {
            entry_id: 1,
            feed_id: feed.into(),
            feed_title: format!("{feed} & co"),
            title: "t".into(),
            link: link.map(str::to_string),
        };
        let e = StoredEntry {
            rowid: 1,
            feed_id: "a".into(),
            uid: "u".into(),
            title: "t".into(),
            link: None,
            summary: Some("<p>s</p>".into()),
            content: None,
            authors: vec![],
            published: None,
            updated: chrono::Utc::now(),
            first_seen: chrono::Utc::now(),
            feed_title: "A".into(),
            feed_url: "https://a.example/".into(),
            feed_link: None,
            tags: vec![],
            cluster_id: 1,
            related: vec![
                related("wire", Some("https://w.example/1?a=1&b=2")),
                related("digest", None),
            ],
            excerpt: String::new(),
        };
        assert_eq!(
            body_with_related(&e),
            "<p>s</p>\n<p>Also reported by: <a href=\"https://w.example/1?a=1&amp;b=2\" rel=\"noopener noreferrer\">wire &amp; co</a>, digest &amp; co.</p>"
        );
    }
}
