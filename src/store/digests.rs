//! The `fetch_log` and `digest_deliveries` tables: what a day's digest says about failing
//! feeds, and the state of mailing each digest.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, StoreError, fmt_time, parse_opt_time};

/// Rows of `fetch_log` older than this many days are dropped with retention.
pub const FETCH_LOG_DAYS: i64 = 60;

/// A feed whose last fetch in a period failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingFeed {
    pub feed_id: String,
    pub error: String,
}

/// Where mailing one day's digest stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub date: String,
    /// `pending`, `sent`, `retrying` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: Option<DateTime<Utc>>,
}

impl Store {
    /// Feeds whose last fetch between `start` and `end` failed, with the reason.
    pub fn failing_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<FailingFeed>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.feed_id, coalesce(l.error, '') FROM fetch_log l
             WHERE l.at >= ?1 AND l.at < ?2 AND l.ok = 0
               AND l.at = (SELECT max(m.at) FROM fetch_log m WHERE m.feed_id = l.feed_id AND m.at >= ?1 AND m.at < ?2)
             GROUP BY l.feed_id ORDER BY l.feed_id",
        )?;
        let rows = stmt.query_map(params![fmt_time(start), fmt_time(end)], |r| {
            Ok(FailingFeed {
                feed_id: r.get(0)?,
                error: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that the digest of `date` was built and is to be mailed now.
    pub fn delivery_pending(&mut self, date: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO digest_deliveries (date, built_at, state, attempts, next_attempt) VALUES (?1, ?2, 'pending', 0, ?2)
             ON CONFLICT(date) DO UPDATE SET built_at = excluded.built_at, state = 'pending', next_attempt = excluded.next_attempt
             WHERE digest_deliveries.state <> 'sent'",
            params![date, fmt_time(now)],
        )?;
        Ok(())
    }

    /// Records a mailing attempt: sent, or failed with the next attempt (None: given up).
    pub fn delivery_attempted(
        &mut self,
        date: &str,
        result: Result<(), &str>,
        next_attempt: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let (state, error) = match result {
            Ok(()) => ("sent", None),
            Err(e) if next_attempt.is_some() => ("retrying", Some(e)),
            Err(e) => ("failed", Some(e)),
        };
        self.conn.execute(
            "UPDATE digest_deliveries SET state = ?2, attempts = attempts + 1, last_error = ?3, next_attempt = ?4
             WHERE date = ?1",
            params![date, state, error, next_attempt.map(fmt_time)],
        )?;
        Ok(())
    }

    /// Deliveries due for an attempt at `now`.
    pub fn deliveries_due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{DELIVERY_SELECT} WHERE state IN ('pending', 'retrying') AND next_attempt <= ?1 ORDER BY date"
        ))?;
        let rows = stmt.query_map([fmt_time(now)], row_to_delivery)?;
        rows.map(|r| r?).collect()
    }

    /// The most recent delivery, for `status`.
    pub fn last_delivery(&self) -> Result<Option<Delivery>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{DELIVERY_SELECT} ORDER BY date DESC LIMIT 1"))?;
        let mut rows = stmt.query_map([], row_to_delivery)?;
        rows.next().transpose()?.transpose()
    }
}

const DELIVERY_SELECT: &str =
    "SELECT date, state, attempts, last_error, next_attempt FROM digest_deliveries";

fn row_to_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Delivery, StoreError>> {
    let next: Option<String> = r.get(4)?;
    let delivery = Delivery {
        date: r.get(0)?,
        state: r.get(1)?,
        attempts: r.get(2)?,
        last_error: r.get(3)?,
        next_attempt: None,
    };
    Ok(
        parse_opt_time(next, "digest_deliveries.next_attempt").map(|next_attempt| Delivery {
            next_attempt,
            ..delivery
        }),
    )
}

pub(super) fn log_fetch(
    tx: &rusqlite::Transaction<'_>,
    feed_id: &str,
    at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO fetch_log (feed_id, at, ok, error) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![feed_id, fmt_time(at), error.is_none(), error])?;
    Ok(())
}

pub(super) fn trim_fetch_log(
    tx: &rusqlite::Transaction<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM fetch_log WHERE at < ?1",
        [fmt_time(now - chrono::TimeDelta::days(FETCH_LOG_DAYS))],
    )?;
    Ok(())
}
