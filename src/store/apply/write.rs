//! Writing a batch's rows back: new jobs, attempts, results, payments and slashes by `COPY` (the bulk path, its
//! statement text built from the rows), rows stored before the batch by one `UPDATE … FROM UNNEST` per table,
//! the small tables by upsert. Everything in key order, so concurrent writers lock rows in the same order.

use alloy::primitives::U256;
use sqlx::PgConnection;

use super::rows::Projection;
use crate::store::Result;
use crate::store::copy::CopyIn;

/// A uint256 as decimal text, bound as text and cast to NUMERIC in SQL.
fn n(v: &U256) -> String {
    v.to_string()
}

impl Projection {
    /// Writes every row the batch changed.
    pub(super) async fn write(self, conn: &mut PgConnection, chain_id: i64) -> Result<()> {
        // New rows go in by COPY; rows stored before this batch are updated in place.
        let (stored, new): (Vec<_>, Vec<_>) = self
            .jobs
            .iter()
            .partition(|(id, _)| self.stored_jobs.contains(*id));
        if !new.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY jobs (chain_id, job_id, stream, client, spec_hash, spec_uri, required_capabilities, reward, \
                 deadline, max_attempts, attempts_left, status, worker, due, posted_block, updated_block, spec_uri_raw, \
                 redundancy, threshold, consensus) FROM STDIN",
            )
            .await?;
            for (id, r) in new {
                copy.plain(chain_id)
                    .plain(id)
                    .text(&r.stream)
                    .text(&r.client)
                    .text(&r.spec_hash)
                    .text(&r.spec_uri.text)
                    .plain(r.required_capabilities)
                    .plain(r.reward)
                    .plain(r.deadline)
                    .plain(r.max_attempts)
                    .plain(r.attempts_left)
                    .text(&r.status)
                    .opt_text(r.worker.as_deref())
                    .opt_plain(r.due)
                    .plain(r.posted_block)
                    .plain(r.updated_block)
                    .opt_bytes(r.spec_uri.raw.as_deref())
                    .plain(r.redundancy)
                    .plain(r.threshold)
                    .opt_text(r.consensus.as_deref());
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !stored.is_empty() {
            let ids: Vec<String> = stored.iter().map(|(id, _)| (*id).clone()).collect();
            let left: Vec<i32> = stored.iter().map(|(_, r)| r.attempts_left).collect();
            let status: Vec<String> = stored.iter().map(|(_, r)| r.status.clone()).collect();
            let workers: Vec<Option<String>> =
                stored.iter().map(|(_, r)| r.worker.clone()).collect();
            let due: Vec<Option<i64>> = stored.iter().map(|(_, r)| r.due).collect();
            let updated: Vec<i64> = stored.iter().map(|(_, r)| r.updated_block).collect();
            let redundancy: Vec<i32> = stored.iter().map(|(_, r)| r.redundancy).collect();
            let threshold: Vec<i32> = stored.iter().map(|(_, r)| r.threshold).collect();
            let consensus: Vec<Option<String>> =
                stored.iter().map(|(_, r)| r.consensus.clone()).collect();
            sqlx::query!(
                "UPDATE jobs j SET attempts_left = u.attempts_left, status = u.status, worker = u.worker, due = u.due, \
                 updated_block = u.updated_block, redundancy = u.redundancy, threshold = u.threshold, \
                 consensus = u.consensus \
                 FROM UNNEST($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::int[], \
                 $9::int[], $10::text[]) \
                 AS u(job_id, attempts_left, status, worker, due, updated_block, redundancy, threshold, consensus) \
                 WHERE j.chain_id = $1 AND j.job_id = u.job_id::numeric",
                chain_id,
                &ids,
                &left,
                &status,
                &workers as &[Option<String>],
                &due as &[Option<i64>],
                &updated,
                &redundancy,
                &threshold,
                &consensus as &[Option<String>]
            )
            .execute(&mut *conn)
            .await?;
        }
        let (stored, new): (Vec<_>, Vec<_>) = self
            .assignments
            .iter()
            .partition(|(key, _)| self.stored_assignments.contains(*key));
        if !new.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY assignments (chain_id, job_id, attempt, stream, worker, due, outcome, slashed, assigned_block, \
                 dispute_bond, sealed_result, commitment) FROM STDIN",
            )
            .await?;
            for ((id, attempt), r) in new {
                copy.plain(chain_id)
                    .plain(id)
                    .plain(attempt)
                    .text(&r.stream)
                    .text(&r.worker)
                    .plain(r.due)
                    .text(&r.outcome)
                    .plain(r.slashed)
                    .plain(r.assigned_block)
                    .plain(r.dispute_bond)
                    .opt_text(r.sealed_result.as_deref())
                    .opt_text(r.commitment.as_deref());
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !stored.is_empty() {
            let ids: Vec<String> = stored.iter().map(|((id, _), _)| id.clone()).collect();
            let attempts: Vec<i32> = stored.iter().map(|((_, attempt), _)| *attempt).collect();
            let outcomes: Vec<String> = stored.iter().map(|(_, r)| r.outcome.clone()).collect();
            let slashed: Vec<String> = stored.iter().map(|(_, r)| n(&r.slashed)).collect();
            let bonds: Vec<String> = stored.iter().map(|(_, r)| n(&r.dispute_bond)).collect();
            let sealed: Vec<Option<String>> = stored
                .iter()
                .map(|(_, r)| r.sealed_result.clone())
                .collect();
            let commitments: Vec<Option<String>> =
                stored.iter().map(|(_, r)| r.commitment.clone()).collect();
            sqlx::query!(
                "UPDATE assignments a SET outcome = u.outcome, slashed = u.slashed::numeric, \
                 dispute_bond = u.bond::numeric, sealed_result = u.sealed, commitment = u.commitment \
                 FROM UNNEST($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) \
                 AS u(job_id, attempt, outcome, slashed, bond, sealed, commitment) \
                 WHERE a.chain_id = $1 AND a.job_id = u.job_id::numeric AND a.attempt = u.attempt",
                chain_id,
                &ids,
                &attempts,
                &outcomes,
                &slashed,
                &bonds,
                &sealed as &[Option<String>],
                &commitments as &[Option<String>]
            )
            .execute(&mut *conn)
            .await?;
        }
        // Results, payments and slashes are only ever inserted, each by exactly one event: COPY. Should one
        // arrive twice anyway, its primary key refuses the batch loudly.
        if !self.results.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY results (chain_id, job_id, attempt, stream, worker, da_kind, commitment, size, locator, \
                 challenge_ends_at, block_number, tx_hash, locator_raw) FROM STDIN",
            )
            .await?;
            for ((id, attempt), r) in &self.results {
                copy.plain(chain_id)
                    .plain(id)
                    .plain(attempt)
                    .text(&r.stream)
                    .text(&r.worker)
                    .plain(r.da_kind)
                    .text(&r.commitment)
                    .plain(r.size)
                    .text(&r.locator.text)
                    .plain(r.challenge_ends_at)
                    .plain(r.block_number)
                    .text(&r.tx_hash)
                    .opt_bytes(r.locator.raw.as_deref());
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !self.payments.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY payments (chain_id, block_number, log_index, stream, kind, job_id, recipient, amount, fee, tx_hash) \
                 FROM STDIN",
            )
            .await?;
            for r in &self.payments {
                copy.plain(chain_id)
                    .plain(r.block_number)
                    .plain(r.log_index)
                    .text(&r.stream)
                    .text(r.kind)
                    .opt_plain(r.job_id.as_deref())
                    .text(&r.recipient)
                    .plain(r.amount)
                    .plain(r.fee)
                    .text(&r.tx_hash);
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !self.workers.is_empty() {
            let rows = self.workers.values();
            let addresses: Vec<String> = self.workers.keys().cloned().collect();
            let streams: Vec<String> = rows.clone().map(|r| r.stream.clone()).collect();
            let capabilities: Vec<i32> = rows.clone().map(|r| r.capabilities).collect();
            let uris: Vec<String> = rows.clone().map(|r| r.metadata_uri.text.clone()).collect();
            let stakes: Vec<String> = rows.clone().map(|r| n(&r.stake)).collect();
            let pending: Vec<String> = rows.clone().map(|r| n(&r.pending)).collect();
            let unlock_at: Vec<i64> = rows.clone().map(|r| r.unlock_at).collect();
            let jailed: Vec<bool> = rows.clone().map(|r| r.jailed).collect();
            let slashed: Vec<String> = rows.clone().map(|r| n(&r.slashed_total)).collect();
            let registered: Vec<i64> = rows.clone().map(|r| r.registered_block).collect();
            let updated: Vec<i64> = rows.clone().map(|r| r.updated_block).collect();
            let uris_raw: Vec<Option<String>> = rows
                .map(|r| r.metadata_uri.raw.as_deref().map(alloy::hex::encode))
                .collect();
            sqlx::query!(
                "INSERT INTO workers (chain_id, address, stream, capabilities, metadata_uri, stake, pending, unlock_at, jailed, \
                 slashed_total, registered_block, updated_block, metadata_uri_raw) \
                 SELECT $1, u.address, u.stream, u.caps, u.uri, u.stake::numeric, u.pending::numeric, u.unlock_at, u.jailed, \
                 u.slashed::numeric, u.registered, u.updated, decode(u.uri_raw, 'hex') \
                 FROM UNNEST($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bool[], \
                 $10::text[], $11::bigint[], $12::bigint[], $13::text[]) \
                 AS u(address, stream, caps, uri, stake, pending, unlock_at, jailed, slashed, registered, updated, uri_raw) \
                 ON CONFLICT (chain_id, address) DO UPDATE SET capabilities = EXCLUDED.capabilities, \
                 metadata_uri = EXCLUDED.metadata_uri, metadata_uri_raw = EXCLUDED.metadata_uri_raw, stake = EXCLUDED.stake, pending = EXCLUDED.pending, \
                 unlock_at = EXCLUDED.unlock_at, jailed = EXCLUDED.jailed, slashed_total = EXCLUDED.slashed_total, \
                 updated_block = EXCLUDED.updated_block",
                chain_id,
                &addresses,
                &streams,
                &capabilities,
                &uris,
                &stakes,
                &pending,
                &unlock_at,
                &jailed,
                &slashed,
                &registered,
                &updated,
                &uris_raw as &[Option<String>]
            )
            .execute(&mut *conn)
            .await?;
        }
        if !self.slashes.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY slashes (chain_id, block_number, log_index, stream, worker, job_id, recipient, amount, from_stake, \
                 from_pending, tx_hash) FROM STDIN",
            )
            .await?;
            for r in &self.slashes {
                copy.plain(chain_id)
                    .plain(r.block_number)
                    .plain(r.log_index)
                    .text(&r.stream)
                    .text(&r.worker)
                    .opt_plain(r.job_id.as_deref())
                    .text(&r.recipient)
                    .plain(r.amount)
                    .plain(r.from_stake)
                    .plain(r.from_pending)
                    .text(&r.tx_hash);
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        for (id, p) in &self.proposals {
            sqlx::query!(
                "INSERT INTO proposals (chain_id, proposal_id, stream, proposer, description, targets, calldatas, vote_start, \
                 vote_end, for_votes, against_votes, abstain_votes, queued_eta, executed, canceled, created_block, description_raw) \
                 VALUES ($1, $2::text::numeric, $3, $4, $5, $6, $7, $8, $9, $10::text::numeric, $11::text::numeric, \
                 $12::text::numeric, $13, $14, $15, $16, $17) \
                 ON CONFLICT (chain_id, proposal_id) DO UPDATE SET for_votes = EXCLUDED.for_votes, \
                 against_votes = EXCLUDED.against_votes, abstain_votes = EXCLUDED.abstain_votes, \
                 queued_eta = EXCLUDED.queued_eta, executed = EXCLUDED.executed, canceled = EXCLUDED.canceled",
                chain_id,
                id,
                p.stream,
                p.proposer,
                p.description.text,
                &p.targets,
                &p.calldatas,
                p.vote_start,
                p.vote_end,
                n(&p.for_votes),
                n(&p.against_votes),
                n(&p.abstain_votes),
                p.queued_eta,
                p.executed,
                p.canceled,
                p.created_block,
                p.description.raw.as_deref()
            )
            .execute(&mut *conn)
            .await?;
        }
        for ((id, voter), v) in &self.votes {
            sqlx::query!(
                "INSERT INTO votes (chain_id, proposal_id, voter, stream, support, weight, reason, block_number, reason_raw) \
                 VALUES ($1, $2::text::numeric, $3, $4, $5, $6::text::numeric, $7, $8, $9) \
                 ON CONFLICT (chain_id, proposal_id, voter) DO NOTHING",
                chain_id,
                id,
                voter,
                v.stream,
                v.support,
                n(&v.weight),
                v.reason.text,
                v.block_number,
                v.reason.raw.as_deref()
            )
            .execute(&mut *conn)
            .await?;
        }
        for ((contract, key), p) in &self.params {
            sqlx::query!(
                "INSERT INTO params (chain_id, contract, key, stream, value, block_number) \
                 VALUES ($1, $2, $3, $4, $5::text::numeric, $6) \
                 ON CONFLICT (chain_id, contract, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number",
                chain_id,
                contract,
                key,
                p.stream,
                n(&p.value),
                p.block_number
            )
            .execute(&mut *conn)
            .await?;
        }
        for ((contract, role, account), r) in &self.roles {
            match r {
                Some(r) => sqlx::query!(
                    "INSERT INTO roles (chain_id, contract, role, account, stream, block_number) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (chain_id, contract, role, account) DO UPDATE SET block_number = EXCLUDED.block_number",
                    chain_id,
                    contract,
                    role,
                    account,
                    r.stream,
                    r.block_number
                )
                .execute(&mut *conn)
                .await?,
                None => sqlx::query!(
                    "DELETE FROM roles WHERE chain_id = $1 AND contract = $2 AND role = $3 AND account = $4",
                    chain_id,
                    contract,
                    role,
                    account
                )
                .execute(&mut *conn)
                .await?,
            };
        }
        Ok(())
    }
}
