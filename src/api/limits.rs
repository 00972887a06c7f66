//! Abuse limits of the write routes (`POST /v1/blobs`, `POST /v1/heartbeats`): a request rate and a number of
//! requests in flight per client IP (checked before anything is parsed) and per worker address (checked once
//! the worker's signature has been verified, so nobody can spend another worker's allowance), and a global cap
//! on uploads in flight. A request over a limit gets 429 with `Retry-After` and changes nothing.
//!
//! Rates are GCRA token buckets from the `governor` crate; a key's burst is a tenth of its per-minute rate
//! (at least 1). Keys unused for a while are dropped, so a flood of source addresses cannot grow memory
//! without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::Error;
use crate::config::LimitsConfig;

/// Keys tracked before the rate limiters drop the ones that are full again.
const PRUNE_ABOVE: usize = 10_000;

/// A rate and an in-flight cap per key.
struct Keyed<K: Hash + Eq + Clone> {
    what: &'static str,
    rate: DefaultKeyedRateLimiter<K>,
    in_flight: Arc<Mutex<HashMap<K, u32>>>,
    max_in_flight: u32,
}

impl<K: Hash + Eq + Clone + std::fmt::Display> Keyed<K> {
    fn new(what: &'static str, per_minute: u32, max_in_flight: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(per_minute.get() / 10).unwrap_or(NonZeroU32::MIN);
        Self {
            what,
            rate: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            in_flight: Arc::default(),
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// Takes one request's worth of `key`'s rate and a slot in flight, released when the guard drops.
    fn admit(&self, key: &K) -> Result<InFlight<K>, Error> {
        if self.rate.len() > PRUNE_ABOVE {
            self.rate.retain_recent();
        }
        if let Err(not_until) = self.rate.check_key(key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(Error::TooManyRequests {
                message: format!("too many requests from {} {key}", self.what),
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        let mut counts = self.in_flight.lock().unwrap();
        let n = counts.entry(key.clone()).or_default();
        if *n >= self.max_in_flight {
            return Err(Error::TooManyRequests {
                message: format!(
                    "{} {key} already has {} requests in flight",
                    self.what, self.max_in_flight
                ),
                retry_after_secs: 1,
            });
        }
        *n += 1;
        Ok(InFlight {
            counts: self.in_flight.clone(),
            key: key.clone(),
        })
    }
}

/// A request in flight; its slot frees when dropped.
pub(crate) struct InFlight<K: Hash + Eq> {
    counts: Arc<Mutex<HashMap<K, u32>>>,
    key: K,
}

impl<K: Hash + Eq> Drop for InFlight<K> {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap();
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The write routes' limits, shared by every request.
pub(crate) struct Limits {
    ip: Keyed<IpAddr>,
    worker: Keyed<String>,
    uploads: Arc<tokio::sync::Semaphore>,
    max_uploads: usize,
}

impl Limits {
    pub(crate) fn new(config: &LimitsConfig) -> Self {
        Self {
            ip: Keyed::new("client IP", config.ip_per_minute, config.ip_max_in_flight),
            worker: Keyed::new(
                "worker",
                config.worker_per_minute,
                config.worker_max_in_flight,
            ),
            uploads: Arc::new(tokio::sync::Semaphore::new(
                config.uploads_max_in_flight.max(1),
            )),
            max_uploads: config.uploads_max_in_flight.max(1),
        }
    }

    /// Admits a request from `worker` (lowercase 0x address) whose signature has been verified.
    pub(crate) fn worker(&self, worker: &str) -> Result<InFlight<String>, Error> {
        self.worker.admit(&worker.to_owned())
    }

    /// A slot among the uploads in flight, or 429 when all are taken.
    pub(crate) fn upload(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        self.uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::TooManyRequests {
                message: format!(
                    "the coordinator is receiving {} uploads already",
                    self.max_uploads
                ),
                retry_after_secs: 1,
            })
    }
}

/// Middleware of the write routes: the client IP's rate and in-flight cap, before the handler reads anything.
/// The IP is the TCP peer's (put a proxy's own limits in front when the API sits behind one).
pub(crate) async fn per_ip(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let _slot = limits.ip.admit(&ip)?;
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_in_flight_caps_are_per_key() {
        let keyed: Keyed<String> = Keyed::new("worker", 60, 2);
        // A burst of 6 (a tenth of 60 a minute), then 429 with a wait of about a second.
        let a = "0xa".to_owned();
        for i in 0..6 {
            if let Err(e) = keyed.admit(&a) {
                panic!("request {i} refused: {e}");
            }
        }
        match keyed.admit(&a) {
            Err(Error::TooManyRequests {
                retry_after_secs, ..
            }) => assert!((1..=2).contains(&retry_after_secs)),
            other => panic!("expected 429, got {:?}", other.map(|_| ())),
        }
        // Another key is not affected.
        assert!(keyed.admit(&"0xb".to_owned()).is_ok());

        // In flight: the third concurrent request of a key is refused, and a slot frees on drop.
        let keyed: Keyed<String> = Keyed::new("worker", 6_000, 2);
        let first = keyed.admit(&a).unwrap();
        let _second = keyed.admit(&a).unwrap();
        assert!(matches!(
            keyed.admit(&a),
            Err(Error::TooManyRequests { .. })
        ));
        drop(first);
        assert!(keyed.admit(&a).is_ok());
        assert!(keyed.in_flight.lock().unwrap().len() <= 1);
    }

    #[test]
    fn uploads_beyond_the_global_cap_are_refused_until_one_ends() {
        let limits = Limits::new(&LimitsConfig {
            uploads_max_in_flight: 2,
            ..LimitsConfig::default()
        });
        let first = limits.upload().unwrap();
        let _second = limits.upload().unwrap();
        match limits.upload() {
            Err(Error::TooManyRequests {
                retry_after_secs,
                message,
            }) => {
                assert_eq!(retry_after_secs, 1);
                assert!(message.contains("2 uploads"), "{message}");
            }
            other => panic!("expected 429, got {:?}", other.map(|_| ())),
        }
        drop(first);
        assert!(limits.upload().is_ok());
    }
}
