//! The `clusters`, `dedup_index` and `cluster_splits` tables: folding one story carried by
//! several feeds.
//!
//! A new entry joins an existing cluster when, within the dedup window and from a feed not yet
//! in that cluster, an entry has the same canonical URL, or is the same story by [`crate::dedup::story`]
//! (candidates come from the title-token index, never from scanning the archive). Otherwise it
//! starts its own cluster. The primary of a cluster is its first seen member. An admin can split
//! an entry out; it then stays on its own.
//!
//! The title-token index lives in memory ([`TitleIndex`]), loaded from `dedup_index` (one row
//! per recently stored entry) when a store first folds an entry, and loaded again whenever
//! another connection has written to the database since (`PRAGMA data_version`). What a
//! transaction adds or trims reaches the memory as it is written, so the feeds stored later in
//! the same transaction see it; a transaction that fails leaves the memory to be loaded again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError, fmt_time};
use crate::dedup::index::TitleIndex;
use crate::dedup::story::{StoryText, same_story, title_token_set};

/// How clustering decides, from `[dedup]`.
#[derive(Debug, Clone, Copy)]
pub struct DedupSettings {
    pub window: Duration,
    pub title_similarity: f64,
}

impl Default for DedupSettings {
    fn default() -> Self {
        DedupSettings {
            window: Duration::from_secs(72 * 3600),
            title_similarity: 0.6,
        }
    }
}

impl DedupSettings {
    fn window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.window).unwrap_or(chrono::TimeDelta::hours(72))
    }
}

/// Most candidates from the token index compared in full for one new entry.
const MAX_CANDIDATES: usize = 30;

/// Entries of other feeds with a new entry's canonical URL, inside the window, in stories that
/// feed is not in yet.
const SAME_URL_SQL: &str = "SELECT e.first_seen, e.sort_time, e.id, e.cluster_id FROM entries e
     WHERE e.canonical_url = ?1 AND e.feed_id <> ?2
       AND e.sort_time BETWEEN ?3 AND ?4 AND e.cluster_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id AND o.feed_id = ?2)";

/// A new entry, as clustering needs it before it is inserted.
pub(super) struct NewMember<'a> {
    pub feed_id: &'a str,
    pub canonical_url: Option<&'a str>,
    pub story: &'a StoryText,
    pub at: DateTime<Utc>,
}

/// The in-memory title-token index of a store, kept in step with the open transaction.
#[derive(Default)]
pub(super) struct IndexCache {
    index: Option<TitleIndex>,
    /// `PRAGMA data_version` while the index matched the table.
    data_version: i64,
    /// Read at the start of the open transaction.
    pending_version: i64,
}

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache")
            .field("entries", &self.index.as_ref().map(TitleIndex::len))
            .finish()
    }
}

impl IndexCache {
    /// Called first in a write transaction: makes the index match the table, loading it when
    /// this store has none yet or another connection wrote since it was loaded.
    ///
    /// The memory follows the table as the transaction writes it ([`IndexCache::add`],
    /// [`IndexCache::trim`]), so a feed stored later in the same transaction finds the stories
    /// of the feeds stored before it. A transaction or savepoint that is rolled back must
    /// therefore be followed by [`IndexCache::invalidate`].
    pub(super) fn begin(&mut self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.index.is_none() || version != self.data_version {
            self.index = None;
            self.index = Some(load_index(tx)?);
        }
        self.pending_version = version;
        Ok(())
    }

    /// Called once the transaction committed: the memory matches the table as committed.
    pub(super) fn committed(&mut self) {
        self.data_version = self.pending_version;
    }

    /// Forgets the index; the next transaction loads it again.
    pub(super) fn invalidate(&mut self) {
        self.index = None;
    }

    /// The cluster a new entry joins, if any: same canonical URL, else the most alike story
    /// among the candidates of the title-token index.
    pub(super) fn find_story(
        &mut self,
        tx: &Transaction<'_>,
        m: &NewMember<'_>,
        settings: &DedupSettings,
    ) -> Result<Option<i64>, StoreError> {
        let window = settings.window();
        if let Some(url) = m.canonical_url {
            // The earliest match (first seen, then published, then stored) is picked here, not
            // with ORDER BY … LIMIT 1: with that clause SQLite compiled the statement again on
            // every run (its plan depended on the bound values), a tenth of the ingest's CPU.
            // Times are stored as fixed-width RFC 3339 text, so they compare as strings.
            let mut same_url = tx.prepare_cached(SAME_URL_SQL)?;
            let rows = same_url.query_map(
                params![
                    url,
                    m.feed_id,
                    fmt_time(m.at - window),
                    fmt_time(m.at + window)
                ],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ),
                        r.get::<_, i64>(3)?,
                    ))
                },
            )?;
            let mut found: Option<((String, String, i64), i64)> = None;
            for row in rows {
                let row = row?;
                if found.as_ref().is_none_or(|best| row.0 < best.0) {
                    found = Some(row);
                }
            }
            let found = found.map(|(_, cluster)| cluster);
            if found.is_some() {
                return Ok(found);
            }
        }
        let Some(index) = &mut self.index else {
            return Err(StoreError::Corrupt(
                "dedup_index (the index was used outside a write transaction)".into(),
            ));
        };
        if m.story.title.is_empty() {
            return Ok(None);
        }
        let at = m.at.timestamp();
        let span = window.num_seconds();
        let candidates = index.candidates(
            m.story.title.iter().map(String::as_str),
            m.feed_id,
            (at.saturating_sub(span), at.saturating_add(span)),
            settings.title_similarity,
            MAX_CANDIDATES,
        );
        // A story holds at most one entry per feed: a feed's own entries are told apart by
        // their keys.
        let mut load = tx.prepare_cached(
            "SELECT e.cluster_id, e.title, e.excerpt FROM entries e WHERE e.id = ?1 AND e.cluster_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id AND o.feed_id = ?2)",
        )?;
        let mut best: Option<(f64, i64)> = None;
        for c in candidates {
            let Some((cluster, title, excerpt)) = load
                .query_row(params![c.entry_id, m.feed_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?
            else {
                continue;
            };
            let other = StoryText::new(&title, &excerpt);
            if let Some(score) = same_story(m.story, &other, settings.title_similarity)
                && best.is_none_or(|(s, _)| score > s)
            {
                best = Some((score, cluster));
            }
        }
        Ok(best.map(|(_, c)| c))
    }

    /// Indexes a newly inserted entry's title, in the table and in memory.
    pub(super) fn add(
        &mut self,
        tx: &Transaction<'_>,
        entry_id: i64,
        m: &NewMember<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tokens: Vec<String> = m.story.title.iter().cloned().collect();
        tokens.sort_unstable();
        let (at, seen) = (m.at.timestamp(), now.timestamp());
        tx.prepare_cached(
            "INSERT OR REPLACE INTO dedup_index (entry_id, feed_id, at, seen, tokens) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![entry_id, m.feed_id, at, seen, tokens.join(" ")])?;
        if let Some(index) = &mut self.index {
            index.insert(
                entry_id,
                m.feed_id,
                at,
                seen,
                tokens.iter().map(String::as_str),
            );
        }
        Ok(())
    }

    /// Drops index rows of entries stored more than twice the window before `now`: stories
    /// arriving now are compared with what arrived recently, whatever dates they carry.
    pub(super) fn trim(
        &mut self,
        tx: &Transaction<'_>,
        now: DateTime<Utc>,
        settings: &DedupSettings,
    ) -> Result<(), StoreError> {
        let cut = (now - settings.window() * 2).timestamp();
        tx.prepare_cached("DELETE FROM dedup_index WHERE seen < ?1")?
            .execute([cut])?;
        if let Some(index) = &mut self.index {
            index.trim(cut);
        }
        Ok(())
    }
}

/// Reads `dedup_index` into memory, first computing the tokens of rows that have none yet
/// (carried over from before the table existed) and dropping rows whose entry is gone.
fn load_index(tx: &Transaction<'_>) -> Result<TitleIndex, StoreError> {
    let missing: Vec<(i64, String)> = tx
        .prepare(
            "SELECT d.entry_id, e.title FROM dedup_index d JOIN entries e ON e.id = d.entry_id
             WHERE d.tokens IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if !missing.is_empty() {
        let mut fill = tx.prepare("UPDATE dedup_index SET tokens = ?2 WHERE entry_id = ?1")?;
        for (entry_id, title) in missing {
            let mut tokens: Vec<String> = title_token_set(&title).into_iter().collect();
            tokens.sort_unstable();
            fill.execute(params![entry_id, tokens.join(" ")])?;
        }
    }
    tx.execute("DELETE FROM dedup_index WHERE tokens IS NULL", [])?;
    let mut index = TitleIndex::new();
    let mut stmt = tx
        .prepare("SELECT entry_id, feed_id, at, seen, tokens FROM dedup_index ORDER BY entry_id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let tokens: String = r.get(4)?;
        index.insert(
            r.get(0)?,
            &r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            tokens.split(' ').filter(|t| !t.is_empty()),
        );
    }
    Ok(index)
}

/// Starts a cluster for a new entry; its primary is set by [`set_primary`] once the entry has
/// its id (the entry must name an existing cluster when it is inserted).
pub(super) fn new_cluster(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    tx.prepare_cached("INSERT INTO clusters (primary_entry, created_at) VALUES (0, ?1)")?
        .execute([fmt_time(now)])?;
    Ok(tx.last_insert_rowid())
}

/// After `entry_id` was inserted into `cluster`: a new cluster's primary is the entry; a story
/// it joined keeps its first seen member (entries seen in the same run are ordered by their
/// own time, so the outcome does not depend on fetch order).
pub(super) fn set_primary(
    tx: &Transaction<'_>,
    cluster: i64,
    entry_id: i64,
    joined: bool,
) -> Result<(), StoreError> {
    if joined {
        tx.prepare_cached(
            "UPDATE clusters SET primary_entry = (SELECT e.id FROM entries e WHERE e.cluster_id = ?1
                 ORDER BY e.first_seen, e.sort_time, e.id LIMIT 1) WHERE id = ?1",
        )?
        .execute([cluster])?;
    } else {
        tx.prepare_cached("UPDATE clusters SET primary_entry = ?2 WHERE id = ?1")?
            .execute(params![cluster, entry_id])?;
    }
    Ok(())
}

/// After entries were deleted: clusters without members go, clusters that lost their primary
/// get the next first-seen member.
pub(super) fn repair_after_delete(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM dedup_index WHERE entry_id NOT IN (SELECT id FROM entries);
         DELETE FROM clusters WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.cluster_id = clusters.id);
         UPDATE clusters SET primary_entry =
             (SELECT e.id FROM entries e WHERE e.cluster_id = clusters.id ORDER BY e.first_seen, e.sort_time, e.id LIMIT 1)
           WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.id = clusters.primary_entry);",
    )?;
    Ok(())
}

/// The outcome of splitting an entry out of its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub entry_id: i64,
    pub from_cluster: i64,
    pub new_cluster: i64,
    /// Members left in the old cluster.
    pub remaining: usize,
}

/// Errors of [`Store::split_entry`] that are the caller's, not the database's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitRefusal {
    NoSuchEntry,
    AlreadyAlone,
}

impl Store {
    /// Moves an entry (by numeric id or Atom id) out of its cluster into one of its own and
    /// records the decision; clustering never puts it back.
    pub fn split_entry(
        &mut self,
        entry: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Split, SplitRefusal>, StoreError> {
        let tx = self.conn.transaction()?;
        // A numeric id is found by the table's key (SQLite compares the bound text as a
        // number with the integer key); an Atom id by reading the table, as no index is kept
        // on `uid` for this one rare command (migration 0013).
        let sql = if entry.parse::<i64>().is_ok() {
            "SELECT id, cluster_id FROM entries WHERE id = ?1 AND cluster_id IS NOT NULL"
        } else {
            "SELECT id, cluster_id FROM entries WHERE uid = ?1 AND cluster_id IS NOT NULL"
        };
        let row: Option<(i64, i64)> = tx
            .query_row(sql, [entry], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((entry_id, from_cluster)) = row else {
            return Ok(Err(SplitRefusal::NoSuchEntry));
        };
        let members: i64 = tx.query_row(
            "SELECT count(*) FROM entries WHERE cluster_id = ?1",
            [from_cluster],
            |r| r.get(0),
        )?;
        if members <= 1 {
            return Ok(Err(SplitRefusal::AlreadyAlone));
        }
        tx.execute(
            "INSERT INTO clusters (primary_entry, created_at) VALUES (?1, ?2)",
            params![entry_id, fmt_time(now)],
        )?;
        let new_cluster = tx.last_insert_rowid();
        tx.execute(
            "UPDATE entries SET cluster_id = ?2 WHERE id = ?1",
            params![entry_id, new_cluster],
        )?;
        tx.execute(
            "INSERT INTO cluster_splits (entry_id, from_cluster, split_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(entry_id) DO UPDATE SET from_cluster = excluded.from_cluster, split_at = excluded.split_at",
            params![entry_id, from_cluster, fmt_time(now)],
        )?;

        tx.execute(
            "UPDATE clusters SET primary_entry =
                 (SELECT e.id FROM entries e WHERE e.cluster_id = clusters.id ORDER BY e.first_seen, e.sort_time, e.id LIMIT 1)
             WHERE id = ?1",
            [from_cluster],
        )?;
        tx.commit()?;
        Ok(Ok(Split {
            entry_id,
            from_cluster,
            new_cluster,
            remaining: (members - 1) as usize,
        }))
    }

    /// Number of clusters with more than one member (stories carried by several feeds).
    pub fn shared_story_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM (SELECT cluster_id FROM entries GROUP BY cluster_id HAVING count(*) > 1)",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FeedState, NewEntry};
    use crate::store::{FeedIdentity, FetchRecord, FetchRecordOutcome};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn store() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let feeds = ["analysis", "wire", "digest"].map(|id| FeedIdentity {
            id,
            url: "https://x.example/",
            fingerprint: id,
        });
        s.sync_feeds(feeds, t("2026-01-14T00:00:00Z")).unwrap();
        s
    }

    fn entry(id: &str, title: &str, link: &str, published: &str, summary: &str) -> NewEntry {
        NewEntry {
            id: id.into(),
            id_from_feed: true,
            title: title.into(),
            link: Some(link.into()),
            published: Some(t(published)),
            updated: None,
            summary: Some(summary.into()),
            content: None,
            authors: vec![],
        }
    }

    fn add(s: &mut Store, feed: &str, e: NewEntry) -> i64 {
        let rec = FetchRecord {
            at: t("2026-01-15T00:00:00Z"),
            next_fetch: None,
            permanent_redirect: None,
            outcome: FetchRecordOutcome::Failed {
                error: "unused".into(),
                state: FeedState::Failing,
            },
        };
        s.store_fetch(feed, &rec, &[e], &DedupSettings::default())
            .unwrap();
        s.conn
            .query_row(
                "SELECT cluster_id FROM entries ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    const BODY: &str = "Kremlin spokesman Dmitry Peskov confirmed that diplomats from both countries are actively working to preserve allied relations";

    #[test]
    fn the_canonical_url_lookup_is_compiled_once_not_on_every_entry() {
        let mut s = store();
        for k in 0..4 {
            for feed in ["analysis", "wire"] {
                add(
                    &mut s,
                    feed,
                    entry(
                        &format!("{feed}-{k}"),
                        &format!("Story number {k} from {feed} about harbour works"),
                        &format!("https://{feed}.example/{k}"),
                        "2026-01-14T06:00:00Z",
                        BODY,
                    ),
                );
            }
        }
        let stmt = s.conn.prepare_cached(SAME_URL_SQL).unwrap();
        assert!(stmt.get_status(rusqlite::StatementStatus::Run) >= 8);
        // With `ORDER BY … LIMIT 1` SQLite compiled it again on each run (this was 7).
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn same_canonical_url_from_another_feed_joins_the_story() {
        let mut s = store();
        let a = add(
            &mut s,
            "analysis",
            entry(
                "1",
                "Alliance without illusions",
                "https://caucasus.example/a/1",
                "2026-01-14T05:00:00Z",
                BODY,
            ),
        );
        let b = add(
            &mut s,
            "wire",
            entry(
                "w1",
                "Totally different wording here",
                "http://m.caucasus.example/a/1/?utm_source=rss",
                "2026-01-14T07:00:00Z",
                "x",
            ),
        );
        assert_eq!(a, b);
        let listed = s
            .entries(&crate::store::EntryFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 1, "one entry per story");
        assert_eq!(
            listed[0].feed_id, "analysis",
            "the first seen member stands for the story"
        );
        assert_eq!(listed[0].related.len(), 1);
        assert_eq!(listed[0].related[0].feed_id, "wire");
    }

    #[test]
    fn republished_title_joins_but_other_events_and_the_same_feed_do_not() {
        let mut s = store();
        let a = add(
            &mut s,
            "analysis",
            entry(
                "1",
                "An Alliance Without Illusions: Why Russia Needs Azerbaijan",
                "https://a.example/1",
                "2026-01-14T05:00:00Z",
                BODY,
            ),
        );
        let b = add(
            &mut s,
            "digest",
            entry(
                "d1",
                "Analysis: An Alliance Without Illusions: Why Russia Needs Azerbaijan",
                "https://d.example/1",
                "2026-01-14T09:00:00Z",
                BODY,
            ),
        );
        assert_eq!(a, b);
        let c = add(
            &mut s,
            "wire",
            entry(
                "w2",
                "Aliyev meets Erdogan in Ankara",
                "https://w.example/2",
                "2026-01-14T09:00:00Z",
                "Talks on gas supplies to Europe through the Southern Gas Corridor and new pipeline capacity were held",
            ),
        );
        assert_ne!(a, c);
        let same_feed = add(
            &mut s,
            "analysis",
            entry(
                "2",
                "An Alliance Without Illusions: Why Russia Needs Azerbaijan",
                "https://a.example/2",
                "2026-01-14T10:00:00Z",
                BODY,
            ),
        );
        assert_ne!(
            a, same_feed,
            "one feed's entries are told apart by their keys, never folded"
        );
        let late = add(
            &mut s,
            "wire",
            entry(
                "w3",
                "An Alliance Without Illusions: Why Russia Needs Azerbaijan",
                "https://w.example/3",
                "2026-01-25T10:00:00Z",
                BODY,
            ),
        );
        assert_ne!(a, late, "outside the window it is another story");
    }

    /// Stores one single-entry batch per `(feed, entry)` as one group.
    fn group(
        s: &mut Store,
        batches: Vec<(&str, NewEntry)>,
    ) -> Vec<Result<crate::store::BatchCounts, StoreError>> {
        let record = FetchRecord::fetched_for_test("2026-01-15T00:00:00Z");
        let prepared: Vec<(&str, crate::store::PreparedBatch)> = batches
            .into_iter()
            .map(|(feed, e)| (feed, crate::store::PreparedBatch::new(vec![e])))
            .collect();
        let jobs: Vec<crate::store::BatchJob<'_>> = prepared
            .iter()
            .map(|(feed_id, batch)| crate::store::BatchJob {
                feed_id,
                record: &record,
                batch,
            })
            .collect();
        s.store_prepared_group(&jobs, &DedupSettings::default())
            .unwrap()
    }

    /// The analysis of the story the tests fold, as its own feed carries it.
    fn the_analysis() -> NewEntry {
        entry(
            "1",
            TITLE,
            "https://a.example/1",
            "2026-01-14T05:00:00Z",
            BODY,
        )
    }

    /// The same story republished by a digest, with a prefix on its title.
    fn its_digest() -> NewEntry {
        entry(
            "d1",
            &format!("Analysis: {TITLE}"),
            "https://d.example/1",
            "2026-01-14T09:00:00Z",
            BODY,
        )
    }

    fn cluster_of(s: &Store, feed: &str) -> Option<i64> {
        s.conn
            .query_row(
                "SELECT cluster_id FROM entries WHERE feed_id = ?1",
                [feed],
                |r| r.get(0),
            )
            .optional()
            .unwrap()
    }

    #[test]
    fn a_group_folds_a_story_two_of_its_feeds_carry() {
        let mut s = store();
        let a = the_analysis();
        let d = its_digest();
        let results = group(&mut s, vec![("analysis", a), ("digest", d)]);
        let counts: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!((counts[0].inserted, counts[0].folded), (1, 0));
        assert_eq!(
            (counts[1].inserted, counts[1].folded),
            (1, 1),
            "the second feed finds the story the first stored in the same transaction"
        );
        assert_eq!(cluster_of(&s, "analysis"), cluster_of(&s, "digest"));
        assert!(cluster_of(&s, "analysis").is_some());
    }

    #[test]
    fn the_same_feed_twice_in_a_group_keeps_the_search_index_whole() {
        let mut s = store();
        let first = entry(
            "1",
            "Harbour works resume in Poti",
            "https://a.example/1",
            "2026-01-14T05:00:00Z",
            BODY,
        );
        let edited = entry(
            "1",
            "Harbour works halted in Poti",
            "https://a.example/1",
            "2026-01-14T05:00:00Z",
            BODY,
        );
        let results = group(&mut s, vec![("analysis", first), ("analysis", edited)]);
        assert_eq!(results[0].as_ref().unwrap().inserted, 1);
        assert_eq!(results[1].as_ref().unwrap().updated, 1);
        s.conn
            .execute(
                "INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')",
                [],
            )
            .expect("the full-text index matches the entries");
        let search = |q: &str| {
            s.entries(&crate::store::EntryFilter {
                query: Some(q.into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .len()
        };
        assert_eq!(search("halted"), 1);
        assert_eq!(search("resume"), 0);
    }

    #[test]
    fn a_failing_batch_is_rolled_back_alone_and_the_group_is_kept() {
        let mut s = store();
        let wire = entry(
            "w1",
            "Aliyev meets Erdogan in Ankara",
            "https://w.example/1",
            "2026-01-14T06:00:00Z",
            "Talks on gas supplies to Europe through the Southern Gas Corridor were held",
        );
        // A feed with no row in `feeds`: its entries break the foreign key.
        let ghost = entry(
            "g1",
            TITLE,
            "https://g.example/1",
            "2026-01-14T05:00:00Z",
            BODY,
        );
        let analysis = entry(
            "1",
            "Harbour works resume in Poti after the winter storms",
            "https://a.example/1",
            "2026-01-14T07:00:00Z",
            "The port authority said the breakwater repairs will be finished by spring",
        );
        let results = group(
            &mut s,
            vec![("wire", wire), ("ghost", ghost), ("analysis", analysis)],
        );
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(results[1].is_err(), "the ghost feed's batch must fail");
        assert!(results[2].is_ok(), "{:?}", results[2]);
        let stored: Vec<String> = s
            .conn
            .prepare("SELECT feed_id FROM entries ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(stored, ["wire", "analysis"]);
        let fetched: Option<String> = s
            .conn
            .query_row(
                "SELECT last_success FROM feeds WHERE id = 'analysis'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(fetched.is_some(), "the later feed's fetch record is kept");
    }

    #[test]
    fn a_story_still_folds_when_a_failing_batch_makes_its_group_write_again() {
        // The failing feed before, between or after the two that carry one story: the group is
        // rolled back and written again in parts (the feeds before the failing one, then those
        // after it), and the story is still found, once, whichever part each feed lands in.
        for ghost_at in 0..3 {
            let mut s = store();
            let mut batches = vec![("analysis", the_analysis()), ("digest", its_digest())];
            // A feed with no row in `feeds`: its entries break the foreign key.
            let ghost = entry(
                "g1",
                "Harbour works resume in Poti after the winter storms",
                "https://g.example/1",
                "2026-01-14T07:00:00Z",
                "The port authority said the breakwater repairs will be finished by spring",
            );
            batches.insert(ghost_at, ("ghost", ghost));
            let results = group(&mut s, batches);
            let mut stored = Vec::new();
            for (i, r) in results.iter().enumerate() {
                if i == ghost_at {
                    assert!(r.is_err(), "the ghost feed's batch must fail");
                } else {
                    stored.push(*r.as_ref().expect("the other feeds are kept"));
                }
            }
            assert_eq!(
                (stored[0].inserted, stored[0].folded, stored[1].folded),
                (1, 0, 1),
                "ghost at {ghost_at}: the digest folds into the analysis"
            );
            assert_eq!(cluster_of(&s, "analysis"), cluster_of(&s, "digest"));
            let clusters: i64 = s
                .conn
                .query_row("SELECT count(*) FROM clusters", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                clusters, 1,
                "ghost at {ghost_at}: one story, nothing left over"
            );
        }
    }

    #[test]
    fn split_entry_stands_alone_and_the_story_keeps_its_primary() {
        let mut s = store();
        let a = add(
            &mut s,
            "analysis",
            entry(
                "1",
                "Alliance without illusions",
                "https://caucasus.example/a/1",
                "2026-01-14T05:00:00Z",
                BODY,
            ),
        );
        add(
            &mut s,
            "wire",
            entry(
                "w1",
                "Alliance without illusions",
                "https://caucasus.example/a/1",
                "2026-01-14T07:00:00Z",
                BODY,
            ),
        );
        add(
            &mut s,
            "digest",
            entry(
                "d1",
                "Alliance without illusions",
                "https://caucasus.example/a/1",
                "2026-01-14T08:00:00Z",
                BODY,
            ),
        );
        let wire_id: i64 = s
            .conn
            .query_row("SELECT id FROM entries WHERE feed_id = 'wire'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let split = s
            .split_entry(&wire_id.to_string(), t("2026-01-15T00:00:00Z"))
            .unwrap()
            .unwrap();
        assert_eq!((split.from_cluster, split.remaining), (a, 2));
        assert_eq!(
            s.split_entry(&wire_id.to_string(), t("2026-01-15T00:00:00Z"))
                .unwrap(),
            Err(SplitRefusal::AlreadyAlone)
        );
        assert_eq!(
            s.split_entry("nope", t("2026-01-15T00:00:00Z")).unwrap(),
            Err(SplitRefusal::NoSuchEntry)
        );
        let listed = s
            .entries(&crate::store::EntryFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 2);
        // Splitting the primary, named by its Atom id, hands the story to the next member.
        let primary: String = s
            .conn
            .query_row(
                "SELECT uid FROM entries WHERE feed_id = 'analysis'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(primary.starts_with("urn:uuid:"), "{primary}");
        let split = s
            .split_entry(&primary, t("2026-01-15T00:00:00Z"))
            .unwrap()
            .unwrap();
        assert_eq!((split.from_cluster, split.remaining), (a, 1));
        let p: i64 = s
            .conn
            .query_row(
                "SELECT primary_entry FROM clusters WHERE id = ?1",
                [a],
                |r| r.get(0),
            )
            .unwrap();
        let digest_id: i64 = s
            .conn
            .query_row("SELECT id FROM entries WHERE feed_id = 'digest'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(p, digest_id);
    }

    fn file_store(path: &std::path::Path) -> Store {
        let mut s = Store::open(path).unwrap();
        let feeds = ["analysis", "wire", "digest"].map(|id| FeedIdentity {
            id,
            url: "https://x.example/",
            fingerprint: id,
        });
        s.sync_feeds(feeds, t("2026-01-14T00:00:00Z")).unwrap();
        s
    }

    const TITLE: &str = "An Alliance Without Illusions: Why Russia Needs Azerbaijan";

    #[test]
    fn a_store_sees_stories_another_connection_stored_after_it_loaded_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut first = file_store(&path);
        let mut second = Store::open(&path).unwrap();
        // The first store loads its index (empty) by storing something unrelated.
        add(
            &mut first,
            "digest",
            entry(
                "d0",
                "Tbilisi cable car closes for repairs",
                "https://d.example/0",
                "2026-01-14T04:00:00Z",
                "x",
            ),
        );
        let a = add(&mut second, "analysis", the_analysis());
        let b = add(
            &mut first,
            "wire",
            entry(
                "w1",
                &format!("Analysis: {TITLE}"),
                "https://w.example/1",
                "2026-01-14T06:00:00Z",
                BODY,
            ),
        );
        assert_eq!(a, b, "the entry the other connection stored is a candidate");
    }

    #[test]
    fn a_database_indexed_before_migration_7_keeps_its_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for sql in &super::super::MIGRATIONS[..6] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 6).unwrap();
            c.execute_batch(&format!(
                "INSERT INTO feeds (id, url, created_at) VALUES ('analysis', 'https://x.example/', '2026-01-14T00:00:00Z');
                 INSERT INTO clusters (id, primary_entry, created_at) VALUES (7, 70, '2026-01-14T05:00:00Z');
                 INSERT INTO entries (id, feed_id, entry_key, uid, title, updated, first_seen, sort_time, revision, cluster_id, excerpt)
                   VALUES (70, 'analysis', 'id:1', 'urn:x', '{TITLE}', '2026-01-14T05:00:00Z', '2026-01-14T05:00:00Z',
                           '2026-01-14T05:00:00Z', 'r', 7, '{BODY}');
                 INSERT INTO dedup_tokens (token, entry_id, feed_id, at, seen) VALUES
                   ('allian', 70, 'analysis', '2026-01-14T05:00:00Z', '2026-01-14T05:00:00Z'),
                   ('illusi', 70, 'analysis', '2026-01-14T05:00:00Z', '2026-01-14T05:00:00Z');"
            ))
            .unwrap();
        }
        let mut s = file_store(&path);
        let carried: (i64, i64, Option<String>) = s
            .conn
            .query_row("SELECT entry_id, at, tokens FROM dedup_index", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(carried, (70, t("2026-01-14T05:00:00Z").timestamp(), None));
        let joined = add(
            &mut s,
            "wire",
            entry(
                "w1",
                &format!("Analysis: {TITLE}"),
                "https://w.example/1",
                "2026-01-14T06:00:00Z",
                BODY,
            ),
        );
        assert_eq!(
            joined, 7,
            "the old entry was found through its computed title tokens"
        );
        let tokens: String = s
            .conn
            .query_row(
                "SELECT tokens FROM dedup_index WHERE entry_id = 70",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(tokens.split(' ').any(|t| t == "azerba"), "{tokens}");
    }
}
