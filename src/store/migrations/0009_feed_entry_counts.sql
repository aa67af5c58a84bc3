-- Each feed's number of stored entries, kept by triggers, so that `status`, `/api/feeds` and
-- the sources page do not count a million rows on every request.
ALTER TABLE feeds ADD COLUMN entry_count INTEGER NOT NULL DEFAULT 0;
UPDATE feeds SET entry_count = (SELECT count(*) FROM entries e WHERE e.feed_id = feeds.id);
CREATE TRIGGER entries_count_insert AFTER INSERT ON entries BEGIN
    UPDATE feeds SET entry_count = entry_count + 1 WHERE id = new.feed_id;
END;
CREATE TRIGGER entries_count_delete AFTER DELETE ON entries BEGIN
    UPDATE feeds SET entry_count = entry_count - 1 WHERE id = old.feed_id;
END;
