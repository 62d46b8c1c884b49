//! The [`Engine`]: two lockstep workers, the command path into them, and the supervisor that
//! replaces a faulty worker with one synced to the survivor's exact state.

use crate::metrics::{Metrics, MetricsSnapshot};
use crate::offline::WavFormat;
use crate::output::Output;
use crate::renderer::Timing;
use crate::slot::{fault, kind, Slot, WireCommand, WorkerStatus, MAX_LOOKAHEAD};
use crate::spawn::{self, WorkerHandle};
use crate::worker::{self, Start};
use crate::RecordingReport;
use crate::{Action, Arg, EngineError};
use chronus_dsp::Patch;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    /// Blocks the workers render ahead of the output (1..=14, default 2).
    pub lookahead: usize,
    /// Processes or threads.
    pub workers: WorkerMode,
    /// A worker that falls this many blocks behind the output is stalled (default 2).
    pub stall_blocks: u64,
    /// The executable that runs a worker process (default: this one, re-executed with
    /// [`worker::WORKER_ARG`]; it must call [`worker::run_if_worker`] first thing).
    pub worker_exe: Option<PathBuf>,
    /// How far ahead a command may be stamped, in seconds (default 60): a later one is
    /// refused ([`EngineError::TooFarAhead`]), so far-future traffic cannot fill the workers'
    /// schedules.
    pub horizon_seconds: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sample_rate: 48_000.0,
            block: 64,
            lookahead: 2,
            workers: WorkerMode::Process,
            stall_blocks: 2,
            worker_exe: None,
            horizon_seconds: DEFAULT_HORIZON_SECONDS,
        }
    }
}

/// How far ahead a command may be stamped by default, in seconds.
pub const DEFAULT_HORIZON_SECONDS: f64 = 60.0;
/// Most commands that may wait for a later sample than the next block at once: the other
/// half of a worker's schedule ([`crate::SCHEDULE_CAPACITY`]) is kept for commands that take
/// effect now, so far-ahead bundles can never crowd them out.
pub const FUTURE_LIMIT: usize = crate::renderer::SCHEDULE_CAPACITY / 2;

/// One worker's view, read from its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerStats {
    /// What it is doing.
    pub status: WorkerStatus,
    /// Whether the output uses its blocks.
    pub online: bool,
    /// The next block it will render.
    pub next_block: u64,
    /// Monotonic time (ns) of its last block.
    pub heartbeat_ns: u64,
    /// Commands that reached it late.
    pub late_commands: u64,
    /// Commands it could not schedule.
    pub dropped_commands: u64,
    /// The next block the output will play, as it last told this worker.
    pub consumed: u64,
}

/// Faults that can be injected into a worker, for tests and demonstrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// The worker panics.
    Panic,
    /// The worker's next block contains NaN.
    Nan,
    /// The worker spins forever (a stall), at normal priority.
    Hang,
    /// The worker spins forever at its real-time priority: a render loop that never returns
    /// (two of these must not starve the supervisor, even on two cores).
    Spin,
    /// The worker renders `n` times slower.
    Slow(u32),
    /// The worker crashes with SIGSEGV (process workers only).
    Segv,
    /// The worker aborts (SIGABRT; process workers only).
    Abort,
}

struct Control {
    /// Slots that receive commands (alive, or being resynced).
    accepting: [bool; 2],
    /// The last command sequence number given out.
    seq: u64,
    /// The last patch edit id given out.
    edit_id: u64,
    /// The patch layout, for resolving names to ids.
    layout: Patch,
    /// The stamps of commands sent for later than the next block (a min-heap: those the
    /// output has reached are dropped as it goes), to keep them under [`FUTURE_LIMIT`].
    future: std::collections::BinaryHeap<std::cmp::Reverse<u64>>,
}

struct Shared {
    config: EngineConfig,
    slots: [Slot; 2],
    metrics: Arc<Metrics>,
    control: Mutex<Control>,
    stop: AtomicBool,
    pids: [AtomicU32; 2],
}

/// A running engine. Dropping it stops the workers.
pub struct Engine {
    shared: Arc<Shared>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
    recorder: crate::recorder::Recorder,
}

impl Engine {
    /// Starts two workers on the default patch and waits until both are rendering. Returns the
    /// engine and the [`Output`] to hand to a backend.
    pub fn start(config: EngineConfig) -> Result<(Engine, Output), EngineError> {
        Engine::start_with(config, &[])
    }

    /// Like [`Engine::start`], with commands that the workers know before they render
    /// anything: a score's opening events land on their exact samples, even sample 0.
    pub fn start_with(
        config: EngineConfig,
        initial: &[crate::Command],
    ) -> Result<(Engine, Output), EngineError> {
        let layout = Patch::default_patch(config.sample_rate, config.block)?;
        if !(1..=MAX_LOOKAHEAD).contains(&config.lookahead) {
            return Err(EngineError::Start {
                reason: format!(
                    "lookahead {} is out of range (1..={MAX_LOOKAHEAD})",
                    config.lookahead
                ),
            });
        }
        let mk = || {
            Slot::create(config.sample_rate, config.block, config.lookahead).map_err(|source| {
                EngineError::Worker {
                    reason: "creating shared memory",
                    source,
                }
            })
        };
        let slots = [mk()?, mk()?];
        let metrics = Arc::new(Metrics::default());
        let shared = Arc::new(Shared {
            config,
            slots,
            metrics: metrics.clone(),
            control: Mutex::new(Control {
                accepting: [true, true],
                seq: 0,
                edit_id: 0,
                layout,
                future: std::collections::BinaryHeap::new(),
            }),
            stop: AtomicBool::new(false),
            pids: [AtomicU32::new(0), AtomicU32::new(0)],
        });
        let mut handles = [None, None];
        for slot in &shared.slots {
            slot.reset(0);
        }
        {
            let mut control = shared.lock();
            for c in initial {
                shared.push(&mut control, crate::worker::wire(Some(c.at), c.action))?;
            }
            shared.publish(&control);
            // Blocks 0..=lookahead may be rendered before the output plays anything: seal them
            // (with the initial commands).
            for slot in &shared.slots {
                for b in 0..=shared.config.lookahead as u64 {
                    slot.write_seal(b, control.seq);
                }
            }
        }
        for (i, handle) in handles.iter_mut().enumerate() {
            let h = shared.spawn(i, Start::Fresh)?;
            *handle = Some(h);
        }
        // Both must render their lookahead before the output starts playing.
        let deadline = Instant::now() + Duration::from_secs(10);
        let want = shared.config.lookahead as u64 + 1;
        while shared.slots.iter().any(|s| s.next_block() < want) {
            if Instant::now() > deadline || handles.iter_mut().flatten().any(|h| h.has_ended()) {
                for h in handles.into_iter().flatten() {
                    h.kill();
                }
                return Err(EngineError::Start {
                    reason: "the workers did not start rendering".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        for s in &shared.slots {
            s.set_online(true);
        }
        metrics.workers_alive.store(2, Relaxed);
        // Ten seconds of played audio between the output and the recording's writer.
        let (recorder, tap) =
            crate::recorder::Recorder::new(metrics.clone(), shared.config.sample_rate as u32, 10)?;
        let output = Output::new(shared.slots.clone(), metrics, shared.config.block, tap);
        let sup = shared.clone();
        let supervisor = std::thread::Builder::new()
            .name("chronus-supervisor".into())
            .spawn(move || Supervisor::new(sup, handles).run())
            .map_err(|source| EngineError::Worker {
                reason: "starting the supervisor",
                source,
            })?;
        Ok((
            Engine {
                shared,
                supervisor: Mutex::new(Some(supervisor)),
                recorder,
            },
            output,
        ))
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Live metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// The metrics handle (for backends that report xruns).
    pub fn metrics_handle(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// Slot (0 or 1) the output plays from.
    pub fn active_slot(&self) -> usize {
        self.shared.metrics.active.load(Acquire) as usize
    }

    /// Process id of the worker in `slot` (process mode), if it runs.
    pub fn worker_pid(&self, slot: usize) -> Option<u32> {
        Some(self.shared.pids.get(slot)?.load(Acquire)).filter(|&p| p != 0)
    }

    /// What the worker in `slot` reports.
    pub fn worker_stats(&self, slot: usize) -> Option<WorkerStats> {
        let s = self.shared.slots.get(slot)?;
        Some(WorkerStats {
            status: s.status(),
            online: s.online(),
            next_block: s.next_block(),
            heartbeat_ns: s.heartbeat_ns(),
            late_commands: s.late_commands(),
            dropped_commands: s.dropped_commands(),
            consumed: s.consumed(),
        })
    }

    /// True when both workers are online and in lockstep.
    pub fn both_online(&self) -> bool {
        self.shared.slots.iter().all(|s| s.online())
    }

    /// Resolves a textual address (`/mod/sine/freq`) with arguments into an action.
    pub fn resolve(&self, address: &str, args: &[Arg<'_>]) -> Result<Action, EngineError> {
        crate::address::parse(&self.shared.lock().layout, address, args)
    }

    /// Like [`Engine::resolve`], for addresses that stand for several actions taken together
    /// (`/seq/pattern`: the length and every step), and the single ones too.
    pub fn resolve_all(&self, address: &str, args: &[Arg<'_>]) -> Result<Vec<Action>, EngineError> {
        crate::address::parse_all(&self.shared.lock().layout, address, args)
    }

    /// Sends an action to both workers, to take effect as soon as possible: at the start of
    /// the next block the output seals (`lookahead + 1` blocks ahead of the one playing).
    /// Returns that sample (one block later if the output ticks while sending).
    pub fn send(&self, action: Action) -> Result<u64, EngineError> {
        self.send_together(None, &[action]).map(|(at, _)| at)
    }

    /// Sends an action to take effect at sample `at`; a stamp already passed is applied at
    /// the earliest possible sample and reported as late.
    pub fn schedule(&self, at: u64, action: Action) -> Result<Timing, EngineError> {
        self.send_together(Some(at), &[action]).map(|(_, t)| t)
    }

    /// Sends several actions that take effect together, at one sample: `at`, or the earliest
    /// possible one when `at` is `None` or already past. Either all are queued or none.
    /// Returns the sample and whether it was on time.
    pub fn send_together(
        &self,
        at: Option<u64>,
        actions: &[Action],
    ) -> Result<(u64, Timing), EngineError> {
        let mut control = self.shared.lock();
        let earliest = self.shared.earliest();
        let block = self.shared.config.block as u64;
        // What the caller is told: the sample. "As soon as possible" lands on `earliest` (or,
        // if the output ticks between now and the publish below, one block later).
        let _ = block;
        let (told, timing) = match at {
            Some(a) if a >= earliest => (a, Timing::OnTime),
            Some(_) => (earliest, Timing::Late),
            None => (earliest, Timing::OnTime),
        };
        let room = crate::slot::COMMAND_CAPACITY as u64;
        let busy = (0..2).any(|i| {
            control.accepting[i]
                && self.shared.slots[i].queued_commands() + actions.len() as u64 > room
        });
        if busy {
            return Err(EngineError::RingFull);
        }
        if let Some(a) = at.filter(|&a| a > earliest) {
            let config = &self.shared.config;
            let ahead = (a - earliest) as f64 / config.sample_rate;
            if ahead > config.horizon_seconds {
                return Err(EngineError::TooFarAhead {
                    seconds: ahead,
                    horizon: config.horizon_seconds,
                });
            }
            while control
                .future
                .peek()
                .is_some_and(|std::cmp::Reverse(t)| *t < earliest)
            {
                control.future.pop();
            }
            if control.future.len() + actions.len() > FUTURE_LIMIT {
                return Err(EngineError::FutureFull {
                    limit: FUTURE_LIMIT,
                });
            }
            control
                .future
                .extend(std::iter::repeat_n(std::cmp::Reverse(a), actions.len()));
        }
        if timing == Timing::Late {
            self.shared.metrics.late_commands.fetch_add(1, Relaxed);
        }
        for &a in actions {
            self.shared.push(&mut control, crate::worker::wire(at, a))?;
        }
        // Published together: the output seals them into the same block.
        self.shared.publish(&control);
        Ok((told, timing))
    }

    /// Applies patch edits atomically, at one block boundary in both workers. They are
    /// checked first: a cycle, an unknown module or type changes nothing.
    pub fn edit_patch(&self, edits: &[crate::PatchEdit]) -> Result<(), EngineError> {
        let mut control = self.shared.lock();
        crate::edit::validate(&control.layout, edits)?;
        let bytes = postcard::to_stdvec(edits).map_err(|e| EngineError::Snapshot {
            reason: e.to_string(),
        })?;
        if bytes.len() > crate::slot::EDIT_BYTES {
            return Err(EngineError::Start {
                reason: "patch edit too large; commit in smaller steps".into(),
            });
        }
        control.edit_id += 1;
        let id = control.edit_id;
        for i in 0..2 {
            if control.accepting[i] {
                self.shared.slots[i].write_edit(id, &bytes);
            }
        }
        let cmd = WireCommand {
            kind: kind::PATCH,
            at: id,
            asap: 1,
            ..Default::default()
        };
        self.shared.push(&mut control, cmd)?;
        crate::edit::apply(&mut control.layout, edits)?;
        self.shared.publish(&control);
        Ok(())
    }

    /// The base value of a parameter as last sent (clamped), from the engine's mirror of the
    /// patch.
    pub fn get(&self, module: &str, param: &str) -> Result<f32, EngineError> {
        let control = self.shared.lock();
        let id = control.layout.lookup(module)?;
        let p = control.layout.kind(id)?.param_id(param)?;
        Ok(control.layout.param(id, p)?)
    }

    /// The patch's modules and wiring.
    pub fn describe(&self) -> Vec<chronus_dsp::NodeDesc> {
        self.shared.lock().layout.describe()
    }

    /// Runs `f` with the engine's mirror of the patch (names, kinds, parameter values).
    pub fn with_layout<T>(&self, f: impl FnOnce(&Patch) -> T) -> T {
        f(&self.shared.lock().layout)
    }

    /// The sample of the output that plays at monotonic time `ns` (sample 0 is the first the
    /// backend played). Before the backend has played its first block, counted from now (it
    /// is about to): a timetagged bundle that arrives that early still waits for its time
    /// instead of playing at once.
    pub fn sample_at(&self, ns: u64) -> Option<u64> {
        let origin = match self.shared.metrics.origin_ns.load(Acquire) {
            0 => crate::rt::monotonic_ns(),
            o => o,
        };
        let secs = (ns as f64 - origin as f64) / 1e9;
        Some((secs * self.shared.config.sample_rate).round().max(0.0) as u64)
    }

    /// Monotonic time (ns) at which the output played sample 0 (0 before it started).
    pub fn origin_ns(&self) -> u64 {
        self.shared.metrics.origin_ns.load(Acquire)
    }

    /// Injects a fault into the worker in `slot` (for tests and demonstrations).
    pub fn inject(&self, slot: usize, fault: InjectedFault) -> Result<(), EngineError> {
        let (k, value) = match fault {
            InjectedFault::Panic => (kind::INJECT_PANIC, 0.0),
            InjectedFault::Nan => (kind::INJECT_NAN, 0.0),
            InjectedFault::Hang => (kind::INJECT_HANG, 0.0),
            InjectedFault::Spin => (kind::INJECT_SPIN, 0.0),
            InjectedFault::Slow(n) => (kind::INJECT_SLOW, n as f32),
            InjectedFault::Segv | InjectedFault::Abort
                if self.shared.config.workers == WorkerMode::Thread =>
            {
                return Err(EngineError::Start {
                    reason: "a crash can only be injected into a worker process".into(),
                });
            }
            InjectedFault::Segv => (kind::INJECT_SEGV, 0.0),
            InjectedFault::Abort => (kind::INJECT_ABORT, 0.0),
        };
        let mut control = self.shared.lock();
        control.seq += 1;
        let cmd = WireCommand {
            kind: k,
            value,
            ..Default::default()
        };
        if self.shared.slots.get(slot).is_some_and(|s| {
            s.push_command(WireCommand {
                seq: control.seq,
                ..cmd
            })
        }) {
            self.shared.publish(&control);
            Ok(())
        } else {
            Err(EngineError::RingFull)
        }
    }

    /// Records what the output plays (mono) into a new WAV file at `path` (replacing one that
    /// is there), from the next block on. Failovers leave no gap in it.
    pub fn start_recording(&self, path: &Path, format: WavFormat) -> Result<(), EngineError> {
        let file = std::fs::File::create(path).map_err(|source| EngineError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.recorder.start(file, path, format)
    }

    /// Like [`Engine::start_recording`], into a file the caller opened (and so checked).
    pub fn start_recording_into(
        &self,
        file: std::fs::File,
        path: &Path,
        format: WavFormat,
    ) -> Result<(), EngineError> {
        self.recorder.start(file, path, format)
    }

    /// Stops the recording and finalises its file; `None` if nothing was being recorded.
    pub fn stop_recording(&self) -> Result<Option<RecordingReport>, EngineError> {
        self.recorder.stop()
    }

    /// The file being recorded, if any.
    pub fn recording(&self) -> Option<PathBuf> {
        self.recorder.current()
    }

    /// Finalises any recording, stops the supervisor and both workers and releases the shared
    /// memory (once the [`Output`] is dropped too). Idempotent; also done on drop.
    pub fn shutdown(&self) {
        if let Err(e) = self.recorder.shutdown() {
            tracing::error!("{e}");
        }
        self.shared.stop.store(true, SeqCst);
        let supervisor = self
            .supervisor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(s) = supervisor {
            let _ = s.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first sample a command published now can take effect at: the start of the next
    /// block the output will seal (`played + lookahead + 1`).
    fn earliest(&self) -> u64 {
        let played = self.metrics.played_blocks.load(Acquire);
        (played + self.config.lookahead as u64 + 1) * self.config.block as u64
    }

    /// Makes every command pushed so far visible to the output's next seal.
    fn publish(&self, control: &Control) {
        self.metrics.published_seq.store(control.seq, Release);
    }

    /// Pushes a command to every accepting worker, or to none (lockstep needs both), and keeps
    /// the engine's mirror of parameter values up to date.
    fn push(&self, control: &mut Control, mut cmd: WireCommand) -> Result<(), EngineError> {
        control.seq += 1;
        cmd.seq = control.seq;
        let targets: Vec<&Slot> = (0..2)
            .filter(|&i| control.accepting[i])
            .map(|i| &self.slots[i])
            .collect();
        let room = crate::slot::COMMAND_CAPACITY as u64;
        if targets.iter().any(|s| s.queued_commands() >= room) {
            return Err(EngineError::RingFull);
        }
        for s in targets {
            s.push_command(cmd);
        }
        if cmd.kind == kind::SET {
            let _ =
                control
                    .layout
                    .set_param(chronus_dsp::ModuleId(cmd.module), cmd.param, cmd.value);
        }
        self.metrics.commands.fetch_add(1, Relaxed);
        Ok(())
    }

    fn spawn(&self, i: usize, start: Start) -> Result<WorkerHandle, EngineError> {
        let slot = &self.slots[i];
        let handle = match self.config.workers {
            WorkerMode::Process => {
                let exe = match &self.config.worker_exe {
                    Some(p) => p.clone(),
                    None => std::env::current_exe().map_err(|source| EngineError::Worker {
                        reason: "finding this executable",
                        source,
                    })?,
                };
                spawn::spawn_process(&exe, slot, start)
            }
            WorkerMode::Thread => spawn::spawn_thread(slot, start),
        }
        .map_err(|source| EngineError::Worker {
            reason: "starting a worker",
            source,
        })?;
        self.pids[i].store(handle.pid().unwrap_or(0), Release);
        Ok(handle)
    }
}

/// Why a worker is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Death,
    Stall,
    Panic,
    Nan,
    Diverged,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fault::Death => "died (killed or crashed)",
            Fault::Stall => "stalled (silent and behind the output)",
            Fault::Panic => "panicked",
            Fault::Nan => "produced NaN or infinite samples",
            Fault::Diverged => "diverged from its twin",
        })
    }
}

/// A worker being brought back in sync.
#[derive(Debug, Clone, Copy)]
struct Resync {
    started: Instant,
    detected_ns: u64,
}

/// The supervisor thread: notices faults at once (pidfd) or within a block period (stalls,
/// NaN, divergence), and replaces the faulty worker.
struct Supervisor {
    shared: Arc<Shared>,
    handles: [Option<WorkerHandle>; 2],
    resync: [Option<Resync>; 2],
    /// When each slot's worker came online (`None` while it is starting).
    online_at: [Option<Instant>; 2],
    /// Per slot: workers in a row that died before coming online or within [`QUICK_DEATH`]
    /// of it (or could not be started).
    streak: [u32; 2],
    /// Per slot: a respawn held back until then.
    retry_at: [Option<Instant>; 2],
    /// The last state a healthy worker gave (block, bytes): where a restart after both
    /// workers died picks up.
    checkpoint: Option<(u64, Vec<u8>)>,
    /// A checkpoint asked of this slot and not yet given, and when.
    checkpoint_asked: Option<(usize, Instant)>,
    /// When the last checkpoint was asked for.
    checkpoint_at: Instant,
}

/// How often the standby worker is asked for its state (kept for a restart after a double
/// fault; the active worker is never asked, so the output's timing is untouched). A snapshot
/// costs the standby about a millisecond: rare enough that it seldom coincides with a late
/// active worker on a noisy machine.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// A worker that dies before coming online, or this soon after, counts towards a respawn
/// storm (one that served longer was killed by something else than its own start).
const QUICK_DEATH: Duration = Duration::from_millis(10);
/// Quick deaths in a row before respawns are held back.
const BACKOFF_AFTER: u32 = 3;
/// The first hold-back; it doubles with each further quick death, up to [`BACKOFF_CAP`].
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
/// The longest hold-back between two tries.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How long to wait before the next try after `streak` quick deaths in a row.
fn backoff(streak: u32) -> Duration {
    let doublings = streak.saturating_sub(BACKOFF_AFTER).min(16);
    (BACKOFF_FIRST * 2u32.pow(doublings)).min(BACKOFF_CAP)
}

impl Supervisor {
    fn new(shared: Arc<Shared>, handles: [Option<WorkerHandle>; 2]) -> Self {
        let now = Instant::now();
        Supervisor {
            shared,
            handles,
            resync: [None, None],
            online_at: [Some(now), Some(now)],
            streak: [0, 0],
            retry_at: [None, None],
            checkpoint: None,
            checkpoint_asked: None,
            // The first checkpoint 200 ms after the start.
            checkpoint_at: now
                .checked_sub(CHECKPOINT_EVERY - Duration::from_millis(200))
                .unwrap_or(now),
        }
    }

    /// Asks the standby for its state now and then (when both workers are healthy).
    fn ask_checkpoint(&mut self) {
        if self.checkpoint_asked.is_some()
            || self.checkpoint_at.elapsed() < CHECKPOINT_EVERY
            || self.resync.iter().any(Option::is_some)
            || self.handles.iter().any(Option::is_none)
            || !self.shared.slots.iter().all(Slot::online)
        {
            return;
        }
        let standby = self.shared.metrics.active.load(Acquire) as usize & 1 ^ 1;
        let slot = &self.shared.slots[standby];
        // Only a standby with its whole lookahead rendered: the snapshot (about a millisecond)
        // then costs it nothing it would need if the active worker failed meanwhile.
        let played = self.shared.metrics.played_blocks.load(Acquire);
        if slot.next_block() < played + self.shared.config.lookahead as u64 {
            return;
        }
        slot.clear_snapshot();
        let mut control = self.shared.lock();
        control.seq += 1;
        let req = WireCommand {
            kind: kind::SNAPSHOT,
            seq: control.seq,
            ..Default::default()
        };
        if slot.push_command(req) {
            self.shared.publish(&control);
            self.checkpoint_asked = Some((standby, Instant::now()));
        }
        self.checkpoint_at = Instant::now();
    }

    /// Keeps a checkpoint once its worker has written it.
    fn collect_checkpoint(&mut self) {
        let Some((s, asked)) = self.checkpoint_asked else {
            return;
        };
        if let Some(snap) = self.shared.slots[s].read_snapshot() {
            self.shared.slots[s].clear_snapshot();
            self.checkpoint = Some(snap);
            self.checkpoint_asked = None;
        } else if asked.elapsed() > CHECKPOINT_EVERY {
            self.checkpoint_asked = None;
        }
    }

    fn run(mut self) {
        // Above normal threads so a death is seen at once, below the workers and the output
        // (workers spinning at their priority are ended by RLIMIT_RTTIME, see `rt`).
        crate::rt::try_realtime(crate::rt::SUPERVISOR_PRIORITY);
        let period = self.shared.config.block as f64 / self.shared.config.sample_rate;
        let timeout_ms = ((period * 1000.0).ceil() as i32).max(1);
        while !self.shared.stop.load(Acquire) {
            let mut fds: Vec<libc::pollfd> = self
                .handles
                .iter()
                .flatten()
                .filter_map(|h| h.pidfd())
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: `fds` is a valid array of pollfds for the duration of the call.
            unsafe {
                libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms);
            }
            // The moment a death became visible: taken before anything else is done.
            let woke_ns = crate::rt::monotonic_ns();
            for i in 0..2 {
                if let Some(f) = self.detect(i) {
                    self.replace(i, f, woke_ns);
                }
                if self.handles[i].is_none()
                    && self.retry_at[i].is_some_and(|t| Instant::now() >= t)
                {
                    self.retry_at[i] = None;
                    self.respawn(i, crate::rt::monotonic_ns());
                }
                self.check_resync(i);
            }
            self.collect_checkpoint();
            self.ask_checkpoint();
        }
        for s in &self.shared.slots {
            s.request_stop();
        }
        for h in self.handles.iter_mut().filter_map(Option::take) {
            h.stop(Duration::from_millis(500));
        }
        self.shared.metrics.workers_alive.store(0, Relaxed);
    }

    fn detect(&mut self, i: usize) -> Option<Fault> {
        let slot = &self.shared.slots[i];
        let handle = self.handles[i].as_mut()?;
        if handle.has_ended() {
            return Some(if slot.status() == WorkerStatus::Panicked {
                Fault::Panic
            } else {
                Fault::Death
            });
        }
        if slot.status() == WorkerStatus::Panicked {
            return Some(Fault::Panic);
        }
        match slot.fault() {
            fault::NAN => return Some(Fault::Nan),
            fault::DIVERGED => return Some(Fault::Diverged),
            _ => {}
        }
        let played = self.shared.metrics.played_blocks.load(Acquire);
        if let Some(r) = self.resync[i] {
            // A replacement gets time to start and catch up before it counts as stalled.
            if r.started.elapsed() > Duration::from_secs(3) {
                return Some(Fault::Stall);
            }
        } else if slot.online() && played >= slot.next_block() + self.shared.config.stall_blocks {
            // Behind the output by the limit, and silent for as long: a worker that is merely
            // busy (or was scheduled late once) keeps beating and is left alone.
            let period_ns = self.shared.config.block as f64 * 1e9 / self.shared.config.sample_rate;
            let silent_ns = crate::rt::monotonic_ns().saturating_sub(slot.heartbeat_ns());
            if silent_ns as f64 > period_ns * self.shared.config.stall_blocks as f64 {
                return Some(Fault::Stall);
            }
        }
        None
    }

    fn replace(&mut self, i: usize, f: Fault, detected_ns: u64) {
        let shared = self.shared.clone();
        let m = &shared.metrics;
        m.last_detect_ns.store(detected_ns, Relaxed);
        match f {
            Fault::Death => &m.faults_death,
            Fault::Stall => &m.faults_stall,
            Fault::Panic => &m.faults_panic,
            Fault::Nan => &m.faults_nan,
            Fault::Diverged => &m.faults_diverged,
        }
        .fetch_add(1, Relaxed);
        let slot = &shared.slots[i];
        slot.set_online(false);
        shared.lock().accepting[i] = false;
        if let Some(h) = self.handles[i].take() {
            h.kill();
        }
        self.shared.pids[i].store(0, Release);
        self.resync[i] = None;
        if self.checkpoint_asked.is_some_and(|(s, _)| s == i) {
            self.checkpoint_asked = None;
        }
        let j = i ^ 1;
        let survivor_ok = self.handles[j].is_some() && self.shared.slots[j].online();
        m.workers_alive.store(u32::from(survivor_ok), Relaxed);
        let quick = self.online_at[i].is_none_or(|t| t.elapsed() < QUICK_DEATH);
        self.online_at[i] = None;
        self.streak[i] = if quick { self.streak[i] + 1 } else { 0 };
        if self.streak[i] >= BACKOFF_AFTER {
            let delay = backoff(self.streak[i]);
            m.respawns_delayed.fetch_add(1, Relaxed);
            tracing::warn!(
                "worker {i} {f}; it keeps failing ({} times in a row before or within {} ms of coming online), so the next one starts in {} ms{}",
                self.streak[i],
                QUICK_DEATH.as_millis(),
                delay.as_millis(),
                if survivor_ok { "; the other worker plays on" } else { "; no healthy worker left: silence until then" }
            );
            self.retry_at[i] = Some(Instant::now() + delay);
            return;
        }
        tracing::warn!(
            "worker {i} {f}; {} it",
            if survivor_ok {
                "the other worker plays on; replacing"
            } else {
                "no healthy worker left; restarting"
            }
        );
        self.respawn(i, detected_ns);
    }

    /// Starts a worker in the empty slot `i`: in sync with the other worker when that one is
    /// healthy, else afresh. A failure to start is retried with the same back-off as deaths.
    fn respawn(&mut self, i: usize, detected_ns: u64) {
        let shared = self.shared.clone();
        let m = &shared.metrics;
        let j = i ^ 1;
        let survivor_ok = self.handles[j].is_some() && self.shared.slots[j].online();
        if !survivor_ok && self.handles[j].is_some() && self.resync[j].is_some() {
            // The other slot is starting after a double fault: sync to it once it is up.
            self.retry_at[i] = Some(Instant::now() + Duration::from_millis(2));
            return;
        }
        let started = if survivor_ok {
            match self.resync_from(i, j) {
                // The survivor died while giving its state: both are gone, start afresh. Its
                // slot goes offline now, before its death is handled: its stale blocks must not
                // be played, nor compared with the restarted worker's.
                Err(_) if self.handles[j].as_mut().is_none_or(|h| h.has_ended()) => {
                    self.shared.slots[j].set_online(false);
                    self.restart_fresh(i)
                }
                other => other,
            }
        } else {
            self.restart_fresh(i)
        };
        match started {
            Ok(h) => {
                self.handles[i] = Some(h);
                m.respawns.fetch_add(1, Relaxed);
                m.last_respawn_us
                    .store((crate::rt::monotonic_ns() - detected_ns) / 1000, Relaxed);
                self.resync[i] = Some(Resync {
                    started: Instant::now(),
                    detected_ns,
                });
            }
            Err(e) => {
                self.shared.lock().accepting[i] = false;
                self.streak[i] += 1;
                let delay = backoff(self.streak[i].max(BACKOFF_AFTER));
                m.respawns_delayed.fetch_add(1, Relaxed);
                tracing::error!(
                    "could not start worker {i}: {e}; trying again in {} ms",
                    delay.as_millis()
                );
                self.retry_at[i] = Some(Instant::now() + delay);
            }
        }
    }

    /// The snapshot slot `j`'s worker writes, waited for in short steps (at most 500 ms) so
    /// that a worker that dies meanwhile is noticed at once (`None`).
    fn wait_snapshot_of(&mut self, j: usize) -> Option<(u64, Vec<u8>)> {
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            if let Some(s) = self.shared.slots[j].wait_snapshot(Duration::from_millis(2)) {
                return Some(s);
            }
            let gone = self.handles[j].as_mut().is_none_or(|h| h.has_ended());
            if gone || Instant::now() >= deadline {
                return None;
            }
        }
    }

    /// Starts a replacement in slot `i` from the survivor `j`'s state.
    fn resync_from(&mut self, i: usize, j: usize) -> Result<WorkerHandle, EngineError> {
        let shared = self.shared.clone();
        let (target, survivor) = (&shared.slots[i], &shared.slots[j]);
        if self.checkpoint_asked.is_some_and(|(s, _)| s == j) {
            // A checkpoint asked before would answer the request below: take it first, or
            // try again later (its answer must not be mistaken for this one's).
            let Some(snap) = self.wait_snapshot_of(j) else {
                return Err(EngineError::Start {
                    reason: "the surviving worker gave no checkpoint".into(),
                });
            };
            self.checkpoint = Some(snap);
            self.checkpoint_asked = None;
        }
        target.reset(0);
        survivor.clear_snapshot();
        {
            // From here on, every command goes to both; the snapshot request marks the cut.
            let mut control = self.shared.lock();
            control.accepting[i] = true;
            control.seq += 1;
            let req = WireCommand {
                kind: kind::SNAPSHOT,
                seq: control.seq,
                ..Default::default()
            };
            if !survivor.push_command(req) {
                return Err(EngineError::RingFull);
            }
            self.shared.publish(&control);
        }
        let handle = self.shared.spawn(i, Start::Snapshot)?;
        match self.wait_snapshot_of(j) {
            Some((block, bytes)) => {
                target.set_next_block(block);
                target.write_snapshot(block, &bytes);
                survivor.clear_snapshot();
                Ok(handle)
            }
            None => {
                handle.kill();
                Err(EngineError::Start {
                    reason: "the surviving worker gave no snapshot".into(),
                })
            }
        }
    }

    /// Both workers are gone: start slot `i` afresh at the current block (state is lost).
    fn restart_fresh(&mut self, i: usize) -> Result<WorkerHandle, EngineError> {
        let played = self.shared.metrics.played_blocks.load(Acquire);
        let start = played + 1;
        let slot = &self.shared.slots[i];
        // The last checkpoint, moved on to the block the output needs next (commands sent
        // after it died with the workers).
        let resumed = self.checkpoint.as_ref().and_then(|(block, bytes)| {
            let mut state = crate::renderer::RendererState::from_bytes(bytes).ok()?;
            state.now = start * self.shared.config.block as u64;
            Some((*block, state.to_bytes().ok()?))
        });
        slot.reset(start);
        self.shared.lock().accepting[i] = true;
        match resumed {
            Some((taken, bytes)) => {
                let age = played.saturating_sub(taken) as f64 * self.shared.config.block as f64
                    / self.shared.config.sample_rate;
                tracing::error!(
                    "no healthy worker left; restarting from the last checkpoint ({age:.2} s old: later changes are lost)"
                );
                let handle = self.shared.spawn(i, Start::Snapshot)?;
                slot.set_next_block(start);
                slot.write_snapshot(start, &bytes);
                Ok(handle)
            }
            None => {
                tracing::error!(
                    "no healthy worker left; restarting from the default patch (the sound's state is lost)"
                );
                self.shared.spawn(i, Start::Fresh)
            }
        }
    }

    /// Puts a replacement online once it has caught up with the output.
    fn check_resync(&mut self, i: usize) {
        let Some(r) = self.resync[i] else { return };
        let slot = &self.shared.slots[i];
        let played = self.shared.metrics.played_blocks.load(Acquire);
        if slot.status() == WorkerStatus::Running && slot.next_block() > played + 1 {
            slot.set_online(true);
            let now = crate::rt::monotonic_ns();
            let m = &self.shared.metrics;
            m.last_ready_ns.store(now, Relaxed);
            self.online_at[i] = Some(Instant::now());
            m.last_resync_us
                .store(r.started.elapsed().as_micros() as u64, Relaxed);
            let alive = self.handles.iter().flatten().count() as u32;
            m.workers_alive.store(alive, Relaxed);
            tracing::info!(
                "worker {i} replaced: in sync and online {:.1} ms after the fault",
                now.saturating_sub(r.detected_ns) as f64 / 1e6
            );
            self.resync[i] = None;
        }
    }
}

/// Runs a worker process if this process was started as one (see [`worker::run_if_worker`]).
pub use worker::run_if_worker;
