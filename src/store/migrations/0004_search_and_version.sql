-- Full-text search over titles and excerpts. unicode61 folds case for Cyrillic and Latin alike
-- and removes diacritics, so "баку" finds "Баку" and "azərbaycan" finds "Azerbaycan".
CREATE VIRTUAL TABLE entries_fts USING fts5(
    title, excerpt,
    content = 'entries', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO entries_fts (rowid, title, excerpt) SELECT id, title, excerpt FROM entries;
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt);
END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, excerpt) VALUES ('delete', old.id, old.title, old.excerpt);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, excerpt ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, excerpt) VALUES ('delete', old.id, old.title, old.excerpt);
    INSERT INTO entries_fts (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt);
END;

-- A counter bumped by every change to what readers see: the validator behind ETags.
CREATE TABLE store_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT INTO store_version (id, version) VALUES (1, 1);
CREATE TRIGGER version_on_insert AFTER INSERT ON entries BEGIN
    UPDATE store_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER version_on_update AFTER UPDATE ON entries BEGIN
    UPDATE store_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER version_on_delete AFTER DELETE ON entries BEGIN
    UPDATE store_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER version_on_feed_title AFTER UPDATE OF title, site_link ON feeds
WHEN old.title IS NOT new.title OR old.site_link IS NOT new.site_link BEGIN
    UPDATE store_version SET version = version + 1 WHERE id = 1;
END;
