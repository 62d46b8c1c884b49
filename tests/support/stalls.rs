//! Machine stalls, measured beside a timing-sensitive test, so that a failure the machine
//! caused is told apart from one chronus caused.
//!
//! The machines these tests run on are shared virtual machines: now and then the hypervisor
//! does not run a virtual CPU for several milliseconds, whatever runs on it and at whatever
//! priority. chronus's real-time threads cannot render through that, and a test that asserts
//! "no block lost" fails for a reason outside chronus. [`StallWatch`] measures it: on every CPU
//! the test may use, a thread pinned to that CPU at a real-time priority above every chronus
//! thread wakes each millisecond and notes how late it woke. chronus's own load cannot make it
//! late (it outranks chronus); only the machine can.
//!
//! [`again_if_the_machine_stalled`] runs a test's body and, if it fails *and* the machine
//! stalled during it, runs it again (three attempts at most). A failure on a machine that did
//! not stall, or on the third attempt, is the test's failure as it stands: no bound is eased.
//! This file is shared by the end-to-end tests and the engine's (`#[path]`).
#![allow(dead_code)]

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;

/// How often a watcher wakes: a stall is seen up to this much shorter than it was (its
/// watcher's deadline fell that far into it).
const PERIOD_NS: u64 = 500_000;

/// A wake-up this late (or later) counts as a stall: one that can cost a block. With the seal
/// three quarters of a period after the tick (`chronus run`'s default), a worker has 2¼
/// periods for a block at the default lookahead of two: 3.0 ms at 64 frames and 48 kHz, less
/// its render time and its wake-up; a stall seen 2 ms late was up to 2.5 ms long. A real-time
/// thread on a CPU the machine runs wakes within tens of microseconds.
pub const STALL_NS: u64 = 2_000_000;

/// Above chronus's own real-time threads (output 70, workers 60), below the kernel's
/// migration threads (99).
const PRIORITY: i32 = 90;

/// What the watchers saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stalls {
    /// The latest wake-up, in nanoseconds past its deadline, on any CPU.
    pub worst_ns: u64,
    /// The CPU it was on.
    pub cpu: usize,
    /// Wake-ups at least [`STALL_NS`] late, over all CPUs.
    pub count: u64,
    /// Whether the watchers ran at real-time priority (root or an rtprio limit); without it
    /// they measure ordinary scheduling too and prove nothing.
    pub realtime: bool,
}

impl Stalls {
    /// Whether the machine stalled: a watcher at real-time priority woke [`STALL_NS`] late.
    pub fn stalled(&self) -> bool {
        self.realtime && self.count > 0
    }
}

impl std::fmt::Display for Stalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} machine stall(s) of {} ms or more, the longest {:.1} ms on CPU {}{}",
            self.count,
            STALL_NS / 1_000_000,
            self.worst_ns as f64 / 1e6,
            self.cpu,
            if self.realtime {
                ""
            } else {
                " (watchers at normal priority: not evidence)"
            }
        )
    }
}

/// One watcher a CPU, from [`StallWatch::start`] to [`StallWatch::stop`].
pub struct StallWatch {
    stop: Arc<AtomicBool>,
    threads: Vec<(usize, JoinHandle<Watched>)>,
}

/// One watcher's findings.
struct Watched {
    worst_ns: u64,
    count: u64,
    realtime: bool,
}

impl StallWatch {
    /// Starts a watcher on each CPU this process may run on.
    pub fn start() -> StallWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = allowed_cpus()
            .into_iter()
            .map(|cpu| {
                let (stop, started) = (stop.clone(), started.clone());
                let handle = std::thread::Builder::new()
                    .name(format!("stall-watch-{cpu}"))
                    .spawn(move || watch(cpu, &stop, &started))
                    .expect("a stall watcher thread");
                (cpu, handle)
            })
            .collect();
        // Measuring from when every watcher is in place.
        while started.load(Relaxed) < threads.len() as u64 {
            std::thread::yield_now();
        }
        StallWatch { stop, threads }
    }

    /// Stops the watchers and says what they saw.
    pub fn stop(self) -> Stalls {
        self.stop.store(true, Relaxed);
        let mut seen = Stalls {
            realtime: true,
            ..Stalls::default()
        };
        for (cpu, handle) in self.threads {
            let watched = handle.join().expect("a stall watcher");
            if watched.worst_ns >= seen.worst_ns {
                (seen.worst_ns, seen.cpu) = (watched.worst_ns, cpu);
            }
            seen.count += watched.count;
            seen.realtime &= watched.realtime;
        }
        seen
    }
}

/// The CPUs in this process's affinity mask.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity fills it for this process.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let ok = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) } == 0;
    assert!(ok, "sched_getaffinity: {}", std::io::Error::last_os_error());
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, the set's size.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Pins the calling thread to `cpu` and asks for SCHED_FIFO at `priority`; whether both were
/// granted.
fn pin_realtime(cpu: usize, priority: i32) -> bool {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET adds `cpu` (< CPU_SETSIZE).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pins the calling thread (0) to the set, of the size passed.
    let pinned = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) } == 0;
    pinned && chronus_engine::rt::try_realtime(priority)
}

/// A watcher's loop: pinned to `cpu`, at real-time priority if allowed.
fn watch(cpu: usize, stop: &AtomicBool, started: &AtomicU64) -> Watched {
    let realtime = pin_realtime(cpu, PRIORITY);
    started.fetch_add(1, Relaxed);
    let (mut worst, mut count) = (0u64, 0u64);
    let mut deadline = now_ns();
    while !stop.load(Relaxed) {
        deadline += PERIOD_NS;
        // (An interrupted sleep only makes this wake-up early, which measures nothing.)
        chronus_engine::rt::sleep_until(deadline);
        let late = now_ns().saturating_sub(deadline);
        worst = worst.max(late);
        if late >= STALL_NS {
            count += 1;
            // From now on, not a burst of catch-up wake-ups each counted late.
            deadline = now_ns();
        }
    }
    Watched {
        worst_ns: worst,
        count,
        realtime,
    }
}

fn now_ns() -> u64 {
    chronus_engine::rt::monotonic_ns()
}

/// Runs `body` with a [`StallWatch`] beside it; if it fails while the machine stalled, runs it
/// again, three attempts at most. A failure without a stall, or the third, stands (and says
/// what the watchers saw).
pub fn again_if_the_machine_stalled(body: impl Fn()) {
    again_if_the_machine_stalled_for(STALL_NS, body);
}

/// [`again_if_the_machine_stalled`], where only a stall of `least_ns` or more counts: for a
/// long test (the soak), whose minute nearly always holds a few short stalls, the stall that
/// can cost a block is one longer than its lookahead.
pub fn again_if_the_machine_stalled_for(least_ns: u64, body: impl Fn()) {
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        let watch = StallWatch::start();
        let result = catch_unwind(AssertUnwindSafe(&body));
        let stalls = watch.stop();
        match result {
            Ok(()) => {
                println!("attempt {attempt} passed; {stalls}");
                return;
            }
            Err(_) if stalls.stalled() && stalls.worst_ns >= least_ns && attempt < ATTEMPTS => {
                end_children();
                let line = format!("attempt {attempt} failed during {stalls}: again");
                println!("{line}");
                log_retry(&line);
            }
            Err(panic) => {
                end_children();
                eprintln!("attempt {attempt} failed; during it: {stalls}");
                resume_unwind(panic);
            }
        }
    }
}

/// The child processes of `parent` (chronus's workers, or a test's chronus), by pid.
pub fn children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the command name (which may hold spaces): state, ppid, …
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let ppid: Option<u32> = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}

/// Ends what a failed attempt left running: this process's child processes (a chronus it
/// started, perhaps stopped by a SIGSTOP, still holding its port), so that the next attempt,
/// or the next test, starts clean: SIGCONT, SIGKILL, then reaped.
fn end_children() {
    for pid in children(std::process::id()) {
        let pid = pid as i32;
        // SAFETY: signals to, and a wait for, a child of this test process.
        unsafe {
            libc::kill(pid, libc::SIGCONT);
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Adds `line`, with the test's name, to the file `CHRONUS_STALL_LOG` names (`scripts/test.sh`
/// sets it and shows the file at the end of the run): a test run again is never silent.
fn log_retry(line: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os("CHRONUS_STALL_LOG") else {
        return;
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{test}: {line}");
    }
}

/// Takes CPU `cpu` from every thread below priority 95 for `ms` milliseconds (a busy loop
/// pinned there at SCHED_FIFO 95): a machine stall made on purpose, for the watch's own test.
/// Returns false (doing nothing) without the right to real-time priority.
pub fn take_a_cpu(cpu: usize, ms: u64) -> bool {
    std::thread::spawn(move || {
        if !pin_realtime(cpu, 95) {
            return false;
        }
        let until = now_ns() + ms * 1_000_000;
        while now_ns() < until {
            std::hint::spin_loop();
        }
        true
    })
    .join()
    .expect("the CPU taker")
}
