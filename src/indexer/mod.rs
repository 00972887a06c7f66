//! Contract event indexer: backfill from the deploy block in adaptive ranges, then follow the head; reorg
//! detection through block hashes with rollback by stream replay; each batch and the cursor commit in one
//! transaction, so a crash at any point loses nothing and applies nothing twice.

use serde::Serialize;

/// What the indexer reports to the API (`/v1/status`, `/v1/ready`), published through a `watch` channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Chain being indexed.
    pub chain_id: u64,
    /// Latest head seen on the chain.
    pub head: u64,
    /// Last block whose events are all applied.
    pub indexed: u64,
    /// Blocks behind the head before an event counts as final.
    pub confirmations: u64,
    /// Whether the backfill has caught up with the head (ready to serve).
    pub caught_up: bool,
    /// Set when indexing halted (for example on a reorg deeper than the window).
    pub halted: Option<String>,
}

/// One indexed contract event, as stored in `raw_events`, served by `/v1/events` and streamed by
/// `/v1/events/stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub block_number: u64,
    /// Block hash (0x-hex).
    pub block_hash: String,
    /// Log index within the block.
    pub log_index: u64,
    /// Transaction hash (0x-hex).
    pub tx_hash: String,
    /// Emitting contract's name.
    pub contract: String,
    /// Emitting contract's address (0x-hex, lowercase).
    pub address: String,
    /// Event name.
    pub event: String,
    /// Entity stream, e.g. `job:7`.
    pub stream: String,
    /// Decoded arguments by name; integers as decimal strings.
    pub args: serde_json::Value,
}
