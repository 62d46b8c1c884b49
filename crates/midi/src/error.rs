//! The errors of this crate.

/// What went wrong with a MIDI setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MidiError {
    /// A controller number outside 0..=127.
    #[error("controller {cc} is not a MIDI controller: use 0..127")]
    BadController {
        /// The number given.
        cc: i64,
    },
    /// A MIDI channel outside 1..=16.
    #[error("channel {channel} is not a MIDI channel: use 1..16")]
    BadChannel {
        /// The number given.
        channel: i64,
    },
    /// A target that is not `module.param`.
    #[error("'{target}' is not a parameter: name it module.param, e.g. filter.cutoff")]
    BadTarget {
        /// What was given.
        target: String,
    },
    /// A range that is not two finite numbers (and positive for an exponential curve).
    #[error("range {min}..{max} does not fit the {curve} curve: give two finite numbers (both above 0 for exp)")]
    BadRange {
        /// Its low end.
        min: f32,
        /// Its high end.
        max: f32,
        /// The curve's name.
        curve: &'static str,
    },
    /// A curve other than `lin` or `exp`.
    #[error("no curve '{name}': use lin or exp")]
    BadCurve {
        /// What was given.
        name: String,
    },
    /// A bend range outside 0..=48 semitones.
    #[error("a bend range of {semitones} semitones is outside 0..48")]
    BadBendRange {
        /// What was given.
        semitones: f32,
    },
    /// No map on that controller.
    #[error("controller {cc} is not mapped (see /midi/maps)")]
    NotMapped {
        /// The controller.
        cc: u8,
    },
    /// More maps than allowed.
    #[error("{max} controller maps at most: unmap one first (/midi/unmap <cc>)")]
    TooManyMaps {
        /// The limit.
        max: usize,
    },
}
