//! Events of a Cairo contract read through its committed ABI (`abi/starknet/<Name>.abi.json`): which event a
//! `keys[0]` selector names, and its fields decoded from `keys` and `data` into named JSON arguments. Integers
//! (u8 … u256) are decimal strings, felts and class hashes 0x-hex, addresses in the Starknet normal form
//! (`0x` and 64 hex digits), `ByteArray`s text (exactly kept as [`ChainText`] does), spans and arrays lists,
//! structs objects and enums `{variant: value}` (`Option` as the value or null).
//!
//! Cairo serializes an event enum's variant by appending `selector!(variant name)` to the keys and then the
//! variant's own keys and data; a `#[flat]` variant appends no selector of its own. The table below holds, for
//! every event struct reachable from the contract's top-level `Event` enum, the selector path that leads to it.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use starknet::core::types::Felt;
use starknet::core::types::contract::{
    AbiEntry, AbiEvent, EventField, EventFieldKind, TypedAbiEvent,
};
use starknet::core::utils::get_selector_from_name;

use crate::text::ChainText;

/// One event a contract can emit.
#[derive(Debug, Clone)]
struct EventDef {
    /// The variant name (the event's name in `/v1/events`).
    name: String,
    /// The selectors at the start of `keys` that name it.
    path: Vec<Felt>,
    /// The struct's fields, with where each is serialized.
    fields: Vec<EventField>,
}

/// A decoded event: its name and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The event's name.
    pub name: String,
    /// Its fields by name.
    pub args: Value,
}

/// The events of one contract, by the first key.
#[derive(Debug, Clone, Default)]
pub struct ContractAbi {
    events: HashMap<Felt, Vec<EventDef>>,
    structs: HashMap<String, Vec<(String, String)>>,
    enums: HashMap<String, Vec<(String, String)>>,
}

/// Why an ABI or an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AbiError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, AbiError> {
    Err(AbiError(message.into()))
}

fn selector(name: &str) -> Result<Felt, AbiError> {
    get_selector_from_name(name).map_err(|_| AbiError(format!("event name {name:?} is not ASCII")))
}

impl ContractAbi {
    /// Reads a contract's ABI JSON (the `abi` array of its Sierra class).
    pub fn parse(json: &str) -> Result<Self, AbiError> {
        let entries: Vec<AbiEntry> =
            serde_json::from_str(json).map_err(|e| AbiError(format!("not a Cairo ABI: {e}")))?;
        let mut abi = Self::default();
        let mut event_structs = HashMap::new();
        let mut event_enums = HashMap::new();
        let mut top = None;
        let mut visit = |entry: &AbiEntry, abi: &mut Self| match entry {
            AbiEntry::Struct(s) => {
                let members = s.members.iter().map(|m| (m.name.clone(), m.r#type.clone()));
                abi.structs.insert(s.name.clone(), members.collect());
            }
            AbiEntry::Enum(e) => {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (v.name.clone(), v.r#type.clone()));
                abi.enums.insert(e.name.clone(), variants.collect());
            }
            AbiEntry::Event(AbiEvent::Typed(TypedAbiEvent::Struct(s))) => {
                event_structs.insert(s.name.clone(), s.members.clone());
            }
            AbiEntry::Event(AbiEvent::Typed(TypedAbiEvent::Enum(e))) => {
                // The contract's own event enum is `<module path>::<Contract>::Event`, and it comes last.
                top = Some(e.name.clone());
                event_enums.insert(e.name.clone(), e.variants.clone());
            }
            _ => {}
        };
        for entry in &entries {
            if let AbiEntry::Interface(i) = entry {
                for item in &i.items {
                    visit(item, &mut abi);
                }
            }
            visit(entry, &mut abi);
        }
        let top = match top {
            Some(top) => top,
            None => return Ok(abi),
        };
        // Walk the enum tree from the top-level `Event`, recording the selector path to each struct.
        let mut stack = vec![(top, Vec::<Felt>::new())];
        while let Some((name, path)) = stack.pop() {
            let Some(variants) = event_enums.get(&name) else {
                return fail(format!("event enum {name} is not in the ABI"));
            };
            for v in variants {
                let mut path = path.clone();
                match v.kind {
                    EventFieldKind::Nested => path.push(selector(&v.name)?),
                    EventFieldKind::Flat => {}
                    _ => return fail(format!("event enum {name} has a key or data variant")),
                }
                if event_enums.contains_key(&v.r#type) {
                    if path.len() > 8 {
                        return fail(format!("event enums nest too deep at {}", v.r#type));
                    }
                    stack.push((v.r#type.clone(), path));
                } else if let Some(fields) = event_structs.get(&v.r#type) {
                    let Some(first) = path.first().copied() else {
                        return fail(format!("event {} has no selector", v.name));
                    };
                    abi.events.entry(first).or_default().push(EventDef {
                        name: v.name.clone(),
                        path,
                        fields: fields.clone(),
                    });
                } else {
                    return fail(format!("event type {} is not in the ABI", v.r#type));
                }
            }
        }
        Ok(abi)
    }

    /// The names of the events this contract can emit.
    pub fn event_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .events
            .values()
            .flatten()
            .map(|d| d.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// Decodes one emitted event; `Ok(None)` when its first key names no event of this contract.
    pub fn decode(&self, keys: &[Felt], data: &[Felt]) -> Result<Option<Decoded>, AbiError> {
        let Some(first) = keys.first() else {
            return fail("event without keys");
        };
        let Some(defs) = self.events.get(first) else {
            return Ok(None);
        };
        let Some(def) = defs
            .iter()
            .filter(|d| keys.len() >= d.path.len() && keys[..d.path.len()] == d.path[..])
            .max_by_key(|d| d.path.len())
        else {
            return Ok(None);
        };
        let mut keys = Reader::new(&keys[def.path.len()..], "keys");
        let mut data = Reader::new(data, "data");
        let mut args = Map::new();
        for field in &def.fields {
            let reader = match field.kind {
                EventFieldKind::Key => &mut keys,
                EventFieldKind::Data => &mut data,
                _ => return fail(format!("{}: field {} is nested", def.name, field.name)),
            };
            if field.r#type == "core::byte_array::ByteArray" {
                let bytes = reader.byte_array()?;
                ChainText::from_bytes(&bytes).insert_into(&mut args, &field.name);
            } else {
                let value = self
                    .value(reader, &field.r#type, 0)
                    .map_err(|e| AbiError(format!("{}.{}: {}", def.name, field.name, e.0)))?;
                args.insert(field.name.clone(), value);
            }
        }
        keys.finish(&def.name)?;
        data.finish(&def.name)?;
        Ok(Some(Decoded {
            name: def.name.clone(),
            args: Value::Object(args),
        }))
    }

    fn value(&self, r: &mut Reader<'_>, ty: &str, depth: usize) -> Result<Value, AbiError> {
        if depth > 16 {
            return fail(format!("type {ty} nests too deep"));
        }
        let unsigned = |r: &mut Reader<'_>, bits: u32| -> Result<Value, AbiError> {
            let felt = r.next()?;
            if felt.bits() > bits as usize {
                return fail(format!("{felt:#x} does not fit u{bits}"));
            }
            Ok(json!(felt.to_biguint().to_string()))
        };
        match ty {
            "core::felt252" | "core::starknet::class_hash::ClassHash" => {
                Ok(json!(format!("{:#x}", r.next()?)))
            }
            "core::starknet::contract_address::ContractAddress" => {
                Ok(json!(format!("{:#066x}", r.next()?)))
            }
            "core::bool" => match r.next()? {
                f if f == Felt::ZERO => Ok(json!(false)),
                f if f == Felt::ONE => Ok(json!(true)),
                f => fail(format!("{f:#x} is not a bool")),
            },
            "core::integer::u8" => unsigned(r, 8),
            "core::integer::u16" => unsigned(r, 16),
            "core::integer::u32" => unsigned(r, 32),
            "core::integer::u64" => unsigned(r, 64),
            "core::integer::u128" => unsigned(r, 128),
            "core::integer::u256" => {
                let (low, high) = (r.next()?, r.next()?);
                if low.bits() > 128 || high.bits() > 128 {
                    return fail(format!("({low:#x}, {high:#x}) is not a u256"));
                }
                let value = (high.to_biguint() << 128u32) + low.to_biguint();
                Ok(json!(value.to_string()))
            }
            "core::byte_array::ByteArray" => {
                Ok(json!(ChainText::from_bytes(&r.byte_array()?).text))
            }
            _ => {
                if let Some(inner) = generic_arg(ty, "core::array::Span::<")
                    .or_else(|| generic_arg(ty, "core::array::Array::<"))
                {
                    let len = r.len()?;
                    let items = (0..len)
                        .map(|_| self.value(r, inner, depth + 1))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::Array(items));
                }
                if let Some(inner) = generic_arg(ty, "core::option::Option::<") {
                    return match r.next()? {
                        f if f == Felt::ZERO => self.value(r, inner, depth + 1),
                        f if f == Felt::ONE => Ok(Value::Null),
                        f => fail(format!("{f:#x} is not an Option variant")),
                    };
                }
                if let Some(members) = self.structs.get(ty) {
                    let mut object = Map::new();
                    for (name, member_ty) in members {
                        object.insert(name.clone(), self.value(r, member_ty, depth + 1)?);
                    }
                    return Ok(Value::Object(object));
                }
                if let Some(variants) = self.enums.get(ty) {
                    let index = r.next()?;
                    let Some((name, variant_ty)) = usize::try_from(index.to_biguint())
                        .ok()
                        .and_then(|i| variants.get(i))
                    else {
                        return fail(format!("{index:#x} is not a variant of {ty}"));
                    };
                    let value = if variant_ty == "()" {
                        Value::Null
                    } else {
                        self.value(r, variant_ty, depth + 1)?
                    };
                    return Ok(json!({ name: value }));
                }
                if let Some(inner) = ty.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                    let items = split_top_level(inner)
                        .into_iter()
                        .filter(|t| !t.is_empty())
                        .map(|t| self.value(r, t, depth + 1))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::Array(items));
                }
                fail(format!("type {ty} is not supported"))
            }
        }
    }
}

/// `T` of `prefix T>` when `ty` has that form.
fn generic_arg<'a>(ty: &'a str, prefix: &str) -> Option<&'a str> {
    ty.strip_prefix(prefix)?.strip_suffix('>')
}

/// Splits `A, B<C, D>, E` at its top-level commas.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

/// Reads felts in order from one of an event's two arrays.
struct Reader<'a> {
    felts: &'a [Felt],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(felts: &'a [Felt], what: &'static str) -> Self {
        Self { felts, at: 0, what }
    }

    fn next(&mut self) -> Result<Felt, AbiError> {
        let felt = self.felts.get(self.at).copied();
        self.at += 1;
        felt.ok_or_else(|| AbiError(format!("the event's {} end early", self.what)))
    }

    /// A length prefix, bounded by what is left (a hostile length cannot make us allocate).
    fn len(&mut self) -> Result<usize, AbiError> {
        let felt = self.next()?;
        let left = self.felts.len() - self.at.min(self.felts.len());
        match usize::try_from(felt.to_biguint()) {
            Ok(n) if n <= left => Ok(n),
            _ => fail(format!(
                "length {felt:#x} exceeds the {left} felts left in {}",
                self.what
            )),
        }
    }

    /// A `ByteArray`: full 31-byte words, then a pending word of `pending_len` bytes.
    fn byte_array(&mut self) -> Result<Vec<u8>, AbiError> {
        let words = self.len()?;
        let mut bytes = Vec::with_capacity(words * 31 + 31);
        for _ in 0..words {
            let word = self.next()?.to_bytes_be();
            if word[..1] != [0] {
                return fail("a ByteArray word exceeds 31 bytes");
            }
            bytes.extend_from_slice(&word[1..]);
        }
        let pending = self.next()?.to_bytes_be();
        let pending_len = self.next()?;
        let n = match usize::try_from(pending_len.to_biguint()) {
            Ok(n) if n < 31 => n,
            _ => {
                return fail(format!(
                    "ByteArray pending length {pending_len:#x} is not below 31"
                ));
            }
        };
        if pending[..32 - n].iter().any(|b| *b != 0) {
            return fail("a ByteArray pending word is longer than its length");
        }
        bytes.extend_from_slice(&pending[32 - n..]);
        Ok(bytes)
    }

    fn finish(&self, event: &str) -> Result<(), AbiError> {
        if self.at == self.felts.len() {
            Ok(())
        } else {
            fail(format!(
                "{event}: {} felts left over in {}",
                self.felts.len() - self.at,
                self.what
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABI: &str = r#"[
      {"type": "struct", "name": "core::integer::u256", "members": [
        {"name": "low", "type": "core::integer::u128"}, {"name": "high", "type": "core::integer::u128"}]},
      {"type": "event", "name": "m::C::Posted", "kind": "struct", "members": [
        {"name": "job_id", "type": "core::integer::u64", "kind": "key"},
        {"name": "client", "type": "core::starknet::contract_address::ContractAddress", "kind": "key"},
        {"name": "reward", "type": "core::integer::u256", "kind": "data"},
        {"name": "uri", "type": "core::byte_array::ByteArray", "kind": "data"},
        {"name": "ids", "type": "core::array::Span::<core::integer::u64>", "kind": "data"}]},
      {"type": "event", "name": "m::Access::Granted", "kind": "struct", "members": [
        {"name": "role", "type": "core::felt252", "kind": "key"}]},
      {"type": "event", "name": "m::Access::Event", "kind": "enum", "variants": [
        {"name": "Granted", "type": "m::Access::Granted", "kind": "nested"}]},
      {"type": "event", "name": "m::C::Event", "kind": "enum", "variants": [
        {"name": "Posted", "type": "m::C::Posted", "kind": "nested"},
        {"name": "AccessEvent", "type": "m::Access::Event", "kind": "flat"}]}
    ]"#;

    fn f(n: u64) -> Felt {
        Felt::from(n)
    }

    fn short(s: &str) -> Felt {
        Felt::from_bytes_be_slice(s.as_bytes())
    }

    #[test]
    fn decodes_fields_flat_variants_and_byte_arrays() {
        let abi = ContractAbi::parse(ABI).unwrap();
        assert_eq!(abi.event_names(), ["Granted", "Posted"]);
        let posted = selector("Posted").unwrap();
        // "hello, a string longer than thirty-one bytes" = one full word + a pending word.
        let text = "hello, a string longer than thirty-one bytes";
        let (word, rest) = text.as_bytes().split_at(31);
        let data = [
            f(5),
            f(1), // reward: low 5, high 1
            f(1),
            Felt::from_bytes_be_slice(word),
            Felt::from_bytes_be_slice(rest),
            f(rest.len() as u64),
            f(2),
            f(7),
            f(8),
        ];
        let got = abi
            .decode(&[posted, f(7), f(0xab)], &data)
            .unwrap()
            .unwrap();
        assert_eq!(got.name, "Posted");
        let reward: crate::domain::U256 =
            (crate::domain::U256::from(1u8) << 128) + crate::domain::U256::from(5u8);
        assert_eq!(
            got.args,
            json!({
                "job_id": "7",
                "client": format!("{:#066x}", 0xab),
                "reward": reward.to_string(),
                "uri": text,
                "ids": ["7", "8"],
            })
        );
        let granted = abi
            .decode(
                &[selector("Granted").unwrap(), short("COORDINATOR_ROLE")],
                &[],
            )
            .unwrap()
            .unwrap();
        assert_eq!(granted.name, "Granted");
        assert_eq!(
            granted.args["role"],
            json!(format!("{:#x}", short("COORDINATOR_ROLE")))
        );
        assert_eq!(
            abi.decode(&[f(1)], &[]).unwrap(),
            None,
            "an unknown selector is no event of ours"
        );
    }

    #[test]
    fn hostile_events_are_refused_not_trusted() {
        let abi = ContractAbi::parse(ABI).unwrap();
        let posted = selector("Posted").unwrap();
        let ok_data = |len: Felt| vec![f(5), f(0), f(0), f(0), f(0), len];
        let cases: Vec<(Vec<Felt>, Vec<Felt>, &str)> = vec![
            (vec![posted, f(7)], ok_data(f(0)), "keys end early"),
            (
                vec![posted, Felt::MAX, f(1)],
                ok_data(f(0)),
                "does not fit u64",
            ),
            (
                vec![posted, f(7), f(1), f(9)],
                ok_data(f(0)),
                "left over in keys",
            ),
            (vec![posted, f(7), f(1)], ok_data(Felt::MAX), "exceeds"),
            (
                vec![posted, f(7), f(1)],
                vec![f(5), f(0), f(0), f(0), f(40), f(0)],
                "pending length",
            ),
            (
                vec![posted, f(7), f(1)],
                vec![Felt::MAX, f(0), f(0), f(0), f(0), f(0)],
                "not a u256",
            ),
        ];
        for (keys, data, want) in cases {
            let err = abi.decode(&keys, &data).unwrap_err().0;
            assert!(err.contains(want), "{err} should say {want}");
        }
    }
}
