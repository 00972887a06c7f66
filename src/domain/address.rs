//! Account and contract addresses of every chain family, each in its family's normal form.

use std::fmt;

/// A chain family: how addresses, hashes and signatures look on it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Ethereum and EVM chains: 20-byte addresses.
    Evm,
    /// Starknet: addresses are field elements (below 2^251).
    Starknet,
}

impl Family {
    /// The family's name in configuration and manifests (`evm`, `starknet`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Evm => "evm",
            Family::Starknet => "starknet",
        }
    }

    /// Hex digits of an address in normal form.
    fn digits(self) -> usize {
        match self {
            Family::Evm => 40,
            Family::Starknet => 64,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "evm" => Ok(Family::Evm),
            "starknet" => Ok(Family::Starknet),
            other => Err(format!("unknown chain family {other:?} (evm or starknet)")),
        }
    }
}

/// Why a text is not an address of a family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not {family} address: {why}")]
pub struct AddressError {
    family: &'static str,
    text: String,
    why: &'static str,
}

/// An address in its family's normal form: `0x` and 40 lowercase hex digits on EVM chains; `0x` and 64
/// lowercase hex digits (zero-padded) on Starknet. Two addresses are equal exactly when their texts are. The
/// text is held inline (no heap allocation): the indexer makes one for every address of every event.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    family: Family,
    /// Bytes of `text` in use.
    len: u8,
    /// The normal form, ASCII, zero bytes after `len`.
    text: [u8; MAX_TEXT],
}

/// The longest normal form: `0x` and 64 digits.
const MAX_TEXT: usize = 66;

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("family", &self.family)
            .field("text", &self.as_str())
            .finish()
    }
}

impl Address {
    /// Parses `text` as an address of `family`. EVM: exactly 40 hex digits after `0x`, any case (the checksum
    /// case is not checked). Starknet: 1 to 64 hex digits after `0x`, below 2^251 + 17·2^192 + 1 (the field's
    /// prime), padded to 64.
    pub fn parse(family: Family, text: &str) -> Result<Self, AddressError> {
        let fail = |why| AddressError {
            family: match family {
                Family::Evm => "an EVM",
                Family::Starknet => "a Starknet",
            },
            text: text.chars().take(80).collect(),
            why,
        };
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .ok_or_else(|| fail("no 0x prefix"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail("not hexadecimal"));
        }
        let want = family.digits();
        match family {
            Family::Evm if digits.len() != want => return Err(fail("not 40 hex digits")),
            Family::Starknet if digits.is_empty() || digits.len() > want => {
                return Err(fail("not 1 to 64 hex digits"));
            }
            _ => {}
        }
        let mut text = [0u8; MAX_TEXT];
        text[..2].copy_from_slice(b"0x");
        let pad = want - digits.len();
        text[2..2 + pad].fill(b'0');
        for (slot, b) in text[2 + pad..2 + want].iter_mut().zip(digits.bytes()) {
            *slot = b.to_ascii_lowercase();
        }
        if family == Family::Starknet && text[2..2 + want] >= *STARK_PRIME_HEX.as_bytes() {
            return Err(fail("not below the field's prime"));
        }
        Ok(Self {
            family,
            len: (2 + want) as u8,
            text,
        })
    }

    /// The zero address of `family` (the mint and burn counterparty of token transfers).
    pub fn zero(family: Family) -> Self {
        let mut text = [0u8; MAX_TEXT];
        text[..2].copy_from_slice(b"0x");
        text[2..2 + family.digits()].fill(b'0');
        Self {
            family,
            len: (2 + family.digits()) as u8,
            text,
        }
    }

    /// Whether this is the zero address.
    pub fn is_zero(&self) -> bool {
        self.as_str()[2..].bytes().all(|b| b == b'0')
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The normal form.
    pub fn as_str(&self) -> &str {
        // Only `parse` and `zero` fill `text`, with ASCII.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).expect("an address is ASCII")
    }
}

/// The Starknet field's prime, 2^251 + 17·2^192 + 1, as 64 lowercase hex digits.
const STARK_PRIME_HEX: &str = "0800000000000011000000000000000000000000000000000000000000000001";

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized as its normal form.
impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read without knowing the family: exactly 40 hex digits are an EVM address, anything else a Starknet one.
/// Where the family is known (a manifest says it), re-read the text with [`Address::parse`].
impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let family = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(digits) if digits.len() == Family::Evm.digits() => Family::Evm,
            _ => Family::Starknet,
        };
        Address::parse(family, &text).map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for Address {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_addresses_are_lowercase_and_exact() {
        let a = Address::parse(Family::Evm, "0xAbCdEf0000000000000000000000000000000001").unwrap();
        assert_eq!(a.as_str(), "0xabcdef0000000000000000000000000000000001");
        assert!(!a.is_zero());
        assert!(Address::zero(Family::Evm).is_zero());
        assert_eq!(
            Address::zero(Family::Evm).as_str(),
            "0x0000000000000000000000000000000000000000"
        );
        for bad in [
            "",
            "0x",
            "abcdef0000000000000000000000000000000001",
            "0x1234",
            "0xg000000000000000000000000000000000000001",
        ] {
            assert!(Address::parse(Family::Evm, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn starknet_addresses_are_padded_felts() {
        let a = Address::parse(Family::Starknet, "0x1").unwrap();
        assert_eq!(a.as_str().len(), 66);
        assert!(a.as_str().ends_with("01"));
        assert_eq!(
            a,
            Address::parse(Family::Starknet, &format!("0x{}1", "0".repeat(63))).unwrap()
        );
        let below = "0x0800000000000011000000000000000000000000000000000000000000000000";
        assert!(Address::parse(Family::Starknet, below).is_ok());
        let prime = "0x0800000000000011000000000000000000000000000000000000000000000001";
        assert!(Address::parse(Family::Starknet, prime).is_err());
        assert!(Address::parse(Family::Starknet, &format!("0x1{}", "0".repeat(64))).is_err());
    }
}
