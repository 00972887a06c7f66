//! The DA consistency check: for every result committed on chain, whether its bytes are in the archive, whether
//! the DA layer of its kind still serves them, and whether each copy verifies against the commitment.
//!
//! Checks are incremental: a pass checks results never checked (or whose reference changed) and re-checks the
//! least recently checked ones once they are older than `da.recheck_secs` (a layer prunes: Celestia after its
//! sampling window, EIP-4844 after about 18 days). Each check is recorded in `da_checks`; the report
//! ([`report`]) reads only that table and `results`, never a blob.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::{BlobRef, DaRouter, Error, verify};
use crate::store::da::{self as store, CheckRow, ResultToCheck};

/// The state of one copy of a result's bytes (the archive's or the layer's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The bytes are there and match the commitment.
    Verified,
    /// The bytes are not there.
    Missing,
    /// The bytes are there and do not match the commitment.
    Mismatch,
    /// The layer could not be asked (down, timed out); the next check asks again.
    Unreachable,
    /// No layer of the result's kind is configured here.
    NotConfigured,
}

impl Presence {
    fn as_str(self) -> &'static str {
        match self {
            Presence::Verified => "verified",
            Presence::Missing => "missing",
            Presence::Mismatch => "mismatch",
            Presence::Unreachable => "unreachable",
            Presence::NotConfigured => "not_configured",
        }
    }
}

/// A result's state, from its two copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Both the archive and the layer serve verified bytes.
    Available,
    /// Only the archive does (the layer pruned them, lost them, or serves other bytes).
    ArchiveOnly,
    /// Only the layer does (the archive lost them or holds other bytes).
    LayerOnly,
    /// The archive has no verified copy and the layer could not be asked.
    Unreachable,
    /// No verified copy anywhere: the bytes are lost unless a worker still has them.
    Missing,
}

impl State {
    /// The state of a result whose archive copy is `archive` and layer copy `layer`.
    pub fn of(archive: Presence, layer: Presence) -> Self {
        match (archive == Presence::Verified, layer) {
            (true, Presence::Verified) => State::Available,
            (true, _) => State::ArchiveOnly,
            (false, Presence::Verified) => State::LayerOnly,
            (false, Presence::Unreachable) => State::Unreachable,
            (false, _) => State::Missing,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            State::Available => "available",
            State::ArchiveOnly => "archive_only",
            State::LayerOnly => "layer_only",
            State::Unreachable => "unreachable",
            State::Missing => "missing",
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The archive's copy.
    pub archive: Presence,
    /// The layer's copy.
    pub layer: Presence,
    /// Why a copy did not verify.
    pub detail: Option<String>,
}

impl DaRouter {
    /// Checks both copies of `r` (recorded on chain in `block`): the archive's and its layer's, each against
    /// the commitment. The layer gets `CHECK_TIMEOUT`; a database error is an error, never a verdict.
    pub async fn check(&self, r: &BlobRef, block: Option<u64>) -> Result<Checked, Error> {
        let mut details = Vec::new();
        let archive = match self.archived_for(r).await? {
            None => Presence::Missing,
            Some(data) => {
                let r = r.clone();
                let checked = tokio::task::spawn_blocking(move || verify(&r, &data)).await;
                match checked {
                    Ok(Ok(())) => Presence::Verified,
                    Ok(Err(e)) => {
                        details.push(format!("archive: {e}"));
                        Presence::Mismatch
                    }
                    Err(e) => {
                        details.push(format!("archive: the check failed: {e}"));
                        Presence::Mismatch
                    }
                }
            }
        };
        let layer = match self.layer(r.kind) {
            None => Presence::NotConfigured,
            Some(layer) => match tokio::time::timeout(CHECK_TIMEOUT, layer.get_at(r, block))
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Unavailable {
                        layer: layer.name().to_owned(),
                        message: format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
                    })
                }) {
                Ok(_) => Presence::Verified,
                Err(e) => {
                    details.push(format!("{}: {e}", layer.name()));
                    match e {
                        Error::Mismatch(_) => Presence::Mismatch,
                        Error::NotFound(_) | Error::InvalidRef(_) => Presence::Missing,
                        _ => Presence::Unreachable,
                    }
                }
            },
        };
        Ok(Checked {
            archive,
            layer,
            detail: (!details.is_empty()).then(|| details.join("; ")),
        })
    }
}

/// How long a DA layer may take to answer one check.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a check pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pass {
    /// Results checked for the first time (or with a changed reference).
    pub new: usize,
    /// Results checked again.
    pub rechecked: usize,
}

/// Checks up to `limit` results never checked, then up to `limit` last checked before `recheck_before`
/// (unix seconds), and records each. Passes repeated with the same `recheck_before` come to an end: every check
/// recorded moves past it.
pub async fn check_pass(
    router: &DaRouter,
    pool: &PgPool,
    recheck_before: i64,
    limit: i64,
) -> Result<Pass, Error> {
    let fresh = store::unchecked_results(pool, limit).await?;
    let stale = store::stale_results(pool, recheck_before, limit).await?;
    for r in fresh.iter().chain(&stale) {
        check_one(router, pool, r).await?;
    }
    Ok(Pass {
        new: fresh.len(),
        rechecked: stale.len(),
    })
}

async fn check_one(router: &DaRouter, pool: &PgPool, r: &ResultToCheck) -> Result<(), Error> {
    let reference = u8::try_from(r.kind).ok().and_then(|kind| {
        Some(BlobRef {
            kind,
            commitment: r.commitment.parse().ok()?,
            size: r.size.parse().ok()?,
            locator: r.locator.clone(),
        })
    });
    let checked = match reference {
        Some(reference) => {
            router
                .check(&reference, u64::try_from(r.block_number).ok())
                .await?
        }
        // A reference no layer could name (an unknown kind, a size beyond u64): nothing can serve it.
        None => Checked {
            archive: Presence::Missing,
            layer: Presence::NotConfigured,
            detail: Some(format!("kind {} is not a DA kind Accord knows", r.kind)),
        },
    };
    let state = State::of(checked.archive, checked.layer);
    store::record_check(
        pool,
        &CheckRow {
            result: r,
            archive: checked.archive.as_str(),
            layer: checked.layer.as_str(),
            state: state.as_str(),
            detail: checked.detail.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// One result in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportItem {
    /// The chain, by its CAIP-2 name (the chain id in decimal when the reader does not serve it).
    pub chain: String,
    /// Job id (decimal).
    pub job_id: String,
    /// The result's attempt (a redundant job's replica).
    pub attempt: i32,
    /// DA kind: 1 local archive, 2 Celestia, 3 EIP-4844.
    pub kind: i32,
    /// Commitment (0x-hex).
    pub commitment: String,
    /// The block that recorded the result.
    pub block_number: i64,
    /// The archive's copy: `verified`, `missing` or `mismatch`.
    pub archive: String,
    /// The layer's copy: `verified`, `missing`, `mismatch`, `unreachable` or `not_configured`.
    pub layer: String,
    /// `archive_only`, `layer_only`, `unreachable` or `missing`.
    pub state: String,
    /// Why a copy did not verify.
    pub detail: Option<String>,
    /// When it was last checked (unix seconds).
    pub checked_at: i64,
    /// Since when it has not been available (unix seconds).
    pub missing_since: Option<i64>,
}

/// The DA consistency report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// Results committed on chain.
    pub results: i64,
    /// How many are in each state: `available`, `archive_only`, `layer_only`, `unreachable`, `missing`, and
    /// `unchecked` (not checked yet); states with none are left out.
    #[schema(value_type = Object)]
    pub counts: std::collections::BTreeMap<String, i64>,
    /// The oldest result (by block) with no verified copy anywhere.
    pub oldest_missing: Option<ReportItem>,
    /// Results not available in full, oldest first (at most `limit`).
    pub problems: Vec<ReportItem>,
}

/// The report over `chain_id` (every chain when `None`), with up to `limit` problems; `name` turns a chain id
/// into its CAIP-2 name.
pub async fn report(
    pool: &PgPool,
    chain_id: Option<i64>,
    limit: i64,
    name: impl Fn(i64) -> String,
) -> sqlx::Result<Report> {
    let counts: std::collections::BTreeMap<String, i64> = store::check_counts(pool, chain_id)
        .await?
        .into_iter()
        .collect();
    let item = |c: store::CheckedResult| ReportItem {
        chain: name(c.chain_id),
        job_id: c.job_id,
        attempt: c.attempt,
        kind: c.kind,
        commitment: c.commitment,
        block_number: c.block_number,
        archive: c.archive,
        layer: c.layer,
        state: c.state,
        detail: c.detail,
        checked_at: c.checked_at,
        missing_since: c.missing_since,
    };
    let oldest_missing = store::problems(pool, chain_id, Some("missing"), 1)
        .await?
        .into_iter()
        .next()
        .map(item);
    let problems = store::problems(pool, chain_id, None, limit)
        .await?
        .into_iter()
        .map(item)
        .collect();
    Ok(Report {
        results: counts.values().sum(),
        counts,
        oldest_missing,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_available_only_when_both_copies_verify() {
        use Presence::*;
        assert_eq!(State::of(Verified, Verified), State::Available);
        assert_eq!(State::of(Verified, Missing), State::ArchiveOnly);
        assert_eq!(State::of(Verified, Unreachable), State::ArchiveOnly);
        assert_eq!(State::of(Missing, Verified), State::LayerOnly);
        assert_eq!(State::of(Mismatch, Verified), State::LayerOnly);
        assert_eq!(State::of(Missing, Unreachable), State::Unreachable);
        assert_eq!(State::of(Mismatch, Mismatch), State::Missing);
        assert_eq!(State::of(Missing, NotConfigured), State::Missing);
    }
}
