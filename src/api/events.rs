//! `/v1/events` (the raw indexed log) and `/v1/events/stream` (server-sent events as they are indexed).

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{self, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa::{IntoParams, ToSchema};

use super::Shared;
use super::error::{ApiQuery, ErrorBody, Result};
use super::input::{self, CONTRACTS, Page};
use crate::domain::{EventRecord, LiveEvent};
use crate::store::views::events::{self as view, EventFilter, EventView};

/// One indexed contract event; the same shape as a `/v1/events/stream` message's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Chain id.
    pub chain_id: i64,
    /// Block number.
    pub block_number: i64,
    /// Block hash (0x-hex).
    pub block_hash: String,
    /// Log index within the block.
    pub log_index: i64,
    /// Transaction hash (0x-hex).
    pub tx_hash: String,
    /// Emitting contract's name.
    pub contract: String,
    /// Emitting contract's address.
    pub address: String,
    /// Event name, e.g. `JobPosted`.
    pub event: String,
    /// Entity stream, e.g. `job:7`.
    pub stream: String,
    /// Decoded arguments by name; integers as decimal strings. A string argument is exact (NUL included, as
    /// `\u0000`); when its bytes are not UTF-8 it holds them with U+FFFD for each invalid sequence and the exact
    /// bytes follow in `<name>_hex` (0x-hex).
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
}

/// The data of a `Reorg` message on `/v1/events/stream`: the chain replaced blocks above `fork_block`, so every
/// event streamed from a block above it is withdrawn. The events that replace them follow as ordinary messages;
/// `/v1/events?from_block=<fork_block + 1>` lists the index as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReorgNotice {
    /// Chain id.
    pub chain_id: u64,
    /// The last block still valid; events above it were rolled back.
    pub fork_block: u64,
    /// Hash of `fork_block` as indexed now (0x-hex), when known.
    pub block_hash: Option<String>,
    /// How many indexed events were removed.
    pub removed_events: u64,
}

/// The data of a `lagged` message on `/v1/events/stream`: the subscriber read too slowly and missed events
/// (read them from `/v1/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Lagged {
    /// How many events were skipped.
    pub skipped: u64,
}

/// Message name of a reorg on `/v1/events/stream`.
pub(crate) const REORG_EVENT: &str = "Reorg";
/// Message name of a subscriber's missed events on `/v1/events/stream`.
pub(crate) const LAGGED_EVENT: &str = "lagged";

/// Filters and page of `/v1/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events of this contract: AccordToken, TimelockController, AccordGovernor, WorkerRegistry, JobManager.
    contract: Option<String>,
    /// Only events of this name, e.g. `JobPosted`.
    event: Option<String>,
    /// Only events of this entity stream, e.g. `job:7`.
    stream: Option<String>,
    /// Only events at or after this block.
    #[param(value_type = Option<u64>)]
    from_block: Option<String>,
    /// Only events at or before this block.
    #[param(value_type = Option<u64>)]
    to_block: Option<String>,
    /// Page size, 1 to the configured maximum (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Filters of `/v1/events/stream`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only events of this contract.
    contract: Option<String>,
    /// Only events of this name.
    event: Option<String>,
    /// Only events of this entity stream.
    stream: Option<String>,
}

/// Validated name filters shared by both routes.
struct NameFilter {
    contract: Option<&'static str>,
    event: Option<String>,
    stream: Option<String>,
}

impl NameFilter {
    fn parse(contract: Option<&str>, event: Option<&str>, stream: Option<&str>) -> Result<Self> {
        Ok(Self {
            contract: contract
                .map(|v| input::one_of("contract", v, CONTRACTS))
                .transpose()?,
            event: event.map(|v| input::identifier("event", v)).transpose()?,
            stream: stream.map(|v| input::stream("stream", v)).transpose()?,
        })
    }

    fn matches(&self, live: &LiveEvent) -> bool {
        match live {
            // Every subscriber hears of a reorg: the events it withdraws may have passed any filter.
            LiveEvent::Reorg { .. } => true,
            LiveEvent::Event(e) => {
                self.contract.is_none_or(|c| c == e.contract)
                    && self.event.as_deref().is_none_or(|n| n == e.event)
                    && self.stream.as_deref().is_none_or(|s| s == e.stream)
            }
        }
    }
}

/// The raw event log in chain order, optionally filtered.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(EventsQuery),
    responses((status = 200, description = "Success", body = Page<Event>), (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody))
)]
pub(crate) async fn list_events(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Page<Event>>> {
    let limit = input::limit(q.limit.as_deref(), s.app.config.max_page_size)?;
    let names = NameFilter::parse(
        q.contract.as_deref(),
        q.event.as_deref(),
        q.stream.as_deref(),
    )?;
    let from = q
        .from_block
        .as_deref()
        .map(|v| input::block("from_block", v))
        .transpose()?;
    let to = q
        .to_block
        .as_deref()
        .map(|v| input::block("to_block", v))
        .transpose()?;
    let cursor = q
        .cursor
        .as_deref()
        .map(|v| input::position_cursor("events", v))
        .transpose()?;

    // A range ending below its start is empty, like any range without events.
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Ok(Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let filter = EventFilter {
        contract: names.contract.map(str::to_owned),
        event: names.event,
        stream: names.stream,
        from_block: from,
        to_block: to,
        after: cursor,
    };
    let mut rows: Vec<Event> = view::list(&s.app.pool, s.chain_id, filter, limit)
        .await?
        .into_iter()
        .map(Event::from)
        .collect();
    for row in &mut rows {
        crate::text::serve_args(&mut row.args);
    }
    Ok(Json(Page::from_rows(rows, limit, "events", |e| {
        input::position_key(e.block_number, e.log_index)
    })))
}

/// Server-sent events: one message per newly indexed event, named after the event, with its JSON as data and
/// `<block>:<log index>` as id. A subscriber too slow for the feed gets a `lagged` message with the number of
/// events it missed (read them from `/v1/events`). Comments keep idle connections alive.
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    tag = "events",
    params(StreamQuery),
    responses(
        (status = 200, description = "text/event-stream of indexed events", content_type = "text/event-stream", body = Event),
        (status = 400, description = "A malformed parameter, named in the message", body = ErrorBody)
    )
)]
pub(crate) async fn stream_events(
    State(s): State<Shared>,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<sse::Event, Infallible>>>> {
    let filter = NameFilter::parse(
        q.contract.as_deref(),
        q.event.as_deref(),
        q.stream.as_deref(),
    )?;
    let feed = BroadcastStream::new(s.app.events.subscribe());
    let stream = feed
        .filter_map(move |item| {
            let message = match item {
                Ok(record) if filter.matches(&record) => Some(message(&record)),
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(skipped)) => Some(
                    sse::Event::default()
                        .event(LAGGED_EVENT)
                        .data(serde_json::to_string(&Lagged { skipped }).unwrap_or_default()),
                ),
            };
            std::future::ready(message.map(Ok))
        })
        .take_until(s.shutdown.clone().cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn message(live: &LiveEvent) -> sse::Event {
    let record: &EventRecord = match live {
        LiveEvent::Reorg {
            chain_id,
            fork_block,
            block_hash,
            removed_events,
        } => {
            let notice = ReorgNotice {
                chain_id: chain_id.0,
                fork_block: *fork_block,
                block_hash: block_hash.clone(),
                removed_events: *removed_events,
            };
            // No id: a reorg is not a position in the log.
            return sse::Event::default()
                .event(REORG_EVENT)
                .data(serde_json::to_string(&notice).unwrap_or_default());
        }
        LiveEvent::Event(record) => record,
    };
    // The SSE framing forbids line breaks in an event name; contract event names are identifiers anyway.
    let name = if record.event.contains(['\n', '\r']) {
        "event"
    } else {
        record.event.as_str()
    };
    let mut record = record.clone();
    crate::text::serve_args(&mut record.args);
    let data = serde_json::to_string(&record).unwrap_or_else(|_| "{}".into());
    sse::Event::default()
        .event(name)
        .id(format!("{}:{}", record.block_number, record.log_index))
        .data(data)
}

impl From<EventView> for Event {
    fn from(v: EventView) -> Self {
        Self {
            chain_id: v.chain_id,
            block_number: v.block_number,
            block_hash: v.block_hash,
            log_index: v.log_index,
            tx_hash: v.tx_hash,
            contract: v.contract,
            address: v.address,
            event: v.event,
            stream: v.stream,
            args: v.args,
        }
    }
}
