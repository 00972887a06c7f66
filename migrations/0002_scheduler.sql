-- Coordinator state that is not derived from chain events (and so not part of the rebuild digest).

-- The latest EIP-712 heartbeat of each worker: alive while `signed_at` is within the scheduler's TTL.
CREATE TABLE heartbeats (
    chain_id    BIGINT      NOT NULL,
    worker      TEXT        NOT NULL,
    capacity    INTEGER     NOT NULL,  -- jobs the worker takes at once
    signed_at   BIGINT      NOT NULL,  -- unix seconds, from the signed message
    signature   TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, worker)
);

-- What the scheduler decided to send: an assignment, an expiry or a finalization of one job attempt.
-- A live intent (pending or done) is unique per job, attempt and kind, so no replica and no retry sends the same
-- assignment twice; a refused, abandoned or orphaned intent no longer blocks a new decision.
CREATE TABLE scheduler_intents (
    id           BIGSERIAL   PRIMARY KEY,
    chain_id     BIGINT        NOT NULL,
    kind         TEXT          NOT NULL,  -- assign, expire, finalize
    job_id       NUMERIC(78,0) NOT NULL,
    attempt      INTEGER       NOT NULL,  -- 1-based attempt the action belongs to
    worker       TEXT,                    -- assign only
    state        TEXT          NOT NULL,  -- pending, done, refused, abandoned, orphaned
    reason       TEXT,                    -- why refused (the contract's error), abandoned or orphaned
    tx_hash      TEXT,
    block_number BIGINT,                  -- block of the receipt, once mined
    created_at   TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ   NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX scheduler_intents_live ON scheduler_intents (chain_id, kind, job_id, attempt)
    WHERE state IN ('pending', 'done');
CREATE INDEX scheduler_intents_state ON scheduler_intents (chain_id, state, updated_at);
CREATE INDEX scheduler_intents_worker ON scheduler_intents (chain_id, worker) WHERE state IN ('pending', 'done');
