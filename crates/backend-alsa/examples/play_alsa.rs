//! Plays the engine on an ALSA PCM for two seconds, a note sounding:
//! `cargo run -p chronus-backend-alsa --example play_alsa -- default` (any PCM name: `hw:0`,
//! `plughw:1,0`, a `file` plugin PCM…).

use chronus_backend_alsa::AlsaBackend;
use chronus_engine::backend::{Backend, StreamConfig};
use chronus_engine::{Action, Engine, EngineConfig, WorkerMode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = std::env::args().nth(1).unwrap_or_else(|| "default".into());
    let config = EngineConfig {
        workers: WorkerMode::Thread,
        ..EngineConfig::default()
    };
    let stream_config = StreamConfig::for_engine(&config, 2);
    let mut alsa = AlsaBackend {
        device,
        format: None,
        period: None,
    };
    // Learn the device's period first: the engine renders that far ahead.
    let (period, buffer) = alsa.prepare(stream_config)?;
    println!("period {period} frames, buffer {buffer} frames");
    let (engine, output) = Engine::start(config.for_device_period(Some(period)))?;
    let stream = Box::new(alsa).start(stream_config, output, engine.metrics_handle())?;
    engine.send(Action::NoteOn {
        note: 57,
        velocity: 0.7,
        inst: None,
    })?;
    std::thread::sleep(std::time::Duration::from_secs(2));
    let report = stream.stop()?;
    engine.shutdown();
    println!(
        "{} blocks through ALSA, {} xruns",
        report.blocks, report.xruns
    );
    Ok(())
}
