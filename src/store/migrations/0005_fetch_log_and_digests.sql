-- One row per fetch attempt, so a day's digest can say which feeds were failing that day.
CREATE TABLE fetch_log (
    feed_id TEXT NOT NULL,
    at      TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    error   TEXT
);
CREATE INDEX fetch_log_by_time ON fetch_log (at, feed_id);

-- Digest deliveries by mail: what was sent, what is being retried, and why.
CREATE TABLE digest_deliveries (
    date         TEXT PRIMARY KEY,
    built_at     TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    next_attempt TEXT
);
