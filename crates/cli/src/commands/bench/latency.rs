//! `chronus bench latency`: for each backend available here, the output latency chronus is
//! configured for and the latency it measures, and the xruns, while a busy thread loads the
//! other core.
//!
//! Measured latency of one command: from the moment it is handed to the engine to the moment
//! the backend asks the output for the block holding its first affected sample (plus the
//! sample's place in that block), plus the device's own buffer as the backend reports it
//! (JACK's port latency, ALSA's buffer, nothing for cpal or null).

use super::{percentile, BenchArgs};
use crate::commands::backends::{self, BackendKind, Choice};
use anyhow::{Context, Result};
use chronus_engine::backend::StreamConfig;
use chronus_engine::{Engine, EngineConfig, SealAt, WorkerMode};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One backend's figures.
struct Row {
    backend: &'static str,
    rate: u32,
    block: usize,
    device_frames: u64,
    lookahead: usize,
    configured_ms: f64,
    median_ms: f64,
    p99_ms: f64,
    xruns: u64,
    underruns: u64,
    seal: SealAt,
}

/// Spins on a core until dropped: the "other core loaded" of the benchmark.
struct Load {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("chronus-load".into())
            .spawn(move || {
                let mut x = 1u64;
                while !s.load(Relaxed) {
                    for _ in 0..10_000 {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    }
                    std::hint::black_box(x);
                }
            })
            .ok();
        Load { stop, thread }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn measure(args: &BenchArgs, backend: BackendKind, seal: SealAt) -> Result<Row> {
    let seconds = seconds(args);
    let choice = Choice {
        backend,
        jack_name: "chronus-bench".into(),
        connect: Vec::new(),
        no_connect: false,
        device: None,
        alsa_format: None,
        cpal_host: None,
        want: StreamConfig {
            sample_rate: 48_000,
            block: args.block,
            channels: super::CHANNELS,
        },
        midi: None,
    };
    let opened = backends::open(&choice)?;
    let name = opened.name;
    let rate = opened.sample_rate.unwrap_or(48_000);
    // The same lookahead `chronus run` would take: what was asked, plus the device period.
    let period_blocks = opened
        .period
        .map_or(0, |p| (p as usize).div_ceil(args.block));
    let lookahead = args.lookahead.unwrap_or(2) + period_blocks.saturating_sub(1);
    let config = EngineConfig {
        sample_rate: f64::from(rate),
        block: args.block,
        channels: super::CHANNELS,
        lookahead,
        seal,
        workers: WorkerMode::Process,
        ..EngineConfig::default()
    };
    let (engine, output) = Engine::start(config).context("the engine did not start")?;
    let stream = opened
        .backend
        .start(
            StreamConfig {
                sample_rate: rate,
                block: args.block,
                channels: super::CHANNELS,
            },
            output,
            engine.metrics_handle(),
        )
        .with_context(|| format!("the {name} backend did not start"))?;
    let device_frames = stream.device_latency_frames().unwrap_or(0);
    let sr = f64::from(rate);
    let metrics = engine.metrics_handle();
    let gate = engine.resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])?;
    engine.send(gate)?;
    let gains = [
        engine.resolve("/mod/sine/gain", &[chronus_engine::Arg::Float(0.3)])?,
        engine.resolve("/mod/sine/gain", &[chronus_engine::Arg::Float(0.4)])?,
    ];
    let load = (!args.no_load).then(Load::start);
    let before = engine.metrics();
    let xruns_before = stream.xruns();
    let bar =
        indicatif::ProgressBar::new(seconds.ceil() as u64).with_message(format!("{name}: playing"));
    let started = Instant::now();
    let mut lat_ms = Vec::new();
    let mut i = 0usize;
    while started.elapsed().as_secs_f64() < seconds {
        if let Some(e) = stream.error() {
            anyhow::bail!("{name}: {e}");
        }
        let t0 = chronus_engine::rt::monotonic_ns();
        let sample = engine.send(gains[i % 2])?;
        // When the output played the block holding that sample (asked by the backend), plus
        // the sample's place in the block, plus the device's buffer.
        let k = sample / args.block as u64;
        let deadline = Instant::now() + Duration::from_secs(2);
        let played_ns = loop {
            if let Some(ns) = metrics.block_played_at(k) {
                break ns;
            }
            if Instant::now() > deadline {
                anyhow::bail!("{name}: the output did not play block {k} within 2 s");
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let offset = (sample % args.block as u64) as f64 * 1e9 / sr;
        let ms = (played_ns as f64 + offset - t0 as f64) / 1e6 + device_frames as f64 * 1e3 / sr;
        lat_ms.push(ms);
        i += 1;
        bar.set_position(started.elapsed().as_secs());
        // Commands at irregular instants, so they land at every phase of a block.
        std::thread::sleep(Duration::from_micros(7_000 + (i as u64 * 2_417) % 6_000));
    }
    bar.finish_and_clear();
    drop(load);
    let m = engine.metrics();
    let xruns = stream.xruns() - xruns_before;
    let obtained = stream.obtained();
    let _ = stream.stop();
    engine.shutdown();
    lat_ms.sort_by(f64::total_cmp);
    Ok(Row {
        backend: name,
        rate,
        block: obtained.block.max(args.block),
        device_frames,
        lookahead,
        configured_ms: seal.least_latency_blocks(lookahead) * args.block as f64 * 1e3 / sr
            + device_frames as f64 * 1e3 / sr,
        median_ms: percentile(&lat_ms, 0.5),
        p99_ms: percentile(&lat_ms, 0.99),
        xruns,
        underruns: m.underruns - before.underruns,
        seal,
    })
}

/// Starts of `chronus run` measured for the start-up figure.
const STARTS: usize = 10;

/// `chronus run --backend null` started [`STARTS`] times: from the moment it is spawned to the
/// moment its output plays the first block (the engine started, both workers up, the first
/// block rendered), in ms, sorted.
fn start_up() -> Result<Vec<f64>> {
    let exe = std::env::current_exe().context("finding chronus's own binary")?;
    let mut ms = Vec::new();
    for _ in 0..STARTS {
        let t0 = chronus_engine::rt::monotonic_ns();
        let out = std::process::Command::new(&exe)
            .args([
                "run",
                "--backend",
                "null",
                "--no-osc",
                "--seconds",
                "0.1",
                "-q",
            ])
            .arg("--report-first-block")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .context("starting chronus run")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let first = stdout
            .lines()
            .find_map(|l| l.strip_prefix("chronus: first block played at "))
            .and_then(|l| l.strip_suffix(" ns"))
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n > t0)
            .with_context(|| format!("chronus run did not report its first block: {stdout}"))?;
        ms.push((first - t0) as f64 / 1e6);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

/// How long each backend plays: `--seconds`, 60 by default.
fn seconds(args: &BenchArgs) -> f64 {
    args.seconds.unwrap_or(60.0)
}

/// Runs `chronus bench latency`.
pub fn run(args: &BenchArgs) -> Result<()> {
    let seconds = seconds(args);
    if !(seconds.is_finite() && seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number (got {})", seconds);
    }
    let wanted: Vec<BackendKind> = if args.backends.is_empty() {
        backends::available()
            .into_iter()
            .filter(|b| *b != BackendKind::Auto)
            .collect()
    } else {
        args.backends.clone()
    };
    println!(
        "chronus bench latency: {} s per backend, block {}, {}; process workers",
        seconds,
        args.block,
        if args.no_load {
            "no load"
        } else {
            "a busy thread on the other core"
        }
    );
    // Each backend sealed at each point: late in the period (the default), at mid-period, at
    // the tick (the "before"), measured in the same run.
    let mut rows = Vec::new();
    for b in &wanted {
        for seal in [SealAt::Late, SealAt::MidPeriod, SealAt::Tick] {
            match measure(args, *b, seal) {
                Ok(row) => rows.push(row),
                Err(e) => println!("  {b}: skipped: {e:#}"),
            }
        }
    }
    println!();
    println!(
        "{:<6} {:>6} {:>6} {:>8} {:>5} {:>17} {:>17} {:>10} {:>6} {:>9}  seal",
        "",
        "rate",
        "block",
        "device",
        "ahead",
        "configured",
        "measured median",
        "p99",
        "xruns",
        "underruns",
    );
    for r in &rows {
        let block_ms = r.block as f64 * 1e3 / f64::from(r.rate);
        println!(
            "{:<6} {:>6} {:>6} {:>8} {:>5} {:>7.2} ms ({:>4.2}) {:>7.2} ms ({:>4.2}) {:>7.2} ms {:>6} {:>9}  {}",
            r.backend,
            r.rate,
            r.block,
            r.device_frames,
            r.lookahead,
            r.configured_ms,
            r.configured_ms / block_ms,
            r.median_ms,
            r.median_ms / block_ms,
            r.p99_ms,
            r.xruns,
            r.underruns,
            match r.seal {
                SealAt::Late => "late, 3/4 (default)",
                SealAt::MidPeriod => "mid-period (--seal mid)",
                SealAt::Tick => "tick (--seal tick)",
            }
        );
    }
    match start_up() {
        Ok(ms) => println!(
            "\nstart-up, `chronus run` spawned to its first block played ({STARTS} starts, null backend): median {:.1} ms, worst {:.1} ms (target < 100 ms)",
            percentile(&ms, 0.5),
            ms.last().copied().unwrap_or(0.0)
        ),
        Err(e) => println!("\nstart-up: not measured: {e:#}"),
    }
    println!(
        "\n(blocks in parentheses) latency = a command handed to the engine until the device plays it:\n\
         up to one block waiting for the next seal, the lookahead, the device buffer; \"configured\" is the least.\n\
         seal: when a block's commands are fixed, measured in the same run — three quarters of a period after\n\
         the output's tick (the default: the workers have lookahead + 1/4 periods for a block), half a period\n\
         after it (--seal mid: a quarter block more latency, lookahead + 1/2 periods) or at the tick (--seal\n\
         tick: three quarters of a block more than the default, lookahead + 1 periods, no sealer thread).\n\
         targets (#24): on JACK at period 64, median <= 4 blocks at the default settings, <= 3 with --lookahead 1.\n\
         target on JACK: <= 3 blocks at 64 frames (4.0 ms at 48 kHz), 0 xruns; seed system: 5.9 ms.\n\
         less latency: --lookahead 1 (fewer blocks ahead, less margin for scheduling jitter)."
    );
    if rows.is_empty() {
        anyhow::bail!("no backend could be measured");
    }
    Ok(())
}
