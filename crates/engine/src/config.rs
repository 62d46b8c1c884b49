//! The engine's settings: how workers run, block and lookahead, the timetag horizon.

use std::path::PathBuf;

/// How workers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerMode {
    /// Separate OS processes (the default): a crash in one cannot touch the other.
    Process,
    /// Threads of this process (for embedding, and where processes are not available).
    Thread,
}

impl std::str::FromStr for WorkerMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "process" | "processes" => Ok(WorkerMode::Process),
            "thread" | "threads" => Ok(WorkerMode::Thread),
            _ => Err(format!("unknown worker mode '{s}' (use process or thread)")),
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Samples per block (16..=1024).
    pub block: usize,
    /// Output channels (1..=[`MAX_CHANNELS`]): 1 is mono (the patch renders one channel,
    /// exactly as before stereo); 2 or more renders a stereo patch into the first two, the
    /// others silent.
    pub channels: usize,
    /// Blocks the workers render ahead of the output (1..=14, default 2).
    pub lookahead: usize,
    /// When a block's commands are sealed (default [`crate::SealAt::Tick`]: at the output's
    /// tick, whatever drives the output; [`crate::SealAt::Late`] three quarters of a period
    /// later, [`crate::SealAt::MidPeriod`] half, so that a command waits that much of a block
    /// less and the workers have `lookahead + ¼` or `+ ½` periods for a block: for an output
    /// a backend drives in real time, as `chronus run`'s).
    pub seal: crate::SealAt,
    /// Processes or threads.
    pub workers: WorkerMode,
    /// A worker that falls this many blocks behind the output is stalled (default 2).
    pub stall_blocks: u64,
    /// The executable that runs a worker process (default: this one, re-executed with
    /// [`crate::worker::WORKER_ARG`]; it must call [`crate::worker::run_if_worker`] first thing).
    pub worker_exe: Option<PathBuf>,
    /// How far ahead a command may be stamped, in seconds (default 60): a later one is
    /// refused ([`crate::EngineError::TooFarAhead`]), so far-future traffic cannot fill the workers'
    /// schedules.
    pub horizon_seconds: f64,
    /// Bytes of sample memory allowed in all (default [`DEFAULT_SAMPLE_MEMORY`]): a load past
    /// it is refused ([`crate::EngineError::SampleMemoryFull`]).
    pub sample_memory: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sample_rate: 48_000.0,
            block: 64,
            channels: 1,
            lookahead: 2,
            seal: crate::SealAt::default(),
            workers: WorkerMode::Process,
            stall_blocks: 2,
            worker_exe: None,
            horizon_seconds: DEFAULT_HORIZON_SECONDS,
            sample_memory: DEFAULT_SAMPLE_MEMORY,
        }
    }
}

impl EngineConfig {
    /// The lookahead for a device that takes `period` frames per callback: a device that
    /// asks for several blocks at once needs them rendered ahead, so the workers' lookahead
    /// covers the period on top of the one asked for.
    pub fn for_device_period(mut self, period: Option<usize>) -> Self {
        let blocks = period.map_or(0, |p| p.div_ceil(self.block));
        self.lookahead += blocks.saturating_sub(1);
        self
    }
}

/// The most output channels an engine renders.
pub const MAX_CHANNELS: usize = 8;

/// Sample memory allowed by default: 2 GiB (about 93 minutes of stereo at 48 kHz).
pub const DEFAULT_SAMPLE_MEMORY: u64 = 2 << 30;

/// How far ahead a command may be stamped by default, in seconds.
pub const DEFAULT_HORIZON_SECONDS: f64 = 60.0;
/// Most commands that may wait for a later sample than the next block at once: the other
/// half of a worker's schedule ([`crate::SCHEDULE_CAPACITY`]) is kept for commands that take
/// effect now, so far-ahead bundles can never crowd them out.
pub const FUTURE_LIMIT: usize = crate::renderer::SCHEDULE_CAPACITY / 2;
