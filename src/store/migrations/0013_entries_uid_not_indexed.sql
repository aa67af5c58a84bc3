-- The entries table without a UNIQUE constraint on `uid`. An entry's Atom id is derived from
-- its feed and key (`dedup::entry_uid`), so `UNIQUE (feed_id, entry_key)` already keeps it
-- unique; the constraint only kept a second index whose keys are hashes, so every stored entry
-- wrote to a random leaf of it (several hundred pages per commit in a cold fetch). Nothing
-- looks entries up by `uid` but `cluster split`, an admin's rare command.
--
-- SQLite cannot drop a constraint, so the table is rebuilt as its documentation describes:
-- copy, drop, rename, then the indexes and triggers again. Rows keep their ids, so the
-- full-text index (whose rows are entry ids), clusters, splits and the near-duplicate index
-- stay valid as they are. The migration runner turns foreign keys off around migrations and
-- checks them before each commits.
CREATE TABLE entries_rebuilt (
    id            INTEGER PRIMARY KEY,
    feed_id       TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    entry_key     TEXT NOT NULL,
    uid           TEXT NOT NULL,
    guid          TEXT,
    link          TEXT,
    canonical_url TEXT,
    title         TEXT NOT NULL,
    summary       TEXT,
    content       TEXT,
    authors       TEXT NOT NULL DEFAULT '[]',
    published     TEXT,
    updated       TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    sort_time     TEXT NOT NULL,
    revision      TEXT NOT NULL,
    cluster_id    INTEGER REFERENCES clusters(id),
    excerpt       TEXT NOT NULL DEFAULT '',
    UNIQUE (feed_id, entry_key)
);
INSERT INTO entries_rebuilt (id, feed_id, entry_key, uid, guid, link, canonical_url, title,
        summary, content, authors, published, updated, first_seen, sort_time, revision,
        cluster_id, excerpt)
    SELECT id, feed_id, entry_key, uid, guid, link, canonical_url, title,
        summary, content, authors, published, updated, first_seen, sort_time, revision,
        cluster_id, excerpt
    FROM entries ORDER BY id;
DROP TABLE entries;
ALTER TABLE entries_rebuilt RENAME TO entries;

CREATE INDEX entries_by_time ON entries (sort_time DESC, id DESC);
CREATE INDEX entries_by_feed_time ON entries (feed_id, sort_time DESC);
CREATE INDEX entries_by_canonical ON entries (canonical_url);
CREATE INDEX entries_by_cluster ON entries (cluster_id, first_seen);

CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, excerpt) VALUES ('delete', old.id, old.title, old.excerpt);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, excerpt ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, excerpt) VALUES ('delete', old.id, old.title, old.excerpt);
    INSERT INTO entries_fts (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt);
END;
CREATE TRIGGER version_on_update AFTER UPDATE ON entries BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
CREATE TRIGGER version_on_delete AFTER DELETE ON entries BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
CREATE TRIGGER entries_count_delete AFTER DELETE ON entries BEGIN
    UPDATE feeds SET entry_count = entry_count - 1 WHERE id = old.feed_id;
END;
