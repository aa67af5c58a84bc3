//! The `feeds` table: one row per configured feed id, with its fetch validators and health.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, fmt_time, parse_opt_time};
use crate::model::{FeedRecord, FeedState};

/// The result of one fetch attempt, as recorded on the feed's row.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub at: DateTime<Utc>,
    pub next_fetch: Option<DateTime<Utc>>,
    pub outcome: FetchRecordOutcome,
}

/// What the attempt came to.
#[derive(Debug, Clone)]
pub enum FetchRecordOutcome {
    /// New content was parsed (entries are stored in the same transaction).
    Fetched {
        etag: Option<String>,
        last_modified: Option<String>,
        effective_url: String,
        title: String,
        site_link: Option<String>,
        format: String,
        warnings: Vec<String>,
    },
    /// 304: only validators and timestamps change.
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// The attempt failed; `state` is `failing` or `backoff` (or `gone`).
    Failed { error: String, state: FeedState },
}

use FetchRecordOutcome as Outcome;

impl Store {
    /// Makes sure every configured feed has a row; a changed URL resets the validators (they
    /// belonged to the old address) and revives a feed marked gone. History stays with the id.
    pub fn sync_feeds<'a>(
        &mut self,
        feeds: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO feeds (id, url, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET
                   url = excluded.url, etag = NULL, last_modified = NULL, effective_url = NULL,
                   next_fetch = NULL, consecutive_errors = 0,
                   state = CASE WHEN feeds.state = 'gone' THEN 'new' ELSE feeds.state END
                 WHERE feeds.url <> excluded.url",
            )?;
            for (id, url) in feeds {
                insert.execute(params![id, url, fmt_time(now)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// One feed's row, or `None` if it was never seen.
    pub fn feed(&self, id: &str) -> Result<Option<FeedRecord>, StoreError> {
        let sql = format!("{FEED_SELECT} WHERE f.id = ?1");
        self.conn
            .query_row(&sql, [id], row_to_feed)
            .optional()?
            .transpose()
    }

    /// Every feed row, by id.
    pub fn feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let sql = format!("{FEED_SELECT} ORDER BY f.id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_to_feed)?;
        rows.map(|r| r?).collect()
    }

    /// Records a fetch that brought no entries (304 or failure). For successes with entries
    /// see [`Store::store_fetch`], which does this in the same transaction as the entries.
    pub fn record_fetch(&mut self, feed_id: &str, record: &FetchRecord) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_fetch_record(&tx, feed_id, record)?;
        tx.commit()?;
        Ok(())
    }
}

pub(super) fn write_fetch_record(
    tx: &rusqlite::Transaction<'_>,
    feed_id: &str,
    record: &FetchRecord,
) -> Result<(), StoreError> {
    let at = fmt_time(record.at);
    let next = record.next_fetch.map(fmt_time);
    match &record.outcome {
        Outcome::Fetched {
            etag,
            last_modified,
            effective_url,
            title,
            site_link,
            format,
            warnings,
        } => {
            let warnings = serde_json::to_string(warnings).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "UPDATE feeds SET etag = ?2, last_modified = ?3, effective_url = ?4, title = ?5, site_link = ?6,
                    format = ?7, warnings = ?8, last_fetch = ?9, last_success = ?9, last_error = NULL,
                    consecutive_errors = 0, next_fetch = ?10, state = 'ok' WHERE id = ?1",
                params![feed_id, etag, last_modified, effective_url, title, site_link, format, warnings, at, next],
            )?;
        }
        Outcome::NotModified {
            etag,
            last_modified,
        } => {
            tx.execute(
                "UPDATE feeds SET etag = coalesce(?2, etag), last_modified = coalesce(?3, last_modified),
                    last_fetch = ?4, last_success = ?4, last_error = NULL, consecutive_errors = 0,
                    next_fetch = ?5, state = 'ok' WHERE id = ?1",
                params![feed_id, etag, last_modified, at, next],
            )?;
        }
        Outcome::Failed { error, state } => {
            tx.execute(
                "UPDATE feeds SET last_fetch = ?2, last_error = ?3, consecutive_errors = consecutive_errors + 1,
                    next_fetch = ?4, state = ?5 WHERE id = ?1",
                params![feed_id, at, error, next, state.as_str()],
            )?;
        }
    }
    Ok(())
}

const FEED_SELECT: &str =
    "SELECT f.id, f.url, f.effective_url, f.title, f.site_link, f.etag, f.last_modified,
    f.last_fetch, f.last_success, f.last_error, f.consecutive_errors, f.next_fetch, f.state,
    (SELECT count(*) FROM entries e WHERE e.feed_id = f.id), f.keys_by_link
    FROM feeds f";

fn row_to_feed(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<FeedRecord, StoreError>> {
    let times = (
        r.get::<_, Option<String>>(7)?,
        r.get::<_, Option<String>>(8)?,
        r.get::<_, Option<String>>(11)?,
    );
    let mut rec = FeedRecord {
        id: r.get(0)?,
        url: r.get(1)?,
        effective_url: r.get(2)?,
        title: r.get(3)?,
        site_link: r.get(4)?,
        etag: r.get(5)?,
        last_modified: r.get(6)?,
        last_error: r.get(9)?,
        consecutive_errors: r.get(10)?,
        state: r.get(12)?,
        entries: r.get::<_, i64>(13)?.max(0) as u64,
        keys_by_link: r.get(14)?,
        ..FeedRecord::default()
    };
    Ok((|| {
        rec.last_fetch = parse_opt_time(times.0, "feeds.last_fetch")?;
        rec.last_success = parse_opt_time(times.1, "feeds.last_success")?;
        rec.next_fetch = parse_opt_time(times.2, "feeds.next_fetch")?;
        Ok(rec)
    })())
}
