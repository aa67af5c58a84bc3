//! The SQLite store: the only module that touches SQL.
//!
//! [`Store::open`] sets WAL, foreign keys, a busy timeout and a page cache sized for writing
//! many feeds at once, and applies the migrations in `store/migrations/` by
//! `PRAGMA user_version`, each in its own transaction (see `migrate`). Feeds and entries
//! live in their own files; export and status read through the methods here.

mod checkpoint;
mod clusters;
mod digests;
mod entries;
mod feeds;
mod reader;

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

pub use clusters::{DedupSettings, Split, SplitRefusal};
pub use digests::{Delivery, FailingFeed};
pub use entries::{
    BatchCounts, BatchJob, Cursor, EntryFilter, PreparedBatch, StoreCounts, StoredVersion,
    count_changes, count_inserted, fts_expression, index_for_search,
};
pub use feeds::{FeedIdentity, FetchRecord, FetchRecordOutcome, REDIRECTS_TO_MOVE};
pub use reader::{FeedStoryCounts, Highlighted, Snippet};

/// The page cache of a store's connection. Storing an entry changes a leaf of each index on
/// `entries` at a place its key decides (a hash, a link, a time), so a cold fetch of many feeds
/// touches pages all over those indexes; with SQLite's default 2 MiB they were read back and
/// written out to the write-ahead log in the middle of a transaction, again and again.
const PAGE_CACHE_KIB: i64 = 16 * 1024;

/// Pages the write-ahead log collects before a commit copies them into the database (about
/// 40 MiB; SQLite's default is 1,000). Each checkpoint copies every page changed since the last
/// and waits for the disk; index pages that many commits change are copied once per
/// checkpoint, not once per thousand pages written. The log file is cut back to this size
/// after a checkpoint that found it larger.
const CHECKPOINT_PAGES: i64 = 10_000;

/// How long a statement waits for another process's write lock before it fails as busy.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long opening a database waits for another process that is upgrading its schema (a
/// table rebuild takes about 80 s a million entries on a 2-core machine), instead of
/// [`BUSY_WAIT`]: a cron `fetch` started meanwhile then runs once the upgrade is done.
const UPGRADE_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Prepared statements a connection keeps (rusqlite's default is 16). Storing a feed's batch
/// runs about twenty different cached statements, in the same order for every feed: a
/// least-recently-used cache smaller than that would lose each one before its next use, and
/// compile it again every time.
const STATEMENT_CACHE: usize = 64;

/// The migrations, in order; `PRAGMA user_version` counts how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_redirects_and_gone.sql"),
    include_str!("migrations/0003_clusters.sql"),
    include_str!("migrations/0004_search_and_version.sql"),
    include_str!("migrations/0005_fetch_log_and_digests.sql"),
    include_str!("migrations/0006_change_time.sql"),
    include_str!("migrations/0007_dedup_index.sql"),
    include_str!("migrations/0008_host_holds.sql"),
    include_str!("migrations/0009_feed_entry_counts.sql"),
    include_str!("migrations/0010_search_index_by_batch.sql"),
    include_str!("migrations/0011_drop_entries_by_updated.sql"),
    include_str!("migrations/0012_counters_per_batch.sql"),
    include_str!("migrations/0013_entries_uid_not_indexed.sql"),
];

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the folder for {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} is at schema version {found}, newer than this Tributary knows ({known}); upgrade Tributary"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database migration {version} failed: {source}")]
    Migration {
        version: usize,
        source: rusqlite::Error,
    },
    #[error(
        "database migration {version} left {table} row {row} referring to a missing row of {parent}; the migration was rolled back"
    )]
    Dangling {
        version: usize,
        table: String,
        row: i64,
        parent: String,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database holds an invalid value in {0}")]
    Corrupt(String),
    /// A failure that several feeds' batches share, as each of them reports it: the
    /// transaction of their group failed (see [`Store::store_prepared_group`]), or the thread
    /// that writes groups stopped or panicked (see [`crate::group_commit`]).
    #[error("{0}")]
    Shared(String),
}

/// An open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The near-duplicate candidate index, kept in step with the `dedup_index` table.
    dedup: clusters::IndexCache,
    /// The thread that checkpoints the write-ahead log, once
    /// [`Store::checkpoint_in_background`] started it.
    checkpointer: Option<checkpoint::Checkpointer>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        Self::setup(conn, &path.display().to_string())
    }

    /// An in-memory database, for tests and previews.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::setup(conn, ":memory:")
    }

    fn setup(mut conn: Connection, name: &str) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: name.to_string(),
            source,
        };
        conn.busy_timeout(BUSY_WAIT).map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)
            .map_err(open_err)?;
        let page_size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_size_limit", CHECKPOINT_PAGES * page_size)
            .map_err(open_err)?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        migrate(&mut conn, name, version, MIGRATIONS)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        Ok(Store {
            conn,
            dedup: clusters::IndexCache::default(),
            checkpointer: None,
        })
    }

    /// Leaves checkpoints of the write-ahead log to a thread of their own (see
    /// [`checkpoint`]), for a store that takes many commits in a row: commits then never wait
    /// for the disk. Does nothing for a store in memory, or when already started.
    pub fn checkpoint_in_background(&mut self) -> Result<(), StoreError> {
        if self.checkpointer.is_none() {
            self.checkpointer =
                checkpoint::Checkpointer::start(&mut self.conn, Default::default())?;
        }
        Ok(())
    }

    /// The schema version now in force.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// A number that changes whenever anything readers see changes: the ETag validator.
    pub fn version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT version FROM store_version WHERE id = 1")?
            .query_row([], |r| r.get(0))?)
    }

    /// The soonest next fetch among feeds not marked gone: how long readers may cache.
    pub fn earliest_next_fetch(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let s: Option<String> = self.conn.query_row(
            "SELECT min(next_fetch) FROM feeds WHERE state <> 'gone'",
            [],
            |r| r.get(0),
        )?;
        parse_opt_time(s, "feeds.next_fetch")
    }

    /// When what readers see last changed (Last-Modified): the time the change counter last
    /// moved, whatever dates the changed entries carry. `None` before the first change.
    pub fn newest_change(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let s: Option<String> = self
            .conn
            .prepare_cached("SELECT changed_at FROM store_version WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?
            .flatten();
        s.map(|s| parse_time(&s, "store_version.changed_at"))
            .transpose()
    }
}

/// Timestamps are stored as RFC 3339 UTC text with second precision, which sorts as text.
pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    crate::model::rfc3339(t)
}

pub(crate) fn parse_time(s: &str, column: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(column.to_string()))
}

pub(crate) fn parse_opt_time(
    s: Option<String>,
    column: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.map(|s| parse_time(&s, column)).transpose()
}

/// Applies `migrations` after the first `version`, each in its own transaction. A step that
/// another process applied while this one waited for the write lock is skipped.
///
/// Foreign keys are off while they run, as SQLite requires for a migration that rebuilds
/// a table others refer to (0013 rebuilds `entries`, which `cluster_splits` refers to and
/// cascades from): with them on, dropping the old table would delete the splits. Each
/// migration is checked with `PRAGMA foreign_key_check` before it commits, so none can
/// leave a dangling reference behind. On an error the connection keeps the settings it
/// migrates with (foreign keys off, the long busy wait): it is meant to be dropped, as
/// `Store::setup` does.
fn migrate(
    conn: &mut Connection,
    name: &str,
    version: i64,
    migrations: &[&str],
) -> Result<(), StoreError> {
    let version = applied(name, version, migrations)?;
    if version == migrations.len() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    if version > 0 {
        tracing::info!(
            database = name,
            from = version,
            to = migrations.len(),
            "upgrading the database schema; on a large archive this takes minutes"
        );
    }
    let fail = |n: usize| move |source| StoreError::Migration { version: n, source };
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(fail(version + 1))?;
    conn.busy_timeout(UPGRADE_WAIT).map_err(fail(version + 1))?;
    let mut skipped = 0;
    for (i, sql) in migrations.iter().enumerate().skip(version) {
        let n = i + 1;
        // Immediate: the write lock first, then the version again. Another process may have
        // applied this step while this one waited for the lock.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail(n))?;
        let current = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(fail(n))?;
        if applied(name, current, migrations)? >= n {
            skipped += 1;
            continue;
        }
        tx.execute_batch(sql).map_err(fail(n))?;
        let dangling: Option<(String, i64, String)> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    r.get(2)?,
                ))
            })
            .optional()
            .map_err(fail(n))?;
        if let Some((table, row, parent)) = dangling {
            return Err(StoreError::Dangling {
                version: n,
                table,
                row,
                parent,
            });
        }
        tx.pragma_update(None, "user_version", n as i64)
            .map_err(fail(n))?;
        tx.commit().map_err(fail(n))?;
    }
    conn.busy_timeout(BUSY_WAIT)
        .map_err(fail(migrations.len()))?;
    if version > 0 {
        tracing::info!(
            database = name,
            version = migrations.len(),
            seconds = started.elapsed().as_secs_f64(),
            by_another_process = skipped,
            "database schema upgraded"
        );
    }
    Ok(())
}

/// How many of `migrations` a database at schema `version` has applied: refused when it is
/// newer than they reach, or negative.
fn applied(name: &str, version: i64, migrations: &[&str]) -> Result<usize, StoreError> {
    let known = migrations.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            path: name.to_string(),
            found: version,
            known,
        });
    }
    usize::try_from(version).map_err(|_| {
        StoreError::Corrupt(format!(
            "PRAGMA user_version of {name} ({version}; Tributary counts its schema from 0)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_record_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/t.db");
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = s
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// Every row of `entries`, all columns, as SQLite returns them.
    fn entry_rows(c: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
        let mut q = c.prepare("SELECT * FROM entries ORDER BY id").unwrap();
        let n = q.column_count();
        q.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// The named indexes and triggers of `entries` with their SQL, and how many indexes SQLite
    /// made for constraints.
    fn entry_schema(c: &Connection) -> (Vec<(String, String)>, i64) {
        let named = c
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'entries'
                 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let auto = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'entries' AND type = 'index' AND sql IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (named, auto)
    }

    #[test]
    fn rebuilding_entries_keeps_rows_splits_search_and_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        // An archive at schema 12: two feeds, a story of two entries of which one was split
        // off, and a third entry; the full-text index holds all three.
        let (rows, (named, auto)) = {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "foreign_keys", true).unwrap();
            for sql in &MIGRATIONS[..12] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 12).unwrap();
            c.execute_batch(
                "INSERT INTO feeds (id, url, created_at, entry_count) VALUES
                   ('a', 'https://a.example/rss', '2026-01-14T00:00:00Z', 2),
                   ('b', 'https://b.example/rss', '2026-01-14T00:00:00Z', 1);
                 INSERT INTO clusters (id, primary_entry, created_at) VALUES
                   (1, 10, '2026-01-14T05:00:00Z'), (2, 12, '2026-01-14T06:00:00Z');
                 INSERT INTO entries (id, feed_id, entry_key, uid, guid, link, canonical_url, title,
                                      summary, content, authors, published, updated, first_seen,
                                      sort_time, revision, cluster_id, excerpt)
                 VALUES (10, 'a', 'id:1', 'urn:uuid:1', '1', 'https://a.example/1', 'a.example/1',
                         'Alliance without illusions', '<p>Baku and Moscow</p>', NULL, '[\"Ann\"]',
                         '2026-01-14T05:00:00Z', '2026-01-14T05:00:00Z', '2026-01-14T05:10:00Z',
                         '2026-01-14T05:00:00Z', 'r1', 1, 'Baku and Moscow'),
                        (11, 'a', 'id:2', 'urn:uuid:2', NULL, NULL, NULL, 'Гас в Баку', NULL,
                         '<p>Газ</p>', '[]', NULL, '2026-01-14T06:00:00Z', '2026-01-14T06:00:00Z',
                         '2026-01-14T06:00:00Z', 'r2', 2, 'Газ'),
                        (12, 'b', 'id:9', 'urn:uuid:3', '9', 'https://b.example/9', 'a.example/1',
                         'Alliance without illusions', NULL, NULL, '[]', NULL,
                         '2026-01-14T06:00:00Z', '2026-01-14T06:00:00Z', '2026-01-14T06:00:00Z',
                         'r3', 2, '');
                 INSERT INTO cluster_splits (entry_id, from_cluster, split_at)
                   VALUES (12, 1, '2026-01-15T00:00:00Z');
                 INSERT INTO entries_fts (rowid, title, excerpt)
                   SELECT id, title, excerpt FROM entries;",
            )
            .unwrap();
            (entry_rows(&c), entry_schema(&c))
        };
        assert_eq!(auto, 2, "schema 12 has the uid and (feed, key) constraints");

        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), 13);
        let fk: bool = s
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are on again after migrating");
        assert_eq!(entry_rows(&s.conn), rows, "every row and column kept");
        let (named_after, auto_after) = entry_schema(&s.conn);
        assert_eq!(
            named_after, named,
            "the same indexes and triggers, same SQL"
        );
        assert_eq!(auto_after, 1, "only (feed_id, entry_key) keeps an index");
        let splits: i64 = s
            .conn
            .query_row("SELECT count(*) FROM cluster_splits", [], |r| r.get(0))
            .unwrap();
        assert_eq!(splits, 1, "the admin's split survives the rebuild");
        let found = |s: &Store, q: &str| -> Vec<i64> {
            s.conn
                .prepare("SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?1 ORDER BY rowid")
                .unwrap()
                .query_map([q], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(found(&s, "alliance"), [10, 12]);
        assert_eq!(found(&s, "баку"), [11]);

        // The constraint that stays, and the triggers, work on the rebuilt table.
        let dup = s.conn.execute(
            "INSERT INTO entries (feed_id, entry_key, uid, title, updated, first_seen, sort_time, revision)
             VALUES ('a', 'id:1', 'urn:uuid:other', 'T', 'x', 'x', 'x', 'r')",
            [],
        );
        assert!(dup.is_err(), "a feed's key stays unique");
        s.conn
            .execute("DELETE FROM entries WHERE id = 12", [])
            .unwrap();
        let splits: i64 = s
            .conn
            .query_row("SELECT count(*) FROM cluster_splits", [], |r| r.get(0))
            .unwrap();
        assert_eq!(splits, 0, "deleting an entry still cascades to its split");
        assert_eq!(found(&s, "alliance"), [10], "and leaves the search index");
        let count: i64 = s
            .conn
            .query_row("SELECT entry_count FROM feeds WHERE id = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(count, 0, "and its feed's count");
        s.conn
            .execute(
                "UPDATE entries SET title = 'Pipeline talks' WHERE id = 10",
                [],
            )
            .unwrap();
        assert_eq!(found(&s, "pipeline"), [10]);
        assert!(found(&s, "alliance").is_empty());
    }

    #[test]
    fn a_migration_leaving_a_dangling_reference_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch(
            "INSERT INTO feeds (id, url, created_at) VALUES ('a', 'https://a.example/rss', 'x');
             INSERT INTO entries (feed_id, entry_key, uid, title, updated, first_seen, sort_time, revision)
             VALUES ('a', 'k', 'urn:uuid:1', 'T', 'x', 'x', 'x', 'r');",
        )
        .unwrap();
        let known = MIGRATIONS.len() as i64;
        let mut migrations = MIGRATIONS.to_vec();
        migrations.push("DELETE FROM feeds WHERE id = 'a';");
        let err = migrate(&mut c, "t.db", known, &migrations).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "database migration {} left entries row 1 referring to a missing row of feeds; the migration was rolled back",
                known + 1
            )
        );
        let version: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        let feeds: i64 = c
            .query_row("SELECT count(*) FROM feeds", [], |r| r.get(0))
            .unwrap();
        assert_eq!((version, feeds), (known, 1));
    }

    #[test]
    fn a_step_another_process_applied_while_this_one_waited_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        let known = MIGRATIONS.len() as i64;
        // A step that fails when run twice.
        let mut migrations = MIGRATIONS.to_vec();
        migrations.push("CREATE TABLE added (a);");
        // The other process holds the write lock while it applies the step, and commits a
        // moment later; this one read the old version before and waits for the lock.
        let mut other = Connection::open(&path).unwrap();
        let mut c = Connection::open(&path).unwrap();
        let (locked, locked_rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let tx = other
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .unwrap();
                locked.send(()).unwrap();
                tx.execute_batch(migrations[known as usize]).unwrap();
                tx.pragma_update(None, "user_version", known + 1).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
                tx.commit().unwrap();
            });
            locked_rx.recv().unwrap();
            migrate(&mut c, "t.db", known, &migrations).unwrap();
        });
        let version: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, known + 1);
        // A process that knows fewer steps, finding the newer version only once it holds the
        // lock, refuses the database instead of running on it.
        let mut older = Connection::open(&path).unwrap();
        assert!(matches!(
            migrate(&mut older, "t.db", known - 1, MIGRATIONS),
            Err(StoreError::TooNew { found, .. }) if found == known + 1
        ));
    }

    #[test]
    fn a_negative_schema_version_is_refused_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", -1).unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("user_version"), "{err}");
        let c = Connection::open(&path).unwrap();
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "nothing was created in it");
    }

    #[test]
    fn a_newer_schema_is_refused_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
