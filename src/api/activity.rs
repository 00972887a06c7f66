//! `/v1/activity`: assignments and payments per minute over the last hour, by the time they were indexed.
//!
//! The index stores no block timestamps, so no query can say how many jobs were assigned in the last hour. This
//! route counts instead the events the indexer broadcasts as it applies them ([`super::AppState::events`]): a
//! `JobAssigned` or `ReplicaAssigned` is an assignment, a `JobPaid` a payment. The counts live in memory and
//! restart empty with the process; a read replica (`serve --api-only`) runs no indexer and counts nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::error::{ApiQuery, ErrorBody, Result};
use crate::domain::LiveEvent;

/// Minutes kept and served: one hour.
pub(crate) const WINDOW_MINUTES: usize = 60;
/// Seconds per bucket.
const BUCKET_SECS: i64 = 60;

/// Assignments and payments per minute over the last hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    /// Unix time counting started: when this server process started. Counts restart empty with the process,
    /// so minutes before it show zero whatever happened on chain then.
    pub since: i64,
    /// Unix time of this answer.
    pub now: i64,
    /// Seconds per bucket (60).
    pub bucket_secs: i64,
    /// The last hour's minutes, oldest first; the last one is the current, still counting.
    pub minutes: Vec<ActivityMinute>,
}

/// One minute of activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActivityMinute {
    /// Unix time the minute starts.
    pub start: i64,
    /// Assignments indexed in it (`JobAssigned` and `ReplicaAssigned` events).
    pub assigned: u64,
    /// Payments indexed in it (`JobPaid` events).
    pub paid: u64,
}

/// Filter of `/v1/activity`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Only this chain: its CAIP-2 name or chain id, as `/v1/status` lists them. Every chain's when absent.
    chain: Option<String>,
}

/// What an event counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Assigned,
    Paid,
}

impl Kind {
    /// The kind of a live event, if it counts.
    fn of(live: &LiveEvent) -> Option<(u64, Self)> {
        let LiveEvent::Event(e) = live else {
            return None;
        };
        match e.event.as_str() {
            "JobAssigned" | "ReplicaAssigned" => Some((e.chain_id, Kind::Assigned)),
            "JobPaid" => Some((e.chain_id, Kind::Paid)),
            _ => None,
        }
    }
}

/// One chain's counts: minute start -> (assigned, paid).
type Minutes = HashMap<i64, (u64, u64)>;

/// Per-chain counts by minute, fed by the indexer's live events.
#[derive(Debug)]
pub(crate) struct Recorder {
    since: i64,
    /// By chain id; minutes older than the window are dropped as new ones come.
    counts: Mutex<HashMap<u64, Minutes>>,
}

impl Recorder {
    /// An empty recorder that started counting at `now`.
    pub(crate) fn new(now: i64) -> Self {
        Self {
            since: now,
            counts: Mutex::default(),
        }
    }

    /// Counts one event of `kind` on `chain` at `now`.
    fn record(&self, chain: u64, kind: Kind, now: i64) {
        let minute = now - now.rem_euclid(BUCKET_SECS);
        let oldest = minute - BUCKET_SECS * (WINDOW_MINUTES as i64 - 1);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let minutes = counts.entry(chain).or_default();
        minutes.retain(|start, _| *start >= oldest);
        let slot = minutes.entry(minute).or_default();
        match kind {
            Kind::Assigned => slot.0 += 1,
            Kind::Paid => slot.1 += 1,
        }
    }

    /// The window ending at `now`, summed over `chains`.
    fn window(&self, chains: &[u64], now: i64) -> Activity {
        let current = now - now.rem_euclid(BUCKET_SECS);
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let minutes = (0..WINDOW_MINUTES as i64)
            .rev()
            .map(|back| {
                let start = current - back * BUCKET_SECS;
                let (assigned, paid) = chains
                    .iter()
                    .filter_map(|c| counts.get(c)?.get(&start))
                    .fold((0, 0), |(a, p), (ca, cp)| (a + ca, p + cp));
                ActivityMinute {
                    start,
                    assigned,
                    paid,
                }
            })
            .collect();
        Activity {
            since: self.since,
            now,
            bucket_secs: BUCKET_SECS,
            minutes,
        }
    }
}

/// The time now, in unix seconds.
fn now() -> i64 {
    i64::try_from(crate::offchain::unix_now()).unwrap_or(i64::MAX)
}

/// A recorder counting `events` from now on, until the feed closes or `shutdown` is cancelled. Outside a tokio
/// runtime nothing is counted.
pub(crate) fn start(
    events: &broadcast::Sender<LiveEvent>,
    shutdown: CancellationToken,
) -> Arc<Recorder> {
    let recorder = Arc::new(Recorder::new(now()));
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return recorder;
    };
    let mut feed = events.subscribe();
    let counting = recorder.clone();
    runtime.spawn(async move {
        loop {
            let live = tokio::select! {
                _ = shutdown.cancelled() => return,
                live = feed.recv() => live,
            };
            match live {
                Ok(live) => {
                    if let Some((chain, kind)) = Kind::of(&live) {
                        counting.record(chain, kind, now());
                    }
                }
                // Missed events are not counted; the feed goes on.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    recorder
}

/// Assignments (`JobAssigned`, `ReplicaAssigned`) and payments (`JobPaid`) per minute over the last hour, by
/// the time this server indexed them. Kept in memory from the indexer's live feed: the counts restart empty
/// when the server restarts (`since` says when), and a read replica without an indexer counts nothing.
#[utoipa::path(
    get,
    path = "/v1/activity",
    tag = "system",
    params(ActivityQuery),
    responses((status = 200, description = "Success", body = Activity), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn get_activity(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> Result<Json<Activity>> {
    let chains: Vec<u64> = s
        .select(q.chain.as_deref())?
        .iter()
        .map(|c| c.id as u64)
        .collect();
    Ok(Json(s.activity.window(&chains, now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fall_in_their_minute_and_leave_the_window_after_an_hour() {
        let start = 1_700_000_000 - 1_700_000_000 % 60;
        let r = Recorder::new(start);
        r.record(1, Kind::Assigned, start + 5);
        r.record(1, Kind::Assigned, start + 59);
        r.record(1, Kind::Paid, start + 61);
        r.record(2, Kind::Paid, start + 61);

        let w = r.window(&[1], start + 90);
        assert_eq!(w.minutes.len(), WINDOW_MINUTES);
        assert_eq!(w.since, start);
        let last = &w.minutes[WINDOW_MINUTES - 1];
        let before = &w.minutes[WINDOW_MINUTES - 2];
        assert_eq!((last.start, last.assigned, last.paid), (start + 60, 0, 1));
        assert_eq!((before.start, before.assigned, before.paid), (start, 2, 0));
        // Both chains summed.
        assert_eq!(
            r.window(&[1, 2], start + 90).minutes[WINDOW_MINUTES - 1].paid,
            2
        );

        // An hour later the first minute is gone, from the answer and from memory.
        let later = start + 60 * WINDOW_MINUTES as i64;
        assert!(
            r.window(&[1], later)
                .minutes
                .iter()
                .all(|m| m.start > start)
        );
        r.record(1, Kind::Paid, later);
        let kept = r.counts.lock().unwrap();
        assert!(!kept[&1].contains_key(&start), "{kept:?}");
    }
}
