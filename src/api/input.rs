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

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows (one extra row tells whether a next page exists) and the
    /// cursor kind and key function of the list.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, kind: &str, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(kind, &key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
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

/// A cursor over a uint256 key (job id), as the decimal text to bind with `::numeric`.
pub fn uint_cursor(kind: &str, raw: &str) -> Result<String> {
    let key = decode_cursor(kind, raw)?;
    uint256("cursor", &key)
        .map_err(|_| Error::invalid(format!("cursor is not a cursor of /v1/{kind}")))
}

/// A cursor over a log position `(block_number, log_index)`.
pub fn position_cursor(kind: &str, raw: &str) -> Result<(i64, i64)> {
    let bad = || Error::invalid(format!("cursor is not a cursor of /v1/{kind}"));
    let key = decode_cursor(kind, raw)?;
    let (block, log) = key.split_once(':').ok_or_else(bad)?;
    let block = block
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(bad)?;
    let log = log
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(bad)?;
    Ok((block, log))
}

/// The cursor key of a log position.
/// Ends a list query in chain order: rows after `cursor` (block, log index), one more than `limit` so
/// [`Page::from_rows`] can tell whether another page follows.
pub fn push_position_page(
    sql: &mut sqlx::QueryBuilder<sqlx::Postgres>,
    cursor: Option<(i64, i64)>,
    limit: i64,
) {
    if let Some((block, log)) = cursor {
        sql.push(" AND (block_number, log_index) > (")
            .push_bind(block)
            .push(", ")
            .push_bind(log)
            .push(")");
    }
    sql.push(" ORDER BY block_number, log_index LIMIT ")
        .push_bind(limit + 1);
}

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

/// An account address: `0x` and 40 hex digits, any case; returned lowercase as stored.
///
/// Starknet addresses are felts (up to 64 hex digits); this widens when that chain family lands.
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
        assert_eq!(uint_cursor("jobs", &c).unwrap(), "42");
        assert!(message(decode_cursor("workers", &c)).contains("cursor"));
        assert!(decode_cursor("jobs", "zz").is_err());
        assert!(decode_cursor("jobs", "").is_err());
        assert!(decode_cursor("jobs", &encode_cursor("jobs", "")).is_err());
        assert!(uint_cursor("jobs", &encode_cursor("jobs", "x1")).is_err());
        let p = encode_cursor("events", &position_key(7, 3));
        assert_eq!(position_cursor("events", &p).unwrap(), (7, 3));
        assert!(position_cursor("events", &encode_cursor("events", "7")).is_err());
        assert!(position_cursor("events", &encode_cursor("events", "7:-1")).is_err());
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

    #[test]
    fn pages_report_a_cursor_only_when_more_rows_exist() {
        let page = Page::from_rows(vec![1, 2, 3], 2, "jobs", |n: &i32| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            decode_cursor("jobs", page.next_cursor.as_deref().unwrap()).unwrap(),
            "2"
        );
        let last = Page::from_rows(vec![1, 2], 2, "jobs", |n: &i32| n.to_string());
        assert_eq!(last.items, vec![1, 2]);
        assert!(last.next_cursor.is_none());
    }
}
