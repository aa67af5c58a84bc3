//! The `clusters`, `dedup_tokens` and `cluster_splits` tables: folding one story carried by
//! several feeds.
//!
//! A new entry joins an existing cluster when, within the dedup window and from a feed not yet
//! in that cluster, an entry has the same canonical URL, or is the same story by [`crate::dedup::story`]
//! (candidates come from the title-token index, never from scanning the archive). Otherwise it
//! starts its own cluster. The primary of a cluster is its first seen member. An admin can split
//! an entry out; it then stays on its own.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError, fmt_time};
use crate::dedup::story::{StoryText, same_story};

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

/// Most candidates from the token index compared in full for one new entry.
const MAX_CANDIDATES: i64 = 30;

/// A newly inserted entry, as clustering needs it.
pub(super) struct NewMember<'a> {
    pub entry_id: i64,
    pub feed_id: &'a str,
    pub canonical_url: Option<&'a str>,
    pub title: &'a str,
    pub excerpt: &'a str,
    pub at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Puts a new entry into a cluster (an existing one, or its own) and indexes its title.
pub(super) fn assign(
    tx: &Transaction<'_>,
    m: &NewMember<'_>,
    settings: &DedupSettings,
) -> Result<i64, StoreError> {
    let window =
        chrono::TimeDelta::from_std(settings.window).unwrap_or(chrono::TimeDelta::hours(72));
    let lo = fmt_time(m.at - window);
    let hi = fmt_time(m.at + window);
    let story = StoryText::new(m.title, m.excerpt);

    let mut found: Option<i64> = None;
    if let Some(url) = m.canonical_url {
        found = tx
            .prepare_cached(
                "SELECT e.cluster_id FROM entries e WHERE e.canonical_url = ?1 AND e.feed_id <> ?2
                   AND e.sort_time BETWEEN ?3 AND ?4 AND e.cluster_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id AND o.feed_id = ?2)
                 ORDER BY e.first_seen, e.sort_time, e.id LIMIT 1",
            )?
            .query_row(params![url, m.feed_id, lo, hi], |r| r.get(0))
            .optional()?;
    }
    if found.is_none() && !story.title.is_empty() {
        found = best_near_duplicate(tx, m, &story, &lo, &hi, settings)?;
    }
    let cluster = match found {
        Some(c) => {
            // The story's primary is its first seen member; entries seen in the same run are
            // ordered by their own time, so the outcome does not depend on fetch order.
            tx.prepare_cached(
                "UPDATE clusters SET primary_entry = (SELECT e.id FROM entries e WHERE e.cluster_id = ?1 OR e.id = ?2
                     ORDER BY e.first_seen, e.sort_time, e.id LIMIT 1) WHERE id = ?1",
            )?
            .execute(params![c, m.entry_id])?;
            c
        }
        None => {
            tx.prepare_cached("INSERT INTO clusters (primary_entry, created_at) VALUES (?1, ?2)")?
                .execute(params![m.entry_id, fmt_time(m.now)])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("UPDATE entries SET cluster_id = ?2 WHERE id = ?1")?
        .execute(params![m.entry_id, cluster])?;
    let mut index =
        tx.prepare_cached("INSERT OR IGNORE INTO dedup_tokens (token, entry_id, feed_id, at, seen) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let (at, seen) = (fmt_time(m.at), fmt_time(m.now));
    for token in &story.title {
        index.execute(params![token, m.entry_id, m.feed_id, at, seen])?;
    }
    Ok(cluster)
}

fn best_near_duplicate(
    tx: &Transaction<'_>,
    m: &NewMember<'_>,
    story: &StoryText,
    lo: &str,
    hi: &str,
    settings: &DedupSettings,
) -> Result<Option<i64>, StoreError> {
    let tokens: Vec<&String> = story.title.iter().collect();
    let placeholders = vec!["?"; tokens.len()].join(", ");
    let sql = format!(
        "SELECT t.entry_id, count(*) AS shared FROM dedup_tokens t
         WHERE t.token IN ({placeholders}) AND t.feed_id <> ? AND t.at BETWEEN ? AND ?
         GROUP BY t.entry_id ORDER BY shared DESC, t.entry_id LIMIT {MAX_CANDIDATES}"
    );
    let mut args: Vec<&dyn rusqlite::ToSql> =
        tokens.iter().map(|t| *t as &dyn rusqlite::ToSql).collect();
    args.push(&m.feed_id);
    args.push(&lo);
    args.push(&hi);
    let mut stmt = tx.prepare_cached(&sql)?;
    let candidates: Vec<i64> = stmt
        .query_map(args.as_slice(), |r| r.get::<_, i64>(0))?
        .collect::<Result<_, _>>()?;
    // A story holds at most one entry per feed: a feed's own entries are told apart by their keys.
    let mut load = tx.prepare_cached(
        "SELECT e.cluster_id, e.title, e.excerpt FROM entries e WHERE e.id = ?1 AND e.cluster_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id AND o.feed_id = ?2)",
    )?;
    let mut best: Option<(f64, i64)> = None;
    for id in candidates {
        let Some((cluster, title, excerpt)) = load
            .query_row(params![id, m.feed_id], |r| {
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
        if let Some(score) = same_story(story, &other, settings.title_similarity)
            && best.is_none_or(|(s, _)| score > s)
        {
            best = Some((score, cluster));
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// Drops index rows of entries stored more than twice the window before `now`: stories
/// arriving now are compared with what arrived recently, whatever dates they carry.
pub(super) fn trim_index(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    settings: &DedupSettings,
) -> Result<(), StoreError> {
    let keep =
        chrono::TimeDelta::from_std(settings.window * 2).unwrap_or(chrono::TimeDelta::days(6));
    tx.prepare_cached("DELETE FROM dedup_tokens WHERE seen < ?1")?
        .execute([fmt_time(now - keep)])?;
    Ok(())
}

/// After entries were deleted: clusters without members go, clusters that lost their primary
/// get the next first-seen member.
pub(super) fn repair_after_delete(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "DELETE FROM dedup_tokens WHERE entry_id NOT IN (SELECT id FROM entries);
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
        let row: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, cluster_id FROM entries WHERE (CAST(id AS TEXT) = ?1 OR uid = ?1) AND cluster_id IS NOT NULL",
                [entry],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
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
        // Splitting the primary hands the story to the next member.
        let primary: i64 = s
            .conn
            .query_row(
                "SELECT id FROM entries WHERE feed_id = 'analysis'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        s.split_entry(&primary.to_string(), t("2026-01-15T00:00:00Z"))
            .unwrap()
            .unwrap();
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
}
