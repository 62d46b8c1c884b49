//! chronus-backend-alsa: plays the chronus engine's output on an ALSA PCM.
//!
//! A dedicated real-time thread pulls engine blocks, converts them to the device's sample
//! format (f32, s32 or s16: scaled, rounded and clipped, no dither) interleaved over the
//! channels, and writes one period at a time; the blocking write paces it. An underrun
//! (`EPIPE`) is counted, and the device is prepared and filled again as at the start, so the
//! engine's lookahead is kept and no rendered period is dropped.
//!
//! ```no_run
//! use chronus_backend_alsa::AlsaBackend;
//! use chronus_engine::backend::{Backend, StreamConfig};
//! use chronus_engine::{Engine, EngineConfig};
//!
//! let want = StreamConfig { sample_rate: 48_000, block: 64, channels: 2 };
//! let mut alsa = AlsaBackend { device: "default".into(), format: None, period: None };
//! let (period, _buffer) = alsa.prepare(want)?; // the engine renders a period ahead
//! let config = EngineConfig::default().for_device_period(Some(period));
//! let (engine, output) = Engine::start(config)?;
//! let stream = Box::new(alsa).start(want, output, engine.metrics_handle())?;
//! // … play …
//! stream.stop()?;
//! # Ok::<(), chronus_engine::EngineError>(())
//! ```

#![warn(clippy::unwrap_used)]

pub mod midi;

use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};
use chronus_engine::backend::{Backend, BlockAdapter, Stream, StreamConfig, StreamReport};
use chronus_engine::offline::to_int;
use chronus_engine::{EngineError, Metrics, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

/// Sample formats chronus writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// 32-bit float, little endian.
    F32,
    /// 32-bit signed integer.
    S32,
    /// 16-bit signed integer.
    S16,
}

impl SampleFormat {
    fn alsa(self) -> Format {
        match self {
            SampleFormat::F32 => Format::FloatLE,
            SampleFormat::S32 => Format::S32LE,
            SampleFormat::S16 => Format::S16LE,
        }
    }
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::F32 | SampleFormat::S32 => 4,
            SampleFormat::S16 => 2,
        }
    }
}

impl std::str::FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(SampleFormat::F32),
            "s32" => Ok(SampleFormat::S32),
            "s16" => Ok(SampleFormat::S16),
            _ => Err(format!("unknown sample format '{s}' (use f32, s32 or s16)")),
        }
    }
}

/// An ALSA PCM to open.
#[derive(Debug, Clone)]
pub struct AlsaBackend {
    /// The PCM name (`default`, `hw:0`, `plughw:1,0`…).
    pub device: String,
    /// The sample format (`None`: the first of f32, s32, s16 the device takes).
    pub format: Option<SampleFormat>,
    /// Frames per period (`None`: the engine's block).
    pub period: Option<usize>,
}

fn err(reason: impl Into<String>) -> EngineError {
    EngineError::Backend {
        backend: "alsa",
        reason: reason.into(),
    }
}

impl AlsaBackend {
    /// Opens and configures the device once, to learn its period and buffer (frames) before
    /// the engine starts, then closes it. The period found is kept for [`Backend::start`].
    pub fn prepare(&mut self, want: StreamConfig) -> Result<(usize, usize), EngineError> {
        let pcm = PCM::new(&self.device, Direction::Playback, false).map_err(|e| {
            err(format!(
                "cannot open ALSA device '{}': {e} (see `chronus devices`)",
                self.device
            ))
        })?;
        let o = configure(&pcm, self, want)?;
        self.period = Some(o.period);
        Ok((o.period, o.buffer))
    }
}

/// What the device gave.
#[derive(Debug, Clone, Copy)]
struct Obtained {
    rate: u32,
    channels: usize,
    period: usize,
    buffer: usize,
    format: SampleFormat,
}

fn configure(pcm: &PCM, b: &AlsaBackend, want: StreamConfig) -> Result<Obtained, EngineError> {
    let hw = HwParams::any(pcm).map_err(|e| err(format!("{}: {e}", b.device)))?;
    hw.set_access(Access::RWInterleaved)
        .map_err(|e| err(format!("interleaved access: {e}")))?;
    // The engine's channel count, or the nearest the device has (the adapter maps them: a
    // stereo engine on a mono device plays the downmix).
    let channels = match hw.set_channels(want.channels as u32) {
        Ok(()) => want.channels,
        Err(_) => {
            let (lo, hi) = (
                hw.get_channels_min().unwrap_or(0),
                hw.get_channels_max().unwrap_or(0),
            );
            hw.set_channels_near(want.channels as u32)
                .ok()
                .map(|c| c as usize)
                .filter(|&c| c >= 1)
                .ok_or_else(|| {
                    err(format!(
                        "{} cannot play {} channels, nor any near it (it takes {lo}..{hi})",
                        b.device, want.channels
                    ))
                })?
        }
    };
    let (lo, hi) = (
        hw.get_rate_min().unwrap_or(0),
        hw.get_rate_max().unwrap_or(0),
    );
    if hw.set_rate(want.sample_rate, ValueOr::Nearest).is_err()
        || hw.get_rate().ok() != Some(want.sample_rate)
    {
        return Err(err(format!(
            "{} cannot run at {} Hz (it offers {lo}..{hi} Hz)",
            b.device, want.sample_rate
        )));
    }
    let candidates: Vec<SampleFormat> = match b.format {
        Some(f) => vec![f],
        None => vec![SampleFormat::F32, SampleFormat::S32, SampleFormat::S16],
    };
    let format = candidates
        .into_iter()
        .find(|f| hw.test_format(f.alsa()).is_ok())
        .ok_or_else(|| {
            err(format!(
                "{} takes none of the formats asked for (f32, s32, s16)",
                b.device
            ))
        })?;
    hw.set_format(format.alsa())
        .map_err(|e| err(format!("format: {e}")))?;
    let period = b.period.unwrap_or(want.block) as alsa::pcm::Frames;
    let period = hw
        .set_period_size_near(period, ValueOr::Nearest)
        .map_err(|e| err(format!("period: {e}")))?;
    let buffer = hw
        .set_buffer_size_near(period * 3)
        .map_err(|e| err(format!("buffer: {e}")))?;
    pcm.hw_params(&hw)
        .map_err(|e| err(format!("{}: {e}", b.device)))?;
    Ok(Obtained {
        rate: want.sample_rate,
        channels,
        period: period as usize,
        buffer: buffer as usize,
        format,
    })
}

struct Shared {
    stop: AtomicBool,
    underruns: AtomicU64,
    periods: AtomicU64,
    failure: Mutex<Option<String>>,
}

fn play(
    pcm: PCM,
    o: Obtained,
    mut adapter: BlockAdapter,
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
) {
    chronus_engine::rt::try_realtime(75);
    // Start with the device buffer full of silence but for one period: then each write below
    // takes one period, at the device's pace, instead of a burst the engine has not rendered.
    let prefill = o.buffer.saturating_sub(o.period);
    if prefill > 0 {
        let silence = vec![0u8; prefill * o.channels * o.format.bytes()];
        let _ = pcm.io_bytes().writei(&silence);
    }
    // The typed writer is checked once, here: checking it again for every period would ask
    // alsa-lib for the hardware parameters (and allocate) in the audio loop.
    let (a, s, m) = (&mut adapter, &*shared, &*metrics);
    let io = match o.format {
        SampleFormat::F32 => pcm
            .io_f32()
            .map(|io| write_loop(&pcm, &io, o, a, s, m, |x| x)),
        SampleFormat::S32 => pcm
            .io_i32()
            .map(|io| write_loop(&pcm, &io, o, a, s, m, |x| to_int(x, 32))),
        SampleFormat::S16 => pcm
            .io_i16()
            .map(|io| write_loop(&pcm, &io, o, a, s, m, |x| to_int(x, 16) as i16)),
    };
    if let Err(e) = io {
        *shared.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("ALSA io: {e}"));
        return;
    }
    let _ = pcm.drain();
}

/// Renders, converts and writes one period at a time until asked to stop. No allocation in
/// the loop: the buffers are made once. Runs on the real-time output thread.
fn write_loop<T: alsa::pcm::IoFormat + Copy + Default>(
    pcm: &PCM,
    io: &alsa::pcm::IO<'_, T>,
    o: Obtained,
    adapter: &mut BlockAdapter,
    shared: &Shared,
    metrics: &Metrics,
    convert: fn(f32) -> T,
) {
    let mut buf = vec![T::default(); o.period * o.channels];
    let silence = vec![T::default(); o.buffer.saturating_sub(o.period) * o.channels];
    let device = Pcm { pcm, io };
    while !shared.stop.load(Acquire) {
        adapter.fill_frames(&mut buf, o.channels, convert);
        if let Err(e) = write_period(&device, &buf, &silence, shared, metrics) {
            *shared.failure.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("ALSA write: {e}"));
            return;
        }
    }
}

/// What [`write_period`] needs of a PCM: alsa-lib's, or a test's.
trait Device<T> {
    /// Writes interleaved frames; blocks while the device buffer is full.
    fn write(&self, buf: &[T]) -> Result<usize, alsa::Error>;
    /// Makes the device ready to start again after an underrun.
    fn prepare(&self) -> Result<(), alsa::Error>;
    /// alsa-lib's recovery for other errors (a suspend, an interrupted call).
    fn recover(&self, e: alsa::Error) -> Result<(), alsa::Error>;
}

struct Pcm<'a, 'b, T: Copy> {
    pcm: &'a PCM,
    io: &'a alsa::pcm::IO<'b, T>,
}

impl<T: alsa::pcm::IoFormat + Copy> Device<T> for Pcm<'_, '_, T> {
    fn write(&self, buf: &[T]) -> Result<usize, alsa::Error> {
        self.io.writei(buf)
    }
    fn prepare(&self) -> Result<(), alsa::Error> {
        self.pcm.prepare()
    }
    fn recover(&self, e: alsa::Error) -> Result<(), alsa::Error> {
        self.pcm.try_recover(e, true)
    }
}

/// Writes one period. After an underrun (`EPIPE`: the device ran dry) the device is prepared
/// and filled as at the start — silence for the buffer less one period, then the period that
/// did not get in — so it resumes with its whole buffer queued and each later write again
/// waits one period: the output does not pull a burst of blocks the workers have not rendered
/// yet (which would spend their lookahead), and no rendered period is dropped. Counted as an
/// underrun and a backend xrun. Runs on the real-time output thread; allocates nothing.
fn write_period<T>(
    device: &impl Device<T>,
    buf: &[T],
    silence: &[T],
    shared: &Shared,
    metrics: &Metrics,
) -> Result<(), alsa::Error> {
    match device.write(buf) {
        Ok(_) => {
            shared.periods.fetch_add(1, Relaxed);
            Ok(())
        }
        Err(e) if e.errno() == libc_epipe() => {
            shared.underruns.fetch_add(1, Relaxed);
            metrics.add_xruns(1);
            device.prepare()?;
            if !silence.is_empty() {
                device.write(silence)?;
            }
            device.write(buf)?;
            shared.periods.fetch_add(1, Relaxed);
            Ok(())
        }
        Err(e) => device.recover(e),
    }
}

const fn libc_epipe() -> i32 {
    32 // EPIPE on Linux
}

struct AlsaStream {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    config: StreamConfig,
    buffer: usize,
}

impl Backend for AlsaBackend {
    fn name(&self) -> &'static str {
        "alsa"
    }

    fn start(
        self: Box<Self>,
        config: StreamConfig,
        output: Output,
        metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError> {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            periods: AtomicU64::new(0),
            failure: Mutex::new(None),
        });
        let (tx, rx) = mpsc::channel();
        let s = shared.clone();
        let me = *self;
        let thread = std::thread::Builder::new()
            .name("chronus-alsa".into())
            .spawn(move || {
                let opened = PCM::new(&me.device, Direction::Playback, false)
                    .map_err(|e| {
                        err(format!(
                            "cannot open ALSA device '{}': {e} (see `chronus devices`)",
                            me.device
                        ))
                    })
                    .and_then(|pcm| configure(&pcm, &me, config).map(|o| (pcm, o)));
                match opened {
                    Ok((pcm, o)) => {
                        let _ = tx.send(Ok(o));
                        play(pcm, o, BlockAdapter::new(output), s, metrics);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| err(format!("cannot start the ALSA thread: {e}")))?;
        let o = rx
            .recv()
            .map_err(|_| err("the ALSA thread ended before opening the device"))??;
        let obtained = StreamConfig {
            sample_rate: o.rate,
            block: o.period,
            channels: o.channels,
        };
        Ok(Box::new(AlsaStream {
            shared,
            thread: Some(thread),
            config: obtained,
            buffer: o.buffer,
        }))
    }
}

impl Stream for AlsaStream {
    fn obtained(&self) -> StreamConfig {
        self.config
    }

    fn device_latency_frames(&self) -> Option<u64> {
        Some(self.buffer as u64)
    }

    fn xruns(&self) -> u64 {
        self.shared.underruns.load(Relaxed)
    }

    fn stop(mut self: Box<Self>) -> Result<StreamReport, EngineError> {
        self.shared.stop.store(true, Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Ok(StreamReport {
            blocks: self.shared.periods.load(Relaxed),
            xruns: self.shared.underruns.load(Relaxed),
            dropped_recording: 0,
        })
    }

    fn error(&self) -> Option<String> {
        self.shared
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for AlsaStream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// PCM names ALSA knows (from its hints), with their descriptions.
pub fn devices() -> Vec<(String, String)> {
    let Ok(hints) = alsa::device_name::HintIter::new_str(None, "pcm") else {
        return Vec::new();
    };
    hints
        .filter(|h| h.direction.is_none_or(|d| d == Direction::Playback))
        .filter_map(|h| Some((h.name?, h.desc.unwrap_or_default().replace('\n', " "))))
        .collect()
}

/// True when the PCM opens for playback (it is closed again at once).
pub fn probe(device: &str) -> bool {
    PCM::new(device, Direction::Playback, true).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device that runs dry on the `dry`-th write, and logs what it is asked.
    struct Fake {
        dry: usize,
        log: std::cell::RefCell<Vec<String>>,
    }

    impl Device<i16> for Fake {
        fn write(&self, buf: &[i16]) -> Result<usize, alsa::Error> {
            let mut log = self.log.borrow_mut();
            let n = log.iter().filter(|l| l.starts_with("write")).count() + 1;
            if n == self.dry {
                log.push("write: underrun".into());
                return Err(alsa::Error::new("snd_pcm_writei", libc_epipe()));
            }
            log.push(format!("write {} frames of {}", buf.len(), buf[0]));
            Ok(buf.len())
        }
        fn prepare(&self) -> Result<(), alsa::Error> {
            self.log.borrow_mut().push("prepare".into());
            Ok(())
        }
        fn recover(&self, _: alsa::Error) -> Result<(), alsa::Error> {
            self.log.borrow_mut().push("recover".into());
            Ok(())
        }
    }

    #[test]
    fn after_an_underrun_the_device_is_refilled_and_no_period_is_lost() {
        let shared = Shared {
            stop: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            periods: AtomicU64::new(0),
            failure: Mutex::new(None),
        };
        let metrics = Metrics::default();
        let device = Fake {
            dry: 3,
            log: Default::default(),
        };
        // Period 4 frames, buffer 12: the refill is 8 frames of silence.
        let silence = [0i16; 8];
        for period in 1..=4i16 {
            write_period(&device, &[period; 4], &silence, &shared, &metrics).unwrap();
        }
        assert_eq!(
            device.log.borrow().as_slice(),
            [
                "write 4 frames of 1",
                "write 4 frames of 2",
                "write: underrun",
                "prepare",
                "write 8 frames of 0",
                "write 4 frames of 3",
                "write 4 frames of 4",
            ]
        );
        assert_eq!(
            shared.periods.load(Relaxed),
            4,
            "every period reached the device"
        );
        assert_eq!(shared.underruns.load(Relaxed), 1);
        assert_eq!(metrics.snapshot().xruns, 1);
    }

    #[test]
    fn sample_formats_by_name() {
        assert_eq!("f32".parse::<SampleFormat>(), Ok(SampleFormat::F32));
        assert_eq!("s32".parse::<SampleFormat>(), Ok(SampleFormat::S32));
        assert_eq!("s16".parse::<SampleFormat>(), Ok(SampleFormat::S16));
        let e = "u8".parse::<SampleFormat>().unwrap_err();
        assert!(e.contains("f32, s32 or s16"), "{e}");
    }

    #[test]
    fn a_pcm_that_does_not_exist_is_not_probed_as_playable() {
        assert!(!probe("chronus_no_such_pcm"));
    }
}
