-- When readers' view last changed (Last-Modified), kept beside the change counter so a
-- revalidation never scans the entries; and an index for the newest entry update.
ALTER TABLE store_version ADD COLUMN changed_at TEXT;
UPDATE store_version SET changed_at = (SELECT max(updated) FROM entries);
CREATE INDEX entries_by_updated ON entries (updated);
DROP TRIGGER version_on_insert;
DROP TRIGGER version_on_update;
DROP TRIGGER version_on_delete;
DROP TRIGGER version_on_feed_title;
CREATE TRIGGER version_on_insert AFTER INSERT ON entries BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
CREATE TRIGGER version_on_update AFTER UPDATE ON entries BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
CREATE TRIGGER version_on_delete AFTER DELETE ON entries BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
CREATE TRIGGER version_on_feed_title AFTER UPDATE OF title, site_link ON feeds
WHEN old.title IS NOT new.title OR old.site_link IS NOT new.site_link BEGIN
    UPDATE store_version SET version = version + 1, changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;
