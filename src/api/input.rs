//! Validation of path and query parameters, opaque cursors and the page envelope. Every check names the field
//! it rejects, so a script author sees `limit must be 1..500` rather than a generic parse failure.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;

/// Largest uint256, in decimal.
const U256_MAX: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

/// A page of a list, ordered by its key; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null when there is none.
    pub next_cursor: Option<String>,
}

/// `limit`: 1..=`max`, default [`DEFAULT_LIMIT`] (or `max` when smaller).
pub fn limit(raw: Option<&str>, max: u32) -> Result<i64> {
    let Some(raw) = raw else {
        return Ok(i64::from(DEFAULT_LIMIT.min(max)));
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(i64::from(n)),
        _ => Err(Error::invalid(format!("limit must be 1..{max}"))),
    }
}

/// A cursor is the hex of `<list>:<key>`: opaque to clients, and a cursor of one list is refused by another.
pub fn encode_cursor(kind: &str, key: &str) -> String {
    let mut text = String::with_capacity(kind.len() + 1 + key.len());
    text.push_str(kind);
    text.push(':');
    text.push_str(key);
    alloy::hex::encode(text)
}

/// The key inside a cursor of list `kind`.
pub fn decode_cursor(kind: &str, raw: &str) -> Result<String> {
    let bad = || Error::invalid(format!("cursor is not a cursor of /v1/{kind}"));
    if raw.starts_with("0x") {
        return Err(bad());
    }
    let bytes = alloy::hex::decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    match text.split_once(':') {
        Some((k, key)) if k == kind && !key.is_empty() => Ok(key.to_string()),
        _ => Err(bad()),
    }
}

/// Longest block number or log index in a cursor: 18 digits stay below `i64::MAX`.
const CURSOR_POSITION_DIGITS: usize = 18;
/// Longest uint256 in a cursor: the digits of the largest uint256.
const CURSOR_UINT_DIGITS: usize = 78;

/// `raw` if it is 1 to `max` ASCII digits.
fn digits(raw: &str, max: usize) -> Option<&str> {
    ((1..=max).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit())).then_some(raw)
}

/// The key of a cursor over a uint256 (job id), as the decimal text to bind with `::numeric`: 1 to 78 digits (a
/// key above the largest uint256 only means an empty page).
pub fn uint_key(key: &str) -> Option<String> {
    digits(key, CURSOR_UINT_DIGITS).map(str::to_string)
}

/// The key of a cursor over a log position `(block_number, log_index)`: `<digits>:<digits>`, each 1 to 18 digits.
pub fn position(key: &str) -> Option<(i64, i64)> {
    let (block, log) = key.split_once(':')?;
    let number =
        |part: &str| digits(part, CURSOR_POSITION_DIGITS).and_then(|d| d.parse::<i64>().ok());
    Some((number(block)?, number(log)?))
}

/// The key of a cursor over `(block_number, uint256)` (proposals): the position part as in [`position`], the
/// uint256 part as in [`uint_key`].
pub fn block_uint(key: &str) -> Option<(i64, String)> {
    let (block, id) = key.split_once(':')?;
    let block = digits(block, CURSOR_POSITION_DIGITS).and_then(|d| d.parse::<i64>().ok())?;
    Some((block, uint_key(id)?))
}

/// The cursor key of a log position.
pub fn position_key(block_number: i64, log_index: i64) -> String {
    format!("{block_number}:{log_index}")
}

/// A uint256 in decimal (job and proposal ids), canonicalized without leading zeros, for binding as text and
/// casting with `::numeric` in SQL.
pub fn uint256(field: &str, raw: &str) -> Result<String> {
    let bad = || Error::invalid(format!("{field} must be a decimal uint256"));
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let trimmed = raw.trim_start_matches('0');
    let digits = if trimmed.is_empty() { "0" } else { trimmed };
    // Same length: decimal strings compare like their values.
    if digits.len() > U256_MAX.len() || (digits.len() == U256_MAX.len() && digits > U256_MAX) {
        return Err(bad());
    }
    Ok(digits.to_string())
}

/// An account address of the served chain's family, returned in its normal form as stored: on EVM chains `0x`
/// and 40 hex digits, any case (stored lowercase); on Starknet a felt, `0x` and 1 to 64 hex digits (stored
/// zero-padded to 64).
pub fn address_of(family: crate::domain::Family, field: &str, raw: &str) -> Result<String> {
    match family {
        crate::domain::Family::Evm => address(field, raw),
        crate::domain::Family::Starknet => crate::domain::Address::parse(family, raw)
            .map(|a| a.as_str().to_owned())
            .map_err(|_| {
                Error::invalid(format!(
                    "{field} is not a Starknet address (0x and 1 to 64 hex digits, below the field's prime)"
                ))
            }),
    }
}

/// An EVM account address: `0x` and 40 hex digits, any case; returned lowercase as stored.
pub fn address(field: &str, raw: &str) -> Result<String> {
    let hex = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X"));
    match hex {
        Some(h) if h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let mut out = String::with_capacity(42);
            out.push_str("0x");
            out.push_str(&h.to_ascii_lowercase());
            Ok(out)
        }
        _ => Err(Error::invalid(format!(
            "{field} is not a 0x address (0x and 40 hex digits)"
        ))),
    }
}

/// One of a fixed set of values.
pub fn one_of(field: &str, raw: &str, allowed: &'static [&'static str]) -> Result<&'static str> {
    allowed
        .iter()
        .copied()
        .find(|v| *v == raw)
        .ok_or_else(|| Error::invalid(format!("{field} must be one of {}", allowed.join(", "))))
}

/// A block number: a non-negative integer that fits PostgreSQL's BIGINT.
pub fn block(field: &str, raw: &str) -> Result<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        Error::invalid(format!(
            "{field} must be a block number (a non-negative integer)"
        ))
    })
}

/// An identifier such as an event name: 1 to 64 ASCII letters, digits or underscores.
pub fn identifier(field: &str, raw: &str) -> Result<String> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(format!(
            "{field} must be 1 to 64 letters, digits or _"
        )))
    }
}

/// An entity stream name such as `job:7`: 1 to 200 printable ASCII characters.
pub fn stream(field: &str, raw: &str) -> Result<String> {
    let ok = (1..=200).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(format!(
            "{field} must be 1 to 200 printable characters"
        )))
    }
}

/// Middleware of the JSON write routes: numbers with a zero fraction (`536.0`) become integers (`536`) before
/// the handler parses the body, since JSON (and the JSON Schema of the OpenAPI document) does not tell them
/// apart. Reads at most `max_body` bytes (413 beyond); a body that is not JSON passes unchanged.
pub(crate) async fn integral_numbers(
    axum::extract::State(max_body): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, max_body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Error::PayloadTooLarge(format!("request body is larger than {max_body} bytes"))
                .into_response();
        }
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut value) => {
            if integral(&mut value) {
                serde_json::to_vec(&value).map_or(bytes, axum::body::Bytes::from)
            } else {
                bytes
            }
        }
        Err(_) => bytes,
    };
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Turns the integral floats inside `value` into integers; whether it changed anything.
fn integral(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let whole = if f.fract() != 0.0 {
                None
            } else if f >= 0.0 && f <= u64::MAX as f64 {
                Some(Value::from(f as u64))
            } else if f < 0.0 && f >= i64::MIN as f64 {
                Some(Value::from(f as i64))
            } else {
                None
            };
            whole.map(|w| *value = w).is_some()
        }
        Value::Array(items) => {
            items
                .iter_mut()
                .map(integral)
                .filter(|changed| *changed)
                .count()
                > 0
        }
        Value::Object(map) => {
            map.values_mut()
                .map(integral)
                .filter(|changed| *changed)
                .count()
                > 0
        }
        _ => false,
    }
}

/// Regular expressions (ECMA-262, as OpenAPI uses them) of exactly what the validators above accept; the
/// OpenAPI document states them so clients and fuzzers know the server's rules.
pub mod patterns {
    use super::{CURSOR_POSITION_DIGITS, CURSOR_UINT_DIGITS, U256_MAX};
    use crate::api::chains::CURSOR_CHAIN_DIGITS;

    /// [`super::address`]: `0x` or `0X` and 40 hex digits in any case.
    pub const ADDRESS: &str = "^0[xX][0-9a-fA-F]{40}$";
    /// An address as the API serves it: lowercase.
    pub const ADDRESS_LOWER: &str = "^0x[0-9a-f]{40}$";
    /// [`super::address_of`] when a Starknet chain is served too: an EVM address or a felt of 1 to 64 hex digits
    /// (a felt must also be below the field's prime, which a pattern does not say).
    pub const ADDRESS_ANY: &str = "^0[xX][0-9a-fA-F]{1,64}$";
    /// An address as the API serves it when a Starknet chain is served too: EVM's 40 hex digits or a felt's 64.
    pub const ADDRESS_ANY_LOWER: &str = "^0x([0-9a-f]{40}|[0-9a-f]{64})$";
    /// A 32-byte hash as the API serves it: lowercase.
    pub const HASH_LOWER: &str = "^0x[0-9a-f]{64}$";
    /// [`super::identifier`].
    pub const IDENTIFIER: &str = "^[A-Za-z0-9_]{1,64}$";
    /// [`super::stream`]: 1 to 200 printable ASCII characters.
    pub const STREAM: &str = "^[!-~]{1,200}$";
    /// A decimal uint256 as the API serves it: no sign, no leading zero.
    pub const UINT_DECIMAL: &str = "^(0|[1-9][0-9]{0,77})$";

    /// [`super::uint256`]: decimal digits, leading zeros allowed, worth at most the largest uint256. Numbers
    /// of up to 77 significant digits are all below it; one of 78 digits matches the largest uint256 on a
    /// prefix, then has a smaller digit, then any digits (or equals it).
    pub fn uint256() -> String {
        let max = U256_MAX.as_bytes();
        let mut alternatives = vec![format!("[0-9]{{1,{}}}", max.len() - 1)];
        for (i, &digit) in max.iter().enumerate() {
            // The first digit of a 78-digit number cannot be 0.
            let lowest = if i == 0 { b'1' } else { b'0' };
            if digit > lowest {
                let prefix = &U256_MAX[..i];
                let class = format!("[{}-{}]", lowest as char, (digit - 1) as char);
                let rest = max.len() - i - 1;
                alternatives.push(match rest {
                    0 => format!("{prefix}{class}"),
                    _ => format!("{prefix}{class}[0-9]{{{rest}}}"),
                });
            }
        }
        alternatives.push(U256_MAX.to_string());
        format!("^0*({})$", alternatives.join("|"))
    }

    /// The hex of one ASCII byte, either case of its hex letters.
    fn hex_byte(b: u8) -> String {
        let case = |nibble: u8| match nibble {
            0..=9 => ((b'0' + nibble) as char).to_string(),
            _ => {
                let lower = (b'a' + nibble - 10) as char;
                format!("[{lower}{}]", lower.to_ascii_uppercase())
            }
        };
        case(b >> 4) + &case(b & 0xf)
    }

    /// The hex of ASCII `text`.
    fn hex_text(text: &str) -> String {
        text.bytes().map(hex_byte).collect()
    }

    /// The hex of one ASCII decimal digit.
    const HEX_DIGIT: &str = "3[0-9]";
    /// The hex of one ASCII hex digit, either case.
    const HEX_HEXDIGIT: &str = "(3[0-9]|4[1-6]|6[1-6])";

    /// The hex of a cursor's head: `<kind>:<chain id>:`, the chain one of `chains` (the ids served), or any
    /// chain id when `chains` is empty.
    fn head(kind: &str, chains: &[u64]) -> String {
        let chain = if chains.is_empty() {
            format!("({HEX_DIGIT}){{1,{CURSOR_CHAIN_DIGITS}}}")
        } else {
            let ids: Vec<String> = chains.iter().map(|id| hex_text(&id.to_string())).collect();
            format!("({})", ids.join("|"))
        };
        format!(
            "^{}{chain}{}",
            hex_text(&format!("{kind}:")),
            hex_byte(b':')
        )
    }

    /// The cursor of a list keyed by uint256 (`jobs`): hex of `jobs:<chain id>:<1 to 78 digits>`.
    pub fn uint_cursor(kind: &str, chains: &[u64]) -> String {
        format!(
            "{}({HEX_DIGIT}){{1,{CURSOR_UINT_DIGITS}}}$",
            head(kind, chains)
        )
    }

    /// The cursor of a list in chain order: hex of `<kind>:<chain id>:<block>:<log index>`.
    pub fn position_cursor(kind: &str, chains: &[u64]) -> String {
        let n = CURSOR_POSITION_DIGITS;
        format!(
            "{}({HEX_DIGIT}){{1,{n}}}{}({HEX_DIGIT}){{1,{n}}}$",
            head(kind, chains),
            hex_byte(b':')
        )
    }

    /// The cursor of proposals: hex of `proposals:<chain id>:<block>:<uint256>`.
    pub fn block_uint_cursor(kind: &str, chains: &[u64]) -> String {
        format!(
            "{}({HEX_DIGIT}){{1,{CURSOR_POSITION_DIGITS}}}{}({HEX_DIGIT}){{1,{CURSOR_UINT_DIGITS}}}$",
            head(kind, chains),
            hex_byte(b':')
        )
    }

    /// The cursor of workers: hex of `workers:<chain id>:<address>`, an address as served (40 hex digits on EVM
    /// chains, 64 on Starknet: allowed when `starknet`).
    pub fn address_cursor(kind: &str, chains: &[u64], starknet: bool) -> String {
        let felt = if starknet {
            format!("(({HEX_HEXDIGIT}){{24}})?")
        } else {
            String::new()
        };
        format!(
            "{}30(78|58)({HEX_HEXDIGIT}){{40}}{felt}$",
            head(kind, chains)
        )
    }
}

/// Contract names as stored in `raw_events.contract`.
pub const CONTRACTS: &[&str] = &[
    "AccordToken",
    "TimelockController",
    "AccordGovernor",
    "WorkerRegistry",
    "JobManager",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn integral_floats_become_integers() {
        let mut v = serde_json::json!({"a": 536.0, "b": [1.5, -2.0], "c": "7.0", "d": 3});
        assert!(integral(&mut v));
        assert_eq!(
            v,
            serde_json::json!({"a": 536, "b": [1.5, -2], "c": "7.0", "d": 3})
        );
        assert!(!integral(&mut serde_json::json!({"a": 1, "b": 0.5})));
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(limit(None, 500).unwrap(), 50);
        assert_eq!(limit(None, 20).unwrap(), 20);
        assert_eq!(limit(Some("1"), 500).unwrap(), 1);
        assert_eq!(limit(Some("500"), 500).unwrap(), 500);
        for bad in ["0", "501", "-1", "", "ten", "1.5"] {
            assert_eq!(
                message(limit(Some(bad), 500)),
                "limit must be 1..500",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_list() {
        let c = encode_cursor("jobs", "42");
        assert_eq!(decode_cursor("jobs", &c).unwrap(), "42");
        assert!(message(decode_cursor("workers", &c)).contains("cursor"));
        assert!(decode_cursor("jobs", "zz").is_err());
        assert!(decode_cursor("jobs", "").is_err());
        assert!(decode_cursor("jobs", &encode_cursor("jobs", "")).is_err());
        assert_eq!(uint_key("42").as_deref(), Some("42"));
        assert!(uint_key("x1").is_none());
        assert_eq!(position(&position_key(7, 3)), Some((7, 3)));
        assert!(position("7").is_none());
        assert!(position("7:-1").is_none());
        assert_eq!(block_uint("7:12"), Some((7, "12".into())));
        assert!(block_uint("7").is_none());
    }

    #[test]
    fn uint256_accepts_the_whole_range_only() {
        assert_eq!(uint256("id", "0").unwrap(), "0");
        assert_eq!(uint256("id", "007").unwrap(), "7");
        assert_eq!(uint256("id", U256_MAX).unwrap(), U256_MAX);
        assert_eq!(U256_MAX.len(), 78);
        assert!(uint256("id", &"9".repeat(77)).is_ok());
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        for bad in ["", "-1", "+1", "1e3", "0x10", " 1", over, &"9".repeat(79)] {
            assert_eq!(
                message(uint256("id", bad)),
                "id must be a decimal uint256",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn addresses_are_checked_and_lowercased() {
        let a = "0xAbCdEf0123456789abcdef0123456789ABCDEF01";
        assert_eq!(address("worker", a).unwrap(), a.to_lowercase());
        for bad in [
            "",
            "0x",
            "0x123",
            &a[2..],
            &format!("{a}0"),
            "0xzz00000000000000000000000000000000000000",
        ] {
            assert!(
                message(address("worker", bad)).starts_with("worker is not a 0x address"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn small_validators_name_the_field() {
        assert_eq!(
            one_of("contract", "JobManager", CONTRACTS).unwrap(),
            "JobManager"
        );
        assert!(
            message(one_of("contract", "Nope", CONTRACTS))
                .starts_with("contract must be one of AccordToken,")
        );
        assert_eq!(block("from_block", "12").unwrap(), 12);
        assert!(message(block("from_block", "-1")).starts_with("from_block must be"));
        assert!(identifier("event", "JobPosted").is_ok());
        assert!(message(identifier("event", "Job Posted")).starts_with("event must be"));
        assert!(stream("stream", "job:7").is_ok());
        assert!(stream("stream", "job 7").is_err());
    }
}
