//! chronus-engine: drives a chronus-dsp [`Patch`](chronus_dsp::Patch) in time.
//!
//! Textual control (`/mod/sine/freq 440`, `/gate/adsr on`) is parsed once at the edge into typed,
//! `Copy` [`Command`]s stamped with the sample at which they take effect. A [`Renderer`] applies
//! them sample-accurately while rendering block by block, without allocating. [`Score`]s are
//! plain-text lists of timed commands; [`offline`] renders a patch and a score as fast as possible
//! into a buffer or a WAV file.
//!
//! The real-time path: an [`Engine`] runs two workers in lockstep (separate processes by
//! default), each rendering the same commands at the same samples into its own shared-memory
//! slot, a few blocks ahead. The [`Output`], called from a backend's audio callback, plays the
//! active worker's block, or the other's when it is missing or faulty, so a worker can die at
//! any instant without a lost sample. A supervisor replaces the dead worker with one restored
//! from the survivor's exact state.
//!
//! A score rendered offline (no workers, no clock), the way `chronus render` does:
//!
//! ```
//! use chronus_dsp::Patch;
//! use chronus_engine::{offline, Score};
//!
//! let patch = Patch::default_patch(48_000.0, 64)?;
//! let score = Score::parse("0 /gate/adsr on\n0.25 /mod/sine/freq 330\n0.4 /gate/adsr off")?;
//! let commands = score.resolve(&patch)?;
//! let sound = offline::render(patch, &commands, 24_000, |_, _| {})?;
//! assert_eq!(sound.len(), 24_000);
//! assert!(sound.iter().any(|s| s.abs() > 0.1));
//! # Ok::<(), chronus_engine::EngineError>(())
//! ```
//!
//! In real time, two workers (threads here; processes by default) and a backend that calls
//! [`Output::render`] from its audio callback (`examples/own_backend.rs` has a whole one):
//!
//! ```no_run
//! use chronus_engine::{Action, Arg, Engine, EngineConfig, WorkerMode};
//!
//! let config = EngineConfig { workers: WorkerMode::Thread, ..EngineConfig::default() };
//! let (engine, mut output) = Engine::start(config)?;
//! engine.send(engine.resolve("/mod/filter/cutoff", &[Arg::Float(800.0)])?)?;
//! engine.send(Action::NoteOn { note: 60, velocity: 0.8, inst: None })?;
//! let mut block = [0.0f32; 64];
//! output.render(&mut block); // from your audio callback, once per block
//! # Ok::<(), chronus_engine::EngineError>(())
//! ```

#![warn(clippy::unwrap_used)]

pub mod backend;
mod command;
mod config;
pub mod control;
pub mod edit;
mod engine;
mod error;
mod failure_mark;
pub mod fault;
mod futex;
mod journal;
mod lockstep;
pub mod meter;
pub mod metrics;
pub mod offline;
mod output;
mod recorder;
mod renderer;
pub mod rt;
pub mod samples;
pub mod score;
mod score_player;
mod seal;
pub mod sequencer;
pub mod session;
mod shm;
mod slot;
mod spawn;
mod supervisor;
pub mod wav;
mod wire;
pub mod worker;

/// The unit tests' allocation trap (`assert_no_alloc` scopes count what they allocate).
#[cfg(test)]
#[global_allocator]
static ALLOC_TRAP: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

pub use command::{Action, Command};
pub use config::{
    EngineConfig, WorkerMode, DEFAULT_HORIZON_SECONDS, DEFAULT_SAMPLE_MEMORY, FUTURE_LIMIT,
    MAX_CHANNELS,
};
/// The address table under its first name (`chronus_engine::address::Arg`…).
pub use control as address;
pub use control::Arg;
pub use edit::PatchEdit;
pub use engine::{
    run_if_worker, Engine, InjectedFault, NewSample, Sent, WorkerStats, QUARANTINE_REPORTS,
};
pub use error::EngineError;
pub use metrics::{Metrics, MetricsSnapshot};
pub use output::{BlockSource, Output};
pub use recorder::RecordingReport;
pub use renderer::{Renderer, RendererState, Timing, SCHEDULE_CAPACITY};
pub use score::{Score, ScoreEvent};
pub use score_player::ScorePlayer;
pub use seal::SealAt;
pub use slot::{WorkerStatus, AUDIO_SLOTS, EDIT_SLOTS, MAX_LOOKAHEAD};
pub use supervisor::BACKOFF_CAP;
