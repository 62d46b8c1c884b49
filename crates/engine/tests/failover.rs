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

/// Sends `sig` to the worker in `slot` if both workers are online: a worker the machine's
/// hiccups made the supervisor replace since the test last looked is left alone (a signal to
/// it would hit a dying process, or a replacement still being brought in sync, and test the
/// test's timing rather than failover). Returns whether the signal was sent.
fn signal_online(engine: &chronus_engine::Engine, slot: usize, sig: i32) -> bool {
    let Some(pid) = engine.worker_pid(slot) else {
        return false;
    };
    if !engine.both_online() {
        return false;
    }
    // SAFETY: sending a signal to a worker process this test's engine started.
    let r = unsafe { libc::kill(pid as i32, sig) };
    let gone = std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    assert!(r == 0 || gone, "kill({pid}, {sig}) failed");
    r == 0
}

#[test]
fn no_faults_matches_offline_render() {
    retried_when_the_clock_was_late(|| {
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
    });
}

/// Sends `sig` to the active worker `times` times, a random `pause` (µs) apart, while the
/// phrase plays; the output must be untouched. Returns the metrics.
fn signal_the_active_worker(
    name: &str,
    sig: i32,
    times: u32,
    pause: (u64, u64),
) -> chronus_engine::MetricsSnapshot {
    let commands = phrase(SECONDS);
    let mut rng = Rng::from_clock();
    let file = format!("{name}.wav");
    let (rec, m) = play(WorkerMode::Process, &commands, blocks(), &file, |engine| {
        let mut sent = 0;
        while sent < times {
            wait_both_online(engine);
            std::thread::sleep(Duration::from_micros(rng.range(pause.0, pause.1)));
            sent += u32::from(signal_online(engine, engine.active_slot(), sig));
        }
        wait_both_online(engine);
    });
    check(name, &rec, &m, &commands);
    m
}

#[test]
fn sigkill_the_active_worker_20_times() {
    retried_when_the_clock_was_late(|| {
        let m = signal_the_active_worker("sigkill", libc::SIGKILL, 20, (20_000, 180_000));
        assert!(
            m.faults_death >= 20 && m.respawns >= 20 && m.failovers >= 20,
            "{m:?}"
        );
    });
}

/// A replacement holds the blocks its survivor rendered before the snapshot it was started
/// from (copied: they are its own, to the bit), so it is online as soon as it has caught up.
/// Killing the survivor the moment the replacement is online, ten times, leaves the output
/// untouched: the replacement plays those blocks.
#[test]
fn the_survivor_killed_the_moment_its_replacement_is_online_loses_nothing() {
    retried_when_the_clock_was_late(|| {
        let commands = phrase(SECONDS);
        let (rec, m) = play(
            WorkerMode::Process,
            &commands,
            blocks(),
            "survivor.wav",
            |engine| {
                for _ in 0..10 {
                    wait_both_online(engine);
                    std::thread::sleep(Duration::from_millis(150));
                    let replaced = engine.active_slot();
                    let respawns = engine.metrics().respawns;
                    if !signal_online(engine, replaced, libc::SIGKILL) {
                        continue;
                    }
                    // Replaced and online again: at once, the survivor.
                    let deadline = std::time::Instant::now() + Duration::from_secs(5);
                    while engine.metrics().respawns == respawns || !engine.both_online() {
                        assert!(std::time::Instant::now() < deadline, "not replaced");
                        std::thread::sleep(Duration::from_micros(50)); // poll interval
                    }
                    if let Some(pid) = engine.worker_pid(replaced ^ 1) {
                        signal(pid, libc::SIGKILL);
                    }
                }
                wait_both_online(engine);
            },
        );
        check("survivor", &rec, &m, &commands);
        assert!(m.faults_death >= 20 && m.respawns >= 20, "{m:?}");
    });
}

#[test]
fn sigstop_stalls_the_active_worker() {
    common::stalls::again_if_the_machine_stalled(|| {
        retried_when_the_clock_was_late(|| {
            let m = signal_the_active_worker("sigstop", libc::SIGSTOP, 8, (50_000, 250_000));
            assert!(m.faults_stall >= 8, "{m:?}");
        });
    });
}

/// Poison containment makes the standby follow the active worker: it renders a block that
/// brought commands only once its leader has. With a command in every block, a leader stopped
/// between blocks holds its follower back block after block until the output fails over. The
/// follower gives up on each block when the output will need it in half the lookahead, so it
/// stays that far ahead; counted from when its wait began, it lost half of what was left at
/// each block, and the output took it over with no block to spare (a lead of 0: any hiccup of
/// the machine then was an underrun, as in the soak).
#[test]
fn a_leader_stopped_between_blocks_leaves_its_follower_half_the_lookahead() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    common::stalls::again_if_the_machine_stalled(|| {
        let mut least = Vec::new();
        let (_, m) = play_with(
            WorkerMode::Process,
            &phrase(1.0),
            Length::AtLeast(blocks()),
            "stopped-leader.wav",
            |engine| {
                let touch = engine
                    .resolve("/mod/filter/q", &[chronus_engine::Arg::Float(0.8)])
                    .unwrap();
                let done = AtomicBool::new(false);
                std::thread::scope(|s| {
                    // A command in every block (a period is 1.3 ms).
                    s.spawn(|| {
                        while !done.load(Relaxed) {
                            engine.send(touch).unwrap();
                            std::thread::sleep(Duration::from_micros(300)); // pacing
                        }
                    });
                    while least.len() < 5 {
                        wait_both_online(engine);
                        std::thread::sleep(Duration::from_millis(200));
                        let stalls = engine.metrics().faults_stall;
                        engine.take_least_lead();
                        if !signal_online(engine, engine.active_slot(), libc::SIGSTOP) {
                            continue;
                        }
                        let deadline = std::time::Instant::now() + Duration::from_secs(5);
                        while engine.metrics().faults_stall == stalls {
                            assert!(std::time::Instant::now() < deadline, "never replaced");
                            std::thread::sleep(Duration::from_millis(1)); // poll interval
                        }
                        wait_both_online(engine);
                        least.push(engine.take_least_lead().expect("blocks played"));
                    }
                    done.store(true, Relaxed);
                });
            },
        );
        println!("least lead at each stop (blocks): {least:?}; {m:?}");
        let lookahead = config(WorkerMode::Process).lookahead as u64;
        assert_eq!(m.underruns, 0, "underruns");
        assert!(
            least.iter().all(|&l| l >= lookahead / 2 - 1),
            "a stopped leader left its follower {least:?} blocks ahead of the output, of {lookahead}"
        );
    });
}

/// Injects `fault` four times into the active worker and checks the output is untouched.
fn injected(fault: InjectedFault, mode: WorkerMode) {
    retried_when_the_clock_was_late(|| {
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
    });
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
    common::stalls::again_if_the_machine_stalled(|| {
        injected(InjectedFault::Hang, WorkerMode::Thread);
    });
}

/// The faults of the matrix, each applied to a chosen worker.
#[derive(Debug, Clone, Copy)]
enum MatrixFault {
    Kill,
    Segv,
    Abort,
    Panic,
    Stop,
    Hang,
    Nan,
    Slow,
}

impl MatrixFault {
    /// Applies the fault to the worker in `slot` if both workers are online (see
    /// [`signal_online`]). Returns whether it was applied.
    fn apply(self, engine: &chronus_engine::Engine, slot: usize) -> bool {
        let signal = |sig| signal_online(engine, slot, sig);
        let inject = |fault| engine.both_online() && engine.inject(slot, fault).is_ok();
        match self {
            MatrixFault::Kill => signal(libc::SIGKILL),
            MatrixFault::Stop => signal(libc::SIGSTOP),
            MatrixFault::Segv => inject(InjectedFault::Segv),
            MatrixFault::Abort => inject(InjectedFault::Abort),
            MatrixFault::Panic => inject(InjectedFault::Panic),
            MatrixFault::Hang => inject(InjectedFault::Hang),
            MatrixFault::Nan => inject(InjectedFault::Nan),
            MatrixFault::Slow => {
                // Three times slower for a tenth of a second: late, never lost.
                engine.inject(slot, InjectedFault::Slow(3)).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                engine.inject(slot, InjectedFault::Slow(1)).unwrap();
                true
            }
        }
    }
}

/// 40 faults, alternately into the active worker and into the standby, in one run: not a
/// sample lost, the output bit-identical to the fault-free render, every fault replaced.
/// The stream plays on until the last fault is replaced (at least 4 s; the 40 faults take
/// about 2 s here): on a slow machine the faults take longer, never the stream's end.
fn matrix(fault: MatrixFault) {
    retried_when_the_clock_was_late(|| matrix_once(fault));
}

fn matrix_once(fault: MatrixFault) {
    const MATRIX_SECONDS: f64 = 4.0;
    const FAULTS: u64 = 40;
    let blocks = (MATRIX_SECONDS * SR / BLOCK as f64) as u64;
    let commands = phrase(MATRIX_SECONDS);
    let mut rng = Rng::from_clock();
    let file = format!("matrix-{fault:?}.wav");
    let mut applied = 0u64;
    let (rec, m) = play_with(
        WorkerMode::Process,
        &commands,
        Length::AtLeast(blocks),
        &file,
        |engine| {
            for k in 0.. {
                // A slow worker is late, not faulty: counted by the test alone.
                let done = match fault {
                    MatrixFault::Slow => applied,
                    _ => engine.metrics().faults(),
                };
                if done >= FAULTS {
                    break;
                }
                assert!(
                    k < 10 * FAULTS,
                    "{fault:?}: faults not taking: {:?}",
                    engine.metrics()
                );
                wait_both_online(engine);
                std::thread::sleep(Duration::from_micros(rng.range(20_000, 60_000)));
                let active = engine.active_slot();
                let target = if k % 2 == 0 { active } else { active ^ 1 };
                applied += u64::from(fault.apply(engine, target));
            }
            wait_both_online(engine);
        },
    );
    let expected = reference(&commands, (rec.len() / BLOCK) as u64);
    println!("matrix {fault:?}: {applied} applied, {m:?}");
    assert_eq!((m.underruns, m.lost_samples), (0, 0), "{fault:?}");
    assert_eq!(
        m.faults_diverged, 0,
        "{fault:?}: a resynced worker diverged"
    );
    assert_eq!(
        m.respawns_delayed, 0,
        "{fault:?}: no back-off for faults this far apart"
    );
    match fault {
        MatrixFault::Slow => assert_eq!(m.respawns, 0, "slow is late, not dead: {m:?}"),
        _ => assert!(
            m.respawns >= FAULTS && applied >= FAULTS / 2,
            "{fault:?}: {applied} applied, {m:?}"
        ),
    }
    assert_eq!(
        first_difference(&rec, &expected),
        None,
        "{fault:?}: output differs from the fault-free render"
    );
}

#[test]
fn matrix_sigkill() {
    matrix(MatrixFault::Kill);
}

#[test]
fn matrix_sigsegv() {
    matrix(MatrixFault::Segv);
}

#[test]
fn matrix_abort() {
    matrix(MatrixFault::Abort);
}

#[test]
fn matrix_panic() {
    matrix(MatrixFault::Panic);
}

#[test]
fn matrix_sigstop() {
    matrix(MatrixFault::Stop);
}

#[test]
fn matrix_hang() {
    matrix(MatrixFault::Hang);
}

#[test]
fn matrix_nan() {
    matrix(MatrixFault::Nan);
}

#[test]
fn matrix_slow_3x() {
    matrix(MatrixFault::Slow);
}

/// A worker that dies as soon as it starts, again and again: the respawns are held back (with
/// a growing delay), the other worker plays on untouched, and once the killing stops a
/// replacement comes back within the back-off cap.
#[test]
fn a_respawn_storm_is_held_back_and_the_other_worker_plays_on() {
    retried_when_the_clock_was_late(|| {
        let commands = phrase(SECONDS);
        let (rec, m) = play(
            WorkerMode::Process,
            &commands,
            blocks(),
            "storm.wav",
            |engine| {
                wait_both_online(engine);
                let victim = engine.active_slot() ^ 1;
                let (mut kills, mut last) = (0, 0);
                let until = std::time::Instant::now() + Duration::from_secs(3);
                while std::time::Instant::now() < until {
                    if let Some(pid) = engine.worker_pid(victim).filter(|&p| p != last) {
                        signal(pid, libc::SIGKILL);
                        (kills, last) = (kills + 1, pid);
                    }
                    std::thread::sleep(Duration::from_micros(200)); // poll interval
                }
                println!("storm: {kills} workers killed as they started, in 3 s");
                // Without a hold-back a replacement starts every few milliseconds (hundreds in
                // 3 s); with it, 50, 100, 200, 400, 800 ms … between tries.
                assert!(kills <= 15, "{kills} respawns in 3 s: a storm");
                let back = std::time::Instant::now();
                let deadline = back + chronus_engine::BACKOFF_CAP + Duration::from_secs(2);
                while !engine.both_online() {
                    assert!(std::time::Instant::now() < deadline, "never came back");
                    std::thread::sleep(Duration::from_millis(5)); // poll interval
                }
                println!(
                    "storm: both online again {:?} after the killing stopped",
                    back.elapsed()
                );
            },
        );
        println!("storm: {m:?}");
        assert!(m.respawns_delayed >= 3, "{m:?}");
        check("storm", &rec, &m, &commands);
    });
}

/// The default patch's envelope opened at sample 0: a steady tone (A4 at 0.35).
fn gate_on_at_0() -> chronus_engine::Command {
    let p = chronus_dsp::Patch::default_patch(SR, BLOCK).unwrap();
    chronus_engine::Command::new(
        0,
        chronus_engine::Action::Gate {
            module: p.find("adsr").unwrap(),
            on: true,
        },
    )
}

/// Both workers killed at once: the output never plays garbage, any gap is counted in samples
/// (exact zeros), both are restarted from the last checkpoint (the standby's state, taken
/// every second), so the tone comes back by itself; and the engine plays what it is told next.
/// SIGKILLs both workers at once and waits (up to 5 s) until both are back online. Returns
/// the sample the output had reached at the kill.
fn kill_both_and_wait_for_the_restart(engine: &chronus_engine::Engine) -> usize {
    let (a, b) = (engine.worker_pid(0).unwrap(), engine.worker_pid(1).unwrap());
    let at = engine.metrics().played_blocks as usize * BLOCK;
    signal(a, libc::SIGKILL);
    signal(b, libc::SIGKILL);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !engine.both_online() || engine.metrics().respawns < 2 {
        assert!(std::time::Instant::now() < deadline, "not restarted");
        std::thread::sleep(Duration::from_millis(5)); // poll interval
    }
    at
}

#[test]
fn both_workers_dying_restart_from_the_checkpoint_and_the_tone_comes_back() {
    common::stalls::again_if_the_machine_stalled(|| {
        let seconds = 4.0;
        let blocks = (seconds * SR / BLOCK as f64) as u64;
        let gate = gate_on_at_0();
        let mut killed_at = 0;
        let mut told_at = 0;
        let (rec, m) = play(WorkerMode::Process, &[gate], blocks, "both.wav", |engine| {
            wait_both_online(engine);
            // A checkpoint is taken 0.2 s in, then every second.
            std::thread::sleep(Duration::from_millis(1_500));
            killed_at = kill_both_and_wait_for_the_restart(engine);
            std::thread::sleep(Duration::from_millis(1_000)); // let the tone be heard
            told_at = engine.send(pitch(330.0)).unwrap() as usize;
        });
        println!("both: {m:?}");
        assert!(
            rec.iter().all(|x| x.is_finite() && x.abs() <= 1.0),
            "garbage in the output"
        );
        assert_eq!(
            m.lost_samples,
            m.underruns * BLOCK as u64,
            "the gap is counted"
        );
        assert!(m.respawns >= 2 && m.faults_death >= 2, "{m:?}");
        assert_eq!(
            m.faults_diverged, 0,
            "the second restart synced to the first"
        );
        // Any gap is exact zeros, as long as reported.
        let after = &rec[killed_at..];
        let longest_zeros = after
            .split(|&x| x != 0.0)
            .map(<[f32]>::len)
            .max()
            .unwrap_or(0);
        println!(
            "both: {} samples reported lost, longest run of zeros after the kill {longest_zeros}",
            m.lost_samples
        );
        assert!(longest_zeros as u64 >= m.lost_samples);
        // The tone comes back by itself (the gate and pitch were in the checkpoint or replayed).
        let back = &rec[killed_at + 9_600..told_at.min(killed_at + 43_200)];
        let f = chronus_dsp::analysis::fundamental(back, SR).expect("the tone is back");
        let level = chronus_dsp::analysis::amplitude_at(back, 440.0, SR);
        println!("both: after the restart {f:.2} Hz at {level:.3}");
        assert!(
            (f - 440.0).abs() < 0.5 && (level - 0.35).abs() < 0.02,
            "{f} Hz, {level}"
        );
        // And it plays what it is told next.
        let tail = &rec[rec.len() - 24_000..];
        let f = chronus_dsp::analysis::fundamental(tail, SR).expect("sound");
        assert!((f - 330.0).abs() < 0.5, "{f}");
    });
}

/// A double fault loses nothing but time: a change made after the last checkpoint (the pitch,
/// here) is replayed on top of it, so the tone that comes back is the one that played before.
#[test]
fn a_double_fault_replays_the_commands_since_the_checkpoint() {
    common::stalls::again_if_the_machine_stalled(|| {
        let blocks = (3.0 * SR / BLOCK as f64) as u64;
        let (mut told_at, mut killed_at) = (0, 0);
        let (rec, m) = play(
            WorkerMode::Process,
            &[gate_on_at_0()],
            blocks,
            "replay.wav",
            |engine| {
                wait_both_online(engine);
                // The first checkpoint is taken 0.2 s in, the next one 5 s later.
                std::thread::sleep(Duration::from_millis(600));
                let set = pitch(330.0);
                told_at = engine.send(set).unwrap() as usize;
                std::thread::sleep(Duration::from_millis(300));
                killed_at = kill_both_and_wait_for_the_restart(engine);
            },
        );
        println!("replay: {m:?}");
        assert!(m.faults_death >= 2 && m.replayed >= 1, "{m:?}");
        assert_eq!(m.quarantined, 0, "a kill from outside poisons nothing");
        let before = &rec[told_at + 4_800..killed_at];
        let after = &rec[killed_at + 9_600..];
        for (name, part) in [("before", before), ("after", after)] {
            let f = chronus_dsp::analysis::fundamental(part, SR).expect("a tone");
            println!("replay: {name} the double fault: {f:.2} Hz");
            assert!(
                (f - 330.0).abs() < 0.5,
                "{name}: {f} Hz (440: the change was lost)"
            );
        }
    });
}

/// 0.3 s after both workers are online, a pitch change to 330 Hz with `fault` riding on it,
/// as a poison command would; then waits (up to 5 s) for `respawns` respawns and both workers
/// online. Returns the pitch change's number and the numbers quarantined.
fn send_poison(
    engine: &chronus_engine::Engine,
    fault: InjectedFault,
    respawns: u64,
) -> (u64, Vec<u64>) {
    wait_both_online(engine);
    std::thread::sleep(Duration::from_millis(300));
    let sent = engine.send_with_fault(None, &[pitch(330.0)], Some(fault));
    let seq = sent.unwrap().first_seq;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !engine.both_online() || engine.metrics().respawns < respawns {
        assert!(
            std::time::Instant::now() < deadline,
            "not replaced: {:?}",
            engine.metrics()
        );
        std::thread::sleep(Duration::from_millis(5)); // poll interval
    }
    (seq, engine.take_quarantined())
}

/// A poison command — one that makes the worker applying it crash, panic or output NaN —
/// fails the leading worker alone: the follower renders a block only after the leader has
/// rendered it well, and passes over the commands of the block its leader failed in. Not a
/// sample is lost, the command is quarantined (reported with its number) and never takes
/// effect: the recording is bit-identical to a render without it.
fn a_poison_command_fails_the_leading_worker_alone(
    fault: InjectedFault,
    mode: WorkerMode,
    name: &str,
) {
    retried_when_the_clock_was_late(|| {
        let blocks = (2.0 * SR / BLOCK as f64) as u64;
        let mut poison_seq = 0;
        let mut quarantined = Vec::new();
        // Far enough ahead to be on time: the recording is compared with a render.
        let gate = gate_on_at_0();
        let commands = [chronus_engine::Command::new(4_800, gate.action)];
        let (rec, m) = play(
            mode,
            &commands,
            blocks,
            &format!("poison-{name}.wav"),
            |engine| (poison_seq, quarantined) = send_poison(engine, fault, 1),
        );
        println!("poison {name}: {m:?}, quarantined {quarantined:?}");
        assert_eq!(
            m.faults(),
            1,
            "{name}: the leading worker alone failed: {m:?}"
        );
        assert_eq!(m.respawns, 1, "{name}: {m:?}");
        assert_eq!((m.underruns, m.lost_samples), (0, 0), "{name}: {m:?}");
        assert_eq!(m.quarantined, 1, "{name}: {m:?}");
        assert_eq!(quarantined, [poison_seq], "{name}: the sender can be told");
        assert_eq!(
            m.faults_diverged, 0,
            "{name}: the replacement synced to the follower"
        );
        let expected = reference(&commands, blocks);
        if let Some(i) = first_difference(&rec, &expected) {
            panic!("{name}: the recording differs from a render without the poison command at sample {i}");
        }
    });
}

#[test]
fn a_poison_command_that_crashes_a_worker_fails_it_alone() {
    a_poison_command_fails_the_leading_worker_alone(
        InjectedFault::Segv,
        WorkerMode::Process,
        "crash",
    );
}

#[test]
fn a_poison_command_that_panics_a_worker_fails_it_alone() {
    a_poison_command_fails_the_leading_worker_alone(
        InjectedFault::Panic,
        WorkerMode::Process,
        "panic",
    );
}

#[test]
fn a_poison_command_that_panics_a_thread_worker_fails_it_alone() {
    a_poison_command_fails_the_leading_worker_alone(
        InjectedFault::Panic,
        WorkerMode::Thread,
        "thread-panic",
    );
}

#[test]
fn a_poison_command_that_makes_a_worker_output_nan_fails_it_alone() {
    a_poison_command_fails_the_leading_worker_alone(InjectedFault::Nan, WorkerMode::Process, "nan");
}

/// A poison command that hangs the worker applying it fails it alone too: the follower
/// waits for its leader only so long (half the lookahead), then puts the block's commands off
/// and renders it without them; the output, finding no block from the hung leader, plays the
/// follower's, and the supervisor, seeing the leader stalled in that block, quarantines them.
#[test]
fn a_poison_command_that_hangs_a_worker_fails_it_alone() {
    a_poison_command_fails_the_leading_worker_alone(
        InjectedFault::Hang,
        WorkerMode::Process,
        "hang",
    );
}

/// A leader merely late with a block is not taken for hung: here it spends 6 more block
/// periods on a block with a command in it, longer than its follower waits (half the
/// lookahead of 8) and shorter than the lookahead (the output still gets the block in time). The follower
/// puts the command off, the leader renders it after all, and the follower is resynced from
/// it: nothing is quarantined, no fault is counted, the command takes effect, not a sample
/// is lost.
#[test]
fn a_late_leader_is_not_taken_for_hung() {
    common::stalls::again_if_the_machine_stalled(|| {
        retried_when_the_clock_was_late(|| {
            let blocks = (2.0 * SR / BLOCK as f64) as u64;
            let gate = gate_on_at_0();
            let commands = [chronus_engine::Command::new(4_800, gate.action)];
            let mut quarantined = Vec::new();
            let (rec, m) = play(
                WorkerMode::Process,
                &commands,
                blocks,
                "late-leader.wav",
                |engine| {
                    wait_both_online(engine);
                    std::thread::sleep(Duration::from_millis(300));
                    engine
                        .send_with_fault(None, &[pitch(330.0)], Some(InjectedFault::Late(6)))
                        .unwrap();
                    let deadline = std::time::Instant::now() + Duration::from_secs(5);
                    while !engine.both_online() || engine.metrics().deferred < 1 {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "the follower was not resynced: {:?}",
                            engine.metrics()
                        );
                        std::thread::sleep(Duration::from_millis(5)); // poll interval
                    }
                    quarantined = engine.take_quarantined();
                },
            );
            println!("late leader: {m:?}, quarantined {quarantined:?}");
            assert_eq!(m.faults(), 0, "late is not a fault: {m:?}");
            assert_eq!((m.deferred, m.respawns), (1, 1), "{m:?}");
            assert_eq!((m.underruns, m.lost_samples), (0, 0), "{m:?}");
            assert_eq!(m.quarantined, 0, "{m:?}");
            assert!(quarantined.is_empty());
            let tail = &rec[rec.len() - 24_000..];
            let f = chronus_dsp::analysis::fundamental(tail, SR).expect("the tone plays on");
            assert!((f - 330.0).abs() < 0.5, "{f} Hz: the command took effect");
        });
    });
}

/// Two workers killed from outside (SIGKILL) while both are inside the same block are not a
/// poison: the command first applied in that block is replayed, not quarantined. (They are
/// held inside the block by a hang sent right after the command.)
#[test]
fn a_kill_from_outside_in_the_middle_of_a_block_quarantines_nothing() {
    use chronus_engine::fault::FaultTarget;
    let blocks = (2.0 * SR / BLOCK as f64) as u64;
    // The hung workers spin at normal priority beside this thread: if it is scheduled so late
    // that the supervisor sees the hang first, the case did not happen and is tried again.
    for attempt in 1..=3 {
        let mut killed = false;
        let (rec, m) = play(
            WorkerMode::Process,
            &[gate_on_at_0()],
            blocks,
            "killed-mid-block.wav",
            |engine| {
                wait_both_online(engine);
                std::thread::sleep(Duration::from_millis(300));
                let sent_at = engine.metrics().played_blocks;
                let set = pitch(330.0);
                engine.send(set).unwrap();
                // Right behind it (before any hang takes the CPU from this thread), a hang
                // aimed at both (a follower would put a hanging command off).
                engine
                    .inject_into(FaultTarget::Both, InjectedFault::Hang)
                    .unwrap();
                // The next tick seals both into one block, which both workers start at once
                // and hang in; before the hang is seen (the lookahead plus 4 blocks), kill them.
                while engine.metrics().played_blocks < sent_at + 3 {
                    std::thread::sleep(Duration::from_micros(200)); // poll interval
                }
                if engine.metrics().faults() == 0 {
                    killed = true;
                    kill_both_and_wait_for_the_restart(engine);
                } else {
                    wait_both_online(engine);
                }
            },
        );
        println!("killed mid-block, attempt {attempt}: {m:?}");
        if !killed {
            continue;
        }
        assert!(m.faults_death >= 2, "{m:?}");
        assert_eq!(
            m.quarantined, 0,
            "a kill from outside is not a poison: {m:?}"
        );
        let tail = &rec[rec.len() - 24_000..];
        let f = chronus_dsp::analysis::fundamental(tail, SR).expect("the tone plays on");
        assert!((f - 330.0).abs() < 0.5, "{f} Hz: the command was replayed");
        return;
    }
    panic!("the supervisor saw the hang before the kill in 3 attempts: this thread ran too late");
}

/// Both workers killed together, 20 times, 150–350 ms apart: never garbage, every gap counted
/// as exact zeros, every restart back online in sync, and the tone still there at the end.
#[test]
fn both_workers_killed_together_20_times() {
    common::stalls::again_if_the_machine_stalled(|| {
        let seconds = 9.0;
        let blocks = (seconds * SR / BLOCK as f64) as u64;
        let gate = gate_on_at_0();
        let mut rng = Rng::from_clock();
        let (rec, m) = play(
            WorkerMode::Process,
            &[gate],
            blocks,
            "both20.wav",
            |engine| {
                wait_both_online(engine);
                std::thread::sleep(Duration::from_millis(300)); // the first checkpoint
                for _ in 0..20 {
                    let (a, b) = (engine.worker_pid(0).unwrap(), engine.worker_pid(1).unwrap());
                    signal(a, libc::SIGKILL);
                    signal(b, libc::SIGKILL);
                    // Both gone, then both back.
                    while engine.both_online() {
                        std::thread::sleep(Duration::from_micros(200)); // poll interval
                    }
                    wait_both_online(engine);
                    std::thread::sleep(Duration::from_micros(rng.range(150_000, 350_000)));
                }
            },
        );
        println!("both x20: {m:?}");
        assert!(
            rec.iter().all(|x| x.is_finite() && x.abs() <= 1.0),
            "garbage in the output"
        );
        assert_eq!(m.lost_samples, m.underruns * BLOCK as u64);
        assert!(m.faults_death >= 40 && m.respawns >= 40, "{m:?}");
        assert_eq!(m.faults_diverged, 0);
        let zeros = rec.iter().filter(|&&x| x == 0.0).count();
        println!(
        "both x20: {} samples reported lost ({:.1} ms per double fault), {zeros} zero samples in all",
        m.lost_samples,
        m.lost_samples as f64 / 20.0 / SR * 1000.0
    );
        assert!(zeros as u64 >= m.lost_samples);
        let tail = &rec[rec.len() - 24_000..];
        let f = chronus_dsp::analysis::fundamental(tail, SR).expect("the tone at the end");
        assert!((f - 440.0).abs() < 0.5, "{f}");
    });
}

/// Both workers hang together: the first one seen stalled is not taken for a survivor to sync
/// from (it would never give its state: the restart used to wait 500 ms for it, then 50 ms
/// more); both restart from the checkpoint at once and the gap stays a few blocks.
#[test]
fn both_workers_hanging_restart_without_waiting_for_either() {
    common::stalls::again_if_the_machine_stalled(|| {
        use chronus_engine::fault::FaultTarget;
        let seconds = 3.0;
        let blocks = (seconds * SR / BLOCK as f64) as u64;
        let gate = gate_on_at_0();
        let (rec, m) = play(
            WorkerMode::Process,
            &[gate],
            blocks,
            "hang2.wav",
            |engine| {
                wait_both_online(engine);
                std::thread::sleep(Duration::from_millis(600)); // the first checkpoint
                engine
                    .inject_into(FaultTarget::Both, InjectedFault::Hang)
                    .unwrap();
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while !engine.both_online() || engine.metrics().respawns < 2 {
                    assert!(std::time::Instant::now() < deadline, "not replaced");
                    std::thread::sleep(Duration::from_millis(5)); // poll interval
                }
            },
        );
        println!(
            "hang both: {} samples lost ({:.1} ms): {m:?}",
            m.lost_samples,
            m.lost_samples as f64 * 1e3 / SR
        );
        assert!(m.respawns >= 2 && m.faults_stall >= 2, "{m:?}");
        assert_eq!(
            m.lost_samples,
            m.underruns * BLOCK as u64,
            "the gap is counted"
        );
        // A quarter of a second is 25 times what it takes (about 9 ms); waiting for the hung
        // worker's snapshot took over half a second.
        assert!(
            m.lost_samples < 12_000,
            "the restart waited for a hung worker: {} samples lost",
            m.lost_samples
        );
        let tail = &rec[rec.len() - 24_000..];
        let f = chronus_dsp::analysis::fundamental(tail, SR).expect("the tone at the end");
        assert!((f - 440.0).abs() < 0.5, "{f}");
    });
}

/// 20 resyncs at 192 kHz / block 64 (a block is 0.33 ms) with the patch holding all the delay
/// memory it may (12 MiB): the survivor gives its state without missing a deadline (a process
/// worker forks and its child serialises; inline, this state took longer than the whole
/// lookahead), and every resync succeeds.
#[cfg(feature = "effects")]
#[test]
fn resyncs_of_a_big_state_at_192_khz_keep_the_survivors_deadline() {
    common::stalls::again_if_the_machine_stalled(|| {
        retried_when_the_clock_was_late(|| {
            use chronus_dsp::ModuleKind;
            use chronus_engine::backend::{Backend, NullBackend, StreamConfig};
            use chronus_engine::PatchEdit;
            const HI: f64 = 192_000.0;
            let config = chronus_engine::EngineConfig {
                sample_rate: HI,
                // 14 blocks (4.7 ms at 192 kHz) rather than the other tests' 8: this VM wakes even the
                // null backend's real-time thread milliseconds late now and then, which at 0.33 ms a
                // block 8 blocks cannot always absorb. Serialising the state inline takes far longer.
                lookahead: 14,
                ..common::config(WorkerMode::Process)
            };
            let (engine, output) = chronus_engine::Engine::start(config).unwrap();
            // As many two-second delays as the patch's delay memory holds, each in the signal path.
            let bytes = |k: ModuleKind| k.build(HI, BLOCK).unwrap().memory_bytes();
            let room = chronus_dsp::MAX_DELAY_MEMORY
                - bytes(ModuleKind::Delay)
                - bytes(ModuleKind::Reverb);
            let n = room / bytes(ModuleKind::Delay);
            let mut edits = Vec::new();
            let mut from = "reverb".to_string();
            for i in 0..n {
                let name = format!("d{i}");
                edits.push(PatchEdit::Create {
                    name: name.clone(),
                    kind: ModuleKind::Delay,
                });
                edits.push(PatchEdit::Connect {
                    from: from.clone(),
                    to: name.clone(),
                    level: 1.0,
                });
                from = name;
            }
            engine.edit_patch(&edits).unwrap();
            let blocks = (8.0 * HI / BLOCK as f64) as u64;
            let stream = Box::new(NullBackend {
                record: None,
                max_blocks: Some(blocks),
            })
            .start(
                StreamConfig {
                    sample_rate: HI as u32,
                    block: BLOCK,
                    channels: 1,
                },
                output,
                engine.metrics_handle(),
            )
            .unwrap();
            let gate = engine
                .resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])
                .unwrap();
            engine.send(gate).unwrap();
            let mut rng = Rng::from_clock();
            let mut k = 0;
            while k < 20 {
                wait_both_online(&engine);
                std::thread::sleep(Duration::from_micros(rng.range(20_000, 60_000)));
                let active = engine.active_slot();
                let target = if k % 2 == 0 { active } else { active ^ 1 };
                // Each kill is seen and replaced before the next: one worker down at a time.
                let before = engine.metrics().respawns;
                if !signal_online(&engine, target, libc::SIGKILL) {
                    continue;
                }
                k += 1;
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while engine.metrics().respawns == before {
                    assert!(std::time::Instant::now() < deadline, "not replaced");
                    std::thread::sleep(Duration::from_millis(1)); // poll interval
                }
            }
            wait_both_online(&engine);
            let m = engine.metrics();
            let _ = stream.stop();
            engine.shutdown();
            record_clock_lateness(&m);
            println!(
                "{n} delays at 192 kHz ({} MiB of lines): {m:?}",
                (room / bytes(ModuleKind::Delay) * bytes(ModuleKind::Delay)) >> 20
            );
            assert!(n >= 3, "the patch holds delays: {n}");
            assert!(m.respawns >= 20, "every resync succeeded: {m:?}");
            assert_eq!(
                m.respawns_delayed, 0,
                "no resync had to be tried again: {m:?}"
            );
            assert_eq!((m.underruns, m.lost_samples), (0, 0), "{m:?}");
            assert_eq!(m.faults_diverged, 0, "{m:?}");
        });
    });
}

/// Both workers spin at their real-time priority, as a render loop that never returns would
/// (the swing bug did): on two cores they would starve a supervisor below them. The
/// supervisor, above them, sees both stall and restarts them from the checkpoint; the tone
/// comes back and the gap is counted.
#[test]
fn both_workers_spinning_at_real_time_priority_are_replaced() {
    common::stalls::again_if_the_machine_stalled(|| {
        let seconds = 4.0;
        let blocks = (seconds * SR / BLOCK as f64) as u64;
        let gate = gate_on_at_0();
        let mut spun_at = 0;
        let mut replaced_after = Duration::ZERO;
        let (rec, m) = play(WorkerMode::Process, &[gate], blocks, "spin.wav", |engine| {
            wait_both_online(engine);
            std::thread::sleep(Duration::from_millis(600)); // the first checkpoint
            spun_at = engine.metrics().played_blocks as usize * BLOCK;
            let t0 = std::time::Instant::now();
            engine.inject(0, InjectedFault::Spin).unwrap();
            engine.inject(1, InjectedFault::Spin).unwrap();
            let deadline = t0 + Duration::from_secs(5);
            while !engine.both_online() || engine.metrics().respawns < 2 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "not replaced: {:?}",
                    engine.metrics()
                );
                std::thread::sleep(Duration::from_millis(5)); // poll interval
            }
            replaced_after = t0.elapsed();
        });
        println!("spin: replaced after {replaced_after:?}: {m:?}");
        assert!(
            m.respawns >= 2 && m.faults_stall + m.faults_death >= 2,
            "{m:?}"
        );
        assert_eq!(
            m.lost_samples,
            m.underruns * BLOCK as u64,
            "the gap is counted"
        );
        assert!(rec.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
        // The tone is back by itself and stays.
        let tail = &rec[rec.len() - 24_000..];
        let f = chronus_dsp::analysis::fundamental(tail, SR).expect("the tone is back");
        let level = chronus_dsp::analysis::amplitude_at(tail, 440.0, SR);
        assert!(
            (f - 440.0).abs() < 0.5 && (level - 0.35).abs() < 0.02,
            "{f} Hz, {level}"
        );
        assert!(spun_at > 0);
    });
}

/// A second instrument, `bass` (a saw through its own envelope and filter), playing chords of
/// its own over the phrase's: three voices, so its chords steal too.
fn bass_edits_and_chords() -> (Vec<chronus_engine::PatchEdit>, Vec<chronus_engine::Command>) {
    use chronus_engine::{Action, Command, PatchEdit};
    let edits = vec![PatchEdit::Instrument {
        name: "bass".into(),
        chain: "osc > adsr > filter".into(),
        to: None,
    }];
    let mut p = chronus_dsp::Patch::default_patch(SR, BLOCK).unwrap();
    chronus_engine::edit::apply(&mut p, &edits).unwrap();
    let bass = p.instrument("bass").unwrap();
    let osc = p.find("bass.osc").unwrap();
    let mut commands = phrase(SECONDS);
    commands.push(Command::new(
        2_400,
        Action::Set {
            module: osc,
            param: 2,
            value: 3.0, // saw
        },
    ));
    commands.push(Command::new(
        2_401,
        Action::Voices {
            count: 3,
            mono: false,
            inst: bass,
        },
    ));
    let mut t = 0.2;
    let mut i = 0u8;
    while t < SECONDS - 0.5 {
        let at = (t * SR) as u64 + u64::from(i) * 13 % 64;
        for (k, n) in [36u8, 43, 48].iter().enumerate() {
            let note = n + i % 4;
            let on = at + 29 * k as u64;
            commands.push(Command::new(
                on,
                Action::NoteOn {
                    note,
                    velocity: 0.4,
                    inst: bass,
                },
            ));
            commands.push(Command::new(
                on + 15_000,
                Action::NoteOff {
                    note: Some(note),
                    inst: bass,
                },
            ));
        }
        t += 0.45;
        i += 1;
    }
    commands.sort_by_key(|c| c.at);
    (edits, commands)
}

#[test]
fn sigkill_mid_chord_on_two_instruments_is_hitless() {
    common::stalls::again_if_the_machine_stalled(|| {
        retried_when_the_clock_was_late(|| {
            let (edits, commands) = bass_edits_and_chords();
            let mut rng = Rng::from_clock();
            let (rec, m) = play_edited(
                WorkerMode::Process,
                &edits,
                &commands,
                Length::Exactly(blocks()),
                "two-instruments.wav",
                |engine| {
                    let mut sent = 0;
                    while sent < 8 {
                        wait_both_online(engine);
                        std::thread::sleep(Duration::from_micros(rng.range(100_000, 400_000)));
                        sent +=
                            u32::from(signal_online(engine, engine.active_slot(), libc::SIGKILL));
                    }
                    wait_both_online(engine);
                },
            );
            let expected = reference_edited(&edits, &commands, blocks());
            // The bass is in the render: without it, the render differs.
            let without = reference(&commands_without_bass(&commands, &edits), blocks());
            assert!(
                first_difference(&expected, &without).is_some(),
                "the bass plays"
            );
            println!("two instruments: {m:?}");
            assert!(m.faults_death >= 8 && m.respawns >= 8, "{m:?}");
            assert_eq!((m.underruns, m.lost_samples, m.faults_diverged), (0, 0, 0));
            if let Some(i) = first_difference(&rec, &expected) {
                panic!(
                    "output differs from the fault-free render at sample {i} (block {})",
                    i / BLOCK
                );
            }
        });
    });
}

/// The commands that do not address the bass instrument (for the render without it).
fn commands_without_bass(
    commands: &[chronus_engine::Command],
    edits: &[chronus_engine::PatchEdit],
) -> Vec<chronus_engine::Command> {
    use chronus_engine::Action;
    let mut p = chronus_dsp::Patch::default_patch(SR, BLOCK).unwrap();
    chronus_engine::edit::apply(&mut p, edits).unwrap();
    let osc = p.find("bass.osc").unwrap();
    commands
        .iter()
        .filter(|c| match c.action {
            Action::NoteOn { inst, .. }
            | Action::NoteOff { inst, .. }
            | Action::Voices { inst, .. } => inst.is_none(),
            Action::Set { module, .. } => module != osc,
            _ => true,
        })
        .copied()
        .collect()
}

/// A long sample: 3 s of a chirp from 100 Hz to 4 kHz under a little noise (every frame
/// different, so a frame played twice or skipped shows).
fn long_sample() -> Vec<f32> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    (0..(3.0 * SR) as usize)
        .map(|i| {
            let t = i as f64 / SR;
            let phase = std::f64::consts::TAU * (100.0 * t + 650.0 * t * t);
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (0.4 * phase.sin() + 0.05 * ((rng >> 40) as f64 / 16_777_216.0 - 0.5)) as f32
        })
        .collect()
}

#[test]
fn sigkill_while_a_long_sample_plays_is_bit_identical() {
    common::stalls::again_if_the_machine_stalled(|| {
        use chronus_dsp::sample::Sample;
        use chronus_engine::{Action, Command, NewSample};
        retried_when_the_clock_was_late(|| {
            let data = long_sample();
            // Played as recorded, then slower (the interpolated path) over it, then reversed.
            let commands = [
                Command::new(
                    4_800,
                    Action::PlaySample {
                        slot: 0,
                        gain: 0.8,
                        rate: 1.0,
                    },
                ),
                Command::new(
                    60_000,
                    Action::PlaySample {
                        slot: 0,
                        gain: 0.5,
                        rate: 0.75,
                    },
                ),
                Command::new(
                    150_000,
                    Action::PlaySample {
                        slot: 0,
                        gain: 0.5,
                        rate: -1.5,
                    },
                ),
            ];
            let mut rng = Rng::from_clock();
            let (rec, m) = play_prepared(
                WorkerMode::Process,
                |engine| {
                    let loaded = engine
                        .load_samples(&[NewSample {
                            name: "long",
                            source: "test",
                            samples: &data,
                            channels: 1,
                        }])
                        .unwrap();
                    assert_eq!(loaded[0].slot, 0);
                },
                &commands,
                Length::Exactly(blocks()),
                "long-sample.wav",
                |engine| {
                    let mut sent = 0;
                    while sent < 6 {
                        wait_both_online(engine);
                        std::thread::sleep(Duration::from_micros(rng.range(200_000, 600_000)));
                        sent +=
                            u32::from(signal_online(engine, engine.active_slot(), libc::SIGKILL));
                    }
                    wait_both_online(engine);
                },
            );
            // The reference: the same commands offline, the sample in plain memory.
            let mut patch = chronus_dsp::Patch::default_patch(SR, BLOCK).unwrap();
            patch.put_sample(Sample::in_memory(0, 1, data.clone(), &[]).unwrap());
            let expected = chronus_engine::offline::render(
                patch,
                &commands,
                blocks() * BLOCK as u64,
                |_, _| {},
            )
            .unwrap();
            // The sample is what plays (the default patch is silent without a gate).
            assert_eq!(expected[4_800 + 1_000], data[1_000] * 0.8);
            println!("long sample: {m:?}");
            assert!(m.faults_death >= 6 && m.respawns >= 6, "{m:?}");
            assert_eq!((m.underruns, m.lost_samples, m.faults_diverged), (0, 0, 0));
            if let Some(i) = first_difference(&rec, &expected) {
                panic!(
                    "output differs from the fault-free render at sample {i} (block {})",
                    i / BLOCK
                );
            }
        });
    });
}

/// Loading a large sample while a tone plays changes no sample of the tone: the memory is
/// written outside the audio path, and the workers only map it, between two blocks.
#[test]
fn a_large_sample_loaded_while_a_tone_plays_changes_no_sample_of_it() {
    common::stalls::again_if_the_machine_stalled(|| {
        use chronus_engine::NewSample;
        retried_when_the_clock_was_late(|| {
            // The tone from 0.1 s (a command for sample 0 would come late: the engine runs).
            let mut gate = gate_on_at_0();
            gate.at = 4_800;
            let commands = [gate];
            let big: Vec<f32> = (0..64 << 20).map(|i| (i % 1009) as f32 * 1e-4).collect();
            let (rec, m) = play_prepared(
                WorkerMode::Process,
                |_| {},
                &commands,
                Length::Exactly(blocks()),
                "large-load.wav",
                |engine| {
                    std::thread::sleep(Duration::from_millis(500));
                    let t = std::time::Instant::now();
                    engine
                        .load_samples(&[NewSample {
                            name: "big",
                            source: "test",
                            samples: &big,
                            channels: 1,
                        }])
                        .unwrap();
                    println!(
                        "256 MB loaded in {:.0} ms while the tone played",
                        t.elapsed().as_secs_f64() * 1e3
                    );
                },
            );
            println!("large load: {m:?}");
            assert_eq!((m.underruns, m.lost_samples, m.faults_diverged), (0, 0, 0));
            assert_eq!(m.late_commands, 0);
            if let Some(i) = first_difference(&rec, &reference(&commands, blocks())) {
                panic!("the tone differs from the fault-free render at sample {i}");
            }
        });
    });
}
