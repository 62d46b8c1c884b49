//! `chronus run --midi`: MIDI in, fed to the router at the sample each event arrived with.

use anyhow::{bail, Result};
use chronus_engine::Engine;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where MIDI comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MidiChoice {
    /// No MIDI input.
    #[default]
    None,
    /// A JACK MIDI port, `<name>:midi_in` (in the audio client with `--backend jack`, else a
    /// client of its own, `<name>-midi`).
    Jack,
    /// The ALSA sequencer or raw MIDI (not in this build yet: use jack).
    Alsa,
    /// JACK when a server answers, else none (saying so).
    Auto,
}

/// A running MIDI input: stops its reader when dropped.
pub struct MidiInput {
    #[cfg_attr(not(feature = "jack"), allow(dead_code))]
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    /// A JACK client of its own (a backend other than JACK), kept open while it reads.
    #[cfg(feature = "jack")]
    _client: Option<chronus_backend_jack::MidiClient>,
}

impl Drop for MidiInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Samples between an event's arrival and the sample it plays at: the device period it
/// arrived in, and the engine's lookahead plus two blocks (the reader's wake-ups and the seal),
/// so that it is never late and every event keeps its place to the sample.
pub fn latency(engine: &Engine, period: u64) -> u64 {
    let c = engine.config();
    period + (c.lookahead as u64 + 2) * c.block as u64
}

/// Starts the reader of `receiver` (events stamped by `jack`), feeding `router`.
#[cfg(feature = "jack")]
pub fn start(
    mut receiver: chronus_backend_jack::MidiReceiver,
    client: Option<chronus_backend_jack::MidiClient>,
    router: Arc<chronus_osc::Router>,
    engine: Arc<Engine>,
    period: u64,
) -> MidiInput {
    let stop = Arc::new(AtomicBool::new(false));
    let delay = latency(&engine, period);
    let reader = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("chronus-midi".into())
            .spawn(move || {
                chronus_engine::rt::try_realtime(chronus_engine::rt::INPUT_PRIORITY);
                let stats = router.stats();
                while !stop.load(Ordering::Relaxed) {
                    let mut any = false;
                    while let Some(ev) = receiver.pop() {
                        any = true;
                        // The audio client's events carry their sample; a client of its
                        // own's, JACK's clock (the monotonic clock), turned into one.
                        let arrived = ev
                            .sample
                            .or_else(|| engine.sample_at(ev.usecs.saturating_mul(1000)));
                        let at = arrived.map(|s| s + delay);
                        if ev.truncated() {
                            // A sysex longer than what is kept: read, and passed over.
                            stats.midi_events.fetch_add(1, Ordering::Relaxed);
                        } else {
                            router.midi_bytes(ev.data(), at);
                        }
                    }
                    stats
                        .midi_dropped
                        .store(receiver.dropped(), Ordering::Relaxed);
                    if !any {
                        // Poll interval: each event plays at its stamp plus `delay`, which
                        // covers this wait.
                        std::thread::sleep(Duration::from_micros(500));
                    }
                }
            })
            .ok()
    };
    MidiInput {
        stop,
        reader,
        _client: client,
    }
}

/// `--midi alsa` in this build.
pub fn alsa_unavailable() -> Result<()> {
    bail!(
        "MIDI from ALSA (the sequencer or raw MIDI) is not in this build of chronus: use --midi jack \
         (a2jmidid bridges ALSA MIDI devices into JACK)"
    )
}
