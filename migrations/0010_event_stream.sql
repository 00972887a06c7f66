-- The event stream's outbox (src/stream/): what the publisher to NATS JetStream reads after the indexer commits.
-- Indexed events are read from `raw_events` in chain order; rollbacks are recorded here, in the transaction that
-- rolls the index back, so the publisher announces each one before the events that replace what it removed.

-- Every rollback of the index: a reorg's (above `fork_block`) or a repair's (everything above the deploy block).
CREATE TABLE index_rollbacks (
    id             BIGSERIAL   PRIMARY KEY,
    chain_id       BIGINT      NOT NULL,
    fork_block     BIGINT      NOT NULL,   -- the last block still valid
    block_hash     TEXT,                   -- its hash as indexed now, when known
    removed_events BIGINT      NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX index_rollbacks_chain ON index_rollbacks (chain_id, id);

-- The rollback most recent when the event was indexed (0: none). An event that comes back after a rollback (the
-- chain returned to the same block) is indexed again under a new generation, so its stream message id differs from
-- the withdrawn one's and de-duplication cannot swallow it.
ALTER TABLE raw_events ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

-- How far the publisher has got on each chain: every event up to (block_number, log_index) and every rollback up
-- to rollback_id is acknowledged by the stream.
CREATE TABLE stream_cursor (
    chain_id     BIGINT      PRIMARY KEY,
    block_number BIGINT      NOT NULL,
    log_index    BIGINT      NOT NULL,
    rollback_id  BIGINT      NOT NULL,
    published    BIGINT      NOT NULL DEFAULT 0,  -- messages acknowledged so far (events, rollbacks, dead letters)
    dead_letters BIGINT      NOT NULL DEFAULT 0,  -- of which sent to the dead-letter subject
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
