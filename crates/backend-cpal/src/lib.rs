//! chronus-backend-cpal: plays the chronus engine's output on any output device cpal offers
//! (ALSA or JACK on Linux, CoreAudio, WASAPI).
//!
//! The default or a named device; the requested buffer size when the device allows it; f32,
//! i32 or i16 samples, whichever the device takes first. cpal's stream error callback is
//! counted and reported.
//!
//! The host is cpal's default (ALSA on Linux) unless [`CpalBackend::host`] names another:
//! with the `jack` feature, cpal's own JACK host (`jack`), whose client registers as
//! `cpal_client_<pid>_out` with ports `out_0..` connected to the system playback ports.
//!
//! ```no_run
//! use chronus_backend_cpal::CpalBackend;
//! use chronus_engine::backend::{Backend, StreamConfig};
//! use chronus_engine::{Engine, EngineConfig};
//!
//! let want = StreamConfig { sample_rate: 48_000, block: 64, channels: 2 };
//! let mut cpal = CpalBackend::default(); // the default host and device
//! let buffer = cpal.prepare(want)?;
//! let (engine, output) = Engine::start(EngineConfig::default().for_device_period(Some(buffer)))?;
//! let stream = Box::new(cpal).start(want, output, engine.metrics_handle())?;
//! // … play …
//! stream.stop()?;
//! # Ok::<(), chronus_engine::EngineError>(())
//! ```

#![warn(clippy::unwrap_used)]

use chronus_engine::backend::{Backend, BlockAdapter, Stream, StreamConfig, StreamReport};
use chronus_engine::offline::to_int;
use chronus_engine::{EngineError, Metrics, Output};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

fn err(reason: impl Into<String>) -> EngineError {
    EngineError::Backend {
        backend: "cpal",
        reason: reason.into(),
    }
}

/// A cpal output device to open.
#[derive(Debug, Clone, Default)]
pub struct CpalBackend {
    /// The cpal host by name (`alsa`, `jack`, …; `None`: the platform's default host).
    pub host: Option<String>,
    /// The device name (`None`: the host's default output device).
    pub device: Option<String>,
    /// Frames per callback (`None`: the engine's block if the device takes it, else the
    /// smallest of 128, 256, 512, 1024 it takes).
    pub buffer: Option<u32>,
}

impl CpalBackend {
    /// Finds the buffer size the device takes, by building (not playing) streams, so the
    /// engine can be started with enough lookahead. The size found is kept for `start`.
    pub fn prepare(&mut self, want: StreamConfig) -> Result<usize, EngineError> {
        let device = find_device(self)?;
        let range = choose_range(&device, want)?;
        let candidates: Vec<u32> = match self.buffer {
            Some(b) => vec![b],
            None => [want.block as u32, 128, 256, 512, 1024]
                .into_iter()
                .filter(|&n| n >= want.block as u32)
                .collect(),
        };
        for n in candidates {
            let config = cpal::StreamConfig {
                channels: want.channels as u16,
                sample_rate: want.sample_rate,
                buffer_size: cpal::BufferSize::Fixed(n),
            };
            let probe = match range.sample_format() {
                cpal::SampleFormat::F32 => device.build_output_stream(
                    config,
                    |d: &mut [f32], _: &cpal::OutputCallbackInfo| d.fill(0.0),
                    |_| {},
                    None,
                ),
                cpal::SampleFormat::I32 => device.build_output_stream(
                    config,
                    |d: &mut [i32], _: &cpal::OutputCallbackInfo| d.fill(0),
                    |_| {},
                    None,
                ),
                _ => device.build_output_stream(
                    config,
                    |d: &mut [i16], _: &cpal::OutputCallbackInfo| d.fill(0),
                    |_| {},
                    None,
                ),
            };
            if probe.is_ok() {
                self.buffer = Some(n);
                return Ok(n as usize);
            }
        }
        Err(err(format!(
            "{device} takes none of the buffer sizes 64..1024 frames"
        )))
    }
}

/// The names of the cpal hosts this build can use (`alsa`, and `jack` with the `jack` feature).
pub fn host_names() -> Vec<String> {
    cpal::available_hosts()
        .into_iter()
        .map(|id| id.to_string())
        .collect()
}

fn open_host(name: Option<&str>) -> Result<cpal::Host, EngineError> {
    let Some(name) = name else {
        return Ok(cpal::default_host());
    };
    let id: cpal::HostId = name.parse().map_err(|_| {
        err(format!(
            "no cpal host named '{name}' in this build (it has: {})",
            host_names().join(", ")
        ))
    })?;
    cpal::host_from_id(id).map_err(|e| err(format!("the cpal {name} host: {e}")))
}

fn find_device(b: &CpalBackend) -> Result<cpal::Device, EngineError> {
    let host = open_host(b.host.as_deref())?;
    match &b.device {
        None => host
            .default_output_device()
            .ok_or_else(|| err("no default output device (see `chronus devices`)")),
        Some(name) => host
            .output_devices()
            .map_err(|e| err(e.to_string()))?
            // The device's id (`pulse`, `hw:0,0`), as `chronus devices` lists it; or, as
            // before, its description.
            .find(|d| device_id(d).as_deref() == Some(name.as_str()) || d.to_string() == *name)
            .ok_or_else(|| {
                err(format!(
                    "no output device named '{name}' (see `chronus devices`)"
                ))
            }),
    }
}

/// One output device of a cpal host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The host's name (`alsa`, `jack`, …).
    pub host: String,
    /// The device's name, as `--device` takes it: the host's own id for it (`pulse`,
    /// `hw:0,0`), or its description where the host has no id.
    pub name: String,
    /// What the host says the device is (`PulseAudio Sound Server`).
    pub description: String,
    /// Whether it is the default output device of the default host.
    pub default: bool,
}

/// Output devices of every host this build has; the default host's default device is marked.
/// The JACK host is listed only while a JACK server answers (cpal's JACK host never starts one).
pub fn devices() -> Vec<DeviceInfo> {
    let default_host = cpal::default_host().id();
    let mut out = Vec::new();
    for id in cpal::available_hosts() {
        let Ok(host) = cpal::host_from_id(id) else {
            continue;
        };
        let default = host.default_output_device().map(|d| d.to_string());
        if let Ok(devs) = host.output_devices() {
            for d in devs {
                let description = d.to_string();
                out.push(DeviceInfo {
                    host: id.to_string(),
                    default: id == default_host && Some(&description) == default.as_ref(),
                    name: device_id(&d).unwrap_or_else(|| description.clone()),
                    description,
                });
            }
        }
    }
    out
}

/// The host's own id of a device (`pulse`, `hw:0,0`), without the host's prefix.
fn device_id(d: &cpal::Device) -> Option<String> {
    d.id().ok().map(|id| id.id().to_owned())
}

struct Shared {
    errors: AtomicU64,
    callbacks: AtomicU64,
    last_error: Mutex<Option<String>>,
}

struct CpalStream {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    config: StreamConfig,
}

impl Backend for CpalBackend {
    fn name(&self) -> &'static str {
        "cpal"
    }

    fn start(
        self: Box<Self>,
        config: StreamConfig,
        output: Output,
        metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError> {
        let shared = Arc::new(Shared {
            errors: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let (ready_tx, ready_rx) = mpsc::channel::<Result<StreamConfig, EngineError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let s = shared.clone();
        // The cpal stream lives on its own thread (it need not be Send on every platform).
        let thread = std::thread::Builder::new()
            .name("chronus-cpal".into())
            .spawn(move || {
                let built = build(&self, config, output, s, metrics);
                match built {
                    Ok((stream, obtained)) => {
                        let _ = ready_tx.send(Ok(obtained));
                        let _ = stop_rx.recv();
                        drop(stream);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| err(format!("cannot start the cpal thread: {e}")))?;
        let obtained = ready_rx
            .recv()
            .map_err(|_| err("the cpal thread ended before opening the device"))??;
        Ok(Box::new(CpalStream {
            stop: Some(stop_tx),
            thread: Some(thread),
            shared,
            config: obtained,
        }))
    }
}

#[allow(clippy::too_many_arguments)]
fn build_typed<T: cpal::SizedSample + Send + 'static>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    cell: Arc<Mutex<Option<BlockAdapter>>>,
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
    channels: usize,
    convert: fn(f32) -> T,
) -> Result<cpal::Stream, cpal::Error> {
    let mut adapter: Option<BlockAdapter> = None;
    let counter = shared.clone();
    device.build_output_stream(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            if adapter.is_none() {
                adapter = cell.try_lock().ok().and_then(|mut g| g.take());
            }
            match adapter.as_mut() {
                Some(a) => a.fill_frames(data, channels, convert),
                None => data.fill(convert(0.0)),
            }
            counter.callbacks.fetch_add(1, Relaxed);
        },
        move |e: cpal::Error| {
            shared.errors.fetch_add(1, Relaxed);
            metrics.add_xruns(1);
            if let Ok(mut l) = shared.last_error.try_lock() {
                *l = Some(e.to_string());
            }
        },
        None,
    )
}

fn choose_range(
    device: &cpal::Device,
    want: StreamConfig,
) -> Result<cpal::SupportedStreamConfigRange, EngineError> {
    let ranges: Vec<_> = device
        .supported_output_configs()
        .map_err(|e| err(e.to_string()))?
        .collect();
    let rate_fits = |r: &&cpal::SupportedStreamConfigRange| {
        (r.min_sample_rate()..=r.max_sample_rate()).contains(&want.sample_rate)
    };
    // The engine's channel count if the device has it; else the most it has below it (a
    // stereo engine on a mono device: the downmix), else the fewest above it (the extra
    // channels silent, or a mono engine copied to each).
    let channels = |r: &cpal::SupportedStreamConfigRange| usize::from(r.channels());
    let near = ranges
        .iter()
        .filter(rate_fits)
        .map(channels)
        .min_by_key(|&c| match c.cmp(&want.channels) {
            std::cmp::Ordering::Equal => (0, 0),
            std::cmp::Ordering::Less => (1, want.channels - c),
            std::cmp::Ordering::Greater => (2, c - want.channels),
        });
    [
        cpal::SampleFormat::F32,
        cpal::SampleFormat::I32,
        cpal::SampleFormat::I16,
    ]
    .iter()
    .find_map(|f| {
        ranges
            .iter()
            .filter(rate_fits)
            .filter(|r| Some(channels(r)) == near)
            .find(|r| r.sample_format() == *f)
    })
    .copied()
    .ok_or_else(|| {
        let offered: Vec<String> = ranges
            .iter()
            .map(|r| {
                format!(
                    "{} ch {}..{} Hz {:?}",
                    r.channels(),
                    r.min_sample_rate(),
                    r.max_sample_rate(),
                    r.sample_format()
                )
            })
            .collect();
        err(format!(
            "{device} cannot play {} ch at {} Hz in f32/i32/i16; it offers: {}",
            want.channels,
            want.sample_rate,
            offered.join(", ")
        ))
    })
}

fn build(
    b: &CpalBackend,
    want: StreamConfig,
    output: Output,
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
) -> Result<(cpal::Stream, StreamConfig), EngineError> {
    let device = find_device(b)?;
    let range = choose_range(&device, want)?;
    let format = range.sample_format();
    let buffer = match b.buffer {
        Some(n) => cpal::BufferSize::Fixed(n),
        None => cpal::BufferSize::Fixed(want.block as u32),
    };
    // What the device has (see `choose_range`); the adapter maps the engine's channels.
    let channels = usize::from(range.channels());
    // The adapter goes to whichever stream gets built: its callback takes it out of the cell
    // on the first call (one non-blocking try_lock) and owns it from then on.
    let cell = Arc::new(Mutex::new(Some(BlockAdapter::new(output))));
    let attempt = |buffer_size: cpal::BufferSize| {
        let config = cpal::StreamConfig {
            channels: channels as u16,
            sample_rate: want.sample_rate,
            buffer_size,
        };
        let (c, sh, m) = (cell.clone(), shared.clone(), metrics.clone());
        match format {
            cpal::SampleFormat::F32 => {
                build_typed::<f32>(&device, config, c, sh, m, channels, |x| x)
            }
            cpal::SampleFormat::I32 => {
                build_typed::<i32>(&device, config, c, sh, m, channels, |x| to_int(x, 32))
            }
            _ => build_typed::<i16>(&device, config, c, sh, m, channels, |x| {
                to_int(x, 16) as i16
            }),
        }
    };
    // The requested buffer size when the device takes it, else the device's default.
    let (stream, block) = match attempt(buffer) {
        Ok(s) => (
            s,
            if let cpal::BufferSize::Fixed(n) = buffer {
                n as usize
            } else {
                0
            },
        ),
        Err(_) if buffer != cpal::BufferSize::Default => (
            attempt(cpal::BufferSize::Default).map_err(|e| err(format!("{device}: {e}")))?,
            0,
        ),
        Err(e) => return Err(err(format!("{device}: {e}"))),
    };
    stream.play().map_err(|e| err(format!("{device}: {e}")))?;
    Ok((
        stream,
        StreamConfig {
            sample_rate: want.sample_rate,
            block,
            channels,
        },
    ))
}

impl Stream for CpalStream {
    fn obtained(&self) -> StreamConfig {
        self.config
    }

    fn xruns(&self) -> u64 {
        self.shared.errors.load(Relaxed)
    }

    fn stop(mut self: Box<Self>) -> Result<StreamReport, EngineError> {
        self.finish();
        Ok(StreamReport {
            blocks: self.shared.callbacks.load(Relaxed),
            xruns: self.shared.errors.load(Relaxed),
            dropped_recording: 0,
        })
    }

    fn error(&self) -> Option<String> {
        // cpal's errors are counted as xruns; the last one is kept for the stop report.
        None
    }
}

impl CpalStream {
    fn finish(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CpalStream {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_host_names_the_ones_there_are() {
        let e = open_host(Some("nosuchhost"))
            .err()
            .expect("no such host")
            .to_string();
        assert!(e.contains("no cpal host named 'nosuchhost'"), "{e}");
        for h in host_names() {
            assert!(e.contains(&h), "{e} lacks {h}");
        }
        assert!(open_host(None).is_ok());
    }
}
