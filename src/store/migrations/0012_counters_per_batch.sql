-- A stored batch moves the change counter and its feed's entry count once, by the number of
-- entries it inserted (`store::entries::write_batch` and `write_group`), instead of one trigger
-- run per inserted row. Besides the two UPDATEs a row, the triggers made every entry insert a
-- statement that writes more than one table, for which SQLite keeps a statement journal.
-- Updates and deletes of entries keep their triggers: they are rare and touch few rows.
DROP TRIGGER version_on_insert;
DROP TRIGGER entries_count_insert;
