//! `/v1/proposals`, `/v1/proposals/{id}`, `/v1/params`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Shared;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use super::workers::PageQuery;
use crate::text;

/// A proposal's state, computed from the index and the indexer's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ProposalState {
    /// Voting has not started (`head <= vote_start`, as OpenZeppelin's `state()` reads it at the head).
    Pending,
    /// Voting is open (`head <= vote_end`).
    Active,
    /// Canceled.
    Canceled,
    /// Voting ended without a majority or without quorum.
    Defeated,
    /// Voting ended with a majority (`for > against`) and quorum (`for + abstain >= quorum`).
    Succeeded,
    /// Queued in the timelock.
    Queued,
    /// Executed.
    Executed,
}

/// The proposal columns plus `quorum` and `state`, computed in SQL: the quorum is
/// `AccordToken.totalSupply * AccordGovernor.quorumNumerator / 100` from `params` (rounded down, like the
/// governor), `$2` is the indexer's head. An unknown quorum (params not indexed yet) counts as not reached.
macro_rules! proposal_select {
    () => {
        "SELECT p.proposal_id::text AS proposal_id, p.proposer, p.description,
            '0x' || encode(p.description_raw, 'hex') AS description_hex, p.targets, p.calldatas, p.vote_start,
            p.vote_end, p.for_votes::text AS for_votes, p.against_votes::text AS against_votes,
            p.abstain_votes::text AS abstain_votes, q.quorum::text AS quorum, p.queued_eta, p.executed, p.canceled,
            p.created_block,
            CASE WHEN p.canceled THEN 'Canceled'
                 WHEN p.executed THEN 'Executed'
                 WHEN p.queued_eta IS NOT NULL THEN 'Queued'
                 WHEN $2 <= p.vote_start THEN 'Pending'
                 WHEN $2 <= p.vote_end THEN 'Active'
                 WHEN p.for_votes > p.against_votes AND p.for_votes + p.abstain_votes >= q.quorum THEN 'Succeeded'
                 ELSE 'Defeated' END AS state
         FROM proposals p
         CROSS JOIN (SELECT div(
             (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordToken' AND key = 'totalSupply')
             * (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordGovernor' AND key = 'quorumNumerator'),
             100) AS quorum) q
         WHERE p.chain_id = $1"
    };
}

/// A governance proposal with its tallies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct Proposal {
    /// Proposal id (uint256, decimal).
    pub proposal_id: String,
    /// Who proposed it.
    pub proposer: String,
    /// Its description, exactly as proposed.
    pub description: String,
    /// The exact bytes of `description` (0x-hex) when they are not UTF-8: `description` then shows U+FFFD for each
    /// invalid sequence. Null when `description` is exact (a NUL byte is served as `\u0000`).
    pub description_hex: Option<String>,
    /// Call targets.
    pub targets: Vec<String>,
    /// Calldata per target (0x-hex).
    pub calldatas: Vec<String>,
    /// Block voting starts after.
    pub vote_start: i64,
    /// Last block of voting.
    pub vote_end: i64,
    /// Votes for (uint256, decimal).
    pub for_votes: String,
    /// Votes against (uint256, decimal).
    pub against_votes: String,
    /// Abstentions (uint256, decimal).
    pub abstain_votes: String,
    /// Votes needed (for + abstain), from the current supply and quorum numerator; null until both are indexed.
    pub quorum: Option<String>,
    /// Unix time the timelock lets it execute, once queued.
    pub queued_eta: Option<i64>,
    /// Whether it was executed.
    pub executed: bool,
    /// Whether it was canceled.
    pub canceled: bool,
    /// Block of `ProposalCreated`.
    pub created_block: i64,
    /// Computed state.
    #[schema(value_type = ProposalState)]
    pub state: String,
}

/// One vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Vote {
    /// The voter.
    pub voter: String,
    /// 0 against, 1 for, 2 abstain.
    pub support: i32,
    /// Voting weight (uint256, decimal).
    pub weight: String,
    /// The voter's reason, exactly as cast.
    pub reason: String,
    /// The exact bytes of `reason` (0x-hex) when they are not UTF-8: `reason` then shows U+FFFD for each
    /// invalid sequence. Null when `reason` is exact (a NUL byte is served as `\u0000`).
    pub reason_hex: Option<String>,
    /// Block of the vote.
    pub block_number: i64,
}

/// A proposal with its votes in chain order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct ProposalDetail {
    /// The proposal.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub proposal: Proposal,
    /// Votes cast.
    #[sqlx(json)]
    pub votes: Vec<Vote>,
}

/// A governed parameter's current value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Param {
    /// Value (uint256, decimal).
    pub value: String,
    /// Block of the last change.
    pub block_number: i64,
}

fn head(s: &Shared) -> i64 {
    i64::try_from(s.app.status.borrow().head).unwrap_or(i64::MAX)
}

/// Proposals by creation block, then id.
#[utoipa::path(
    get,
    path = "/v1/proposals",
    tag = "governance",
    params(PageQuery),
    responses((status = 200, description = "Success", body = Page<Proposal>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_proposals(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<Proposal>>> {
    let limit = input::limit(q.limit.as_deref(), s.app.config.max_page_size)?;
    let cursor = match q.cursor.as_deref() {
        Some(raw) => Some(proposal_cursor(raw)?),
        None => None,
    };
    let query = match &cursor {
        None => sqlx::query_as(PROPOSALS_FIRST)
            .bind(s.chain_id)
            .bind(head(&s))
            .bind(limit + 1),
        Some((block, id)) => sqlx::query_as(PROPOSALS_AFTER)
            .bind(s.chain_id)
            .bind(head(&s))
            .bind(limit + 1)
            .bind(*block)
            .bind(id),
    };
    let mut rows: Vec<Proposal> = query.fetch_all(&s.app.pool).await?;
    for p in &mut rows {
        text::serve(&mut p.description, &mut p.description_hex);
    }
    Ok(Json(Page::from_rows(rows, limit, "proposals", |p| {
        format!("{}:{}", p.created_block, p.proposal_id)
    })))
}

const PROPOSALS_FIRST: &str = concat!(
    proposal_select!(),
    " ORDER BY p.created_block, p.proposal_id LIMIT $3"
);
const PROPOSALS_AFTER: &str = concat!(
    proposal_select!(),
    " AND (p.created_block, p.proposal_id) > ($4, $5::numeric) ORDER BY p.created_block, p.proposal_id LIMIT $3"
);

fn proposal_cursor(raw: &str) -> Result<(i64, String)> {
    input::block_uint_cursor("proposals", raw)
}

const PROPOSAL_DETAIL: &str = concat!(
    "SELECT x.*, (SELECT coalesce(json_agg(json_build_object(
        'voter', v.voter, 'support', v.support, 'weight', v.weight::text, 'reason', v.reason,
        'reason_hex', '0x' || encode(v.reason_raw, 'hex'),
        'block_number', v.block_number) ORDER BY v.block_number, v.voter), '[]')
     FROM votes v WHERE v.chain_id = $1 AND v.proposal_id = x.proposal_id::numeric) AS votes
    FROM (",
    proposal_select!(),
    " AND p.proposal_id = $3::numeric) x"
);

/// A proposal with its tallies, state and votes.
#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    tag = "governance",
    params(("id" = String, Path, description = "Proposal id (uint256, decimal)")),
    responses((status = 200, description = "Success", body = ProposalDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_proposal(
    State(s): State<Shared>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProposalDetail>> {
    let id = input::uint256("id", &id)?;
    let proposal: Option<ProposalDetail> = sqlx::query_as(PROPOSAL_DETAIL)
        .bind(s.chain_id)
        .bind(head(&s))
        .bind(&id)
        .fetch_optional(&s.app.pool)
        .await?;
    proposal
        .map(|mut p| {
            let d = &mut p.proposal;
            text::serve(&mut d.description, &mut d.description_hex);
            for v in &mut p.votes {
                text::serve(&mut v.reason, &mut v.reason_hex);
            }
            Json(p)
        })
        .ok_or_else(|| Error::NotFound(format!("proposal {id} not found")))
}

#[derive(sqlx::FromRow)]
struct ParamRow {
    contract: String,
    key: String,
    value: String,
    block_number: i64,
}

/// Every governed parameter's current value, by contract then key; also the token supply and the governor's
/// quorum numerator.
#[utoipa::path(
    get,
    path = "/v1/params",
    tag = "governance",
    responses((status = 200, body = BTreeMap<String, BTreeMap<String, Param>>, example = json!({
        "JobManager": {"protocolFeeBps": {"value": "250", "block_number": 12}}
    })))
)]
pub(crate) async fn get_params(
    State(s): State<Shared>,
) -> Result<Json<BTreeMap<String, BTreeMap<String, Param>>>> {
    let rows: Vec<ParamRow> = sqlx::query_as(
        "SELECT contract, key, value::text AS value, block_number FROM params WHERE chain_id = $1 ORDER BY contract, key",
    )
    .bind(s.chain_id)
    .fetch_all(&s.app.pool)
    .await?;
    let mut out: BTreeMap<String, BTreeMap<String, Param>> = BTreeMap::new();
    for r in rows {
        out.entry(r.contract).or_default().insert(
            r.key,
            Param {
                value: r.value,
                block_number: r.block_number,
            },
        );
    }
    Ok(Json(out))
}
