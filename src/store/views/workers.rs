//! Workers as the API serves them: `workers` with counts from `assignments` and `slashes`, the slash and reward
//! lists, and the standing checks of the write routes (registered, may upload a result).

use serde::Deserialize;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// A worker's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkerView {
    /// The worker's address.
    pub address: String,
    /// Capability bits.
    pub capabilities: i32,
    /// Where its metadata lives (U+FFFD for bytes that are not UTF-8).
    pub metadata_uri: String,
    /// The exact bytes of `metadata_uri` (0x-hex) when the text is not them.
    pub metadata_uri_hex: Option<String>,
    /// Stake (uint256, decimal).
    pub stake: String,
    /// Unbonding (uint256, decimal).
    pub pending: String,
    /// Unix seconds the unbonding amount unlocks.
    pub unlock_at: i64,
    /// Whether it is jailed.
    pub jailed: bool,
    /// Slashed in all (uint256, decimal).
    pub slashed_total: String,
    /// Block of `WorkerRegistered`.
    pub registered_block: i64,
    /// Block of the last change.
    pub updated_block: i64,
}

/// A worker's assignment and slash counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerCountsView {
    /// Assignments paid.
    pub completed: i64,
    /// Assignments expired.
    pub expired: i64,
    /// Assignments disputed.
    pub disputed: i64,
    /// Assignments declined.
    pub declined: i64,
    /// Slashes.
    pub slashed: i64,
}

/// A worker with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerDetailView {
    /// The worker.
    pub worker: WorkerView,
    /// Its counts.
    pub counts: WorkerCountsView,
}

/// One slash.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, sqlx::FromRow)]
pub struct SlashView {
    /// Block.
    pub block_number: i64,
    /// Log index.
    pub log_index: i64,
    /// The worker slashed.
    pub worker: String,
    /// The job it was slashed for (uint256, decimal), if any.
    pub job_id: Option<String>,
    /// Who received the amount.
    pub recipient: String,
    /// Slashed in all (uint256, decimal).
    pub amount: String,
    /// From the stake (uint256, decimal).
    pub from_stake: String,
    /// From the unbonding amount (uint256, decimal).
    pub from_pending: String,
    /// Transaction.
    pub tx_hash: String,
}

/// One reward paid to a worker.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RewardView {
    /// Block.
    pub block_number: i64,
    /// Log index.
    pub log_index: i64,
    /// The job (uint256, decimal).
    pub job_id: Option<String>,
    /// The worker paid.
    pub worker: String,
    /// Amount (uint256, decimal).
    pub amount: String,
    /// Protocol fee (uint256, decimal).
    pub fee: String,
    /// Transaction.
    pub tx_hash: String,
}

/// Filters of the slash and reward lists; each present one narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerJobFilter {
    /// Worker address.
    pub worker: Option<String>,
    /// Job id (uint256, decimal).
    pub job: Option<String>,
    /// Rows after this position (block, log index).
    pub after: Option<(i64, i64)>,
}

/// Up to `limit + 1` workers by address, after `after` if given.
pub async fn list(
    pool: &PgPool,
    chain_id: i64,
    after: Option<String>,
    limit: i64,
) -> sqlx::Result<Vec<WorkerView>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT w.address, w.capabilities, w.metadata_uri, \
         '0x' || encode(w.metadata_uri_raw, 'hex') AS metadata_uri_hex, \
         w.stake::text AS stake, w.pending::text AS pending, \
         w.unlock_at, w.jailed, w.slashed_total::text AS slashed_total, w.registered_block, w.updated_block \
         FROM workers w WHERE w.chain_id = ",
    );
    sql.push_bind(chain_id);
    if let Some(after) = after {
        sql.push(" AND w.address > ").push_bind(after);
    }
    sql.push(" ORDER BY w.address LIMIT ").push_bind(limit + 1);
    sql.build_query_as().fetch_all(pool).await
}

/// Worker `address` with its counts.
pub async fn detail(
    pool: &PgPool,
    chain_id: i64,
    address: &str,
) -> sqlx::Result<Option<WorkerDetailView>> {
    let row = sqlx::query!(
        r#"SELECT w.address, w.capabilities, w.metadata_uri,
                  '0x' || encode(w.metadata_uri_raw, 'hex') AS "metadata_uri_hex?",
                  w.stake::text AS "stake!", w.pending::text AS "pending!",
                  w.unlock_at, w.jailed, w.slashed_total::text AS "slashed_total!", w.registered_block, w.updated_block,
                  c.completed AS "completed!", c.expired AS "expired!", c.disputed AS "disputed!",
                  c.declined AS "declined!", x.slashed AS "slashed!"
           FROM workers w
           CROSS JOIN LATERAL (
               SELECT count(*) FILTER (WHERE a.outcome = 'paid') AS completed,
                      count(*) FILTER (WHERE a.outcome = 'expired') AS expired,
                      count(*) FILTER (WHERE a.outcome = 'disputed') AS disputed,
                      count(*) FILTER (WHERE a.outcome = 'declined') AS declined
               FROM assignments a WHERE a.chain_id = w.chain_id AND a.worker = w.address) c
           CROSS JOIN LATERAL (
               SELECT count(*) AS slashed FROM slashes s WHERE s.chain_id = w.chain_id AND s.worker = w.address) x
           WHERE w.chain_id = $1 AND w.address = $2"#,
        chain_id,
        address
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| WorkerDetailView {
        worker: WorkerView {
            address: r.address,
            capabilities: r.capabilities,
            metadata_uri: r.metadata_uri,
            metadata_uri_hex: r.metadata_uri_hex,
            stake: r.stake,
            pending: r.pending,
            unlock_at: r.unlock_at,
            jailed: r.jailed,
            slashed_total: r.slashed_total,
            registered_block: r.registered_block,
            updated_block: r.updated_block,
        },
        counts: WorkerCountsView {
            completed: r.completed,
            expired: r.expired,
            disputed: r.disputed,
            declined: r.declined,
            slashed: r.slashed,
        },
    }))
}

/// Up to `limit + 1` slashes matching `filter`, in chain order.
pub async fn slashes(
    pool: &PgPool,
    chain_id: i64,
    filter: WorkerJobFilter,
    limit: i64,
) -> sqlx::Result<Vec<SlashView>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT block_number, log_index, worker, job_id::text AS job_id, recipient, amount::text AS amount, \
         from_stake::text AS from_stake, from_pending::text AS from_pending, tx_hash FROM slashes WHERE chain_id = ",
    );
    sql.push_bind(chain_id);
    if let Some(worker) = filter.worker {
        sql.push(" AND worker = ").push_bind(worker);
    }
    if let Some(job) = filter.job {
        sql.push(" AND job_id = ").push_bind(job).push("::numeric");
    }
    super::position_page(&mut sql, filter.after, limit);
    sql.build_query_as().fetch_all(pool).await
}

/// Up to `limit + 1` rewards matching `filter`, in chain order.
pub async fn rewards(
    pool: &PgPool,
    chain_id: i64,
    filter: WorkerJobFilter,
    limit: i64,
) -> sqlx::Result<Vec<RewardView>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT block_number, log_index, job_id::text AS job_id, recipient AS worker, amount::text AS amount, \
         fee::text AS fee, tx_hash FROM payments WHERE kind = 'reward' AND chain_id = ",
    );
    sql.push_bind(chain_id);
    if let Some(worker) = filter.worker {
        sql.push(" AND recipient = ").push_bind(worker);
    }
    if let Some(job) = filter.job {
        sql.push(" AND job_id = ").push_bind(job).push("::numeric");
    }
    super::position_page(&mut sql, filter.after, limit);
    sql.build_query_as().fetch_all(pool).await
}

/// Whether `address` is a registered worker.
pub async fn is_registered(pool: &PgPool, chain_id: i64, address: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM workers WHERE chain_id = $1 AND address = $2) AS "exists!""#,
        chain_id,
        address
    )
    .fetch_one(pool)
    .await
}

/// Every registered worker's address.
pub async fn addresses(pool: &PgPool, chain_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT address FROM workers WHERE chain_id = $1", chain_id)
        .fetch_all(pool)
        .await
}

/// What decides whether a registered worker may upload a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadStanding {
    /// Whether it is jailed.
    pub jailed: bool,
    /// Whether its stake reaches the governed minimum.
    pub staked: bool,
    /// Whether it holds an assignment awaiting a result.
    pub assigned: bool,
}

/// The upload standing of worker `address`; `None` when it is not registered.
pub async fn upload_standing(
    pool: &PgPool,
    chain_id: i64,
    address: &str,
) -> sqlx::Result<Option<UploadStanding>> {
    sqlx::query_as!(
        UploadStanding,
        r#"SELECT w.jailed,
                  w.stake >= COALESCE((SELECT value FROM params WHERE chain_id = $1
                      AND contract = 'WorkerRegistry' AND key = 'minStake'), 0) AS "staked!",
                  (EXISTS (SELECT 1 FROM jobs j WHERE j.chain_id = $1 AND j.worker = $2 AND j.status = 'assigned')
                   OR EXISTS (SELECT 1 FROM assignments a JOIN jobs j ON j.chain_id = a.chain_id AND j.job_id = a.job_id
                       WHERE a.chain_id = $1 AND a.worker = $2 AND a.outcome = 'active'
                         AND j.status IN ('gathering', 'committing'))) AS "assigned!"
           FROM workers w WHERE w.chain_id = $1 AND w.address = $2"#,
        chain_id,
        address
    )
    .fetch_optional(pool)
    .await
}

/// The live, eligible workers of a chain: registered, not jailed, staked at least the governed minimum, with a
/// heartbeat signed at or after `alive_since`, holding every bit of `capabilities`; by address.
pub async fn placeable(
    pool: &PgPool,
    chain_id: i64,
    alive_since: i64,
    capabilities: i32,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT w.address FROM workers w
           JOIN heartbeats h ON h.chain_id = w.chain_id AND h.worker = w.address
           WHERE w.chain_id = $1 AND NOT w.jailed AND h.signed_at >= $2
             AND w.capabilities & $3 = $3
             AND w.stake >= COALESCE((SELECT value FROM params WHERE chain_id = $1
                 AND contract = 'WorkerRegistry' AND key = 'minStake'), 0)
           ORDER BY w.address"#,
        chain_id,
        alive_since,
        capabilities
    )
    .fetch_all(pool)
    .await
}
