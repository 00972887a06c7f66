//! `[indexer]` settings.

use serde::{Deserialize, Serialize};

/// `[indexer]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexerConfig {
    /// Blocks behind the head before an event counts as final (0 on a devnet).
    pub confirmations: u64,
    /// How many recent blocks are kept for reorg detection; a deeper reorg halts indexing.
    pub reorg_window: u64,
    /// First `eth_getLogs` range, in blocks.
    pub initial_batch_blocks: u64,
    /// Largest `eth_getLogs` range, in blocks.
    pub max_batch_blocks: u64,
    /// Head polling interval while following, in milliseconds.
    pub poll_interval_ms: u64,
    /// Per-RPC-call timeout, in milliseconds.
    pub rpc_timeout_ms: u64,
    /// Retries of a failing RPC call before the indexer gives up, with exponential backoff.
    pub max_retries: u32,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        Self {
            confirmations: 0,
            reorg_window: 128,
            initial_batch_blocks: 10,
            max_batch_blocks: 50_000,
            poll_interval_ms: 500,
            rpc_timeout_ms: 10_000,
            max_retries: 8,
        }
    }
}
