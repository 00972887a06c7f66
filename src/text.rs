//! Strings from the chain, kept exactly. A contract's `string` argument is any byte sequence: it may hold NUL,
//! which PostgreSQL `text` and `jsonb` cannot store, or bytes that are not UTF-8, which no JSON string can
//! carry. Neither may be altered on the way to a client, so each such string travels in two parts:
//!
//! - **stored** (event arguments in `raw_events.args`, live events on their way to subscribers): the text with
//!   every NUL and every invalid sequence replaced by U+FFFD, plus, when that changed anything, the exact bytes
//!   in 0x-hex under the argument's name with `_hex` appended (no argument of the contracts ends in `_hex`).
//!   Derived tables keep the same text and the exact bytes in a `BYTEA` column beside it (`spec_uri_raw`, …),
//!   NULL when the text is exact;
//! - **served** ([`serve`], [`serve_args`]): the exact string when the bytes are UTF-8, NULs included (JSON
//!   writes them `\u0000`), and no `_hex` field; otherwise the replaced text and the exact bytes in `_hex`.

use serde_json::{Map, Value};

/// The suffix of the field that carries a string's exact bytes.
pub const HEX_SUFFIX: &str = "_hex";

/// A chain string in its stored form: `text` storable anywhere, `raw` the exact bytes when `text` is not them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainText {
    /// The bytes as UTF-8, with NUL and invalid sequences replaced by U+FFFD.
    pub text: String,
    /// The exact bytes, when `text` differs from them.
    pub raw: Option<Vec<u8>>,
}

impl ChainText {
    /// The stored form of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.contains('\0') => Self {
                text: s.to_owned(),
                raw: None,
            },
            _ => Self {
                text: String::from_utf8_lossy(bytes).replace('\0', "\u{FFFD}"),
                raw: Some(bytes.to_vec()),
            },
        }
    }

    /// The exact bytes.
    pub fn bytes(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.text.as_bytes())
    }

    /// Reads argument `name` of a stored `args` object; `None` when it is missing or malformed.
    pub fn from_args(args: &Value, name: &str) -> Option<Self> {
        let text = args.get(name)?.as_str()?.to_owned();
        let raw = match args.get(format!("{name}{HEX_SUFFIX}").as_str()) {
            None => None,
            Some(hex) => Some(alloy::hex::decode(hex.as_str()?).ok()?),
        };
        Some(Self { text, raw })
    }

    /// Writes this string as argument `name` of a stored `args` object.
    pub fn insert_into(self, args: &mut Map<String, Value>, name: &str) {
        if let Some(raw) = &self.raw {
            args.insert(
                format!("{name}{HEX_SUFFIX}"),
                Value::String(alloy::hex::encode_prefixed(raw)),
            );
        }
        args.insert(name.to_owned(), Value::String(self.text));
    }
}

/// Turns a stored string into its served form, in place: `text` becomes the exact string and `hex` `None`
/// when the exact bytes (`hex`, 0x-hex) are UTF-8; otherwise both stay as they are.
pub fn serve(text: &mut String, hex: &mut Option<String>) {
    if let Some(exact) = hex
        .as_deref()
        .and_then(|h| alloy::hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok())
    {
        *text = exact;
        *hex = None;
    }
}

/// Turns stored event arguments into their served form (see [`serve`]).
pub fn serve_args(args: &mut Value) {
    let Value::Object(map) = args else {
        return;
    };
    let names: Vec<String> = map
        .keys()
        .filter_map(|k| k.strip_suffix(HEX_SUFFIX))
        .filter(|name| map.get(*name).is_some_and(Value::is_string))
        .map(str::to_owned)
        .collect();
    for name in names {
        let key = format!("{name}{HEX_SUFFIX}");
        let mut hex = map.get(&key).and_then(Value::as_str).map(str::to_owned);
        let Some(Value::String(text)) = map.get_mut(&name) else {
            continue;
        };
        serve(text, &mut hex);
        if hex.is_none() {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(bytes: &[u8]) -> Value {
        let mut args = Map::new();
        ChainText::from_bytes(bytes).insert_into(&mut args, "specURI");
        let mut stored = Value::Object(args);
        // What `jsonb` would keep: no NUL may be left in the stored form.
        assert!(!stored.to_string().contains("\\u0000"), "{stored}");
        assert_eq!(
            ChainText::from_args(&stored, "specURI").unwrap().bytes(),
            bytes,
            "the stored form keeps the exact bytes"
        );
        serve_args(&mut stored);
        stored
    }

    #[test]
    fn plain_text_is_stored_and_served_as_it_is() {
        assert_eq!(
            round_trip(b"ipfs://spec"),
            json!({"specURI": "ipfs://spec"})
        );
        assert_eq!(round_trip(b""), json!({"specURI": ""}));
        assert_eq!(round_trip("é€".as_bytes()), json!({"specURI": "é€"}));
    }

    #[test]
    fn nul_is_served_exactly() {
        let served = round_trip(b"a\0b\0");
        assert_eq!(served, json!({"specURI": "a\u{0}b\u{0}"}));
        assert_eq!(served.to_string(), r#"{"specURI":"a\u0000b\u0000"}"#);
    }

    #[test]
    fn invalid_utf8_is_served_with_its_bytes() {
        assert_eq!(
            round_trip(b"ok\xff\xfe\0"),
            json!({"specURI": "ok\u{FFFD}\u{FFFD}\u{FFFD}", "specURI_hex": "0x6f6bfffe00"})
        );
    }

    #[test]
    fn a_text_that_only_looks_replaced_stays_exact() {
        // A real U+FFFD on chain is valid UTF-8 and needs no hex.
        assert_eq!(
            round_trip("\u{FFFD}".as_bytes()),
            json!({"specURI": "\u{FFFD}"})
        );
    }

    #[test]
    fn served_fields_follow_the_same_rule() {
        let mut text = "a\u{FFFD}".to_string();
        let mut hex = Some("0x6100".to_string());
        serve(&mut text, &mut hex);
        assert_eq!((text.as_str(), hex), ("a\0", None));
        let mut text = "\u{FFFD}".to_string();
        let mut hex = Some("0xff".to_string());
        serve(&mut text, &mut hex);
        assert_eq!((text.as_str(), hex.as_deref()), ("\u{FFFD}", Some("0xff")));
    }
}
