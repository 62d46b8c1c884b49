//! `chronus bench`: measurements printed beside the seed system's figures.

use anyhow::{bail, Context, Result};
use chronus_engine::backend::{Backend, NullBackend, Stream, StreamConfig};
use chronus_engine::{Engine, EngineConfig, WorkerMode};
use std::time::{Duration, Instant};

mod latency;
mod samples;

/// Arguments of `chronus bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
BENCHMARKS
  failover   SIGKILL the active worker again and again: lost samples, detection, replacement
  osc        control messages per second with zero loss, and control latency
  latency    for each backend here: configured and measured output latency, and xruns, with
             the other core loaded (JACK needs a running server; ALSA/cpal a device)
  samples    a large sample in shared memory: what it costs (in copies of it), and a
             replacement's time with it against without it

EXAMPLES
  chronus bench failover --kills 50
  chronus bench failover --matrix --kills 10    every fault kind into every target
  chronus bench latency --seconds 10 --backends jack,null
  chronus bench samples --megabytes 1024 --kills 10")]
pub struct BenchArgs {
    /// What to measure: failover, osc, latency or samples.
    what: String,
    /// How many faults to inject (failover) [default: 200; with --matrix, 10 per kind and
    /// target; samples: 10 without the sample and 10 with it].
    #[arg(long)]
    kills: Option<usize>,
    /// failover: every fault kind (crash, panic, hang, nan) into every target (active,
    /// standby, both, command) instead of SIGKILLs of the active worker.
    #[arg(long)]
    matrix: bool,
    /// Blocks the workers render ahead of the output [default: 4; latency: 2, as `chronus run`].
    #[arg(long)]
    lookahead: Option<usize>,
    /// How long to play each backend (latency) [default: 60], or to send at each rate (osc)
    /// [default: 2].
    #[arg(long)]
    seconds: Option<f64>,
    /// Backends to measure, comma-separated (latency) [default: every one this build has].
    #[arg(long, value_enum, value_delimiter = ',')]
    backends: Vec<super::backends::BackendKind>,
    /// Do not load the other core with a busy thread (latency).
    #[arg(long)]
    no_load: bool,
    /// Samples per block.
    #[arg(long, default_value_t = 64)]
    block: usize,
    /// The sample's size in MB (samples) [default: 1024].
    #[arg(long)]
    megabytes: Option<u64>,
}

/// Runs `chronus bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    match args.what.as_str() {
        "failover" if args.matrix => failover_matrix(&args),
        "failover" => failover(&args),
        #[cfg(feature = "osc")]
        "osc" => osc(&args),
        "latency" => latency::run(&args),
        "samples" => samples::run(&args),
        other => bail!("unknown benchmark '{other}' (available: failover, osc, latency, samples)"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sleeps a random time between `from_us` and `from_us + span_us` microseconds (xorshift on
/// `seed`): faults land at no particular point of a block.
fn random_pause(seed: &mut u64, from_us: u64, span_us: u64) {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    std::thread::sleep(Duration::from_micros(from_us + *seed % span_us));
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

/// SIGKILLs the active worker: the metrics just before, and the instant of the kill.
fn kill_active(engine: &Engine) -> Result<(chronus_engine::MetricsSnapshot, u64)> {
    let before = engine.metrics();
    let pid = engine
        .worker_pid(engine.active_slot())
        .context("no active worker process")?;
    let t0 = chronus_engine::rt::monotonic_ns();
    // SAFETY: SIGKILL to a worker process this engine started.
    if unsafe { libc::kill(pid as i32, libc::SIGKILL) } != 0 {
        bail!("could not kill worker {pid}");
    }
    Ok((before, t0))
}

/// The channels the benchmarks render: `chronus run`'s default (stereo).
pub(crate) const CHANNELS: usize = 2;

/// Process workers on the default patch, playing on the null backend (the benchmarks' rig).
fn engine_on_null(args: &BenchArgs, sr: u32) -> Result<(Engine, Box<dyn Stream>)> {
    let config = EngineConfig {
        sample_rate: f64::from(sr),
        block: args.block,
        channels: CHANNELS,
        lookahead: args.lookahead.unwrap_or(4),
        workers: WorkerMode::Process,
        ..EngineConfig::default()
    };
    let (engine, output) = Engine::start(config).context("the engine did not start")?;
    let stream = Box::new(NullBackend::default())
        .start(
            StreamConfig {
                sample_rate: sr,
                block: args.block,
                channels: CHANNELS,
            },
            output,
            engine.metrics_handle(),
        )
        .context("the null backend did not start")?;
    Ok((engine, stream))
}

fn failover(args: &BenchArgs) -> Result<()> {
    let kills = args.kills.unwrap_or(200);
    let sr = 48_000u32;
    let (engine, stream) = engine_on_null(args, sr)?;
    let gate = engine.resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])?;
    engine.send(gate)?;
    println!(
        "chronus bench failover: {} SIGKILLs of the active worker at random instants \
         (process workers, {sr} Hz, {CHANNELS} channels, block {}, lookahead {})",
        kills,
        args.block,
        args.lookahead.unwrap_or(4)
    );
    let mut seed = Instant::now().elapsed().as_nanos() as u64 | 0x9e37_79b9;
    let mut detect_ms = Vec::new();
    let mut ready_ms = Vec::new();
    let bar = indicatif::ProgressBar::new(kills as u64);
    for _ in 0..kills {
        wait_until("both workers online", Duration::from_secs(5), || {
            engine.both_online()
        })?;
        random_pause(&mut seed, 5_000, 45_000);
        let (before, t0) = kill_active(&engine)?;
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
    let spurious = m.respawns.saturating_sub(kills as u64);
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
        "\ntargets: 0 lost samples, detection < 0.5 ms median, replacement < 5 ms median (#24), 0 spurious respawns"
    );
    Ok(())
}

/// `bench failover --matrix`: each fault kind into each target, `--kills` times: samples
/// lost, detection (fault injected → seen) and replacement (→ both workers online again).
fn failover_matrix(args: &BenchArgs) -> Result<()> {
    use chronus_engine::fault::{FaultTarget, KINDS};
    use chronus_engine::InjectedFault;
    let per_cell = args.kills.unwrap_or(10);
    let sr = 48_000u32;
    let (engine, stream) = engine_on_null(args, sr)?;
    let gate = engine.resolve("/gate/adsr", &[chronus_engine::Arg::Int(1)])?;
    engine.send(gate)?;
    println!(
        "chronus bench failover --matrix: each fault {per_cell} times into each target \
         (process workers, {sr} Hz, {CHANNELS} channels, block {}, lookahead {})",
        args.block,
        args.lookahead.unwrap_or(4)
    );
    // Faults only: slow and late are not (a late command is the `late` row of the table
    // after this one).
    let faults: Vec<_> = KINDS
        .iter()
        .filter(|(n, _)| !matches!(*n, "slow" | "late"))
        .collect();
    let bar = indicatif::ProgressBar::new(
        ((faults.len() * FaultTarget::ALL.len() + 1) * per_cell) as u64,
    );
    let mut rows = Vec::new();
    let mut seed = Instant::now().elapsed().as_nanos() as u64 | 0x9e37_79b9;
    for &&(name, fault) in &faults {
        for target in FaultTarget::ALL {
            // A poison command fails the leading worker alone (its follower passes over it,
            // or puts it off when its leader hangs in it).
            let double = target == FaultTarget::Both;
            let dead = if double { 2 } else { 1 };
            let start = engine.metrics();
            let (mut detect_ms, mut ready_ms) = (Vec::new(), Vec::new());
            for _ in 0..per_cell {
                wait_until("both workers online", Duration::from_secs(10), || {
                    engine.both_online()
                })?;
                random_pause(&mut seed, 20_000, 30_000);
                let before = engine.metrics();
                let t0 = chronus_engine::rt::monotonic_ns();
                engine.inject_into(target, fault)?;
                wait_until("the fault to be seen", Duration::from_secs(5), || {
                    engine.metrics().last_detect_ns > before.last_detect_ns
                })?;
                wait_until("the replacement", Duration::from_secs(10), || {
                    let m = engine.metrics();
                    m.respawns >= before.respawns + dead && engine.both_online()
                })?;
                let m = engine.metrics();
                detect_ms.push(m.last_detect_ns.saturating_sub(t0) as f64 / 1e6);
                ready_ms.push(m.last_ready_ns.saturating_sub(t0) as f64 / 1e6);
                bar.inc(1);
            }
            let end = engine.metrics();
            detect_ms.sort_by(f64::total_cmp);
            ready_ms.sort_by(f64::total_cmp);
            rows.push((
                name,
                target.name(),
                (end.lost_samples - start.lost_samples) as f64 / per_cell as f64,
                percentile(&detect_ms, 0.5),
                percentile(&ready_ms, 0.5),
                (end.respawns - start.respawns).saturating_sub(dead * per_cell as u64),
            ));
        }
    }
    // A command the leading worker is late with (not hung): the follower puts it off, then
    // is resynced; nothing lost, nothing quarantined.
    // Three quarters of the lookahead: past the follower's patience (half of it), within the
    // output's (all of it).
    let late_blocks = (args.lookahead.unwrap_or(4) as u32 * 3 / 4).max(1);
    let late_start = engine.metrics();
    for _ in 0..per_cell {
        wait_until("both workers online", Duration::from_secs(10), || {
            engine.both_online()
        })?;
        random_pause(&mut seed, 20_000, 30_000);
        let before = engine.metrics();
        engine.inject_into(FaultTarget::Command, InjectedFault::Late(late_blocks))?;
        wait_until("the follower's resync", Duration::from_secs(10), || {
            let m = engine.metrics();
            m.deferred > before.deferred && engine.both_online()
        })?;
        bar.inc(1);
    }
    let late_end = engine.metrics();
    bar.finish_and_clear();
    let _ = stream.stop();
    engine.shutdown();
    println!(
        "\n{:<7} {:<8} {:>18} {:>16} {:>18} {:>10}",
        "fault", "target", "lost per fault", "detection (med)", "replacement (med)", "spurious"
    );
    for (name, target, lost, detect, ready, spurious) in rows {
        println!(
            "{name:<7} {target:<8} {:>8.0} ({:>5.2} ms) {detect:>13.3} ms {ready:>15.3} ms {spurious:>10}",
            lost,
            lost * 1e3 / f64::from(sr),
        );
    }
    println!(
        "\ntargets: 0 lost for active, standby and command (a poison command fails the leading \
         worker alone); at most 10 ms for both; 0 spurious respawns"
    );
    println!(
        "\na command the leading worker is {late_blocks} blocks late with (not hung), {per_cell} times: \
         {} samples lost, {} faults, {} quarantined, {} follower resyncs (target: 0, 0, 0, {per_cell})",
        late_end.lost_samples - late_start.lost_samples,
        late_end.faults() - late_start.faults(),
        late_end.quarantined - late_start.quarantined,
        late_end.deferred - late_start.deferred,
    );
    Ok(())
}

#[cfg(feature = "osc")]
fn osc(args: &BenchArgs) -> Result<()> {
    if let Some(s) = args.seconds.filter(|s| !(s.is_finite() && *s > 0.0)) {
        bail!("--seconds must be a positive number (got {s})");
    }
    use rosc::{OscMessage, OscPacket, OscType};
    use std::net::UdpSocket;
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::Arc;

    let sr = 48_000u32;
    let (engine, stream) = engine_on_null(args, sr)?;
    let engine = Arc::new(engine);
    // The engine's own capacity: the per-source rate limit (a guard against floods, 20,000/s
    // by default) is off here; its effect is measured after.
    let server_config = chronus_osc::ServerConfig {
        addr: ([127, 0, 0, 1], 0).into(),
        tcp: false,
        rate_limit: 0,
        ..Default::default()
    };
    let server = chronus_osc::Server::start(engine.clone(), server_config)?;
    let stats = server.router().stats();
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.set_read_timeout(Some(Duration::from_secs(1)))?;
    let to = server.udp_addr();
    let encode = |addr: &str, args: Vec<OscType>| {
        rosc::encoder::encode(&OscPacket::Message(OscMessage {
            addr: addr.into(),
            args,
        }))
    };
    client.send_to(&encode("/gate/adsr", vec![OscType::Int(1)])?, to)?;
    // Past the rate the kernel's socket buffer holds, a datagram is dropped, and that can be
    // the `/sync` itself: it is sent again (a second without its reply) up to five times. The
    // counts below take one `/sync` as arrived; a row where one was lost shows its loss anyway.
    let sync = |id: i32| -> Result<()> {
        let mut buf = [0u8; 1024];
        for _ in 0..5 {
            client.send_to(&encode("/sync", vec![OscType::Int(id)])?, to)?;
            while let Ok((n, _)) = client.recv_from(&mut buf) {
                if let Ok((_, OscPacket::Message(m))) = rosc::decoder::decode_udp(&buf[..n]) {
                    if m.addr == "/synced" && m.args == vec![OscType::Int(id)] {
                        return Ok(());
                    }
                }
            }
        }
        bail!("no /synced reply to 5 /sync messages in 5 s: the engine stopped answering; run again with -v to see why")
    };
    sync(0)?;
    println!(
        "chronus bench osc: one UDP client on loopback, /mod/filter/cutoff messages \
         (process workers, {sr} Hz, {CHANNELS} channels, block {}, lookahead {}; rate limit off: \
         `chronus run --rate-limit 0`)\n",
        args.block,
        args.lookahead.unwrap_or(4)
    );
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>9}  result",
        "rate/s", "sent", "arrived", "applied", "errors", "underruns", "respawns"
    );
    let mut best = 0u64;
    let mut id = 0;
    for rate in [25_000u64, 50_000, 100_000, 200_000, 400_000] {
        let before = (
            stats.received.load(Relaxed),
            stats.applied.load(Relaxed),
            stats.errors.load(Relaxed),
        );
        let underruns_before = engine.metrics().underruns;
        let respawns_before = engine.metrics().respawns;
        let seconds = args.seconds.unwrap_or(2.0);
        let n = (rate as f64 * seconds) as u64;
        let start = Instant::now();
        for i in 0..n {
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            while start.elapsed() < due {
                std::hint::spin_loop();
            }
            let msg = encode(
                "/mod/filter/cutoff",
                vec![OscType::Float(500.0 + (i % 1000) as f32)],
            )?;
            client.send_to(&msg, to)?;
        }
        let achieved = n as f64 / start.elapsed().as_secs_f64();
        id += 1;
        sync(id)?;
        let arrived = stats.received.load(Relaxed) - before.0 - 1;
        let applied = stats.applied.load(Relaxed) - before.1 - 1;
        let errors = stats.errors.load(Relaxed) - before.2;
        let underruns = engine.metrics().underruns - underruns_before;
        let respawns = engine.metrics().respawns - respawns_before;
        let ok = arrived == n
            && applied == n
            && errors == 0
            && underruns == 0
            && achieved >= rate as f64 * 0.97;
        println!(
            "{:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>9}  {}",
            rate,
            n,
            arrived,
            applied,
            errors,
            underruns,
            respawns,
            if ok {
                "ok".to_owned()
            } else if achieved < rate as f64 * 0.97 {
                format!("client reached only {achieved:.0}/s")
            } else {
                "LOSS".to_owned()
            }
        );
        if ok {
            best = rate;
        } else {
            break;
        }
    }
    // Latency: 2,000 messages at 1,000/s, each timed from arrival to the output playing it.
    server.router().record_latency(true);
    for i in 0..2_000u32 {
        client.send_to(
            &encode(
                "/mod/sine/gain",
                vec![OscType::Float(0.3 + (i % 2) as f32 * 0.1)],
            )?,
            to,
        )?;
        std::thread::sleep(Duration::from_millis(1));
    }
    id += 1;
    sync(id)?;
    let mut lat: Vec<f64> = server
        .router()
        .record_latency(false)
        .into_iter()
        .map(|ns| ns as f64 / 1e6)
        .collect();
    lat.sort_by(f64::total_cmp);
    let block_ms = args.block as f64 * 1000.0 / f64::from(sr);
    server.stop();
    let limited = rate_limit_effect(&engine, &encode)?;
    let _ = stream.stop();
    engine.shutdown();
    println!();
    println!("sustained rate with zero loss and zero underruns: {best} msg/s   (target >= 50,000; seed: 100)");
    println!(
        "control latency, packet arrival to first affected output sample: median {:.2} ms, p99 {:.2} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!(
        "  (= {:.1} / {:.1} blocks; the least is {:.2} ms: a command waits for the next seal, at the \
         output's tick, into the block lookahead + 1 ahead)",
        percentile(&lat, 0.5) / block_ms,
        percentile(&lat, 0.99) / block_ms,
        block_ms
            * chronus_engine::SealAt::default().least_latency_blocks(args.lookahead.unwrap_or(4))
    );
    println!("{limited}");
    Ok(())
}

/// Encodes one OSC message.
#[cfg(feature = "osc")]
type Encode = dyn Fn(&str, Vec<rosc::OscType>) -> Result<Vec<u8>, rosc::OscError>;

/// The per-source rate limit at its default: one client sending at twice the limit for three
/// seconds (the bucket holds a second's worth: a burst passes whole). Returns the line that says what got through, what was refused and counted, and
/// whether the sender was told.
#[cfg(feature = "osc")]
fn rate_limit_effect(engine: &std::sync::Arc<Engine>, encode: &Encode) -> Result<String> {
    use rosc::{OscPacket, OscType};
    use std::sync::atomic::Ordering::Relaxed;
    let limit = chronus_osc::router::DEFAULT_RATE_LIMIT;
    let server = chronus_osc::Server::start(
        engine.clone(),
        chronus_osc::ServerConfig {
            addr: ([127, 0, 0, 1], 0).into(),
            tcp: false,
            ..Default::default()
        },
    )?;
    let stats = server.router().stats();
    let client = std::net::UdpSocket::bind("127.0.0.1:0")?;
    client.set_read_timeout(Some(Duration::from_millis(500)))?;
    let to = server.udp_addr();
    let rate = u64::from(limit) * 2;
    let seconds = 3;
    let start = Instant::now();
    for i in 0..rate * seconds {
        let due = Duration::from_secs_f64(i as f64 / rate as f64);
        while start.elapsed() < due {
            std::hint::spin_loop();
        }
        let msg = encode("/mod/filter/cutoff", vec![OscType::Float(700.0)])?;
        client.send_to(&msg, to)?;
    }
    // The replies: `/error ... rate limit ...` at most once a second.
    let mut told = 0;
    let mut buf = [0u8; 1024];
    while let Ok((n, _)) = client.recv_from(&mut buf) {
        if let Ok((_, OscPacket::Message(m))) = rosc::decoder::decode_udp(&buf[..n]) {
            if m.addr == "/error" {
                told += 1;
            }
        }
    }
    let (applied, refused) = (
        stats.applied.load(Relaxed),
        stats.rate_limited.load(Relaxed),
    );
    server.stop();
    Ok(format!(
        "rate limit (default {limit} msg/s per source, a second's burst; `--rate-limit N`, 0 = \
         off): a client sending {rate} msg/s for {seconds} s had {applied} applied, {refused} \
         refused and counted (`rate_limited` in /status), and was told {told} time(s) with /error"
    ))
}
