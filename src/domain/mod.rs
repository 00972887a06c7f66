//! The protocol's own language, at the bottom of the module graph: chain ids and families, addresses in each
//! family's normal form, amounts, job ids, the entity streams derived rows are grouped by, and the typed
//! [`ProtocolEvent`]s every chain adapter decodes its logs into and the store applies.
//!
//! Nothing here knows a chain's encoding: an adapter (`crate::chain::evm`, and Starknet next) turns its logs into
//! [`EventRecord`]s (the chain's own decoded arguments, served unchanged by `/v1/events`) and, for the events
//! that change derived state, a [`ProtocolEvent`].

mod address;
pub mod bounds;
mod event;
mod stream;

use std::fmt;

pub use address::{Address, AddressError, Family};
pub use alloy::primitives::U256;
pub use event::{Contract, EventCodec, EventRecord, LiveEvent, ProtocolEvent};
pub use stream::Stream;

/// A chain's id in the index: the EIP-155 id on EVM chains; on Starknet, [`ChainId::of_starknet`] of its short-string
/// chain id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ChainId(pub u64);

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which blocks count as final for the index on a chain whose blocks carry a finality status (Starknet): those
/// accepted on L2 (the sequencer's word; what a devnet gives), or only those accepted on L1. EVM chains count
/// confirmations instead and ignore this.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Finality {
    /// Blocks accepted on L2.
    #[default]
    L2,
    /// Blocks accepted on L1.
    L1,
}

impl ChainId {
    /// The index's key of the Starknet chain whose id is the short string `network` (`SN_SEPOLIA`): bit 62 set
    /// (no EVM chain id comes near it) and 62 bits of `keccak256(network)`. Stable, the same on every machine,
    /// and within PostgreSQL's `BIGINT`.
    pub fn of_starknet(network: &str) -> Self {
        let hash = alloy::primitives::keccak256(network.as_bytes());
        let mut low = [0u8; 8];
        low.copy_from_slice(&hash[24..]);
        Self((1 << 62) | (u64::from_be_bytes(low) & ((1 << 62) - 1)))
    }
}

impl From<u64> for ChainId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

/// A token amount in the token's smallest unit, with uint256 semantics on every chain family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Amount(pub U256);

impl Amount {
    /// Zero.
    pub const ZERO: Self = Self(U256::ZERO);

    /// `self - other`, or `None` below zero.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// `self + other`, or `None` above 2^256 − 1.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<U256> for Amount {
    fn from(v: U256) -> Self {
        Self(v)
    }
}

/// A job's id in its job manager (uint256 on every chain family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub U256);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for JobId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s).map(Self)
    }
}

/// A governance proposal's id (uint256; a hash on EVM, a felt on Starknet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProposalId(pub U256);

impl fmt::Display for ProposalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A decimal uint256 with no sign, no prefix and no leading zero (the form ids take in streams and the API).
pub fn parse_decimal(s: &str) -> Result<U256, String> {
    let canonical = !s.is_empty()
        && s.len() <= 78
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(format!("{s:?} is not a decimal uint256"));
    }
    s.parse::<U256>()
        .map_err(|_| format!("{s:?} is not a decimal uint256"))
}

/// `daKind` of an EIP-4844 blob: the result's bytes travel in blob 0 of the transaction that records it.
pub const DA_KIND_EIP4844: u8 = 3;

/// Where a blob lives and what it commits to: the four values `submitResult` puts on chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BlobRef {
    /// DA layer kind, as the contract numbers it: 1 local, 2 Celestia, 3 EIP-4844 (EVM chains).
    pub kind: u8,
    /// Commitment to the bytes (0x-hex bytes32): their sha256 (local), Celestia share commitment, or the
    /// versioned hash of their blob's KZG commitment (EIP-4844).
    #[schema(value_type = String, example = "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub commitment: alloy::primitives::B256,
    /// Size of the bytes.
    pub size: u64,
    /// Where to fetch them: `accord:sha256:<hex>`, `celestia:<height>:<namespace hex>` or `eip4844`.
    pub locator: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(parse_decimal("0"), Ok(U256::ZERO));
        assert_eq!(parse_decimal("42"), Ok(U256::from(42)));
        assert_eq!(parse_decimal(&U256::MAX.to_string()), Ok(U256::MAX));
        for bad in [
            "",
            "007",
            "-1",
            "0x10",
            "1e3",
            " 1",
            &format!("{}0", U256::MAX),
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_do_not_wrap() {
        let one = Amount(U256::from(1));
        assert_eq!(Amount::ZERO.checked_sub(one), None);
        assert_eq!(Amount(U256::MAX).checked_add(one), None);
        assert_eq!(one.checked_add(one), Some(Amount(U256::from(2))));
    }
}
