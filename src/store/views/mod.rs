//! What the REST API reads: one query per answer on the derived tables and the raw log, as read models the API
//! turns into its responses. Lists page by keyset (`limit + 1` rows, so the caller can tell whether another page
//! follows); their statements are built per filter combination at run time, each one served by an index, so
//! PostgreSQL can cache a generic plan for each. Everything else is a fixed statement checked at compile time.

pub mod events;
pub mod governance;
pub mod jobs;
pub mod workers;

use sqlx::{Postgres, QueryBuilder};

/// Ends a list query in chain order: rows after `after` (block, log index), one more than `limit`.
fn position_page(sql: &mut QueryBuilder<Postgres>, after: Option<(i64, i64)>, limit: i64) {
    if let Some((block, log)) = after {
        sql.push(" AND (block_number, log_index) > (")
            .push_bind(block)
            .push(", ")
            .push_bind(log)
            .push(")");
    }
    sql.push(" ORDER BY block_number, log_index LIMIT ")
        .push_bind(limit + 1);
}
