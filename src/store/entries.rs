//! The `entries` and `tombstones` tables: storing a feed's batch and reading entries back,
//! one per story (cluster), with the other outlets that carried it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::clusters::{self, DedupSettings, NewMember};
use super::feeds::write_fetch_record;
use super::{FetchRecord, Store, StoreError, fmt_time};
use crate::dedup::story::StoryText;
use crate::dedup::{self, KeyMode};
use crate::model::{NewEntry, StoredEntry};

/// Characters of plain text kept as an entry's excerpt.
const EXCERPT_CHARS: usize = 600;

/// How many entries of a batch were new, changed, or already stored as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New entries that joined another feed's story.
    pub folded: usize,
}

/// Which stories to list (merged feeds, the API, digests and the reader pages alike).
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Only these feeds (`None`: all).
    pub feed_ids: Option<Vec<String>>,
    /// Only entries whose time (published, else first seen) is at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only entries whose time is before this.
    pub until: Option<DateTime<Utc>>,
    /// Full-text search: every word must match (as a word prefix) in the title or text.
    pub query: Option<String>,
    /// Only entries after this position in newest-first order (keyset paging).
    pub before: Option<Cursor>,
    pub limit: usize,
}

/// A position in the newest-first order: an entry's time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub time: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    /// The position just after `e`.
    pub fn after(e: &StoredEntry) -> Cursor {
        Cursor {
            time: e.published.unwrap_or(e.first_seen),
            id: e.rowid,
        }
    }

    /// `TIME~ID`, for URLs.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.time.timestamp(), self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (t, id) = s.split_once('~')?;
        Some(Cursor {
            time: DateTime::from_timestamp(t.parse().ok()?, 0)?,
            id: id.parse().ok()?,
        })
    }
}

/// Turns what a reader typed into an FTS5 expression that cannot be malformed: each word a
/// quoted prefix term, all required. `None` when there is no word to search for.
pub fn fts_expression(query: &str) -> Option<String> {
    let terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// An entry as stored, for comparing with a fresh parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub title: String,
    pub link: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
}

/// One feed's fetch for [`Store::store_prepared_group`].
#[derive(Debug, Clone, Copy)]
pub struct BatchJob<'a> {
    pub feed_id: &'a str,
    pub record: &'a FetchRecord,
    pub batch: &'a PreparedBatch,
}

/// Totals for status and metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreCounts {
    pub feeds: u64,
    pub entries: u64,
}

/// One fetch's entries with everything computed that needs no database: keys, revision
/// hashes, canonical links, excerpts and the comparable form of each story. Building it does
/// the CPU work of storing outside the store's lock, so it can run beside the writing of
/// other feeds' batches ([`Store::store_prepared_group`]).
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    entries: Vec<PreparedEntry>,
    /// The batch reuses one guid for different items (see [`dedup::guids_are_ambiguous`]).
    guids_ambiguous: bool,
}

#[derive(Debug, Clone)]
struct PreparedEntry {
    entry: NewEntry,
    key_by_guid: String,
    key_by_link: String,
    revision: String,
    canonical: Option<String>,
    excerpt: String,
    authors: String,
    story: StoryText,
}

impl PreparedBatch {
    pub fn new(entries: Vec<NewEntry>) -> PreparedBatch {
        let guids_ambiguous = dedup::guids_are_ambiguous(&entries);
        let entries = entries
            .into_iter()
            .map(|e| {
                let excerpt = excerpt_of(&e);
                PreparedEntry {
                    key_by_guid: dedup::entry_key(&e, KeyMode::Guid),
                    key_by_link: dedup::entry_key(&e, KeyMode::Link),
                    revision: dedup::revision_hash(&e),
                    canonical: e.link.as_deref().map(dedup::canonical_url),
                    authors: serde_json::to_string(&e.authors).unwrap_or_else(|_| "[]".into()),
                    story: StoryText::new(&e.title, &excerpt),
                    excerpt,
                    entry: e,
                }
            })
            .collect();
        PreparedBatch {
            entries,
            guids_ambiguous,
        }
    }
}

/// Writes one feed's batch and fetch record inside the open transaction (see
/// [`Store::store_prepared_group`]): the counts, and the rowid of the first entry it inserted.
fn write_batch(
    tx: &rusqlite::Transaction<'_>,
    index: &mut clusters::IndexCache,
    job: &BatchJob<'_>,
    dedup_settings: &DedupSettings,
) -> Result<(BatchCounts, Option<i64>), StoreError> {
    let BatchJob {
        feed_id,
        record,
        batch,
    } = *job;
    let now = record.at;
    let mut counts = BatchCounts::default();
    // A feed with no entries and no tombstones (its first fetch) has no key to look up.
    let (keys_by_link, first_batch): (bool, bool) = tx
        .prepare_cached(
            "SELECT keys_by_link,
                    NOT EXISTS (SELECT 1 FROM entries WHERE feed_id = ?1)
                    AND NOT EXISTS (SELECT 1 FROM tombstones WHERE feed_id = ?1)
             FROM feeds WHERE id = ?1",
        )?
        .query_row([feed_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((false, false));
    let by_link = keys_by_link || batch.guids_ambiguous;
    if by_link && !keys_by_link {
        tx.execute("UPDATE feeds SET keys_by_link = 1 WHERE id = ?1", [feed_id])?;
    }
    let mut find = tx
        .prepare_cached("SELECT id, revision FROM entries WHERE feed_id = ?1 AND entry_key = ?2")?;
    let mut tomb =
        tx.prepare_cached("SELECT 1 FROM tombstones WHERE feed_id = ?1 AND entry_key = ?2")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO entries (feed_id, entry_key, uid, guid, link, canonical_url, title, summary, content,
            authors, published, updated, first_seen, sort_time, revision, excerpt, cluster_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE entries SET link = ?2, canonical_url = ?3, title = ?4, summary = ?5, content = ?6,
            authors = ?7, published = coalesce(?8, published), updated = ?9, revision = ?10,
            sort_time = coalesce(?8, published, first_seen), excerpt = ?11
         WHERE id = ?1",
    )?;
    let mut seen_in_batch = std::collections::HashSet::new();
    let mut first_inserted: Option<i64> = None;
    for p in &batch.entries {
        let e = &p.entry;
        let key = if by_link {
            &p.key_by_link
        } else {
            &p.key_by_guid
        };
        if !seen_in_batch.insert(key) {
            // The same item twice in one document: the first copy wins.
            continue;
        }
        let published = e.published.map(fmt_time);
        let existing: Option<(i64, String)> = if first_batch {
            None
        } else {
            find.query_row(params![feed_id, key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
        };
        match existing {
            Some((_, old)) if old == p.revision => counts.unchanged += 1,
            Some((rowid, _)) => {
                update.execute(params![
                    rowid,
                    e.link,
                    p.canonical,
                    e.title,
                    e.summary,
                    e.content,
                    p.authors,
                    published,
                    fmt_time(now),
                    p.revision,
                    p.excerpt
                ])?;
                counts.updated += 1;
            }
            None => {
                if !first_batch && tomb.exists(params![feed_id, key])? {
                    counts.unchanged += 1;
                    continue;
                }
                let sort_time = e.published.unwrap_or(now);
                let member = NewMember {
                    feed_id,
                    canonical_url: p.canonical.as_deref(),
                    story: &p.story,
                    at: sort_time,
                };
                let found = index.find_story(tx, &member, dedup_settings)?;
                let cluster = match found {
                    Some(c) => c,
                    None => clusters::new_cluster(tx, now)?,
                };
                let uid = dedup::entry_uid(feed_id, key);
                let updated = e.updated.or(e.published).unwrap_or(now);
                let guid = e.id_from_feed.then_some(e.id.as_str());
                insert.execute(params![
                    feed_id,
                    key,
                    uid,
                    guid,
                    e.link,
                    p.canonical,
                    e.title,
                    e.summary,
                    e.content,
                    p.authors,
                    published,
                    fmt_time(updated),
                    fmt_time(now),
                    fmt_time(sort_time),
                    p.revision,
                    p.excerpt,
                    cluster
                ])?;
                let entry_id = tx.last_insert_rowid();
                first_inserted.get_or_insert(entry_id);
                clusters::set_primary(tx, cluster, entry_id, found.is_some())?;
                index.add(tx, entry_id, &member, now)?;
                if found.is_some() {
                    counts.folded += 1;
                }
                counts.inserted += 1;
            }
        }
    }
    count_inserted(tx, feed_id, counts.inserted)?;
    write_fetch_record(tx, feed_id, record)?;
    Ok((counts, first_inserted))
}

impl Store {
    /// [`Store::store_prepared`] for entries not prepared yet.
    pub fn store_fetch(
        &mut self,
        feed_id: &str,
        record: &FetchRecord,
        entries: &[NewEntry],
        dedup_settings: &DedupSettings,
    ) -> Result<BatchCounts, StoreError> {
        let batch = PreparedBatch::new(entries.to_vec());
        self.store_prepared(feed_id, record, &batch, dedup_settings)
    }

    /// Stores one fetch's entries and the feed's fetch record in a single transaction: a crash
    /// leaves either the whole batch or none of it. An entry whose key is known and whose
    /// content changed is updated in place with a new `updated` time; a tombstoned key is
    /// skipped; a new entry is put into a story cluster. If the batch reuses one guid for
    /// different items, the feed switches to keys by link for good.
    pub fn store_prepared(
        &mut self,
        feed_id: &str,
        record: &FetchRecord,
        batch: &PreparedBatch,
        dedup_settings: &DedupSettings,
    ) -> Result<BatchCounts, StoreError> {
        let job = BatchJob {
            feed_id,
            record,
            batch,
        };
        self.store_prepared_group(std::slice::from_ref(&job), dedup_settings)?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("an empty group result".into())))
    }

    /// Stores several feeds' fetches in one transaction, each as [`Store::store_prepared`]
    /// stores one. One commit (one write of the pages that several batches share, one new
    /// full-text segment) serves the whole group, which is what makes it cheaper than a
    /// transaction per feed. Entries of a feed written earlier in the group are candidates for
    /// the stories of the feeds after it, as if each had been committed on its own.
    ///
    /// A feed whose batch fails (or panics) does not cost the others theirs: the group's
    /// transaction is rolled back, the feeds before it are written again as a group, the
    /// failing one gets its error, and the feeds after it are written as a group of their own.
    /// (Savepoints around each feed would do the same in one pass, but they make SQLite copy
    /// every page a feed touches into a journal, a cost paid on every group for a failure
    /// that is rare.) A crash leaves every batch whole or absent.
    ///
    /// The outer `Err`, a failure outside any one batch (beginning or committing the
    /// transaction, loading the title index, the full-text index), applies to every job; the
    /// inner results follow the order of `jobs`.
    pub fn store_prepared_group(
        &mut self,
        jobs: &[BatchJob<'_>],
        dedup_settings: &DedupSettings,
    ) -> Result<Vec<Result<BatchCounts, StoreError>>, StoreError> {
        let result = self.write_group(jobs, dedup_settings);
        if !matches!(result, Ok(Ok(_))) {
            // The in-memory index took rows that were rolled back: read it again next time.
            self.dedup.invalidate();
        }
        match result? {
            Ok(counts) => Ok(counts.into_iter().map(Ok).collect()),
            Err((failed, e)) => {
                let mut results = self.store_prepared_group(&jobs[..failed], dedup_settings)?;
                results.push(Err(e));
                results.extend(self.store_prepared_group(&jobs[failed + 1..], dedup_settings)?);
                Ok(results)
            }
        }
    }

    /// Writes `jobs` in one transaction and commits, or rolls everything back at the first
    /// batch that fails and returns its position and error. The outer `Err` is a failure
    /// outside any one batch.
    #[allow(clippy::type_complexity)]
    fn write_group(
        &mut self,
        jobs: &[BatchJob<'_>],
        dedup_settings: &DedupSettings,
    ) -> Result<Result<Vec<BatchCounts>, (usize, StoreError)>, StoreError> {
        let Some(now) = jobs.iter().map(|j| j.record.at).max() else {
            return Ok(Ok(Vec::new()));
        };
        // Immediate: the index check below must see the database as this transaction writes it.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let index = &mut self.dedup;
        index.begin(&tx)?;
        let mut results = Vec::with_capacity(jobs.len());
        // Rowids only grow and this transaction is the only writer, so every entry from the
        // first one inserted here on is new in this group and not in the full-text index yet.
        let mut first_inserted: Option<i64> = None;
        let mut feeds_written = std::collections::HashSet::new();
        for (i, job) in jobs.iter().enumerate() {
            if !feeds_written.insert(job.feed_id) {
                // The same feed again (a refresh asked for while the scheduled one ran): its
                // update of an entry inserted above tells the full-text index to forget the
                // old text, which must be indexed first.
                if let Some(first) = first_inserted.take() {
                    index_for_search(&tx, first)?;
                }
            }
            let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                write_batch(&tx, index, job, dedup_settings)
            }))
            .unwrap_or_else(|_| {
                Err(StoreError::Corrupt(format!(
                    "the batch of feed {} (storing it panicked)",
                    job.feed_id
                )))
            });
            match written {
                Ok((counts, first)) => {
                    first_inserted = first_inserted.or(first);
                    results.push(counts);
                }
                // Dropping `tx` rolls the whole group back.
                Err(e) => return Ok(Err((i, e))),
            }
        }
        if let Some(first) = first_inserted {
            index_for_search(&tx, first)?;
        }
        count_changes(&tx, results.iter().map(|c| c.inserted).sum())?;
        index.trim(&tx, now, dedup_settings)?;
        tx.commit()?;
        index.committed();
        Ok(Ok(results))
    }

    /// One entry per story, newest first (by published time, else first seen): of each
    /// cluster, the first-seen member among the selected feeds (and search hits) stands for
    /// it, with the other members as `related` and `updated` as the newest change in the
    /// cluster.
    ///
    /// The merged feeds, `/api/entries`, file outputs and digests read through here, and the
    /// reader's pages list the same stories, so both are one implementation:
    /// [`Store::stories`], which walks `entries_by_time` (or each selected feed's
    /// `entries_by_feed_time`) from the cursor and stops after `limit` stories, folds clusters
    /// with `NOT EXISTS` on `entries_by_cluster`, and reads few search hits directly or checks
    /// many against the time walk. Its cost follows the page size, not the archive.
    pub fn entries(&self, filter: &EntryFilter) -> Result<Vec<StoredEntry>, StoreError> {
        self.stories(filter)
    }

    /// Deletes entries first stored before `cutoff`, leaving tombstones so they never return.
    /// Returns how many were removed.
    pub fn prune(
        &mut self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let cutoff = fmt_time(cutoff);
        tx.execute(
            "INSERT OR IGNORE INTO tombstones (feed_id, entry_key, pruned_at)
             SELECT feed_id, entry_key, ?2 FROM entries WHERE first_seen < ?1",
            params![cutoff, fmt_time(now)],
        )?;
        let n = tx.execute("DELETE FROM entries WHERE first_seen < ?1", [cutoff])?;
        super::digests::trim_fetch_log(&tx, now)?;
        if n > 0 {
            clusters::repair_after_delete(&tx)?;
        }
        tx.commit()?;
        if n > 0 {
            // The index may name deleted entries: load it again when it is next used.
            self.dedup.invalidate();
        }
        Ok(n)
    }

    /// What is stored for these keys of a feed: title, link, summary and content. Full-text
    /// extraction uses it to keep a page already extracted instead of fetching it again.
    pub fn stored_versions(
        &self,
        feed_id: &str,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, StoredVersion>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT title, link, summary, content FROM entries WHERE feed_id = ?1 AND entry_key = ?2",
        )?;
        for key in keys {
            let row = stmt
                .query_row(params![feed_id, key], |r| {
                    Ok(StoredVersion {
                        title: r.get(0)?,
                        link: r.get(1)?,
                        summary: r.get(2)?,
                        content: r.get(3)?,
                    })
                })
                .optional()?;
            if let Some(v) = row {
                out.insert(key.clone(), v);
            }
        }
        Ok(out)
    }

    /// Totals across the store.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM feeds), (SELECT count(*) FROM entries)",
            [],
            |r| {
                Ok(StoreCounts {
                    feeds: r.get::<_, i64>(0)?.max(0) as u64,
                    entries: r.get::<_, i64>(1)?.max(0) as u64,
                })
            },
        )?)
    }
}

/// Adds the entries from rowid `first` on to the full-text index, in one statement (see
/// migration 0010: one index segment per batch, not one per entry).
pub fn index_for_search(tx: &rusqlite::Transaction<'_>, first: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO entries_fts (rowid, title, excerpt)
         SELECT id, title, excerpt FROM entries WHERE id >= ?1",
    )?
    .execute([first])?;
    Ok(())
}

/// Counts `inserted` new entries of `feed_id` in its entry count (since migration 0012 inserts
/// move the counters here, once per batch; deletes still go through a trigger).
pub fn count_inserted(
    tx: &rusqlite::Transaction<'_>,
    feed_id: &str,
    inserted: usize,
) -> Result<(), StoreError> {
    if inserted > 0 {
        tx.prepare_cached("UPDATE feeds SET entry_count = entry_count + ?2 WHERE id = ?1")?
            .execute(params![feed_id, inserted as i64])?;
    }
    Ok(())
}

/// Moves the change counter (the ETag validator, see [`Store::version`]) one step for each of
/// `inserted` new entries, and its time to now.
pub fn count_changes(tx: &rusqlite::Transaction<'_>, inserted: usize) -> Result<(), StoreError> {
    if inserted > 0 {
        tx.prepare_cached(
            "UPDATE store_version SET version = version + ?1,
                 changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1",
        )?
        .execute([inserted as i64])?;
    }
    Ok(())
}

/// The plain-text opening of an entry: summary, else content, else nothing.
fn excerpt_of(e: &NewEntry) -> String {
    let html = e.summary.as_deref().or(e.content.as_deref()).unwrap_or("");
    let text = crate::clean::plain_text(html);
    crate::parse::excerpt(&text, EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FetchRecordOutcome as Outcome;
    use crate::store::clusters::DedupSettings;

    fn entry(id: &str, title: &str, content: &str) -> NewEntry {
        NewEntry {
            id: id.into(),
            id_from_feed: true,
            title: title.into(),
            link: Some(format!("https://a.example/{id}")),
            published: Some("2026-01-14T06:00:00Z".parse().unwrap()),
            updated: None,
            summary: None,
            content: Some(content.into()),
            authors: vec!["Staff".into()],
        }
    }

    fn record(at: &str) -> FetchRecord {
        FetchRecord {
            at: at.parse().unwrap(),
            next_fetch: None,
            permanent_redirect: None,
            outcome: Outcome::Fetched {
                etag: Some("\"v1\"".into()),
                last_modified: None,

                title: "A".into(),
                site_link: None,
                format: "rss2".into(),
                warnings: vec![],
            },
        }
    }

    fn store() -> Store {
        with_feed_a(Store::open_in_memory().unwrap())
    }

    /// `s` with the feed `a` the tests store into.
    fn with_feed_a(mut s: Store) -> Store {
        s.sync_feeds(
            [crate::store::FeedIdentity {
                id: "a",
                url: "https://a.example/rss",
                fingerprint: "1",
            }],
            "2026-01-14T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        s
    }

    fn all(s: &Store) -> Vec<StoredEntry> {
        s.entries(&EntryFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn changed_entry_is_updated_in_place() {
        let mut s = store();
        let c = s
            .store_fetch(
                "a",
                &record("2026-01-14T07:00:00Z"),
                &[entry("1", "T", "v1")],
                &DedupSettings::default(),
            )
            .unwrap();
        assert_eq!(c.inserted, 1);
        let uid = all(&s)[0].uid.clone();
        let c = s
            .store_fetch(
                "a",
                &record("2026-01-14T08:00:00Z"),
                &[entry("1", "T", "v1")],
                &DedupSettings::default(),
            )
            .unwrap();
        assert_eq!(
            c,
            BatchCounts {
                inserted: 0,
                updated: 0,
                unchanged: 1,
                folded: 0
            }
        );
        let c = s
            .store_fetch(
                "a",
                &record("2026-01-14T09:00:00Z"),
                &[entry("1", "T", "v2")],
                &DedupSettings::default(),
            )
            .unwrap();
        assert_eq!(c.updated, 1);
        let rows = all(&s);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].content.as_deref(), Some("v2"));
        assert_eq!(rows[0].uid, uid);
        assert_eq!(
            crate::model::rfc3339(rows[0].updated),
            "2026-01-14T09:00:00Z"
        );
    }

    #[test]
    fn the_change_counter_moves_once_for_every_entry_inserted_or_changed() {
        let mut s = store();
        assert_eq!(s.newest_change().unwrap(), None);
        let fetch = |s: &mut Store, at: &str, entries: &[NewEntry]| {
            s.store_fetch("a", &record(at), entries, &DedupSettings::default())
                .unwrap()
        };
        // The first fetch also gives the feed its title, which readers see too.
        fetch(&mut s, "2026-01-14T07:00:00Z", &[entry("1", "T1", "v1")]);
        assert!(s.newest_change().unwrap().is_some());
        let v1 = s.version().unwrap();
        let c = fetch(
            &mut s,
            "2026-01-14T08:00:00Z",
            &[
                entry("1", "T1", "v1"),
                entry("2", "T2", "v1"),
                entry("3", "T3", "v1"),
            ],
        );
        assert_eq!((c.inserted, c.unchanged), (2, 1));
        assert_eq!(s.version().unwrap(), v1 + 2, "one step per inserted entry");
        let c = fetch(&mut s, "2026-01-14T09:00:00Z", &[entry("1", "T1", "v2")]);
        assert_eq!(c.updated, 1);
        assert_eq!(
            s.version().unwrap(),
            v1 + 3,
            "one step for the changed entry"
        );
        fetch(&mut s, "2026-01-14T10:00:00Z", &[entry("1", "T1", "v2")]);
        assert_eq!(s.version().unwrap(), v1 + 3, "nothing new, nothing moves");
    }

    #[test]
    fn pruned_entries_never_come_back() {
        let mut s = store();
        s.store_fetch(
            "a",
            &record("2026-01-14T07:00:00Z"),
            &[entry("1", "T", "v1")],
            &DedupSettings::default(),
        )
        .unwrap();
        let n = s
            .prune(
                "2026-01-15T00:00:00Z".parse().unwrap(),
                "2026-01-15T00:00:00Z".parse().unwrap(),
            )
            .unwrap();
        assert_eq!(n, 1);
        let c = s
            .store_fetch(
                "a",
                &record("2026-01-15T07:00:00Z"),
                &[entry("1", "T", "v1")],
                &DedupSettings::default(),
            )
            .unwrap();
        assert_eq!(c.inserted, 0);
        assert!(all(&s).is_empty());
    }

    #[test]
    fn feed_entry_counts_are_filled_by_the_migration_and_follow_inserts_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        // Entries stored before the counter existed (schema 8).
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for sql in &crate::store::MIGRATIONS[..8] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 8).unwrap();
            c.execute_batch(
                "INSERT INTO feeds (id, url, created_at) VALUES
                   ('a', 'https://a.example/rss', '2026-01-14T00:00:00Z'),
                   ('b', 'https://b.example/rss', '2026-01-14T00:00:00Z');
                 INSERT INTO entries (feed_id, entry_key, uid, title, updated, first_seen, sort_time, revision, excerpt)
                 VALUES ('a', 'id:old1', 'urn:1', 'Old one', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', 'r', ''),
                        ('a', 'id:old2', 'urn:2', 'Old two', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', 'r', ''),
                        ('b', 'id:old3', 'urn:3', 'Old three', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', 'r', '');",
            )
            .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        let counts = |s: &Store| -> Vec<(String, u64, u64)> {
            s.feeds()
                .unwrap()
                .into_iter()
                .map(|f| {
                    let rows: i64 = s
                        .conn
                        .query_row(
                            "SELECT count(*) FROM entries WHERE feed_id = ?1",
                            [&f.id],
                            |r| r.get(0),
                        )
                        .unwrap();
                    (f.id, f.entries, rows as u64)
                })
                .collect()
        };
        let by_feed = |s: &Store| -> Vec<(String, u64)> {
            counts(s)
                .into_iter()
                .map(|(id, counted, rows)| {
                    assert_eq!(counted, rows, "{id}: the counter agrees with the rows");
                    (id, counted)
                })
                .collect()
        };
        assert_eq!(by_feed(&s), [("a".into(), 2), ("b".into(), 1)]);
        s.store_fetch(
            "a",
            &record("2026-01-14T07:00:00Z"),
            &[entry("1", "New one", "v1"), entry("2", "New two", "v1")],
            &DedupSettings::default(),
        )
        .unwrap();
        assert_eq!(by_feed(&s), [("a".into(), 4), ("b".into(), 1)]);
        let pruned = s
            .prune(
                "2026-01-12T00:00:00Z".parse().unwrap(),
                "2026-01-15T00:00:00Z".parse().unwrap(),
            )
            .unwrap();
        assert_eq!(pruned, 3);
        assert_eq!(by_feed(&s), [("a".into(), 2), ("b".into(), 0)]);
    }

    #[test]
    fn statements_that_change_many_pages_of_a_written_transaction_succeed() {
        // Statements that each change thousands of pages the open transaction had already
        // changed, so their statement journals grow to many MiB, as a large group's do: SQLite's
        // statement journals were once kept in memory up to 1 MiB by a process-wide setting,
        // with which a group of 120 feeds failed with "database or disk is full".
        let dir = tempfile::tempdir().unwrap();
        let mut s = with_feed_a(Store::open(&dir.path().join("t.db")).unwrap());
        let tx = s.conn.transaction().unwrap();
        let rows = |from: i64, tag: &str| -> String {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {from} + 5999)
                 INSERT INTO entries (feed_id, entry_key, uid, link, canonical_url, title, summary,
                     updated, first_seen, sort_time, revision, excerpt, cluster_id)
                 SELECT 'a', '{tag}' || i, hex(randomblob(16)), 'https://a.example/' || i,
                     'https://a.example/' || hex(randomblob(8)), 'Harbour works ' || i,
                     hex(randomblob(300)), '2026-01-14T00:00:00Z', '2026-01-14T00:00:00Z',
                     strftime('%Y-%m-%dT%H:%M:%SZ', 1768000000 + abs(random() % 100000), 'unixepoch'),
                     'r', 'Talks in Poti ' || hex(randomblob(40)), NULL FROM n"
            )
        };
        tx.execute_batch(&rows(1, "k")).expect("the first rows");
        tx.execute_batch(&rows(6001, "m"))
            .expect("rows beside them in every index");
        index_for_search(&tx, 1).expect("indexing them all in one statement");
        tx.commit().unwrap();
    }

    #[test]
    fn every_batch_reaches_the_search_index_and_the_index_matches_the_rows() {
        let mut s = store();
        let search = |s: &Store, words: &str| -> Vec<String> {
            let mut titles: Vec<String> = s
                .entries(&EntryFilter {
                    query: Some(words.into()),
                    limit: 50,
                    ..Default::default()
                })
                .unwrap()
                .into_iter()
                .map(|e| e.title)
                .collect();
            titles.sort();
            titles
        };
        let check = |s: &Store| {
            s.conn
                .execute(
                    "INSERT INTO entries_fts (entries_fts, rank) VALUES ('integrity-check', 1)",
                    [],
                )
                .expect("the full-text index matches the entries table");
        };
        s.store_fetch(
            "a",
            &record("2026-01-10T07:00:00Z"),
            &[
                entry("1", "Ferry to Baku", "v1"),
                entry("2", "Паром в Баку", "v1"),
            ],
            &DedupSettings::default(),
        )
        .unwrap();
        s.store_fetch(
            "a",
            &record("2026-01-14T07:00:00Z"),
            &[
                entry("1", "Ferry to Baku resumes", "v2"),
                entry("3", "Harbour of Poti", "v1"),
            ],
            &DedupSettings::default(),
        )
        .unwrap();
        check(&s);
        assert_eq!(search(&s, "baku"), ["Ferry to Baku resumes"]);
        assert_eq!(search(&s, "баку"), ["Паром в Баку"]);
        assert_eq!(search(&s, "poti"), ["Harbour of Poti"]);
        s.conn
            .execute(
                "UPDATE entries SET first_seen = '2026-01-01T00:00:00Z' WHERE title = 'Паром в Баку'",
                [],
            )
            .unwrap();
        s.prune(
            "2026-01-05T00:00:00Z".parse().unwrap(),
            "2026-01-15T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        check(&s);
        assert!(search(&s, "баку").is_empty());
        assert_eq!(search(&s, "ferry"), ["Ferry to Baku resumes"]);
    }

    #[test]
    fn reused_guids_switch_the_feed_to_link_keys() {
        let mut s = store();
        let mut a = entry("same", "First story", "x");
        a.link = Some("https://a.example/1".into());
        let mut b = entry("same", "Second story", "y");
        b.link = Some("https://a.example/2".into());
        let c = s
            .store_fetch(
                "a",
                &record("2026-01-14T07:00:00Z"),
                &[a, b],
                &DedupSettings::default(),
            )
            .unwrap();
        assert_eq!(c.inserted, 2);
        assert!(s.feed("a").unwrap().unwrap().keys_by_link);
    }

    #[test]
    fn atom_ids_follow_the_key_the_entry_is_stored_by() {
        let mut s = Store::open_in_memory().unwrap();
        s.sync_feeds(
            ["a", "b", "c"].map(|id| crate::store::FeedIdentity {
                id,
                url: "https://a.example/rss",
                fingerprint: "1",
            }),
            "2026-01-14T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let uids = |s: &Store, feed: &str| -> Vec<(String, String)> {
            let mut q = s
                .conn
                .prepare("SELECT entry_key, uid FROM entries WHERE feed_id = ?1 ORDER BY id")
                .unwrap();
            q.query_map([feed], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let linked = |id: &str, n: u32| {
            let mut e = entry(id, &format!("Story {n}"), "x");
            e.link = Some(format!("https://a.example/{n}"));
            e
        };
        // Keyed by guid; the same item in another feed gets another id.
        for feed in ["a", "b"] {
            s.store_fetch(
                feed,
                &record("2026-01-14T07:00:00Z"),
                &[linked("g1", 1)],
                &DedupSettings::default(),
            )
            .unwrap();
        }
        // Reused guids switch feed c to link keys; its next batch, whose guids are distinct,
        // is stored by link too, and its ids follow the link keys.
        for batch in [
            vec![linked("same", 3), linked("same", 4)],
            vec![linked("g5", 5)],
        ] {
            s.store_fetch(
                "c",
                &record("2026-01-14T07:00:00Z"),
                &batch,
                &DedupSettings::default(),
            )
            .unwrap();
        }
        let c = uids(&s, "c");
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|(key, _)| key.starts_with("link:")), "{c:?}");
        for feed in ["a", "b", "c"] {
            for (key, uid) in uids(&s, feed) {
                assert_eq!(uid, dedup::entry_uid(feed, &key), "{feed} {key}");
            }
        }
        let (a, b) = (uids(&s, "a"), uids(&s, "b"));
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_eq!(a[0].0, b[0].0, "one key");
        assert_ne!(a[0].1, b[0].1, "two ids");
    }

    /// Four feeds over twelve fetches: every third story carried by two or three feeds (same
    /// link), some items without a date (ordered by when they were first seen), one edited
    /// upstream, words chosen so searches hit rarely and often.
    fn archive() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let feeds = ["a", "b", "c", "d"];
        s.sync_feeds(
            feeds.iter().map(|id| crate::store::FeedIdentity {
                id,
                url: "https://x.example/rss",
                fingerprint: "1",
            }),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let words = ["Caspian", "ferry", "Баку", "pipeline", "выборы"];
        for fetch in 0..12 {
            let at = format!("2026-01-{:02}T12:00:00Z", 2 + fetch);
            for (fi, feed) in feeds.iter().enumerate() {
                let mut batch = Vec::new();
                for k in 0..4 {
                    let n = fetch * 16 + fi * 4 + k;
                    let story = if n % 3 == 0 && fi > 0 {
                        n - 4 * fi.min(2)
                    } else {
                        n
                    };
                    let mut e = entry(
                        &format!("{feed}-{n}"),
                        &format!("Story {story} on {}", words[story % 5]),
                        &format!("About {} and {}", words[(story / 5) % 5], words[story % 3]),
                    );
                    e.link = Some(format!("https://news.example/{story}"));
                    e.published = (n % 7 != 0).then(|| {
                        DateTime::from_timestamp(1_767_225_600 + story as i64 * 5_000, 0).unwrap()
                    });
                    if fetch == 11 && n % 16 == 1 {
                        e.content = Some("edited".into());
                    }
                    batch.push(e);
                }
                s.store_fetch(feed, &record(&at), &batch, &DedupSettings::default())
                    .unwrap();
            }
        }
        s
    }

    /// The merged feed's selection as one plain statement, with no regard for speed: of each
    /// story, the first-seen entry among the selected (feeds, search hits) stands for it, in
    /// newest-first order. Returns each entry's id and its story's other members.
    fn reference(s: &Store, f: &EntryFilter) -> Vec<(i64, Vec<i64>)> {
        let expr = f.query.as_deref().map(|q| fts_expression(q).unwrap());
        let feeds = f.feed_ids.as_ref().map(|ids| {
            let quoted: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
            quoted.join(", ")
        });
        let selected = |t: &str| {
            let mut c = String::new();
            if let Some(expr) = &expr {
                c.push_str(&format!(
                    " AND {t}.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH '{expr}')"
                ));
            }
            if let Some(feeds) = &feeds {
                c.push_str(&format!(" AND {t}.feed_id IN ({feeds})"));
            }
            c
        };
        let mut sql = format!(
            "SELECT e.id, e.cluster_id FROM entries e WHERE 1 = 1{}
               AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id{}
                   AND (o.first_seen, o.sort_time, o.id) < (e.first_seen, e.sort_time, e.id))",
            selected("e"),
            selected("o")
        );
        if let Some(t) = f.since {
            sql.push_str(&format!(" AND e.sort_time >= '{}'", fmt_time(t)));
        }
        if let Some(t) = f.until {
            sql.push_str(&format!(" AND e.sort_time < '{}'", fmt_time(t)));
        }
        if let Some(c) = f.before {
            sql.push_str(&format!(
                " AND (e.sort_time, e.id) < ('{}', {})",
                fmt_time(c.time),
                c.id
            ));
        }
        sql.push_str(&format!(
            " ORDER BY e.sort_time DESC, e.id DESC LIMIT {}",
            f.limit
        ));
        let mut stmt = s.conn.prepare(&sql).unwrap();
        let rows: Vec<(i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut members = s
            .conn
            .prepare(
                "SELECT id FROM entries WHERE cluster_id = ?1 AND id <> ?2
                 ORDER BY first_seen, sort_time, id",
            )
            .unwrap();
        rows.into_iter()
            .map(|(id, cluster)| {
                let others = members
                    .query_map([cluster, id], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                (id, others)
            })
            .collect()
    }

    #[test]
    fn entries_are_the_plain_selection_page_by_page() {
        let s = archive();
        let many: Vec<String> = (0..40)
            .map(|i| format!("f{i}"))
            .chain(["c".into()])
            .collect();
        let day = |d: u32| Some(format!("2026-01-{d:02}T00:00:00Z").parse().unwrap());
        type Selection = (
            Option<Vec<String>>,
            Option<&'static str>,
            Option<DateTime<Utc>>,
        );
        let selections: Vec<Selection> = vec![
            (None, None, None),
            (Some(vec!["b".into()]), None, None),
            (Some(vec!["b".into(), "d".into()]), None, None),
            (Some(many), None, None),
            (None, Some("caspian"), None),
            (None, Some("баку"), None),
            (None, Some("story"), None),
            (Some(vec!["a".into(), "c".into()]), Some("fer"), None),
            (None, None, day(4)),
            (None, Some("pipeline"), day(3)),
        ];
        let mut folded = 0;
        for (feed_ids, query, since) in selections {
            let until = since.map(|t| t + chrono::TimeDelta::days(3));
            for limit in [1, 6, 500] {
                let (mut got, mut want, mut before) = (Vec::new(), Vec::new(), None);
                loop {
                    let filter = EntryFilter {
                        feed_ids: feed_ids.clone(),
                        since,
                        until,
                        query: query.map(str::to_string),
                        before,
                        limit,
                    };
                    let page = s.entries(&filter).unwrap();
                    want.extend(reference(&s, &filter));
                    got.extend(page.iter().map(|e| {
                        (
                            e.rowid,
                            e.related.iter().map(|r| r.entry_id).collect::<Vec<_>>(),
                        )
                    }));
                    if page.len() < limit {
                        break;
                    }
                    before = page.last().map(Cursor::after);
                }
                assert!(
                    !want.is_empty(),
                    "{feed_ids:?} {query:?} {since:?} selects something"
                );
                assert_eq!(got, want, "{feed_ids:?} {query:?} {since:?} by {limit}");
                folded += got.iter().filter(|(_, others)| !others.is_empty()).count();
            }
        }
        assert!(folded > 0, "the archive has stories several feeds carried");
    }

    #[test]
    fn a_story_is_as_new_as_its_newest_change() {
        let s = archive();
        let page = s
            .entries(&EntryFilter {
                limit: 500,
                ..Default::default()
            })
            .unwrap();
        let newest: std::collections::HashMap<i64, String> = s
            .conn
            .prepare("SELECT cluster_id, max(updated) FROM entries GROUP BY cluster_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(page.iter().any(|e| e.content.as_deref() == Some("edited")));
        for e in &page {
            assert_eq!(
                fmt_time(e.updated),
                newest[&e.cluster_id],
                "entry {}",
                e.rowid
            );
        }
    }
}
