//! Loading: the current rows of every entity a batch touches (jobs with their assignments, workers, proposals,
//! parameters), one query per table. Results, payments, slashes, votes and roles are only ever inserted or
//! replaced whole, so none is read.

use std::collections::BTreeSet;
use std::str::FromStr;

use alloy::primitives::U256;
use sqlx::PgConnection;

use super::rows::{AssignmentRow, JobRow, ParamRow, Projection, ProposalRow, WorkerRow};
use crate::domain::{EventRecord, Stream};
use crate::store::{Error, Result};
use crate::text::ChainText;

fn parse_u256(s: &str) -> Result<U256> {
    U256::from_str(s)
        .map_err(|_| Error::Inconsistent(format!("stored value {s} is not an integer")))
}

impl Projection {
    /// The stored rows of every job, worker, proposal and parameter `events` touch.
    pub(super) async fn load(
        conn: &mut PgConnection,
        chain_id: i64,
        events: &[EventRecord],
    ) -> Result<Self> {
        let mut jobs = BTreeSet::new();
        let mut workers = BTreeSet::new();
        let mut proposals = BTreeSet::new();
        let mut params = BTreeSet::new();
        for p in events.iter().filter_map(|e| e.protocol.as_deref()) {
            match p.stream() {
                Stream::Job(id) => {
                    jobs.insert(id.to_string());
                }
                Stream::Worker(a) => {
                    workers.insert(a.to_string());
                }
                Stream::Proposal(id) => {
                    proposals.insert(id.to_string());
                }
                Stream::Param { contract, key } => {
                    params.insert((contract.name().to_owned(), key));
                }
                _ => {}
            }
        }
        let mut s = Projection::default();
        if !jobs.is_empty() {
            let ids: Vec<String> = jobs.into_iter().collect();
            let rows = sqlx::query!(
                r#"SELECT job_id::text AS "job_id!", stream, client, spec_hash, spec_uri, spec_uri_raw,
                          required_capabilities, reward::text AS "reward!", deadline, max_attempts, attempts_left,
                          status, worker, due, posted_block, updated_block, redundancy, threshold, consensus
                   FROM jobs WHERE chain_id = $1 AND job_id = ANY($2::text[]::numeric[])"#,
                chain_id,
                &ids
            )
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.stored_jobs.insert(r.job_id.clone());
                s.jobs.insert(
                    r.job_id,
                    JobRow {
                        stream: r.stream,
                        client: r.client,
                        spec_hash: r.spec_hash,
                        spec_uri: ChainText {
                            text: r.spec_uri,
                            raw: r.spec_uri_raw,
                        },
                        required_capabilities: r.required_capabilities,
                        reward: parse_u256(&r.reward)?,
                        deadline: r.deadline,
                        max_attempts: r.max_attempts,
                        attempts_left: r.attempts_left,
                        status: r.status,
                        worker: r.worker,
                        due: r.due,
                        posted_block: r.posted_block,
                        updated_block: r.updated_block,
                        redundancy: r.redundancy,
                        threshold: r.threshold,
                        consensus: r.consensus,
                    },
                );
            }
            let rows = sqlx::query!(
                r#"SELECT job_id::text AS "job_id!", attempt, stream, worker, due, outcome,
                          slashed::text AS "slashed!", assigned_block, dispute_bond::text AS "dispute_bond!",
                          sealed_result, commitment
                   FROM assignments WHERE chain_id = $1 AND job_id = ANY($2::text[]::numeric[])"#,
                chain_id,
                &ids
            )
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                let key = (r.job_id, r.attempt);
                s.stored_assignments.insert(key.clone());
                s.assignments.insert(
                    key,
                    AssignmentRow {
                        stream: r.stream,
                        worker: r.worker,
                        due: r.due,
                        outcome: r.outcome,
                        slashed: parse_u256(&r.slashed)?,
                        assigned_block: r.assigned_block,
                        dispute_bond: parse_u256(&r.dispute_bond)?,
                        sealed_result: r.sealed_result,
                        commitment: r.commitment,
                    },
                );
            }
        }
        if !workers.is_empty() {
            let addresses: Vec<String> = workers.into_iter().collect();
            let rows = sqlx::query!(
                r#"SELECT address, stream, capabilities, metadata_uri, metadata_uri_raw, stake::text AS "stake!",
                          pending::text AS "pending!", unlock_at, jailed, slashed_total::text AS "slashed_total!",
                          registered_block, updated_block
                   FROM workers WHERE chain_id = $1 AND address = ANY($2)"#,
                chain_id,
                &addresses
            )
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.workers.insert(
                    r.address,
                    WorkerRow {
                        stream: r.stream,
                        capabilities: r.capabilities,
                        metadata_uri: ChainText {
                            text: r.metadata_uri,
                            raw: r.metadata_uri_raw,
                        },
                        stake: parse_u256(&r.stake)?,
                        pending: parse_u256(&r.pending)?,
                        unlock_at: r.unlock_at,
                        jailed: r.jailed,
                        slashed_total: parse_u256(&r.slashed_total)?,
                        registered_block: r.registered_block,
                        updated_block: r.updated_block,
                    },
                );
            }
        }
        if !proposals.is_empty() {
            let ids: Vec<String> = proposals.into_iter().collect();
            let rows = sqlx::query!(
                r#"SELECT proposal_id::text AS "proposal_id!", stream, proposer, description, description_raw,
                          targets, calldatas, vote_start, vote_end, for_votes::text AS "for_votes!",
                          against_votes::text AS "against_votes!", abstain_votes::text AS "abstain_votes!",
                          queued_eta, executed, canceled, created_block
                   FROM proposals WHERE chain_id = $1 AND proposal_id = ANY($2::text[]::numeric[])"#,
                chain_id,
                &ids
            )
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.proposals.insert(
                    r.proposal_id,
                    ProposalRow {
                        stream: r.stream,
                        proposer: r.proposer,
                        description: ChainText {
                            text: r.description,
                            raw: r.description_raw,
                        },
                        targets: r.targets,
                        calldatas: r.calldatas,
                        vote_start: r.vote_start,
                        vote_end: r.vote_end,
                        for_votes: parse_u256(&r.for_votes)?,
                        against_votes: parse_u256(&r.against_votes)?,
                        abstain_votes: parse_u256(&r.abstain_votes)?,
                        queued_eta: r.queued_eta,
                        executed: r.executed,
                        canceled: r.canceled,
                        created_block: r.created_block,
                    },
                );
            }
        }
        if !params.is_empty() {
            let (contracts, keys): (Vec<String>, Vec<String>) = params.into_iter().unzip();
            let rows = sqlx::query!(
                r#"SELECT p.contract, p.key, p.stream, p.value::text AS "value!", p.block_number FROM params p
                   JOIN UNNEST($2::text[], $3::text[]) AS u(contract, key) ON p.contract = u.contract AND p.key = u.key
                   WHERE p.chain_id = $1"#,
                chain_id,
                &contracts,
                &keys
            )
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.params.insert(
                    (r.contract, r.key),
                    ParamRow {
                        stream: r.stream,
                        value: parse_u256(&r.value)?,
                        block_number: r.block_number,
                    },
                );
            }
        }
        Ok(s)
    }
}
