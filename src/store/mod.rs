//! PostgreSQL: embedded migrations, the raw event log and the derived tables (see `migrations/`).

pub mod apply;
pub mod bulk;
pub mod copy;
pub mod digest;
pub mod nodelay;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

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
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(false);
    }
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await?;
    Ok((applied as usize) < MIGRATOR.iter().count())
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
