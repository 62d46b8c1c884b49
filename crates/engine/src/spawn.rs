//! Starting, watching and stopping workers (processes or threads).

use crate::slot::Slot;
use crate::worker::{self, Start, WORKER_ARG};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// A running worker.
#[derive(Debug)]
pub(crate) enum WorkerHandle {
    /// A child process and a pidfd that becomes readable when it exits.
    Process { child: Child, pidfd: OwnedFd },
    /// A thread.
    Thread { join: JoinHandle<()> },
}

impl WorkerHandle {
    /// Process id (processes only).
    pub(crate) fn pid(&self) -> Option<u32> {
        match self {
            WorkerHandle::Process { child, .. } => Some(child.id()),
            WorkerHandle::Thread { .. } => None,
        }
    }

    /// The pidfd to poll (processes only).
    pub(crate) fn pidfd(&self) -> Option<i32> {
        match self {
            WorkerHandle::Process { pidfd, .. } => Some(pidfd.as_raw_fd()),
            WorkerHandle::Thread { .. } => None,
        }
    }

    /// True once the worker has ended (a process exited, a thread returned or panicked).
    pub(crate) fn has_ended(&mut self) -> bool {
        match self {
            WorkerHandle::Process { child, .. } => !matches!(child.try_wait(), Ok(None)),
            WorkerHandle::Thread { join } => join.is_finished(),
        }
    }

    /// Whether the worker process was ended from outside (SIGKILL, SIGTERM or SIGINT: the OOM
    /// killer, a user, a test) rather than by a fault of its own (a crash signal, an exit).
    /// False while it runs, and for threads.
    pub(crate) fn killed_from_outside(&mut self) -> bool {
        use std::os::unix::process::ExitStatusExt;
        match self {
            WorkerHandle::Process { child, .. } => child
                .try_wait()
                .ok()
                .flatten()
                .and_then(|status| status.signal())
                .is_some_and(|sig| [libc::SIGKILL, libc::SIGTERM, libc::SIGINT].contains(&sig)),
            WorkerHandle::Thread { .. } => false,
        }
    }

    /// Ends the worker now: SIGKILL and reap a process; a thread is left to notice that its
    /// slot has a new generation (it cannot be killed) and is detached.
    pub(crate) fn kill(self) {
        match self {
            WorkerHandle::Process { mut child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            WorkerHandle::Thread { join } => drop(join),
        }
    }

    /// Waits for a worker that was asked to stop; kills a process that does not stop in time.
    pub(crate) fn stop(self, timeout: std::time::Duration) {
        match self {
            WorkerHandle::Process { mut child, pidfd } => {
                // The pidfd becomes readable when the process exits.
                let mut pfd = libc::pollfd {
                    fd: pidfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let ready = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
                if ready != 1 {
                    let _ = child.kill();
                }
                let _ = child.wait();
            }
            WorkerHandle::Thread { join } => {
                let _ = join.join();
            }
        }
    }
}

/// The executable that worker processes run, opened once when the engine starts.
///
/// Workers are started through the host's descriptor of it (`/proc/<host>/fd/<n>`, what
/// `fexecve` does), not by its path: when the file on disk is replaced or removed (an upgrade,
/// `make install`, `cargo build`), the replacement worker still runs the very build that the
/// host and the surviving worker run.
#[derive(Debug)]
pub(crate) struct Executable {
    fd: OwnedFd,
}

impl Executable {
    /// Opens `path`, or this process's own executable when `None`.
    pub(crate) fn open(path: Option<&Path>) -> io::Result<Executable> {
        let file = std::fs::File::open(path.unwrap_or(Path::new("/proc/self/exe")))?; // O_CLOEXEC
        Ok(Executable { fd: file.into() })
    }

    /// The path a child execs: the host's descriptor, through /proc.
    fn exec_path(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.fd.as_raw_fd()
        ))
    }
}

/// Serializes spawns: each clears close-on-exec on its own slot's memfd for the moment of the
/// spawn, so that no other child inherits it.
static SPAWN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts a worker process running `exe WORKER_ARG <start> <fd> <host pid> <twin fd>`,
/// inheriting the slot's memfd and its twin's (which the worker maps read only, see
/// [`crate::slot::Twin`])
/// (and nothing else of ours: every other descriptor is close-on-exec) with an empty environment.
///
/// No `pre_exec` hook, so std spawns with `posix_spawn` (vfork-style): the parent's page tables
/// are not copied, and the real-time output thread in this process is not stalled on page
/// faults while a worker starts, as it can be behind a `fork` of a large process.
pub(crate) fn spawn_process(
    exe: &Executable,
    slot: &Slot,
    twin: &Slot,
    start: Start,
) -> io::Result<WorkerHandle> {
    let fd = slot.raw_fd();
    let twin_fd = twin.raw_fd();
    let mut cmd = Command::new(exe.exec_path());
    cmd.arg(WORKER_ARG)
        .arg(match start {
            Start::Fresh => "fresh",
            Start::Snapshot => "snapshot",
        })
        .arg(fd.to_string())
        .arg(std::process::id().to_string())
        .arg(twin_fd.to_string())
        .env_clear()
        .stdin(Stdio::null())
        // A process group of its own (set by posix_spawn itself, no pre_exec): Ctrl-C in a
        // terminal or tmux, or `timeout`, signals the foreground group, which is the host's
        // alone; the host stops its workers in order.
        .process_group(0);
    let _turn = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    set_cloexec(fd, false)?;
    if let Err(e) = set_cloexec(twin_fd, false) {
        set_cloexec(fd, true)?;
        return Err(e);
    }
    let spawned = cmd.spawn();
    set_cloexec(fd, true)?;
    set_cloexec(twin_fd, true)?;
    let child = spawned?;
    // SAFETY: pidfd_open on our own child's pid; the child cannot be reaped before we wait on
    // it, so the pid cannot be reused meanwhile.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) } as i32;
    if raw < 0 {
        let err = io::Error::last_os_error();
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        return Err(err);
    }
    // SAFETY: a fresh fd returned by pidfd_open.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
    Ok(WorkerHandle::Process { child, pidfd })
}

fn set_cloexec(fd: i32, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD on a descriptor this process owns (the slot's memfd).
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        let new = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, new) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts a worker thread on the slot. A panic is caught and reported in the slot's status.
pub(crate) fn spawn_thread(slot: &Slot, twin: &Slot, start: Start) -> io::Result<WorkerHandle> {
    let slot = slot.clone();
    // The twin's slot seen read only, as a worker process sees it.
    let twin = crate::slot::Twin::open(twin.dup_fd()?)?;
    let generation = slot.generation();
    let join = std::thread::Builder::new()
        .name("chronus-worker".into())
        .spawn(move || {
            crate::rt::try_realtime(crate::rt::WORKER_PRIORITY);
            crate::failure_mark::arm_thread(&slot);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                worker::run(
                    &slot,
                    Some(&twin),
                    start,
                    generation,
                    worker::Snapshots::Inline,
                )
            }));
            if run.is_err() && slot.generation() == generation {
                slot.mark_failing();
                slot.set_status(crate::slot::WorkerStatus::Panicked);
            }
        })?;
    Ok(WorkerHandle::Thread { join })
}

/// The workers of a start in progress: those still held when it is dropped are killed and
/// reaped, so no worker outlives a start that failed at any step.
#[derive(Default)]
pub(crate) struct Starting(pub(crate) [Option<WorkerHandle>; 2]);

impl Drop for Starting {
    fn drop(&mut self) {
        for h in self.0.iter_mut().filter_map(Option::take) {
            h.kill();
        }
    }
}
