//! The command path into both workers: sequence numbers, one push to both rings (or to
//! none), publishing what the output's next seal may take, and starting a worker.

use crate::config::{EngineConfig, WorkerMode};
use crate::metrics::Metrics;
use crate::slot::Slot;
use crate::spawn::{self, WorkerHandle};
use crate::wire::WireCommand;
use crate::worker::Start;
use crate::EngineError;
use chronus_dsp::Patch;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct Control {
    /// Slots that receive commands (alive, or being resynced).
    pub(crate) accepting: [bool; 2],
    /// The last command sequence number given out.
    pub(crate) seq: u64,
    /// The last patch edit id given out.
    pub(crate) edit_id: u64,
    /// The patch layout, for resolving names to ids; a mirror of the workers' patch: its
    /// parameters as last set, its notes held and voice counts (for `/get` and sessions).
    pub(crate) layout: Patch,
    /// A mirror of the workers' sequencer settings (tempo, swing, patterns, targets, running),
    /// for sessions. It never fires.
    pub(crate) sequencer: crate::sequencer::Sequencer,
    /// The stamps of commands sent for later than the next block (a min-heap: those the
    /// output has reached are dropped as it goes), to keep them under
    /// [`FUTURE_LIMIT`](crate::config::FUTURE_LIMIT).
    pub(crate) future: std::collections::BinaryHeap<std::cmp::Reverse<u64>>,
    /// Every command since the last checkpoint, for a restart after a double fault.
    pub(crate) journal: crate::journal::Journal,
    /// Commands quarantined and not yet reported (see `Engine::take_quarantined`).
    pub(crate) quarantined: Vec<u64>,
    /// The samples loaded: their names, sources and memory.
    pub(crate) samples: crate::samples::SampleStore,
}

impl Control {
    /// The names the address table resolves, as they are now (the patch's and the samples').
    pub(crate) fn directory(&self) -> crate::control::Directory {
        crate::control::Directory::of(&self.layout).with_samples(
            self.samples
                .list()
                .into_iter()
                .map(|s| (s.name, s.slot))
                .collect(),
        )
    }
}

pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    /// The patch's names, republished after each edit: messages resolve against it without
    /// the control lock.
    pub(crate) directory: arc_swap::ArcSwap<crate::control::Directory>,
    pub(crate) slots: [Slot; 2],
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) control: Mutex<Control>,
    pub(crate) stop: AtomicBool,
    pub(crate) pids: [AtomicU32; 2],
    /// The executable worker processes run, opened at start (process workers only).
    pub(crate) exe: Option<spawn::Executable>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first sample a command published now can take effect at: the start of the first
    /// block not sealed yet (see `seal.rs`).
    pub(crate) fn earliest(&self) -> u64 {
        (self.metrics.sealed_through.load(Acquire) + 1) * self.config.block as u64
    }

    /// Makes every command pushed so far visible to the output's next seal.
    pub(crate) fn publish(&self, control: &Control) {
        self.metrics.published_seq.store(control.seq, Release);
    }

    /// Pushes a command to every accepting worker, or to none (lockstep needs both), and keeps
    /// the engine's mirror of parameter values up to date.
    pub(crate) fn push(
        &self,
        control: &mut Control,
        mut cmd: WireCommand,
    ) -> Result<(), EngineError> {
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
        control.journal.record(cmd);
        mirror(control, &cmd);
        self.metrics.commands.fetch_add(1, Relaxed);
        Ok(())
    }

    pub(crate) fn spawn(&self, i: usize, start: Start) -> Result<WorkerHandle, EngineError> {
        let slot = &self.slots[i];
        let handle = match self.config.workers {
            WorkerMode::Process => {
                let exe = self.exe.as_ref().ok_or(EngineError::Worker {
                    reason: "opening the worker executable",
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                })?;
                spawn::spawn_process(exe, slot, &self.slots[i ^ 1], start)
            }
            WorkerMode::Thread => spawn::spawn_thread(slot, &self.slots[i ^ 1], start),
        }
        .map_err(|source| EngineError::Worker {
            reason: "starting a worker",
            source,
        })?;
        self.pids[i].store(handle.pid().unwrap_or(0), Release);
        Ok(handle)
    }
}

/// Keeps the engine's mirror of what the workers play (the layout's parameters, notes and
/// voice counts; the sequencer's settings) in step with a command pushed to them.
fn mirror(control: &mut Control, cmd: &crate::wire::WireCommand) {
    use crate::Action;
    let Some(crate::wire::Wire::Action { action, .. }) = crate::wire::decode(cmd) else {
        return;
    };
    let layout = &mut control.layout;
    // A refusal here is the workers' too (the same patch): nothing to mirror.
    let _ = match action {
        Action::Set {
            module,
            param,
            value,
        } => layout.set_param(module, param, value).map(|_| ()),
        Action::NoteOn {
            note,
            velocity,
            inst,
        } => layout.note_on_in(inst, note, velocity),
        Action::NoteOff { note, inst } => layout.note_off_in(inst, note),
        Action::Voices { count, mono, inst } => {
            let mode = if mono {
                chronus_dsp::VoiceMode::Mono
            } else {
                chronus_dsp::VoiceMode::Poly
            };
            layout.set_voices_in(inst, usize::from(count), mode)
        }
        Action::Sustain { on, inst } => layout.sustain_in(inst, on),
        Action::Bend { semitones, inst } => layout.bend_in(inst, semitones),
        Action::Seq(a) => {
            control.sequencer.apply(a, 0, |_| {});
            Ok(())
        }
        // A one-shot leaves nothing for a session to keep.
        Action::Gate { .. } | Action::PlaySample { .. } => Ok(()),
    };
}
