//! Shared helpers for the engine's end-to-end tests: a scripted phrase, an engine on the null
//! backend recording to WAV, and the fault-free offline reference.
#![allow(dead_code)]

/// Machine stalls measured beside a test, to tell the machine's failures from chronus's (one
/// file, shared with the end-to-end tests).
#[path = "../../../../tests/support/stalls.rs"]
pub mod stalls;

use chronus_dsp::Patch;
use chronus_engine::backend::{Backend, NullBackend, StreamConfig};
use chronus_engine::offline::{self, WavFormat};
use chronus_engine::{Action, Command, Engine, EngineConfig, PatchEdit, WorkerMode};
use std::path::PathBuf;
use std::time::Duration;

pub const SR: f64 = 48_000.0;
pub const BLOCK: usize = 64;

pub fn config(mode: WorkerMode) -> EngineConfig {
    EngineConfig {
        sample_rate: SR,
        block: BLOCK,
        // This kind of VM wakes even SCHED_FIFO threads up to ~2 ms late, and the host steals
        // the odd few milliseconds: 8 blocks (10.7 ms) of lookahead absorb that, so what these
        // tests measure is failover, not the VM's scheduler.
        lookahead: 8,
        workers: mode,
        // Two block periods (2.7 ms) is within this VM's occasional scheduling hiccups; four
        // still catch a stopped worker long before the lookahead runs out.
        stall_blocks: 4,
        worker_exe: Some(PathBuf::from(env!("CARGO_BIN_EXE_chronus-worker"))),
        ..EngineConfig::default()
    }
}

/// A phrase of notes over `seconds`: pitch changes, gates, a filter sweep, glide, and chords
/// on the voice pool (four voices, so later chords steal from earlier ones).
pub fn phrase(seconds: f64) -> Vec<Command> {
    let p = Patch::default_patch(SR, BLOCK).unwrap();
    let (sine, adsr, filter, lfo) = (
        p.find("sine").unwrap(),
        p.find("adsr").unwrap(),
        p.find("filter").unwrap(),
        p.find("lfo").unwrap(),
    );
    let mut out = vec![
        Command::new(
            4_800,
            Action::Set {
                module: sine,
                param: 3,
                value: 30.0,
            },
        ),
        Command::new(
            4_801,
            Action::Voices {
                count: 4,
                mono: false,
                inst: None,
            },
        ),
    ];
    let notes = [220.0, 330.0, 440.0, 293.7, 587.3, 392.0, 261.6, 523.3];
    let mut t = 0.1;
    let mut i = 0;
    while t < seconds - 0.3 {
        let at = (t * SR) as u64 + (i as u64 * 7) % 64; // not on block boundaries
        out.push(Command::new(
            at,
            Action::Set {
                module: sine,
                param: 0,
                value: notes[i % notes.len()],
            },
        ));
        out.push(Command::new(
            at,
            Action::Gate {
                module: adsr,
                on: true,
            },
        ));
        out.push(Command::new(
            at + 3_001,
            Action::Set {
                module: filter,
                param: 1,
                value: 400.0 + 300.0 * (i % 7) as f32,
            },
        ));
        out.push(Command::new(
            at + 7_777,
            Action::Gate {
                module: adsr,
                on: false,
            },
        ));
        if i % 2 == 0 {
            for (k, n) in [48u8, 55, 64].iter().enumerate() {
                let note = n + (i % 5) as u8;
                let on = at + 500 + 37 * k as u64;
                let velocity = 0.3;
                out.push(Command::new(
                    on,
                    Action::NoteOn {
                        note,
                        velocity,
                        inst: None,
                    },
                ));
                let off = Action::NoteOff {
                    note: Some(note),
                    inst: None,
                };
                out.push(Command::new(on + 20_000 + 1_111 * k as u64, off));
            }
        }
        if i % 3 == 0 {
            out.push(Command::new(
                at + 100,
                Action::Set {
                    module: lfo,
                    param: 0,
                    value: 2.0 + i as f32,
                },
            ));
        }
        t += 0.25;
        i += 1;
    }
    out
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chronus-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub fn read_wav(path: &std::path::Path) -> Vec<f32> {
    hound::WavReader::open(path)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

/// Runs the phrase through the engine for `blocks` blocks on the null backend, recording to
/// a WAV, calling `during(&engine)` while it plays. Returns the recording and final metrics.
pub fn play(
    mode: WorkerMode,
    commands: &[Command],
    blocks: u64,
    name: &str,
    during: impl FnOnce(&Engine),
) -> (Vec<f32>, chronus_engine::MetricsSnapshot) {
    play_with(mode, commands, Length::Exactly(blocks), name, during)
}

/// How long [`play_with`] plays.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    /// This many blocks.
    Exactly(u64),
    /// Until `during` is done, and at least this many blocks: a test whose faults take longer
    /// on a slow machine never runs out of stream. The recording is as long as what was
    /// played; compare it with `reference(commands, recording.len() / BLOCK)`.
    AtLeast(u64),
}

/// Like [`play`], for as long as `length` says.
pub fn play_with(
    mode: WorkerMode,
    commands: &[Command],
    length: Length,
    name: &str,
    during: impl FnOnce(&Engine),
) -> (Vec<f32>, chronus_engine::MetricsSnapshot) {
    play_edited(mode, &[], commands, length, name, during)
}

/// Like [`play_with`], the default patch edited by `edits` before the first block (an
/// instrument, say: silent until its first note, so a reference render that has it from
/// sample 0 compares bit for bit).
pub fn play_edited(
    mode: WorkerMode,
    edits: &[PatchEdit],
    commands: &[Command],
    length: Length,
    name: &str,
    during: impl FnOnce(&Engine),
) -> (Vec<f32>, chronus_engine::MetricsSnapshot) {
    play_prepared(
        mode,
        |engine| {
            if !edits.is_empty() {
                engine.edit_patch(edits).unwrap();
            }
        },
        commands,
        length,
        name,
        during,
    )
}

/// [`play_edited`] with any preparation of the engine (edits, samples) before the commands are
/// scheduled.
pub fn play_prepared(
    mode: WorkerMode,
    prepare: impl FnOnce(&Engine),
    commands: &[Command],
    length: Length,
    name: &str,
    during: impl FnOnce(&Engine),
) -> (Vec<f32>, chronus_engine::MetricsSnapshot) {
    show_engine_logs();
    let (engine, output) = Engine::start(config(mode)).unwrap();
    prepare(&engine);
    for c in commands {
        engine.schedule(c.at, c.action).unwrap();
    }
    let wav = scratch(name);
    let (max_blocks, blocks) = match length {
        Length::Exactly(n) => (Some(n), n),
        Length::AtLeast(n) => (None, n),
    };
    let backend = Box::new(NullBackend {
        record: Some((wav.clone(), WavFormat::F32)),
        max_blocks,
    });
    let stream = backend
        .start(
            StreamConfig {
                sample_rate: SR as u32,
                block: BLOCK,
                channels: 1,
            },
            output,
            engine.metrics_handle(),
        )
        .unwrap();
    during(&engine);
    // A stream of a set length stops itself after `blocks` blocks; wait for that (or for the
    // least length) by watching the metrics.
    while engine.metrics().played_blocks < blocks {
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = stream.stop().unwrap();
    assert_eq!(report.dropped_recording, 0);
    let metrics = engine.metrics();
    engine.shutdown();
    record_clock_lateness(&metrics);
    (read_wav(&wav), metrics)
}

std::thread_local! {
    /// Late wake-ups of the null backend's own clock thread in the last [`play`] on this
    /// thread (see [`retried_when_the_clock_was_late`]).
    static LAST_XRUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Notes how often the null backend's clock was late in a test's run, for
/// [`retried_when_the_clock_was_late`] ([`play`] does it itself).
pub fn record_clock_lateness(metrics: &chronus_engine::MetricsSnapshot) {
    LAST_XRUNS.set(metrics.xruns);
}

/// Runs `attempt` (a test body that calls [`play`] and asserts on what it recorded) again when
/// it fails *and* the null backend's own clock thread woke more than a block period late
/// during it: that thread stands for the sound card, and when the machine makes it late, it
/// catches up by taking blocks back to back, faster than any worker renders them; a real card
/// would have glitched there, and samples lost then say nothing of failover. A failure with a
/// punctual clock fails at once; three late attempts in a row fail too.
pub fn retried_when_the_clock_was_late(attempt: impl Fn()) {
    const ATTEMPTS: u32 = 3;
    for n in 1..=ATTEMPTS {
        LAST_XRUNS.set(0);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&attempt));
        let Err(failure) = result else { return };
        let late = LAST_XRUNS.get();
        if late == 0 || n == ATTEMPTS {
            std::panic::resume_unwind(failure);
        }
        println!(
            "attempt {n} failed while the machine made the output's own clock late {late} times; \
             trying again"
        );
    }
}

/// Shows the engine's log lines (the supervisor's account of every fault, respawn and
/// back-off) in the test's output, which the test harness prints when the test fails.
pub fn show_engine_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// Sets the default patch's sine to `hz`.
pub fn pitch(hz: f32) -> Action {
    let p = Patch::default_patch(SR, BLOCK).unwrap();
    Action::Set {
        module: p.find("sine").unwrap(),
        param: 0,
        value: hz,
    }
}

/// The same phrase rendered offline with no engine at all.
pub fn reference(commands: &[Command], blocks: u64) -> Vec<f32> {
    reference_edited(&[], commands, blocks)
}

/// The fault-free offline render of the default patch edited by `edits`.
pub fn reference_edited(edits: &[PatchEdit], commands: &[Command], blocks: u64) -> Vec<f32> {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    chronus_engine::edit::apply(&mut p, edits).unwrap();
    offline::render(p, commands, blocks * BLOCK as u64, |_, _| {}).unwrap()
}

/// Index of the first differing sample, if any.
pub fn first_difference(a: &[f32], b: &[f32]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter()
        .zip(b)
        .position(|(x, y)| x.to_bits() != y.to_bits())
}

/// A small deterministic PRNG (xorshift), seeded from the clock and printed.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_clock() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        println!("rng seed {seed}");
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// Waits (up to 5 s) until both workers are online again after a fault.
pub fn wait_both_online(engine: &Engine) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !engine.both_online() {
        if std::time::Instant::now() >= deadline {
            let m = engine.metrics();
            record_clock_lateness(&m);
            panic!("replacement never came online: {m:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
