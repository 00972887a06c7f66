//! Integration tests against real tools: anvil, forge, the deploy flow and the `accord` binary.
//! Missing tools fail the test with the command that installs them (`scripts/bootstrap`); nothing is skipped.

mod api;
mod blobs;
mod cli;
mod contract;
mod da;
mod dashboard;
mod deployment;
mod e2e;
mod e2e_chains;
mod faults;
mod heartbeats;
mod indexer;
mod nats;
mod redundancy;
mod sandbox;
mod scheduler;
mod solc_adapter;
mod stack;
mod starknet_cli;
mod starknet_contracts;
mod starknet_index;
mod starknet_reorg;
mod stream;
mod utils;
mod wallet;
mod worker;
