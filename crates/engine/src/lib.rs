//! chronus-engine: drives a chronus-dsp [`Patch`](chronus_dsp::Patch) in time.
//!
//! Textual control (`/mod/sine/freq 440`, `/gate/adsr on`) is parsed once at the edge into typed,
//! `Copy` [`Command`]s stamped with the sample at which they take effect. A [`Renderer`] applies
//! them sample-accurately while rendering block by block, without allocating. [`Score`]s are
//! plain-text lists of timed commands; [`offline`] renders a patch and a score as fast as possible
//! into a buffer or a WAV file.

#![warn(clippy::unwrap_used)]

pub mod address;
mod command;
mod error;
pub mod offline;
mod renderer;
mod score;

pub use address::Arg;
pub use command::{Action, Command};
pub use error::EngineError;
pub use renderer::{Renderer, SCHEDULE_CAPACITY};
pub use score::{Score, ScoreEvent};
