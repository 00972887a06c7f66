//! The reference worker agent (`accord worker run`).
pub mod exec;
pub mod spec;
