//! Per-feed health as `tributary status`, `/api/feeds` and the sources page report it: the
//! configured feeds joined with what the store knows of each.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::FeedsFile;
use crate::model::{FeedRecord, FeedState};

/// One feed's health; field names and order are part of the `status --json` contract.
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatus {
    pub id: String,
    pub url: String,
    pub effective_url: String,
    pub state: FeedState,
    #[serde(serialize_with = "ser_time")]
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_errors: u32,
    #[serde(serialize_with = "ser_time")]
    pub next_fetch: Option<DateTime<Utc>>,
    pub entries: u64,
    pub title: String,
    #[serde(serialize_with = "ser_time")]
    pub last_fetch: Option<DateTime<Utc>>,
    /// What the last parsed fetch recovered from (a lying charset, a bare `&`, a truncated
    /// document, a skipped item): the feed works, but its publisher's output is broken.
    pub warnings: Vec<String>,
    /// Until when no request goes to the feed's host, which answered 429 (any feed on it).
    #[serde(serialize_with = "ser_time")]
    pub held_until: Option<DateTime<Utc>>,
    /// Which answer started that hold.
    pub held_reason: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::model::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// Health of every configured feed, in `feeds.toml` order.
pub fn feed_statuses(feeds: &FeedsFile, records: &[FeedRecord]) -> Vec<FeedStatus> {
    feeds
        .feeds
        .iter()
        .map(|f| {
            let rec = records.iter().find(|r| r.id == f.id);
            // A stored row for an older URL does not describe the configured one.
            let rec = rec.filter(|r| r.url == f.url.as_str());
            let hold = rec.and_then(|r| r.host_hold.as_ref()).filter(|_| f.enabled);
            let state = if !f.enabled {
                FeedState::Disabled
            } else {
                rec.and_then(|r| r.state.as_deref())
                    .map_or(FeedState::New, FeedState::parse)
            };
            FeedStatus {
                id: f.id.clone(),
                url: f.url.to_string(),
                effective_url: rec
                    .and_then(|r| r.effective_url.clone())
                    .unwrap_or_else(|| f.url.to_string()),
                state,
                last_success: rec.and_then(|r| r.last_success),
                last_error: rec.and_then(|r| r.last_error.clone()),
                consecutive_errors: rec.map_or(0, |r| r.consecutive_errors),
                next_fetch: if f.enabled {
                    rec.and_then(|r| r.next_fetch)
                } else {
                    None
                },
                entries: rec.map_or(0, |r| r.entries),
                title: f
                    .display_title(rec.and_then(|r| r.title.as_deref()))
                    .to_string(),
                last_fetch: rec.and_then(|r| r.last_fetch),
                warnings: rec.map(|r| r.warnings.clone()).unwrap_or_default(),
                held_until: hold.map(|h| h.until),
                held_reason: hold.map(|h| h.reason.clone()),
            }
        })
        .collect()
}
