//! Reads behind the reader web UI: the stream of stories a page lists, one entry with every
//! other outlet that carried its story, search snippets with the matched words marked, and
//! per-feed counts for the sources page.
//!
//! Every read is bounded by what one page shows, so the pages stay fast on an archive of
//! millions of entries:
//! - the stream walks `entries_by_time` from the reader's position (a row-value keyset, which
//!   SQLite turns into an index range) and stops after a page; a handful of selected feeds
//!   each walk their own `entries_by_feed_time` and the pages are merged;
//! - a search first walks the time index and checks each row's text in a scratch full-text
//!   index holding only the rows walked (same tokenizer as `entries_fts`, so the same
//!   matches): a common word fills a page within a few dozen rows, and its cost never depends
//!   on how many of the archive's entries carry it. FTS5 gathers every hit of a prefix query
//!   before it returns the first, so it is asked only when the walk's first rows show the word
//!   is rarer (a name, a place): its hits are few, and read directly;
//! - a story is represented, as in the merged feed, by its first-seen member among the
//!   selected ones; its other members come from `entries_by_cluster` in one query per page.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{Store, StoreError, fmt_time, parse_opt_time, parse_time};
use crate::model::{Related, StoredEntry};
use crate::store::{EntryFilter, fts_expression};

/// Search hits up to which a search reads the hits' own rows; with more, the time index is
/// walked and rows are checked against the hits instead.
const FEW_HITS: usize = 600;
/// How far a search walks the time index checking each row's text before it asks FTS5 for
/// every hit instead. Checking text costs about 50 µs a row and FTS5 about 0.25 µs a hit, so
/// on a million entries the walk wins for words in more than about one entry in twelve: the
/// walk goes on only when its first chunk had `probe_hits` hits, and stops after `rows` rows.
const TEXT_WALK: WalkBudget = WalkBudget {
    probe_hits: 4,
    rows: 900,
};
/// Rows of the time walk read and checked at once: the first chunk, doubled each time up to
/// the largest.
const FIRST_CHUNK: usize = 64;
const MAX_CHUNK: usize = 768;

/// When a walk along the time index gives up.
#[derive(Debug, Clone, Copy)]
struct WalkBudget {
    /// Fewest hits among the first chunk's rows for the walk to go on.
    probe_hits: usize,
    /// Most rows walked.
    rows: usize,
}
/// The tokenizer of `entries_fts` (migration 0004), which the scratch index must share to
/// match the same words.
const FTS_TOKENIZER: &str = "unicode61 remove_diacritics 2";
/// Selected feeds up to which each feed's own time index is read and the pages merged; with
/// more, the shared time index is walked and rows are checked against the feeds.
const FEW_FEEDS: usize = 32;

/// Marks the start of a matched word in text from FTS5 (a private-use character that no
/// sanitized excerpt carries, and that is never written to a page).
const MATCH_START: char = '\u{E000}';
/// Marks the end of a matched word.
const MATCH_END: char = '\u{E001}';
/// Words of context around the matches in a snippet.
const SNIPPET_WORDS: i64 = 28;

/// Plain text cut into runs, each either matched by the search or not. The text is as stored
/// (never HTML): the page escapes every run and wraps the matched ones in `<mark>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlighted {
    pub runs: Vec<(String, bool)>,
}

impl Highlighted {
    /// Splits text carrying the match markers into runs; stray markers are dropped.
    fn from_marked(marked: &str) -> Highlighted {
        let mut runs: Vec<(String, bool)> = Vec::new();
        let mut current = String::new();
        let mut matched = false;
        let mut flush = |current: &mut String, matched: bool| {
            if !current.is_empty() {
                runs.push((std::mem::take(current), matched));
            }
        };
        for c in marked.chars() {
            match c {
                MATCH_START => {
                    flush(&mut current, matched);
                    matched = true;
                }
                MATCH_END => {
                    flush(&mut current, matched);
                    matched = false;
                }
                c => current.push(c),
            }
        }
        flush(&mut current, matched);
        Highlighted { runs }
    }

    /// True when at least one run is a match.
    pub fn has_match(&self) -> bool {
        self.runs.iter().any(|(_, m)| *m)
    }

    /// The text without marks.
    pub fn text(&self) -> String {
        self.runs.iter().map(|(t, _)| t.as_str()).collect()
    }
}

/// How an entry matched a search: its title with every match marked, and the part of its text
/// around the best matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    pub title: Highlighted,
    pub text: Highlighted,
}

/// How much of one feed's archive other feeds also carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedStoryCounts {
    /// Entries stored for the feed.
    pub entries: u64,
    /// Of those, entries whose story (cluster) has members from other feeds too.
    pub shared: u64,
}

impl FeedStoryCounts {
    /// The fraction of the feed's entries in stories several feeds carried; `None` without
    /// entries.
    pub fn share(&self) -> Option<f64> {
        (self.entries > 0).then(|| (self.shared as f64 / self.entries as f64).min(1.0))
    }
}

/// Tells which of the given entry ids match a search.
type HitCheck<'a> = dyn FnMut(&[i64]) -> Result<HashSet<i64>, StoreError> + 'a;

/// SQL conditions with their arguments, built up in order.
#[derive(Default)]
struct Clause {
    sql: String,
    args: Vec<Value>,
}

impl Clause {
    fn push(&mut self, sql: &str, args: impl IntoIterator<Item = Value>) {
        self.sql.push_str(sql);
        self.args.extend(args);
    }

    /// `AND {column} IN (?, …)` over `ids`.
    fn feeds(&mut self, column: &str, ids: &[String]) {
        let marks = vec!["?"; ids.len()].join(", ");
        self.push(
            &format!(" AND {column} IN ({marks})"),
            ids.iter().map(|id| Value::Text(id.clone())),
        );
    }

    /// The time window and keyset position on `e`.
    fn window(&mut self, q: &EntryFilter) {
        if let Some(since) = q.since {
            self.push(" AND e.sort_time >= ?", [Value::Text(fmt_time(since))]);
        }
        if let Some(until) = q.until {
            self.push(" AND e.sort_time < ?", [Value::Text(fmt_time(until))]);
        }
        if let Some(b) = q.before {
            self.push(
                " AND (e.sort_time, e.id) < (?, ?)",
                [Value::Text(fmt_time(b.time)), Value::Integer(b.id)],
            );
        }
    }

    /// A page of stories on `e`, newest first: the window, the selected feeds matched on
    /// `feed_column` (`None` where the query already picks one feed), and `e` first of its
    /// story among the selected entries (and, with `among_hits`, among the `hits` table). Ends
    /// with `LIMIT ?`, bound by the caller.
    fn story_page(&mut self, q: &EntryFilter, feed_column: Option<&str>, among_hits: bool) {
        self.window(q);
        if let (Some(column), Some(ids)) = (feed_column, &q.feed_ids) {
            self.feeds(column, ids);
        }
        self.push(
            " AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.cluster_id = e.cluster_id",
            [],
        );
        if let Some(ids) = &q.feed_ids {
            self.feeds("o.feed_id", ids);
        }
        if among_hits {
            self.push(" AND o.id IN (SELECT id FROM hits)", []);
        }
        self.push(
            " AND (o.first_seen, o.sort_time, o.id) < (e.first_seen, e.sort_time, e.id)) \
             ORDER BY e.sort_time DESC, e.id DESC LIMIT ?",
            [],
        );
    }
}

impl Store {
    /// One page of stories, newest first: for each story (cluster) its first-seen member among
    /// the selected entries, with the story's other members as `related` and `updated` as the
    /// newest change in the story. Same selection and order as [`Store::entries`].
    pub fn stories(&self, q: &EntryFilter) -> Result<Vec<StoredEntry>, StoreError> {
        if q.limit == 0 || q.feed_ids.as_ref().is_some_and(|f| f.is_empty()) {
            return Ok(Vec::new());
        }
        let ids = match &q.query {
            Some(text) => match fts_expression(text) {
                Some(expr) => self.matching_story_ids(q, &expr)?,
                None => Vec::new(),
            },
            None => match &q.feed_ids {
                Some(feeds) if feeds.len() <= FEW_FEEDS => self.story_ids_per_feed(q, feeds)?,
                _ => self.story_ids_by_time(q)?,
            },
        };
        self.load_stories(&ids)
    }

    fn ids(&self, sql: &str, args: Vec<Value>) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Walks `entries_by_time` from the reader's position, checking each row against the
    /// selected feeds.
    fn story_ids_by_time(&self, q: &EntryFilter) -> Result<Vec<i64>, StoreError> {
        let mut c = Clause::default();
        c.push("SELECT e.id FROM entries e WHERE 1 = 1", []);
        // `+`: the feed is checked on each row of the time walk, not used to pick rows.
        c.story_page(q, Some("+e.feed_id"), false);
        c.args.push(Value::Integer(q.limit as i64));
        self.ids(&c.sql, c.args)
    }

    /// Each selected feed walks its own `entries_by_feed_time` for a page; the newest of all
    /// those pages make the page.
    fn story_ids_per_feed(
        &self,
        q: &EntryFilter,
        feeds: &[String],
    ) -> Result<Vec<i64>, StoreError> {
        let mut c = Clause::default();
        c.push(
            "SELECT e.id, e.sort_time FROM entries e WHERE e.feed_id = ?",
            [],
        );
        c.story_page(q, None, false);
        let mut stmt = self.conn.prepare_cached(&c.sql)?;
        let mut found: Vec<(String, i64)> = Vec::new();
        for feed in feeds {
            let mut args = vec![Value::Text(feed.clone())];
            args.extend(c.args.iter().cloned());
            args.push(Value::Integer(q.limit as i64));
            let rows = stmt.query_map(params_from_iter(args), |r| {
                Ok((r.get::<_, String>(1)?, r.get::<_, i64>(0)?))
            })?;
            for row in rows {
                found.push(row?);
            }
        }
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.truncate(q.limit);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    /// Stories with a search hit, newest first. A word in many entries is found by walking
    /// the time index and checking each row's text ([`Store::walk_checking_text`]), which
    /// fills a page within a few hundred rows whatever the archive's size; when the walk's
    /// first rows show the word is rarer than that ([`TEXT_WALK`]), FTS5 lists all its hits
    /// ([`Store::stories_among_hits`]), cheaply since they are few.
    fn matching_story_ids(&self, q: &EntryFilter, expr: &str) -> Result<Vec<i64>, StoreError> {
        if let Some(ids) = self.walk_checking_text(q, expr, Some(TEXT_WALK))? {
            return Ok(ids);
        }
        let seed = self.rarest_term(expr)?;
        self.stories_among_hits(q, &seed, expr, FEW_HITS)
    }

    /// The term of `expr` (one `"word"*` per word, as [`fts_expression`] writes them) with the
    /// fewest hits among the rows the scratch index holds, which after a walk that gave up are
    /// the newest rows of the selection: a sample telling which word FTS5 can list cheapest.
    /// A search of one word is that word.
    fn rarest_term(&self, expr: &str) -> Result<String, StoreError> {
        let terms: Vec<&str> = expr.split(' ').filter(|t| !t.is_empty()).collect();
        if terms.len() < 2 {
            return Ok(expr.to_string());
        }
        let mut count = self
            .conn
            .prepare_cached("SELECT count(*) FROM temp.scratch_fts WHERE scratch_fts MATCH ?1")?;
        let mut best = (i64::MAX, usize::MAX, expr);
        for (i, term) in terms.iter().enumerate() {
            let n: i64 = count.query_row([term], |r| r.get(0))?;
            // Fewest hits first; among equals, the longer word (a longer prefix matches less).
            let rank = (n, usize::MAX - term.len());
            if rank < (best.0, best.1) {
                best = (n, usize::MAX - term.len(), terms[i]);
            }
        }
        Ok(best.2.to_string())
    }

    /// Stories with a search hit, from FTS5's list of every entry matching `seed` (the whole
    /// search `expr`, or one of its words, whose hits include every hit of the search).
    /// FTS5 builds that list in full for a prefix query (cost grows with its hits), so this
    /// suits rarer words. When `seed` is one word of several, its hits are checked against
    /// the whole search in the scratch index. Up to `few_hits` hits are read as rows and
    /// sorted; more are looked up in memory during a walk of the time index.
    fn stories_among_hits(
        &self,
        q: &EntryFilter,
        seed: &str,
        expr: &str,
        few_hits: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let mut candidates = self.ids(
            "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?",
            vec![Value::Text(seed.to_string())],
        )?;
        let whole = seed == expr;
        let hits = if candidates.len() > few_hits {
            candidates.sort_unstable();
            let walked = self.walk_stories(q, None, &mut |ids: &[i64]| {
                let among: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|id| candidates.binary_search(id).is_ok())
                    .collect();
                if whole || among.is_empty() {
                    Ok(among.into_iter().collect())
                } else {
                    self.scratch_hits(expr, &among)
                }
            })?;
            return Ok(walked.unwrap_or_default());
        } else if whole || candidates.is_empty() {
            candidates
        } else {
            self.scratch_hits(expr, &candidates)?.into_iter().collect()
        };
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(&hits).unwrap_or_else(|_| "[]".into());
        let mut c = Clause::default();
        c.push(
            "WITH hits(id) AS MATERIALIZED (SELECT value FROM json_each(?)) \
             SELECT e.id FROM hits CROSS JOIN entries e ON e.id = hits.id WHERE 1 = 1",
            [Value::Text(list)],
        );
        c.story_page(q, Some("e.feed_id"), true);
        c.args.push(Value::Integer(q.limit as i64));
        self.ids(&c.sql, c.args)
    }

    /// Walks the time index checking each row's title and excerpt against the search in a
    /// scratch full-text index of just those rows ([`Store::scratch_hits`]): the same
    /// tokenizer and query as `entries_fts`, so the same matches, at a cost that grows with
    /// the rows walked rather than with the word's hits in the archive. `None` when the walk
    /// gave up as `budget` says, before filling the page.
    fn walk_checking_text(
        &self,
        q: &EntryFilter,
        expr: &str,
        budget: Option<WalkBudget>,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        self.walk_stories(q, budget, &mut |ids: &[i64]| self.scratch_hits(expr, ids))
    }

    /// Walks `entries_by_time` from the reader's position over the selected feeds, a chunk
    /// of rows at a time, and keeps the rows that `hits_among` reports as hits and that come
    /// first in their story among such rows. `hits_among` gets the ids to check (each once)
    /// and answers with those that match. `None` when the walk gave up as `budget` says
    /// before filling the page: too few hits in the first chunk, or too many rows walked.
    fn walk_stories(
        &self,
        q: &EntryFilter,
        budget: Option<WalkBudget>,
        hits_among: &mut HitCheck<'_>,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        let mut c = Clause::default();
        c.push("SELECT e.id, e.sort_time FROM entries e WHERE 1 = 1", []);
        c.window(q);
        if let Some(ids) = &q.feed_ids {
            // `+`: the feed is checked on each row of the time walk, not used to pick rows.
            c.feeds("+e.feed_id", ids);
        }
        c.push(
            " AND (e.sort_time, e.id) < (?, ?) ORDER BY e.sort_time DESC, e.id DESC LIMIT ?",
            [],
        );
        let feeds: Option<HashSet<&str>> = q
            .feed_ids
            .as_ref()
            .map(|ids| ids.iter().map(String::as_str).collect());
        let selected = |feed: &str| feeds.as_ref().is_none_or(|f| f.contains(feed));
        // Every member of an entry's story seen before it, with its feed.
        let mut earlier = self.conn.prepare_cached(
            "SELECT o.id, o.feed_id FROM entries e
             JOIN entries o ON o.cluster_id = e.cluster_id
                 AND (o.first_seen, o.sort_time, o.id) < (e.first_seen, e.sort_time, e.id)
             WHERE e.id = ?1",
        )?;
        let mut checked: HashMap<i64, bool> = HashMap::new();
        let mut check = |ids: Vec<i64>, checked: &mut HashMap<i64, bool>| {
            let new: Vec<i64> = ids
                .into_iter()
                .filter(|id| !checked.contains_key(id))
                .collect();
            if new.is_empty() {
                return Ok::<_, StoreError>(());
            }
            let hits = hits_among(&new)?;
            for id in new {
                checked.insert(id, hits.contains(&id));
            }
            Ok(())
        };
        let mut out = Vec::new();
        // Past the newest possible time: the first chunk starts at the reader's position.
        let mut position = (String::from("9999"), i64::MAX);
        let mut walked = 0usize;
        let mut chunk = FIRST_CHUNK;
        loop {
            let mut args = c.args.clone();
            args.extend([
                Value::Text(position.0.clone()),
                Value::Integer(position.1),
                Value::Integer(chunk as i64),
            ]);
            let mut stmt = self.conn.prepare_cached(&c.sql)?;
            let rows: Vec<(i64, String)> = stmt
                .query_map(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            check(rows.iter().map(|(id, _)| *id).collect(), &mut checked)?;
            if let Some(b) = budget
                && walked == 0
                && rows.len() == chunk
                && rows
                    .iter()
                    .filter(|(id, _)| checked.get(id) == Some(&true))
                    .count()
                    < b.probe_hits
            {
                return Ok(None);
            }
            let mut members: Vec<(i64, Vec<i64>)> = Vec::new();
            for (id, _) in &rows {
                if checked.get(id) == Some(&true) {
                    let before = earlier
                        .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
                        .collect::<Result<Vec<_>, _>>()?;
                    let before = before
                        .into_iter()
                        .filter(|(_, feed)| selected(feed))
                        .map(|(o, _)| o)
                        .collect();
                    members.push((*id, before));
                }
            }
            check(
                members
                    .iter()
                    .flat_map(|(_, m)| m.iter().copied())
                    .collect(),
                &mut checked,
            )?;
            for (id, before) in members {
                if !before.iter().any(|o| checked.get(o) == Some(&true)) {
                    out.push(id);
                    if out.len() >= q.limit {
                        return Ok(Some(out));
                    }
                }
            }
            walked += rows.len();
            match rows.last() {
                Some((id, time)) if rows.len() == chunk => position = (time.clone(), *id),
                _ => return Ok(Some(out)),
            }
            if budget.is_some_and(|b| walked >= b.rows) {
                return Ok(None);
            }
            chunk = (chunk * 2).min(MAX_CHUNK);
        }
    }

    /// Which of `ids` match the full-text expression `expr`, decided by indexing just those
    /// entries in the connection's scratch index.
    fn scratch_hits(&self, expr: &str, ids: &[i64]) -> Result<HashSet<i64>, StoreError> {
        self.fill_scratch(ids)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT rowid FROM temp.scratch_fts WHERE scratch_fts MATCH ?1")?;
        let hits = stmt.query_map([expr], |r| r.get::<_, i64>(0))?;
        Ok(hits.collect::<Result<_, _>>()?)
    }

    /// Puts the titles and excerpts of `ids` (and nothing else) into the scratch full-text
    /// index: a table of this connection's temporary schema, indexed exactly as
    /// `entries_fts` is, created on first use. Only the connection's own temporary schema is
    /// written; the database file is not.
    fn fill_scratch(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.conn.execute_batch(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS scratch_docs (id INTEGER PRIMARY KEY, title TEXT, excerpt TEXT);
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.scratch_fts USING fts5(
                 title, excerpt, content = 'scratch_docs', content_rowid = 'id',
                 tokenize = '{FTS_TOKENIZER}');"
        ))?;
        self.conn
            .prepare_cached("DELETE FROM temp.scratch_docs")?
            .execute([])?;
        self.conn
            .prepare_cached("INSERT INTO temp.scratch_fts (scratch_fts) VALUES ('delete-all')")?
            .execute([])?;
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                "INSERT INTO temp.scratch_docs (id, title, excerpt)
                 SELECT id, title, excerpt FROM main.entries
                 WHERE id IN (SELECT value FROM json_each(?1))",
            )?
            .execute([&list])?;
        self.conn
            .prepare_cached(
                "INSERT INTO temp.scratch_fts (rowid, title, excerpt)
                 SELECT id, title, excerpt FROM temp.scratch_docs",
            )?
            .execute([])?;
        Ok(())
    }

    /// The entries `ids` (in that order) with their feeds and their stories' other members.
    fn load_stories(&self, ids: &[i64]) -> Result<Vec<StoredEntry>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ENTRY_SELECT} WHERE e.id IN (SELECT value FROM json_each(?1))"
        ))?;
        let mut by_id: HashMap<i64, StoredEntry> = HashMap::new();
        for row in stmt.query_map([&list], read_entry)? {
            let e = row??;
            by_id.insert(e.rowid, e);
        }
        let mut out: Vec<StoredEntry> = ids.iter().filter_map(|id| by_id.remove(id)).collect();

        let clusters: Vec<i64> = out
            .iter()
            .map(|e| e.cluster_id)
            .filter(|c| *c != 0)
            .collect();
        let clusters = serde_json::to_string(&clusters).unwrap_or_else(|_| "[]".into());
        let mut members = self.conn.prepare_cached(
            "SELECT e.cluster_id, e.id, e.feed_id, coalesce(f.title, ''), e.title, e.link, e.updated
             FROM entries e JOIN feeds f ON f.id = e.feed_id
             WHERE e.cluster_id IN (SELECT value FROM json_each(?1))
             ORDER BY e.cluster_id, e.first_seen, e.sort_time, e.id",
        )?;
        let mut by_cluster: HashMap<i64, Vec<(Related, String)>> = HashMap::new();
        for row in members.query_map([&clusters], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Related {
                    entry_id: r.get(1)?,
                    feed_id: r.get(2)?,
                    feed_title: r.get(3)?,
                    title: r.get(4)?,
                    link: r.get(5)?,
                },
                r.get::<_, String>(6)?,
            ))
        })? {
            let (cluster, related, updated) = row?;
            by_cluster
                .entry(cluster)
                .or_default()
                .push((related, updated));
        }
        for e in &mut out {
            for (related, updated) in by_cluster.get(&e.cluster_id).into_iter().flatten() {
                e.updated = e.updated.max(parse_time(updated, "entries.updated")?);
                if related.entry_id != e.rowid {
                    e.related.push(related.clone());
                }
            }
        }
        Ok(out)
    }

    /// One entry with its feed, its own `updated` time, and as `related` every other member
    /// of its story (first seen first). `None` when no entry has this id.
    pub fn entry(&self, id: i64) -> Result<Option<StoredEntry>, StoreError> {
        let found = self
            .conn
            .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.id = ?1"))?
            .query_row([id], read_entry)
            .optional()?;
        let Some(mut e) = found.transpose()? else {
            return Ok(None);
        };
        if e.cluster_id != 0 {
            e.related = self.story_members(e.cluster_id, e.rowid)?;
        }
        Ok(Some(e))
    }

    /// The members of story `cluster` other than `except`, first seen first.
    fn story_members(&self, cluster: i64, except: i64) -> Result<Vec<Related>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.feed_id, coalesce(f.title, ''), e.title, e.link
             FROM entries e JOIN feeds f ON f.id = e.feed_id
             WHERE e.cluster_id = ?1 AND e.id <> ?2
             ORDER BY e.first_seen, e.sort_time, e.id",
        )?;
        let rows = stmt.query_map(params![cluster, except], |r| {
            Ok(Related {
                entry_id: r.get(0)?,
                feed_id: r.get(1)?,
                feed_title: r.get(2)?,
                title: r.get(3)?,
                link: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// For each of `ids` that matches `query` (as [`Store::entries`] searches), its title with
    /// the matches marked and a snippet of its text around them. Ids that do not match, and
    /// every id when the query has no word, are left out.
    pub fn search_snippets(
        &self,
        query: &str,
        ids: &[i64],
    ) -> Result<HashMap<i64, Snippet>, StoreError> {
        let mut out = HashMap::new();
        let Some(expr) = fts_expression(query) else {
            return Ok(out);
        };
        if ids.is_empty() {
            return Ok(out);
        }
        // The page's entries alone, in the scratch index: the same words match as in
        // `entries_fts`, without FTS5 gathering every hit of the archive for a common word.
        self.fill_scratch(ids)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, highlight(scratch_fts, 0, ?2, ?3),
                    snippet(scratch_fts, 1, ?2, ?3, '…', ?4)
             FROM temp.scratch_fts WHERE scratch_fts MATCH ?1",
        )?;
        let (start, end) = (MATCH_START.to_string(), MATCH_END.to_string());
        let rows = stmt.query_map(params![expr, start, end, SNIPPET_WORDS], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (id, title, text) = row?;
            out.insert(
                id,
                Snippet {
                    title: Highlighted::from_marked(&title.unwrap_or_default()),
                    text: Highlighted::from_marked(&text.unwrap_or_default()),
                },
            );
        }
        Ok(out)
    }

    /// Per feed id: how many of its entries belong to stories other feeds carried too (feeds
    /// with none are absent).
    ///
    /// This reads every story of the archive (about a second for a million entries), so the
    /// answer is kept per database file until the store's change counter moves.
    pub fn shared_entry_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        type Cached = Option<(String, i64, HashMap<String, u64>)>;
        static CACHE: Mutex<Cached> = Mutex::new(None);
        let path = self.conn.path().unwrap_or("").to_string();
        let version = self.version()?;
        if !path.is_empty() {
            let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((p, v, counts)) = cache.as_ref()
                && *p == path
                && *v == version
            {
                return Ok(counts.clone());
            }
        }
        // A story joins members from different feeds only (a feed's own duplicates are
        // updated in place), so a cluster with two members is a story several feeds carried.
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.feed_id, count(*) FROM entries e
             WHERE e.cluster_id IN (SELECT cluster_id FROM entries
                                    WHERE cluster_id IS NOT NULL
                                    GROUP BY cluster_id HAVING count(*) > 1)
             GROUP BY e.feed_id",
        )?;
        let counts = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })?
            .collect::<Result<HashMap<_, _>, _>>()?;
        if !path.is_empty() {
            *CACHE.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((path, version, counts.clone()));
        }
        Ok(counts)
    }
}

/// An entry joined with its feed, as [`read_entry`] reads it.
const ENTRY_SELECT: &str = "SELECT e.id, e.feed_id, e.uid, e.title, e.link, e.summary, e.content, e.authors,
        e.published, e.updated, e.first_seen, coalesce(f.title, ''), coalesce(f.effective_url, f.url),
        f.site_link, e.cluster_id, e.excerpt
     FROM entries e JOIN feeds f ON f.id = e.feed_id";

fn read_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredEntry, StoreError>> {
    let authors: String = r.get(7)?;
    let published: Option<String> = r.get(8)?;
    let updated: String = r.get(9)?;
    let first_seen: String = r.get(10)?;
    let times = (|| {
        Ok::<_, StoreError>((
            serde_json::from_str::<Vec<String>>(&authors)
                .map_err(|_| StoreError::Corrupt("entries.authors".into()))?,
            parse_opt_time(published, "entries.published")?,
            parse_time(&updated, "entries.updated")?,
            parse_time(&first_seen, "entries.first_seen")?,
        ))
    })();
    let (authors, published, updated, first_seen) = match times {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(StoredEntry {
        rowid: r.get(0)?,
        feed_id: r.get(1)?,
        uid: r.get(2)?,
        title: r.get(3)?,
        link: r.get(4)?,
        summary: r.get(5)?,
        content: r.get(6)?,
        authors,
        published,
        updated,
        first_seen,
        feed_title: r.get(11)?,
        feed_url: r.get(12)?,
        feed_link: r.get(13)?,
        tags: Vec::new(),
        cluster_id: r.get::<_, Option<i64>>(14)?.unwrap_or(0),
        related: Vec::new(),
        excerpt: r.get(15)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewEntry;
    use crate::store::Cursor;
    use crate::store::{DedupSettings, FeedIdentity, FetchRecord};

    fn new_entry(id: &str, title: &str, text: &str, at: &str) -> NewEntry {
        NewEntry {
            id: id.into(),
            id_from_feed: true,
            title: title.into(),
            link: Some(format!("https://{id}.example/story")),
            published: Some(at.parse().unwrap()),
            updated: None,
            summary: Some(format!("<p>{text}</p>")),
            content: None,
            authors: vec![],
        }
    }

    fn fetched(at: &str) -> FetchRecord {
        FetchRecord::fetched_for_test(at)
    }

    /// Two feeds carrying one story (same link), plus one story only the first carried.
    fn store() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.sync_feeds(
            [
                FeedIdentity {
                    id: "one",
                    url: "https://one.example/rss",
                    fingerprint: "1",
                },
                FeedIdentity {
                    id: "two",
                    url: "https://two.example/rss",
                    fingerprint: "2",
                },
            ],
            "2026-01-14T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let shared = new_entry(
            "a",
            "Ferry to Aktau resumes",
            "The ferry from Baku to Aktau sails again after the winter storms closed the port.",
            "2026-01-14T06:00:00Z",
        );
        let alone = new_entry(
            "b",
            "В Баку открыли новую станцию метро",
            "Станция «Ходжасан» принимает первых пассажиров.",
            "2026-01-14T08:00:00Z",
        );
        s.store_fetch(
            "one",
            &fetched("2026-01-14T09:00:00Z"),
            &[shared.clone(), alone],
            &DedupSettings::default(),
        )
        .unwrap();
        let mut copy = shared;
        copy.id = "c".into();
        s.store_fetch(
            "two",
            &fetched("2026-01-14T10:00:00Z"),
            &[copy],
            &DedupSettings::default(),
        )
        .unwrap();
        s
    }

    fn id_titled(s: &Store, title: &str) -> i64 {
        s.conn
            .query_row(
                "SELECT id FROM entries WHERE title = ?1 ORDER BY id LIMIT 1",
                [title],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn an_entry_comes_with_the_other_outlets_of_its_story() {
        let s = store();
        let id = id_titled(&s, "Ferry to Aktau resumes");
        let e = s.entry(id).unwrap().unwrap();
        assert_eq!(e.feed_id, "one");
        assert_eq!(e.related.len(), 1);
        assert_eq!(e.related[0].feed_id, "two");
        assert_ne!(e.related[0].entry_id, id);
        assert!(s.entry(id + 1000).unwrap().is_none());
    }

    #[test]
    fn snippets_mark_matches_case_insensitively_in_cyrillic_and_latin() {
        let s = store();
        let ru = id_titled(&s, "В Баку открыли новую станцию метро");
        let en = id_titled(&s, "Ferry to Aktau resumes");
        let found = s.search_snippets("баку", &[ru, en]).unwrap();
        assert!(!found.contains_key(&en), "Cyrillic does not match Latin");
        let title = &found[&ru].title;
        assert!(
            title.runs.contains(&("Баку".to_string(), true)),
            "{title:?}"
        );
        assert_eq!(title.text(), "В Баку открыли новую станцию метро");
        let found = s.search_snippets("BAKU", &[ru, en]).unwrap();
        let text = &found[&en].text;
        assert!(text.runs.contains(&("Baku".to_string(), true)), "{text:?}");
        assert!(!found[&en].title.has_match());
        assert!(!found.contains_key(&ru));
        assert!(s.search_snippets("  ", &[ru]).unwrap().is_empty());
    }

    #[test]
    fn shared_counts_tell_entries_in_stories_of_several_feeds() {
        let s = store();
        let shared = s.shared_entry_counts().unwrap();
        assert_eq!(
            shared["one"], 1,
            "one of its two entries is carried by `two` too"
        );
        assert_eq!(shared["two"], 1);
        let share = FeedStoryCounts {
            entries: 2,
            shared: shared["one"],
        };
        assert_eq!(share.share(), Some(0.5));
        assert_eq!(FeedStoryCounts::default().share(), None);
    }

    #[test]
    fn shared_counts_are_recomputed_when_the_archive_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = Store::open(&path).unwrap();
        s.sync_feeds(
            ["one", "two"].map(|id| FeedIdentity {
                id,
                url: "https://x.example/rss",
                fingerprint: "1",
            }),
            "2026-01-14T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let story = new_entry(
            "a",
            "Ferry to Aktau resumes",
            "Sails again.",
            "2026-01-14T06:00:00Z",
        );
        s.store_fetch(
            "one",
            &fetched("2026-01-14T09:00:00Z"),
            std::slice::from_ref(&story),
            &DedupSettings::default(),
        )
        .unwrap();
        assert!(s.shared_entry_counts().unwrap().is_empty());
        let mut copy = story;
        copy.id = "b".into();
        s.store_fetch(
            "two",
            &fetched("2026-01-14T10:00:00Z"),
            &[copy],
            &DedupSettings::default(),
        )
        .unwrap();
        assert_eq!(s.shared_entry_counts().unwrap().get("one"), Some(&1));
    }

    /// Six feeds; 240 entries over ten days, with every fifth story carried by two or three
    /// feeds (same link), words drawn so that searches hit rarely and often.
    fn archive() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let feeds: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
        s.sync_feeds(
            feeds.iter().map(|id| FeedIdentity {
                id,
                url: "https://x.example/rss",
                fingerprint: "1",
            }),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let words = ["harbour", "ferry", "Баку", "pipeline", "corridor", "выборы"];
        for fetch in 0..8 {
            for (fi, feed) in feeds.iter().enumerate() {
                let mut batch = Vec::new();
                for k in 0..5 {
                    let n = fetch * 30 + fi * 5 + k;
                    // Every fifth story is also carried by the next feed or two.
                    let story = if n % 5 == 0 && fi > 0 {
                        n - 5 * (fi % 3)
                    } else {
                        n
                    };
                    let at =
                        chrono::DateTime::from_timestamp(1_767_225_600 + (story as i64) * 3_000, 0)
                            .unwrap();
                    let mut e = new_entry(
                        &format!("{feed}-{n}"),
                        &format!("Story {story} about {}", words[story % 6]),
                        &format!(
                            "Text of story {story}: {} and {}",
                            words[(story / 6) % 6],
                            words[story % 4]
                        ),
                        &crate::model::rfc3339(at),
                    );
                    e.link = Some(format!("https://news.example/{story}"));
                    batch.push(e);
                }
                s.store_fetch(
                    feed,
                    &fetched(&format!("2026-01-{:02}T12:00:00Z", 10 + fetch)),
                    &batch,
                    &DedupSettings::default(),
                )
                .unwrap();
            }
        }
        s
    }

    /// Every page of a selection, read with `page` (which gets the position), as entry ids.
    fn paged(limit: usize, mut page: impl FnMut(Option<Cursor>) -> Vec<StoredEntry>) -> Vec<i64> {
        let (mut all, mut before) = (Vec::new(), None);
        loop {
            let got = page(before);
            all.extend(got.iter().map(|e| e.rowid));
            if got.len() < limit {
                return all;
            }
            before = got.last().map(Cursor::after);
        }
    }

    /// `stories` (which the merged feed also reads, through `Store::entries`) is checked
    /// against a plain SQL reference in `entries.rs`; here every search strategy it may pick
    /// must list exactly what it lists, page by page.
    #[test]
    fn every_search_strategy_lists_what_stories_lists() {
        let s = archive();
        let many: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        type Selection<'a> = (Option<Vec<String>>, Option<&'a str>, Option<&'a str>);
        let selections: Vec<Selection<'_>> = vec![
            (None, None, None),
            (Some(vec!["f2".into()]), None, None),
            (
                Some(vec!["f1".into(), "f4".into(), "f5".into()]),
                None,
                None,
            ),
            (Some(many), None, None),
            (None, Some("harbour"), None),
            (None, Some("баку"), None),
            (None, Some("story text"), None),
            (None, Some("ferry story"), None),
            (Some(vec!["f0".into(), "f3".into()]), Some("ferry"), None),
            (None, None, Some("2026-01-03T00:00:00Z")),
            (None, Some("pipeline"), Some("2026-01-02T00:00:00Z")),
        ];
        for (feeds, query, since) in selections {
            let since = since.map(|t| t.parse().unwrap());
            let until =
                since.map(|t: chrono::DateTime<chrono::Utc>| t + chrono::TimeDelta::days(2));
            for limit in [7, 50] {
                let q = |before| EntryFilter {
                    feed_ids: feeds.clone(),
                    since,
                    until,
                    query: query.map(str::to_string),
                    before,
                    limit,
                };
                let expected = paged(limit, |before| s.stories(&q(before)).unwrap());
                assert!(
                    !expected.is_empty(),
                    "{feeds:?} {query:?} selects something"
                );
                if let Some(text) = query {
                    // Every way a search can go agrees: the walk checking text, and FTS5's
                    // hits read as rows or looked up along the time index.
                    let expr = fts_expression(text).unwrap();
                    type Way<'a> = Box<dyn Fn(&EntryFilter) -> Vec<i64> + 'a>;
                    let seed = expr.split(' ').next_back().unwrap_or_default().to_string();
                    let ways: [(&str, Way<'_>); 5] = [
                        (
                            "text walk",
                            Box::new(|q| s.walk_checking_text(q, &expr, None).unwrap().unwrap()),
                        ),
                        (
                            "hits walk",
                            Box::new(|q| s.stories_among_hits(q, &expr, &expr, 1).unwrap()),
                        ),
                        (
                            "hit rows",
                            Box::new(|q| {
                                s.stories_among_hits(q, &expr, &expr, usize::MAX).unwrap()
                            }),
                        ),
                        (
                            "one word's hits walk",
                            Box::new(|q| s.stories_among_hits(q, &seed, &expr, 1).unwrap()),
                        ),
                        (
                            "one word's hit rows",
                            Box::new(|q| {
                                s.stories_among_hits(q, &seed, &expr, usize::MAX).unwrap()
                            }),
                        ),
                    ];
                    for (way, ids) in ways {
                        let got = paged(limit, |before| s.load_stories(&ids(&q(before))).unwrap());
                        assert_eq!(got, expected, "{feeds:?} {query:?} {way} by {limit}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_story_lists_its_other_outlets_once_with_the_newest_change() {
        let s = archive();
        let page = s
            .stories(&EntryFilter {
                limit: 500,
                ..Default::default()
            })
            .unwrap();
        assert!(page.iter().any(|e| e.related.len() == 2));
        // Read straight from the tables: the other members of the entry's cluster, and the
        // newest `updated` among all its members.
        let mut members = s
            .conn
            .prepare(
                "SELECT o.id, o.feed_id, o.updated FROM entries e JOIN entries o
                 ON o.cluster_id = e.cluster_id WHERE e.id = ?1",
            )
            .unwrap();
        for e in &page {
            let rows: Vec<(i64, String, String)> = members
                .query_map([e.rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let mut want: Vec<i64> = rows
                .iter()
                .map(|r| r.0)
                .filter(|&id| id != e.rowid)
                .collect();
            let mut got: Vec<i64> = e.related.iter().map(|r| r.entry_id).collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "entry {}", e.rowid);
            let mut outlets: Vec<&str> = e.related.iter().map(|r| r.feed_id.as_str()).collect();
            outlets.push(&e.feed_id);
            outlets.sort_unstable();
            outlets.dedup();
            assert_eq!(outlets.len(), e.related.len() + 1, "one line per outlet");
            let newest = rows
                .iter()
                .map(|r| parse_time(&r.2, "entries.updated").unwrap())
                .max()
                .unwrap();
            assert_eq!(e.updated, newest, "entry {}", e.rowid);
            for r in &e.related {
                assert_eq!(
                    r.feed_title,
                    s.feed(&r.feed_id)
                        .unwrap()
                        .unwrap()
                        .title
                        .unwrap_or_default()
                );
            }
        }
    }

    #[test]
    fn a_text_walk_gives_up_after_its_budget_and_the_search_still_finds_every_story() {
        let s = archive();
        // "Text of story 7: …": every entry's excerpt; "story 7" only a few.
        let common = fts_expression("text").unwrap();
        let rare = fts_expression("pipeline corridor").unwrap();
        let q = EntryFilter {
            limit: 5,
            ..Default::default()
        };
        let budget = |probe_hits, rows| Some(WalkBudget { probe_hits, rows });
        assert_eq!(
            s.walk_checking_text(&q, &common, budget(FIRST_CHUNK, 10))
                .unwrap()
                .map(|v| v.len()),
            Some(5),
            "a word in every row fills the page at once"
        );
        assert_eq!(
            s.walk_checking_text(&q, &rare, budget(0, 10)).unwrap(),
            None
        );
        assert_eq!(
            s.walk_checking_text(&q, &rare, budget(FIRST_CHUNK, 10_000))
                .unwrap(),
            None,
            "too few hits among the first rows"
        );
        let all = EntryFilter {
            limit: 500,
            query: Some("pipeline corridor".into()),
            ..Default::default()
        };
        // Every strategy's listing is checked against plain SQL in `entries.rs`; here, that the
        // walk gives up rather than missing this rare pair.
        assert!(!s.stories(&all).unwrap().is_empty());
    }

    #[test]
    fn the_scratch_index_tokenizes_as_the_archive_index_does() {
        let s = Store::open_in_memory().unwrap();
        let sql: String = s
            .conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'entries_fts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            sql.contains(&format!("tokenize = '{FTS_TOKENIZER}'")),
            "entries_fts is declared as {sql}"
        );
    }

    #[test]
    fn marked_text_splits_into_runs_and_drops_stray_marks() {
        let h = Highlighted::from_marked("a \u{E000}b\u{E001} c\u{E001}");
        assert_eq!(
            h.runs,
            vec![
                ("a ".to_string(), false),
                ("b".to_string(), true),
                (" c".to_string(), false)
            ]
        );
    }
}
