//! Hitless failover, with real processes and real signals: whatever happens to one worker,
//! the recorded output is bit-identical to a fault-free offline render of the same phrase.

mod common;

use chronus_engine::{InjectedFault, WorkerMode};
use common::*;
use std::time::Duration;

const SECONDS: f64 = 6.0;

fn blocks() -> u64 {
    (SECONDS * SR / BLOCK as f64) as u64
}

fn check(
    name: &str,
    recorded: &[f32],
    metrics: &chronus_engine::MetricsSnapshot,
    commands: &[chronus_engine::Command],
) {
    let expected = reference(commands, blocks());
    println!("{name}: {metrics:?}");
    assert_eq!(metrics.underruns, 0, "{name}: underruns");
    assert_eq!(metrics.lost_samples, 0, "{name}: lost samples");
    // Every replacement rendered exactly what the survivor rendered, from its first block on:
    // the output compares the two slots' blocks whenever both have one.
    assert_eq!(
        metrics.faults_diverged, 0,
        "{name}: a resynced worker diverged"
    );
    assert!(
        recorded.iter().any(|&x| x.abs() > 0.1),
        "{name}: the phrase is audible"
    );
    if let Some(i) = first_difference(recorded, &expected) {
        panic!(
            "{name}: output differs from the fault-free render at sample {i} (block {})",
            i / BLOCK
        );
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sending a signal to a worker process this test's engine started.
    let r = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(r, 0, "kill({pid}, {sig})");
}

#[test]
fn no_faults_matches_offline_render() {
    let commands = phrase(SECONDS);
    let (rec, m) = play(
        WorkerMode::Process,
        &commands,
        blocks(),
        "clean.wav",
        |_| {},
    );
    check("clean", &rec, &m, &commands);
    assert_eq!(m.respawns, 0);
    assert!(
        m.verified_blocks > blocks() * 9 / 10,
        "both workers cross-checked: {}",
        m.verified_blocks
    );
}

#[test]
fn sigkill_the_active_worker_20_times() {
    let commands = phrase(SECONDS);
    let mut rng = Rng::from_clock();
    let (rec, m) = play(
        WorkerMode::Process,
        &commands,
        blocks(),
        "sigkill.wav",
        |engine| {
            for _ in 0..20 {
                wait_both_online(engine);
                std::thread::sleep(Duration::from_micros(rng.range(20_000, 180_000)));
                let active = engine.active_slot();
                signal(
                    engine.worker_pid(active).expect("process worker"),
                    libc::SIGKILL,
                );
            }
            wait_both_online(engine);
        },
    );
    check("sigkill", &rec, &m, &commands);
    assert!(
        m.faults_death >= 20 && m.respawns >= 20 && m.failovers >= 20,
        "{m:?}"
    );
}

#[test]
fn sigstop_stalls_the_active_worker() {
    let commands = phrase(SECONDS);
    let mut rng = Rng::from_clock();
    let (rec, m) = play(
        WorkerMode::Process,
        &commands,
        blocks(),
        "sigstop.wav",
        |engine| {
            for _ in 0..8 {
                wait_both_online(engine);
                std::thread::sleep(Duration::from_micros(rng.range(50_000, 250_000)));
                let active = engine.active_slot();
                signal(
                    engine.worker_pid(active).expect("process worker"),
                    libc::SIGSTOP,
                );
            }
            wait_both_online(engine);
        },
    );
    check("sigstop", &rec, &m, &commands);
    assert!(m.faults_stall >= 8, "{m:?}");
}

/// Injects `fault` four times into the active worker and checks the output is untouched.
fn injected(fault: InjectedFault, mode: WorkerMode) {
    let commands = phrase(3.0);
    let blocks = (3.0 * SR / BLOCK as f64) as u64;
    let file = format!("{fault:?}-{mode:?}.wav");
    let (rec, m) = play(mode, &commands, blocks, &file, |engine| {
        for _ in 0..4 {
            wait_both_online(engine);
            std::thread::sleep(Duration::from_millis(150));
            engine.inject(engine.active_slot(), fault).unwrap();
        }
        wait_both_online(engine);
    });
    let expected = reference(&commands, blocks);
    println!("{fault:?} {mode:?}: {m:?}");
    assert_eq!((m.underruns, m.lost_samples), (0, 0), "{fault:?} {mode:?}");
    assert!(
        m.respawns >= 4 && m.faults() >= 4,
        "{fault:?} {mode:?}: {m:?}"
    );
    assert_eq!(
        m.faults_diverged, 0,
        "{fault:?} {mode:?}: a resynced worker diverged"
    );
    assert_eq!(
        first_difference(&rec, &expected),
        None,
        "{fault:?} {mode:?}: output differs"
    );
}

#[test]
fn injected_panic_in_a_process_worker() {
    injected(InjectedFault::Panic, WorkerMode::Process);
}

#[test]
fn injected_panic_in_a_thread_worker() {
    injected(InjectedFault::Panic, WorkerMode::Thread);
}

#[test]
fn injected_nan_in_a_process_worker() {
    injected(InjectedFault::Nan, WorkerMode::Process);
}

#[test]
fn injected_nan_in_a_thread_worker() {
    injected(InjectedFault::Nan, WorkerMode::Thread);
}

#[test]
fn injected_hang_in_a_process_worker() {
    injected(InjectedFault::Hang, WorkerMode::Process);
}

#[test]
fn injected_hang_in_a_thread_worker() {
    injected(InjectedFault::Hang, WorkerMode::Thread);
}
