//! One module per subcommand.

pub mod backends;
pub mod bench;
pub mod devices;
pub mod render;
pub mod run;
#[cfg(feature = "osc")]
pub mod send;
#[cfg(feature = "osc")]
pub mod status;
