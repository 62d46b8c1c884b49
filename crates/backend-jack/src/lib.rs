//! chronus-backend-jack: plays the chronus engine's output as a JACK client.
//!
//! [`JackBackend::open`] connects to a running JACK server (never starts one) and tells its
//! sample rate and buffer size, so the engine can be started to match; starting the backend
//! registers `out_1` (and `out_2`… with more channels), activates the client and connects the
//! ports to the system's playback ports or to the ones asked for. Xruns are counted; a server
//! that goes away is reported through [`Stream::error`].
//!
//! ```no_run
//! use chronus_backend_jack::{Connect, JackBackend};
//! use chronus_engine::backend::{Backend, StreamConfig};
//! use chronus_engine::{Engine, EngineConfig};
//!
//! let jack = JackBackend::open("chronus", Connect::System)?;
//! let want = StreamConfig { sample_rate: jack.sample_rate(), block: 64, channels: 2 };
//! let config = EngineConfig {
//!     sample_rate: f64::from(jack.sample_rate()),
//!     ..EngineConfig::default()
//! }
//! .for_device_period(Some(jack.buffer_size() as usize));
//! let (engine, output) = Engine::start(config)?;
//! let stream = Box::new(jack).start(want, output, engine.metrics_handle())?;
//! // … play …
//! stream.stop()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::unwrap_used)]

pub mod midi;

pub use midi::{MidiClient, MidiReceiver, StampedMidi};

use chronus_engine::backend::{Backend, BlockAdapter, Stream, StreamConfig, StreamReport};
use chronus_engine::{EngineError, Metrics, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;

/// Where the output ports go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Connect {
    /// To the system's physical playback ports (the default).
    #[default]
    System,
    /// Nowhere: connect them yourself.
    Nothing,
    /// To these ports, in order (wrapping over the channels).
    Ports(Vec<String>),
}

/// Errors of the JACK backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JackError {
    /// No server answered.
    #[error("no JACK server is running{server} ({detail}); start one (e.g. `jackd -d alsa`) or use --backend null")]
    NoServer {
        /// " named X" when JACK_DEFAULT_SERVER is set.
        server: String,
        /// What libjack said.
        detail: String,
    },
    /// A connection that could not be made.
    #[error("cannot connect {from} to {to} ({detail}); list the ports with `chronus devices` or `jack_lsp`")]
    Connect {
        /// The source port.
        from: String,
        /// The destination port.
        to: String,
        /// What JACK said.
        detail: String,
    },
    /// Any other JACK failure.
    #[error("JACK: {0}")]
    Jack(#[from] jack::Error),
}

impl From<JackError> for EngineError {
    fn from(e: JackError) -> Self {
        EngineError::Backend {
            backend: "jack",
            reason: e.to_string(),
        }
    }
}

/// A JACK client, opened and ready to play.
pub struct JackBackend {
    client: jack::Client,
    connect: Connect,
    /// `midi_in`, registered by [`JackBackend::with_midi`], and the sources to connect to it.
    midi: Option<(midi::MidiSender, Vec<String>)>,
}

impl JackBackend {
    /// Opens a client named `name` on the running server (never starts a server).
    pub fn open(name: &str, connect: Connect) -> Result<JackBackend, JackError> {
        match jack::Client::new(name, jack::ClientOptions::NO_START_SERVER) {
            Ok((client, _status)) => Ok(JackBackend {
                client,
                connect,
                midi: None,
            }),
            Err(e) => Err(JackError::NoServer {
                server: std::env::var("JACK_DEFAULT_SERVER")
                    .map(|s| format!(" named '{s}'"))
                    .unwrap_or_default(),
                detail: e.to_string(),
            }),
        }
    }

    /// Registers a MIDI input port, `midi_in`, in this client, connected to each of `sources`
    /// once started; its events are stamped with the engine sample they arrived with (see
    /// [`midi`]). Returns the reader's end.
    pub fn with_midi(&mut self, sources: Vec<String>) -> Result<MidiReceiver, JackError> {
        let (sender, receiver) = midi::register(&self.client)?;
        self.midi = Some((sender, sources));
        Ok(receiver)
    }

    /// The server's sample rate: the engine must run at it.
    pub fn sample_rate(&self) -> u32 {
        self.client.sample_rate()
    }

    /// The server's period (frames per callback).
    pub fn buffer_size(&self) -> u32 {
        self.client.buffer_size()
    }

    /// The client's name as the server registered it.
    pub fn name(&self) -> &str {
        self.client.name()
    }

    /// Every audio port the server knows, as (name, is an input that chronus could play to).
    pub fn ports(&self) -> Vec<(String, bool)> {
        self.client
            .ports(
                None,
                Some(jack::jack_sys::FLOAT_MONO_AUDIO.trim_end_matches('\0')),
                jack::PortFlags::empty(),
            )
            .into_iter()
            .map(|name| {
                let input = self
                    .client
                    .port_by_name(&name)
                    .is_some_and(|p| p.flags().contains(jack::PortFlags::IS_INPUT));
                (name, input)
            })
            .collect()
    }
}

impl JackBackend {
    /// Every MIDI output port the server knows: sources chronus can take MIDI from
    /// (`--midi-connect NAME`).
    pub fn midi_sources(&self) -> Vec<String> {
        self.client.ports(
            None,
            Some(jack::jack_sys::RAW_MIDI_TYPE.trim_end_matches('\0')),
            jack::PortFlags::IS_OUTPUT,
        )
    }
}

struct Notifications {
    xruns: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
    gone: Arc<AtomicBool>,
}

impl jack::NotificationHandler for Notifications {
    unsafe fn shutdown(&mut self, _status: jack::ClientStatus, _reason: &str) {
        self.gone.store(true, Release);
    }

    fn xrun(&mut self, _: &jack::Client) -> jack::Control {
        self.xruns.fetch_add(1, Relaxed);
        self.metrics.add_xruns(1);
        jack::Control::Continue
    }
}

struct Process {
    ports: Vec<jack::Port<jack::AudioOut>>,
    adapter: BlockAdapter,
    blocks: Arc<AtomicU64>,
    midi: Option<midi::MidiSender>,
    sample_rate: f64,
}

impl jack::ProcessHandler for Process {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        // Real-time: the adapter renders engine blocks and hands each port its channel
        // (a mono engine's one channel to every port).
        let frames = ps.n_frames() as usize;
        // MIDI first: each event stamped with the engine sample of its frame in this cycle.
        if let Some(m) = self.midi.as_mut() {
            m.take(ps, Some(self.adapter.position()), self.sample_rate);
        }
        let (ports, adapter) = (&mut self.ports, &mut self.adapter);
        let count = ports.len();
        adapter.fill_ports(frames, count, |port, offset, samples| {
            if let Some(p) = ports.get_mut(port) {
                if let Some(dst) = p.as_mut_slice(ps).get_mut(offset..offset + samples.len()) {
                    dst.copy_from_slice(samples);
                }
            }
        });
        self.blocks.fetch_add(1, Relaxed);
        jack::Control::Continue
    }
}

struct JackStream {
    client: Option<jack::AsyncClient<Notifications, Process>>,
    config: StreamConfig,
    xruns: Arc<AtomicU64>,
    gone: Arc<AtomicBool>,
    cycles: Arc<AtomicU64>,
}

impl Backend for JackBackend {
    fn name(&self) -> &'static str {
        "jack"
    }

    fn start(
        self: Box<Self>,
        config: StreamConfig,
        output: Output,
        metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError> {
        let rate = self.client.sample_rate();
        if f64::from(rate) != output.sample_rate() {
            return Err(EngineError::Backend {
                backend: "jack",
                reason: format!(
                    "the JACK server runs at {rate} Hz but the engine at {} Hz",
                    output.sample_rate()
                ),
            });
        }
        let channels = config.channels.max(1);
        let mut ports = Vec::new();
        for i in 1..=channels {
            ports.push(
                self.client
                    .register_port(&format!("out_{i}"), jack::AudioOut::default())
                    .map_err(JackError::from)?,
            );
        }
        let names: Vec<String> = ports.iter().filter_map(|p| p.name().ok()).collect();
        let targets: Vec<String> = match &self.connect {
            Connect::Nothing => Vec::new(),
            Connect::Ports(p) => p.clone(),
            Connect::System => self.client.ports(
                None,
                Some(jack::jack_sys::FLOAT_MONO_AUDIO.trim_end_matches('\0')),
                jack::PortFlags::IS_INPUT | jack::PortFlags::IS_PHYSICAL,
            ),
        };
        let xruns = Arc::new(AtomicU64::new(0));
        let gone = Arc::new(AtomicBool::new(false));
        let cycles = Arc::new(AtomicU64::new(0));
        let obtained = StreamConfig {
            sample_rate: rate,
            block: self.client.buffer_size() as usize,
            channels,
        };
        let notifications = Notifications {
            xruns: xruns.clone(),
            metrics,
            gone: gone.clone(),
        };
        let (midi, sources) = match self.midi {
            Some((sender, sources)) => (Some(sender), sources),
            None => (None, Vec::new()),
        };
        let midi_port = midi.as_ref().and_then(midi::MidiSender::name);
        let process = Process {
            ports,
            adapter: BlockAdapter::new(output),
            blocks: cycles.clone(),
            midi,
            sample_rate: f64::from(rate),
        };
        let active = self
            .client
            .activate_async(notifications, process)
            .map_err(JackError::from)?;
        if !targets.is_empty() {
            for (i, name) in names.iter().enumerate() {
                let target = &targets[i % targets.len()];
                active
                    .as_client()
                    .connect_ports_by_name(name, target)
                    .map_err(|e| EngineError::Backend {
                        backend: "jack",
                        reason: format!(
                            "cannot connect {name} to {target}: {e} (see `chronus devices`)"
                        ),
                    })?;
            }
        }
        if let Some(port) = midi_port {
            connect_sources(active.as_client(), &sources, &port)?;
        }
        Ok(Box::new(JackStream {
            client: Some(active),
            config: obtained,
            xruns,
            gone,
            cycles,
        }))
    }
}

/// Connects each of `sources` (output ports, e.g. `seq:out`) to `port`.
pub(crate) fn connect_sources(
    client: &jack::Client,
    sources: &[String],
    port: &str,
) -> Result<(), JackError> {
    for source in sources {
        client
            .connect_ports_by_name(source, port)
            .map_err(|e| JackError::Connect {
                from: source.clone(),
                to: port.to_owned(),
                detail: e.to_string(),
            })?;
    }
    Ok(())
}

impl Stream for JackStream {
    fn obtained(&self) -> StreamConfig {
        self.config
    }

    fn device_latency_frames(&self) -> Option<u64> {
        Some(self.config.block as u64)
    }

    fn xruns(&self) -> u64 {
        self.xruns.load(Relaxed)
    }

    fn stop(mut self: Box<Self>) -> Result<StreamReport, EngineError> {
        if let Some(c) = self.client.take() {
            if !self.gone.load(Acquire) {
                let _ = c.deactivate();
            }
        }
        Ok(StreamReport {
            blocks: self.cycles.load(Relaxed),
            xruns: self.xruns.load(Relaxed),
            dropped_recording: 0,
        })
    }

    fn error(&self) -> Option<String> {
        self.gone
            .load(Acquire)
            .then(|| "the JACK server went away".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_server_is_a_clear_error_naming_it() {
        // Only this test reads these variables (nextest runs each test in its own process).
        std::env::set_var("JACK_DEFAULT_SERVER", "chronus-unit-no-such-server");
        std::env::set_var("JACK_NO_START_SERVER", "1");
        let e = JackBackend::open("chronus-unit", Connect::Nothing)
            .err()
            .expect("no such server")
            .to_string();
        assert!(
            e.contains("no JACK server is running named 'chronus-unit-no-such-server'"),
            "{e}"
        );
    }
}
