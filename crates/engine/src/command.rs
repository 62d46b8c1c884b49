//! Typed commands: what the engine does, and at which sample.

use chronus_dsp::{ModuleId, ParamId};

/// One change to the patch. `Copy` and small, so it fits a fixed-size ring.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    /// Set a parameter's base value.
    Set {
        /// The module.
        module: ModuleId,
        /// The parameter.
        param: ParamId,
        /// The value (finite; clamped by the module).
        value: f32,
    },
    /// Open or close a module's gate.
    Gate {
        /// The module.
        module: ModuleId,
        /// Open (`true`) or closed.
        on: bool,
    },
    /// Change the step sequencer.
    Seq(crate::sequencer::SeqAction),
    /// Play a MIDI note on an instrument's voice pool.
    NoteOn {
        /// MIDI note, 0..=127.
        note: u8,
        /// Velocity 0..1 (a gain on the voice).
        velocity: f32,
        /// The instrument, by its head module (`None`: the default one).
        inst: Option<ModuleId>,
    },
    /// Release a note (`None`: every note) on an instrument.
    NoteOff {
        /// MIDI note, or `None` for all.
        note: Option<u8>,
        /// The instrument, by its head module (`None`: the default one).
        inst: Option<ModuleId>,
    },
    /// How many notes may sound at once on an instrument, and whether one voice plays legato
    /// (mono).
    Voices {
        /// 1..=[`chronus_dsp::MAX_VOICES`].
        count: u8,
        /// Mono legato instead of polyphonic.
        mono: bool,
        /// The instrument, by its head module (`None`: the default one).
        inst: Option<ModuleId>,
    },
    /// The sustain pedal of an instrument: down, notes let go sound on until it lifts.
    Sustain {
        /// Down (`true`) or up.
        on: bool,
        /// The instrument, by its head module (`None`: the default one).
        inst: Option<ModuleId>,
    },
    /// Pitch bend of an instrument: every voice's pitch, sounding or to come, moved by it.
    Bend {
        /// Semitones (finite; clamped to ±48).
        semitones: f32,
        /// The instrument, by its head module (`None`: the default one).
        inst: Option<ModuleId>,
    },
    /// Play a loaded sample once, from its first frame (its last, for a negative rate).
    PlaySample {
        /// Its slot in the bank.
        slot: u16,
        /// Linear gain (0..=4).
        gain: f32,
        /// Playback rate (1: as recorded; 2: an octave up; negative: reversed; 0.25..=4 in
        /// size).
        rate: f32,
    },
}

/// An [`Action`] stamped with the sample at which it takes effect.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Command {
    /// Absolute sample index (0 = the first sample rendered).
    pub at: u64,
    /// What to do.
    pub action: Action,
}

impl Command {
    /// A command taking effect at sample `at`.
    pub fn new(at: u64, action: Action) -> Self {
        Command { at, action }
    }
}
