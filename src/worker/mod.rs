//! The reference worker agent (`accord worker run`): signed heartbeats, assignments watched through the API,
//! the job's command run with a time limit and an output cap ([`exec`]), the output published through the
//! coordinator's DA layer, and the commitment submitted on chain ([`agent`]). Job specs are hash-checked
//! ([`crate::spec`]).

pub mod agent;
pub mod exec;
pub mod sandbox;
