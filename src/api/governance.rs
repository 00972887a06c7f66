//! `/v1/proposals`, `/v1/proposals/{id}`, `/v1/params`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Shared;
use super::chains;
use super::error::{ApiPath, ApiQuery, Error, ErrorBody, Result};
use super::input::{self, Page};
use super::jobs::ChainQuery;
use super::workers::PageQuery;
use crate::store::views::governance::{self as view, ProposalDetailView, ProposalView, VoteView};
use crate::text;

/// A proposal's state, computed from the index and the governor's clock at the indexer's head (the block number
/// on EVM, the block's timestamp on Starknet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ProposalState {
    /// Voting has not started (`clock <= vote_start`, as OpenZeppelin's `state()` reads it at the head).
    Pending,
    /// Voting is open (`clock <= vote_end`).
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

/// A governance proposal with its tallies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Proposal {
    /// The chain governed, by its CAIP-2 name.
    pub chain: String,
    /// Proposal id (uint256, decimal), unique on its chain.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposalDetail {
    /// The proposal.
    #[serde(flatten)]
    pub proposal: Proposal,
    /// Votes cast.
    pub votes: Vec<Vote>,
}

/// A governed parameter's current value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Param {
    /// Value (uint256, decimal).
    pub value: String,
    /// Block of the last change.
    pub block_number: i64,
    /// The least value the contract accepts (decimal), when it bounds this parameter.
    pub min: Option<String>,
    /// The most the contract accepts (decimal), when it bounds this parameter.
    pub max: Option<String>,
}

/// Proposals by chain (in the order `/v1/status` lists them), then creation block, then id.
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
    let chains = s.select(q.chain.as_deref())?;
    let start = chains::start(chains, "proposals", q.cursor.as_deref(), input::block_uint)?;
    let page = chains::page(
        chains,
        "proposals",
        start,
        limit,
        |p: &Proposal| format!("{}:{}", p.created_block, p.proposal_id),
        |i, after, want| {
            let chain = &chains[i];
            let (pool, id, head, name) = (
                s.app.pool.clone(),
                chain.id,
                chain.governor_clock(),
                chain.name.clone(),
            );
            async move {
                let rows = view::proposals(&pool, id, head, after, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| {
                        let mut p = Proposal::from_view(&name, v);
                        text::serve(&mut p.description, &mut p.description_hex);
                        p
                    })
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
}

/// A proposal with its tallies, state and votes.
#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    tag = "governance",
    params(("id" = String, Path, description = "Proposal id (uint256, decimal)"), ChainQuery),
    responses((status = 200, description = "Success", body = ProposalDetail), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody), (status = 404, description = "No such id", body = ErrorBody))
)]
pub(crate) async fn get_proposal(
    State(s): State<Shared>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<ProposalDetail>> {
    let chain = s.one(q.chain.as_deref())?;
    let id = input::uint256("id", &id)?;
    let proposal = view::proposal(&s.app.pool, chain.id, chain.governor_clock(), &id)
        .await?
        .map(|v| ProposalDetail::from_view(&chain.name, v));
    proposal
        .map(|mut p| {
            let d = &mut p.proposal;
            text::serve(&mut d.description, &mut d.description_hex);
            for v in &mut p.votes {
                text::serve(&mut v.reason, &mut v.reason_hex);
            }
            Json(p)
        })
        .ok_or_else(|| Error::NotFound(format!("proposal {id} not found on {}", chain.name)))
}

/// Every governed parameter's current value on one chain, by contract then key; also the token supply and the
/// governor's quorum numerator.
#[utoipa::path(
    get,
    path = "/v1/params",
    tag = "governance",
    params(ChainQuery),
    responses((status = 200, body = BTreeMap<String, BTreeMap<String, Param>>, example = json!({
        "JobManager": {"protocolFeeBps": {"value": "250", "block_number": 12}}
    })))
)]
pub(crate) async fn get_params(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<BTreeMap<String, BTreeMap<String, Param>>>> {
    let chain = s.one(q.chain.as_deref())?;
    let rows = view::params(&s.app.pool, chain.id).await?;
    let mut out: BTreeMap<String, BTreeMap<String, Param>> = BTreeMap::new();
    for r in rows {
        out.entry(r.contract).or_default().insert(
            r.key.clone(),
            Param {
                value: r.value,
                block_number: r.block_number,
                min: crate::domain::bounds::of(&r.key).map(|b| b.0.to_owned()),
                max: crate::domain::bounds::of(&r.key).map(|b| b.1.to_owned()),
            },
        );
    }
    Ok(Json(out))
}

impl Proposal {
    fn from_view(chain: &str, v: ProposalView) -> Self {
        Self {
            chain: chain.to_owned(),
            proposal_id: v.proposal_id,
            proposer: v.proposer,
            description: v.description,
            description_hex: v.description_hex,
            targets: v.targets,
            calldatas: v.calldatas,
            vote_start: v.vote_start,
            vote_end: v.vote_end,
            for_votes: v.for_votes,
            against_votes: v.against_votes,
            abstain_votes: v.abstain_votes,
            quorum: v.quorum,
            queued_eta: v.queued_eta,
            executed: v.executed,
            canceled: v.canceled,
            created_block: v.created_block,
            state: v.state,
        }
    }
}

impl From<VoteView> for Vote {
    fn from(v: VoteView) -> Self {
        Self {
            voter: v.voter,
            support: v.support,
            weight: v.weight,
            reason: v.reason,
            reason_hex: v.reason_hex,
            block_number: v.block_number,
        }
    }
}

impl ProposalDetail {
    fn from_view(chain: &str, v: ProposalDetailView) -> Self {
        Self {
            proposal: Proposal::from_view(chain, v.proposal),
            votes: v.votes.into_iter().map(Into::into).collect(),
        }
    }
}
