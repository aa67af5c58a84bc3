//! Publishing the merged feed: choosing the entries of an output and writing them as Atom
//! ([`atom`]) or JSON Feed ([`jsonfeed`]), to a string or atomically to a file.

pub mod atom;
pub mod jsonfeed;
pub mod opml;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedsFile, OutputConfig};
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
        query: filters.q.clone(),
        before: filters.before,
        limit,
    })?;
    for e in &mut entries {
        e.feed_title = display_title(feeds, &e.feed_id, &e.feed_title);
        if let Some(f) = feeds.get(&e.feed_id) {
            e.tags = f.tags.clone();
        }
        for r in &mut e.related {
            r.feed_title = display_title(feeds, &r.feed_id, &r.feed_title);
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
fn display_title(feeds: &FeedsFile, id: &str, own: &str) -> String {
    match feeds.get(id) {
        Some(f) => f.display_title(Some(own)).to_string(),
        None if own.is_empty() => id.to_string(),
        None => own.to_string(),
    }
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename), and
/// only when the content differs from what is there. Returns whether the file was written.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(true)
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
        if write_if_changed(path, format.render(&merged).as_bytes()).map_err(|source| {
            ExportError::Write {
                path: path.clone(),
                source,
            }
        })? {
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

    #[test]
    fn write_if_changed_skips_identical_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out/all.atom");
        assert!(write_if_changed(&p, b"one").unwrap());
        assert!(!write_if_changed(&p, b"one").unwrap());
        assert!(write_if_changed(&p, b"two").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            1,
            "no temporary files left"
        );
    }
}
