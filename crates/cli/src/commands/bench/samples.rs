//! `chronus bench samples`: what a large sample costs — its memory, counted once however many
//! workers map it, and a replacement's time with it against the same engine's without it.

use super::{engine_on_null, kill_active, percentile, wait_until, BenchArgs};
use anyhow::{bail, Context, Result};
use chronus_engine::{Engine, NewSample};
use std::time::{Duration, Instant};

/// Runs the benchmark.
pub fn run(args: &BenchArgs) -> Result<()> {
    let megabytes = args.megabytes.unwrap_or(1024);
    let kills = args.kills.unwrap_or(10);
    let sr = 48_000u32;
    if megabytes == 0 || megabytes > chronus_engine::DEFAULT_SAMPLE_MEMORY >> 20 {
        bail!(
            "--megabytes must be 1..={} (the default sample memory)",
            chronus_engine::DEFAULT_SAMPLE_MEMORY >> 20
        );
    }
    let (engine, stream) = engine_on_null(args, sr)?;
    engine.send(engine.resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])?)?;
    println!(
        "chronus bench samples: a {megabytes} MB sample in memory both workers share; \
         {kills} SIGKILLs of the active worker without it and {kills} with it"
    );
    wait_until("both workers online", Duration::from_secs(5), || {
        engine.both_online()
    })?;
    let without = replacements(&engine, kills)?;
    let workers_before = workers_private_kb(&engine);
    let shmem_before = meminfo_kb("Shmem:")?;
    let frames = (megabytes << 20) / 4;
    let data: Vec<f32> = (0..frames)
        .map(|i| ((i % 4099) as f32 / 4099.0 - 0.5) * 0.1)
        .collect();
    let t = Instant::now();
    engine.load_samples(&[NewSample {
        name: "bench",
        source: "bench",
        samples: &data,
        channels: 1,
    }])?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(data);
    wait_until("the workers to map it", Duration::from_secs(5), || {
        engine_workers(&engine).iter().all(|&pid| maps_sample(pid))
    })?;
    let shmem_kb = meminfo_kb("Shmem:")?.saturating_sub(shmem_before);
    let workers_after = workers_private_kb(&engine);
    let with = replacements(&engine, kills)?;
    let mapped = engine_workers(&engine).iter().all(|&pid| maps_sample(pid));
    let m = engine.metrics();
    let _ = stream.stop();
    engine.shutdown();
    if !mapped {
        bail!("a replacement did not map the sample");
    }
    let sample_kb = (megabytes << 20) as f64 / 1024.0;
    let (a, b) = (percentile(&without, 0.5), percentile(&with, 0.5));
    println!();
    println!("{:<46} {:>14}", "sample", format!("{megabytes} MB"));
    println!(
        "{:<46} {:>11.0} ms",
        "written and sealed (host), both workers told", load_ms
    );
    println!(
        "{:<46} {:>11.2} ×  (the machine's shared memory grew {:.0} MB)",
        "memory it costs, in copies of the sample",
        shmem_kb as f64 / sample_kb,
        shmem_kb as f64 / 1024.0
    );
    println!(
        "{:<46} {:>11.0} kB  (anonymous: no copy)",
        "workers' own memory, change",
        workers_after as f64 - workers_before as f64
    );
    println!(
        "{:<46} {:>11.2} ms / {:.2} ms = {:.2} ×",
        "replacement ready, median, with / without it",
        b,
        a,
        b / a
    );
    println!(
        "{:<46} {:>14}",
        "lost samples, underruns (all kills)",
        format!("{}, {}", m.lost_samples, m.underruns)
    );
    Ok(())
}

/// SIGKILLs the active worker `kills` times; each replacement's time to ready, in ms.
fn replacements(engine: &Engine, kills: usize) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for _ in 0..kills {
        wait_until("both workers online", Duration::from_secs(5), || {
            engine.both_online()
        })?;
        std::thread::sleep(Duration::from_millis(30));
        let (before, t0) = kill_active(engine)?;
        wait_until("the replacement", Duration::from_secs(5), || {
            engine.metrics().last_ready_ns > before.last_ready_ns && engine.both_online()
        })?;
        out.push(engine.metrics().last_ready_ns.saturating_sub(t0) as f64 / 1e6);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

fn engine_workers(engine: &Engine) -> Vec<u32> {
    (0..2).filter_map(|i| engine.worker_pid(i)).collect()
}

/// Whether process `pid` maps the benchmark's sample.
fn maps_sample(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .is_ok_and(|m| m.contains("chronus-sample-bench"))
}

/// The workers' anonymous resident memory, kB, added up.
fn workers_private_kb(engine: &Engine) -> u64 {
    engine_workers(engine)
        .iter()
        .filter_map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()?
                .lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// A field of /proc/meminfo, kB.
fn meminfo_kb(field: &str) -> Result<u64> {
    std::fs::read_to_string("/proc/meminfo")?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no such field in /proc/meminfo")
}
