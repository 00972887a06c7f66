//! Chain access. One module per chain family; EVM first.

pub mod evm;
