//! The module implementations. Each file holds one module, its parameter table and its state.

pub mod adsr;
pub mod filter;
pub mod lfo;
pub mod osc;
mod waves;
