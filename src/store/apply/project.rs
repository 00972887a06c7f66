//! The projection: protocol events in, row changes out, no I/O. [`Projection::apply`] turns one event into its
//! changes of the rows loaded for the batch (jobs and their attempts, results, payments, workers and slashes,
//! proposals and votes, parameters and roles), refusing what contradicts them: an event of a job, worker or
//! proposal never created, a slash or burn larger than what it takes from, a number too wide for its column.

use alloy::primitives::U256;

use super::rows::{
    AssignmentRow, JobRow, ParamRow, PaymentRow, Projection, ProposalRow, ResultRow, RoleRow,
    SlashRow, VoteRow, WorkerRow,
};
use crate::domain::{Address, Amount, Contract, EventRecord, JobId, ProtocolEvent};
use crate::store::{Error, Result};

/// Replica outcomes that record a fault (kept when the job is refunded).
const FAULTS: [&str; 4] = ["no_commit", "no_reveal", "dissented", "dispute_lost"];

/// The error of an event that contradicts the stored rows.
pub(super) fn inconsistent(e: &EventRecord, what: &str) -> Error {
    Error::Inconsistent(format!(
        "{}.{} at block {} log {}: {what}",
        e.contract, e.event, e.block_number, e.log_index
    ))
}

impl Projection {
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

    /// Every replica row of a redundant job.
    fn replicas<'a>(&'a mut self, id: &str) -> impl Iterator<Item = &'a mut AssignmentRow> + 'a {
        self.assignments
            .range_mut((id.to_owned(), i32::MIN)..=(id.to_owned(), i32::MAX))
            .map(|(_, r)| r)
    }

    /// The replica row of `worker` in a redundant job, with its number.
    fn replica_numbered(
        &mut self,
        e: &EventRecord,
        id: &str,
        worker: &Address,
    ) -> Result<(i32, &mut AssignmentRow)> {
        let worker = worker.to_string();
        self.assignments
            .range_mut((id.to_owned(), i32::MIN)..=(id.to_owned(), i32::MAX))
            .find(|(_, r)| r.worker == worker)
            .map(|((_, replica), r)| (*replica, r))
            .ok_or_else(|| inconsistent(e, &format!("{worker} holds no replica of job {id}")))
    }

    fn replica(
        &mut self,
        e: &EventRecord,
        id: &str,
        worker: &Address,
    ) -> Result<&mut AssignmentRow> {
        Ok(self.replica_numbered(e, id, worker)?.1)
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

    /// Applies one event to the rows. Events that change no derived row are ignored; an event whose entity
    /// is missing, or whose numbers do not fit the rows, is refused as [`Error::Inconsistent`].
    pub(super) fn apply(&mut self, e: &EventRecord) -> Result<()> {
        use ProtocolEvent::*;
        let Some(p) = e.protocol.as_deref() else {
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
                        redundancy: 1,
                        threshold: 1,
                        consensus: None,
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
                        sealed_result: None,
                        commitment: None,
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
                if row.redundancy > 1 {
                    // The dispute is against the consensus: every agreeing replica shows it.
                    for r in self.replicas(&id).filter(|r| r.outcome == "agreed") {
                        r.outcome = "disputed".into();
                        r.dispute_bond = bond.0;
                    }
                } else {
                    let assignment = self.current_assignment(e, &id)?;
                    assignment.outcome = "disputed".into();
                    assignment.dispute_bond = bond.0;
                }
            }
            JobDeclined {
                job,
                worker,
                fee,
                reopened,
            } => {
                let id = job.to_string();
                if self.job(e, &id)?.redundancy > 1 {
                    // A replica declined: the job goes on with the others.
                    self.job(e, &id)?.updated_block = block;
                    let r = self.replica(e, &id, worker)?;
                    r.outcome = "declined".into();
                    r.slashed = fee.0;
                } else {
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
                if row.redundancy > 1 {
                    self.replica(e, &id, worker)?.outcome = "paid".into();
                } else {
                    self.current_assignment(e, &id)?.outcome = "paid".into();
                }
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
                if row.redundancy > 1 {
                    // Replicas not at fault are released; the faulted keep their fault.
                    // A dissenter not slashed was right after all (the agreeing replicas lost the dispute).
                    for r in self.replicas(&id) {
                        let faulted = FAULTS.contains(&r.outcome.as_str())
                            && !(r.outcome == "dissented" && r.slashed.is_zero());
                        if !faulted && r.outcome != "declined" {
                            r.outcome = "refunded".into();
                        }
                    }
                } else if attempted {
                    let assignment = self.current_assignment(e, &id)?;
                    if assignment.outcome != "expired" && assignment.outcome != "declined" {
                        assignment.outcome = "refunded".into();
                    }
                }
                self.payments
                    .push(payment("refund", Some(job), client, amount, U256::ZERO));
            }
            RedundancyRequested {
                job,
                redundancy,
                threshold,
            } => {
                let redundancy = small("redundancy", *redundancy)?;
                let threshold = small("threshold", *threshold)?;
                let row = self.job(e, &job.to_string())?;
                row.redundancy = redundancy;
                row.threshold = threshold;
                row.status = "gathering".into();
                row.updated_block = block;
            }
            ReplicaAssigned {
                job,
                worker,
                replica,
                commit_due,
            } => {
                let id = job.to_string();
                let due = time("commitDue", *commit_due)?;
                let replica = small("replica", *replica)?;
                let row = self.job(e, &id)?;
                if replica == row.redundancy {
                    row.status = "committing".into();
                }
                row.due = Some(due);
                row.updated_block = block;
                self.assignments.insert(
                    (id, replica),
                    AssignmentRow {
                        stream: e.stream.clone(),
                        worker: worker.to_string(),
                        due,
                        outcome: "active".into(),
                        slashed: U256::ZERO,
                        assigned_block: block,
                        dispute_bond: U256::ZERO,
                        sealed_result: None,
                        commitment: None,
                    },
                );
            }
            ResultCommitted {
                job,
                worker,
                sealed_result,
            } => {
                let id = job.to_string();
                self.job(e, &id)?.updated_block = block;
                let r = self.replica(e, &id, worker)?;
                r.outcome = "committed".into();
                r.sealed_result = Some(sealed_result.clone());
            }
            RevealOpened {
                job, reveal_due, ..
            } => {
                let due = time("revealDue", *reveal_due)?;
                let row = self.job(e, &job.to_string())?;
                row.status = "revealing".into();
                row.due = Some(due);
                row.updated_block = block;
            }
            ResultRevealed {
                job,
                worker,
                da_kind,
                commitment,
                size,
                locator,
            } => {
                let id = job.to_string();
                let row = self.job(e, &id)?;
                row.updated_block = block;
                // A reveal's row in `results` carries the reveal due where a submission has its challenge end.
                let reveal_due = row.due.unwrap_or_default();
                let (replica, r) = self.replica_numbered(e, &id, worker)?;
                r.outcome = "revealed".into();
                r.commitment = Some(commitment.clone());
                self.results.insert(
                    (id, replica),
                    ResultRow {
                        stream: e.stream.clone(),
                        worker: worker.to_string(),
                        da_kind: small("daKind", *da_kind)?,
                        commitment: commitment.clone(),
                        size: *size,
                        locator: locator.clone(),
                        challenge_ends_at: reveal_due,
                        block_number: block,
                        tx_hash: e.tx_hash.clone(),
                    },
                );
            }
            ConsensusReached {
                job,
                commitment,
                challenge_ends_at,
                ..
            } => {
                let id = job.to_string();
                let ends = time("challengeEndsAt", *challenge_ends_at)?;
                let row = self.job(e, &id)?;
                row.status = "submitted".into();
                row.due = Some(ends);
                row.consensus = Some(commitment.clone());
                row.updated_block = block;
                // Agreeing replicas, and those that revealed something else (slashed once the result stands).
                for r in self.replicas(&id).filter(|r| r.outcome == "revealed") {
                    r.outcome = if r.commitment.as_deref() == Some(commitment.as_str()) {
                        "agreed".into()
                    } else {
                        "dissented".into()
                    };
                }
            }
            ConsensusFailed { job, .. } => {
                self.job(e, &job.to_string())?.updated_block = block;
            }
            ReplicaFaulted {
                job,
                worker,
                fault,
                slashed,
            } => {
                let id = job.to_string();
                let outcome = match fault {
                    1 => "no_commit",
                    2 => "no_reveal",
                    3 => "dissented",
                    4 => "dispute_lost",
                    other => {
                        return Err(inconsistent(e, &format!("unknown replica fault {other}")));
                    }
                };
                self.job(e, &id)?.updated_block = block;
                let r = self.replica(e, &id, worker)?;
                r.outcome = outcome.into();
                r.slashed = slashed.0;
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
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;
    use crate::domain::{Family, ProposalId};
    use crate::text::ChainText;

    /// A job status case: name, events, then the job's status, worker, due time and attempts left.
    type StatusCase = (
        &'static str,
        Vec<ProtocolEvent>,
        &'static str,
        Option<u8>,
        Option<i64>,
        i32,
    );
    /// A payment as checked: block, kind, job, recipient, amount, fee, stream.
    type PaymentSeen<'a> = (i64, &'a str, Option<&'a str>, String, u64, u64, &'a str);
    /// A worker as checked: stake, pending, unlock time, jailed, slashed in all, capabilities.
    type WorkerSeen = (u64, u64, i64, bool, u64, i32);

    const CLIENT: u8 = 0xc1;
    const WORKER: u8 = 0xa1;
    const OTHER: u8 = 0xa2;
    const TREASURY: u8 = 0xfe;

    fn addr(n: u8) -> Address {
        Address::parse(Family::Evm, &format!("0x{n:040x}")).expect("an EVM address")
    }

    fn a(n: u8) -> String {
        addr(n).to_string()
    }

    fn u(n: u64) -> U256 {
        U256::from(n)
    }

    fn amount(n: u64) -> Amount {
        Amount(u(n))
    }

    fn job(n: u64) -> JobId {
        JobId(u(n))
    }

    fn text(s: &str) -> ChainText {
        ChainText::from_bytes(s.as_bytes())
    }

    /// The event at `block`, log `log`, as an adapter hands it over.
    fn record(block: u64, log: u64, p: ProtocolEvent) -> EventRecord {
        let name = format!("{p:?}");
        let name = name.split([' ', '{']).next().unwrap_or_default().to_owned();
        EventRecord {
            chain_id: 31337,
            block_number: block,
            block_hash: format!("0x{block:064x}"),
            log_index: log,
            tx_hash: format!("0x{:064x}", block * 1000 + log),
            contract: "JobManager".into(),
            address: a(0x99),
            event: name,
            stream: p.stream().to_string(),
            args: serde_json::json!({}),
            protocol: Some(Box::new(p)),
        }
    }

    /// Applies `events` in order to `p`, the i-th at block 10 + i (log 0).
    fn apply_to(p: &mut Projection, events: Vec<ProtocolEvent>) -> Result<()> {
        for (i, e) in events.into_iter().enumerate() {
            p.apply(&record(10 + i as u64, 0, e))?;
        }
        Ok(())
    }

    /// The rows `events` make from nothing.
    fn project(events: Vec<ProtocolEvent>) -> Projection {
        let mut p = Projection::default();
        apply_to(&mut p, events).expect("the events apply");
        p
    }

    /// Why `events` are refused.
    fn refusal(case: &str, events: Vec<ProtocolEvent>) -> String {
        match apply_to(&mut Projection::default(), events) {
            Err(Error::Inconsistent(why)) => why,
            other => panic!("{case}: expected a refusal, got {other:?}"),
        }
    }

    fn posted(id: u64, max_attempts: u32) -> ProtocolEvent {
        ProtocolEvent::JobPosted {
            job: job(id),
            client: addr(CLIENT),
            spec_hash: "0x5bec".into(),
            spec_uri: text("ipfs://spec"),
            required_capabilities: 3,
            reward: amount(1_000),
            deadline: 5_000,
            max_attempts,
        }
    }

    fn assigned(id: u64, worker: u8, due: u64, attempts_left: u32) -> ProtocolEvent {
        ProtocolEvent::JobAssigned {
            job: job(id),
            worker: addr(worker),
            due,
            attempts_left,
        }
    }

    fn submitted(id: u64, worker: u8, challenge_ends_at: u64) -> ProtocolEvent {
        ProtocolEvent::ResultSubmitted {
            job: job(id),
            worker: addr(worker),
            da_kind: 1,
            commitment: "0xc0ffee".into(),
            size: u(42),
            locator: ChainText::from_bytes(b"local:\xff"),
            challenge_ends_at,
        }
    }

    fn disputed(id: u64, resolve_by: u64, bond: u64) -> ProtocolEvent {
        ProtocolEvent::JobDisputed {
            job: job(id),
            resolve_by,
            bond: amount(bond),
        }
    }

    fn paid(id: u64, worker: u8) -> ProtocolEvent {
        ProtocolEvent::JobPaid {
            job: job(id),
            worker: addr(worker),
            amount: amount(975),
            fee: amount(25),
        }
    }

    fn refunded(id: u64) -> ProtocolEvent {
        ProtocolEvent::JobRefunded {
            job: job(id),
            client: addr(CLIENT),
            amount: amount(1_000),
        }
    }

    fn expired(id: u64, slashed: u64, reopened: bool) -> ProtocolEvent {
        ProtocolEvent::AssignmentExpired {
            job: job(id),
            slashed: amount(slashed),
            reopened,
        }
    }

    fn declined(id: u64, fee: u64, reopened: bool) -> ProtocolEvent {
        ProtocolEvent::JobDeclined {
            job: job(id),
            worker: addr(WORKER),
            fee: amount(fee),
            reopened,
        }
    }

    fn cancelled(id: u64) -> ProtocolEvent {
        ProtocolEvent::JobCancelled {
            job: job(id),
            client: addr(CLIENT),
            refund: amount(1_000),
        }
    }

    fn registered(worker: u8) -> ProtocolEvent {
        ProtocolEvent::WorkerRegistered {
            worker: addr(worker),
            capabilities: 7,
            metadata_uri: text("https://worker"),
        }
    }

    fn staked(worker: u8, stake: u64) -> ProtocolEvent {
        ProtocolEvent::Staked {
            worker: addr(worker),
            stake: amount(stake),
        }
    }

    fn slashed(
        worker: u8,
        job_id: Option<u64>,
        from_stake: u64,
        from_pending: u64,
    ) -> ProtocolEvent {
        ProtocolEvent::WorkerSlashed {
            worker: addr(worker),
            job: job_id.map(job),
            recipient: addr(TREASURY),
            amount: amount(from_stake + from_pending),
            from_stake: amount(from_stake),
            from_pending: amount(from_pending),
        }
    }

    fn proposal(id: u64) -> ProtocolEvent {
        ProtocolEvent::ProposalCreated {
            proposal: ProposalId(u(id)),
            proposer: addr(CLIENT),
            description: text("raise the fee"),
            targets: vec![addr(0x99)],
            calldatas: vec!["0x1234".into()],
            vote_start: 100,
            vote_end: 200,
        }
    }

    fn vote(id: u64, voter: u8, support: u8, weight: u64) -> ProtocolEvent {
        ProtocolEvent::VoteCast {
            proposal: ProposalId(u(id)),
            voter: addr(voter),
            support,
            weight: amount(weight),
            reason: text("because"),
        }
    }

    fn supply(amount_: u64, minted: bool) -> ProtocolEvent {
        ProtocolEvent::SupplyChanged {
            amount: amount(amount_),
            minted,
        }
    }

    #[test]
    fn job_status_follows_every_transition() {
        // (case, events, status, worker, due, attempts left)
        let cases: Vec<StatusCase> = vec![
            ("posted", vec![posted(1, 2)], "open", None, None, 2),
            (
                "assigned",
                vec![posted(1, 2), assigned(1, WORKER, 100, 1)],
                "assigned",
                Some(WORKER),
                Some(100),
                1,
            ),
            (
                "submitted",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                ],
                "submitted",
                Some(WORKER),
                Some(200),
                1,
            ),
            (
                "accepted or finalized",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    paid(1, WORKER),
                ],
                "paid",
                Some(WORKER),
                Some(200),
                1,
            ),
            (
                "disputed",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    disputed(1, 300, 50),
                ],
                "disputed",
                Some(WORKER),
                Some(300),
                1,
            ),
            (
                "dispute resolved for the worker",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    disputed(1, 300, 50),
                    paid(1, WORKER),
                ],
                "paid",
                Some(WORKER),
                Some(300),
                1,
            ),
            (
                "dispute resolved for the client",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    disputed(1, 300, 50),
                    refunded(1),
                ],
                "refunded",
                Some(WORKER),
                Some(300),
                1,
            ),
            (
                "expired and reopened",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    expired(1, 10, true),
                ],
                "open",
                None,
                None,
                1,
            ),
            (
                "expired on the last attempt (the refund follows)",
                vec![
                    posted(1, 1),
                    assigned(1, WORKER, 100, 0),
                    expired(1, 10, false),
                ],
                "assigned",
                Some(WORKER),
                Some(100),
                0,
            ),
            (
                "expired, then refunded",
                vec![
                    posted(1, 1),
                    assigned(1, WORKER, 100, 0),
                    expired(1, 10, false),
                    refunded(1),
                ],
                "refunded",
                Some(WORKER),
                Some(100),
                0,
            ),
            (
                "declined and reopened",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    declined(1, 3, true),
                ],
                "open",
                None,
                None,
                1,
            ),
            (
                "declined on the last attempt",
                vec![
                    posted(1, 1),
                    assigned(1, WORKER, 100, 0),
                    declined(1, 3, false),
                ],
                "assigned",
                Some(WORKER),
                Some(100),
                0,
            ),
            (
                "cancelled",
                vec![posted(1, 2), cancelled(1)],
                "cancelled",
                None,
                None,
                2,
            ),
            (
                "refunded at the deadline, never assigned",
                vec![posted(1, 2), refunded(1)],
                "refunded",
                None,
                None,
                2,
            ),
            (
                "reopened, then assigned to another worker",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    expired(1, 10, true),
                    assigned(1, OTHER, 400, 0),
                ],
                "assigned",
                Some(OTHER),
                Some(400),
                0,
            ),
        ];
        for (case, events, status, worker, due, left) in cases {
            let last_block = 10 + events.len() as i64 - 1;
            let p = project(events);
            let row = &p.jobs["1"];
            assert_eq!(row.status, status, "{case}");
            assert_eq!(row.worker, worker.map(a), "{case}");
            assert_eq!(row.due, due, "{case}");
            assert_eq!(row.attempts_left, left, "{case}");
            assert_eq!(row.posted_block, 10, "{case}");
            assert_eq!(row.updated_block, last_block, "{case}");
            assert_eq!(row.stream, "job:1", "{case}");
            assert!(
                p.stored_jobs.is_empty(),
                "{case}: nothing was stored before"
            );
        }
    }

    #[test]
    fn a_posted_job_keeps_what_the_client_asked() {
        let p = project(vec![posted(7, 3)]);
        assert_eq!(
            p.jobs["7"],
            JobRow {
                stream: "job:7".into(),
                client: a(CLIENT),
                spec_hash: "0x5bec".into(),
                spec_uri: text("ipfs://spec"),
                required_capabilities: 3,
                reward: u(1_000),
                deadline: 5_000,
                max_attempts: 3,
                attempts_left: 3,
                status: "open".into(),
                worker: None,
                due: None,
                posted_block: 10,
                updated_block: 10,
                redundancy: 1,
                threshold: 1,
                consensus: None,
            }
        );
    }

    /// A 2-of-3 job: replicas gather, commit, reveal; two agree, the third dissents and is slashed; the
    /// agreeing two are paid. Then one where the reveals disagree and a silent replica is slashed.
    #[test]
    fn a_redundant_job_records_each_replica() {
        const THIRD: u8 = 0xa3;
        let right = "0x11".to_owned();
        let wrong = "0x22".to_owned();
        let assigned = |w: u8, n: u32| ProtocolEvent::ReplicaAssigned {
            job: job(1),
            worker: addr(w),
            replica: n,
            commit_due: 100,
        };
        let committed = |w: u8| ProtocolEvent::ResultCommitted {
            job: job(1),
            worker: addr(w),
            sealed_result: format!("0x5e{w:02x}"),
        };
        let revealed = |w: u8, c: &str| ProtocolEvent::ResultRevealed {
            job: job(1),
            worker: addr(w),
            da_kind: 1,
            commitment: c.to_owned(),
            size: u(64),
            locator: text("accord:sha256:11"),
        };
        let mut events = vec![
            posted(1, 1),
            ProtocolEvent::RedundancyRequested {
                job: job(1),
                redundancy: 3,
                threshold: 2,
            },
            assigned(WORKER, 1),
            assigned(OTHER, 2),
        ];
        let p = project(events.clone());
        assert_eq!(p.jobs["1"].status, "gathering");
        events.push(assigned(THIRD, 3));
        let p = project(events.clone());
        assert_eq!(
            (
                p.jobs["1"].status.as_str(),
                p.jobs["1"].due,
                p.jobs["1"].redundancy,
                p.jobs["1"].threshold
            ),
            ("committing", Some(100), 3, 2)
        );
        events.extend([
            committed(WORKER),
            committed(OTHER),
            committed(THIRD),
            ProtocolEvent::RevealOpened {
                job: job(1),
                committed: 3,
                reveal_due: 150,
            },
            revealed(WORKER, &right),
            revealed(OTHER, &right),
            revealed(THIRD, &wrong),
            ProtocolEvent::ConsensusReached {
                job: job(1),
                commitment: right.clone(),
                agreeing: 2,
                challenge_ends_at: 300,
            },
        ]);
        let p = project(events.clone());
        let job_row = &p.jobs["1"];
        assert_eq!(
            (
                job_row.status.as_str(),
                job_row.due,
                job_row.consensus.as_deref()
            ),
            ("submitted", Some(300), Some(right.as_str()))
        );
        let outcomes = |p: &Projection| -> Vec<(i32, String, String, u64)> {
            p.assignments
                .iter()
                .map(|((_, n), r)| {
                    (
                        *n,
                        r.worker.clone(),
                        r.outcome.clone(),
                        r.slashed.to::<u64>(),
                    )
                })
                .collect()
        };
        assert_eq!(
            outcomes(&p),
            vec![
                (1, a(WORKER), "agreed".into(), 0),
                (2, a(OTHER), "agreed".into(), 0),
                (3, a(THIRD), "dissented".into(), 0),
            ]
        );
        assert_eq!(
            p.assignments[&("1".into(), 3)].commitment.as_deref(),
            Some(wrong.as_str())
        );
        assert_eq!(
            p.assignments[&("1".into(), 1)].sealed_result.as_deref(),
            Some("0x5ea1")
        );
        // Each reveal is a result row under its replica's number.
        assert_eq!(p.results.len(), 3);
        assert_eq!(p.results[&("1".into(), 3)].commitment, wrong);
        events.extend([
            ProtocolEvent::JobPaid {
                job: job(1),
                worker: addr(WORKER),
                amount: amount(487),
                fee: amount(26),
            },
            ProtocolEvent::JobPaid {
                job: job(1),
                worker: addr(OTHER),
                amount: amount(487),
                fee: amount(0),
            },
            // The dissent is slashed once the result stands, after the payments.
            ProtocolEvent::ReplicaFaulted {
                job: job(1),
                worker: addr(THIRD),
                fault: 3,
                slashed: amount(40),
            },
        ]);
        let p = project(events);
        assert_eq!(p.jobs["1"].status, "paid");
        assert_eq!(
            outcomes(&p)
                .into_iter()
                .map(|o| (o.2, o.3))
                .collect::<Vec<_>>(),
            [
                ("paid".to_owned(), 0),
                ("paid".to_owned(), 0),
                ("dissented".to_owned(), 40)
            ]
        );
        assert_eq!(p.payments.iter().filter(|p| p.kind == "reward").count(), 2);

        // No consensus: the silent replica keeps its fault through the refund, the others are released.
        let p = project(vec![
            posted(1, 1),
            ProtocolEvent::RedundancyRequested {
                job: job(1),
                redundancy: 2,
                threshold: 2,
            },
            assigned(WORKER, 1),
            assigned(OTHER, 2),
            committed(WORKER),
            // The chain's order: the refund, then the faults.
            ProtocolEvent::ConsensusFailed {
                job: job(1),
                best: 0,
            },
            ProtocolEvent::JobRefunded {
                job: job(1),
                client: addr(CLIENT),
                amount: amount(1_000),
            },
            ProtocolEvent::ReplicaFaulted {
                job: job(1),
                worker: addr(OTHER),
                fault: 1,
                slashed: amount(5),
            },
        ]);
        assert_eq!(
            outcomes(&p),
            vec![
                (1, a(WORKER), "refunded".into(), 0),
                (2, a(OTHER), "no_commit".into(), 5)
            ]
        );
        // A replica event for a worker that holds no replica is refused.
        let why = refusal(
            "stranger",
            vec![
                posted(1, 1),
                ProtocolEvent::RedundancyRequested {
                    job: job(1),
                    redundancy: 2,
                    threshold: 2,
                },
                committed(THIRD),
            ],
        );
        assert!(why.contains("holds no replica of job 1"), "{why}");
    }

    #[test]
    fn each_attempt_records_its_outcome() {
        // (case, events, attempts as (attempt, worker, outcome, slashed, dispute bond))
        type Attempt = (i32, u8, &'static str, u64, u64);
        let cases: Vec<(&str, Vec<ProtocolEvent>, Vec<Attempt>)> = vec![
            (
                "assigned",
                vec![posted(1, 2), assigned(1, WORKER, 100, 1)],
                vec![(1, WORKER, "active", 0, 0)],
            ),
            (
                "submitted",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                ],
                vec![(1, WORKER, "submitted", 0, 0)],
            ),
            (
                "disputed with a bond",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    disputed(1, 300, 50),
                ],
                vec![(1, WORKER, "disputed", 0, 50)],
            ),
            (
                "paid",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    paid(1, WORKER),
                ],
                vec![(1, WORKER, "paid", 0, 0)],
            ),
            (
                "refunded after a result",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    submitted(1, WORKER, 200),
                    refunded(1),
                ],
                vec![(1, WORKER, "refunded", 0, 0)],
            ),
            (
                "expired with a slash",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    expired(1, 10, true),
                ],
                vec![(1, WORKER, "expired", 10, 0)],
            ),
            (
                "an expired attempt stays expired through the refund",
                vec![
                    posted(1, 1),
                    assigned(1, WORKER, 100, 0),
                    expired(1, 10, false),
                    refunded(1),
                ],
                vec![(1, WORKER, "expired", 10, 0)],
            ),
            (
                "declined for a fee",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    declined(1, 3, true),
                ],
                vec![(1, WORKER, "declined", 3, 0)],
            ),
            (
                "a declined attempt stays declined through the refund",
                vec![
                    posted(1, 1),
                    assigned(1, WORKER, 100, 0),
                    declined(1, 3, false),
                    refunded(1),
                ],
                vec![(1, WORKER, "declined", 3, 0)],
            ),
            (
                "reassigned after an expiry",
                vec![
                    posted(1, 2),
                    assigned(1, WORKER, 100, 1),
                    expired(1, 10, true),
                    assigned(1, OTHER, 400, 0),
                ],
                vec![(1, WORKER, "expired", 10, 0), (2, OTHER, "active", 0, 0)],
            ),
            (
                "refunded, never assigned",
                vec![posted(1, 2), refunded(1)],
                vec![],
            ),
        ];
        for (case, events, want) in cases {
            let p = project(events);
            let got: Vec<(i32, String, &str, u64, u64)> = p
                .assignments
                .iter()
                .map(|((id, attempt), r)| {
                    assert_eq!(id, "1", "{case}");
                    (
                        *attempt,
                        r.worker.clone(),
                        r.outcome.as_str(),
                        r.slashed.to::<u64>(),
                        r.dispute_bond.to::<u64>(),
                    )
                })
                .collect();
            let want: Vec<(i32, String, &str, u64, u64)> = want
                .into_iter()
                .map(|(attempt, worker, outcome, slashed, bond)| {
                    (attempt, a(worker), outcome, slashed, bond)
                })
                .collect();
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn a_result_is_recorded_with_its_attempt_and_exact_locator() {
        let p = project(vec![
            posted(1, 2),
            assigned(1, WORKER, 100, 1),
            submitted(1, WORKER, 200),
        ]);
        assert_eq!(
            p.results[&("1".to_owned(), 1)],
            ResultRow {
                stream: "job:1".into(),
                worker: a(WORKER),
                da_kind: 1,
                commitment: "0xc0ffee".into(),
                size: u(42),
                locator: ChainText {
                    text: "local:\u{FFFD}".into(),
                    raw: Some(b"local:\xff".to_vec()),
                },
                challenge_ends_at: 200,
                block_number: 12,
                tx_hash: format!("0x{:064x}", 12_000),
            }
        );
    }

    #[test]
    fn money_leaving_escrow_is_a_payment() {
        let p = project(vec![
            posted(1, 2),
            cancelled(1),
            posted(2, 2),
            assigned(2, WORKER, 100, 1),
            submitted(2, WORKER, 200),
            disputed(2, 300, 50),
            ProtocolEvent::DisputeBondReleased {
                job: job(2),
                to: addr(WORKER),
                amount: amount(50),
            },
            paid(2, WORKER),
            posted(3, 1),
            assigned(3, OTHER, 100, 0),
            expired(3, 10, false),
            ProtocolEvent::SlashDistributed {
                job: job(3),
                client: addr(CLIENT),
                compensation: amount(8),
                fee: amount(2),
            },
            refunded(3),
            ProtocolEvent::FeesSwept {
                treasury: addr(TREASURY),
                amount: amount(27),
            },
        ]);
        let got: Vec<PaymentSeen<'_>> = p
            .payments
            .iter()
            .map(|r| {
                (
                    r.block_number,
                    r.kind,
                    r.job_id.as_deref(),
                    r.recipient.clone(),
                    r.amount.to::<u64>(),
                    r.fee.to::<u64>(),
                    r.stream.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (11, "refund", Some("1"), a(CLIENT), 1_000, 0, "job:1"),
                (16, "dispute_bond", Some("2"), a(WORKER), 50, 0, "job:2"),
                (17, "reward", Some("2"), a(WORKER), 975, 25, "job:2"),
                (21, "compensation", Some("3"), a(CLIENT), 8, 2, "job:3"),
                (22, "refund", Some("3"), a(CLIENT), 1_000, 0, "job:3"),
                (23, "fee_sweep", None, a(TREASURY), 27, 0, "fees"),
            ]
        );
        assert!(p.payments.iter().all(|r| r.log_index == 0));
    }

    #[test]
    fn a_worker_row_follows_its_stake() {
        // (event, then: stake, pending, unlock_at, jailed, slashed_total, capabilities)
        let steps: Vec<(ProtocolEvent, WorkerSeen)> = vec![
            (registered(WORKER), (0, 0, 0, false, 0, 7)),
            (staked(WORKER, 100), (100, 0, 0, false, 0, 7)),
            (
                ProtocolEvent::UnstakeRequested {
                    worker: addr(WORKER),
                    stake: amount(60),
                    pending: amount(40),
                    unlock_at: 999,
                },
                (60, 40, 999, false, 0, 7),
            ),
            (slashed(WORKER, Some(1), 10, 5), (50, 35, 999, false, 15, 7)),
            (
                ProtocolEvent::WorkerJailed {
                    worker: addr(WORKER),
                    jailed: true,
                },
                (50, 35, 999, true, 15, 7),
            ),
            (
                ProtocolEvent::Withdrawn {
                    worker: addr(WORKER),
                },
                (50, 0, 0, true, 15, 7),
            ),
            (
                ProtocolEvent::WorkerJailed {
                    worker: addr(WORKER),
                    jailed: false,
                },
                (50, 0, 0, false, 15, 7),
            ),
            (slashed(WORKER, None, 50, 0), (0, 0, 0, false, 65, 7)),
            (
                ProtocolEvent::WorkerUpdated {
                    worker: addr(WORKER),
                    capabilities: 1,
                    metadata_uri: text("https://elsewhere"),
                },
                (0, 0, 0, false, 65, 1),
            ),
        ];
        let mut p = Projection::default();
        for (i, (event, want)) in steps.into_iter().enumerate() {
            let block = 10 + i as u64;
            p.apply(&record(block, 0, event)).expect("applies");
            let w = &p.workers[&a(WORKER)];
            let got = (
                w.stake.to::<u64>(),
                w.pending.to::<u64>(),
                w.unlock_at,
                w.jailed,
                w.slashed_total.to::<u64>(),
                w.capabilities,
            );
            assert_eq!(got, want, "after event {i}");
            assert_eq!(w.updated_block, block as i64);
            assert_eq!(w.registered_block, 10);
            assert_eq!(w.stream, format!("worker:{}", a(WORKER)));
        }
        assert_eq!(
            p.workers[&a(WORKER)].metadata_uri,
            text("https://elsewhere")
        );
        let slashes: Vec<(i64, Option<&str>, u64, u64, u64)> = p
            .slashes
            .iter()
            .map(|s| {
                (
                    s.block_number,
                    s.job_id.as_deref(),
                    s.amount.to::<u64>(),
                    s.from_stake.to::<u64>(),
                    s.from_pending.to::<u64>(),
                )
            })
            .collect();
        assert_eq!(
            slashes,
            vec![(13, Some("1"), 15, 10, 5), (17, None, 50, 50, 0)]
        );
        assert!(
            p.slashes
                .iter()
                .all(|s| s.recipient == a(TREASURY) && s.worker == a(WORKER))
        );
    }

    #[test]
    fn a_proposal_tallies_its_votes_and_follows_its_lifecycle() {
        let id = ProposalId(u(5));
        let mut p = project(vec![
            proposal(5),
            vote(5, 0xb1, 1, 300),
            vote(5, 0xb2, 0, 100),
            vote(5, 0xb3, 2, 50),
            vote(5, 0xb4, 1, 20),
        ]);
        let row = &p.proposals["5"];
        assert_eq!(
            (row.for_votes, row.against_votes, row.abstain_votes),
            (u(320), u(100), u(50))
        );
        assert_eq!(
            (row.vote_start, row.vote_end, row.created_block),
            (100, 200, 10)
        );
        assert_eq!(row.targets, vec![a(0x99)]);
        assert_eq!(row.calldatas, vec!["0x1234".to_owned()]);
        assert_eq!(
            (row.queued_eta, row.executed, row.canceled),
            (None, false, false)
        );
        assert_eq!(
            p.votes[&("5".to_owned(), a(0xb2))],
            VoteRow {
                stream: "proposal:5".into(),
                support: 0,
                weight: u(100),
                reason: text("because"),
                block_number: 12,
            }
        );
        assert_eq!(p.votes.len(), 4);
        apply_to(
            &mut p,
            vec![
                ProtocolEvent::ProposalQueued {
                    proposal: id,
                    eta: 7_777,
                },
                ProtocolEvent::ProposalExecuted { proposal: id },
            ],
        )
        .expect("applies");
        let row = &p.proposals["5"];
        assert_eq!(
            (row.queued_eta, row.executed, row.canceled),
            (Some(7_777), true, false)
        );
        apply_to(
            &mut p,
            vec![ProtocolEvent::ProposalCanceled { proposal: id }],
        )
        .expect("applies");
        assert!(p.proposals["5"].canceled);
    }

    #[test]
    fn parameters_supply_and_roles_keep_their_current_value() {
        let p = project(vec![
            ProtocolEvent::ParameterUpdated {
                contract: Contract::JobManager,
                key: "protocolFeeBps".into(),
                value: u(250),
            },
            ProtocolEvent::ParameterUpdated {
                contract: Contract::JobManager,
                key: "protocolFeeBps".into(),
                value: u(300),
            },
            supply(1_000, true),
            supply(300, false),
            ProtocolEvent::RoleGranted {
                contract: Contract::JobManager,
                role: "0xc0".into(),
                account: addr(WORKER),
            },
            ProtocolEvent::RoleGranted {
                contract: Contract::JobManager,
                role: "0xc0".into(),
                account: addr(OTHER),
            },
            ProtocolEvent::RoleRevoked {
                contract: Contract::JobManager,
                role: "0xc0".into(),
                account: addr(OTHER),
            },
        ]);
        assert_eq!(
            p.params[&("JobManager".to_owned(), "protocolFeeBps".to_owned())],
            ParamRow {
                stream: "param:JobManager:protocolFeeBps".into(),
                value: u(300),
                block_number: 11,
            }
        );
        assert_eq!(
            p.params[&("AccordToken".to_owned(), "totalSupply".to_owned())],
            ParamRow {
                stream: "param:AccordToken:totalSupply".into(),
                value: u(700),
                block_number: 13,
            }
        );
        let role =
            |account: u8| &p.roles[&("JobManager".to_owned(), "0xc0".to_owned(), a(account))];
        assert_eq!(
            role(WORKER),
            &Some(RoleRow {
                stream: format!("role:JobManager:0xc0:{}", a(WORKER)),
                block_number: 14,
            })
        );
        // A revoked role's row is deleted on write.
        assert_eq!(role(OTHER), &None);
    }

    #[test]
    fn events_apply_on_top_of_the_stored_rows() {
        // As loaded: job 1 assigned at its first attempt, the supply 500, both stored before the batch.
        let mut p = project(vec![
            posted(1, 2),
            assigned(1, WORKER, 100, 1),
            supply(500, true),
        ]);
        p.stored_jobs.insert("1".into());
        p.stored_assignments.insert(("1".into(), 1));
        apply_to(&mut p, vec![submitted(1, WORKER, 200), supply(100, true)]).expect("applies");
        assert_eq!(p.jobs["1"].status, "submitted");
        assert_eq!(p.assignments[&("1".to_owned(), 1)].outcome, "submitted");
        assert!(p.stored_jobs.contains("1") && p.stored_assignments.contains(&("1".to_owned(), 1)));
        assert_eq!(
            p.params[&("AccordToken".to_owned(), "totalSupply".to_owned())].value,
            u(600)
        );
    }

    #[test]
    fn events_without_a_protocol_meaning_change_nothing() {
        let mut p = Projection::default();
        let mut approval = record(
            10,
            3,
            ProtocolEvent::FeesSwept {
                treasury: addr(TREASURY),
                amount: amount(1),
            },
        );
        approval.protocol = None;
        approval.event = "Approval".into();
        p.apply(&approval).expect("ignored");
        assert!(
            p.jobs.is_empty()
                && p.payments.is_empty()
                && p.workers.is_empty()
                && p.params.is_empty()
        );
    }

    #[test]
    fn a_log_applied_twice_is_not_hidden() {
        // Exactly-once is the raw log's key: a batch holding a log twice fails there. Here the second copy of a
        // payment is a second row at the same position, which the payments key would refuse too; a repeated
        // assignment of the same attempt is the same row.
        let mut p = project(vec![posted(1, 2), cancelled(1)]);
        p.apply(&record(11, 0, cancelled(1))).expect("applies");
        assert_eq!(p.payments.len(), 2);
        assert_eq!(
            (p.payments[0].block_number, p.payments[0].log_index),
            (p.payments[1].block_number, p.payments[1].log_index)
        );
        let p = project(vec![
            posted(2, 2),
            assigned(2, WORKER, 100, 1),
            assigned(2, WORKER, 100, 1),
        ]);
        assert_eq!(p.assignments.len(), 1);
    }

    #[test]
    fn contradicting_events_are_refused() {
        let huge = u64::MAX;
        let cases: Vec<(&str, Vec<ProtocolEvent>, &str)> = vec![
            (
                "assigned before posted",
                vec![assigned(9, WORKER, 100, 1)],
                "job 9 was never posted",
            ),
            (
                "a result for an unknown job",
                vec![submitted(9, WORKER, 200)],
                "job 9 was never posted",
            ),
            (
                "paid, never posted",
                vec![paid(9, WORKER)],
                "job 9 was never posted",
            ),
            (
                "cancelled, never posted",
                vec![cancelled(9)],
                "job 9 was never posted",
            ),
            (
                "refunded, never posted",
                vec![refunded(9)],
                "job 9 was never posted",
            ),
            (
                "a result before any assignment",
                vec![posted(1, 2), submitted(1, WORKER, 200)],
                "job 1 has no assignment 0",
            ),
            (
                "disputed, never assigned",
                vec![posted(1, 2), disputed(1, 300, 5)],
                "job 1 has no assignment 0",
            ),
            (
                "expired, never assigned",
                vec![posted(1, 2), expired(1, 5, true)],
                "job 1 has no assignment 0",
            ),
            (
                "declined, never assigned",
                vec![posted(1, 2), declined(1, 5, true)],
                "job 1 has no assignment 0",
            ),
            (
                "paid, never assigned",
                vec![posted(1, 2), paid(1, WORKER)],
                "job 1 has no assignment 0",
            ),
            (
                "staked, never registered",
                vec![staked(WORKER, 5)],
                "never registered",
            ),
            (
                "jailed, never registered",
                vec![ProtocolEvent::WorkerJailed {
                    worker: addr(WORKER),
                    jailed: true,
                }],
                "never registered",
            ),
            (
                "a slash beyond the stake",
                vec![
                    registered(WORKER),
                    staked(WORKER, 5),
                    slashed(WORKER, None, 6, 0),
                ],
                "slash exceeds stake",
            ),
            (
                "a slash beyond the pending stake",
                vec![
                    registered(WORKER),
                    staked(WORKER, 5),
                    slashed(WORKER, None, 1, 1),
                ],
                "slash exceeds pending",
            ),
            (
                "a vote on an unknown proposal",
                vec![vote(7, 0xb1, 1, 1)],
                "proposal 7 was never created",
            ),
            (
                "queued, never created",
                vec![ProtocolEvent::ProposalQueued {
                    proposal: ProposalId(u(7)),
                    eta: 1,
                }],
                "proposal 7 was never created",
            ),
            (
                "executed, never created",
                vec![ProtocolEvent::ProposalExecuted {
                    proposal: ProposalId(u(7)),
                }],
                "proposal 7 was never created",
            ),
            (
                "a burn beyond the supply",
                vec![supply(5, true), supply(6, false)],
                "burn exceeds supply",
            ),
            (
                "a deadline past 63 bits",
                vec![ProtocolEvent::JobPosted {
                    job: job(1),
                    client: addr(CLIENT),
                    spec_hash: "0x".into(),
                    spec_uri: text(""),
                    required_capabilities: 0,
                    reward: amount(1),
                    deadline: huge,
                    max_attempts: 1,
                }],
                "argument deadline exceeds 63 bits",
            ),
            (
                "attempts past 31 bits",
                vec![posted(1, u32::MAX)],
                "argument maxAttempts exceeds 31 bits",
            ),
            (
                "a due time past 63 bits",
                vec![posted(1, 2), assigned(1, WORKER, huge, 1)],
                "argument due exceeds 63 bits",
            ),
            (
                "capabilities past 31 bits",
                vec![ProtocolEvent::WorkerRegistered {
                    worker: addr(WORKER),
                    capabilities: u32::MAX,
                    metadata_uri: text(""),
                }],
                "argument capabilities exceeds 31 bits",
            ),
        ];
        for (case, events, why) in cases {
            let message = refusal(case, events);
            assert!(message.contains(why), "{case}: {message}");
        }
        // The message names the event and its position.
        let message = refusal("named", vec![posted(1, 2), staked(WORKER, 5)]);
        assert!(
            message.starts_with("JobManager.Staked at block 11 log 0: "),
            "{message}"
        );
    }
}
