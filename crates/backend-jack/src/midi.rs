//! JACK MIDI in: the `midi_in` port, its events stamped and handed to a non-real-time reader.
//!
//! In the audio client ([`crate::JackBackend::with_midi`]) an event is stamped with the engine
//! sample it arrived with: the frame the output adapter hands out at the start of the cycle,
//! plus the event's frame offset in it — exact to the sample. In a client of its own
//! ([`MidiClient::open`], for the other backends) it is stamped with JACK's clock
//! (microseconds, the system's monotonic clock), which the host turns into a sample.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Bytes of an event kept (longer ones are sysex, which chronus passes over: their length is
/// kept, and the first bytes).
pub const EVENT_BYTES: usize = 16;
/// Events the ring between the process callback and the reader holds (more in one burst are
/// counted as dropped).
pub const RING_EVENTS: usize = 4096;

/// One MIDI event from the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StampedMidi {
    /// The engine sample it arrived with (in the audio client).
    pub sample: Option<u64>,
    /// When it arrived on JACK's clock (microseconds of the system's monotonic clock).
    pub usecs: u64,
    /// Its length in bytes.
    pub len: usize,
    /// Its first [`EVENT_BYTES`] bytes.
    pub bytes: [u8; EVENT_BYTES],
}

impl StampedMidi {
    /// The event's bytes (the first [`EVENT_BYTES`] of a longer one).
    pub fn data(&self) -> &[u8] {
        &self.bytes[..self.len.min(EVENT_BYTES)]
    }

    /// Whether it was longer than what is kept (a sysex).
    pub fn truncated(&self) -> bool {
        self.len > EVENT_BYTES
    }
}

/// The reader's end: events in arrival order.
pub struct MidiReceiver {
    consumer: rtrb::Consumer<StampedMidi>,
    dropped: Arc<AtomicU64>,
}

impl MidiReceiver {
    /// The next event, if one came.
    pub fn pop(&mut self) -> Option<StampedMidi> {
        self.consumer.pop().ok()
    }

    /// Events dropped because the reader fell behind by [`RING_EVENTS`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

/// The process callback's end.
pub(crate) struct MidiSender {
    port: jack::Port<jack::MidiIn>,
    producer: rtrb::Producer<StampedMidi>,
    dropped: Arc<AtomicU64>,
}

/// Registers `midi_in` on `client`: the callback's end and the reader's.
pub(crate) fn register(client: &jack::Client) -> Result<(MidiSender, MidiReceiver), jack::Error> {
    let port = client.register_port("midi_in", jack::MidiIn::default())?;
    let (producer, consumer) = rtrb::RingBuffer::new(RING_EVENTS);
    let dropped = Arc::new(AtomicU64::new(0));
    Ok((
        MidiSender {
            port,
            producer,
            dropped: dropped.clone(),
        },
        MidiReceiver { consumer, dropped },
    ))
}

impl MidiSender {
    /// Moves this cycle's events into the ring, stamped; `start` is the engine sample of the
    /// cycle's first frame (`None` outside the audio client). Real-time thread: no
    /// allocation, no lock.
    pub(crate) fn take(&mut self, ps: &jack::ProcessScope, start: Option<u64>, sample_rate: f64) {
        let usecs = ps.cycle_times().map_or(0, |t| t.current_usecs);
        for ev in self.port.iter(ps) {
            let mut bytes = [0u8; EVENT_BYTES];
            let n = ev.bytes.len().min(EVENT_BYTES);
            bytes[..n].copy_from_slice(&ev.bytes[..n]);
            let stamped = StampedMidi {
                sample: start.map(|s| s + u64::from(ev.time)),
                usecs: usecs + (f64::from(ev.time) * 1e6 / sample_rate) as u64,
                len: ev.bytes.len(),
                bytes,
            };
            if self.producer.push(stamped).is_err() {
                self.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// The port's full name.
    pub(crate) fn name(&self) -> Option<String> {
        self.port.name().ok()
    }
}

struct MidiOnly {
    sender: MidiSender,
    sample_rate: f64,
}

impl jack::ProcessHandler for MidiOnly {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        self.sender.take(ps, None, self.sample_rate);
        jack::Control::Continue
    }
}

/// A JACK client of its own with a `midi_in` port: MIDI from JACK for a backend other than
/// JACK. Dropping it closes the client.
pub struct MidiClient {
    client: Option<jack::AsyncClient<(), MidiOnly>>,
    port: String,
}

impl MidiClient {
    /// Opens client `name` on the running server (never starts one), registers `midi_in`,
    /// and connects each of `sources` to it.
    pub fn open(
        name: &str,
        sources: &[String],
    ) -> Result<(MidiClient, MidiReceiver), crate::JackError> {
        let backend = crate::JackBackend::open(name, crate::Connect::Nothing)?;
        let client = backend.client;
        let sample_rate = f64::from(client.sample_rate());
        let (sender, receiver) = register(&client)?;
        let port = sender.name().unwrap_or_else(|| format!("{name}:midi_in"));
        let active = client.activate_async(
            (),
            MidiOnly {
                sender,
                sample_rate,
            },
        )?;
        crate::connect_sources(active.as_client(), sources, &port)?;
        Ok((
            MidiClient {
                client: Some(active),
                port,
            },
            receiver,
        ))
    }

    /// The port's full name (`chronus-midi:midi_in`).
    pub fn port(&self) -> &str {
        &self.port
    }
}

impl Drop for MidiClient {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.deactivate();
        }
    }
}
