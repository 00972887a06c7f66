-- Redundant jobs: a job may run on several independent replicas that commit, then reveal, and agree by a
-- threshold. A replica is a row of `assignments` numbered from 1 like an attempt (a redundant job has one attempt),
-- and each reveal a row of `results` under the replica's number.
ALTER TABLE jobs
    ADD COLUMN redundancy INTEGER NOT NULL DEFAULT 1,  -- replicas (1: a single worker)
    ADD COLUMN threshold  INTEGER NOT NULL DEFAULT 1,  -- agreeing reveals needed
    ADD COLUMN consensus  TEXT;                        -- the agreed commitment, once reached
-- Replica outcomes add committed, revealed, agreed, no_commit, no_reveal, dissented, dispute_lost.
ALTER TABLE assignments
    ADD COLUMN sealed_result TEXT,  -- a replica's commit
    ADD COLUMN commitment    TEXT;  -- a replica's revealed commitment
