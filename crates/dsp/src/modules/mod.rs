//! The module implementations. Each file holds one module, its parameter table and its state.

pub mod adsr;
#[cfg(feature = "effects")]
pub mod delay;
pub mod filter;
pub mod lfo;
pub mod osc;
#[cfg(feature = "effects")]
pub mod reverb;
mod waves;
