//! Accord: a coordinator for a decentralized compute marketplace whose rules live on chain.
//!
//! ```text
//!  client wallet ──postJob(tx)──►┐                         ┌──► REST /v1 ──► users, dashboards
//!  worker wallet ──stake/submit──►│  contracts on chain     │
//!  governance ──propose/vote─────►│  (EVM first, Starknet)  │
//!                                 └──events──► indexer ──► PostgreSQL (derived, rebuildable)
//!                                                               │
//!  coordinator wallet ◄──assign(tx)── scheduler ◄──open jobs────┘
//!  worker agent ──result bytes──► DA layer ──commitment──► submitResult(tx)
//! ```
//!
//! The chain is the source of truth; everything the coordinator stores is derived from contract events and can
//! be rebuilt from them, except the blobs of the data-availability layer ([`da`]): their archive is the
//! coordinator's own state, checked against the commitments on chain before it is served. This crate holds the typed contract bindings ([`chain::evm::bindings`], generated from
//! the ABI files in `abi/` and nothing else), the deployment manifest ([`deployment`]) and the `accord` CLI.
//!
//! Invariants the contracts enforce and the coordinator relies on:
//! - tokens are conserved: escrow + accrued fees are held by the job manager, stakes + unbonding stake by the
//!   registry, fees by the treasury (the timelock);
//! - a job's status moves only along the graph documented in `contracts/src/interfaces/IJobManager.sol`, and
//!   every funded state has a deadline and a permissionless exit;
//! - the timelock owns every parameter and role; the deployer keeps no power after deployment.

pub mod api;
pub mod chain;
pub mod cli;
pub mod config;
pub mod coordinator;
pub mod da;
pub mod deployment;
pub mod domain;
pub mod indexer;
pub mod offchain;
pub mod pg;
pub mod placement;
pub mod rebuild;
pub mod remote;
pub mod scheduler;
pub mod spec;
pub mod store;
pub mod stream;
pub mod supervise;
pub mod text;
pub mod worker;
