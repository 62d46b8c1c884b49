//! Starting, watching and stopping workers (processes or threads).

use crate::slot::Slot;
use crate::worker::{self, Start, SLOT_FD, WORKER_ARG};
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

/// Starts a worker process running `exe WORKER_ARG <start>` with the slot's memfd as fd 3,
/// an empty environment and no other inherited descriptors.
pub(crate) fn spawn_process(exe: &Path, slot: &Slot, start: Start) -> io::Result<WorkerHandle> {
    let fd = slot.raw_fd();
    let mut cmd = Command::new(exe);
    cmd.arg(WORKER_ARG)
        .arg(match start {
            Start::Fresh => "fresh",
            Start::Snapshot => "snapshot",
        })
        .env_clear()
        .stdin(Stdio::null());
    // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, SLOT_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            // dup2 clears close-on-exec on the new fd; when fd == SLOT_FD it does not.
            let flags = libc::fcntl(SLOT_FD, libc::F_GETFD);
            if flags < 0 || libc::fcntl(SLOT_FD, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
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

/// Starts a worker thread on the slot. A panic is caught and reported in the slot's status.
pub(crate) fn spawn_thread(slot: &Slot, start: Start) -> io::Result<WorkerHandle> {
    let slot = slot.clone();
    let generation = slot.generation();
    let join = std::thread::Builder::new()
        .name("chronus-worker".into())
        .spawn(move || {
            crate::rt::try_realtime(crate::rt::WORKER_PRIORITY);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                worker::run(&slot, start, generation)
            }));
            if run.is_err() && slot.generation() == generation {
                slot.set_status(crate::slot::WorkerStatus::Panicked);
            }
        })?;
    Ok(WorkerHandle::Thread { join })
}
