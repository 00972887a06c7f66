//! Accord's protocol contracts for Starknet: the same rules as the Solidity contracts under `contracts/src/`,
//! with u256 amounts, u64 ids and felt addresses.
pub mod access;
pub mod bounds;
pub mod governor;
pub mod interfaces;
pub mod jobs;
pub mod registry;
pub mod timelock;
pub mod token;
