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
    /// Output channels (the mono output is copied to each).
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

/// Feeds device buffers of any size from the engine's fixed-size blocks. Real-time safe: no
/// allocation, no lock.
pub struct BlockAdapter {
    output: Output,
    block: [f32; chronus_dsp::MAX_BLOCK],
    pos: usize,
    len: usize,
}

impl BlockAdapter {
    /// An adapter over `output`.
    pub fn new(output: Output) -> Self {
        BlockAdapter {
            output,
            block: [0.0; chronus_dsp::MAX_BLOCK],
            pos: 0,
            len: 0,
        }
    }

    /// The engine's block size.
    pub fn block_size(&self) -> usize {
        self.output.block_size()
    }

    /// Fills `out` with the next samples, rendering blocks as needed.
    pub fn fill(&mut self, out: &mut [f32]) {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.len {
                let n = self.output.block_size();
                self.output.render(&mut self.block[..n]);
                self.pos = 0;
                self.len = n;
            }
            let take = (self.len - self.pos).min(out.len() - done);
            out[done..done + take].copy_from_slice(&self.block[self.pos..self.pos + take]);
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
        let block = output.block_size();
        let config = StreamConfig { block, ..config };
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let xruns = Arc::new(AtomicU64::new(0));
        // Ten seconds of audio between the clock thread and the file writer.
        let (mut tx, rx) = rtrb::RingBuffer::<f32>::new(config.sample_rate as usize * 10);
        let recorder = match self.record {
            Some((path, format)) => {
                let writer = WavWriter::create(&path, format, config.channels, config.sample_rate)?;
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
                let mut buf = [0.0f32; chronus_dsp::MAX_BLOCK];
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
                    let out = &mut buf[..block];
                    output.render(out);
                    blocks += 1;
                    if recording && tx.slots() >= out.len() {
                        if let Ok(chunk) = tx.write_chunk_uninit(out.len()) {
                            chunk.fill_from_iter(out.iter().copied());
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
            writer.write_mono(chunk)?;
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
