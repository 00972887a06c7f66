//! What the protocol's events mean, for every chain family: [`protocol_event`] reads an event's arguments in
//! their canonical shape (the Solidity contracts' argument names; integers as decimal strings, `bytes32` values
//! and hashes as 0x-hex, addresses in the family's normal form) into a [`ProtocolEvent`], and [`stream_of`]
//! picks the stream of the events that have none. Each family's codec brings its own records into that shape
//! (EVM records already are; Starknet's are renamed and re-encoded by `starknet::protocol`); the live indexer and
//! a reorg's replay from `raw_events` both read records through the codec, so they cannot disagree.

use serde_json::Value;

use crate::domain::{
    Address, Amount, Contract, Family, JobId, ProposalId, ProtocolEvent, Stream, U256,
    parse_decimal,
};
use crate::text::ChainText;

/// The arguments of one event, read by name; addresses in `family`'s form.
struct Args<'a> {
    args: &'a Value,
    family: Family,
}

impl Args<'_> {
    fn str(&self, name: &str) -> Result<&str, String> {
        self.args
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("argument {name} missing"))
    }
    fn text(&self, name: &str) -> Result<ChainText, String> {
        ChainText::from_args(self.args, name)
            .ok_or_else(|| format!("argument {name} missing or malformed"))
    }
    fn u256(&self, name: &str) -> Result<U256, String> {
        let s = self.str(name)?;
        parse_decimal(s).map_err(|_| format!("argument {name}={s} is not an integer"))
    }
    fn amount(&self, name: &str) -> Result<Amount, String> {
        self.u256(name).map(Amount)
    }
    fn u64(&self, name: &str) -> Result<u64, String> {
        u64::try_from(self.u256(name)?).map_err(|_| format!("argument {name} exceeds 64 bits"))
    }
    fn u32(&self, name: &str) -> Result<u32, String> {
        u32::try_from(self.u256(name)?).map_err(|_| format!("argument {name} exceeds 32 bits"))
    }
    fn job(&self, name: &str) -> Result<JobId, String> {
        self.u256(name).map(JobId)
    }
    fn proposal(&self) -> Result<ProposalId, String> {
        self.u256("proposalId").map(ProposalId)
    }
    fn address(&self, name: &str) -> Result<Address, String> {
        Address::parse(self.family, self.str(name)?).map_err(|e| format!("argument {name}: {e}"))
    }
    fn bool(&self, name: &str) -> Result<bool, String> {
        self.args
            .get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("argument {name} missing"))
    }
    fn list(&self, name: &str) -> Result<Vec<&str>, String> {
        let list = self
            .args
            .get(name)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("argument {name} missing"))?;
        list.iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| format!("argument {name} holds a non-string"))
            })
            .collect()
    }
}

/// The protocol event of `contract`.`event` with `args`; `None` when it changes no derived row.
pub fn protocol_event(
    family: Family,
    contract: &str,
    event: &str,
    args: &Value,
) -> Result<Option<ProtocolEvent>, String> {
    use ProtocolEvent::*;
    let Some(contract) = Contract::from_name(contract) else {
        return Ok(None);
    };
    let a = Args { args, family };
    let governor_param = |key: &str, arg: &str| -> Result<ProtocolEvent, String> {
        Ok(ParameterUpdated {
            contract: Contract::Governor,
            key: key.into(),
            value: a.u256(arg)?,
        })
    };
    let e = match (contract, event) {
        (Contract::JobManager, "JobPosted") => JobPosted {
            job: a.job("jobId")?,
            client: a.address("client")?,
            spec_hash: a.str("specHash")?.to_owned(),
            spec_uri: a.text("specURI")?,
            required_capabilities: a.u32("requiredCapabilities")?,
            reward: a.amount("reward")?,
            deadline: a.u64("deadline")?,
            max_attempts: a.u32("maxAttempts")?,
        },
        (Contract::JobManager, "JobCancelled") => JobCancelled {
            job: a.job("jobId")?,
            client: a.address("client")?,
            refund: a.amount("refund")?,
        },
        (Contract::JobManager, "JobAssigned") => JobAssigned {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            due: a.u64("due")?,
            attempts_left: a.u32("attemptsLeft")?,
        },
        (Contract::JobManager, "ResultSubmitted") => ResultSubmitted {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            da_kind: a.u32("daKind")?,
            commitment: a.str("commitment")?.to_owned(),
            size: a.u256("size")?,
            locator: a.text("locator")?,
            challenge_ends_at: a.u64("challengeEndsAt")?,
        },
        (Contract::JobManager, "JobDisputed") => JobDisputed {
            job: a.job("jobId")?,
            resolve_by: a.u64("resolveBy")?,
            bond: a.amount("bond")?,
        },
        (Contract::JobManager, "JobDeclined") => JobDeclined {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            fee: a.amount("fee")?,
            reopened: a.bool("reopened")?,
        },
        (Contract::JobManager, "DisputeBondReleased") => DisputeBondReleased {
            job: a.job("jobId")?,
            to: a.address("to")?,
            amount: a.amount("amount")?,
        },
        (Contract::JobManager, "SlashDistributed") => SlashDistributed {
            job: a.job("jobId")?,
            client: a.address("client")?,
            compensation: a.amount("compensation")?,
            fee: a.amount("fee")?,
        },
        (Contract::JobManager, "AssignmentExpired") => AssignmentExpired {
            job: a.job("jobId")?,
            slashed: a.amount("slashed")?,
            reopened: a.bool("reopened")?,
        },
        (Contract::JobManager, "JobPaid") => JobPaid {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            amount: a.amount("amount")?,
            fee: a.amount("fee")?,
        },
        (Contract::JobManager, "JobRefunded") => JobRefunded {
            job: a.job("jobId")?,
            client: a.address("client")?,
            amount: a.amount("amount")?,
        },
        (Contract::JobManager, "RedundancyRequested") => RedundancyRequested {
            job: a.job("jobId")?,
            redundancy: a.u32("redundancy")?,
            threshold: a.u32("threshold")?,
        },
        (Contract::JobManager, "ReplicaAssigned") => ReplicaAssigned {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            replica: a.u32("replica")?,
            commit_due: a.u64("commitDue")?,
        },
        (Contract::JobManager, "ResultCommitted") => ResultCommitted {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            sealed_result: a.str("sealedResult")?.to_owned(),
        },
        (Contract::JobManager, "RevealOpened") => RevealOpened {
            job: a.job("jobId")?,
            committed: a.u32("committed")?,
            reveal_due: a.u64("revealDue")?,
        },
        (Contract::JobManager, "ResultRevealed") => ResultRevealed {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            da_kind: a.u32("daKind")?,
            commitment: a.str("commitment")?.to_owned(),
            size: a.u256("size")?,
            locator: a.text("locator")?,
        },
        (Contract::JobManager, "ConsensusReached") => ConsensusReached {
            job: a.job("jobId")?,
            commitment: a.str("commitment")?.to_owned(),
            agreeing: a.u32("agreeing")?,
            challenge_ends_at: a.u64("challengeEndsAt")?,
        },
        (Contract::JobManager, "ConsensusFailed") => ConsensusFailed {
            job: a.job("jobId")?,
            best: a.u32("best")?,
        },
        (Contract::JobManager, "ReplicaFaulted") => ReplicaFaulted {
            job: a.job("jobId")?,
            worker: a.address("worker")?,
            fault: a.u32("fault")?,
            slashed: a.amount("slashed")?,
        },
        (Contract::JobManager, "FeesSwept") => FeesSwept {
            treasury: a.address("treasury")?,
            amount: a.amount("amount")?,
        },
        (contract, "ParameterUpdated") => ParameterUpdated {
            contract,
            key: bytes32_text(a.str("key")?),
            value: a.u256("current")?,
        },
        (contract, "RoleGranted") => RoleGranted {
            contract,
            role: a.str("role")?.to_owned(),
            account: a.address("account")?,
        },
        (contract, "RoleRevoked") => RoleRevoked {
            contract,
            role: a.str("role")?.to_owned(),
            account: a.address("account")?,
        },
        (Contract::WorkerRegistry, "WorkerRegistered") => WorkerRegistered {
            worker: a.address("worker")?,
            capabilities: a.u32("capabilities")?,
            metadata_uri: a.text("metadataURI")?,
        },
        (Contract::WorkerRegistry, "WorkerUpdated") => WorkerUpdated {
            worker: a.address("worker")?,
            capabilities: a.u32("capabilities")?,
            metadata_uri: a.text("metadataURI")?,
        },
        (Contract::WorkerRegistry, "Staked") => Staked {
            worker: a.address("worker")?,
            stake: a.amount("stake")?,
        },
        (Contract::WorkerRegistry, "UnstakeRequested") => UnstakeRequested {
            worker: a.address("worker")?,
            stake: a.amount("stake")?,
            pending: a.amount("pending")?,
            unlock_at: a.u64("unlockAt")?,
        },
        (Contract::WorkerRegistry, "Withdrawn") => Withdrawn {
            worker: a.address("worker")?,
        },
        (Contract::WorkerRegistry, "WorkerJailed" | "WorkerUnjailed") => WorkerJailed {
            worker: a.address("worker")?,
            jailed: event == "WorkerJailed",
        },
        (Contract::WorkerRegistry, "WorkerSlashed") => {
            let job = a.job("jobId")?;
            WorkerSlashed {
                worker: a.address("worker")?,
                job: (job.0 != U256::ZERO).then_some(job),
                recipient: a.address("recipient")?,
                amount: a.amount("amount")?,
                from_stake: a.amount("fromStake")?,
                from_pending: a.amount("fromPending")?,
            }
        }
        (Contract::Governor, "ProposalCreated") => ProposalCreated {
            proposal: a.proposal()?,
            proposer: a.address("proposer")?,
            description: a.text("description")?,
            targets: a
                .list("targets")?
                .into_iter()
                .map(|t| Address::parse(family, t).map_err(|e| format!("argument targets: {e}")))
                .collect::<Result<_, _>>()?,
            calldatas: a
                .list("calldatas")?
                .into_iter()
                .map(str::to_owned)
                .collect(),
            vote_start: a.u64("voteStart")?,
            vote_end: a.u64("voteEnd")?,
        },
        (Contract::Governor, "VoteCast" | "VoteCastWithParams") => VoteCast {
            proposal: a.proposal()?,
            voter: a.address("voter")?,
            support: u8::try_from(a.u32("support")?)
                .map_err(|_| "argument support exceeds 8 bits".to_owned())?,
            weight: a.amount("weight")?,
            reason: a.text("reason")?,
        },
        (Contract::Governor, "ProposalQueued") => ProposalQueued {
            proposal: a.proposal()?,
            eta: a.u64("etaSeconds")?,
        },
        (Contract::Governor, "ProposalExecuted") => ProposalExecuted {
            proposal: a.proposal()?,
        },
        (Contract::Governor, "ProposalCanceled") => ProposalCanceled {
            proposal: a.proposal()?,
        },
        (Contract::Governor, "QuorumNumeratorUpdated") => {
            governor_param("quorumNumerator", "newQuorumNumerator")?
        }
        (Contract::Governor, "VotingDelaySet") => governor_param("votingDelay", "newVotingDelay")?,
        (Contract::Governor, "VotingPeriodSet") => {
            governor_param("votingPeriod", "newVotingPeriod")?
        }
        (Contract::Governor, "ProposalThresholdSet") => {
            governor_param("proposalThreshold", "newProposalThreshold")?
        }
        (Contract::Token, "Transfer") => {
            let (from, to) = (a.address("from")?, a.address("to")?);
            if !from.is_zero() && !to.is_zero() {
                return Ok(None);
            }
            SupplyChanged {
                amount: a.amount("value")?,
                minted: from.is_zero(),
            }
        }
        // Everything else lives in raw_events only (approvals, delegation, timelock operations, skipped batch
        // entries, dispute rulings whose effect is the JobPaid/JobRefunded that follows).
        _ => return Ok(None),
    };
    Ok(Some(e))
}

/// The stream of an event: its protocol event's, or for the others the entity their arguments name.
pub fn stream_of(
    family: Family,
    contract: &str,
    protocol: Option<&ProtocolEvent>,
    args: &Value,
) -> Stream {
    if let Some(p) = protocol {
        return p.stream();
    }
    let Some(contract) = Contract::from_name(contract) else {
        // The decoder knows only the manifest's contracts; this keeps the function total.
        return Stream::Token;
    };
    let a = Args { args, family };
    let entity = match contract {
        Contract::JobManager => a.job("jobId").ok().map(Stream::Job),
        Contract::WorkerRegistry => a.address("worker").ok().map(Stream::Worker),
        Contract::Governor => a.proposal().ok().map(Stream::Proposal),
        Contract::Token => Some(Stream::Token),
        Contract::Timelock => None,
    };
    entity.unwrap_or(Stream::Contract(contract))
}

/// A bytes32 parameter key (`"minStake"` right-padded with zeros) as text.
pub fn bytes32_text(hex_value: &str) -> String {
    let digits = hex_value.trim_start_matches("0x");
    let bytes: Vec<u8> = (0..digits.len() / 2)
        .filter_map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok())
        .take_while(|b| *b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
