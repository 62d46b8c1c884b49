//! Picking and opening an audio backend for `chronus run` (and listing devices).

use anyhow::{bail, Result};
use chronus_engine::backend::{Backend, NullBackend};

/// The audio backends by name, as `--backend` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// A running JACK server, else the default ALSA device, else null with a warning.
    Auto,
    /// A real-time clock with no device (plays into nothing; can record).
    Null,
    /// A client of a running JACK server.
    Jack,
    /// An ALSA PCM.
    Alsa,
    /// Any output device cpal offers.
    Cpal,
}

impl BackendKind {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Auto => "auto",
            BackendKind::Null => "null",
            BackendKind::Jack => "jack",
            BackendKind::Alsa => "alsa",
            BackendKind::Cpal => "cpal",
        }
    }

    /// Whether this build has it.
    pub fn built(self) -> bool {
        match self {
            BackendKind::Auto | BackendKind::Null => true,
            BackendKind::Jack => cfg!(feature = "jack"),
            BackendKind::Alsa => cfg!(feature = "alsa"),
            BackendKind::Cpal => cfg!(feature = "cpal"),
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the user asked for. (A build without some backends leaves their fields unread.)
#[derive(Debug, Clone)]
#[cfg_attr(
    not(all(feature = "jack", feature = "alsa", feature = "cpal")),
    allow(dead_code)
)]
pub struct Choice {
    /// Which backend.
    pub backend: BackendKind,
    /// JACK client name.
    pub jack_name: String,
    /// JACK ports to connect to (empty: the system playback ports).
    pub connect: Vec<String>,
    /// Leave JACK ports unconnected.
    pub no_connect: bool,
    /// ALSA PCM name.
    pub device: Option<String>,
    /// ALSA sample format (f32, s32, s16).
    pub alsa_format: Option<String>,
    /// The cpal host (`alsa`, `jack`; `None`: the default).
    pub cpal_host: Option<String>,
    /// What the engine will ask of the device (for backends that must be probed first).
    pub want: chronus_engine::backend::StreamConfig,
    /// A JACK MIDI input in the audio client (JACK backend), with these sources connected.
    pub midi: Option<Vec<String>>,
}

/// An opened backend and the sample rate it dictates (if it does).
pub struct Opened {
    /// The backend, ready to start.
    pub backend: Box<dyn Backend>,
    /// Its name.
    pub name: &'static str,
    /// The device's sample rate, when the device decides it (JACK).
    pub sample_rate: Option<u32>,
    /// Frames the device asks for per callback, when known before starting (JACK).
    pub period: Option<u32>,
    /// The MIDI input registered in the audio client (`Choice::midi`, JACK backend).
    #[cfg(feature = "jack")]
    pub midi: Option<(chronus_backend_jack::MidiReceiver, String)>,
}

/// Backends compiled into this binary.
pub fn available() -> Vec<BackendKind> {
    use clap::ValueEnum as _;
    let mut v: Vec<BackendKind> = BackendKind::value_variants()
        .iter()
        .copied()
        .filter(|b| b.built() && *b != BackendKind::Auto)
        .collect();
    v.push(BackendKind::Auto);
    v
}

#[cfg(feature = "jack")]
fn open_jack(choice: &Choice) -> Result<Opened, chronus_backend_jack::JackError> {
    use chronus_backend_jack::{Connect, JackBackend};
    let connect = if choice.no_connect {
        Connect::Nothing
    } else if choice.connect.is_empty() {
        Connect::System
    } else {
        Connect::Ports(choice.connect.clone())
    };
    let mut jack = JackBackend::open(&choice.jack_name, connect)?;
    let (rate, period) = (jack.sample_rate(), jack.buffer_size());
    let midi = match &choice.midi {
        Some(sources) => {
            let port = format!("{}:midi_in", jack.name());
            Some((jack.with_midi(sources.clone())?, port))
        }
        None => None,
    };
    Ok(Opened {
        backend: Box::new(jack),
        name: "jack",
        sample_rate: Some(rate),
        period: Some(period),
        midi,
    })
}

#[cfg(feature = "alsa")]
fn open_alsa(choice: &Choice) -> Result<Opened> {
    let format = match &choice.alsa_format {
        Some(f) => Some(
            f.parse::<chronus_backend_alsa::SampleFormat>()
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let device = choice
        .device
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let mut alsa = chronus_backend_alsa::AlsaBackend {
        device,
        format,
        period: None,
    };
    // The writer renders a device period at a time: learn it before the engine starts.
    let (period, _buffer) = alsa.prepare(choice.want)?;
    Ok(Opened {
        backend: Box::new(alsa),
        name: "alsa",
        sample_rate: None,
        period: Some(period as u32),
        #[cfg(feature = "jack")]
        midi: None,
    })
}

fn null() -> Opened {
    Opened {
        backend: Box::new(NullBackend {
            record: None,
            max_blocks: None,
        }),
        name: "null",
        sample_rate: None,
        period: None,
        #[cfg(feature = "jack")]
        midi: None,
    }
}

/// Opens the backend the user chose.
pub fn open(choice: &Choice) -> Result<Opened> {
    match choice.backend {
        BackendKind::Null => Ok(null()),
        #[cfg(feature = "jack")]
        BackendKind::Jack => Ok(open_jack(choice)?),
        #[cfg(feature = "alsa")]
        BackendKind::Alsa => open_alsa(choice),
        #[cfg(feature = "cpal")]
        BackendKind::Cpal => {
            let mut cpal = chronus_backend_cpal::CpalBackend {
                host: choice.cpal_host.clone(),
                device: choice.device.clone(),
                buffer: None,
            };
            // The device's callback size, learnt before the engine starts (it sets the lookahead).
            let period = cpal.prepare(choice.want)?;
            Ok(Opened {
                backend: Box::new(cpal),
                name: "cpal",
                sample_rate: None,
                period: Some(period as u32),
                #[cfg(feature = "jack")]
                midi: None,
            })
        }
        BackendKind::Auto => {
            #[cfg(feature = "jack")]
            if let Ok(o) = open_jack(choice) {
                return Ok(o);
            }
            #[cfg(feature = "alsa")]
            if chronus_backend_alsa::probe(choice.device.as_deref().unwrap_or("default")) {
                return open_alsa(choice);
            }
            tracing::warn!("no audio device found (no JACK server answered, no ALSA device opened); playing on the null backend — nothing will be heard");
            Ok(null())
        }
        #[allow(unreachable_patterns)]
        other => bail!(
            "this build of chronus has no {other} backend (it has {}): build it with the \
             feature `{other}`",
            available()
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
