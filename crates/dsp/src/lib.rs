//! chronus-dsp: the sound of chronus, and nothing else.
//!
//! Audio-rate [`Module`]s (oscillator, ADSR, RBJ biquad, LFO, pan, bus, delay, reverb) with
//! typed parameters and plain-data state, wired into a [`Patch`] that renders one block at a
//! time into a mono or stereo output behind a soft limiter. Nothing here does I/O, knows about processes, backends or OSC, or allocates while
//! processing: graph edits and construction allocate, [`Patch::process`] never does.
//!
//! Every module can copy out its complete state as plain data ([`ModuleState`]) and restore it
//! into a fresh instance; continuing from a restored state is bit-identical to continuing the
//! original. The engine relies on this to resync a respawned worker.
//!
//! ```
//! use chronus_dsp::Patch;
//! let mut patch = Patch::default_patch(48_000.0, 64).unwrap();
//! let adsr = patch.find("adsr").unwrap();
//! patch.gate(adsr, true).unwrap();
//! let mut block = [0.0f32; 64];
//! patch.process(&mut block);
//! assert!(block.iter().all(|s| s.abs() <= 1.0));
//! ```

#![warn(clippy::unwrap_used)]

pub mod analysis;
mod error;
mod fastmath;
pub mod lanes;
pub mod limiter;
pub mod minblep;
/// The minBLEP table's design, as the build script runs it (checked against the compiled-in
/// table).
#[cfg(test)]
#[path = "../build/minblep.rs"]
mod minblep_design;
mod module;
pub mod modules;
mod param;
mod patch;
pub mod pitch;
mod ramp;
pub mod sample;
mod voices;

pub use error::DspError;
pub use module::{
    AudioMod, Module, ModuleKind, ModuleState, Stereo, MAX_AUDIO_RATE, MAX_BLOCK, MIN_BLOCK,
};
pub use param::{ModScale, ParamId, ParamSpec, SetOutcome, Unit};
pub use patch::{
    Input, InstrumentInfo, InstrumentState, ModuleId, NodeDesc, Patch, PatchState, Route, Source,
    DEFAULT_INSTRUMENT, MAX_DELAY_MEMORY, MAX_DEPTH, MAX_INSTRUMENTS, MAX_MODULES, MAX_SEND_LEVEL,
};
pub use ramp::Ramp;
pub use voices::{
    note_hz, VoiceMode, VoicePhase, VoiceState, VoicesState, DEFAULT_VOICES, MAX_BEND, MAX_VOICES,
};
