//! Governance as the API serves it: `proposals` with their state and quorum computed in SQL, their `votes`,
//! and the governed `params`.
//!
//! A proposal's quorum is `AccordToken.totalSupply * AccordGovernor.quorumNumerator / 100` from `params` (rounded
//! down, like the governor); its state is read at `head`, the governor's clock at the indexer's head (a block
//! number or a timestamp, as the chain's governor counts). An unknown quorum (params not
//! indexed yet) counts as not reached. The three proposal statements share that computation word for word.

use serde::Deserialize;
use sqlx::PgPool;
use sqlx::types::Json;

/// A proposal's row with its quorum and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalView {
    /// Proposal id (uint256, decimal).
    pub proposal_id: String,
    /// Who proposed it.
    pub proposer: String,
    /// Its description (U+FFFD for bytes that are not UTF-8).
    pub description: String,
    /// The exact bytes of `description` (0x-hex) when the text is not them.
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
    /// Votes needed (for + abstain); `None` until supply and quorum numerator are indexed.
    pub quorum: Option<String>,
    /// Unix time the timelock lets it execute, once queued.
    pub queued_eta: Option<i64>,
    /// Whether it was executed.
    pub executed: bool,
    /// Whether it was canceled.
    pub canceled: bool,
    /// Block of `ProposalCreated`.
    pub created_block: i64,
    /// `Pending`, `Active`, `Canceled`, `Defeated`, `Succeeded`, `Queued` or `Executed`.
    pub state: String,
}

/// One vote.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VoteView {
    /// The voter.
    pub voter: String,
    /// 0 against, 1 for, 2 abstain.
    pub support: i32,
    /// Voting weight (uint256, decimal).
    pub weight: String,
    /// The voter's reason (U+FFFD for bytes that are not UTF-8).
    pub reason: String,
    /// The exact bytes of `reason` (0x-hex) when the text is not them.
    pub reason_hex: Option<String>,
    /// Block of the vote.
    pub block_number: i64,
}

/// A proposal with its votes in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalDetailView {
    /// The proposal.
    pub proposal: ProposalView,
    /// Votes cast.
    pub votes: Vec<VoteView>,
}

/// A governed parameter's current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamView {
    /// The contract.
    pub contract: String,
    /// The parameter.
    pub key: String,
    /// Value (uint256, decimal).
    pub value: String,
    /// Block of the last change.
    pub block_number: i64,
}

/// Up to `limit + 1` proposals by creation block then id, after `after` (block, id) if given.
pub async fn proposals(
    pool: &PgPool,
    chain_id: i64,
    head: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> sqlx::Result<Vec<ProposalView>> {
    match after {
        None => {
            sqlx::query_as!(
                ProposalView,
                r#"SELECT p.proposal_id::text AS "proposal_id!", p.proposer, p.description,
                      '0x' || encode(p.description_raw, 'hex') AS "description_hex?", p.targets, p.calldatas,
                      p.vote_start, p.vote_end, p.for_votes::text AS "for_votes!",
                      p.against_votes::text AS "against_votes!", p.abstain_votes::text AS "abstain_votes!",
                      q.quorum::text AS "quorum?", p.queued_eta, p.executed, p.canceled, p.created_block,
                      CASE WHEN p.canceled THEN 'Canceled'
                           WHEN p.executed THEN 'Executed'
                           WHEN p.queued_eta IS NOT NULL THEN 'Queued'
                           WHEN $2 <= p.vote_start THEN 'Pending'
                           WHEN $2 <= p.vote_end THEN 'Active'
                           WHEN p.for_votes > p.against_votes AND p.for_votes + p.abstain_votes >= q.quorum THEN 'Succeeded'
                           ELSE 'Defeated' END AS "state!"
                   FROM proposals p
                   CROSS JOIN (SELECT div(
                       (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordToken' AND key = 'totalSupply')
                       * (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordGovernor' AND key = 'quorumNumerator'),
                       100) AS quorum) q
                   WHERE p.chain_id = $1
                   ORDER BY p.created_block, p.proposal_id LIMIT $3"#,
                chain_id,
                head,
                limit + 1
            )
            .fetch_all(pool)
            .await
        }
        Some((block, id)) => {
            sqlx::query_as!(
                ProposalView,
                r#"SELECT p.proposal_id::text AS "proposal_id!", p.proposer, p.description,
                      '0x' || encode(p.description_raw, 'hex') AS "description_hex?", p.targets, p.calldatas,
                      p.vote_start, p.vote_end, p.for_votes::text AS "for_votes!",
                      p.against_votes::text AS "against_votes!", p.abstain_votes::text AS "abstain_votes!",
                      q.quorum::text AS "quorum?", p.queued_eta, p.executed, p.canceled, p.created_block,
                      CASE WHEN p.canceled THEN 'Canceled'
                           WHEN p.executed THEN 'Executed'
                           WHEN p.queued_eta IS NOT NULL THEN 'Queued'
                           WHEN $2 <= p.vote_start THEN 'Pending'
                           WHEN $2 <= p.vote_end THEN 'Active'
                           WHEN p.for_votes > p.against_votes AND p.for_votes + p.abstain_votes >= q.quorum THEN 'Succeeded'
                           ELSE 'Defeated' END AS "state!"
                   FROM proposals p
                   CROSS JOIN (SELECT div(
                       (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordToken' AND key = 'totalSupply')
                       * (SELECT value FROM params WHERE chain_id = $1 AND contract = 'AccordGovernor' AND key = 'quorumNumerator'),
                       100) AS quorum) q
                   WHERE p.chain_id = $1
                     AND (p.created_block, p.proposal_id) > ($4, $5::text::numeric)
                   ORDER BY p.created_block, p.proposal_id LIMIT $3"#,
                chain_id,
                head,
                limit + 1,
                block,
                id
            )
            .fetch_all(pool)
            .await
        }
    }
}

/// Proposal `proposal_id` (uint256, decimal) with its votes.
pub async fn proposal(
    pool: &PgPool,
    chain_id: i64,
    head: i64,
    proposal_id: &str,
) -> sqlx::Result<Option<ProposalDetailView>> {
    let row = sqlx::query!(
        r#"SELECT x.proposal_id AS "proposal_id!", x.proposer AS "proposer!", x.description AS "description!",
                  x.description_hex AS "description_hex?", x.targets AS "targets!", x.calldatas AS "calldatas!",
                  x.vote_start AS "vote_start!", x.vote_end AS "vote_end!", x.for_votes AS "for_votes!",
                  x.against_votes AS "against_votes!", x.abstain_votes AS "abstain_votes!", x.quorum AS "quorum?",
                  x.queued_eta AS "queued_eta?", x.executed AS "executed!", x.canceled AS "canceled!",
                  x.created_block AS "created_block!", x.state AS "state!",
              (SELECT coalesce(json_agg(json_build_object(
                  'voter', v.voter, 'support', v.support, 'weight', v.weight::text, 'reason', v.reason,
                  'reason_hex', '0x' || encode(v.reason_raw, 'hex'),
                  'block_number', v.block_number) ORDER BY v.block_number, v.voter), '[]')
               FROM votes v WHERE v.chain_id = $1 AND v.proposal_id = x.proposal_id::numeric)
                  AS "votes!: Json<Vec<VoteView>>"
           FROM (SELECT p.proposal_id::text AS proposal_id, p.proposer, p.description,
                     '0x' || encode(p.description_raw, 'hex') AS description_hex, p.targets, p.calldatas,
                     p.vote_start, p.vote_end, p.for_votes::text AS for_votes,
                     p.against_votes::text AS against_votes, p.abstain_votes::text AS abstain_votes,
                     q.quorum::text AS quorum, p.queued_eta, p.executed, p.canceled, p.created_block,
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
                 WHERE p.chain_id = $1 AND p.proposal_id = $3::text::numeric) x"#,
        chain_id,
        head,
        proposal_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ProposalDetailView {
        proposal: ProposalView {
            proposal_id: r.proposal_id,
            proposer: r.proposer,
            description: r.description,
            description_hex: r.description_hex,
            targets: r.targets,
            calldatas: r.calldatas,
            vote_start: r.vote_start,
            vote_end: r.vote_end,
            for_votes: r.for_votes,
            against_votes: r.against_votes,
            abstain_votes: r.abstain_votes,
            quorum: r.quorum,
            queued_eta: r.queued_eta,
            executed: r.executed,
            canceled: r.canceled,
            created_block: r.created_block,
            state: r.state,
        },
        votes: r.votes.0,
    }))
}

/// Every governed parameter's current value, by contract then key.
pub async fn params(pool: &PgPool, chain_id: i64) -> sqlx::Result<Vec<ParamView>> {
    sqlx::query_as!(
        ParamView,
        r#"SELECT contract, key, value::text AS "value!", block_number FROM params
           WHERE chain_id = $1 ORDER BY contract, key"#,
        chain_id
    )
    .fetch_all(pool)
    .await
}
