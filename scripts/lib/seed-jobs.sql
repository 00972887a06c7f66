-- Synthetic index for the API load benchmark: 1,000,000 jobs (and their assignments, results, payments, the
-- workers and the indexer cursor) for one chain, on the schema of migrations/0001_init.sql, each table filled by
-- one INSERT … SELECT over generate_series. Deterministic: the same variables give the same rows. No raw_events:
-- the API reads derived tables. ~25 s for 1M jobs and ~2.3M child rows on a 2-core machine.
--
-- Usage: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 [-v jobs=N] [-v chain_id=ID] -f scripts/lib/seed-jobs.sql
--        (defaults: jobs=1000000, chain_id=31337). Refuses a chain that already has jobs.
--
-- Shape (what the API's queries will meet):
--   status       open 10 %, assigned 8 %, submitted 6 %, disputed 1 %, paid 63 %, cancelled 5 %, refunded 7 %;
--                the newest 2 % of jobs are only open/assigned/submitted (a live head);
--                3 % of the jobs that reached a worker had an earlier attempt expire (attempt 2 in assignments).
--   clients      1,000, skewed to the top: client i = floor(1000·u²) (u uniform), so client 0 has 3.2 % of all
--                jobs (31.5k), the next ones 13k, 10k, …, the median one ~700 and the last ~500. Address i (0..999):
--                '0x' || left(md5('client:' || i) || md5('client-hi:' || i), 40)
--   workers      200, spread evenly. Address i (0..199): '0x' || left(md5('worker:' || i) || md5('worker-hi:' || i), 40)
--   rewards      NUMERIC wei, 0.01 .. 1,000 tokens, most of them small (u³ skew); the fee is 2.5 %.
--   attempts     max_attempts 1 (15 %), 3 (81 %), 5 (4 %); capabilities 0..3.
--   blocks       4 jobs posted per block from block 1000 (12 s blocks from unix time 1,750,000,000); later events
--                some blocks after, per job. payments(block_number, log_index) is unique by construction.
--   addresses, hashes: lowercase 0x-hex, as the schema requires.
\set ON_ERROR_STOP on
\if :{?jobs}
\else
  \set jobs 1000000
\endif
\if :{?chain_id}
\else
  \set chain_id 31337
\endif
\timing on

BEGIN;
SET LOCAL synchronous_commit = off;
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';

SELECT set_config('seed.chain_id', :'chain_id', true);
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM jobs WHERE chain_id = current_setting('seed.chain_id')::bigint) THEN
    RAISE EXCEPTION 'seed-jobs: chain % already has jobs; delete its rows from jobs, assignments, results, payments and workers first',
      current_setting('seed.chain_id');
  END IF;
END $$;

-- Bulk load: drop the secondary indexes of the four big tables and rebuild them after the inserts (about 3x faster
-- than maintaining them row by row). Their definitions are read from the catalog, so they come back exactly as
-- the migrations made them; primary keys and unique indexes stay. All of it is one transaction: concurrent readers
-- wait for the commit (seed before starting the API), and a failure leaves the schema as it was.
CREATE TEMP TABLE seed_indexes ON COMMIT DROP AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i
WHERE i.indrelid IN ('jobs'::regclass, 'assignments'::regclass, 'results'::regclass, 'payments'::regclass)
  AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT name FROM seed_indexes LOOP
    EXECUTE 'DROP INDEX ' || r.name;
  END LOOP;
END $$;

-- random() drives status, client, reward, attempts; everything the child tables need is then derived from the
-- job row (job_id, status, max_attempts - attempts_left) and fixed per-id hashes, so they agree with it.
SELECT setseed(0.31337);

CREATE TEMP TABLE seed_clients ON COMMIT DROP AS
SELECT i, '0x' || left(md5('client:' || i) || md5('client-hi:' || i), 40) AS address FROM generate_series(0, 999) AS i;
CREATE TEMP TABLE seed_workers ON COMMIT DROP AS
SELECT i, '0x' || left(md5('worker:' || i) || md5('worker-hi:' || i), 40) AS address FROM generate_series(0, 199) AS i;
CREATE UNIQUE INDEX ON seed_clients (i);
CREATE UNIQUE INDEX ON seed_workers (i);
ANALYZE seed_clients;
ANALYZE seed_workers;

-- t(b) = 1750000000 + 12 * b. Per job n: posted block p = 1000 + (n-1)/4; attempt a is assigned at
-- p + 1 + (a-1)*301 (an expiry needs the 1-hour timeout, 300 blocks); the submission comes d2 = 5 + n*7 % 245
-- blocks after the last assignment; the settlement (accept, finalize, dispute, ruling, cancel) d3 = 1 + n*13 % 299
-- blocks after that.
\echo '-- step: jobs'
INSERT INTO jobs (chain_id, job_id, stream, client, spec_hash, spec_uri, required_capabilities, reward, deadline,
                  max_attempts, attempts_left, status, worker, due, posted_block, updated_block)
SELECT :chain_id, n, 'job:' || n,
       sc.address,
       '0x' || h1 || h2,
       'ipfs://bafkrei' || left(h2 || h1, 45),
       caps,
       reward,
       deadline,
       max_attempts,
       max_attempts - used,
       status,
       CASE WHEN used = 0 OR status = 'open' THEN NULL ELSE sw.address END,
       CASE
         WHEN status = 'assigned' THEN least(1750000000 + 12 * assign_b + 3600, deadline)
         WHEN status IN ('submitted', 'paid') THEN 1750000000 + 12 * submit_b + 3600
         WHEN status = 'disputed' THEN 1750000000 + 12 * settle_b + 86400
         WHEN status = 'refunded' AND used > 0 AND n % 2 = 0 THEN least(1750000000 + 12 * assign_b + 3600, deadline)
         WHEN status = 'refunded' AND used > 0 THEN 1750000000 + 12 * settle_b + 86400
       END,
       p,
       CASE
         WHEN status = 'open' AND used = 0 THEN p
         WHEN status = 'open' THEN p + 302                       -- reopened by an expiry
         WHEN status = 'assigned' THEN assign_b
         WHEN status = 'submitted' THEN submit_b
         WHEN status = 'cancelled' THEN p + d3
         WHEN status = 'refunded' AND used = 0 THEN p + (deadline - (1750000000 + 12 * p)) / 12 + 1
         WHEN status = 'refunded' AND n % 2 = 0 THEN assign_b + 301  -- last attempt expired
         ELSE settle_b                                          -- disputed, paid, refunded by a ruling
       END
FROM (
  SELECT *,
         p + 1 + (greatest(used, 1) - 1) * 301 AS assign_b,
         p + 1 + (greatest(used, 1) - 1) * 301 + d2 AS submit_b,
         p + 1 + (greatest(used, 1) - 1) * 301 + d2 + d3 AS settle_b,
         ((n * 2654435761 + used * 40503) % 4294967296) % 200 AS wi
  FROM (
    SELECT *,
           md5('spec:' || n) AS h1,
           md5('spec-hi:' || n) AS h2,
           CASE
             WHEN status IN ('assigned', 'submitted', 'disputed', 'paid')
               THEN CASE WHEN u_retry < 0.03 AND max_attempts > 1 THEN 2 ELSE 1 END
             WHEN status = 'open' THEN CASE WHEN u_retry < 0.03 AND max_attempts > 1 THEN 1 ELSE 0 END
             WHEN status = 'refunded' THEN CASE WHEN u_retry < 0.4 THEN 0 WHEN n % 2 = 0 THEN max_attempts ELSE 1 END
             ELSE 0
           END AS used
    FROM (
      SELECT n, u_retry, caps, reward, max_attempts, ci,
             1000 + (n - 1) / 4 AS p,
             5 + n * 7 % 245 AS d2,
             1 + n * 13 % 299 AS d3,
             1750000000 + 12 * (1000 + (n - 1) / 4) + 3600 * (6 + n % 163) AS deadline,
             CASE
               WHEN n > :jobs * 0.98 THEN
                 CASE WHEN u_status < 0.5 THEN 'open' WHEN u_status < 0.8 THEN 'assigned' ELSE 'submitted' END
               WHEN u_status < 0.10 THEN 'open'
               WHEN u_status < 0.18 THEN 'assigned'
               WHEN u_status < 0.24 THEN 'submitted'
               WHEN u_status < 0.25 THEN 'disputed'
               WHEN u_status < 0.88 THEN 'paid'
               WHEN u_status < 0.93 THEN 'cancelled'
               ELSE 'refunded'
             END AS status
      FROM (
        SELECT n::bigint AS n,
               random() AS u_status,
               random() AS u_retry,
               floor(random() * 4)::int AS caps,
               (round((0.01 + power(random(), 3) * 999.99)::numeric, 6) * 1000000000000000000)::numeric(78, 0)
                 AS reward,
               CASE WHEN random() < 0.15 THEN 1 WHEN random() < 0.95 THEN 3 ELSE 5 END AS max_attempts,
               least(floor(1000 * power(random(), 2))::int, 999) AS ci
        FROM generate_series(1, :jobs) AS n
      ) r OFFSET 0
    ) s OFFSET 0
  ) t OFFSET 0  -- OFFSET 0: each level is computed once per row, not inlined into every use
) u
JOIN seed_clients sc ON sc.i = u.ci
JOIN seed_workers sw ON sw.i = u.wi;

-- One row per attempt: earlier attempts expired (slashed); the last one mirrors the job's status.
\echo '-- step: assignments'
INSERT INTO assignments (chain_id, job_id, attempt, stream, worker, due, outcome, slashed, assigned_block)
SELECT j.chain_id, j.job_id, a, j.stream,
       sw.address,
       least(1750000000 + 12 * (j.posted_block + 1 + (a - 1) * 301) + 3600, j.deadline),
       CASE
         WHEN a < used OR j.status = 'open' THEN 'expired'
         WHEN j.status = 'assigned' THEN 'active'
         WHEN j.status IN ('submitted', 'disputed', 'paid') THEN j.status
         WHEN j.job_id % 2 = 0 THEN 'expired'
         ELSE 'refunded'
       END,
       CASE WHEN a < used OR j.status = 'open' OR (j.status = 'refunded' AND j.job_id % 2 = 0)
            THEN 100000000000000000000::numeric(78, 0) ELSE 0 END,
       j.posted_block + 1 + (a - 1) * 301
FROM (SELECT *, max_attempts - attempts_left AS used FROM jobs WHERE chain_id = :chain_id) j
CROSS JOIN LATERAL generate_series(1, j.used) AS a
JOIN seed_workers sw ON sw.i = ((j.job_id::bigint * 2654435761 + a * 40503) % 4294967296) % 200
WHERE j.used > 0;

-- The result of the last attempt of every job that got one.
\echo '-- step: results'
INSERT INTO results (chain_id, job_id, attempt, stream, worker, da_kind, commitment, size, locator,
                     challenge_ends_at, block_number, tx_hash)
SELECT j.chain_id, j.job_id, j.max_attempts - j.attempts_left, j.stream, j.worker, (j.job_id % 3)::int,
       '0x' || commitment,
       1024 + j.job_id * 37 % 1000000,
       'accord://blob/0x' || commitment,
       1750000000 + 12 * submit_b + 3600,
       submit_b,
       '0x' || md5('tx:' || j.job_id) || md5('tx-hi:' || j.job_id)
FROM (SELECT *,
             posted_block + 1 + (max_attempts - attempts_left - 1) * 301 + 5 + job_id::bigint * 7 % 245 AS submit_b,
             md5('commit:' || job_id) || md5('commit-hi:' || job_id) AS commitment
      FROM jobs
      WHERE chain_id = :chain_id
        AND (status IN ('submitted', 'disputed', 'paid')
             OR (status = 'refunded' AND worker IS NOT NULL AND job_id % 2 = 1))
      OFFSET 0) j;

-- Money out of escrow: rewards (less the 2.5 % fee), refunds and cancellations. log_index = (n-1) % 4 + 4 * (block
-- - posted block) makes (block_number, log_index) unique.
\echo '-- step: payments'
INSERT INTO payments (chain_id, block_number, log_index, stream, kind, job_id, recipient, amount, fee, tx_hash)
SELECT chain_id, updated_block, (job_id::bigint - 1) % 4 + 4 * (updated_block - posted_block), stream,
       CASE status WHEN 'paid' THEN 'reward' ELSE 'refund' END,
       job_id,
       CASE status WHEN 'paid' THEN worker ELSE client END,
       CASE status WHEN 'paid' THEN reward - div(reward * 250, 10000) ELSE reward END,
       CASE status WHEN 'paid' THEN div(reward * 250, 10000) ELSE 0 END,
       '0x' || md5('paytx:' || job_id) || md5('paytx-hi:' || job_id)
FROM jobs
WHERE chain_id = :chain_id AND status IN ('paid', 'refunded', 'cancelled');

\echo '-- step: workers'
INSERT INTO workers (chain_id, address, stream, capabilities, metadata_uri, stake, pending, unlock_at, jailed,
                     slashed_total, registered_block, updated_block)
SELECT :chain_id, address, 'worker:' || address, 7, 'https://worker-' || i || '.example/meta.json',
       (1000 + i * 50)::numeric * 1000000000000000000, 0, 0, i % 50 = 0, 0, 900 + i, 900 + i
FROM seed_workers;

\echo '-- step: indexer_cursor'
INSERT INTO indexer_cursor (chain_id, block_number, block_hash)
SELECT :chain_id, max(updated_block), '0x' || md5('block:' || max(updated_block)) || md5('block-hi:' || max(updated_block))
FROM jobs WHERE chain_id = :chain_id
ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash;

\echo '-- step: rebuild indexes'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT def FROM seed_indexes LOOP
    EXECUTE r.def;
  END LOOP;
END $$;

\echo '-- step: commit'
COMMIT;

-- Fresh statistics, so the API's first queries get the plans they will get in production.
\echo '-- step: analyze'
ANALYZE jobs, assignments, results, payments, workers;

SELECT status, count(*) AS jobs, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
FROM jobs WHERE chain_id = :chain_id GROUP BY status ORDER BY count(*) DESC;
SELECT (SELECT count(*) FROM jobs WHERE chain_id = :chain_id) AS jobs,
       (SELECT count(DISTINCT client) FROM jobs WHERE chain_id = :chain_id) AS clients,
       (SELECT count(DISTINCT worker) FROM jobs WHERE chain_id = :chain_id) AS workers_used,
       (SELECT count(*) FROM assignments WHERE chain_id = :chain_id) AS assignments,
       (SELECT count(*) FROM results WHERE chain_id = :chain_id) AS results,
       (SELECT count(*) FROM payments WHERE chain_id = :chain_id) AS payments;
