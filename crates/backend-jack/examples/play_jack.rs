//! Plays the engine through a running JACK server for two seconds, a note sounding:
//! `cargo run -p chronus-backend-jack --example play_jack` (start `jackd` first; nothing is
//! started for you).

use chronus_backend_jack::{Connect, JackBackend};
use chronus_engine::backend::{Backend, StreamConfig};
use chronus_engine::{Action, Engine, EngineConfig, WorkerMode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jack = JackBackend::open("chronus-example", Connect::System)?;
    let config = EngineConfig {
        sample_rate: f64::from(jack.sample_rate()),
        block: (jack.buffer_size() as usize).clamp(16, 1024),
        workers: WorkerMode::Thread,
        ..EngineConfig::default()
    };
    let stream_config = StreamConfig::for_engine(&config, 2);
    let (engine, output) = Engine::start(config)?;
    let stream = Box::new(jack).start(stream_config, output, engine.metrics_handle())?;
    engine.send(Action::NoteOn {
        note: 57,
        velocity: 0.7,
        inst: None,
    })?;
    std::thread::sleep(std::time::Duration::from_secs(2));
    let report = stream.stop()?;
    engine.shutdown();
    println!(
        "{} blocks through JACK, {} xruns",
        report.blocks, report.xruns
    );
    Ok(())
}
