//! The worker: renders the patch block by block into its slot, a few blocks ahead of the
//! output, applying the commands it finds in its ring at their stamped samples.
//!
//! Workers run as separate processes (the default: the binary re-executes itself with
//! [`WORKER_ARG`], and the slot's memfd as fd 3) or as threads; the loop is the same.

use crate::renderer::{Renderer, RendererState};
use crate::slot::{Slot, Twin, WorkerStatus};
use crate::wire::Wire;
use crate::Command;
use crate::InjectedFault;
use chronus_dsp::{Patch, MAX_BLOCK};
use std::os::fd::{FromRawFd, OwnedFd};

/// The first argument that makes a chronus binary run as a worker process.
pub const WORKER_ARG: &str = "__chronus-worker";

/// How a worker starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// A fresh default patch at block 0.
    Fresh,
    /// From the snapshot the supervisor copies into the slot.
    Snapshot,
}

/// If this process was started as a worker (`argv[1] == WORKER_ARG`), runs the worker and
/// exits; otherwise returns. Call it first thing in `main`.
pub fn run_if_worker() {
    let mut args = std::env::args();
    let _ = args.next();
    if args.next().as_deref() != Some(WORKER_ARG) {
        return;
    }
    let start = match args.next().as_deref() {
        Some("snapshot") => Start::Snapshot,
        _ => Start::Fresh,
    };
    let Some(raw) = args
        .next()
        .and_then(|a| a.parse::<i32>().ok())
        .filter(|&fd| fd > 2)
    else {
        eprintln!("chronus worker: no slot descriptor given");
        std::process::exit(2);
    };
    // The memfd must really be there (a stray argument must not make us own another fd).
    // SAFETY: F_GETFD on any integer is harmless; it fails for a descriptor that is not open.
    if unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0 {
        eprintln!("chronus worker: slot descriptor {raw} is not open");
        std::process::exit(2);
    }
    // The host's pid: a worker dies with its host (a SIGKILLed `chronus run` must not leave
    // workers running). PR_SET_PDEATHSIG fires when the thread that spawned us exits; the
    // host's spawning threads (its main thread, the supervisor) live as long as the engine.
    let host = args.next().and_then(|a| a.parse::<i32>().ok());
    // The twin's slot (poison containment: this worker may follow it), if the host gave it.
    let twin_fd = args
        .next()
        .and_then(|a| a.parse::<i32>().ok())
        .filter(|&fd| fd > 2 && fd != raw && is_open(fd));
    // Keep stdin/stdout/stderr, the slot and the twin's; close anything else the parent's
    // parent may have left inheritable.
    let (low, high) = match twin_fd {
        Some(t) => (raw.min(t), raw.max(t)),
        None => (raw, raw),
    };
    // SAFETY: close_range only closes descriptors; none of them is used by this fresh process.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, (low - 1) as u32, 0u32);
        if high > low + 1 {
            libc::syscall(
                libc::SYS_close_range,
                (low + 1) as u32,
                (high - 1) as u32,
                0u32,
            );
        }
        libc::syscall(libc::SYS_close_range, (high + 1) as u32, u32::MAX, 0u32);
    }
    // SAFETY: the engine left this descriptor open across exec for us, as the slot's; nothing
    // else in this fresh process owns it.
    let twin = twin_fd.and_then(|t| Twin::open(unsafe { OwnedFd::from_raw_fd(t) }).ok());
    // SAFETY: prctl(PR_SET_PDEATHSIG) and getppid only affect this process.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        // The host may have died before the line above: then our parent is already another.
        if host.is_some_and(|h| libc::getppid() != h) {
            std::process::exit(3);
        }
    }
    limit_realtime_cpu();
    // SAFETY: the engine left exactly this descriptor open across exec for us (everything
    // else it holds is close-on-exec); nothing else in this fresh process owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let code = match Slot::open(fd) {
        Ok(slot) => {
            crate::rt::try_realtime(crate::rt::WORKER_PRIORITY);
            // Snapshot children (see `snapshot`) are reaped by the kernel.
            // SAFETY: sets this process's SIGCHLD disposition; no handler is involved.
            unsafe {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            }
            crate::failure_mark::arm(&slot);
            run(
                &slot,
                twin.as_ref(),
                start,
                slot.generation(),
                Snapshots::Fork,
            );
            crate::failure_mark::disarm();
            0
        }
        Err(e) => {
            eprintln!("chronus worker: cannot open its slot: {e}");
            2
        }
    };
    std::process::exit(code);
}

/// Whether `fd` is an open descriptor of this process.
fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD on any integer is harmless; it fails for a descriptor that is not open.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// How a worker answers a snapshot request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Snapshots {
    /// A worker process forks: the child serialises a copy-on-write image of this instant
    /// while the worker renders on, so its deadline is kept however big the state.
    Fork,
    /// A worker thread cannot fork: it serialises between two blocks (announced as busy).
    Inline,
}

/// The worker loop. Returns when asked to stop or when the slot is handed to a new worker.
pub(crate) fn run(
    slot: &Slot,
    twin: Option<&Twin>,
    start: Start,
    generation: u32,
    snapshots: Snapshots,
) {
    let mut renderer = match start_renderer(slot, start, generation) {
        Some(r) => r,
        None => return,
    };
    let (block, channels) = (slot.block(), slot.channels());
    let mut b = renderer.now() / block as u64;
    slot.set_next_block(b);
    slot.set_status(WorkerStatus::Running);
    // One block of every channel, planar.
    let mut buf = [0.0f32; MAX_BLOCK * crate::MAX_CHANNELS];
    let mut slow = 1u32;
    let mut nan_next = false;
    // The DSP load, smoothed: render time over block time.
    let period_ns = block as f64 * 1e9 / slot.sample_rate();
    let mut load = 0.0f64;
    // The seal says which commands belong to this block: both workers read the same seal, so
    // they apply the same commands at the same sample, whatever their timing. It is waited for
    // first: it comes with the room for the block or after it (half a period after, sealed at
    // mid-period), so the worker is woken once a block and the room is there when it wakes.
    while let Some(sealed) = slot.wait_for_seal(b, generation) {
        if !slot.wait_for_room(b, generation) {
            break;
        }
        // Poison containment: a follower takes a block's commands only once its leader has
        // rendered the block with them; if the leader failed there, they are passed over (a
        // snapshot request changes no sound, and a fault aimed at this worker alone is its
        // own: both are kept); if the leader is still inside the block when the follower must
        // go on (hung there, or late), they are put off, and the engine settles which it was.
        // The engine may say to pass over them too (a leader that died unmarked).
        let leader = match twin {
            Some(t)
                if slot.follows()
                    && slot.deferred_block().is_none()
                    && slot.has_command_upto(sealed) =>
            {
                await_leader(slot, t, b, generation)
            }
            _ => Leader::NotFollowed,
        };
        let began = crate::rt::monotonic_ns();
        slot.set_rendering(Some(b));
        if leader == Leader::Late {
            slot.note_deferred(b);
        }
        let skipping = matches!(leader, Leader::Failed | Leader::Late) || slot.skips(b);
        while let Some(cmd) = slot.pop_command_upto(sealed) {
            let wire = crate::wire::decode(&cmd);
            let kept = matches!(wire, Some(Wire::Snapshot)) || crate::wire::is_aimed(&cmd);
            if skipping && !kept {
                if let Some(Wire::Patch { id }) = wire {
                    slot.set_edits_read(id);
                }
                continue;
            }
            match wire {
                Some(Wire::Action { at, action }) => {
                    let at = at.unwrap_or(renderer.now());
                    match renderer.schedule(Command::new(at, action)) {
                        Ok(crate::renderer::Timing::Late) => slot.count_late(),
                        Ok(_) => {}
                        Err(_) => slot.count_dropped(),
                    }
                }
                Some(Wire::Snapshot) => snapshot(slot, &renderer, b, generation, snapshots),
                Some(Wire::Patch { id }) => {
                    // A graph edit, applied between blocks (it allocates; edits are rare).
                    slot.set_busy_until(crate::rt::monotonic_ns() + crate::rt::BUSY_ALLOWANCE_NS);
                    let applied = slot
                        .read_edit(id)
                        .and_then(|bytes| {
                            postcard::from_bytes::<Vec<crate::PatchEdit>>(&bytes).ok()
                        })
                        .map(|edits| crate::edit::apply(renderer.patch_mut(), &edits));
                    if !matches!(applied, Some(Ok(()))) {
                        eprintln!("chronus worker: patch edit {id} could not be applied");
                        slot.count_dropped();
                    }
                    slot.set_edits_read(id);
                    slot.set_busy_until(0);
                    slot.beat(crate::rt::monotonic_ns());
                }
                Some(Wire::Inject(fault)) => match fault {
                    InjectedFault::Panic => panic!("injected panic (fault test)"),
                    InjectedFault::Nan => nan_next = true,
                    InjectedFault::Hang => {
                        hang(slot, generation);
                        // The slot belongs to a replacement now: touch nothing.
                        return;
                    }
                    InjectedFault::Spin => {
                        spin(slot, generation);
                        return;
                    }
                    InjectedFault::Slow(n) => slow = n.clamp(1, 100),
                    InjectedFault::Late(n) => {
                        // Injected lateness: this block only, asleep (no CPU taken).
                        let period_s = slot.block() as f64 / slot.sample_rate();
                        std::thread::sleep(std::time::Duration::from_secs_f64(
                            period_s * f64::from(n.min(1_000)),
                        ));
                        slot.beat(crate::rt::monotonic_ns());
                    }
                    InjectedFault::Segv => {
                        // A real invalid memory access (a raised signal would only reach the
                        // runtime's stack-overflow handler first).
                        // SAFETY: deliberately not sound: the write faults and SIGSEGV ends
                        // this process, which is the point (a crash the supervisor must
                        // survive). Only reached by an explicit fault injection.
                        unsafe {
                            std::ptr::write_volatile(std::ptr::without_provenance_mut::<u8>(16), 1);
                        }
                    }
                    InjectedFault::Abort => std::process::abort(),
                },
                // No sender makes it: counted, never applied.
                None => slot.count_dropped(),
            }
        }
        if skipping {
            slot.note_skipped(b);
        }
        let out = &mut buf[..block * channels];
        renderer.render_planar(out, channels);
        if slow > 1 {
            // Injected slowness: each extra factor costs a fifth of a block period of CPU.
            let period_us = block as f64 / slot.sample_rate() * 1e6;
            busy_for(std::time::Duration::from_micros(
                (f64::from(slow - 1) * period_us * 0.2) as u64,
            ));
        }
        if nan_next {
            out[0] = f32::NAN;
            nan_next = false;
        }
        if out.iter().any(|x| !x.is_finite()) {
            // Published all the same (the output finds it when it plays it, and fails over):
            // noted, so that a NaN in both workers names the block whose commands caused it.
            slot.note_not_finite(b);
        }
        if slot.generation() != generation {
            return; // replaced while rendering (a thread worker that was declared stalled)
        }
        let (held, sounding) = renderer.patch().note_counts();
        let info = crate::meter::BlockInfo {
            notes_held: held as u16,
            notes_sounding: sounding as u16,
            step: renderer.sequencer().position(),
        };
        let took = crate::rt::monotonic_ns().saturating_sub(began) as f64;
        load += (took / period_ns - load) / 16.0;
        slot.set_load(load as f32);
        slot.write_block(b, out, info.pack());
        slot.set_rendering(None);
        b += 1;
        slot.set_next_block(b);
        slot.beat(crate::rt::monotonic_ns());
    }
    if slot.generation() == generation {
        slot.set_status(WorkerStatus::Exited);
    }
}

fn start_renderer(slot: &Slot, start: Start, generation: u32) -> Option<Renderer> {
    match start {
        Start::Fresh => {
            let stereo = slot.channels() >= 2;
            let patch = match Patch::default_patch_for(slot.sample_rate(), slot.block(), stereo) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("chronus worker: {e}");
                    return None;
                }
            };
            let now = slot.next_block() * slot.block() as u64;
            Some(Renderer::resume(patch, now))
        }
        Start::Snapshot => {
            // The supervisor copies the survivor's snapshot into this slot, then flags it.
            loop {
                if slot.stop_requested() || slot.generation() != generation {
                    return None;
                }
                if let Some((_, bytes)) = slot.wait_snapshot(std::time::Duration::from_millis(50)) {
                    let restored =
                        RendererState::from_bytes(&bytes).and_then(|s| Renderer::from_state(&s));
                    slot.clear_snapshot();
                    return match restored {
                        Ok(r) => Some(r),
                        Err(e) => {
                            eprintln!("chronus worker: bad snapshot: {e}");
                            None
                        }
                    };
                }
            }
        }
    }
}

/// What a follower found of its leader's block (see [`await_leader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leader {
    /// Not followed (this worker leads, or plays alone, or the block has no command).
    NotFollowed,
    /// The leader rendered the block well: its commands are safe to apply.
    Rendered,
    /// The leader failed in the block (a crash or panic it marked, or its first non-finite
    /// block): its commands are passed over.
    Failed,
    /// The leader is still inside the block when the follower must go on to keep its own
    /// deadline: hung there, or only late. Its commands are put off; the engine settles it.
    Late,
    /// The leader has not started the block (it is late, or stopped, between blocks: it has
    /// not applied the commands, so they cannot have hung it), or it is on a long job it
    /// announced (a patch edit, which allocates), or no longer led, or this worker is being
    /// stopped: the block is rendered as it comes.
    Unknown,
}

/// Poison containment, on the follower's real-time thread, between two blocks: waits until
/// its leader (`twin`) has rendered block `b` or failed in it. A bounded wait: it sleeps in
/// slices of 50 µs, and gives up when the output will ask for `b` in half the lookahead's
/// time (half a block period from now at the least), which leaves that half to render the
/// block before the output may need it from this worker. Counted from when the output needs
/// the block, not from when the wait began: a follower held back block after block by a
/// leader that stopped between blocks stays half the lookahead ahead of the output, instead
/// of losing half of what is left at each block.
fn await_leader(slot: &Slot, twin: &Twin, b: u64, generation: u32) -> Leader {
    let period_ns = slot.block() as f64 * 1e9 / slot.sample_rate();
    // The output asks for `b` after playing the blocks before it: `b - consumed` periods from
    // now at the least (and what is left of the current one).
    let ahead = b.saturating_sub(slot.consumed()) as f64;
    let patience_ns =
        (period_ns * (ahead - slot.lookahead() as f64 / 2.0)).max(period_ns / 2.0) as u64;
    let deadline = crate::rt::monotonic_ns() + patience_ns;
    loop {
        if twin.failing() == Some(b) {
            return Leader::Failed;
        }
        if twin.next_block() > b {
            return if twin.first_not_finite() == Some(b) {
                Leader::Failed
            } else {
                Leader::Rendered
            };
        }
        if !slot.follows() || slot.stop_requested() || slot.generation() != generation {
            return Leader::Unknown;
        }
        let now = crate::rt::monotonic_ns();
        if now >= deadline {
            // Only a leader inside this very block can be hung on its commands: one that has
            // not started it (stopped, or descheduled, between blocks) has not applied them.
            // A leader on an announced patch edit is busy, not hung (an edit that hangs is a
            // double fault: the follower applies it too).
            return if twin.rendering() != Some(b) || now < twin.busy_until() {
                Leader::Unknown
            } else {
                Leader::Late
            };
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

/// An injected stall: spin (at normal priority) until the slot is handed to a new worker.
/// Caps the CPU time this process may use at real-time priority without blocking
/// (`RLIMIT_RTTIME`): a render loop that never returns is killed by the kernel itself
/// (SIGXCPU, then SIGKILL), even where the supervisor could not run.
/// Writes the state as of block `b` into the slot's snapshot area (for a replacement, or a
/// checkpoint). Called on the worker's real-time thread, between two blocks.
///
/// A process worker forks: the child holds a copy-on-write image of this instant, drops to
/// normal priority, serialises it (which allocates, and takes milliseconds for big delay
/// lines) and writes it, then exits; the worker itself only pays for the fork and renders on.
/// A thread worker (or a failed fork) serialises here, announced as busy so that it is not
/// taken for stalled.
fn snapshot(slot: &Slot, renderer: &Renderer, b: u64, generation: u32, how: Snapshots) {
    if how == Snapshots::Fork {
        // SAFETY: a worker process has one thread, so the child's copy of memory is
        // consistent (no lock is held by a thread that does not exist in it); the child uses
        // only its own copy and the shared slot, and leaves with _exit (no destructors, no
        // atexit handlers, no flushing of buffers it shares with the parent).
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: these calls affect only the child.
                unsafe {
                    libc::prctl(
                        libc::PR_SET_PDEATHSIG,
                        libc::SIGKILL as libc::c_ulong,
                        0,
                        0,
                        0,
                    );
                    let normal = libc::sched_param { sched_priority: 0 };
                    libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal);
                }
                let written = renderer.state().to_bytes().is_ok_and(|bytes| {
                    // The slot may have been handed to a replacement meanwhile.
                    slot.generation() == generation && slot.write_snapshot(b, &bytes)
                });
                if !written {
                    eprintln!("chronus worker: snapshot did not fit");
                }
                // SAFETY: ends the child at once, as above.
                unsafe { libc::_exit(0) }
            }
            pid if pid > 0 => return,
            _ => {} // fork failed (no memory?): the thread worker's way below
        }
    }
    slot.set_busy_until(crate::rt::monotonic_ns() + crate::rt::BUSY_ALLOWANCE_NS);
    match renderer.state().to_bytes() {
        Ok(bytes) if slot.write_snapshot(b, &bytes) => {}
        _ => eprintln!("chronus worker: snapshot did not fit"),
    }
    slot.set_busy_until(0);
    slot.beat(crate::rt::monotonic_ns());
}

fn limit_realtime_cpu() {
    let soft = crate::rt::WORKER_RTTIME_US;
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: soft + soft / 5,
    };
    // SAFETY: setrlimit with a valid rlimit, on this process only. Lowering a limit needs no
    // privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &limit) } != 0 {
        eprintln!(
            "chronus worker: RLIMIT_RTTIME not set ({})",
            std::io::Error::last_os_error()
        );
    }
}

/// An injected runaway: spins at the worker's real-time priority, as a render loop that never
/// returns would (the supervisor, above it, or the kernel's RLIMIT_RTTIME ends it).
fn spin(slot: &Slot, generation: u32) {
    while slot.generation() == generation && !slot.stop_requested() {
        std::hint::spin_loop();
    }
}

fn hang(slot: &Slot, generation: u32) {
    crate::rt::drop_realtime();
    while slot.generation() == generation && !slot.stop_requested() {
        std::hint::spin_loop();
    }
}

fn busy_for(d: std::time::Duration) {
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end {
        std::hint::spin_loop();
    }
}
