-- Accord index schema. Everything below `raw_events` is derived from it and can be rebuilt.
-- Conventions: every table carries chain_id; uint256 values are NUMERIC(78,0); block numbers, log indexes and
-- unix times are BIGINT; addresses, hashes and felts are lowercase 0x-hex TEXT (no EVM-only type).
-- Every derived row carries `stream`, the entity whose events produced it (job:<id>, worker:<address>,
-- proposal:<id>, param:<contract>:<key>, role:<contract>:<role>:<account>, fees): a reorg deletes the rows of the
-- streams it touched and replays their remaining events.

-- ------------------------------------------------------------------ bookkeeping

CREATE TABLE indexer_cursor (
    chain_id     BIGINT PRIMARY KEY,
    block_number BIGINT NOT NULL,   -- last block whose events are all applied
    block_hash   TEXT   NOT NULL
);

-- Hashes of recently indexed blocks (the reorg window), for fork-point search.
CREATE TABLE indexed_blocks (
    chain_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    hash        TEXT   NOT NULL,
    parent_hash TEXT   NOT NULL,
    PRIMARY KEY (chain_id, number)
);

-- ------------------------------------------------------------------ raw log

CREATE TABLE raw_events (
    chain_id        BIGINT NOT NULL,
    block_number    BIGINT NOT NULL,
    block_hash      TEXT   NOT NULL,
    log_index       BIGINT NOT NULL,
    tx_hash         TEXT   NOT NULL,
    contract        TEXT   NOT NULL,   -- AccordToken, WorkerRegistry, JobManager, AccordGovernor, TimelockController
    address         TEXT   NOT NULL,
    event           TEXT   NOT NULL,   -- event name, e.g. JobPosted
    stream          TEXT   NOT NULL,
    args            JSON   NOT NULL,   -- decoded arguments by name; integers as decimal strings (json: stored as written, no re-encoding on the hot path)
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE UNIQUE INDEX raw_events_position ON raw_events (chain_id, block_number, log_index);
CREATE INDEX raw_events_stream ON raw_events (chain_id, stream, block_number, log_index);

-- ------------------------------------------------------------------ derived

CREATE TABLE jobs (
    chain_id              BIGINT        NOT NULL,
    job_id                NUMERIC(78,0) NOT NULL,
    stream                TEXT          NOT NULL,
    client                TEXT          NOT NULL,
    spec_hash             TEXT          NOT NULL,
    spec_uri              TEXT          NOT NULL,
    required_capabilities INTEGER       NOT NULL,
    reward                NUMERIC(78,0) NOT NULL,
    deadline              BIGINT        NOT NULL,
    max_attempts          INTEGER       NOT NULL,
    attempts_left         INTEGER       NOT NULL,
    status                TEXT          NOT NULL,  -- open, assigned, submitted, disputed, paid, cancelled, refunded
    worker                TEXT,
    due                   BIGINT,
    posted_block          BIGINT        NOT NULL,
    updated_block         BIGINT        NOT NULL,
    PRIMARY KEY (chain_id, job_id)
);
CREATE INDEX jobs_status ON jobs (chain_id, status, job_id);
CREATE INDEX jobs_client ON jobs (chain_id, client, job_id);
-- Client and status together (a busy client's rare status would otherwise filter thousands of rows).
CREATE INDEX jobs_client_status ON jobs (chain_id, client, status, job_id);
CREATE INDEX jobs_worker ON jobs (chain_id, worker, job_id);
CREATE INDEX jobs_stream ON jobs (chain_id, stream);

CREATE TABLE assignments (
    chain_id      BIGINT        NOT NULL,
    job_id        NUMERIC(78,0) NOT NULL,
    attempt       INTEGER       NOT NULL,  -- 1-based
    stream        TEXT          NOT NULL,
    worker        TEXT          NOT NULL,
    due           BIGINT        NOT NULL,
    outcome       TEXT          NOT NULL,  -- active, submitted, disputed, paid, expired, refunded
    slashed       NUMERIC(78,0) NOT NULL DEFAULT 0,
    assigned_block BIGINT       NOT NULL,
    PRIMARY KEY (chain_id, job_id, attempt)
);
CREATE INDEX assignments_worker ON assignments (chain_id, worker, outcome);
CREATE INDEX assignments_stream ON assignments (chain_id, stream);

CREATE TABLE results (
    chain_id          BIGINT        NOT NULL,
    job_id            NUMERIC(78,0) NOT NULL,
    attempt           INTEGER       NOT NULL,
    stream            TEXT          NOT NULL,
    worker            TEXT          NOT NULL,
    da_kind           INTEGER       NOT NULL,
    commitment        TEXT          NOT NULL,
    size              NUMERIC(78,0) NOT NULL,
    locator           TEXT          NOT NULL,
    challenge_ends_at BIGINT        NOT NULL,
    block_number      BIGINT        NOT NULL,
    tx_hash           TEXT          NOT NULL,
    PRIMARY KEY (chain_id, job_id, attempt)
);
CREATE INDEX results_stream ON results (chain_id, stream);

-- Money leaving escrow: rewards to workers, refunds to clients, fee sweeps to the treasury.
CREATE TABLE payments (
    chain_id     BIGINT        NOT NULL,
    block_number BIGINT        NOT NULL,
    log_index    BIGINT        NOT NULL,
    stream       TEXT          NOT NULL,
    kind         TEXT          NOT NULL,  -- reward, refund, fee_sweep
    job_id       NUMERIC(78,0),
    recipient    TEXT          NOT NULL,
    amount       NUMERIC(78,0) NOT NULL,
    fee          NUMERIC(78,0) NOT NULL DEFAULT 0,
    tx_hash      TEXT          NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX payments_kind ON payments (chain_id, kind, block_number, log_index);
CREATE INDEX payments_job ON payments (chain_id, job_id);
CREATE INDEX payments_recipient ON payments (chain_id, recipient);
CREATE INDEX payments_stream ON payments (chain_id, stream);

CREATE TABLE workers (
    chain_id         BIGINT        NOT NULL,
    address          TEXT          NOT NULL,
    stream           TEXT          NOT NULL,
    capabilities     INTEGER       NOT NULL,
    metadata_uri     TEXT          NOT NULL,
    stake            NUMERIC(78,0) NOT NULL DEFAULT 0,
    pending          NUMERIC(78,0) NOT NULL DEFAULT 0,
    unlock_at        BIGINT        NOT NULL DEFAULT 0,
    jailed           BOOLEAN       NOT NULL DEFAULT FALSE,
    slashed_total    NUMERIC(78,0) NOT NULL DEFAULT 0,
    registered_block BIGINT        NOT NULL,
    updated_block    BIGINT        NOT NULL,
    PRIMARY KEY (chain_id, address)
);
CREATE INDEX workers_stream ON workers (chain_id, stream);

CREATE TABLE slashes (
    chain_id     BIGINT        NOT NULL,
    block_number BIGINT        NOT NULL,
    log_index    BIGINT        NOT NULL,
    stream       TEXT          NOT NULL,
    worker       TEXT          NOT NULL,
    job_id       NUMERIC(78,0),           -- NULL for a slash outside a job
    recipient    TEXT          NOT NULL,
    amount       NUMERIC(78,0) NOT NULL,
    from_stake   NUMERIC(78,0) NOT NULL,
    from_pending NUMERIC(78,0) NOT NULL,
    tx_hash      TEXT          NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX slashes_worker ON slashes (chain_id, worker);
CREATE INDEX slashes_job ON slashes (chain_id, job_id);
CREATE INDEX slashes_stream ON slashes (chain_id, stream);

CREATE TABLE proposals (
    chain_id      BIGINT        NOT NULL,
    proposal_id   NUMERIC(78,0) NOT NULL,
    stream        TEXT          NOT NULL,
    proposer      TEXT          NOT NULL,
    description   TEXT          NOT NULL,
    targets       TEXT[]        NOT NULL,
    calldatas     TEXT[]        NOT NULL,
    vote_start    BIGINT        NOT NULL,  -- governor clock (block number)
    vote_end      BIGINT        NOT NULL,
    for_votes     NUMERIC(78,0) NOT NULL DEFAULT 0,
    against_votes NUMERIC(78,0) NOT NULL DEFAULT 0,
    abstain_votes NUMERIC(78,0) NOT NULL DEFAULT 0,
    queued_eta    BIGINT,
    executed      BOOLEAN       NOT NULL DEFAULT FALSE,
    canceled      BOOLEAN       NOT NULL DEFAULT FALSE,
    created_block BIGINT        NOT NULL,
    PRIMARY KEY (chain_id, proposal_id)
);
CREATE INDEX proposals_stream ON proposals (chain_id, stream);

CREATE TABLE votes (
    chain_id     BIGINT        NOT NULL,
    proposal_id  NUMERIC(78,0) NOT NULL,
    voter        TEXT          NOT NULL,
    stream       TEXT          NOT NULL,
    support      INTEGER       NOT NULL,  -- 0 against, 1 for, 2 abstain
    weight       NUMERIC(78,0) NOT NULL,
    reason       TEXT          NOT NULL,
    block_number BIGINT        NOT NULL,
    PRIMARY KEY (chain_id, proposal_id, voter)
);
CREATE INDEX votes_stream ON votes (chain_id, stream);

-- Current value of every governed parameter (ParameterUpdated), the governor's quorum numerator and the
-- token supply.
CREATE TABLE params (
    chain_id     BIGINT        NOT NULL,
    contract     TEXT          NOT NULL,
    key          TEXT          NOT NULL,
    stream       TEXT          NOT NULL,
    value        NUMERIC(78,0) NOT NULL,
    block_number BIGINT        NOT NULL,
    PRIMARY KEY (chain_id, contract, key)
);
CREATE INDEX params_stream ON params (chain_id, stream);

-- Current role holders (AccessControl RoleGranted / RoleRevoked).
CREATE TABLE roles (
    chain_id     BIGINT NOT NULL,
    contract     TEXT   NOT NULL,
    role         TEXT   NOT NULL,
    account      TEXT   NOT NULL,
    stream       TEXT   NOT NULL,
    block_number BIGINT NOT NULL,
    PRIMARY KEY (chain_id, contract, role, account)
);
CREATE INDEX roles_stream ON roles (chain_id, stream);
