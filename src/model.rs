//! Plain data passed between the pipeline stages: what a parsed feed holds, what is written to
//! the store, and what is read back for export. No behaviour lives here beyond small helpers.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The syntax a feed document was written in, as reported by `preview --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    Rss2,
    Rss1,
    Rss0,
    Atom,
    Atom03,
    Json,
    Html,
}

impl FeedFormat {
    /// The name used in `preview --json` and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Rss2 => "rss2",
            FeedFormat::Rss1 => "rss1",
            FeedFormat::Rss0 => "rss0",
            FeedFormat::Atom => "atom",
            FeedFormat::Atom03 => "atom03",
            FeedFormat::Json => "json",
            FeedFormat::Html => "html",
        }
    }
}

/// One feed document after decode, parse and clean: what `preview` prints and what refresh
/// hands to the store.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedFeed {
    pub format: FeedFormat,
    pub title: String,
    pub link: Option<String>,
    pub entries: Vec<NewEntry>,
    /// Every recovery made on the way (encoding guesses, repaired markup, dropped items).
    pub warnings: Vec<String>,
    /// False when some of `warnings` mended a broken document: bytes not in their encoding,
    /// XML that is not well-formed, a document cut short. Reading a well-formed document in an
    /// older or nonstandard form (Atom 0.3, `<rss>` without a version) is warned about but
    /// leaves this true.
    #[serde(skip)]
    pub well_formed: bool,
    /// RSS `<ttl>` in minutes, if the feed gave one.
    #[serde(skip)]
    pub ttl_minutes: Option<u32>,
}

/// An entry as parsed and cleaned, before it is stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NewEntry {
    /// The feed's own id/guid, or a deterministic one derived from link and title.
    pub id: String,
    /// True when `id` came from the feed (guid/id element), false when it was derived.
    #[serde(skip)]
    pub id_from_feed: bool,
    pub title: String,
    pub link: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub published: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_time")]
    pub updated: Option<DateTime<Utc>>,
    /// Sanitized HTML.
    pub summary: Option<String>,
    /// Sanitized HTML.
    pub content: Option<String>,
    pub authors: Vec<String>,
}

fn ser_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// RFC 3339 in UTC with second precision and a `Z`: the one timestamp form Tributary writes.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Health of a feed as shown by `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedState {
    New,
    Ok,
    Failing,
    Backoff,
    Gone,
    Disabled,
}

impl FeedState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::New => "new",
            FeedState::Ok => "ok",
            FeedState::Failing => "failing",
            FeedState::Backoff => "backoff",
            FeedState::Gone => "gone",
            FeedState::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> FeedState {
        match s {
            "ok" => FeedState::Ok,
            "failing" => FeedState::Failing,
            "backoff" => FeedState::Backoff,
            "gone" => FeedState::Gone,
            "disabled" => FeedState::Disabled,
            _ => FeedState::New,
        }
    }
}

/// A feed's stored row: fetch validators and health.
#[derive(Debug, Clone, Default)]
pub struct FeedRecord {
    pub id: String,
    pub url: String,
    pub effective_url: Option<String>,
    /// The title the feed gives itself.
    pub title: Option<String>,
    pub site_link: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_errors: u32,
    pub next_fetch: Option<DateTime<Utc>>,
    pub state: Option<String>,
    pub entries: u64,
    /// Set once a feed has shown non-unique guids: its entries are keyed by link instead.
    pub keys_by_link: bool,
    /// A permanent redirect seen on recent fetches, and how many fetches in a row saw it.
    pub redirect_target: Option<String>,
    pub redirect_count: u32,
    /// What the last parsed fetch had to recover from (decoding, repairs, skipped items).
    pub warnings: Vec<String>,
    /// The feed's host asked for no requests until a time (a 429), if it still holds.
    pub host_hold: Option<HostHold>,
}

/// A host that answered 429 Too Many Requests: no feed on it is fetched before `until`, also
/// by a later run and by `fetch --all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostHold {
    /// `host` or `host:port`, as [`crate::fetch::host_key`] names it.
    pub host: String,
    pub until: DateTime<Utc>,
    /// The answer that started the hold, with the feed that got it.
    pub reason: String,
}

/// A stored entry joined with its feed, as read for export.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEntry {
    pub rowid: i64,
    pub feed_id: String,
    /// Stable Atom id (`urn:uuid:…`), fixed when the entry is first stored.
    pub uid: String,
    pub title: String,
    pub link: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    /// The feed's display title (configured title, else the feed's own, else its id).
    pub feed_title: String,
    pub feed_url: String,
    pub feed_link: Option<String>,
    pub tags: Vec<String>,
    /// The story's cluster; entries of one cluster are the same story from several feeds.
    pub cluster_id: i64,
    /// The cluster's other members (other outlets that carried the story), first seen first.
    pub related: Vec<Related>,
    /// Plain-text opening of the entry.
    pub excerpt: String,
}

/// Another outlet's copy of a story.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Related {
    pub entry_id: i64,
    pub feed_id: String,
    pub feed_title: String,
    pub title: String,
    pub link: Option<String>,
}

/// What a refresh of one feed did, for logs, progress and exit codes.
#[derive(Debug, Clone, Default)]
pub struct RefreshReport {
    pub feed_id: String,
    pub not_modified: bool,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New entries that joined a story already carried by another feed.
    pub folded: usize,
    pub warnings: Vec<String>,
    /// Set when the refresh failed; the reason as recorded on the feed.
    pub error: Option<String>,
    /// Set when the feed was not due and was skipped.
    pub skipped: bool,
}
