-- Bounded compensation (contracts: fault slash capped by a multiple of the reward, bounded client compensation,
-- decline, dispute bond).
-- assignments.outcome gains `declined` (JobDeclined); assignments.dispute_bond is the bond the client escrowed
-- when it disputed that attempt (JobDisputed.bond), 0 when never disputed.
-- payments.kind gains `compensation` (a fault slash's share for the client, from SlashDistributed; `fee` holds the
-- share accrued to the treasury) and `dispute_bond` (a dispute bond released to the client or the worker).
ALTER TABLE assignments ADD COLUMN dispute_bond NUMERIC(78,0) NOT NULL DEFAULT 0;
