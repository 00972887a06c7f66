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
use super::chains;
use super::error::{ApiQuery, ErrorBody, Result};
use super::input::{self, CONTRACTS, Page};
use crate::domain::{EventRecord, LiveEvent};
use crate::store::views::events::{self as view, EventFilter, EventView};

/// One indexed contract event; the same shape as a `/v1/events/stream` message's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// The chain, by its CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`).
    pub chain: String,
    /// Chain id as the index keys it (a Starknet chain's is derived from its name, see `/v1/status`).
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
    /// The chain, by its CAIP-2 name.
    pub chain: String,
    /// Chain id as the index keys it.
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
    /// Only events of this chain: its CAIP-2 name or chain id, as `/v1/status` lists them.
    chain: Option<String>,
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
    /// Only events of this chain (and its reorgs): its CAIP-2 name or chain id.
    chain: Option<String>,
    /// Only events of this contract.
    contract: Option<String>,
    /// Only events of this name.
    event: Option<String>,
    /// Only events of this entity stream.
    stream: Option<String>,
}

/// Validated name filters shared by both routes.
struct NameFilter {
    /// Only this chain (its id in the index).
    chain: Option<u64>,
    contract: Option<&'static str>,
    event: Option<String>,
    stream: Option<String>,
}

impl NameFilter {
    fn parse(contract: Option<&str>, event: Option<&str>, stream: Option<&str>) -> Result<Self> {
        Ok(Self {
            chain: None,
            contract: contract
                .map(|v| input::one_of("contract", v, CONTRACTS))
                .transpose()?,
            event: event.map(|v| input::identifier("event", v)).transpose()?,
            stream: stream.map(|v| input::stream("stream", v)).transpose()?,
        })
    }

    fn matches(&self, live: &LiveEvent) -> bool {
        match live {
            // Every subscriber of the chain hears of its reorgs: the events withdrawn may have passed any filter.
            LiveEvent::Reorg { chain_id, .. } => self.chain.is_none_or(|c| c == chain_id.0),
            LiveEvent::Event(e) => {
                self.chain.is_none_or(|c| c == e.chain_id)
                    && self.contract.is_none_or(|c| c == e.contract)
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
    let chains = s.select(q.chain.as_deref())?;
    let start = chains::start(chains, "events", q.cursor.as_deref(), input::position)?;

    // A range ending below its start is empty, like any range without events.
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Ok(Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let page = chains::page(
        chains,
        "events",
        start,
        limit,
        |e: &Event| input::position_key(e.block_number, e.log_index),
        |i, after, want| {
            let (pool, id, name) = (s.app.pool.clone(), chains[i].id, chains[i].name.clone());
            let filter = EventFilter {
                contract: names.contract.map(str::to_owned),
                event: names.event.clone(),
                stream: names.stream.clone(),
                from_block: from,
                to_block: to,
                after,
            };
            async move {
                let rows = view::list(&pool, id, filter, want).await?;
                Ok(rows
                    .into_iter()
                    .map(|v| {
                        let mut e = Event::from_view(&name, v);
                        crate::text::serve_args(&mut e.args);
                        e
                    })
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page))
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
    let mut filter = NameFilter::parse(
        q.contract.as_deref(),
        q.event.as_deref(),
        q.stream.as_deref(),
    )?;
    if let Some(raw) = q.chain.as_deref() {
        filter.chain = Some(s.one(Some(raw))?.id as u64);
    }
    let names: std::collections::HashMap<u64, String> = s
        .chains
        .iter()
        .map(|c| (c.id as u64, c.name.clone()))
        .collect();
    let feed = BroadcastStream::new(s.app.events.subscribe());
    let stream = feed
        .filter_map(move |item| {
            let message = match item {
                Ok(record) if filter.matches(&record) => Some(message(&record, &names)),
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

/// The CAIP-2 name of chain `id` among `names` (its id in decimal if it is not served, which cannot happen).
fn name_of(names: &std::collections::HashMap<u64, String>, id: u64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

fn message(live: &LiveEvent, names: &std::collections::HashMap<u64, String>) -> sse::Event {
    let record: &EventRecord = match live {
        LiveEvent::Reorg {
            chain_id,
            fork_block,
            block_hash,
            removed_events,
        } => {
            let notice = ReorgNotice {
                chain: name_of(names, chain_id.0),
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
    let mut event = Event::from_record(name_of(names, record.chain_id), record);
    crate::text::serve_args(&mut event.args);
    let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
    sse::Event::default()
        .event(name)
        .id(format!("{}:{}", event.block_number, event.log_index))
        .data(data)
}

impl Event {
    /// A newly indexed event of chain `chain` (its CAIP-2 name), as streamed.
    fn from_record(chain: String, r: &EventRecord) -> Self {
        Self {
            chain,
            chain_id: r.chain_id as i64,
            block_number: r.block_number as i64,
            block_hash: r.block_hash.clone(),
            log_index: r.log_index as i64,
            tx_hash: r.tx_hash.clone(),
            contract: r.contract.clone(),
            address: r.address.clone(),
            event: r.event.clone(),
            stream: r.stream.clone(),
            args: r.args.clone(),
        }
    }

    fn from_view(chain: &str, v: EventView) -> Self {
        Self {
            chain: chain.to_owned(),
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
