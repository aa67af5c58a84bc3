-- Hosts that answered 429 Too Many Requests, and until when none of their feeds is fetched.
-- Kept in the database so that a later run, `fetch --all` and `fetch --feed` keep to what the
-- server asked, and `status` can say why a feed is waiting.
CREATE TABLE host_holds (
    host   TEXT PRIMARY KEY,
    until  TEXT NOT NULL,
    reason TEXT NOT NULL
);
