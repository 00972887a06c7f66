-- The scheduler keeps the fleet's workers in memory and, each round, reads only the rows the index changed since
-- the last block it saw: `WHERE chain_id = $1 AND updated_block >= $2`. Without this index that is a scan of
-- every worker, several times a second.
CREATE INDEX workers_updated ON workers (chain_id, updated_block);
