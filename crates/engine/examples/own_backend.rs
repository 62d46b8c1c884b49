//! Two lockstep workers (threads of this process) played by a backend of your own: a thread
//! that asks the engine's `Output` for a block every block period, as a sound card's callback
//! would. Sends a note, kills nothing, prints what was played:
//! `cargo run --release -p chronus-engine --example own_backend` (unoptimised, the DSP may be
//! too slow for real time and a worker be replaced).

use chronus_engine::backend::{Backend, Stream, StreamConfig, StreamReport};
use chronus_engine::{Action, Engine, EngineConfig, EngineError, Metrics, Output, WorkerMode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Plays into a peak meter, paced by the wall clock.
struct PeakBackend {
    peak: Arc<Mutex<f32>>,
}

struct PeakStream {
    config: StreamConfig,
    stop: Arc<AtomicBool>,
    blocks: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Backend for PeakBackend {
    fn name(&self) -> &'static str {
        "peak"
    }

    fn start(
        self: Box<Self>,
        config: StreamConfig,
        mut output: Output,
        _metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError> {
        let stop = Arc::new(AtomicBool::new(false));
        let blocks = Arc::new(AtomicU64::new(0));
        let (s, b, peak) = (stop.clone(), blocks.clone(), self.peak);
        let period = Duration::from_secs_f64(config.block as f64 / f64::from(config.sample_rate));
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0.0f32; config.block];
            let mut next = Instant::now();
            while !s.load(Ordering::Relaxed) {
                // The "callback": one block, no allocation, no lock on the engine's side.
                output.render(&mut buf);
                let p = buf.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                if let Ok(mut max) = peak.try_lock() {
                    *max = max.max(p);
                }
                b.fetch_add(1, Ordering::Relaxed);
                next += period;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        });
        Ok(Box::new(PeakStream {
            config,
            stop,
            blocks,
            thread: Some(thread),
        }))
    }
}

impl Stream for PeakStream {
    fn obtained(&self) -> StreamConfig {
        self.config
    }

    fn xruns(&self) -> u64 {
        0
    }

    fn stop(mut self: Box<Self>) -> Result<StreamReport, EngineError> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Ok(StreamReport {
            blocks: self.blocks.load(Ordering::Relaxed),
            ..StreamReport::default()
        })
    }
}

fn main() -> Result<(), EngineError> {
    let config = EngineConfig {
        workers: WorkerMode::Thread,
        ..EngineConfig::default()
    };
    let stream_config = StreamConfig::for_engine(&config, 1);
    let (engine, output) = Engine::start(config)?;
    let peak = Arc::new(Mutex::new(0.0f32));
    let backend = Box::new(PeakBackend { peak: peak.clone() });
    let stream = backend.start(stream_config, output, engine.metrics_handle())?;
    // Commands by address, parsed once here, or typed actions directly.
    engine.send(engine.resolve("/mod/sine/freq", &[chronus_engine::Arg::Float(330.0)])?)?;
    engine.send(Action::NoteOn {
        note: 64,
        velocity: 0.8,
        inst: None,
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let report = stream.stop()?;
    let m = engine.metrics();
    engine.shutdown();
    println!(
        "played {} blocks, peak {:.2}, {} underruns, {} failovers",
        report.blocks,
        *peak.lock().unwrap_or_else(|e| e.into_inner()),
        m.underruns,
        m.failovers
    );
    Ok(())
}
