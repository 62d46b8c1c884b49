//! The [`Backend`] trait every audio output implements, and the built-in `null` backend: a
//! real-time clocked thread with no device that can record what it plays to a WAV file.

use crate::metrics::Metrics;
use crate::output::Output;
use crate::wav::{WavFormat, WavWriter};
use crate::EngineError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What was asked of a device, or what it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Frames per second.
    pub sample_rate: u32,
    /// Frames per callback.
    pub block: usize,
    /// Output channels of the device (see [`BlockAdapter`] for how the engine's channels
    /// meet them).
    pub channels: usize,
}

impl StreamConfig {
    /// What an engine with `config` asks of a device with `channels` outputs: its sample
    /// rate and block.
    pub fn for_engine(config: &crate::EngineConfig, channels: usize) -> StreamConfig {
        StreamConfig {
            sample_rate: config.sample_rate.round() as u32,
            block: config.block,
            channels,
        }
    }
}

/// A running stream. Dropping it stops it too.
pub trait Stream: Send {
    /// What the device gave.
    fn obtained(&self) -> StreamConfig;
    /// Output latency of the device itself (its buffer), in frames, if known.
    fn device_latency_frames(&self) -> Option<u64> {
        None
    }
    /// Xruns the device reported so far.
    fn xruns(&self) -> u64;
    /// Stops the stream, finishing any recording.
    fn stop(self: Box<Self>) -> Result<StreamReport, EngineError>;
    /// Why the stream stopped by itself (the device or server went away), if it did.
    fn error(&self) -> Option<String> {
        None
    }
}

/// Feeds device buffers of any size (and any channel count) from the engine's fixed-size
/// blocks. Real-time safe: no allocation, no lock.
///
/// Engine channels go to the device's channels in order. A mono engine's one channel goes to
/// every device channel; a stereo engine on a one-channel device gets the equal-power downmix
/// (L + R) · √½; device channels past the engine's are silent.
pub struct BlockAdapter {
    output: Output,
    /// The block being handed out, planar (`len` frames of each channel).
    block: Box<[f32; chronus_dsp::MAX_BLOCK * crate::MAX_CHANNELS]>,
    pos: usize,
    len: usize,
    /// A downmix for a one-channel device, or silence for channels past the engine's.
    scratch: Box<[f32; chronus_dsp::MAX_BLOCK]>,
}

impl BlockAdapter {
    /// An adapter over `output`.
    pub fn new(output: Output) -> Self {
        BlockAdapter {
            output,
            block: Box::new([0.0; chronus_dsp::MAX_BLOCK * crate::MAX_CHANNELS]),
            pos: 0,
            len: 0,
            scratch: Box::new([0.0; chronus_dsp::MAX_BLOCK]),
        }
    }

    /// Hands the next `frames` frames to a device with `ports` planar channels (JACK's
    /// ports): `write(port, offset, samples)` copies `samples` into `port` from frame
    /// `offset`, in pieces as blocks are rendered. Real-time thread.
    pub fn fill_ports(
        &mut self,
        frames: usize,
        ports: usize,
        mut write: impl FnMut(usize, usize, &[f32]),
    ) {
        let ec = self.output.channels();
        let mut done = 0;
        while done < frames {
            self.refill();
            let take = (self.len - self.pos).min(frames - done);
            let (len, pos) = (self.len, self.pos);
            for port in 0..ports {
                let samples: &[f32] = match (ec, ports) {
                    (1, _) => &self.block[pos..pos + take],
                    (_, 1) => {
                        let (l, r) = (
                            &self.block[pos..pos + take],
                            &self.block[len + pos..][..take],
                        );
                        for ((d, a), b) in self.scratch.iter_mut().zip(l).zip(r) {
                            *d = (a + b) * std::f32::consts::FRAC_1_SQRT_2;
                        }
                        &self.scratch[..take]
                    }
                    _ if port < ec => &self.block[port * len + pos..][..take],
                    _ => {
                        self.scratch[..take].fill(0.0);
                        &self.scratch[..take]
                    }
                };
                write(port, done, samples);
            }
            self.pos += take;
            done += take;
        }
    }

    /// The engine's block size.
    pub fn block_size(&self) -> usize {
        self.output.block_size()
    }

    /// The sample (on the engine's clock) of the next frame this adapter hands out: what a
    /// backend stamps input arriving with that frame by (MIDI). Real-time thread.
    pub fn position(&self) -> u64 {
        (self.output.next_block() * self.output.block_size() as u64)
            .saturating_sub((self.len - self.pos) as u64)
    }

    /// Renders the next block once the last one is handed out. Real-time thread.
    fn refill(&mut self) {
        if self.pos == self.len {
            let n = self.output.block_size();
            self.output
                .render(&mut self.block[..n * self.output.channels()]);
            self.pos = 0;
            self.len = n;
        }
    }

    /// The engine's channels.
    pub fn channels(&self) -> usize {
        self.output.channels()
    }

    /// Fills `out` with the next frames of one channel (a stereo engine's downmix),
    /// rendering blocks as needed. Real-time thread.
    pub fn fill(&mut self, out: &mut [f32]) {
        self.fill_frames(out, 1, |x| x);
    }

    /// Fills `out` with the next frames for a device of `device_channels` channels,
    /// interleaved, each sample converted by `convert` (to the device's format). Renders
    /// blocks as needed. Real-time thread.
    pub fn fill_frames<T: Copy>(
        &mut self,
        out: &mut [T],
        device_channels: usize,
        convert: impl Fn(f32) -> T,
    ) {
        let dc = device_channels.max(1);
        let ec = self.output.channels();
        let frames = out.len() / dc;
        let mut done = 0;
        while done < frames {
            self.refill();
            let take = (self.len - self.pos).min(frames - done);
            let (len, block) = (self.len, &self.block[..]);
            for (f, frame) in out[done * dc..(done + take) * dc]
                .chunks_exact_mut(dc)
                .enumerate()
            {
                let i = self.pos + f;
                match (ec, dc) {
                    (1, _) => frame.fill(convert(block[i])),
                    (_, 1) => {
                        let mix = (block[i] + block[len + i]) * std::f32::consts::FRAC_1_SQRT_2;
                        frame[0] = convert(mix);
                    }
                    _ => {
                        for (c, d) in frame.iter_mut().enumerate() {
                            *d = convert(if c < ec { block[c * len + i] } else { 0.0 });
                        }
                    }
                }
            }
            self.pos += take;
            done += take;
        }
    }
}

/// What a stream did, reported when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// Blocks played.
    pub blocks: u64,
    /// Xruns seen.
    pub xruns: u64,
    /// Samples that could not be recorded (the recorder fell behind).
    pub dropped_recording: u64,
}

/// An audio output: opens a device for a sample rate, block size and channel count, and calls
/// [`Output::render`] from its real-time callback.
pub trait Backend {
    /// Short name (`null`, `jack`, `alsa`, `cpal`).
    fn name(&self) -> &'static str;
    /// Opens the device and starts playing `output`. Xruns are added to `metrics`.
    fn start(
        self: Box<Self>,
        config: StreamConfig,
        output: Output,
        metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError>;
}

/// The `null` backend: plays into nothing at the real-time rate, optionally recording to WAV.
#[derive(Debug, Clone, Default)]
pub struct NullBackend {
    /// Record what is played to this file.
    pub record: Option<(PathBuf, WavFormat)>,
    /// Stop by itself after this many blocks.
    pub max_blocks: Option<u64>,
}

struct NullStream {
    config: StreamConfig,
    stop: Arc<AtomicBool>,
    clock: Option<JoinHandle<u64>>,
    recorder: Option<JoinHandle<Result<(), EngineError>>>,
    dropped: Arc<AtomicU64>,
    xruns: Arc<AtomicU64>,
}

impl Backend for NullBackend {
    fn name(&self) -> &'static str {
        "null"
    }

    fn start(
        self: Box<Self>,
        config: StreamConfig,
        mut output: Output,
        metrics: Arc<Metrics>,
    ) -> Result<Box<dyn Stream>, EngineError> {
        // No device: the "device" has the engine's channels.
        let (block, channels) = (output.block_size(), output.channels());
        let config = StreamConfig {
            block,
            channels,
            ..config
        };
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let xruns = Arc::new(AtomicU64::new(0));
        // Ten seconds of audio between the clock thread and the file writer.
        let (mut tx, rx) =
            rtrb::RingBuffer::<f32>::new(config.sample_rate as usize * 10 * channels);
        let recorder = match self.record {
            Some((path, format)) => {
                let writer = WavWriter::create(&path, format, channels, config.sample_rate)?;
                let stop = stop.clone();
                Some(
                    std::thread::Builder::new()
                        .name("chronus-recorder".into())
                        .spawn(move || record(rx, writer, stop))
                        .map_err(|source| EngineError::Worker {
                            reason: "starting the recorder",
                            source,
                        })?,
                )
            }
            None => None,
        };
        let recording = recorder.is_some();
        let (s, d, x) = (stop.clone(), dropped.clone(), xruns.clone());
        let max_blocks = self.max_blocks;
        let period_ns = (block as f64 * 1e9 / f64::from(config.sample_rate)) as u64;
        let clock = std::thread::Builder::new()
            .name("chronus-null-clock".into())
            .spawn(move || {
                crate::rt::try_realtime(crate::rt::OUTPUT_PRIORITY);
                let mut buf = [0.0f32; chronus_dsp::MAX_BLOCK * crate::MAX_CHANNELS];
                let mut deadline = crate::rt::monotonic_ns();
                let mut blocks = 0u64;
                while !s.load(Acquire) && max_blocks.is_none_or(|m| blocks < m) {
                    deadline += period_ns;
                    crate::rt::sleep_until(deadline);
                    // Woke more than a period late: the "device" would have glitched.
                    if crate::rt::monotonic_ns() > deadline + period_ns {
                        x.fetch_add(1, Relaxed);
                        metrics.add_xruns(1);
                    }
                    let out = &mut buf[..block * channels];
                    output.render(out);
                    blocks += 1;
                    if recording && tx.slots() >= out.len() {
                        if let Ok(chunk) = tx.write_chunk_uninit(out.len()) {
                            // Interleaved, as the file holds it.
                            chunk.fill_from_iter(crate::wav::interleave(out, channels));
                        }
                    } else if recording {
                        d.fetch_add(out.len() as u64, Relaxed);
                    }
                }
                s.store(true, Release);
                blocks
            })
            .map_err(|source| EngineError::Worker {
                reason: "starting the null clock",
                source,
            })?;
        Ok(Box::new(NullStream {
            config,
            stop,
            clock: Some(clock),
            recorder,
            dropped,
            xruns,
        }))
    }
}

fn record(
    mut rx: rtrb::Consumer<f32>,
    mut writer: WavWriter,
    stop: Arc<AtomicBool>,
) -> Result<(), EngineError> {
    loop {
        let done = stop.load(Acquire);
        let n = rx.slots();
        if n > 0 {
            let chunk = rx.read_chunk(n).map_err(|_| EngineError::Start {
                reason: "recorder ring".into(),
            })?;
            writer.write_interleaved(chunk)?;
        } else if done {
            break;
        } else {
            // A non-real-time writer: waking every 20 ms is plenty for a 10 s ring.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    writer.finalize()
}

impl Stream for NullStream {
    fn obtained(&self) -> StreamConfig {
        self.config
    }

    fn xruns(&self) -> u64 {
        self.xruns.load(Relaxed)
    }

    fn stop(mut self: Box<Self>) -> Result<StreamReport, EngineError> {
        self.finish()
    }
}

impl NullStream {
    fn finish(&mut self) -> Result<StreamReport, EngineError> {
        self.stop.store(true, Release);
        let blocks = self.clock.take().map_or(0, |c| c.join().unwrap_or(0));
        if let Some(r) = self.recorder.take() {
            r.join().map_err(|_| EngineError::Start {
                reason: "the recorder panicked".into(),
            })??;
        }
        Ok(StreamReport {
            blocks,
            xruns: self.xruns.load(Relaxed),
            dropped_recording: self.dropped.load(Relaxed),
        })
    }

    /// True once the clock stopped by itself (max_blocks reached).
    #[allow(dead_code)]
    fn finished(&self) -> bool {
        self.stop.load(Acquire)
    }
}

impl Drop for NullStream {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
