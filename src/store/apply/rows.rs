//! The derived rows as the projection sees them: one struct per table, keyed in [`Projection`] by the table's
//! primary key (less the chain id), amounts as [`U256`], chain strings as [`ChainText`].

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::U256;

use crate::text::ChainText;

/// A row of `jobs`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct JobRow {
    pub(super) stream: String,
    pub(super) client: String,
    pub(super) spec_hash: String,
    pub(super) spec_uri: ChainText,
    pub(super) required_capabilities: i32,
    pub(super) reward: U256,
    pub(super) deadline: i64,
    pub(super) max_attempts: i32,
    pub(super) attempts_left: i32,
    pub(super) status: String,
    pub(super) worker: Option<String>,
    pub(super) due: Option<i64>,
    pub(super) posted_block: i64,
    pub(super) updated_block: i64,
    /// Replicas the job runs on (1: a single worker).
    pub(super) redundancy: i32,
    /// Agreeing reveals needed (1 for a single worker).
    pub(super) threshold: i32,
    /// The agreed commitment of a redundant job, once reached.
    pub(super) consensus: Option<String>,
}

/// A row of `assignments`: one attempt of a job, or one replica of a redundant job (numbered from 1 like
/// attempts: a redundant job has a single attempt).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AssignmentRow {
    pub(super) stream: String,
    pub(super) worker: String,
    pub(super) due: i64,
    pub(super) outcome: String,
    pub(super) slashed: U256,
    pub(super) assigned_block: i64,
    pub(super) dispute_bond: U256,
    /// A replica's sealed result, once committed.
    pub(super) sealed_result: Option<String>,
    /// A replica's revealed commitment, once revealed.
    pub(super) commitment: Option<String>,
}

/// A row of `results`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ResultRow {
    pub(super) stream: String,
    pub(super) worker: String,
    pub(super) da_kind: i32,
    pub(super) commitment: String,
    pub(super) size: U256,
    pub(super) locator: ChainText,
    pub(super) challenge_ends_at: i64,
    pub(super) block_number: i64,
    pub(super) tx_hash: String,
}

/// A row of `payments`: money leaving escrow.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PaymentRow {
    pub(super) block_number: i64,
    pub(super) log_index: i64,
    pub(super) stream: String,
    pub(super) kind: &'static str,
    pub(super) job_id: Option<String>,
    pub(super) recipient: String,
    pub(super) amount: U256,
    pub(super) fee: U256,
    pub(super) tx_hash: String,
}

/// A row of `workers`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WorkerRow {
    pub(super) stream: String,
    pub(super) capabilities: i32,
    pub(super) metadata_uri: ChainText,
    pub(super) stake: U256,
    pub(super) pending: U256,
    pub(super) unlock_at: i64,
    pub(super) jailed: bool,
    pub(super) slashed_total: U256,
    pub(super) registered_block: i64,
    pub(super) updated_block: i64,
}

/// A row of `slashes`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SlashRow {
    pub(super) block_number: i64,
    pub(super) log_index: i64,
    pub(super) stream: String,
    pub(super) worker: String,
    pub(super) job_id: Option<String>,
    pub(super) recipient: String,
    pub(super) amount: U256,
    pub(super) from_stake: U256,
    pub(super) from_pending: U256,
    pub(super) tx_hash: String,
}

/// A row of `proposals`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ProposalRow {
    pub(super) stream: String,
    pub(super) proposer: String,
    pub(super) description: ChainText,
    pub(super) targets: Vec<String>,
    pub(super) calldatas: Vec<String>,
    pub(super) vote_start: i64,
    pub(super) vote_end: i64,
    pub(super) for_votes: U256,
    pub(super) against_votes: U256,
    pub(super) abstain_votes: U256,
    pub(super) queued_eta: Option<i64>,
    pub(super) executed: bool,
    pub(super) canceled: bool,
    pub(super) created_block: i64,
}

/// A row of `votes`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VoteRow {
    pub(super) stream: String,
    pub(super) support: i32,
    pub(super) weight: U256,
    pub(super) reason: ChainText,
    pub(super) block_number: i64,
}

/// A row of `params`: a governed parameter's current value.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ParamRow {
    pub(super) stream: String,
    pub(super) value: U256,
    pub(super) block_number: i64,
}

/// A row of `roles`: a current role holder.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RoleRow {
    pub(super) stream: String,
    pub(super) block_number: i64,
}

/// The rows a batch touches: as stored before it ([`Projection::load`]), then as its events leave them
/// ([`Projection::apply`]), then written back ([`Projection::write`]). BTreeMaps keep writes in key order (stable lock order, deterministic SQL).
#[derive(Debug, Default)]
pub(super) struct Projection {
    pub(super) jobs: BTreeMap<String, JobRow>,
    /// Jobs that were stored before this batch (updated in place; the others are new and copied in).
    pub(super) stored_jobs: BTreeSet<String>,
    pub(super) assignments: BTreeMap<(String, i32), AssignmentRow>,
    pub(super) stored_assignments: BTreeSet<(String, i32)>,
    pub(super) results: BTreeMap<(String, i32), ResultRow>,
    pub(super) payments: Vec<PaymentRow>,
    pub(super) workers: BTreeMap<String, WorkerRow>,
    pub(super) slashes: Vec<SlashRow>,
    pub(super) proposals: BTreeMap<String, ProposalRow>,
    pub(super) votes: BTreeMap<(String, String), VoteRow>,
    pub(super) params: BTreeMap<(String, String), ParamRow>,
    /// `None`: the role was revoked (the row is deleted).
    pub(super) roles: BTreeMap<(String, String, String), Option<RoleRow>>,
}
