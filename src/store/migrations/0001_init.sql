-- Feeds: one row per configured feed id; history follows the id, not the URL.
CREATE TABLE feeds (
    id                 TEXT PRIMARY KEY,
    url                TEXT NOT NULL,
    effective_url      TEXT,
    title              TEXT,
    site_link          TEXT,
    format             TEXT,
    etag               TEXT,
    last_modified      TEXT,
    last_fetch         TEXT,
    last_success       TEXT,
    last_error         TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_fetch         TEXT,
    state              TEXT NOT NULL DEFAULT 'new',
    warnings           TEXT NOT NULL DEFAULT '[]',
    keys_by_link       INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL
);

-- Entries: the key is unique within a feed; the database, not a loop, forbids duplicates.
CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    feed_id       TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    entry_key     TEXT NOT NULL,
    uid           TEXT NOT NULL UNIQUE,
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
    UNIQUE (feed_id, entry_key)
);
CREATE INDEX entries_by_time ON entries (sort_time DESC, id DESC);
CREATE INDEX entries_by_feed_time ON entries (feed_id, sort_time DESC);
CREATE INDEX entries_by_canonical ON entries (canonical_url);

-- Keys of entries removed by retention, so a feed that still carries them never brings them back.
CREATE TABLE tombstones (
    feed_id   TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;
