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
    #[error("unknown address '{address}' (try /mod/<module>/<param>, /gate/<module>, /engine/freq, /engine/amp, /seq/...)")]
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
    /// A session file that cannot be read back.
    #[error("session line {line}: {reason}")]
    Session {
        /// 1-based line.
        line: usize,
        /// What is wrong, and what to do.
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
    /// A state snapshot could not be encoded or decoded.
    #[error("state snapshot: {reason}")]
    Snapshot {
        /// What went wrong.
        reason: String,
    },
    /// Setting up or talking to a worker failed.
    #[error("worker: {reason}: {source}")]
    Worker {
        /// What was being done.
        reason: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// More patch commits than the workers' mailboxes hold are on their way to the workers.
    #[error(
        "limit: at most {max} patch commits may be on their way to the workers at once \
         (a few milliseconds each); this one was not applied: commit again a moment later, \
         or put the edits in one commit"
    )]
    EditsInFlight {
        /// How many may be.
        max: usize,
    },
    /// The engine could not start.
    #[error("engine did not start: {reason}")]
    Start {
        /// Why.
        reason: String,
    },
    /// A backend failed.
    #[error("backend {backend}: {reason}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A command stamped further ahead than the horizon.
    #[error("a timetag {seconds:.1} s ahead is past the horizon of {horizon} s (`chronus run --horizon`); send it closer to its time")]
    TooFarAhead {
        /// How far ahead it was, in seconds.
        seconds: f64,
        /// The horizon, in seconds.
        horizon: f64,
    },
    /// Too many commands already wait for a later time.
    #[error("{limit} commands already wait for a later time (the limit for future commands: the rest of the schedule is kept for immediate ones); send far-ahead bundles closer to their time")]
    FutureFull {
        /// The limit.
        limit: usize,
    },
    /// The command ring to a worker is full.
    #[error("command ring full: the workers are not keeping up; try again")]
    RingFull,
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A recording could not be started or stopped.
    #[error("recording: {reason}")]
    Recording {
        /// Why.
        reason: String,
    },
    /// Writing a WAV file failed.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
    /// A sample's shared memory could not be mapped.
    #[error("sample slot {slot}: its memory cannot be mapped ({reason}); load it again")]
    SampleMemory {
        /// The slot.
        slot: u16,
        /// Why.
        reason: String,
    },
    /// A sample's shared memory could not be made or written (no memory left?).
    #[error("sample '{name}': its shared memory cannot be written ({source}); free some samples or memory and load it again")]
    SampleWrite {
        /// The sample.
        name: String,
        /// Why.
        source: std::io::Error,
    },
    /// A sample's name is empty, too long or has other characters than letters, digits, `_`,
    /// `-` and `.`.
    #[error("'{name}' cannot name a sample: use 1 to 64 letters, digits, '_', '-' or '.'")]
    BadSampleName {
        /// The name.
        name: String,
    },
    /// No sample of that name is loaded.
    #[error("no sample '{name}' is loaded (/sample/list names those there are; /sample/load or /kit/load basic loads some)")]
    NoSuchSample {
        /// The name.
        name: String,
    },
    /// As many samples are loaded as there are slots.
    #[error("{limit} samples are loaded (the limit for samples); /sample/free one first")]
    TooManySamples {
        /// The limit.
        limit: usize,
    },
    /// The samples would need more memory than allowed.
    #[error("samples would take {bytes} bytes, over the limit of {limit} (chronus run --sample-memory); /sample/free some first")]
    SampleMemoryFull {
        /// What they would take.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}
