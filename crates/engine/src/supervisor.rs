//! THE failover decision: the supervisor notices a faulty worker (death, stall, panic, NaN,
//! divergence), replaces it with one restored from the survivor's state, keeps checkpoints for
//! a restart after a double fault, and backs off a respawn storm.

use crate::lockstep::Shared;
use crate::slot::{fault, Slot, WorkerStatus};
use crate::spawn::WorkerHandle;
use crate::wire::{Wire, WireCommand};
use crate::worker::Start;
use crate::EngineError;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a worker is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Death,
    Stall,
    Panic,
    Nan,
    Diverged,
    /// It put off a block's commands because its leader was late with it, and the leader
    /// rendered it after all: its state lacks them (not a fault of its own).
    Deferred,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fault::Death => "died (killed or crashed)",
            Fault::Stall => "stalled (silent and behind the output)",
            Fault::Panic => "panicked",
            Fault::Nan => "produced NaN or infinite samples",
            Fault::Diverged => "diverged from its twin",
            Fault::Deferred => "put off commands the other worker was late with",
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
pub(crate) struct Supervisor {
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
    /// workers died picks up (and replays the engine's journal of the commands since).
    checkpoint: Option<(u64, Vec<u8>)>,
    /// The buffer the next checkpoint is read into (the one before's, once it is replaced):
    /// two buffers for good, not an allocation per checkpoint.
    spare: Vec<u8>,
    /// A checkpoint asked of this slot and not yet given, when, and its request's number
    /// (the checkpoint holds every command numbered below).
    checkpoint_asked: Option<(usize, Instant, u64)>,
    /// Per slot: the block its worker was rendering when it failed (`None`: it failed between
    /// blocks, or a replacement is online again); the first failure is kept until then.
    failed_in: [Option<u64>; 2],
    /// When the last checkpoint was asked for.
    checkpoint_at: Instant,
    /// Per slot: the first block its worker renders (where its snapshot or restart puts it).
    first_block: [u64; 2],
    /// When the supervisor last woke.
    woke_ns: u64,
    /// When it last woke after a gap longer than a stall (the host stopped, Ctrl-Z, or the
    /// machine): a worker's silence counts from then at the earliest, since nothing it waits
    /// for came while the host was not running.
    resumed_ns: u64,
}

/// How often the standby worker is asked for its state (kept for a restart after a double
/// fault; the active worker is never asked, so the output's timing is untouched). A snapshot
/// costs the standby a `fork`: rare enough that it seldom coincides with a late active worker
/// on a noisy machine.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// The soonest the next checkpoint comes when the journal asks for one early (a patch edit
/// since the last, or half its room used).
const CHECKPOINT_EARLY: Duration = Duration::from_millis(100);

/// How many block periods (1 ms at the least) the supervisor waits for a follower to render
/// the block its leader failed in: the output gives it the block at its next period, and it
/// renders it in a fraction of one. A follower stuck in it too is a double fault, handled
/// after (every period waited here is silence then).
const CONTAINMENT_WAIT_BLOCKS: f64 = 2.0;

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
    pub(crate) fn new(shared: Arc<Shared>, handles: [Option<WorkerHandle>; 2]) -> Self {
        let now = Instant::now();
        Supervisor {
            shared,
            handles,
            resync: [None, None],
            online_at: [Some(now), Some(now)],
            streak: [0, 0],
            retry_at: [None, None],
            checkpoint: None,
            spare: Vec::new(),
            checkpoint_asked: None,
            failed_in: [None, None],
            first_block: [0, 0],
            woke_ns: crate::rt::monotonic_ns(),
            resumed_ns: 0,
            // The first checkpoint 200 ms after the start.
            checkpoint_at: now
                .checked_sub(CHECKPOINT_EVERY - Duration::from_millis(200))
                .unwrap_or(now),
        }
    }

    /// Asks the standby for its state now and then (when both workers are healthy).
    fn ask_checkpoint(&mut self) {
        let every = if self.shared.lock().journal.wants_checkpoint() {
            CHECKPOINT_EARLY
        } else {
            CHECKPOINT_EVERY
        };
        if self.checkpoint_asked.is_some()
            || self.checkpoint_at.elapsed() < every
            || self
                .shared
                .slots
                .iter()
                .any(|s| s.deferred_block().is_some())
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
            seq: control.seq,
            ..crate::wire::encode(Wire::Snapshot)
        };
        if slot.push_command(req) {
            self.shared.publish(&control);
            self.checkpoint_asked = Some((standby, Instant::now(), req.seq));
        }
        self.checkpoint_at = Instant::now();
    }

    /// Keeps a checkpoint once its worker has written it.
    fn collect_checkpoint(&mut self) {
        let Some((s, asked, seq)) = self.checkpoint_asked else {
            return;
        };
        if let Some(block) = self.shared.slots[s].read_snapshot_into(&mut self.spare) {
            self.shared.slots[s].clear_snapshot();
            if self.shared.slots[s].deferred_block().is_some() {
                // It may lack commands it put off that the journal would then forget.
                self.checkpoint_asked = None;
                return;
            }
            let bytes = std::mem::take(&mut self.spare);
            self.keep_checkpoint((block, bytes), seq);
        } else if asked.elapsed() > CHECKPOINT_EVERY {
            self.checkpoint_asked = None;
        }
    }

    /// Keeps a checkpoint that holds every command numbered below `seq`: the journal forgets
    /// those.
    fn keep_checkpoint(&mut self, snap: (u64, Vec<u8>), seq: u64) {
        if let Some((_, old)) = self.checkpoint.replace(snap) {
            self.spare = old;
        }
        self.checkpoint_asked = None;
        let mut control = self.shared.lock();
        control.journal.cut(seq);
        // Freed samples' memory that no replay from this checkpoint maps again.
        control.samples.forget_before(seq);
    }

    pub(crate) fn run(mut self) {
        // Above normal threads so a death is seen at once, below the workers and the output
        // (workers spinning at their priority are ended by RLIMIT_RTTIME, see `rt`).
        crate::rt::try_realtime(crate::rt::SUPERVISOR_PRIORITY);
        let period = self.shared.config.block as f64 / self.shared.config.sample_rate;
        let timeout_ms = ((period * 1000.0).ceil() as i32).max(1);
        // Asleep for longer than this (a poll waits a period at most), the host was not
        // running, and neither were the seals the workers wait for.
        let stall_ns = period * 1e9 * (self.shared.config.stall_blocks as f64 + 1.0) + 1e6;
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
            if woke_ns.saturating_sub(self.woke_ns) as f64 > stall_ns {
                self.resumed_ns = woke_ns;
            }
            self.woke_ns = woke_ns;
            for i in 0..2 {
                if let Some(f) = self.detect(i) {
                    self.replace(i, f, woke_ns);
                }
                self.settle_deferral(i, woke_ns);
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
            let now = crate::rt::monotonic_ns();
            let silent_ns = now.saturating_sub(slot.heartbeat_ns().max(self.resumed_ns));
            // A worker on a long job it announced (a snapshot of a big patch, a patch edit)
            // is given until then.
            let busy = now < slot.busy_until();
            if !busy && silent_ns as f64 > period_ns * self.shared.config.stall_blocks as f64 {
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
            Fault::Deferred => &m.deferred,
        }
        .fetch_add(1, Relaxed);
        let slot = &shared.slots[i];
        // The first failure counts until the slot is online again (a replacement that fails
        // while being synced from a poisoned twin says nothing of the poison).
        let failed_in = match f {
            // Noted by the worker when it rendered it.
            Fault::Nan => slot.first_not_finite(),
            // Replaced for its state, not for a block it failed in.
            Fault::Deferred | Fault::Diverged => None,
            _ => self.failed_rendering(i),
        };
        // A worker that failed in a block: its twin passes over the commands first applied
        // there if it has not started it. Most often the output has already told it (from the
        // mark a crashing leader leaves, or its NaN block: see `Output::release`); this
        // covers a death that left no mark (told before the worker goes offline, which lets
        // the output give its follower the block). Whether the twin did is in its slot.
        // (A worker that marked a crash or panic counts so whatever was seen first: a thread
        // printing its panic's backtrace can be taken for stalled.)
        let j = i ^ 1;
        let contain = slot
            .failing()
            .or(failed_in.filter(|_| matches!(f, Fault::Death | Fault::Panic | Fault::Nan)))
            .filter(|_| slot.online() && shared.slots[j].online() && self.handles[j].is_some());
        if let Some(b) = contain {
            shared.slots[j].skip_commands_of(b);
        }
        slot.set_online(false);
        shared.lock().accepting[i] = false;
        self.failed_in[i] = self.failed_in[i].or(failed_in);
        if let Some(h) = self.handles[i].take() {
            h.kill();
        }
        self.shared.pids[i].store(0, Release);
        if let Some(b) = contain {
            self.await_containment(j, b, f);
        }
        self.settle_survivors_deferral(j, failed_in, f);
        self.resync[i] = None;
        if self.checkpoint_asked.is_some_and(|(s, _, _)| s == i) {
            self.checkpoint_asked = None;
        }
        let survivor_ok = self.handles[j].is_some() && self.shared.slots[j].online();
        m.workers_alive.store(u32::from(survivor_ok), Relaxed);
        // A worker resynced for a deferral did not fail: it does not count towards a storm.
        let quick =
            f != Fault::Deferred && self.online_at[i].is_none_or(|t| t.elapsed() < QUICK_DEATH);
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
        if survivor_ok {
            if let Some(f) = self.detect(j) {
                // The "survivor" is faulty too (stalled, NaN, …): a double fault. It is
                // replaced first (from the checkpoint), and this slot then syncs to it,
                // instead of waiting for a snapshot it will never give.
                self.shared.lock().accepting[i] = false;
                self.replace(j, f, crate::rt::monotonic_ns());
                self.retry_at[i] = Some(Instant::now());
                return;
            }
        }
        let started = if survivor_ok {
            match self.resync_from(i, j) {
                // The survivor died while giving its state: both are gone, start afresh. Its
                // slot goes offline now, before its death is handled: its stale blocks must not
                // be played, nor compared with the restarted worker's.
                Err(_) if self.handles[j].as_mut().is_none_or(|h| h.has_ended()) => {
                    self.shared.slots[j].set_online(false);
                    self.failed_in[j] = self.failed_in[j].or(self.failed_rendering(j));
                    self.restart_fresh(i)
                }
                // It failed while giving its state (it stalled): as above.
                Err(e) => match self.detect(j) {
                    Some(f) => {
                        self.shared.lock().accepting[i] = false;
                        self.replace(j, f, crate::rt::monotonic_ns());
                        self.retry_at[i] = Some(Instant::now());
                        return;
                    }
                    None => Err(e),
                },
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
            // A worker that stalls (or fails otherwise) will not answer either.
            if gone || Instant::now() >= deadline || self.detect(j).is_some() {
                return None;
            }
        }
    }

    /// Starts a replacement in slot `i` from the survivor `j`'s state.
    fn resync_from(&mut self, i: usize, j: usize) -> Result<WorkerHandle, EngineError> {
        let shared = self.shared.clone();
        let (target, survivor) = (&shared.slots[i], &shared.slots[j]);
        if let Some((_, _, seq)) = self.checkpoint_asked.filter(|&(s, _, _)| s == j) {
            // A checkpoint asked before would answer the request below: take it first, or
            // try again later (its answer must not be mistaken for this one's).
            let Some(snap) = self.wait_snapshot_of(j) else {
                return Err(EngineError::Start {
                    reason: "the surviving worker gave no checkpoint".into(),
                });
            };
            self.keep_checkpoint(snap, seq);
        }
        target.reset(0);
        survivor.clear_snapshot();
        {
            // From here on, every command goes to both; the snapshot request marks the cut.
            let mut control = self.shared.lock();
            control.accepting[i] = true;
            // The survivor's snapshot, cut here, holds every edit so far.
            target.set_edits_read(control.edit_id);
            control.seq += 1;
            let req = WireCommand {
                seq: control.seq,
                ..crate::wire::encode(Wire::Snapshot)
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
                // The blocks the survivor rendered before its snapshot that the output has not
                // played yet are the replacement's too (lockstep: the same to the bit): copied,
                // it holds every block the output may ask of it once it has caught up, instead
                // of only once the output has played up to the snapshot, `lookahead` blocks on.
                let played = self.shared.metrics.played_blocks.load(Acquire);
                self.first_block[i] = copy_blocks(survivor, target, played, block);
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

    /// Both workers are gone: start slot `i` from the last checkpoint (or the default patch)
    /// at the current block, and replay the journal of every command since, so that nothing
    /// but time is lost. The commands both workers failed on (first applied in the block both
    /// died in) are taken out for good.
    fn restart_fresh(&mut self, i: usize) -> Result<WorkerHandle, EngineError> {
        let played = self.shared.metrics.played_blocks.load(Acquire);
        let start = played + 1;
        let slot = &self.shared.slots[i];
        let block = self.shared.config.block as u64;
        // The last checkpoint, moved on to the block the output needs next.
        let resumed = self.checkpoint.as_ref().and_then(|(taken, bytes)| {
            let mut state = crate::renderer::RendererState::from_bytes(bytes).ok()?;
            state.now = start * block;
            Some((*taken, state))
        });
        slot.reset(start);
        self.first_block[i] = start;
        let replay = {
            let mut control = self.shared.lock();
            control.accepting[i] = true;
            let m = &self.shared.metrics;
            if let Some(b) = self.poisoned_block() {
                self.quarantine(
                    &mut control,
                    slot,
                    b,
                    "both workers failed in it; never replayed",
                );
            }
            if control.journal.complete() {
                // Before any command sent from now on: the ring is empty, and the journal fits.
                let mut first_edit = None;
                for e in control.journal.entries() {
                    if let Some(bytes) = &e.edit {
                        slot.write_edit(e.cmd.at, bytes);
                        first_edit.get_or_insert(e.cmd.at);
                    }
                    slot.push_command(e.cmd);
                }
                slot.set_edits_read(first_edit.map_or(control.edit_id, |id| id - 1));
                m.replayed.fetch_add(control.journal.len() as u64, Relaxed);
                Some(control.journal.len())
            } else {
                // The journal lost commands (too many since the checkpoint): the state is the
                // checkpoint's, and so is the engine's mirror of the patch.
                slot.set_edits_read(control.edit_id);
                let layout = match &resumed {
                    Some((_, state)) => chronus_dsp::Patch::from_state(&state.patch)?,
                    None => chronus_dsp::Patch::default_patch(
                        self.shared.config.sample_rate,
                        self.shared.config.block,
                    )?,
                };
                control.layout = layout;
                control.sequencer = match &resumed {
                    Some((_, state)) => state.seq,
                    None => crate::sequencer::Sequencer::new(self.shared.config.sample_rate),
                };
                self.shared.directory.store(Arc::new(control.directory()));
                None
            }
        };
        let age = |taken: u64| {
            played.saturating_sub(taken) as f64 * block as f64 / self.shared.config.sample_rate
        };
        match (&resumed, replay) {
            (Some((taken, _)), Some(n)) => tracing::error!(
                "no healthy worker left; restarting from the last checkpoint ({:.2} s old) and replaying the {n} commands since",
                age(*taken)
            ),
            (None, Some(n)) => tracing::error!(
                "no healthy worker left; restarting from the default patch and replaying the {n} commands since the start"
            ),
            (Some((taken, _)), None) => tracing::error!(
                "no healthy worker left; restarting from the last checkpoint ({:.2} s old: too many commands since to replay, later changes are lost)",
                age(*taken)
            ),
            (None, None) => tracing::error!(
                "no healthy worker left; restarting from the default patch (too many commands to replay: the sound's state is lost)"
            ),
        }
        match resumed {
            Some((_, state)) => {
                let handle = self.shared.spawn(i, Start::Snapshot)?;
                slot.set_next_block(start);
                slot.write_snapshot(start, &state.to_bytes()?);
                Ok(handle)
            }
            None => self.shared.spawn(i, Start::Fresh),
        }
    }

    /// Waits (briefly) for the follower `j` to render block `b`, whose commands it was told to
    /// pass over when its leader failed there, and quarantines them if it did. (It did not
    /// when it had started `b` before it was told: the output gives a follower a block
    /// when it is due next even if its leader has not rendered it.)
    fn await_containment(&mut self, j: usize, b: u64, f: Fault) {
        let twin = &self.shared.slots[j];
        let period = self.shared.config.block as f64 / self.shared.config.sample_rate;
        let wait = Duration::from_secs_f64((CONTAINMENT_WAIT_BLOCKS * period).max(0.001));
        let deadline = Instant::now() + wait;
        while twin.next_block() <= b
            && Instant::now() < deadline
            && self.handles[j].as_mut().is_some_and(|h| !h.has_ended())
        {
            std::thread::sleep(Duration::from_micros(100)); // the output's next block, then the render
        }
        if twin.skipped_block() == Some(b) {
            let shared = self.shared.clone();
            let mut control = shared.lock();
            let why = format!("the leading worker {f} in it; the other played on without it");
            self.quarantine(&mut control, &shared.slots[j], b, &why);
        }
    }

    /// Takes the commands first applied in block `b` (by the seals in `slot`) out of the
    /// journal for good, and counts, logs and reports each.
    fn quarantine(&self, control: &mut crate::lockstep::Control, slot: &Slot, b: u64, why: &str) {
        let from = b
            .checked_sub(1)
            .and_then(|p| slot.seal(p))
            .map_or(0, |s| s + 1);
        let Some(to) = slot.seal(b) else { return };
        let m = &self.shared.metrics;
        for e in control.journal.quarantine(from, to) {
            m.quarantined.fetch_add(1, Relaxed);
            if control.quarantined.len() < crate::engine::QUARANTINE_REPORTS {
                control.quarantined.push(e.cmd.seq);
            }
            tracing::error!(
                "command {} quarantined (block {b}: {why}): {:?}",
                e.cmd.seq,
                crate::wire::decode(&e.cmd)
            );
        }
    }

    /// Settles a deferral of slot `i`'s worker (a follower that put off block `d`'s commands
    /// because its leader was still inside `d` when it had to go on) once its leader has
    /// rendered `d` after all: it was late, not hung. The follower's state lacks `d`'s
    /// commands: if it is still the standby, it is resynced from the leader (counted
    /// `deferred`, not a fault); if the output has failed over to it meanwhile (the leader was
    /// later than the output could wait), the listener hears it without them: they are
    /// quarantined, and the old leader, which has them, is replaced. A leader that hangs or
    /// fails in `d` is settled by [`Supervisor::replace`] instead.
    fn settle_deferral(&mut self, i: usize, now_ns: u64) {
        let j = i ^ 1;
        let slot = &self.shared.slots[i];
        let twin = &self.shared.slots[j];
        let Some(d) = slot.deferred_block() else {
            return;
        };
        if self.handles[i].is_none() || !slot.online() {
            return; // being replaced anyway
        }
        let leader_done = twin.online()
            && self.handles[j].is_some()
            && twin.next_block() > d
            && twin.failing() != Some(d)
            && twin.first_not_finite() != Some(d);
        if !leader_done {
            return;
        }
        let active = self.shared.metrics.active.load(Acquire) as usize & 1;
        if active == i {
            let shared = self.shared.clone();
            {
                let mut control = shared.lock();
                let why = "the active worker was later with it than the output could wait; \
                           the other played on without it";
                self.quarantine(&mut control, &shared.slots[i], d, why);
            }
            shared.slots[i].clear_deferred();
            self.replace(j, Fault::Diverged, now_ns);
        } else {
            tracing::info!(
                "worker {i} put off the commands of block {d} (its leader was late with them); resyncing it"
            );
            self.replace(i, Fault::Deferred, now_ns);
        }
    }

    /// After slot `i`'s worker failed (`f`, in block `failed_in` if known), its twin `j` may
    /// have put off the commands of a block `d` for it: the survivor plays on without them,
    /// so they are quarantined (the leader hung or failed there: a poison contained; or it
    /// failed later, and they are lost with it).
    fn settle_survivors_deferral(&mut self, j: usize, failed_in: Option<u64>, f: Fault) {
        let Some(d) = self.shared.slots[j].deferred_block() else {
            return;
        };
        if f == Fault::Deferred {
            return;
        }
        let shared = self.shared.clone();
        let why = if failed_in == Some(d) {
            format!("the leading worker {f} in it; the other played on without it")
        } else {
            format!("the leading worker was late with it, then {f}; the other played on without it")
        };
        {
            let mut control = shared.lock();
            self.quarantine(&mut control, &shared.slots[j], d, &why);
        }
        shared.slots[j].clear_deferred();
    }

    /// The block slot `i`'s worker was rendering when it failed, unless it was killed from
    /// outside (a kill says nothing of the commands it was applying).
    fn failed_rendering(&mut self, i: usize) -> Option<u64> {
        if self.handles[i]
            .as_mut()
            .is_some_and(|h| h.killed_from_outside())
        {
            return None;
        }
        self.shared.slots[i].rendering()
    }

    /// The block both workers failed in, when they failed in the same one (a command first
    /// applied there is the likely cause: the same input reached both).
    fn poisoned_block(&self) -> Option<u64> {
        match self.failed_in {
            [Some(a), Some(b)] if a == b && a > 0 => Some(a),
            _ => None,
        }
    }

    /// Puts a replacement online once it has caught up with the output and rendered its
    /// lookahead (less one block, which the output may have taken meanwhile): online, it must
    /// be able to take over at once, with as many blocks in hand as its twin. (Online with
    /// only a block or two in hand, a fault of the active worker right then — seen at once, as
    /// a crash or a flagged NaN is — left the output short of blocks.)
    fn check_resync(&mut self, i: usize) {
        let Some(r) = self.resync[i] else { return };
        let slot = &self.shared.slots[i];
        let played = self.shared.metrics.played_blocks.load(Acquire);
        let in_hand = (self.shared.config.lookahead as u64).max(2);
        // It must hold every block the output may ask of it from now on (the next to play is
        // `played`): a replacement restored from a snapshot taken a few blocks ahead of the
        // output lacks the blocks before it, and online too soon, a failover to it found them
        // missing (an underrun in `matrix_nan` 2 runs in 5, once NaN was flagged early).
        let whole = self.first_block[i] <= played;
        if slot.status() == WorkerStatus::Running && whole && slot.next_block() >= played + in_hand
        {
            slot.set_online(true);
            let now = crate::rt::monotonic_ns();
            let m = &self.shared.metrics;
            m.last_ready_ns.store(now, Relaxed);
            self.online_at[i] = Some(Instant::now());
            self.failed_in[i] = None;
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

/// Copies blocks `from..to` of `survivor`'s ring into `target`'s, the latest first, as far
/// back as the survivor still holds them; returns the first block `target` holds from then on
/// (`to` when none could be copied). Supervisor thread, before `target` is online: the
/// output reads none of these cells meanwhile, and `target`'s worker writes only blocks from
/// `to` on.
fn copy_blocks(survivor: &Slot, target: &Slot, from: u64, to: u64) -> u64 {
    // One block of every channel: what a cell holds at this engine's block size.
    let mut buf = vec![0.0f32; survivor.block() * survivor.channels()];
    let mut first = to;
    for b in (from..to).rev() {
        match survivor.read_block(b, &mut buf) {
            Some(info) => {
                target.write_block(b, &buf, info);
                first = b;
            }
            None => break,
        }
    }
    first
}
