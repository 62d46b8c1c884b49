//! `chronus bench`: measurements printed beside the seed system's figures.

use anyhow::{bail, Context, Result};
use chronus_engine::backend::{Backend, NullBackend, StreamConfig};
use chronus_engine::{Engine, EngineConfig, WorkerMode};
use std::time::{Duration, Instant};

/// Arguments of `chronus bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure: failover.
    what: String,
    /// How many faults to inject.
    #[arg(long, default_value_t = 200)]
    kills: usize,
    /// Blocks the workers render ahead of the output.
    #[arg(long, default_value_t = 4)]
    lookahead: usize,
    /// Samples per block.
    #[arg(long, default_value_t = 64)]
    block: usize,
}

/// Runs `chronus bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    match args.what.as_str() {
        "failover" => failover(&args),
        other => bail!("unknown benchmark '{other}' (available: failover)"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let end = Instant::now() + timeout;
    while !done() {
        if Instant::now() > end {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

fn failover(args: &BenchArgs) -> Result<()> {
    let sr = 48_000u32;
    let config = EngineConfig {
        sample_rate: f64::from(sr),
        block: args.block,
        lookahead: args.lookahead,
        workers: WorkerMode::Process,
        ..EngineConfig::default()
    };
    let (engine, output) = Engine::start(config).context("the engine did not start")?;
    let stream = Box::new(NullBackend::default())
        .start(
            StreamConfig {
                sample_rate: sr,
                block: args.block,
                channels: 1,
            },
            output,
            engine.metrics_handle(),
        )
        .context("the null backend did not start")?;
    let gate = engine.resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])?;
    engine.send(gate)?;
    println!(
        "chronus bench failover: {} SIGKILLs of the active worker at random instants \
         (process workers, {sr} Hz, block {}, lookahead {})",
        args.kills, args.block, args.lookahead
    );
    let mut seed = Instant::now().elapsed().as_nanos() as u64 | 0x9e37_79b9;
    let mut detect_ms = Vec::new();
    let mut ready_ms = Vec::new();
    let bar = indicatif::ProgressBar::new(args.kills as u64);
    for _ in 0..args.kills {
        wait_until("both workers online", Duration::from_secs(5), || {
            engine.both_online()
        })?;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(5_000 + seed % 45_000));
        let before = engine.metrics();
        let pid = engine
            .worker_pid(engine.active_slot())
            .context("no active worker process")?;
        let t0 = chronus_engine::rt::monotonic_ns();
        // SAFETY: SIGKILL to a worker process this engine started.
        if unsafe { libc::kill(pid as i32, libc::SIGKILL) } != 0 {
            bail!("could not kill worker {pid}");
        }
        wait_until("the fault to be seen", Duration::from_secs(2), || {
            engine.metrics().last_detect_ns > before.last_detect_ns
        })?;
        wait_until("the replacement", Duration::from_secs(5), || {
            engine.metrics().last_ready_ns > before.last_ready_ns && engine.both_online()
        })?;
        let m = engine.metrics();
        detect_ms.push(m.last_detect_ns.saturating_sub(t0) as f64 / 1e6);
        ready_ms.push(m.last_ready_ns.saturating_sub(t0) as f64 / 1e6);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let m = engine.metrics();
    let _ = stream.stop();
    engine.shutdown();
    detect_ms.sort_by(f64::total_cmp);
    ready_ms.sort_by(f64::total_cmp);
    let spurious = m.respawns.saturating_sub(args.kills as u64);
    println!();
    println!(
        "{:<34} {:>14} {:>26}",
        "", "chronus", "seed system (Python)"
    );
    println!(
        "{:<34} {:>14} {:>26}",
        "lost samples (all kills)", m.lost_samples, "~100 per kill (2.12 ms)"
    );
    println!(
        "{:<34} {:>14} {:>26}",
        "underruns", m.underruns, "one gap per kill"
    );
    println!(
        "{:<34} {:>11.3} ms {:>26}",
        "detection, median",
        percentile(&detect_ms, 0.5),
        "2.12 ms to switch (mean)"
    );
    println!(
        "{:<34} {:>11.3} ms {:>26}",
        "detection, p99",
        percentile(&detect_ms, 0.99),
        "4.45 ms (worst)"
    );
    println!(
        "{:<34} {:>11.3} ms {:>26}",
        "replacement ready, median",
        percentile(&ready_ms, 0.5),
        "~105 ms"
    );
    println!(
        "{:<34} {:>11.3} ms {:>26}",
        "replacement ready, p99",
        percentile(&ready_ms, 0.99),
        "-"
    );
    println!(
        "{:<34} {:>14} {:>26}",
        "respawns without a fault", spurious, "false respawns seen"
    );
    println!(
        "{:<34} {:>14} {:>26}",
        "state restored on respawn", "all of it", "freq and gain only"
    );
    println!(
        "\ntargets: 0 lost samples, detection < 0.5 ms median, replacement < 20 ms median, 0 spurious respawns"
    );
    Ok(())
}
