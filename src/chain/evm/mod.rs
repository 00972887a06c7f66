//! EVM chains: typed bindings generated from `abi/`.

pub mod bindings;
