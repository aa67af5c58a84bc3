-- New entries reach the full-text index once per stored batch (`Store::store_prepared` inserts
-- the batch's rows with one statement) instead of through a trigger on every row: FTS5 writes
-- its pending terms out at every statement savepoint, so a trigger made one index segment per
-- entry, to be merged again later. Updates and deletes keep their triggers.
DROP TRIGGER entries_fts_insert;
