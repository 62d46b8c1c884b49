//! The one error type of chronus-engine.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// An error from the patch (unknown module or parameter, bad value…).
    #[error(transparent)]
    Dsp(#[from] chronus_dsp::DspError),
    /// An address chronus does not know.
    #[error("unknown address '{address}' (try /mod/<module>/<param>, /gate/<module>, /engine/freq, /engine/amp)")]
    UnknownAddress {
        /// The address.
        address: String,
    },
    /// The arguments do not fit the address.
    #[error("{address}: {reason}")]
    BadArguments {
        /// The address.
        address: String,
        /// What is wrong.
        reason: String,
    },
    /// A score line that cannot be parsed.
    #[error("score line {line}, column {column}: {reason}")]
    Score {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// The schedule of pending commands is full.
    #[error("command schedule full ({capacity} pending commands)")]
    ScheduleFull {
        /// Its capacity.
        capacity: usize,
    },
    /// A command stamped before the current position.
    #[error("command for sample {at} arrived after sample {now} was rendered")]
    Late {
        /// The stamp.
        at: u64,
        /// The renderer's position.
        now: u64,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing a WAV file failed.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
}
