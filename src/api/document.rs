//! The OpenAPI document as served by `/openapi.json`: utoipa's description of the routes and types, completed
//! with every rule the server enforces, so a client generated from it, or a fuzzer, sends what the server
//! accepts and expects what it answers.
//!
//! - parameters: the patterns, ranges and enums of [`super::input`] and of the upload headers; `limit`'s and
//!   `Content-Length`'s bounds from the configuration;
//! - responses: the errors every route can end in (400, 500, 503, and on the write routes 413 and 429 with
//!   `Retry-After`), and the shapes of served values (lowercase addresses and hashes, canonical decimal
//!   uint256 strings);
//! - `/v1/events/stream`: each message of the `text/event-stream`, by event name, with its data's schema.

use serde_json::{Map, Value, json};

use super::input::{CONTRACTS, patterns};

/// The configured bounds the document states.
pub(crate) struct Bounds {
    /// `api.max_page_size`: the largest `limit`.
    pub max_page_size: u32,
    /// `api.max_body_bytes`: the largest JSON body.
    pub max_body_bytes: usize,
    /// `da.max_blob_bytes`: the largest upload.
    pub max_blob_bytes: usize,
    /// The values `chain` accepts: each chain's CAIP-2 name and chain id.
    pub chains: Vec<String>,
    /// The chain ids served: those a cursor may name.
    pub chain_ids: Vec<u64>,
    /// Whether a Starknet chain is served: its addresses and signatures have other forms than EVM ones.
    pub starknet: bool,
}

impl Bounds {
    /// An address a request may carry.
    fn address_in(&self) -> &'static str {
        if self.starknet {
            patterns::ADDRESS_ANY
        } else {
            patterns::ADDRESS
        }
    }

    /// An address as the API serves it.
    fn address_out(&self) -> &'static str {
        if self.starknet {
            patterns::ADDRESS_ANY_LOWER
        } else {
            patterns::ADDRESS_LOWER
        }
    }

    /// A signature in hex, `0x` optional (the heartbeat body) or required (the upload header): 65 bytes on EVM
    /// chains, 1 to 8 felts of 32 bytes on Starknet.
    fn signature(&self, prefix_optional: bool) -> String {
        let prefix = if prefix_optional { "(0x)?" } else { "0x" };
        if self.starknet {
            format!("^{prefix}([0-9a-fA-F]{{130}}|([0-9a-fA-F]{{64}}){{1,8}})$")
        } else {
            format!("^{prefix}[0-9a-fA-F]{{130}}$")
        }
    }
}

/// `X-Accord-Sha256`.
const SHA256_HEADER: &str = "^0x[0-9a-fA-F]{64}$";
/// The `sha256` path parameter: 64 hex digits, `0x` optional.
const SHA256_PATH: &str = "^(0x)?[0-9a-fA-F]{64}$";
/// The largest unix time documented: JavaScript's largest safe integer. Larger ones parse, but a signature
/// that recent is refused anyway (401) and many clients cannot hold them.
const MAX_UNIX_SECONDS: u64 = (1 << 53) - 1;
/// Block numbers are stored as PostgreSQL BIGINT.
const MAX_BLOCK: i64 = i64::MAX;

/// Completes `doc`, utoipa's document serialized to JSON.
pub(crate) fn complete(doc: &mut Value, bounds: &Bounds) {
    let uint256 = patterns::uint256();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                parameters(path, op, bounds, &uint256);
                responses(path, method, op, bounds);
            }
        }
    }
    if let Some(op) = doc["paths"]["/v1/events/stream"]["get"].as_object_mut() {
        op["responses"]["200"] = event_stream();
    }
    if let Some(op) = doc["paths"]["/v1/blobs"]["post"].as_object_mut() {
        op["requestBody"]["content"]["application/octet-stream"]["schema"] = json!({
            "type": "string",
            "format": "binary",
            "description": format!("1 to {} bytes (da.max_blob_bytes), exactly Content-Length of them", bounds.max_blob_bytes),
        });
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            component(name, schema, bounds);
        }
    }
}

/// Sets the schema of every parameter of `op` to what the server accepts.
fn parameters(path: &str, op: &mut Value, bounds: &Bounds, uint256: &str) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let location = p["in"].as_str().unwrap_or_default().to_string();
        let string = |pattern: &str| json!({"type": "string", "pattern": pattern});
        let schema = match (location.as_str(), name.as_str()) {
            ("query", "limit") => json!({
                "type": "integer", "minimum": 1, "maximum": bounds.max_page_size,
                "default": super::input::DEFAULT_LIMIT.min(bounds.max_page_size),
            }),
            ("query", "cursor") => {
                string(&cursor_pattern(path, &bounds.chain_ids, bounds.starknet))
            }
            ("query", "status") => json!({"type": "string", "enum": super::jobs::STATUSES}),
            ("query", "client" | "worker" | "replica") | ("path", "address") => {
                string(bounds.address_in())
            }
            ("path", "key") => string(super::placement::KEY_PATTERN),
            ("query", "rf") => {
                json!({"type": "integer", "minimum": 1, "maximum": super::placement::MAX_RF})
            }
            ("query", "capabilities") => {
                json!({"type": "integer", "minimum": 0, "maximum": u16::MAX})
            }
            ("query", "chain") => json!({"type": "string", "enum": bounds.chains}),
            ("query", "job") | ("path", "id") => string(uint256),
            ("query", "contract") => json!({"type": "string", "enum": CONTRACTS}),
            ("query", "event") => string(patterns::IDENTIFIER),
            ("query", "stream") => string(patterns::STREAM),
            ("query", "from_block" | "to_block") => {
                json!({"type": "integer", "minimum": 0, "maximum": MAX_BLOCK})
            }
            ("path", "sha256") => string(SHA256_PATH),
            ("header", "X-Accord-Worker") => string(bounds.address_in()),
            ("header", "X-Accord-Timestamp") => {
                json!({"type": "integer", "minimum": 0, "maximum": MAX_UNIX_SECONDS})
            }
            ("header", "X-Accord-Sha256") => string(SHA256_HEADER),
            ("header", "X-Accord-Signature") => string(&bounds.signature(false)),
            ("header", "Content-Length") => {
                json!({"type": "integer", "minimum": 1, "maximum": bounds.max_blob_bytes})
            }
            // A parameter without a rule here keeps utoipa's schema; the document test lists it.
            _ => continue,
        };
        p["schema"] = schema;
        if location == "header" || location == "path" {
            p["required"] = json!(true);
        }
    }
}

/// The cursor pattern of the list at `path` over the chains `chains`.
fn cursor_pattern(path: &str, chains: &[u64], starknet: bool) -> String {
    let kind = path.trim_start_matches("/v1/");
    match kind {
        "jobs" => patterns::uint_cursor(kind, chains),
        "workers" => patterns::address_cursor(kind, chains, starknet),
        "proposals" => patterns::block_uint_cursor(kind, chains),
        _ => patterns::position_cursor(kind, chains),
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

/// Adds the error answers `op` can end in that its annotation does not list.
fn responses(path: &str, method: &str, op: &mut Value, bounds: &Bounds) {
    let has_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty())
        || op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let mut add = |status: &str, value: Value| {
        responses.entry(status.to_string()).or_insert(value);
    };
    if has_params {
        add(
            "400",
            error("A malformed parameter or body, named in the message (`invalid_request`)"),
        );
    }
    if path != "/v1/health" && path != "/metrics" {
        add(
            "503",
            error(
                "The request timed out (`timeout`) or the database is unavailable (`unavailable`); retrying \
                 may succeed",
            ),
        );
        add(
            "500",
            error("A query failed (`internal`); the cause is logged, never sent"),
        );
    }
    if method == "post" {
        let mut limited = error(
            "Over a rate or in-flight limit of the client IP, the worker or the uploads at once (`rate_limited`); \
             nothing changed",
        );
        limited["headers"] = json!({
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "required": true,
                "schema": {"type": "integer", "minimum": 1},
            }
        });
        responses.insert("429".into(), limited);
        if path == "/v1/heartbeats" {
            responses.insert(
                "413".into(),
                error(&format!(
                    "The body is larger than api.max_body_bytes ({} bytes) (`payload_too_large`)",
                    bounds.max_body_bytes
                )),
            );
        }
    }
}

/// One message of `/v1/events/stream`: its `event` name and `data` (JSON as text) by kind.
fn event_stream() -> Value {
    let message = |event: Value, data: &str, id: Option<Value>, description: &str| {
        let mut properties = json!({
            "event": event,
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": format!("#/components/schemas/{data}")},
            },
        });
        let mut required = vec!["event", "data"];
        // A message without an id line keeps the last one received (the SSE rules), so only indexed events
        // state theirs.
        if let Some(id) = id {
            properties["id"] = id;
            required.push("id");
        }
        json!({
            "type": "object",
            "description": description,
            "required": required,
            "properties": properties,
        })
    };
    let reorg = super::events::REORG_EVENT;
    let lagged = super::events::LAGGED_EVENT;
    let indexed = message(
        json!({
            "type": "string",
            "pattern": patterns::IDENTIFIER,
            "not": {"enum": [reorg, lagged]},
            "description": "The contract event's name, e.g. `JobPosted`",
        }),
        "Event",
        Some(json!({
            "type": "string",
            "pattern": "^[0-9]+:[0-9]+$",
            "description": "`<block>:<log index>`",
        })),
        "A newly indexed contract event, named after it; its data is the event as `/v1/events` serves it",
    );
    let reorg = message(
        json!({"const": reorg}),
        "ReorgNotice",
        None,
        "The chain replaced blocks: every event streamed from a block above `fork_block` is withdrawn; their \
         replacements follow as ordinary messages. Sent to every subscriber, whatever its filters",
    );
    let lagged = message(
        json!({"const": lagged}),
        "Lagged",
        None,
        "The subscriber read too slowly and missed `skipped` events; read them from `/v1/events`",
    );
    json!({
        "description": "A `text/event-stream` that stays open: one message per newly indexed event that passes the \
                        filters, `Reorg` and `lagged` notices, and comments that keep the connection alive. The \
                        schema describes one message",
        "content": {
            "text/event-stream": {
                "schema": {"oneOf": [indexed, reorg, lagged]},
            }
        },
    })
}

/// Property names whose values have a fixed form in every response.
fn property_rule(name: &str, bounds: &Bounds) -> Option<Value> {
    let pattern = match name {
        "client" | "worker" | "address" | "recipient" | "proposer" | "voter" => {
            bounds.address_out()
        }
        "tx_hash" | "block_hash" | "commitment" | "spec_hash" => patterns::HASH_LOWER,
        "job_id" | "reward" | "stake" | "pending" | "slashed_total" | "amount" | "fee"
        | "from_stake" | "from_pending" | "size" | "slashed" | "dispute_bond" | "proposal_id"
        | "for_votes" | "against_votes" | "abstain_votes" | "quorum" | "weight" | "value" => {
            patterns::UINT_DECIMAL
        }
        _ => return None,
    };
    Some(json!(pattern))
}

/// Tightens the served shapes of component `name`.
fn component(name: &str, schema: &mut Value, bounds: &Bounds) {
    // Values that are not the API's own (the DA layer's reference, the router state) keep their schema.
    if matches!(
        name,
        "BlobRef" | "RouterState" | "SchedulerStatus" | "StatusBody"
    ) {
        return;
    }
    if name == "HeartbeatBody" {
        // A request body: what the handler accepts before it checks the signature.
        let properties = &mut schema["properties"];
        properties["worker"]["pattern"] = json!(bounds.address_in());
        properties["chain"] = json!({"type": ["string", "null"], "enum": bounds.chains.iter().map(|c| json!(c)).chain([Value::Null]).collect::<Vec<_>>()});
        properties["capacity"]["minimum"] = json!(1);
        properties["capacity"]["maximum"] = json!(super::heartbeats::MAX_CAPACITY);
        properties["timestamp"]["maximum"] = json!(MAX_UNIX_SECONDS);
        if let Some(t) = properties["timestamp"].as_object_mut() {
            t.remove("format");
        }
        properties["signature"]["pattern"] = json!(bounds.signature(true));
        return;
    }
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (property, value) in properties.iter_mut() {
        let Some(value) = value.as_object_mut() else {
            continue;
        };
        let is_string = match &value.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
            _ => false,
        };
        if !is_string {
            continue;
        }
        if let Some(pattern) = property_rule(property, bounds) {
            value.insert("pattern".into(), pattern);
        }
        constrain_enums(name, property, value);
    }
}

/// Enumerations of served values.
fn constrain_enums(component: &str, property: &str, value: &mut Map<String, Value>) {
    match (component, property) {
        ("Job", "status") => {
            value.insert("enum".into(), json!(super::jobs::STATUSES));
        }
        ("Event", "contract") => {
            value.insert("enum".into(), json!(CONTRACTS));
        }
        ("Event", "event") => {
            value.insert("pattern".into(), json!(patterns::IDENTIFIER));
        }
        ("Event", "stream") => {
            value.insert("pattern".into(), json!(patterns::STREAM));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input;

    /// Every number up to the largest uint256 and beyond, against the pattern, checked without a regex engine:
    /// the pattern's alternatives are plain enough to evaluate by hand here.
    #[test]
    fn the_uint256_pattern_lists_each_prefix_of_the_largest_value() {
        let pattern = patterns::uint256();
        assert!(pattern.starts_with("^0*([0-9]{1,77}|"), "{pattern}");
        assert!(pattern.ends_with(&format!(
            "|{})$",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        )));
        // One alternative per non-zero digit of the maximum past the first (that one is 1: nothing below it
        // but 0, which cannot lead).
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        let expected = max.bytes().skip(1).filter(|b| *b != b'0').count() + 2;
        assert_eq!(pattern.matches('|').count() + 1, expected);
        assert!(input::uint256("id", max).is_ok());
    }

    #[test]
    fn cursor_patterns_spell_the_hex_of_their_list() {
        assert_eq!(
            patterns::uint_cursor("jobs", &[]),
            "^6[aA]6[fF]62733[aA](3[0-9]){1,19}3[aA](3[0-9]){1,78}$"
        );
        let c = input::encode_cursor("jobs", "31337:42");
        assert_eq!(c, "6a6f62733a33313333373a3432");
        assert_eq!(
            patterns::uint_cursor("jobs", &[10, 31337]),
            "^6[aA]6[fF]62733[aA](3130|3331333337)3[aA](3[0-9]){1,78}$"
        );
        assert_eq!(
            patterns::address_cursor("workers", &[], true),
            "^776[fF]726[bB]6572733[aA](3[0-9]){1,19}3[aA]30(78|58)((3[0-9]|4[1-6]|6[1-6])){40}(((3[0-9]|4[1-6]|6[1-6])){24})?$"
        );
    }
}
