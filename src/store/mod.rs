//! PostgreSQL: embedded migrations, the raw event log and the derived tables (see `migrations/`).

pub mod apply;
pub mod blocks;
pub mod book;
pub mod bulk;
pub mod copy;
pub mod cursor;
pub mod da;
pub mod digest;
pub mod heartbeats;
pub mod intents;
pub mod leader;
pub mod nodelay;
pub mod outbox;
pub mod raw;
pub mod schema;
pub mod views;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PostgreSQL could not be reached at start.
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// Running the migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// Stored data contradicts itself (a bug or a manual edit).
    #[error("index is inconsistent: {0}")]
    Inconsistent(String),
}

impl Error {
    /// Whether retrying the operation may succeed (connection trouble, not a bad query).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::Query(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed,
            ) => true,
            // Connection exceptions (class 08), serialization failure, deadlock, admin or crash shutdown.
            Error::Query(sqlx::Error::Database(db)) => db.code().is_some_and(|c| {
                c.starts_with("08")
                    || matches!(&*c, "40001" | "40P01" | "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}

/// `pub type Result<T, E = Error>` for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The embedded migrations of `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Removes the password from a PostgreSQL URL (userinfo and any query string, which may carry
/// `password=`), for messages and logs.
pub fn redact_url(url: &str) -> String {
    let url = url.split_once('?').map_or(url, |(base, _)| base);
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Whether an earlier version of this schema lacks some of the embedded migrations.
async fn migrations_pending(pool: &PgPool) -> Result<bool> {
    let table = sqlx::query_scalar!("SELECT to_regclass('_sqlx_migrations')::text AS table")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(false);
    }
    // `_sqlx_migrations` is the migrator's own table, made when it first runs, not by `migrations/`: the
    // statements that read it are checked at run time.
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await?;
    Ok((applied as usize) < MIGRATOR.iter().count())
}

/// How many migrations the database has applied (after [`connect`], every embedded one).
pub async fn migrations_applied(pool: &PgPool) -> Result<i64> {
    // The migrator's own table: see `migrations_pending`.
    Ok(sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?)
}

/// Opens a transaction on `conn` by hand, for a transaction that outlives every borrow of its connection (the
/// indexer's staged ranges). [`commit`] ends it; closing the connection instead rolls it back.
pub async fn begin(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("BEGIN").execute(conn).await?;
    Ok(())
}

/// Commits the transaction [`begin`] opened on `conn`.
pub async fn commit(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("COMMIT").execute(conn).await?;
    Ok(())
}

/// Pool options every pool of the coordinator uses: TCP_NODELAY on each new connection (see [`nodelay`]).
pub fn pool_options(url: &str) -> PgPoolOptions {
    let port = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .map(|o| o.get_port())
        .unwrap_or(5432);
    PgPoolOptions::new().after_connect(move |_conn, _meta| {
        Box::pin(async move {
            nodelay::set_on_connections_to(port);
            Ok(())
        })
    })
}

/// Connects a pool to `url` and runs the embedded migrations.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let pool = pool_options(url)
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|source| Error::Connect {
            url: redact_url(url),
            source,
        })?;
    bulk::restore_before_migrations(&pool, migrations_pending(&pool).await?).await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_drops_only_the_password() {
        assert_eq!(
            redact_url("postgres://accord:s3cret@127.0.0.1:5432/db"),
            "postgres://accord@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact_url("postgres://accord@127.0.0.1/db"),
            "postgres://accord@127.0.0.1/db"
        );
        assert_eq!(
            redact_url("postgres://127.0.0.1/db"),
            "postgres://127.0.0.1/db"
        );
    }
}
