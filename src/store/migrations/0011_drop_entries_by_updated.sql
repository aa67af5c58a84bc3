-- No query reads entries by their `updated` time any more: the time readers' view last changed
-- is `store_version.changed_at` (migration 0006). The index only cost every insert and update.
DROP INDEX IF EXISTS entries_by_updated;
