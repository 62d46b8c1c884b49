//! One module per subcommand.

pub mod analyze;
pub mod backends;
pub mod bench;
pub mod devices;
#[cfg(all(feature = "nl", feature = "osc"))]
pub mod jam;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "osc")]
pub mod meter;
#[cfg(feature = "osc")]
pub mod midi_in;
pub mod plot;
pub mod render;
pub mod run;
#[cfg(all(feature = "nl", feature = "osc"))]
pub mod say;
#[cfg(feature = "osc")]
pub mod send;
pub mod session;
#[cfg(feature = "osc")]
pub mod status;
pub mod voices;
