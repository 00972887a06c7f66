-- Secondary indexes set aside while a fresh index is bulk-loaded (src/store/bulk.rs). The indexer drops the
-- non-unique indexes of the raw log and the derived tables when it starts on an empty index with a backlog,
-- records their definitions here in the same transaction, and builds them again, each in one transaction with
-- the removal of its row, once the backfill has caught up. A row here means: that index is missing and will be
-- rebuilt before the indexer reports ready.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,   -- the index's name
    tab        TEXT NOT NULL,      -- the table it belongs to
    definition TEXT NOT NULL       -- pg_get_indexdef(): the statement that builds it again
);
