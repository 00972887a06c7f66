//! Entity streams: every derived row records the stream of the events that made it, and a reorg replays the
//! streams it touched. Their text (`job:7`) is stored in `raw_events.stream` and the derived tables and taken by
//! the `stream` filter of `/v1/events`; it is built and parsed here only.

use std::fmt;

use super::{Address, Contract, Family, JobId, ProposalId};

/// The entity an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// A job: its life, assignments, results, payments and slashes tied to it.
    Job(JobId),
    /// A worker's registration, stake and slashes.
    Worker(Address),
    /// A governance proposal and its votes.
    Proposal(ProposalId),
    /// A governed parameter of a contract (also the token's total supply, changed by mints and burns).
    Param {
        /// The contract.
        contract: Contract,
        /// The parameter's name.
        key: String,
    },
    /// A role held by an account in a contract.
    Role {
        /// The contract.
        contract: Contract,
        /// The role's id (0x-hex).
        role: String,
        /// The account.
        account: Address,
    },
    /// Protocol fees swept to the treasury.
    Fees,
    /// Token transfers, approvals and delegation that change no derived row.
    Token,
    /// Any other event of a contract.
    Contract(Contract),
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stream::Job(id) => write!(f, "job:{id}"),
            Stream::Worker(a) => write!(f, "worker:{a}"),
            Stream::Proposal(id) => write!(f, "proposal:{id}"),
            Stream::Param { contract, key } => write!(f, "param:{}:{key}", contract.name()),
            Stream::Role {
                contract,
                role,
                account,
            } => write!(f, "role:{}:{role}:{account}", contract.name()),
            Stream::Fees => f.write_str("fees"),
            Stream::Token => f.write_str("token"),
            Stream::Contract(c) => write!(f, "contract:{}", c.name()),
        }
    }
}

impl Stream {
    /// Whether derived rows belong to the stream (a reorg replays only those); token transfers and other
    /// contract events live in `raw_events` only.
    pub fn derives_rows(&self) -> bool {
        !matches!(self, Stream::Token | Stream::Contract(_))
    }

    /// Parses a stream's text as [`Display`](fmt::Display) writes it, with addresses of `family`.
    pub fn parse(family: Family, text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a stream");
        let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
        let contract = |name: &str| Contract::from_name(name).ok_or_else(bad);
        let address = |a: &str| Address::parse(family, a).map_err(|e| e.to_string());
        match (kind, rest) {
            ("fees", "") => Ok(Stream::Fees),
            ("token", "") => Ok(Stream::Token),
            ("job", id) => Ok(Stream::Job(id.parse()?)),
            ("worker", a) => Ok(Stream::Worker(address(a)?)),
            ("proposal", id) => Ok(Stream::Proposal(ProposalId(super::parse_decimal(id)?))),
            ("contract", name) => Ok(Stream::Contract(contract(name)?)),
            ("param", rest) => {
                let (name, key) = rest.split_once(':').ok_or_else(bad)?;
                Ok(Stream::Param {
                    contract: contract(name)?,
                    key: key.to_owned(),
                })
            }
            ("role", rest) => {
                let mut parts = rest.splitn(3, ':');
                let (Some(name), Some(role), Some(account)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                Ok(Stream::Role {
                    contract: contract(name)?,
                    role: role.to_owned(),
                    account: address(account)?,
                })
            }
            _ => Err(bad()),
        }
    }
}

impl serde::Serialize for Stream {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::U256;

    #[test]
    fn streams_round_trip_through_their_text() {
        let worker =
            Address::parse(Family::Evm, "0x00000000000000000000000000000000000000aa").unwrap();
        let cases = [
            (Stream::Job(JobId(U256::from(7))), "job:7"),
            (
                Stream::Worker(worker.clone()),
                "worker:0x00000000000000000000000000000000000000aa",
            ),
            (Stream::Proposal(ProposalId(U256::from(12))), "proposal:12"),
            (
                Stream::Param {
                    contract: Contract::WorkerRegistry,
                    key: "minStake".into(),
                },
                "param:WorkerRegistry:minStake",
            ),
            (
                Stream::Role {
                    contract: Contract::JobManager,
                    role: "0x00".into(),
                    account: worker,
                },
                "role:JobManager:0x00:0x00000000000000000000000000000000000000aa",
            ),
            (Stream::Fees, "fees"),
            (Stream::Token, "token"),
            (
                Stream::Contract(Contract::Timelock),
                "contract:TimelockController",
            ),
        ];
        for (stream, text) in cases {
            assert_eq!(stream.to_string(), text);
            assert_eq!(Stream::parse(Family::Evm, text), Ok(stream), "{text}");
        }
        for bad in [
            "",
            "job:",
            "job:07",
            "job:x",
            "worker:0x1",
            "param:Nope:k",
            "role:JobManager:0x00",
            "reorg",
        ] {
            assert!(Stream::parse(Family::Evm, bad).is_err(), "{bad:?}");
        }
    }
}
