//! Engine metrics: atomics written by the output, workers and supervisor, read without locks.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed};

/// How many of the latest blocks' play times the metrics remember.
pub const BLOCK_TIMES: u64 = 32;

/// Live counters. Every field is an atomic; read them with [`Metrics::snapshot`].
#[derive(Debug, Default)]
pub struct Metrics {
    /// Index (0 or 1) of the slot the output plays from.
    pub(crate) active: AtomicU32,
    pub(crate) played_blocks: AtomicU64,
    pub(crate) underruns: AtomicU64,
    pub(crate) lost_samples: AtomicU64,
    pub(crate) failovers: AtomicU64,
    pub(crate) verified_blocks: AtomicU64,
    pub(crate) last_failover_ns: AtomicU64,
    pub(crate) respawns: AtomicU64,
    pub(crate) respawns_delayed: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) quarantined: AtomicU64,
    pub(crate) faults_death: AtomicU64,
    pub(crate) faults_stall: AtomicU64,
    pub(crate) faults_panic: AtomicU64,
    pub(crate) faults_nan: AtomicU64,
    pub(crate) faults_diverged: AtomicU64,
    pub(crate) deferred: AtomicU64,
    pub(crate) last_detect_ns: AtomicU64,
    pub(crate) last_ready_ns: AtomicU64,
    pub(crate) last_respawn_us: AtomicU64,
    pub(crate) last_resync_us: AtomicU64,
    pub(crate) workers_alive: AtomicU32,
    pub(crate) commands: AtomicU64,
    pub(crate) late_commands: AtomicU64,
    pub(crate) xruns: AtomicU64,
    /// Monotonic ns at which sample 0 was played.
    pub(crate) origin_ns: AtomicU64,
    /// Monotonic ns at which the backend asked for block k, at `k % BLOCK_TIMES` (written
    /// before `played_blocks`).
    pub(crate) block_ns: [AtomicU64; BLOCK_TIMES as usize],
    /// The highest command sequence number pushed to every worker (the output seals blocks
    /// with it).
    pub(crate) published_seq: AtomicU64,
    /// The last block sealed (see `seal.rs`): a command published now takes effect in a
    /// later one.
    pub(crate) sealed_through: AtomicU64,
    /// What the output plays, measured (peak, RMS, scope) and what sounds.
    pub(crate) meter: crate::meter::Meter,
    /// The fewest blocks ready beyond the one played, plus one, since it was last taken
    /// ([`Metrics::take_least_lead`]); 0: no block played since. Written by the output only.
    pub(crate) least_lead: AtomicU64,
}

/// A copy of the metrics at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    /// Slot the output plays from (0 or 1).
    pub active: u32,
    /// Blocks played by the output.
    pub played_blocks: u64,
    /// Blocks played as silence because neither worker had them.
    pub underruns: u64,
    /// Samples lost to underruns.
    pub lost_samples: u64,
    /// Times the output switched worker.
    pub failovers: u64,
    /// Blocks both workers rendered and the output found bit-identical.
    pub verified_blocks: u64,
    /// Monotonic time (ns) of the last failover.
    pub last_failover_ns: u64,
    /// Workers started to replace faulty ones.
    pub respawns: u64,
    /// Worker processes that died (killed, crashed, exited).
    pub faults_death: u64,
    /// Workers that stalled (fell behind the output by the stall limit).
    pub faults_stall: u64,
    /// Workers that panicked (thread workers).
    pub faults_panic: u64,
    /// Blocks with NaN or infinity.
    pub faults_nan: u64,
    /// Standby blocks that differed from the active worker's.
    pub faults_diverged: u64,
    /// Times the standby put off a block's commands because the active worker had not
    /// rendered the block when the standby had to go on, and the active worker rendered it
    /// after all (late, not hung): the standby was resynced. Not a fault.
    pub deferred: u64,
    /// Monotonic time (ns) at which the supervisor saw the last fault.
    pub last_detect_ns: u64,
    /// Monotonic time (ns) the replacement for the last fault was in sync and online.
    pub last_ready_ns: u64,
    /// Microseconds from the last fault's detection to its replacement process running.
    pub last_respawn_us: u64,
    /// Microseconds from that replacement starting to it being in sync and online.
    pub last_resync_us: u64,
    /// Workers currently alive.
    pub workers_alive: u32,
    /// Commands sent to the workers.
    pub commands: u64,
    /// Commands that arrived late (applied at once).
    pub late_commands: u64,
    /// Xruns reported by the backend.
    pub xruns: u64,
    /// Respawns held back because the worker in that slot kept dying right after starting.
    pub respawns_delayed: u64,
    /// Commands replayed on top of the last checkpoint after both workers failed.
    pub replayed: u64,
    /// Commands both workers failed on, taken out of the replay for good.
    pub quarantined: u64,
}

impl Metrics {
    /// Output side, real-time thread: notes that when a block was played, the worker furthest
    /// ahead had `lead` more blocks ready beyond it.
    pub(crate) fn note_lead(&self, lead: u64) {
        let least = self.least_lead.load(Relaxed);
        if least == 0 || lead < least - 1 {
            self.least_lead.store(lead.saturating_add(1), Relaxed);
        }
    }

    /// The fewest blocks that were ready beyond the one being played, in the online worker
    /// furthest ahead, since the last call (`None`: no block was played since). How close the
    /// output came to an underrun: the lookahead is as far as it can be; 0 is a
    /// block rendered just in time (or none: an underrun). (A block played during the call
    /// may go uncounted.)
    pub fn take_least_lead(&self) -> Option<u64> {
        self.least_lead.swap(0, Relaxed).checked_sub(1)
    }

    /// The meter: peak and RMS of what the output plays, and what sounds.
    pub fn meter(&self) -> crate::meter::MeterReading {
        self.meter.read()
    }

    /// The last `out.len()` samples played (at most [`crate::meter::SCOPE`]), oldest first.
    pub fn scope(&self, out: &mut [f32]) {
        self.meter.scope(out);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            active: self.active.load(Relaxed),
            played_blocks: self.played_blocks.load(Relaxed),
            underruns: self.underruns.load(Relaxed),
            lost_samples: self.lost_samples.load(Relaxed),
            failovers: self.failovers.load(Relaxed),
            verified_blocks: self.verified_blocks.load(Relaxed),
            last_failover_ns: self.last_failover_ns.load(Relaxed),
            respawns: self.respawns.load(Relaxed),
            faults_death: self.faults_death.load(Relaxed),
            faults_stall: self.faults_stall.load(Relaxed),
            faults_panic: self.faults_panic.load(Relaxed),
            faults_nan: self.faults_nan.load(Relaxed),
            faults_diverged: self.faults_diverged.load(Relaxed),
            deferred: self.deferred.load(Relaxed),
            last_detect_ns: self.last_detect_ns.load(Relaxed),
            last_ready_ns: self.last_ready_ns.load(Relaxed),
            last_respawn_us: self.last_respawn_us.load(Relaxed),
            last_resync_us: self.last_resync_us.load(Relaxed),
            workers_alive: self.workers_alive.load(Relaxed),
            commands: self.commands.load(Relaxed),
            late_commands: self.late_commands.load(Relaxed),
            xruns: self.xruns.load(Relaxed),
            respawns_delayed: self.respawns_delayed.load(Relaxed),
            replayed: self.replayed.load(Relaxed),
            quarantined: self.quarantined.load(Relaxed),
        }
    }

    /// The monotonic time (ns) at which the backend asked the output for block `k`: `None`
    /// while it has not been played, or when it was played too long ago (more than
    /// [`BLOCK_TIMES`] blocks) to be remembered.
    pub fn block_played_at(&self, k: u64) -> Option<u64> {
        let played = self.played_blocks.load(Acquire);
        if k >= played || played - k > BLOCK_TIMES {
            return None;
        }
        let ns = self.block_ns[(k % BLOCK_TIMES) as usize].load(Relaxed);
        // Still not overwritten by a later block?
        fence(Acquire);
        (self.played_blocks.load(Relaxed) - k <= BLOCK_TIMES).then_some(ns)
    }

    /// Adds xruns seen by a backend.
    pub fn add_xruns(&self, n: u64) {
        self.xruns.fetch_add(n, Relaxed);
    }
}

impl MetricsSnapshot {
    /// Faults of every kind.
    pub fn faults(&self) -> u64 {
        self.faults_death
            + self.faults_stall
            + self.faults_panic
            + self.faults_nan
            + self.faults_diverged
    }
}
