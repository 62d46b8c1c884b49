//! Engine lifecycle: clean shutdown (no processes, no shared memory left), no spurious
//! respawns under full control load, and an allocation-free output path.

mod common;

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use chronus_engine::{Action, Engine, WorkerMode};
use common::*;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

fn memfd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().contains("chronus-slot"))
        .count()
}

fn is_running(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still have one.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn shutdown_leaves_no_process_and_no_shared_memory() {
    let (engine, output) = Engine::start(config(WorkerMode::Process)).unwrap();
    let pids: Vec<u32> = (0..2).map(|i| engine.worker_pid(i).unwrap()).collect();
    assert!(pids.iter().all(|&p| is_running(p)));
    assert_eq!(memfd_count(), 2, "two slots mapped");
    engine.shutdown();
    drop(output);
    for p in pids {
        assert!(!is_running(p), "worker {p} still exists after shutdown");
    }
    assert_eq!(memfd_count(), 0, "shared memory released");
}

#[test]
fn the_output_path_does_not_allocate() {
    let (engine, mut output) = Engine::start(config(WorkerMode::Thread)).unwrap();
    let mut buf = [0.0f32; BLOCK];
    // Let the workers get ahead, then play blocks at the rate they come (no clock needed:
    // we only play blocks both have rendered, and count allocations while doing it).
    reset_violation_count();
    let mut played = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while played < 500 && Instant::now() < deadline {
        let ready =
            (0..2).all(|i| engine.worker_stats(i).unwrap().next_block > output.next_block());
        if ready {
            assert_no_alloc(|| output.render(&mut buf));
            played += 1;
        } else {
            std::thread::yield_now();
        }
    }
    assert_eq!(played, 500);
    assert_eq!(violation_count(), 0, "Output::render allocated");
    assert_eq!(engine.metrics().underruns, 0);
    engine.shutdown();
}

#[test]
fn no_spurious_respawn_under_full_control_load() {
    // 60 s of the null backend while one thread sends commands as fast as the rings take them.
    let seconds = 60.0;
    let blocks = (seconds * SR / BLOCK as f64) as u64;
    let mut sent = 0u64;
    let mut refused = 0u64;
    let (_, m) = play(WorkerMode::Process, &[], blocks, "load.wav", |engine| {
        let sine = engine
            .resolve("/mod/sine/freq", &[chronus_engine::Arg::Float(1.0)])
            .unwrap();
        let Action::Set { module, param, .. } = sine else {
            panic!("a set")
        };
        let end = Instant::now() + Duration::from_secs_f64(seconds - 1.0);
        let mut f = 200.0f32;
        while Instant::now() < end {
            f = if f > 2000.0 { 200.0 } else { f * 1.001 };
            match engine.send(Action::Set {
                module,
                param,
                value: f,
            }) {
                Ok(_) => sent += 1,
                Err(_) => {
                    refused += 1;
                    std::thread::yield_now();
                }
            }
        }
    });
    println!("sent {sent} commands ({refused} refused while a ring was full): {m:?}");
    assert!(sent > 100_000, "the load was real: {sent} commands");
    assert_eq!(m.respawns, 0, "respawns without a fault: {m:?}");
    assert_eq!(m.faults(), 0, "{m:?}");
    assert_eq!(m.underruns, 0, "{m:?}");
}
