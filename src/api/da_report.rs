//! `/v1/da/report`: the DA consistency report over every result committed on chain ([`crate::da::check`]).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::Shared;
use super::error::{ApiQuery, ErrorBody, Result};
use super::input;
use crate::da::check::{self, Report};

/// Filters of `/v1/da/report`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only results of this chain: its CAIP-2 name or chain id, as `/v1/status` lists them.
    chain: Option<String>,
    /// How many problems to list, 1 to the configured maximum page size (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// For every result committed on chain: whether its bytes are in the archive, whether the DA layer of its kind
/// still serves them, and whether each verifies against the commitment. Counts by state, the oldest result with
/// no verified copy, and the results not available in full, oldest first. Read from the last checks (the
/// coordinator checks new results and re-checks old ones in the background, `da.check_interval_secs`,
/// `da.recheck_secs`); no blob is read to answer.
#[utoipa::path(
    get,
    path = "/v1/da/report",
    tag = "blobs",
    params(ReportQuery),
    responses((status = 200, description = "Success", body = Report), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn get_report(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Report>> {
    let limit = input::limit(q.limit.as_deref(), s.app.config.max_page_size)?;
    let chain = match q.chain.as_deref() {
        Some(raw) => Some(s.one(Some(raw))?.id),
        None => None,
    };
    let names: std::collections::HashMap<i64, String> =
        s.chains.iter().map(|c| (c.id, c.name.clone())).collect();
    let report = check::report(&s.app.pool, chain, limit, |id| {
        names.get(&id).cloned().unwrap_or_else(|| id.to_string())
    })
    .await?;
    Ok(Json(report))
}
