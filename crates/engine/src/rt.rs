//! Real-time scheduling and clocks.

/// SCHED_FIFO priority of worker threads and processes.
pub(crate) const WORKER_PRIORITY: i32 = 60;
/// SCHED_FIFO priority of the supervisor thread (it sleeps in `poll` almost always). Below the
/// workers: the work of a replacement (spawning, copying snapshots) must never delay a
/// survivor's blocks (the soak saw underruns with the supervisor above them). Workers that
/// spin at their priority are stopped by the kernel instead ([`WORKER_RTTIME_US`]).
pub(crate) const SUPERVISOR_PRIORITY: i32 = 40;
/// CPU time a worker process may use at real-time priority without once blocking
/// (`RLIMIT_RTTIME`, microseconds): past it the kernel kills the runaway itself. A healthy
/// worker blocks after every block it renders (well under a millisecond).
pub(crate) const WORKER_RTTIME_US: u64 = 500_000;
/// How long a worker may be silent on a job it announced between blocks (a snapshot of a big
/// patch, a patch edit) before it counts as stalled.
pub(crate) const BUSY_ALLOWANCE_NS: u64 = 250_000_000;
/// SCHED_FIFO priority of the null backend's clock thread.
pub(crate) const OUTPUT_PRIORITY: i32 = 70;
/// SCHED_FIFO priority of the sealer thread (it seals a block at each mid-period): below the
/// output, above the workers, which wait for its seals.
pub(crate) const SEALER_PRIORITY: i32 = 65;
/// Real-time priority of a thread that stamps timed input and sends it on (MIDI in): below
/// the supervisor and the workers, above everything at normal priority, so that a busy
/// machine does not make its events late.
pub const INPUT_PRIORITY: i32 = 30;

/// Asks for SCHED_FIFO at `priority` for the calling thread; returns whether it was granted.
/// Without the privilege (not root, no rtprio limit) chronus runs at normal priority.
pub fn try_realtime(priority: i32) -> bool {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: pthread_self is always valid; `param` is a valid sched_param.
    let granted =
        unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) == 0 };
    // Once per thread, before its loop (never in the audio path). A worker process has no
    // log subscriber, so this line costs it nothing.
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("a thread");
    if granted {
        tracing::debug!("{name}: real-time (SCHED_FIFO {priority})");
    } else {
        tracing::debug!(
            "{name}: normal priority (SCHED_FIFO {priority} refused: needs root or an rtprio limit)"
        );
    }
    granted
}

/// Returns the calling thread to normal scheduling.
pub(crate) fn drop_realtime() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: as above.
    unsafe {
        libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_OTHER, &param);
    }
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` (absolute, so no drift accumulates;
/// see [`monotonic_ns`]).
pub fn sleep_until(deadline_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: valid timespec; TIMER_ABSTIME on CLOCK_MONOTONIC. Interrupted sleeps return early
    // and the caller's loop sleeps again.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        );
    }
}
