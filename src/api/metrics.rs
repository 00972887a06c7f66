//! Request counters and latency histograms per route, kept in fixed arrays of atomics and rendered in the
//! Prometheus text format by `/metrics`.
//!
//! Why not the `metrics` facade: it records into the process-global recorder, which an embedding process (or a
//! test binary with many routers) may not install, and the Prometheus exporter's histograms keep every sample
//! until an upkeep task drains them. Here a request costs two clock reads and three relaxed atomic increments,
//! with no allocation and no lock; the routes are known when the router is built.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::Shared;
use crate::indexer::Status;

/// Upper bounds of the latency buckets, in microseconds (1 ms to 10 s).
const BUCKETS_US: [u64; 12] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    10_000_000,
];

/// Label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

#[derive(Default)]
struct Series {
    /// Responses by status class: 1xx .. 5xx.
    by_class: [AtomicU64; 5],
    /// Non-cumulative bucket counts; the `+Inf` bucket is `count`.
    buckets: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// Per-route request metrics.
pub(crate) struct RouteMetrics {
    /// Route templates as registered (`/v1/jobs/{id}`); the last series is for unmatched requests.
    routes: Box<[String]>,
    series: Box<[Series]>,
}

impl RouteMetrics {
    /// Metrics for `routes`.
    pub(crate) fn new(routes: Vec<String>) -> Self {
        let series = (0..=routes.len()).map(|_| Series::default()).collect();
        Self {
            routes: routes.into_boxed_slice(),
            series,
        }
    }

    fn index(&self, route: Option<&str>) -> usize {
        route
            .and_then(|r| self.routes.iter().position(|known| known == r))
            .unwrap_or(self.routes.len())
    }

    fn record(&self, index: usize, status: StatusCode, elapsed: Duration) {
        let series = &self.series[index];
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        series.by_class[class].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(b) = BUCKETS_US.iter().position(|bound| us <= *bound) {
            series.buckets[b].fetch_add(1, Ordering::Relaxed);
        }
        series.count.fetch_add(1, Ordering::Relaxed);
        series.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Renders the request series that saw traffic.
    fn render(&self, out: &mut String) {
        let label = |i: usize| self.routes.get(i).map_or(UNMATCHED, String::as_str);
        out.push_str("# HELP accord_api_requests_total HTTP requests answered, by route template and status class.\n");
        out.push_str("# TYPE accord_api_requests_total counter\n");
        for (i, s) in self.series.iter().enumerate() {
            for (class, n) in s.by_class.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "accord_api_requests_total{{route=\"{}\",status=\"{}xx\"}} {n}",
                        label(i),
                        class + 1
                    );
                }
            }
        }
        out.push_str("# HELP accord_api_request_duration_seconds Time to the response head, by route template.\n");
        out.push_str("# TYPE accord_api_request_duration_seconds histogram\n");
        for (i, s) in self.series.iter().enumerate() {
            let count = s.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let route = label(i);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS_US.iter().zip(&s.buckets) {
                cumulative += n.load(Ordering::Relaxed);
                let le = *bound as f64 / 1e6;
                let _ = writeln!(
                    out,
                    "accord_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "accord_api_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let sum = s.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "accord_api_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "accord_api_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
    }
}

/// Middleware (inside the router, where the matched route is known) recording each request.
pub(crate) async fn track(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let index = shared.metrics.index(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let start = std::time::Instant::now();
    let response = next.run(request).await;
    shared
        .metrics
        .record(index, response.status(), start.elapsed());
    response
}

/// The whole `/metrics` text: request series, indexer gauges (one series per chain, labelled `chain`), then whatever the process-wide Prometheus
/// recorder holds (when the embedding process installed one).
pub(crate) fn render(shared: &Shared) -> String {
    let mut out = String::with_capacity(8 * 1024);
    shared.metrics.render(&mut out);
    type Gauge = (&'static str, &'static str, fn(&Status) -> u64);
    let gauges: [Gauge; 5] = [
        (
            "accord_chain_head_block",
            "Latest head seen on the chain.",
            |s| s.head,
        ),
        (
            "accord_indexer_indexed_block",
            "Last block whose events are all applied.",
            |s| s.indexed,
        ),
        (
            "accord_indexer_lag_blocks",
            "Head minus indexed block.",
            |s| s.head.saturating_sub(s.indexed),
        ),
        (
            "accord_indexer_caught_up",
            "1 when the backfill has caught up with the head.",
            |s| u64::from(s.caught_up),
        ),
        ("accord_indexer_halted", "1 when indexing halted.", |s| {
            u64::from(s.halted.is_some())
        }),
    ];
    let statuses: Vec<(&str, Status)> = shared
        .chains
        .iter()
        .map(|c| (c.name.as_str(), c.chain.status.borrow().clone()))
        .collect();
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (chain, status) in &statuses {
            let chain = chain
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = writeln!(out, "{name}{{chain=\"{chain}\"}} {}", value(status));
        }
    }
    if let Some(handle) = &shared.app.metrics {
        out.push_str(&handle.render());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_unknown_routes_are_grouped() {
        let m = RouteMetrics::new(vec!["/v1/jobs".into(), "/v1/jobs/{id}".into()]);
        m.record(
            m.index(Some("/v1/jobs")),
            StatusCode::OK,
            Duration::from_micros(500),
        );
        m.record(
            m.index(Some("/v1/jobs")),
            StatusCode::BAD_REQUEST,
            Duration::from_millis(20),
        );
        m.record(
            m.index(None),
            StatusCode::NOT_FOUND,
            Duration::from_secs(30),
        );
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains("accord_api_requests_total{route=\"/v1/jobs\",status=\"2xx\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("accord_api_requests_total{route=\"/v1/jobs\",status=\"4xx\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("accord_api_requests_total{route=\"unmatched\",status=\"4xx\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("duration_seconds_bucket{route=\"/v1/jobs\",le=\"0.001\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("duration_seconds_bucket{route=\"/v1/jobs\",le=\"0.025\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("duration_seconds_bucket{route=\"unmatched\",le=\"10\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("duration_seconds_count{route=\"/v1/jobs\"} 2\n"),
            "{out}"
        );
        assert!(
            !out.contains("/v1/jobs/{id}"),
            "routes without traffic are not rendered: {out}"
        );
    }
}
