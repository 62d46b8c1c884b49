//! A worker process marks, on its way down, the block it was rendering when it crashed
//! (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) or panicked (a worker thread marks its panics too). The output reads the mark at its
//! next block and keeps that block's commands from the other worker (poison containment, see
//! `Output::release`) without waiting for the supervisor to see the death.

use crate::slot::Slot;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};

/// The armed slot's `rendering` and `failing` words (null: not armed).
static RENDERING: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());
static FAILING: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

/// The signals of a crash.
const CRASHES: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGABRT,
];

/// Arms the marks for `slot`, in a worker process, before it renders: a panic hook (which
/// then runs the default one) and a handler for each crash signal (which marks, then dies of
/// the signal as before). The slot must stay mapped until [`disarm`].
pub(crate) fn arm(slot: &Slot) {
    point_at(slot);
    install_panic_hook();
    handle_crash_signals();
}

std::thread_local! {
    /// A worker thread's slot (thread workers): its panic is marked there.
    static THREAD_SLOT: std::cell::RefCell<Option<Slot>> = const { std::cell::RefCell::new(None) };
}

/// Arms the panic mark for a worker thread on `slot` (a thread cannot crash alone: a crash
/// signal ends the whole process). Call on the worker thread before it renders.
pub(crate) fn arm_thread(slot: &Slot) {
    THREAD_SLOT.with(|s| *s.borrow_mut() = Some(slot.clone()));
    install_panic_hook();
}

/// The process's panic hook marks first, then does what the hook before it did (once per
/// process).
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = THREAD_SLOT
                .try_with(|s| s.borrow().as_ref().map(Slot::mark_failing).is_some())
                .unwrap_or(false);
            if !thread {
                mark();
            }
            before(info);
        }));
    });
}

/// Makes the marks go to `slot`.
fn point_at(slot: &Slot) {
    let (rendering, failing) = slot.failure_words();
    RENDERING.store(std::ptr::from_ref(rendering).cast_mut(), Release);
    FAILING.store(std::ptr::from_ref(failing).cast_mut(), Release);
}

/// Installs the crash signals' handler (async-signal-safe itself: it may be called in a
/// child just forked from a threaded process).
fn handle_crash_signals() {
    for sig in CRASHES {
        // SAFETY: installs a handler that does only async-signal-safe work (two atomic
        // operations, then raise). SA_RESETHAND restores the default action before it runs,
        // so the raise ends the process of the same signal as before; SA_NODEFER lets that
        // raise through at once; SA_ONSTACK runs it on the runtime's alternate stack, if
        // there is one (a stack overflow).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_crash as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Disarms the marks (before the slot is unmapped).
pub(crate) fn disarm() {
    RENDERING.store(std::ptr::null_mut(), Release);
    FAILING.store(std::ptr::null_mut(), Release);
}

fn mark() {
    let (rendering, failing) = (RENDERING.load(Acquire), FAILING.load(Acquire));
    if rendering.is_null() || failing.is_null() {
        return;
    }
    // SAFETY: both point into the slot mapping `arm` was given, which stays mapped until
    // `disarm` clears them; the words are atomics, shared by design.
    unsafe { crate::slot::mark_failing(&*rendering, &*failing) }
}

extern "C" fn on_crash(sig: libc::c_int) {
    mark();
    // SAFETY: raise is async-signal-safe; the action is the default again (SA_RESETHAND).
    unsafe {
        libc::raise(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a child process (which shares the slot's memory): marks armed, inside block 7, then
    /// `crash`. Returns the signal the child died of.
    fn crash_inside_block_7(slot: &Slot, crash: fn()) -> libc::c_int {
        // SAFETY: the child only calls async-signal-safe functions (sigaction, atomic stores,
        // the crash itself) before it dies; the parent waits for it.
        match unsafe { libc::fork() } {
            0 => {
                point_at(slot);
                handle_crash_signals();
                slot.set_rendering(Some(7));
                crash();
                // SAFETY: ends the child if the crash did not.
                unsafe { libc::_exit(0) }
            }
            pid => {
                assert!(pid > 0, "fork failed");
                let mut status = 0;
                // SAFETY: waits for the child just forked.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                assert!(libc::WIFSIGNALED(status), "the child exited: {status}");
                libc::WTERMSIG(status)
            }
        }
    }

    #[test]
    fn a_crashing_worker_marks_the_block_it_was_rendering_and_dies_of_its_signal() {
        let slot = Slot::create(48_000.0, 64, 1, 2).unwrap();
        assert_eq!(slot.failing(), None);
        let sig = crash_inside_block_7(&slot, || {
            // SAFETY: deliberately faults (SIGSEGV): the point of the test.
            unsafe { std::ptr::write_volatile(std::ptr::without_provenance_mut::<u8>(16), 1) }
        });
        assert_eq!(sig, libc::SIGSEGV);
        assert_eq!(slot.failing(), Some(7), "the segfault left its mark");
        slot.reset(0);
        assert_eq!(slot.failing(), None);
        let sig = crash_inside_block_7(&slot, || std::process::abort());
        assert_eq!(sig, libc::SIGABRT);
        assert_eq!(slot.failing(), Some(7), "the abort left its mark");
    }

    #[test]
    fn a_worker_between_blocks_leaves_no_mark() {
        let slot = Slot::create(48_000.0, 64, 1, 2).unwrap();
        // SAFETY: as above; the child raises SIGBUS outside any block.
        let sig = match unsafe { libc::fork() } {
            0 => {
                point_at(&slot);
                handle_crash_signals();
                slot.set_rendering(None);
                // SAFETY: raise is async-signal-safe; the handler re-raises to die.
                unsafe {
                    libc::raise(libc::SIGBUS);
                    libc::_exit(0)
                }
            }
            pid => {
                let mut status = 0;
                // SAFETY: waits for the child just forked.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                libc::WTERMSIG(status)
            }
        };
        assert_eq!(sig, libc::SIGBUS, "it still dies of the signal");
        assert_eq!(slot.failing(), None);
    }
}
