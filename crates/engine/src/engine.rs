//! The [`Engine`]: two lockstep workers, the command path into them, and the supervisor that
//! replaces a faulty worker with one synced to the survivor's exact state.

use crate::config::{EngineConfig, WorkerMode, FUTURE_LIMIT};
use crate::control::{Directory, Resolved};
use crate::lockstep::{Control, Shared};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::offline::WavFormat;
use crate::output::Output;
use crate::renderer::Timing;
use crate::samples::SampleInfo;
use crate::slot::{Slot, WorkerStatus, MAX_LOOKAHEAD};
use crate::supervisor::Supervisor;
use crate::wire::{Wire, WireCommand};
use crate::worker::{self, Start};
use crate::RecordingReport;
use crate::{Action, Arg, EngineError};
use chronus_dsp::Patch;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One worker's view, read from its slot.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// Its DSP load: render time over block time, smoothed over about 16 blocks (1: all of
    /// the block's time).
    pub load: f32,
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
    /// The worker spends `n` more block periods on this one block (sleeping): late once,
    /// not dead.
    Late(u32),
    /// The worker crashes with SIGSEGV (process workers only).
    Segv,
    /// The worker aborts (SIGABRT; process workers only).
    Abort,
}

/// A running engine. Dropping it stops the workers.
pub struct Engine {
    shared: Arc<Shared>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
    /// The sealer thread (a seal point past the tick), if the engine has one.
    sealer: Mutex<Option<JoinHandle<()>>>,
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
        Engine::start_edited(config, &[], initial)
    }

    /// Like [`Engine::start_with`], the default patch edited by `edits` before the first block
    /// (a score's setup: its instruments, buses, modules), then the `initial` commands, which
    /// may address what the edits made.
    pub fn start_edited(
        config: EngineConfig,
        edits: &[crate::PatchEdit],
        initial: &[crate::Command],
    ) -> Result<(Engine, Output), EngineError> {
        if !(1..=crate::MAX_CHANNELS).contains(&config.channels) {
            return Err(EngineError::Start {
                reason: format!(
                    "{} channels is out of range (1..={}); use 1 for mono, 2 for stereo",
                    config.channels,
                    crate::MAX_CHANNELS
                ),
            });
        }
        let layout =
            Patch::default_patch_for(config.sample_rate, config.block, config.channels >= 2)?;
        if !(1..=MAX_LOOKAHEAD).contains(&config.lookahead) {
            return Err(EngineError::Start {
                reason: format!(
                    "lookahead {} is out of range (1..={MAX_LOOKAHEAD})",
                    config.lookahead
                ),
            });
        }
        let mk = || {
            Slot::create(
                config.sample_rate,
                config.block,
                config.channels,
                config.lookahead,
            )
            .map_err(|source| EngineError::Worker {
                reason: "creating shared memory",
                source,
            })
        };
        let slots = [mk()?, mk()?];
        let metrics = Arc::new(Metrics::default());
        let directory = arc_swap::ArcSwap::from_pointee(Directory::of(&layout));
        let sample_rate = config.sample_rate;
        let exe = match config.workers {
            WorkerMode::Process => Some(
                crate::spawn::Executable::open(config.worker_exe.as_deref()).map_err(|source| {
                    EngineError::Worker {
                        reason: "opening the worker executable",
                        source,
                    }
                })?,
            ),
            WorkerMode::Thread => None,
        };
        let shared = Arc::new(Shared {
            config,
            directory,
            slots,
            metrics: metrics.clone(),
            control: Mutex::new(Control {
                accepting: [true, true],
                seq: 0,
                edit_id: 0,
                layout,
                sequencer: crate::sequencer::Sequencer::new(sample_rate),
                future: std::collections::BinaryHeap::new(),
                journal: crate::journal::Journal::default(),
                quarantined: Vec::new(),
                samples: crate::samples::SampleStore::default(),
            }),
            stop: AtomicBool::new(false),
            pids: [AtomicU32::new(0), AtomicU32::new(0)],
            exe,
        });
        for slot in &shared.slots {
            slot.reset(0);
        }
        {
            let mut control = shared.lock();
            if !edits.is_empty() {
                push_edit(&shared, &mut control, edits)?;
            }
            for c in initial {
                shared.push(
                    &mut control,
                    crate::wire::encode(Wire::Action {
                        at: Some(c.at),
                        action: c.action,
                    }),
                )?;
            }
            shared.publish(&control);
            // Blocks 0..=lookahead may be rendered before the output plays anything: seal them
            // (with the initial commands).
            for slot in &shared.slots {
                for b in 0..=shared.config.lookahead as u64 {
                    slot.write_seal(b, control.seq);
                }
            }
            metrics
                .sealed_through
                .store(shared.config.lookahead as u64, Release);
        }
        // From here on, a failed step kills the workers already started (the guard's drop).
        let mut starting = crate::spawn::Starting::default();
        for i in 0..2 {
            starting.0[i] = Some(shared.spawn(i, Start::Fresh)?);
        }
        // Both must render their lookahead before the output starts playing.
        let deadline = Instant::now() + Duration::from_secs(10);
        let want = shared.config.lookahead as u64 + 1;
        while shared.slots.iter().any(|s| s.next_block() < want) {
            if Instant::now() > deadline || starting.0.iter_mut().flatten().any(|h| h.has_ended()) {
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
        let (recorder, tap) = crate::recorder::Recorder::new(
            metrics.clone(),
            shared.config.sample_rate as u32,
            shared.config.channels,
            10,
        )?;
        let output = Output::new(
            shared.slots.clone(),
            metrics,
            shared.config.block,
            tap,
            shared.config.seal,
        );
        // The sealer (a seal point past the tick), until the engine stops.
        let seal = shared.config.seal;
        let sealer = if seal.has_sealer() {
            let s = shared.clone();
            let period_ns = (s.config.block as f64 * 1e9 / s.config.sample_rate) as u64;
            Some(
                std::thread::Builder::new()
                    .name("chronus-sealer".into())
                    .spawn(move || {
                        crate::seal::Sealer::new(&s.slots, &s.metrics, period_ns, seal).run(&s.stop)
                    })
                    .map_err(|source| EngineError::Worker {
                        reason: "starting the sealer",
                        source,
                    })?,
            )
        } else {
            None
        };
        // The guard goes with the supervisor's thread, which takes the workers over; if the
        // thread cannot start, the guard is dropped with it and kills them.
        let sup = shared.clone();
        let supervisor = std::thread::Builder::new()
            .name("chronus-supervisor".into())
            .spawn(move || {
                let mut starting = starting;
                Supervisor::new(sup, std::mem::take(&mut starting.0)).run()
            })
            .map_err(|source| {
                // (The sealer, if started, ends with the engine.)
                shared.stop.store(true, SeqCst);
                EngineError::Worker {
                    reason: "starting the supervisor",
                    source,
                }
            })?;
        Ok((
            Engine {
                shared,
                supervisor: Mutex::new(Some(supervisor)),
                sealer: Mutex::new(sealer),
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

    /// The fewest blocks that were ready ahead of the output since the last call: see
    /// [`Metrics::take_least_lead`].
    pub fn take_least_lead(&self) -> Option<u64> {
        self.shared.metrics.take_least_lead()
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
            load: s.load(),
        })
    }

    /// True when both workers are online and in lockstep.
    pub fn both_online(&self) -> bool {
        self.shared.slots.iter().all(|s| s.online())
    }

    /// Resolves a textual address (`/mod/sine/freq`) with arguments into an action.
    pub fn resolve(&self, address: &str, args: &[Arg<'_>]) -> Result<Action, EngineError> {
        crate::control::one(self.resolve_all(address, args)?, address)
    }

    /// Like [`Engine::resolve`], for addresses that stand for several actions taken together
    /// (`/seq/pattern`: the length and every step; an OSC pattern), and the single ones too.
    pub fn resolve_all(&self, address: &str, args: &[Arg<'_>]) -> Result<Vec<Action>, EngineError> {
        self.resolve_address(address, args).map(|r| r.actions)
    }

    /// Resolves an address through the one address table ([`crate::control::resolve`])
    /// against the patch's current names: the actions, and the values that will be clamped.
    /// Takes no lock (the names are published after each patch edit).
    pub fn resolve_address(
        &self,
        address: &str,
        args: &[Arg<'_>],
    ) -> Result<Resolved, EngineError> {
        crate::control::resolve(&self.shared.directory.load(), address, args)
    }

    /// The patch's module names, ids and kinds as of the last edit (no lock).
    pub fn directory(&self) -> Arc<Directory> {
        self.shared.directory.load_full()
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
        self.send_numbered(at, actions)
            .map(|s| (s.sample, s.timing))
    }

    /// Like [`Engine::send_together`], and says which sequence numbers the actions got (for
    /// matching [`Engine::take_quarantined`] to whoever sent them).
    pub fn send_numbered(&self, at: Option<u64>, actions: &[Action]) -> Result<Sent, EngineError> {
        self.send_with_fault(at, actions, None)
    }

    /// Like [`Engine::send_numbered`], with `fault` (if any) riding on the actions like a
    /// poison command: pushed right before them under the same lock and published with them,
    /// so every worker applies it in the very block that first applies them (`/fault/inject
    /// <kind> command`).
    pub fn send_with_fault(
        &self,
        at: Option<u64>,
        actions: &[Action],
        fault: Option<InjectedFault>,
    ) -> Result<Sent, EngineError> {
        if let Some(f) = fault {
            self.injectable(f)?;
        }
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
        if let Some(f) = fault {
            self.shared
                .push(&mut control, crate::wire::encode(Wire::Inject(f)))?;
        }
        let first_seq = control.seq + 1;
        for &a in actions {
            self.shared.push(
                &mut control,
                crate::wire::encode(Wire::Action { at, action: a }),
            )?;
        }
        // Published together: the output seals them into the same block.
        self.shared.publish(&control);
        Ok(Sent {
            sample: told,
            timing,
            first_seq,
        })
    }

    /// The sequence numbers of the commands quarantined since the last call (both workers
    /// failed in the block that first applied them: never replayed, never applied again). At
    /// most [`QUARANTINE_REPORTS`] are kept between calls; `/status quarantined` counts all.
    pub fn take_quarantined(&self) -> Vec<u64> {
        std::mem::take(&mut self.shared.lock().quarantined)
    }

    /// Applies patch edits atomically, at one block boundary in both workers. They are
    /// checked first: a cycle, an unknown module or type changes nothing.
    pub fn edit_patch(&self, edits: &[crate::PatchEdit]) -> Result<(), EngineError> {
        let mut control = self.shared.lock();
        push_edit(&self.shared, &mut control, edits)
    }

    /// Loads samples (interleaved frames at the engine's rate, 1 or 2 channels each; `source`
    /// says where each came from) into sealed shared memory and has both workers map them at
    /// one block: a sample of a name already loaded is replaced (its one-shots stop). All or
    /// none: a bad name, too many samples or too much memory changes nothing. The memory is
    /// written before the engine's lock is taken: a large load never holds up other commands,
    /// and the audio never waits for it.
    pub fn load_samples(&self, batch: &[NewSample<'_>]) -> Result<Vec<SampleInfo>, EngineError> {
        for s in batch {
            crate::samples::check_name(s.name)?;
            if !(1..=2).contains(&s.channels)
                || s.samples.is_empty()
                || s.samples.len() % usize::from(s.channels) != 0
            {
                return Err(EngineError::BadArguments {
                    address: "/sample/load".into(),
                    reason: format!(
                        "'{}': {} values are not whole frames of 1 or 2 channels",
                        s.name,
                        s.samples.len()
                    ),
                });
            }
        }
        self.check_sample_room(&self.shared.lock(), batch)?;
        // Each sample's onsets (for a sampler's slices) follow its audio in its memory.
        let rate = self.shared.config.sample_rate;
        let sealed = batch
            .iter()
            .map(|s| {
                let onsets: Vec<f32> =
                    chronus_dsp::sample::onset_frames(s.samples, s.channels, rate)
                        .into_iter()
                        .map(f32::from_bits)
                        .collect();
                let memory = crate::samples::Sealed::create(s.name, &[s.samples, &onsets])
                    .map_err(|e| EngineError::SampleWrite {
                        name: s.name.to_owned(),
                        source: e,
                    })?;
                Ok((memory, onsets.len() as u16))
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let mut control = self.shared.lock();
        // Checked again: another load may have come between.
        self.check_sample_room(&control, batch)?;
        let mut edits = Vec::new();
        let mut infos = Vec::new();
        let mut taken = Vec::new();
        for (s, (memory, onsets)) in batch.iter().zip(&sealed) {
            if let Some(old) = control.samples.get(s.name) {
                edits.push(crate::PatchEdit::UnmapSample { slot: old.slot });
            }
            let slot =
                control
                    .samples
                    .free_slot_but(&taken)
                    .ok_or(EngineError::TooManySamples {
                        limit: chronus_dsp::sample::MAX_SAMPLES,
                    })?;
            taken.push(slot);
            let frames = (s.samples.len() / usize::from(s.channels)) as u64;
            edits.push(crate::PatchEdit::MapSample(
                chronus_dsp::sample::SampleDesc {
                    slot,
                    frames,
                    channels: s.channels,
                    onsets: *onsets,
                    origin: memory.origin(),
                },
            ));
            infos.push(SampleInfo {
                name: s.name.to_owned(),
                source: s.source.to_owned(),
                slot,
                frames,
                channels: s.channels,
                rate: self.shared.config.sample_rate as u32,
            });
        }
        push_edit(&self.shared, &mut control, &edits)?;
        let seq = control.seq;
        for (info, (memory, _)) in infos.iter().zip(sealed) {
            control.samples.insert(info.clone(), memory, seq);
        }
        self.shared.directory.store(Arc::new(control.directory()));
        Ok(infos)
    }

    /// Whether `batch` fits: the slots and the memory left.
    fn check_sample_room(
        &self,
        control: &Control,
        batch: &[NewSample<'_>],
    ) -> Result<(), EngineError> {
        let replaced: u64 = batch
            .iter()
            .filter_map(|s| control.samples.get(s.name))
            .map(|i| i.frames * u64::from(i.channels) * 4)
            .sum();
        let adding: u64 = batch.iter().map(|s| s.samples.len() as u64 * 4).sum();
        let bytes = (control.samples.bytes() + adding).saturating_sub(replaced);
        let limit = self.shared.config.sample_memory;
        if bytes > limit {
            return Err(EngineError::SampleMemoryFull { bytes, limit });
        }
        let new = batch
            .iter()
            .filter(|s| control.samples.get(s.name).is_none())
            .count();
        if control.samples.list().len() + new > chronus_dsp::sample::MAX_SAMPLES {
            return Err(EngineError::TooManySamples {
                limit: chronus_dsp::sample::MAX_SAMPLES,
            });
        }
        Ok(())
    }

    /// Frees a sample: both workers stop its one-shots and unmap it at one block; its memory
    /// goes once no checkpoint can need it.
    pub fn free_sample(&self, name: &str) -> Result<SampleInfo, EngineError> {
        let mut control = self.shared.lock();
        let slot = control
            .samples
            .get(name)
            .ok_or_else(|| EngineError::NoSuchSample {
                name: name.to_owned(),
            })?
            .slot;
        push_edit(
            &self.shared,
            &mut control,
            &[crate::PatchEdit::UnmapSample { slot }],
        )?;
        let seq = control.seq;
        let info = control
            .samples
            .remove(name, seq)
            .ok_or_else(|| EngineError::NoSuchSample {
                name: name.to_owned(),
            })?;
        self.shared.directory.store(Arc::new(control.directory()));
        Ok(info)
    }

    /// The samples loaded, by name.
    pub fn samples(&self) -> Vec<SampleInfo> {
        self.shared.lock().samples.list()
    }

    /// Bytes of sample memory held (freed samples a checkpoint may still need included).
    pub fn sample_bytes(&self) -> u64 {
        self.shared.lock().samples.bytes()
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

    /// Loads a session (its text, as [`crate::session::parse`] reads it) over what plays now,
    /// at one block: the patch made the default one again and then the session's, the
    /// sequencer reset and then set as the session has it, its values and notes, all taken by
    /// the workers in the same block. Checked first: on an error nothing changes.
    pub fn load_session(&self, text: &str) -> Result<(), EngineError> {
        let session = crate::session::parse(text)?;
        let mut control = self.shared.lock();
        let mut base = Patch::default_patch_for(
            self.shared.config.sample_rate,
            self.shared.config.block,
            self.shared.config.channels >= 2,
        )?;
        let samples = control
            .samples
            .list()
            .into_iter()
            .map(|s| (s.name, s.slot))
            .collect();
        let (setup, commands) = crate::session::restore(&session, &mut base, samples)?;
        let edits: Vec<crate::PatchEdit> = std::iter::once(crate::PatchEdit::Reset)
            .chain(setup)
            .collect();
        // The sequencer as a fresh one, then the session's.
        let mut actions = crate::sequencer::reset_actions();
        actions.extend(commands.into_iter().map(|c| c.action));
        let room = crate::slot::COMMAND_CAPACITY / 2;
        if actions.len() > room {
            return Err(EngineError::Session {
                line: 1,
                reason: format!(
                    "{} commands are more than one block takes ({room}); load it at start \
                     (chronus run --session) instead",
                    actions.len()
                ),
            });
        }
        push_edit_then(&self.shared, &mut control, &edits, &actions)
    }

    /// The session text of what plays now ([`crate::session::render`] of the engine's
    /// mirrors: the patch, its held notes and voice counts, the sequencer's settings).
    pub fn session(&self) -> Result<String, EngineError> {
        let control = self.shared.lock();
        crate::session::render(&control.layout, &control.sequencer, &control.samples.list())
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

    /// The sequencer's tempo (BPM) and whether it runs, as last sent.
    pub fn tempo(&self) -> (f32, bool) {
        let control = self.shared.lock();
        (control.sequencer.bpm(), control.sequencer.running())
    }

    /// Monotonic time (ns) at which the output played sample 0 (0 before it started).
    pub fn origin_ns(&self) -> u64 {
        self.shared.metrics.origin_ns.load(Acquire)
    }

    /// Injects a fault into the worker in `slot` (for tests and demonstrations).
    pub fn inject(&self, slot: usize, fault: InjectedFault) -> Result<(), EngineError> {
        self.injectable(fault)?;
        let mut control = self.shared.lock();
        control.seq += 1;
        let cmd = crate::wire::aimed(crate::wire::encode(Wire::Inject(fault)));
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

    /// A crash needs a worker process: a thread cannot crash alone.
    fn injectable(&self, fault: InjectedFault) -> Result<(), EngineError> {
        if matches!(fault, InjectedFault::Segv | InjectedFault::Abort)
            && self.shared.config.workers == WorkerMode::Thread
        {
            return Err(EngineError::Start {
                reason: "a crash can only be injected into a worker process".into(),
            });
        }
        Ok(())
    }

    /// Injects `fault` into the worker(s) `target` names (for tests and demonstrations;
    /// `chronus run --fault-injection` offers it as `/fault/inject`).
    pub fn inject_into(
        &self,
        target: crate::fault::FaultTarget,
        fault: InjectedFault,
    ) -> Result<(), EngineError> {
        use crate::fault::FaultTarget;
        let active = self.active_slot();
        match target {
            FaultTarget::Active => self.inject(active, fault),
            FaultTarget::Standby => self.inject(1 - active, fault),
            FaultTarget::Both => {
                self.inject(active, fault)?;
                self.inject(1 - active, fault)
            }
            FaultTarget::Command => {
                self.injectable(fault)?;
                let mut control = self.shared.lock();
                self.shared
                    .push(&mut control, crate::wire::encode(Wire::Inject(fault)))?;
                self.shared.publish(&control);
                Ok(())
            }
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
        let sealer = self.sealer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(s) = sealer {
            let _ = s.join();
        }
    }
}

/// Sends patch edits to both workers (checked first: nothing changes on an error), to be
/// applied at one block boundary, and updates the engine's mirror and directory.
fn push_edit(
    shared: &Shared,
    control: &mut Control,
    edits: &[crate::PatchEdit],
) -> Result<(), EngineError> {
    push_edit_then(shared, control, edits, &[])
}

/// [`push_edit`], then `actions` in the same block (resolved against the edited patch).
fn push_edit_then(
    shared: &Shared,
    control: &mut Control,
    edits: &[crate::PatchEdit],
    actions: &[Action],
) -> Result<(), EngineError> {
    crate::edit::validate(&control.layout, edits)?;
    let bytes = postcard::to_stdvec(edits).map_err(|e| EngineError::Snapshot {
        reason: e.to_string(),
    })?;
    if bytes.len() > crate::slot::EDIT_BYTES {
        return Err(EngineError::Start {
            reason: "patch edit too large; commit in smaller steps".into(),
        });
    }
    // A mailbox cell is reused only once every worker that takes commands has read the edit
    // it held: more commits than cells in flight are refused, never overwritten.
    let id = control.edit_id + 1;
    let cells = crate::slot::EDIT_SLOTS as u64;
    if (0..2).any(|i| control.accepting[i] && shared.slots[i].edits_read() + cells < id) {
        return Err(EngineError::EditsInFlight {
            max: crate::slot::EDIT_SLOTS,
        });
    }
    control.edit_id = id;
    for i in 0..2 {
        if control.accepting[i] {
            shared.slots[i].write_edit(id, &bytes);
        }
    }
    let cmd = crate::wire::encode(Wire::Patch { id });
    shared.push(control, cmd)?;
    let seq = control.seq;
    control.journal.attach_edit(seq, Arc::from(bytes));
    crate::edit::apply(&mut control.layout, edits)?;
    shared.directory.store(Arc::new(control.directory()));
    for &action in actions {
        shared.push(
            control,
            crate::wire::encode(Wire::Action { at: None, action }),
        )?;
    }
    shared.publish(control);
    Ok(())
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs a worker process if this process was started as one (see [`worker::run_if_worker`]).
pub use worker::run_if_worker;

/// A sample to load ([`Engine::load_samples`]).
#[derive(Debug, Clone, Copy)]
pub struct NewSample<'a> {
    /// Its name.
    pub name: &'a str,
    /// Where it came from (a file in the samples folder, `kit:basic`).
    pub source: &'a str,
    /// Interleaved frames at the engine's rate.
    pub samples: &'a [f32],
    /// 1 or 2.
    pub channels: u16,
}

/// What [`Engine::send_numbered`] did with a group of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The sample they take effect at.
    pub sample: u64,
    /// Whether that was the sample asked for.
    pub timing: Timing,
    /// The first action's sequence number; the others follow it one by one.
    pub first_seq: u64,
}

/// How many quarantined sequence numbers [`Engine::take_quarantined`] keeps between calls.
pub const QUARANTINE_REPORTS: usize = 256;
