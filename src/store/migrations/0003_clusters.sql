-- Clusters: the same story carried by several feeds. The primary is the first seen member;
-- nothing is deleted when entries join.
CREATE TABLE clusters (
    id            INTEGER PRIMARY KEY,
    primary_entry INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
ALTER TABLE entries ADD COLUMN cluster_id INTEGER REFERENCES clusters(id);
-- Plain-text opening of the entry (summary, else content), for comparison and excerpts.
ALTER TABLE entries ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';
CREATE INDEX entries_by_cluster ON entries (cluster_id, first_seen);

-- Title tokens of recent entries: the candidate index for near-duplicates. `at` is the entry's
-- time (published, else first seen) compared against the window; `seen` is when Tributary
-- stored it. Only entries stored within twice the window are kept here, so the index does not
-- grow with the archive.
CREATE TABLE dedup_tokens (
    token    TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    feed_id  TEXT NOT NULL,
        at       TEXT NOT NULL,
    seen     TEXT NOT NULL,
    PRIMARY KEY (token, entry_id)
) WITHOUT ROWID;
CREATE INDEX dedup_tokens_by_seen ON dedup_tokens (seen);

-- An admin's decision that an entry does not belong with its cluster; it stays on its own.
CREATE TABLE cluster_splits (
    entry_id     INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    from_cluster INTEGER NOT NULL,
    split_at     TEXT NOT NULL
);

-- Entries stored before clustering existed each form their own cluster.
INSERT INTO clusters (primary_entry, created_at) SELECT id, first_seen FROM entries ORDER BY id;
UPDATE entries SET cluster_id = (SELECT c.id FROM clusters c WHERE c.primary_entry = entries.id);
