//! Plays the engine on cpal's default output device for two seconds, a note sounding:
//! `cargo run -p chronus-backend-cpal --example play_cpal` (or `-- jack` for cpal's JACK host).

use chronus_backend_cpal::CpalBackend;
use chronus_engine::backend::{Backend, StreamConfig};
use chronus_engine::{Action, Engine, EngineConfig, WorkerMode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EngineConfig {
        workers: WorkerMode::Thread,
        ..EngineConfig::default()
    };
    let stream_config = StreamConfig::for_engine(&config, 2);
    let mut cpal = CpalBackend {
        host: std::env::args().nth(1),
        ..CpalBackend::default()
    };
    let buffer = cpal.prepare(stream_config)?;
    println!("device buffer {buffer} frames");
    let (engine, output) = Engine::start(config.for_device_period(Some(buffer)))?;
    let stream = Box::new(cpal).start(stream_config, output, engine.metrics_handle())?;
    engine.send(Action::NoteOn {
        note: 57,
        velocity: 0.7,
        inst: None,
    })?;
    std::thread::sleep(std::time::Duration::from_secs(2));
    let report = stream.stop()?;
    engine.shutdown();
    println!(
        "{} blocks through cpal, {} xruns",
        report.blocks, report.xruns
    );
    Ok(())
}
