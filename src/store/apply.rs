//! Turns indexed events into derived rows. One path serves the live indexer, reorg replay and `accord rebuild`:
//! for a batch, load the current rows of every entity the batch touches (one query per table), apply the events
//! in chain order in memory, then write the rows back: new rows by `COPY`, rows stored before the batch by one
//! `UPDATE … FROM UNNEST` per table (small tables by upsert).
//!
//! Every derived row records its `stream`; [`replay_streams`] deletes the rows of some streams and re-applies
//! their remaining raw events, which is how a reorg rolls back derived state, aggregates included.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use alloy::primitives::U256;
use sqlx::{PgConnection, Row};

use super::copy::CopyIn;
use super::{Error, Result};
use crate::domain::{
    Address, Amount, Contract, EventCodec, EventRecord, JobId, ProtocolEvent, Stream,
};
use crate::text::ChainText;

/// Derived tables, in the order rollback and digests visit them.
pub const DERIVED_TABLES: [&str; 10] = [
    "jobs",
    "assignments",
    "results",
    "payments",
    "workers",
    "slashes",
    "proposals",
    "votes",
    "params",
    "roles",
];

#[derive(Debug, Clone, PartialEq)]
struct JobRow {
    stream: String,
    client: String,
    spec_hash: String,
    spec_uri: ChainText,
    required_capabilities: i32,
    reward: U256,
    deadline: i64,
    max_attempts: i32,
    attempts_left: i32,
    status: String,
    worker: Option<String>,
    due: Option<i64>,
    posted_block: i64,
    updated_block: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct AssignmentRow {
    stream: String,
    worker: String,
    due: i64,
    outcome: String,
    slashed: U256,
    assigned_block: i64,
    dispute_bond: U256,
}

#[derive(Debug, Clone, PartialEq)]
struct ResultRow {
    stream: String,
    worker: String,
    da_kind: i32,
    commitment: String,
    size: U256,
    locator: ChainText,
    challenge_ends_at: i64,
    block_number: i64,
    tx_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
struct PaymentRow {
    block_number: i64,
    log_index: i64,
    stream: String,
    kind: &'static str,
    job_id: Option<String>,
    recipient: String,
    amount: U256,
    fee: U256,
    tx_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
struct WorkerRow {
    stream: String,
    capabilities: i32,
    metadata_uri: ChainText,
    stake: U256,
    pending: U256,
    unlock_at: i64,
    jailed: bool,
    slashed_total: U256,
    registered_block: i64,
    updated_block: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct SlashRow {
    block_number: i64,
    log_index: i64,
    stream: String,
    worker: String,
    job_id: Option<String>,
    recipient: String,
    amount: U256,
    from_stake: U256,
    from_pending: U256,
    tx_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
struct ProposalRow {
    stream: String,
    proposer: String,
    description: ChainText,
    targets: Vec<String>,
    calldatas: Vec<String>,
    vote_start: i64,
    vote_end: i64,
    for_votes: U256,
    against_votes: U256,
    abstain_votes: U256,
    queued_eta: Option<i64>,
    executed: bool,
    canceled: bool,
    created_block: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct VoteRow {
    stream: String,
    support: i32,
    weight: U256,
    reason: ChainText,
    block_number: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct ParamRow {
    stream: String,
    value: U256,
    block_number: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct RoleRow {
    stream: String,
    block_number: i64,
}

/// Rows touched by a batch. BTreeMaps keep writes in key order (stable lock order, deterministic SQL).
#[derive(Debug, Default)]
struct State {
    jobs: BTreeMap<String, JobRow>,
    /// Jobs that were stored before this batch (updated in place; the others are new and copied in).
    stored_jobs: BTreeSet<String>,
    assignments: BTreeMap<(String, i32), AssignmentRow>,
    stored_assignments: BTreeSet<(String, i32)>,
    results: BTreeMap<(String, i32), ResultRow>,
    payments: Vec<PaymentRow>,
    workers: BTreeMap<String, WorkerRow>,
    slashes: Vec<SlashRow>,
    proposals: BTreeMap<String, ProposalRow>,
    votes: BTreeMap<(String, String), VoteRow>,
    params: BTreeMap<(String, String), ParamRow>,
    roles: BTreeMap<(String, String, String), Option<RoleRow>>,
}

fn inconsistent(e: &EventRecord, what: &str) -> Error {
    Error::Inconsistent(format!(
        "{}.{} at block {} log {}: {what}",
        e.contract, e.event, e.block_number, e.log_index
    ))
}

fn n(v: &U256) -> String {
    v.to_string()
}

fn parse_u256(s: &str) -> Result<U256> {
    U256::from_str(s)
        .map_err(|_| Error::Inconsistent(format!("stored value {s} is not an integer")))
}

impl State {
    async fn load(conn: &mut PgConnection, chain_id: i64, events: &[EventRecord]) -> Result<Self> {
        let mut jobs = BTreeSet::new();
        let mut workers = BTreeSet::new();
        let mut proposals = BTreeSet::new();
        let mut params = BTreeSet::new();
        for p in events.iter().filter_map(|e| e.protocol.as_ref()) {
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
        let mut s = State::default();
        if !jobs.is_empty() {
            let ids: Vec<String> = jobs.into_iter().collect();
            let rows = sqlx::query(
                "SELECT job_id::text, stream, client, spec_hash, spec_uri, required_capabilities, reward::text, deadline, \
                 max_attempts, attempts_left, status, worker, due, posted_block, updated_block, spec_uri_raw \
                 FROM jobs WHERE chain_id = $1 AND job_id = ANY($2::text[]::numeric[])",
            )
            .bind(chain_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.stored_jobs.insert(r.get(0));
                s.jobs.insert(
                    r.get(0),
                    JobRow {
                        stream: r.get(1),
                        client: r.get(2),
                        spec_hash: r.get(3),
                        spec_uri: ChainText {
                            text: r.get(4),
                            raw: r.get(15),
                        },
                        required_capabilities: r.get(5),
                        reward: parse_u256(r.get(6))?,
                        deadline: r.get(7),
                        max_attempts: r.get(8),
                        attempts_left: r.get(9),
                        status: r.get(10),
                        worker: r.get(11),
                        due: r.get(12),
                        posted_block: r.get(13),
                        updated_block: r.get(14),
                    },
                );
            }
            let rows = sqlx::query(
                "SELECT job_id::text, attempt, stream, worker, due, outcome, slashed::text, assigned_block, \
                 dispute_bond::text FROM assignments WHERE chain_id = $1 AND job_id = ANY($2::text[]::numeric[])",
            )
            .bind(chain_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.stored_assignments.insert((r.get(0), r.get(1)));
                s.assignments.insert(
                    (r.get(0), r.get(1)),
                    AssignmentRow {
                        stream: r.get(2),
                        worker: r.get(3),
                        due: r.get(4),
                        outcome: r.get(5),
                        slashed: parse_u256(r.get(6))?,
                        assigned_block: r.get(7),
                        dispute_bond: parse_u256(r.get(8))?,
                    },
                );
            }
        }
        if !workers.is_empty() {
            let addrs: Vec<String> = workers.into_iter().collect();
            let rows = sqlx::query(
                "SELECT address, stream, capabilities, metadata_uri, stake::text, pending::text, unlock_at, jailed, \
                 slashed_total::text, registered_block, updated_block, metadata_uri_raw FROM workers WHERE chain_id = $1 AND address = ANY($2)",
            )
            .bind(chain_id)
            .bind(&addrs)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.workers.insert(
                    r.get(0),
                    WorkerRow {
                        stream: r.get(1),
                        capabilities: r.get(2),
                        metadata_uri: ChainText {
                            text: r.get(3),
                            raw: r.get(11),
                        },
                        stake: parse_u256(r.get(4))?,
                        pending: parse_u256(r.get(5))?,
                        unlock_at: r.get(6),
                        jailed: r.get(7),
                        slashed_total: parse_u256(r.get(8))?,
                        registered_block: r.get(9),
                        updated_block: r.get(10),
                    },
                );
            }
        }
        if !proposals.is_empty() {
            let ids: Vec<String> = proposals.into_iter().collect();
            let rows = sqlx::query(
                "SELECT proposal_id::text, stream, proposer, description, targets, calldatas, vote_start, vote_end, \
                 for_votes::text, against_votes::text, abstain_votes::text, queued_eta, executed, canceled, created_block, \
                 description_raw FROM proposals WHERE chain_id = $1 AND proposal_id = ANY($2::text[]::numeric[])",
            )
            .bind(chain_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.proposals.insert(
                    r.get(0),
                    ProposalRow {
                        stream: r.get(1),
                        proposer: r.get(2),
                        description: ChainText {
                            text: r.get(3),
                            raw: r.get(15),
                        },
                        targets: r.get(4),
                        calldatas: r.get(5),
                        vote_start: r.get(6),
                        vote_end: r.get(7),
                        for_votes: parse_u256(r.get(8))?,
                        against_votes: parse_u256(r.get(9))?,
                        abstain_votes: parse_u256(r.get(10))?,
                        queued_eta: r.get(11),
                        executed: r.get(12),
                        canceled: r.get(13),
                        created_block: r.get(14),
                    },
                );
            }
        }
        if !params.is_empty() {
            let (contracts, keys): (Vec<String>, Vec<String>) = params.into_iter().unzip();
            let rows = sqlx::query(
                "SELECT p.contract, p.key, p.stream, p.value::text, p.block_number FROM params p \
                 JOIN UNNEST($2::text[], $3::text[]) AS u(contract, key) ON p.contract = u.contract AND p.key = u.key \
                 WHERE p.chain_id = $1",
            )
            .bind(chain_id)
            .bind(&contracts)
            .bind(&keys)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                s.params.insert(
                    (r.get(0), r.get(1)),
                    ParamRow {
                        stream: r.get(2),
                        value: parse_u256(r.get(3))?,
                        block_number: r.get(4),
                    },
                );
            }
        }
        Ok(s)
    }

    fn job(&mut self, e: &EventRecord, id: &str) -> Result<&mut JobRow> {
        self.jobs
            .get_mut(id)
            .ok_or_else(|| inconsistent(e, &format!("job {id} was never posted")))
    }

    /// The current assignment of a job: the attempt its attempts_left implies.
    fn current_assignment(&mut self, e: &EventRecord, id: &str) -> Result<&mut AssignmentRow> {
        let job = self.job(e, id)?;
        let attempt = job.max_attempts - job.attempts_left;
        self.assignments
            .get_mut(&(id.to_owned(), attempt))
            .ok_or_else(|| inconsistent(e, &format!("job {id} has no assignment {attempt}")))
    }

    fn worker(&mut self, e: &EventRecord, address: &str) -> Result<&mut WorkerRow> {
        self.workers
            .get_mut(address)
            .ok_or_else(|| inconsistent(e, &format!("worker {address} never registered")))
    }

    fn proposal(&mut self, e: &EventRecord, id: &str) -> Result<&mut ProposalRow> {
        self.proposals
            .get_mut(id)
            .ok_or_else(|| inconsistent(e, &format!("proposal {id} was never created")))
    }

    fn apply(&mut self, e: &EventRecord) -> Result<()> {
        use ProtocolEvent::*;
        let Some(p) = &e.protocol else {
            // Everything else lives in raw_events only (approvals, delegation, timelock operations, skipped
            // batch entries, dispute rulings whose effect is the JobPaid/JobRefunded that follows).
            return Ok(());
        };
        let block = e.block_number as i64;
        let log_index = e.log_index as i64;
        let time = |name: &str, v: u64| {
            i64::try_from(v)
                .map_err(|_| inconsistent(e, &format!("argument {name} exceeds 63 bits")))
        };
        let small = |name: &str, v: u32| {
            i32::try_from(v)
                .map_err(|_| inconsistent(e, &format!("argument {name} exceeds 31 bits")))
        };
        let payment = |kind: &'static str,
                       job: Option<&JobId>,
                       recipient: &Address,
                       amount: &Amount,
                       fee: U256| PaymentRow {
            block_number: block,
            log_index,
            stream: e.stream.clone(),
            kind,
            job_id: job.map(ToString::to_string),
            recipient: recipient.to_string(),
            amount: amount.0,
            fee,
            tx_hash: e.tx_hash.clone(),
        };
        match p {
            JobPosted {
                job,
                client,
                spec_hash,
                spec_uri,
                required_capabilities,
                reward,
                deadline,
                max_attempts,
            } => {
                let max_attempts = small("maxAttempts", *max_attempts)?;
                self.jobs.insert(
                    job.to_string(),
                    JobRow {
                        stream: e.stream.clone(),
                        client: client.to_string(),
                        spec_hash: spec_hash.clone(),
                        spec_uri: spec_uri.clone(),
                        required_capabilities: small(
                            "requiredCapabilities",
                            *required_capabilities,
                        )?,
                        reward: reward.0,
                        deadline: time("deadline", *deadline)?,
                        max_attempts,
                        attempts_left: max_attempts,
                        status: "open".into(),
                        worker: None,
                        due: None,
                        posted_block: block,
                        updated_block: block,
                    },
                );
            }
            JobCancelled {
                job,
                client,
                refund,
            } => {
                let id = job.to_string();
                let row = self.job(e, &id)?;
                row.status = "cancelled".into();
                row.updated_block = block;
                self.payments
                    .push(payment("refund", Some(job), client, refund, U256::ZERO));
            }
            JobAssigned {
                job,
                worker,
                due,
                attempts_left,
            } => {
                let id = job.to_string();
                let due = time("due", *due)?;
                let left = small("attemptsLeft", *attempts_left)?;
                let row = self.job(e, &id)?;
                row.status = "assigned".into();
                row.worker = Some(worker.to_string());
                row.due = Some(due);
                row.attempts_left = left;
                row.updated_block = block;
                let attempt = row.max_attempts - left;
                self.assignments.insert(
                    (id, attempt),
                    AssignmentRow {
                        stream: e.stream.clone(),
                        worker: worker.to_string(),
                        due,
                        outcome: "active".into(),
                        slashed: U256::ZERO,
                        assigned_block: block,
                        dispute_bond: U256::ZERO,
                    },
                );
            }
            ResultSubmitted {
                job,
                worker,
                da_kind,
                commitment,
                size,
                locator,
                challenge_ends_at,
            } => {
                let id = job.to_string();
                let ends = time("challengeEndsAt", *challenge_ends_at)?;
                let row = self.job(e, &id)?;
                row.status = "submitted".into();
                row.due = Some(ends);
                row.updated_block = block;
                let attempt = row.max_attempts - row.attempts_left;
                self.current_assignment(e, &id)?.outcome = "submitted".into();
                self.results.insert(
                    (id, attempt),
                    ResultRow {
                        stream: e.stream.clone(),
                        worker: worker.to_string(),
                        da_kind: small("daKind", *da_kind)?,
                        commitment: commitment.clone(),
                        size: *size,
                        locator: locator.clone(),
                        challenge_ends_at: ends,
                        block_number: block,
                        tx_hash: e.tx_hash.clone(),
                    },
                );
            }
            JobDisputed {
                job,
                resolve_by,
                bond,
            } => {
                let id = job.to_string();
                let resolve_by = time("resolveBy", *resolve_by)?;
                let row = self.job(e, &id)?;
                row.status = "disputed".into();
                row.due = Some(resolve_by);
                row.updated_block = block;
                let assignment = self.current_assignment(e, &id)?;
                assignment.outcome = "disputed".into();
                assignment.dispute_bond = bond.0;
            }
            JobDeclined { job, fee, reopened } => {
                let id = job.to_string();
                let assignment = self.current_assignment(e, &id)?;
                assignment.outcome = "declined".into();
                assignment.slashed = fee.0;
                let row = self.job(e, &id)?;
                row.updated_block = block;
                if *reopened {
                    row.status = "open".into();
                    row.worker = None;
                    row.due = None;
                }
            }
            DisputeBondReleased { job, to, amount } => {
                self.payments
                    .push(payment("dispute_bond", Some(job), to, amount, U256::ZERO))
            }
            SlashDistributed {
                job,
                client,
                compensation,
                fee,
            } => self.payments.push(payment(
                "compensation",
                Some(job),
                client,
                compensation,
                fee.0,
            )),
            AssignmentExpired {
                job,
                slashed,
                reopened,
            } => {
                let id = job.to_string();
                let assignment = self.current_assignment(e, &id)?;
                assignment.outcome = "expired".into();
                assignment.slashed = slashed.0;
                let row = self.job(e, &id)?;
                row.updated_block = block;
                if *reopened {
                    row.status = "open".into();
                    row.worker = None;
                    row.due = None;
                }
            }
            JobPaid {
                job,
                worker,
                amount,
                fee,
            } => {
                let id = job.to_string();
                let row = self.job(e, &id)?;
                row.status = "paid".into();
                row.updated_block = block;
                self.current_assignment(e, &id)?.outcome = "paid".into();
                self.payments
                    .push(payment("reward", Some(job), worker, amount, fee.0));
            }
            JobRefunded {
                job,
                client,
                amount,
            } => {
                let id = job.to_string();
                let row = self.job(e, &id)?;
                row.status = "refunded".into();
                row.updated_block = block;
                let attempted = row.max_attempts > row.attempts_left;
                if attempted {
                    let assignment = self.current_assignment(e, &id)?;
                    if assignment.outcome != "expired" && assignment.outcome != "declined" {
                        assignment.outcome = "refunded".into();
                    }
                }
                self.payments
                    .push(payment("refund", Some(job), client, amount, U256::ZERO));
            }
            FeesSwept { treasury, amount } => {
                self.payments
                    .push(payment("fee_sweep", None, treasury, amount, U256::ZERO))
            }
            ParameterUpdated {
                contract,
                key,
                value,
            } => self.set_param(e, contract.name(), key, *value),
            RoleGranted {
                contract,
                role,
                account,
            } => {
                self.roles.insert(
                    (
                        contract.name().to_owned(),
                        role.clone(),
                        account.to_string(),
                    ),
                    Some(RoleRow {
                        stream: e.stream.clone(),
                        block_number: block,
                    }),
                );
            }
            RoleRevoked {
                contract,
                role,
                account,
            } => {
                self.roles.insert(
                    (
                        contract.name().to_owned(),
                        role.clone(),
                        account.to_string(),
                    ),
                    None,
                );
            }
            WorkerRegistered {
                worker,
                capabilities,
                metadata_uri,
            } => {
                self.workers.insert(
                    worker.to_string(),
                    WorkerRow {
                        stream: e.stream.clone(),
                        capabilities: small("capabilities", *capabilities)?,
                        metadata_uri: metadata_uri.clone(),
                        stake: U256::ZERO,
                        pending: U256::ZERO,
                        unlock_at: 0,
                        jailed: false,
                        slashed_total: U256::ZERO,
                        registered_block: block,
                        updated_block: block,
                    },
                );
            }
            WorkerUpdated {
                worker,
                capabilities,
                metadata_uri,
            } => {
                let capabilities = small("capabilities", *capabilities)?;
                let w = self.worker(e, worker.as_str())?;
                w.capabilities = capabilities;
                w.metadata_uri = metadata_uri.clone();
                w.updated_block = block;
            }
            Staked { worker, stake } => {
                let w = self.worker(e, worker.as_str())?;
                w.stake = stake.0;
                w.updated_block = block;
            }
            UnstakeRequested {
                worker,
                stake,
                pending,
                unlock_at,
            } => {
                let unlock_at = time("unlockAt", *unlock_at)?;
                let w = self.worker(e, worker.as_str())?;
                w.stake = stake.0;
                w.pending = pending.0;
                w.unlock_at = unlock_at;
                w.updated_block = block;
            }
            Withdrawn { worker } => {
                let w = self.worker(e, worker.as_str())?;
                w.pending = U256::ZERO;
                w.unlock_at = 0;
                w.updated_block = block;
            }
            WorkerJailed { worker, jailed } => {
                let w = self.worker(e, worker.as_str())?;
                w.jailed = *jailed;
                w.updated_block = block;
            }
            WorkerSlashed {
                worker,
                job,
                recipient,
                amount,
                from_stake,
                from_pending,
            } => {
                let w = self.worker(e, worker.as_str())?;
                w.stake = w
                    .stake
                    .checked_sub(from_stake.0)
                    .ok_or_else(|| inconsistent(e, "slash exceeds stake"))?;
                w.pending = w
                    .pending
                    .checked_sub(from_pending.0)
                    .ok_or_else(|| inconsistent(e, "slash exceeds pending"))?;
                w.slashed_total += amount.0;
                w.updated_block = block;
                self.slashes.push(SlashRow {
                    block_number: block,
                    log_index,
                    stream: e.stream.clone(),
                    worker: worker.to_string(),
                    job_id: job.map(|j| j.to_string()),
                    recipient: recipient.to_string(),
                    amount: amount.0,
                    from_stake: from_stake.0,
                    from_pending: from_pending.0,
                    tx_hash: e.tx_hash.clone(),
                });
            }
            ProposalCreated {
                proposal,
                proposer,
                description,
                targets,
                calldatas,
                vote_start,
                vote_end,
            } => {
                self.proposals.insert(
                    proposal.to_string(),
                    ProposalRow {
                        stream: e.stream.clone(),
                        proposer: proposer.to_string(),
                        description: description.clone(),
                        targets: targets.iter().map(ToString::to_string).collect(),
                        calldatas: calldatas.clone(),
                        vote_start: time("voteStart", *vote_start)?,
                        vote_end: time("voteEnd", *vote_end)?,
                        for_votes: U256::ZERO,
                        against_votes: U256::ZERO,
                        abstain_votes: U256::ZERO,
                        queued_eta: None,
                        executed: false,
                        canceled: false,
                        created_block: block,
                    },
                );
            }
            VoteCast {
                proposal,
                voter,
                support,
                weight,
                reason,
            } => {
                let id = proposal.to_string();
                let p = self.proposal(e, &id)?;
                match support {
                    0 => p.against_votes += weight.0,
                    1 => p.for_votes += weight.0,
                    _ => p.abstain_votes += weight.0,
                }
                self.votes.insert(
                    (id, voter.to_string()),
                    VoteRow {
                        stream: e.stream.clone(),
                        support: i32::from(*support),
                        weight: weight.0,
                        reason: reason.clone(),
                        block_number: block,
                    },
                );
            }
            ProposalQueued { proposal, eta } => {
                let eta = time("etaSeconds", *eta)?;
                self.proposal(e, &proposal.to_string())?.queued_eta = Some(eta);
            }
            ProposalExecuted { proposal } => {
                self.proposal(e, &proposal.to_string())?.executed = true
            }
            ProposalCanceled { proposal } => {
                self.proposal(e, &proposal.to_string())?.canceled = true
            }
            SupplyChanged { amount, minted } => {
                let key = (Contract::Token.name().to_owned(), "totalSupply".to_owned());
                let current = self.params.get(&key).map(|p| p.value).unwrap_or_default();
                let value = if *minted {
                    current + amount.0
                } else {
                    current
                        .checked_sub(amount.0)
                        .ok_or_else(|| inconsistent(e, "burn exceeds supply"))?
                };
                self.set_param(e, Contract::Token.name(), "totalSupply", value);
            }
        }
        Ok(())
    }

    fn set_param(&mut self, e: &EventRecord, contract: &str, key: &str, value: U256) {
        self.params.insert(
            (contract.to_owned(), key.to_owned()),
            ParamRow {
                stream: e.stream.clone(),
                value,
                block_number: e.block_number as i64,
            },
        );
    }

    async fn write(self, conn: &mut PgConnection, chain_id: i64) -> Result<()> {
        // New rows go in by COPY; rows stored before this batch are updated in place.
        let (stored, new): (Vec<_>, Vec<_>) = self
            .jobs
            .iter()
            .partition(|(id, _)| self.stored_jobs.contains(*id));
        if !new.is_empty() {
            let mut copy = CopyIn::start(
                conn,
                "COPY jobs (chain_id, job_id, stream, client, spec_hash, spec_uri, required_capabilities, reward, \
                 deadline, max_attempts, attempts_left, status, worker, due, posted_block, updated_block, spec_uri_raw) \
                 FROM STDIN",
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
                    .opt_bytes(r.spec_uri.raw.as_deref());
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !stored.is_empty() {
            sqlx::query(
                "UPDATE jobs j SET attempts_left = u.attempts_left, status = u.status, worker = u.worker, due = u.due, \
                 updated_block = u.updated_block \
                 FROM UNNEST($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::bigint[]) \
                 AS u(job_id, attempts_left, status, worker, due, updated_block) \
                 WHERE j.chain_id = $1 AND j.job_id = u.job_id::numeric",
            )
            .bind(chain_id)
            .bind(stored.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
            .bind(stored.iter().map(|(_, r)| r.attempts_left).collect::<Vec<_>>())
            .bind(stored.iter().map(|(_, r)| r.status.as_str()).collect::<Vec<_>>())
            .bind(stored.iter().map(|(_, r)| r.worker.as_deref()).collect::<Vec<_>>())
            .bind(stored.iter().map(|(_, r)| r.due).collect::<Vec<_>>())
            .bind(stored.iter().map(|(_, r)| r.updated_block).collect::<Vec<_>>())
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
                 dispute_bond) FROM STDIN",
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
                    .plain(r.dispute_bond);
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        if !stored.is_empty() {
            sqlx::query(
                "UPDATE assignments a SET outcome = u.outcome, slashed = u.slashed::numeric, \
                 dispute_bond = u.bond::numeric \
                 FROM UNNEST($2::text[], $3::int[], $4::text[], $5::text[], $6::text[]) \
                 AS u(job_id, attempt, outcome, slashed, bond) \
                 WHERE a.chain_id = $1 AND a.job_id = u.job_id::numeric AND a.attempt = u.attempt",
            )
            .bind(chain_id)
            .bind(
                stored
                    .iter()
                    .map(|((id, _), _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                stored
                    .iter()
                    .map(|((_, attempt), _)| *attempt)
                    .collect::<Vec<_>>(),
            )
            .bind(
                stored
                    .iter()
                    .map(|(_, r)| r.outcome.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                stored
                    .iter()
                    .map(|(_, r)| n(&r.slashed))
                    .collect::<Vec<_>>(),
            )
            .bind(
                stored
                    .iter()
                    .map(|(_, r)| n(&r.dispute_bond))
                    .collect::<Vec<_>>(),
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
            sqlx::query(
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
            )
            .bind(chain_id)
            .bind(self.workers.keys().cloned().collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.stream.clone()).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.capabilities).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.metadata_uri.text.clone()).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| n(&r.stake)).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| n(&r.pending)).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.unlock_at).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.jailed).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| n(&r.slashed_total)).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.registered_block).collect::<Vec<_>>())
            .bind(self.workers.values().map(|r| r.updated_block).collect::<Vec<_>>())
            .bind(
                self.workers
                    .values()
                    .map(|r| r.metadata_uri.raw.as_deref().map(alloy::hex::encode))
                    .collect::<Vec<_>>(),
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
            sqlx::query(
                "INSERT INTO proposals (chain_id, proposal_id, stream, proposer, description, targets, calldatas, vote_start, \
                 vote_end, for_votes, against_votes, abstain_votes, queued_eta, executed, canceled, created_block, description_raw) \
                 VALUES ($1, $2::numeric, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11::numeric, $12::numeric, $13, $14, $15, $16, $17) \
                 ON CONFLICT (chain_id, proposal_id) DO UPDATE SET for_votes = EXCLUDED.for_votes, \
                 against_votes = EXCLUDED.against_votes, abstain_votes = EXCLUDED.abstain_votes, \
                 queued_eta = EXCLUDED.queued_eta, executed = EXCLUDED.executed, canceled = EXCLUDED.canceled",
            )
            .bind(chain_id)
            .bind(id)
            .bind(&p.stream)
            .bind(&p.proposer)
            .bind(&p.description.text)
            .bind(&p.targets)
            .bind(&p.calldatas)
            .bind(p.vote_start)
            .bind(p.vote_end)
            .bind(n(&p.for_votes))
            .bind(n(&p.against_votes))
            .bind(n(&p.abstain_votes))
            .bind(p.queued_eta)
            .bind(p.executed)
            .bind(p.canceled)
            .bind(p.created_block)
            .bind(p.description.raw.as_deref())
            .execute(&mut *conn)
            .await?;
        }
        for ((id, voter), v) in &self.votes {
            sqlx::query(
                "INSERT INTO votes (chain_id, proposal_id, voter, stream, support, weight, reason, block_number, reason_raw) \
                 VALUES ($1, $2::numeric, $3, $4, $5, $6::numeric, $7, $8, $9) ON CONFLICT (chain_id, proposal_id, voter) DO NOTHING",
            )
            .bind(chain_id)
            .bind(id)
            .bind(voter)
            .bind(&v.stream)
            .bind(v.support)
            .bind(n(&v.weight))
            .bind(&v.reason.text)
            .bind(v.block_number)
            .bind(v.reason.raw.as_deref())
            .execute(&mut *conn)
            .await?;
        }
        for ((contract, key), p) in &self.params {
            sqlx::query(
                "INSERT INTO params (chain_id, contract, key, stream, value, block_number) VALUES ($1, $2, $3, $4, $5::numeric, $6) \
                 ON CONFLICT (chain_id, contract, key) DO UPDATE SET value = EXCLUDED.value, block_number = EXCLUDED.block_number",
            )
            .bind(chain_id)
            .bind(contract)
            .bind(key)
            .bind(&p.stream)
            .bind(n(&p.value))
            .bind(p.block_number)
            .execute(&mut *conn)
            .await?;
        }
        for ((contract, role, account), r) in &self.roles {
            match r {
                Some(r) => sqlx::query(
                    "INSERT INTO roles (chain_id, contract, role, account, stream, block_number) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (chain_id, contract, role, account) DO UPDATE SET block_number = EXCLUDED.block_number",
                )
                .bind(chain_id)
                .bind(contract)
                .bind(role)
                .bind(account)
                .bind(&r.stream)
                .bind(r.block_number),
                None => sqlx::query("DELETE FROM roles WHERE chain_id = $1 AND contract = $2 AND role = $3 AND account = $4")
                    .bind(chain_id)
                    .bind(contract)
                    .bind(role)
                    .bind(account),
            }
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// Applies `events` (already stored in `raw_events`, in chain order) to the derived tables.
pub async fn apply_events(
    conn: &mut PgConnection,
    chain_id: u64,
    events: &[EventRecord],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let chain_id = chain_id as i64;
    let t0 = std::time::Instant::now();
    let mut state = State::load(conn, chain_id, events).await?;
    let t1 = t0.elapsed();
    for e in events {
        state.apply(e)?;
    }
    let t2 = t0.elapsed();
    let r = state.write(conn, chain_id).await;
    tracing::debug!(target: "accord::indexer", load_ms = t1.as_millis() as u64, apply_ms = (t2 - t1).as_millis() as u64, write_ms = (t0.elapsed() - t2).as_millis() as u64, "apply phases");
    r
}

/// Deletes every derived row of `streams` and re-applies their stored events, read back as protocol events by
/// the chain family's `codec`.
pub async fn replay_streams(
    conn: &mut PgConnection,
    chain_id: u64,
    streams: &[String],
    codec: &dyn EventCodec,
) -> Result<()> {
    if streams.is_empty() {
        return Ok(());
    }
    for table in DERIVED_TABLES {
        // Table names come from the constant DERIVED_TABLES, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE chain_id = $1 AND stream = ANY($2)"
        )))
        .bind(chain_id as i64)
        .bind(streams)
        .execute(&mut *conn)
        .await?;
    }
    let mut after = (-1, -1);
    loop {
        let mut events = super::raw::read_streams(conn, chain_id, streams, after, 10_000).await?;
        for e in &mut events {
            e.protocol = codec
                .protocol_event(e)
                .map_err(|message| inconsistent(e, &message))?;
        }
        let Some(last) = events.last() else { break };
        after = (last.block_number as i64, last.log_index as i64);
        apply_events(conn, chain_id, &events).await?;
    }
    Ok(())
}
