//! `chronus run --midi`: MIDI in, fed to the router at the sample each event arrived with.

use chronus_engine::Engine;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
#[cfg(any(feature = "jack", feature = "alsa"))]
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
    /// The ALSA sequencer: a port `<name>:midi_in` (any ALSA MIDI client can connect to
    /// it), or the raw MIDI device `--midi-device` names; each message stamped as it arrives.
    Alsa,
    /// JACK when a server answers, else the ALSA sequencer, else none (saying so).
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
    /// The ALSA input, kept open while it reads.
    #[cfg(feature = "alsa")]
    _alsa: Option<chronus_backend_alsa::midi::AlsaMidiIn>,
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
/// arrived in, and the engine's lookahead plus the blocks that leave the reader time to hand
/// it in before its block is sealed, so that it is never late and every event keeps its place
/// to the sample. Sealed at the tick, two blocks: the reader has two periods from the tick it
/// came at. Sealed later in the period (`chronus run`'s default, or mid-period), the block
/// after the lookahead is still open until the seal point, so one block leaves it one period
/// and that much more (1¾ periods sealed late, 1½ mid-period), and every event plays a block
/// sooner.
pub fn latency(engine: &Engine, period: u64) -> u64 {
    let c = engine.config();
    let margin = if c.seal.has_sealer() { 1 } else { 2 };
    period + (c.lookahead as u64 + margin) * c.block as u64
}

/// Runs `step` over and over in the reader thread, at real-time priority (below the
/// supervisor and the workers: a busy machine must not make events late), until stopped;
/// each `step` waits for input itself, a few ms at the most.
#[cfg(any(feature = "jack", feature = "alsa"))]
fn spawn_reader(
    mut step: impl FnMut() + Send + 'static,
) -> (Arc<AtomicBool>, Option<JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let reader = std::thread::Builder::new()
        .name("chronus-midi".into())
        .spawn(move || {
            chronus_engine::rt::try_realtime(chronus_engine::rt::INPUT_PRIORITY);
            while !flag.load(Ordering::Relaxed) {
                step();
            }
        })
        .ok();
    (stop, reader)
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
    let delay = latency(&engine, period);
    let stats = router.stats();
    let (stop, reader) = spawn_reader(move || {
        let mut any = false;
        while let Some(ev) = receiver.pop() {
            any = true;
            // The audio client's events carry their sample; a client of its own's, JACK's
            // clock (the monotonic clock), turned into one.
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
            // Poll interval: each event plays at its stamp plus `delay`, which covers it.
            std::thread::sleep(Duration::from_micros(500));
        }
    });
    MidiInput {
        stop,
        reader,
        _client: client,
        #[cfg(feature = "alsa")]
        _alsa: None,
    }
}

/// Starts the reader of what the ALSA input `input` sends on `rx` (stamped as it arrived).
#[cfg(feature = "alsa")]
pub fn start_alsa(
    input: chronus_backend_alsa::midi::AlsaMidiIn,
    rx: std::sync::mpsc::Receiver<chronus_backend_alsa::midi::ArrivedMidi>,
    router: Arc<chronus_osc::Router>,
    engine: Arc<Engine>,
    period: u64,
) -> MidiInput {
    let delay = latency(&engine, period);
    let stats = router.stats();
    let mut stream = chronus_midi::RawStream::new();
    let mut stray = 0;
    let (stop, reader) = spawn_reader(move || {
        let Ok(m) = rx.recv_timeout(Duration::from_millis(50)) else {
            return;
        };
        let at = engine.sample_at(m.ns).map(|s| s + delay);
        if m.stream {
            stream.feed(&m.bytes, |e| router.midi_event(e, at));
            let now = stream.stray_bytes();
            stats
                .midi_malformed
                .fetch_add(now - stray, Ordering::Relaxed);
            stray = now;
        } else {
            router.midi_bytes(&m.bytes, at);
        }
    });
    MidiInput {
        stop,
        reader,
        #[cfg(feature = "jack")]
        _client: None,
        _alsa: Some(input),
    }
}

/// `--midi alsa` in a build without ALSA.
#[cfg(not(feature = "alsa"))]
pub fn alsa_unavailable() -> anyhow::Result<()> {
    anyhow::bail!(
        "this build of chronus has no ALSA (build it with the feature `alsa`): use --midi jack"
    )
}
