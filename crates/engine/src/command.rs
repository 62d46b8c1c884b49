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
