-- The DA consistency report (`GET /v1/da/report`, `accord da report`): the last check of every result committed on
-- chain. A background pass checks results not checked yet (or whose reference changed) and re-checks the oldest
-- checks, so a request only reads this table. Off-chain state, like the rest of the DA tables: not derived from
-- events; a row whose result a reorg removed is simply not joined any more.
CREATE TABLE da_checks (
    chain_id      BIGINT        NOT NULL,
    job_id        NUMERIC(78,0) NOT NULL,
    attempt       INTEGER       NOT NULL,   -- the result's attempt (a redundant job's replica)
    kind          INTEGER       NOT NULL,   -- the result's DA kind, as checked
    commitment    TEXT          NOT NULL,   -- the result's commitment, as checked
    archive       TEXT          NOT NULL,   -- verified | missing | mismatch
    layer         TEXT          NOT NULL,   -- verified | missing | mismatch | unreachable | not_configured
    state         TEXT          NOT NULL,   -- available | archive_only | layer_only | unreachable | missing
    detail        TEXT,                     -- why the layer or the archive did not verify
    checked_at    TIMESTAMPTZ   NOT NULL DEFAULT now(),
    missing_since TIMESTAMPTZ,              -- the first check since it was last available that found it not
    PRIMARY KEY (chain_id, job_id, attempt)
);
CREATE INDEX da_checks_checked_at ON da_checks (checked_at);
-- The report lists the results not available in full; most are.
CREATE INDEX da_checks_problems ON da_checks (chain_id, state) WHERE state <> 'available';
