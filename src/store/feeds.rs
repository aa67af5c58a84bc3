//! The `feeds` table: one row per configured feed id, with its fetch validators and health.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, fmt_time, parse_opt_time};
use crate::model::{FeedRecord, FeedState, HostHold};

/// How many fetches in a row must be permanently redirected to one target before the feed's
/// effective URL moves there.
pub const REDIRECTS_TO_MOVE: u32 = 3;

/// The result of one fetch attempt, as recorded on the feed's row.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub at: DateTime<Utc>,
    /// `None` for a feed marked gone: it is not fetched again until its entry changes.
    pub next_fetch: Option<DateTime<Utc>>,
    /// Where this fetch was permanently redirected (301/308), when it got an answer.
    pub permanent_redirect: Option<Option<String>>,
    pub outcome: FetchRecordOutcome,
}

#[cfg(test)]
impl FetchRecord {
    /// A successful fetch at `at` (RFC 3339) of a feed titled "Feed", for tests.
    pub(crate) fn fetched_for_test(at: &str) -> FetchRecord {
        FetchRecord {
            at: at.parse().expect("an RFC 3339 time"),
            next_fetch: None,
            permanent_redirect: None,
            outcome: FetchRecordOutcome::Fetched {
                etag: None,
                last_modified: None,
                title: "Feed".into(),
                site_link: None,
                format: "rss2".into(),
                warnings: vec![],
            },
        }
    }
}

/// What the attempt came to.
#[derive(Debug, Clone)]
pub enum FetchRecordOutcome {
    /// New content was parsed (entries are stored in the same transaction).
    Fetched {
        etag: Option<String>,
        last_modified: Option<String>,
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
    /// The attempt failed; `state` is `failing`, `backoff` or `gone`.
    Failed { error: String, state: FeedState },
}

use FetchRecordOutcome as Outcome;

/// One configured feed as the store needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct FeedIdentity<'a> {
    pub id: &'a str,
    pub url: &'a str,
    /// See [`crate::config::FeedConfig::fingerprint`].
    pub fingerprint: &'a str,
}

impl Store {
    /// Makes sure every configured feed has a row. A changed URL resets the validators,
    /// redirect tracking and effective URL (they belonged to the old address); any change to
    /// the feed's entry revives a feed marked gone. History stays with the id.
    pub fn sync_feeds<'a>(
        &mut self,
        feeds: impl IntoIterator<Item = FeedIdentity<'a>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO feeds (id, url, config_fingerprint, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET config_fingerprint = excluded.config_fingerprint
                 WHERE feeds.config_fingerprint IS NOT excluded.config_fingerprint",
            )?;
            let mut moved = tx.prepare_cached(
                "UPDATE feeds SET url = ?2, etag = NULL, last_modified = NULL, effective_url = NULL,
                    redirect_target = NULL, redirect_count = 0, next_fetch = NULL, consecutive_errors = 0
                 WHERE id = ?1 AND url <> ?2",
            )?;
            let mut revive = tx.prepare_cached(
                "UPDATE feeds SET state = 'new', next_fetch = NULL, consecutive_errors = 0
                 WHERE id = ?1 AND state = 'gone'",
            )?;
            for f in feeds {
                let changed = insert.execute(params![f.id, f.url, f.fingerprint, fmt_time(now)])?;
                moved.execute(params![f.id, f.url])?;
                if changed > 0 {
                    revive.execute(params![f.id])?;
                }
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

    /// Every feed row, by id, with the hold on its host when one is in force.
    pub fn feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let sql = format!("{FEED_SELECT} ORDER BY f.id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_to_feed)?;
        let mut feeds: Vec<FeedRecord> = rows.map(|r| r?).collect::<Result<_, _>>()?;
        let holds = self.host_holds(Utc::now())?;
        if !holds.is_empty() {
            for feed in &mut feeds {
                let url = feed.effective_url.as_deref().unwrap_or(&feed.url);
                let Ok(url) = url::Url::parse(url) else {
                    continue;
                };
                let host = crate::fetch::host_key(&url);
                feed.host_hold = holds.iter().find(|h| h.host == host).cloned();
            }
        }
        Ok(feeds)
    }

    /// Records that `host` asked for no requests before `until` (a 429), keeping the later
    /// time when a hold is already in force, and forgets holds that have run out.
    pub fn hold_host(&mut self, hold: &HostHold) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM host_holds WHERE until <= ?1",
            [fmt_time(Utc::now())],
        )?;
        tx.execute(
            "INSERT INTO host_holds (host, until, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (host) DO UPDATE SET until = excluded.until, reason = excluded.reason
             WHERE excluded.until > host_holds.until",
            params![hold.host, fmt_time(hold.until), hold.reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The host holds still in force at `now`.
    pub fn host_holds(&self, now: DateTime<Utc>) -> Result<Vec<HostHold>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT host, until, reason FROM host_holds WHERE until > ?1")?;
        let rows = stmt.query_map([fmt_time(now)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (host, until, reason) = r?;
            Ok(HostHold {
                host,
                until: super::parse_time(&until, "host_holds.until")?,
                reason,
            })
        })
        .collect()
    }

    /// Records a fetch that brought no entries (304 or failure). For successes with entries
    /// see [`Store::store_fetch`], which does this in the same transaction as the entries.
    pub fn record_fetch(&mut self, feed_id: &str, record: &FetchRecord) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_fetch_record(&tx, feed_id, record)?;
        tx.commit()?;
        Ok(())
    }

    /// [`Store::record_fetch`] for many feeds in one transaction (a run's 304 answers).
    pub fn record_fetches(&mut self, records: &[(String, FetchRecord)]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for (feed_id, record) in records {
            write_fetch_record(&tx, feed_id, record)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Pushes the next fetch of `feed_ids` to no earlier than `until` (a host's 429).
    pub fn defer_feeds(
        &mut self,
        feed_ids: &[String],
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let until = fmt_time(until);
            let mut stmt = tx.prepare_cached(
                "UPDATE feeds SET next_fetch = ?2 WHERE id = ?1 AND (next_fetch IS NULL OR next_fetch < ?2)",
            )?;
            for id in feed_ids {
                stmt.execute(params![id, until])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Publication times (else first-seen times) of a feed's newest `n` entries, newest first.
    pub fn recent_times(&self, feed_id: &str, n: usize) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sort_time FROM entries WHERE feed_id = ?1 ORDER BY sort_time DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![feed_id, n as i64], |r| r.get::<_, String>(0))?;
        rows.map(|r| super::parse_time(&r?, "entries.sort_time"))
            .collect()
    }
}

pub(super) fn write_fetch_record(
    tx: &rusqlite::Transaction<'_>,
    feed_id: &str,
    record: &FetchRecord,
) -> Result<(), StoreError> {
    let at = fmt_time(record.at);
    let next = record.next_fetch.map(fmt_time);
    let error = match &record.outcome {
        Outcome::Failed { error, .. } => Some(error.as_str()),
        _ => None,
    };
    super::digests::log_fetch(tx, feed_id, record.at, error)?;
    match &record.outcome {
        Outcome::Fetched {
            etag,
            last_modified,
            title,
            site_link,
            format,
            warnings,
        } => {
            let warnings = serde_json::to_string(warnings).unwrap_or_else(|_| "[]".into());
            tx.prepare_cached(
                "UPDATE feeds SET etag = ?2, last_modified = ?3, title = ?4, site_link = ?5,
                    format = ?6, warnings = ?7, last_fetch = ?8, last_success = ?8, last_error = NULL,
                    consecutive_errors = 0, next_fetch = ?9, state = 'ok' WHERE id = ?1",
            )?
            .execute(params![
                feed_id, etag, last_modified, title, site_link, format, warnings, at, next
            ])?;
        }
        Outcome::NotModified {
            etag,
            last_modified,
        } => {
            tx.prepare_cached(
                "UPDATE feeds SET etag = coalesce(?2, etag), last_modified = coalesce(?3, last_modified),
                    last_fetch = ?4, last_success = ?4, last_error = NULL, consecutive_errors = 0,
                    next_fetch = ?5, state = 'ok' WHERE id = ?1",
            )?
            .execute(params![feed_id, etag, last_modified, at, next])?;
        }
        Outcome::Failed { error, state } => {
            tx.prepare_cached(
                "UPDATE feeds SET last_fetch = ?2, last_error = ?3, consecutive_errors = consecutive_errors + 1,
                    next_fetch = ?4, state = ?5 WHERE id = ?1",
            )?
            .execute(params![feed_id, at, error, next, state.as_str()])?;
        }
    }
    match &record.permanent_redirect {
        None => {}
        Some(None) => {
            tx.prepare_cached(
                "UPDATE feeds SET redirect_target = NULL, redirect_count = 0 WHERE id = ?1",
            )?
            .execute([feed_id])?;
        }
        Some(Some(target)) => {
            tx.prepare_cached(
                "UPDATE feeds SET
                    redirect_count = CASE WHEN redirect_target = ?2 THEN redirect_count + 1 ELSE 1 END,
                    redirect_target = ?2
                 WHERE id = ?1",
            )?
            .execute(params![feed_id, target])?;
            tx.prepare_cached(
                "UPDATE feeds SET effective_url = redirect_target, redirect_count = 0, redirect_target = NULL
                 WHERE id = ?1 AND redirect_count >= ?2",
            )?
            .execute(params![feed_id, REDIRECTS_TO_MOVE])?;
        }
    }
    Ok(())
}

const FEED_SELECT: &str =
    "SELECT f.id, f.url, f.effective_url, f.title, f.site_link, f.etag, f.last_modified,
    f.last_fetch, f.last_success, f.last_error, f.consecutive_errors, f.next_fetch, f.state,
    f.entry_count, f.keys_by_link, f.redirect_target, f.redirect_count,
    f.warnings
    FROM feeds f";

fn row_to_feed(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<FeedRecord, StoreError>> {
    let times = (
        r.get::<_, Option<String>>(7)?,
        r.get::<_, Option<String>>(8)?,
        r.get::<_, Option<String>>(11)?,
    );
    // Written by this module as a JSON array; anything else reads as no warnings.
    let warnings = r
        .get::<_, Option<String>>(17)?
        .and_then(|w| serde_json::from_str(&w).ok())
        .unwrap_or_default();
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
        redirect_target: r.get(15)?,
        redirect_count: r.get(16)?,
        warnings,
        ..FeedRecord::default()
    };
    Ok((|| {
        rec.last_fetch = parse_opt_time(times.0, "feeds.last_fetch")?;
        rec.last_success = parse_opt_time(times.1, "feeds.last_success")?;
        rec.next_fetch = parse_opt_time(times.2, "feeds.next_fetch")?;
        Ok(rec)
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn store(url: &str, fingerprint: &str) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.sync_feeds(
            [FeedIdentity {
                id: "f",
                url,
                fingerprint,
            }],
            at("2026-01-14T00:00:00Z"),
        )
        .unwrap();
        s
    }

    fn not_modified(redirect: Option<&str>) -> FetchRecord {
        FetchRecord {
            at: at("2026-01-14T01:00:00Z"),
            next_fetch: Some(at("2026-01-14T01:30:00Z")),
            permanent_redirect: Some(redirect.map(str::to_string)),
            outcome: Outcome::NotModified {
                etag: None,
                last_modified: None,
            },
        }
    }

    #[test]
    fn permanent_redirect_moves_the_feed_after_three_in_a_row() {
        let mut s = store("https://old.example/rss", "1");
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        assert_eq!(s.feed("f").unwrap().unwrap().effective_url, None);
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        let f = s.feed("f").unwrap().unwrap();
        assert_eq!(f.effective_url.as_deref(), Some("https://new.example/rss"));
        assert_eq!(
            f.url, "https://old.example/rss",
            "the configured URL is kept"
        );
    }

    #[test]
    fn an_interrupted_redirect_streak_starts_over() {
        let mut s = store("https://old.example/rss", "1");
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        s.record_fetch("f", &not_modified(None)).unwrap();
        s.record_fetch("f", &not_modified(Some("https://new.example/rss")))
            .unwrap();
        s.record_fetch("f", &not_modified(Some("https://other.example/rss")))
            .unwrap();
        let f = s.feed("f").unwrap().unwrap();
        assert_eq!(f.effective_url, None);
        assert_eq!(
            (f.redirect_target.as_deref(), f.redirect_count),
            (Some("https://other.example/rss"), 1)
        );
    }

    #[test]
    fn gone_feed_is_revived_only_when_its_entry_changes() {
        let mut s = store("https://a.example/rss", "1");
        let gone = FetchRecord {
            at: at("2026-01-14T01:00:00Z"),
            next_fetch: None,
            permanent_redirect: None,
            outcome: Outcome::Failed {
                error: "HTTP 410 Gone".into(),
                state: FeedState::Gone,
            },
        };
        s.record_fetch("f", &gone).unwrap();
        let same = [FeedIdentity {
            id: "f",
            url: "https://a.example/rss",
            fingerprint: "1",
        }];
        s.sync_feeds(same, at("2026-01-14T02:00:00Z")).unwrap();
        assert_eq!(s.feed("f").unwrap().unwrap().state.as_deref(), Some("gone"));
        let edited = [FeedIdentity {
            id: "f",
            url: "https://a.example/rss",
            fingerprint: "2",
        }];
        s.sync_feeds(edited, at("2026-01-14T03:00:00Z")).unwrap();
        assert_eq!(s.feed("f").unwrap().unwrap().state.as_deref(), Some("new"));
    }

    #[test]
    fn deferring_never_brings_a_fetch_forward() {
        let mut s = store("https://a.example/rss", "1");
        s.record_fetch("f", &not_modified(None)).unwrap();
        s.defer_feeds(&["f".into()], at("2026-01-14T01:10:00Z"))
            .unwrap();
        assert_eq!(
            s.feed("f").unwrap().unwrap().next_fetch,
            Some(at("2026-01-14T01:30:00Z"))
        );
        s.defer_feeds(&["f".into()], at("2026-01-14T05:00:00Z"))
            .unwrap();
        assert_eq!(
            s.feed("f").unwrap().unwrap().next_fetch,
            Some(at("2026-01-14T05:00:00Z"))
        );
    }
}
