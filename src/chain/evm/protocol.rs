//! The EVM family's [`EventCodec`]: its records already carry the canonical argument shape (the Solidity
//! contracts' names, values as `decode` writes them), so they are read by [`crate::chain::protocol`] as they are.

use crate::domain::{EventCodec, EventRecord, Family, ProtocolEvent};

/// The EVM family's [`EventCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EvmCodec;

impl EventCodec for EvmCodec {
    fn family(&self) -> Family {
        Family::Evm
    }

    fn protocol_event(&self, record: &EventRecord) -> Result<Option<ProtocolEvent>, String> {
        crate::chain::protocol::protocol_event(
            Family::Evm,
            &record.contract,
            &record.event,
            &record.args,
        )
    }
}
