-- The near-duplicate index becomes one row per recently stored entry instead of one row per
-- title token: Tributary keeps the token postings in memory (src/dedup/index.rs) and loads
-- them from here, so storing an entry writes one row, and choosing its candidates no longer
-- reads the posting list of every token in SQL. `at` (the entry's time, compared with the
-- window) and `seen` (when it was stored, what trimming goes by) are Unix seconds; `tokens`
-- are the title's distinct tokens, space-separated.
CREATE TABLE dedup_index (
    entry_id INTEGER PRIMARY KEY,
    feed_id  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    seen     INTEGER NOT NULL,
    tokens   TEXT
);
CREATE INDEX dedup_index_by_seen ON dedup_index (seen);
-- Entries indexed before: their tokens are left NULL here and computed from their titles
-- when the index is first loaded (the tokenizer is Tributary's, not SQL's).
INSERT INTO dedup_index (entry_id, feed_id, at, seen)
    SELECT entry_id, feed_id, CAST(strftime('%s', max(at)) AS INTEGER), CAST(strftime('%s', max(seen)) AS INTEGER)
    FROM dedup_tokens GROUP BY entry_id, feed_id;
DROP TABLE dedup_tokens;
