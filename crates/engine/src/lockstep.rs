//! The command path into both workers: sequence numbers, one push to both rings (or to
//! none), publishing what the output's next seal may take, and starting a worker.

use crate::config::{EngineConfig, WorkerMode};
use crate::metrics::Metrics;
use crate::slot::Slot;
use crate::spawn::{self, WorkerHandle};
use crate::wire::{kind, WireCommand};
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
    /// The patch layout, for resolving names to ids.
    pub(crate) layout: Patch,
    /// The stamps of commands sent for later than the next block (a min-heap: those the
    /// output has reached are dropped as it goes), to keep them under [`FUTURE_LIMIT`].
    pub(crate) future: std::collections::BinaryHeap<std::cmp::Reverse<u64>>,
    /// Every command since the last checkpoint, for a restart after a double fault.
    pub(crate) journal: crate::journal::Journal,
    /// Commands quarantined and not yet reported (see `Engine::take_quarantined`).
    pub(crate) quarantined: Vec<u64>,
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

    /// The first sample a command published now can take effect at: the start of the next
    /// block the output will seal (`played + lookahead + 1`).
    pub(crate) fn earliest(&self) -> u64 {
        let played = self.metrics.played_blocks.load(Acquire);
        (played + self.config.lookahead as u64 + 1) * self.config.block as u64
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
        if cmd.kind == kind::SET {
            let _ =
                control
                    .layout
                    .set_param(chronus_dsp::ModuleId(cmd.module), cmd.param, cmd.value);
        }
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
