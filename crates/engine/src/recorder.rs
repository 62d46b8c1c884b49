//! Recording at the output stage: what the backend plays (failovers included, so a recording
//! has no gap when a worker dies) goes through a lock-free ring to a writer thread that keeps a
//! WAV file. The audio side only copies samples into the ring; a full ring is counted, never
//! waited for.

use crate::metrics::Metrics;
use crate::wav::{WavFormat, WavWriter};
use crate::EngineError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a recording went.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingReport {
    /// The file.
    pub path: PathBuf,
    /// Samples written.
    pub samples: u64,
    /// Samples the writer could not take in time (the disk was too slow): left out.
    pub dropped: u64,
}

/// The audio side: lives in the [`crate::Output`].
pub(crate) struct RecordTap {
    tx: rtrb::Producer<f32>,
    shared: Arc<TapShared>,
}

struct TapShared {
    armed: AtomicBool,
    dropped: AtomicU64,
}

impl RecordTap {
    /// Copies one played block of `channels` channels (planar) into the ring, interleaved as
    /// a WAV file holds it, if recording. Real-time safe.
    #[inline]
    pub(crate) fn push(&mut self, block: &[f32], channels: usize) {
        if !self.shared.armed.load(Acquire) {
            return;
        }
        let channels = channels.max(1);
        let n = block.len() / channels;
        match self.tx.write_chunk_uninit(n * channels) {
            Ok(chunk) => {
                chunk.fill_from_iter(crate::wav::interleave(block, channels));
            }
            Err(_) => {
                self.shared.dropped.fetch_add(block.len() as u64, Relaxed);
            }
        }
    }
}

enum Cmd {
    Start(Box<WavWriter>),
    Stop(mpsc::Sender<Result<Option<RecordingReport>, EngineError>>),
}

/// The control side: starts and stops recordings.
pub(crate) struct Recorder {
    shared: Arc<TapShared>,
    commands: Mutex<mpsc::Sender<Cmd>>,
    current: Mutex<Option<PathBuf>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    metrics: Arc<Metrics>,
    sample_rate: u32,
    channels: usize,
}

impl Recorder {
    /// A recorder of `channels` channels and the tap for the output; `seconds` of audio fit
    /// in the ring.
    pub(crate) fn new(
        metrics: Arc<Metrics>,
        sample_rate: u32,
        channels: usize,
        seconds: usize,
    ) -> Result<(Recorder, RecordTap), EngineError> {
        let channels = channels.max(1);
        let (tx, rx) = rtrb::RingBuffer::<f32>::new(sample_rate as usize * seconds * channels);
        let shared = Arc::new(TapShared {
            armed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        });
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("chronus-recorder".into())
            .spawn(move || write_loop(rx, cmd_rx))
            .map_err(|source| EngineError::Worker {
                reason: "starting the recorder",
                source,
            })?;
        Ok((
            Recorder {
                shared: shared.clone(),
                commands: Mutex::new(cmd_tx),
                current: Mutex::new(None),
                thread: Mutex::new(Some(thread)),
                metrics,
                sample_rate,
                channels,
            },
            RecordTap { tx, shared },
        ))
    }

    /// The file being recorded, if any.
    pub(crate) fn current(&self) -> Option<PathBuf> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Starts recording into `file` (already created by the caller, who decides where files
    /// may go) from the next block the output plays.
    pub(crate) fn start(
        &self,
        file: File,
        path: &Path,
        format: WavFormat,
    ) -> Result<(), EngineError> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = current.as_ref() {
            return Err(EngineError::Recording {
                reason: format!("already recording to {}; stop it first", p.display()),
            });
        }
        let writer = WavWriter::new(file, path, format, self.channels, self.sample_rate)?;
        self.commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Cmd::Start(Box::new(writer)))
            .map_err(|_| EngineError::Recording {
                reason: "the recorder thread is gone".into(),
            })?;
        self.shared.dropped.store(0, Relaxed);
        self.shared.armed.store(true, Release);
        *current = Some(path.to_owned());
        Ok(())
    }

    /// Stops recording and finalises the file; `None` if nothing was being recorded.
    pub(crate) fn stop(&self) -> Result<Option<RecordingReport>, EngineError> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() {
            return Ok(None);
        }
        self.shared.armed.store(false, Release);
        // A block being copied right now belongs to the file: wait until the output has moved
        // on twice (or has stopped playing), then the ring holds everything.
        let played = self.metrics.played_blocks.load(Acquire);
        let end = Instant::now() + Duration::from_millis(200);
        while self.metrics.played_blocks.load(Acquire) < played + 2 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (tx, rx) = mpsc::channel();
        let sent = self
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Cmd::Stop(tx));
        *current = None;
        let report = match sent {
            Ok(()) => rx.recv().map_err(|_| EngineError::Recording {
                reason: "the recorder thread is gone".into(),
            })?,
            Err(_) => Err(EngineError::Recording {
                reason: "the recorder thread is gone".into(),
            }),
        };
        report.map(|r| {
            r.map(|mut r| {
                r.dropped = self.shared.dropped.load(Relaxed);
                r
            })
        })
    }

    /// Stops any recording and ends the writer thread.
    pub(crate) fn shutdown(&self) -> Result<Option<RecordingReport>, EngineError> {
        let report = self.stop();
        // Closing the channel ends the thread.
        let (dead, _) = mpsc::channel();
        *self.commands.lock().unwrap_or_else(|e| e.into_inner()) = dead;
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
        report
    }
}

/// The writer thread: drains the ring into the open file (or drops what arrives with none),
/// keeps the header up to date about once a second (a file cut short by a crash still plays),
/// finalises on stop.
fn write_loop(mut rx: rtrb::Consumer<f32>, commands: mpsc::Receiver<Cmd>) {
    let mut open: Option<Box<WavWriter>> = None;
    let mut error: Option<EngineError> = None;
    let mut flushed = Instant::now();
    loop {
        // A new file opens before the ring is drained: the tap is armed right after the
        // command is sent, so what the ring holds now is the new recording's first blocks
        // (nothing is pushed while disarmed). Draining first dropped them.
        let cmd = match commands.recv_timeout(Duration::from_millis(10)) {
            Ok(Cmd::Start(w)) => {
                error = None;
                open = Some(w);
                // Then on as after a quiet wait: drain into it.
                Err(mpsc::RecvTimeoutError::Timeout)
            }
            other => other,
        };
        // Everything played so far goes to the file before a command changes it.
        let n = rx.slots();
        if n > 0 {
            if let Ok(chunk) = rx.read_chunk(n) {
                match open.as_mut() {
                    Some(w) if error.is_none() => {
                        // What a failed write leaves in the ring is drained next time round.
                        if let Err(e) = w.write_interleaved(chunk) {
                            error = Some(e);
                        }
                    }
                    _ => chunk.commit_all(),
                }
            }
        }
        if flushed.elapsed() >= Duration::from_secs(1) {
            if let Some(w) = open.as_mut() {
                let _ = w.flush();
            }
            flushed = Instant::now();
        }
        match cmd {
            // Taken above, as it arrived.
            Ok(Cmd::Start(_)) => {}
            Ok(Cmd::Stop(reply)) => {
                let result = match open.take() {
                    None => Ok(None),
                    Some(w) => {
                        let (path, samples) = (w.path().to_owned(), w.frames());
                        match (error.take(), w.finalize()) {
                            (Some(e), _) | (None, Err(e)) => Err(e),
                            (None, Ok(())) => Ok(Some(RecordingReport {
                                path,
                                samples,
                                dropped: 0,
                            })),
                        }
                    }
                };
                let _ = reply.send(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(w) = open.take() {
                    let _ = w.finalize();
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recording holds every block played from its start: the first blocks, pushed the
    /// moment the tap is armed, are not lost to the writer opening its file.
    #[test]
    fn a_recording_keeps_its_first_blocks() {
        let metrics = Arc::new(Metrics::default());
        let (recorder, mut tap) = Recorder::new(metrics.clone(), 48_000, 1, 1).unwrap();
        // The output moving on, as `stop` waits for it to.
        let ticking = Arc::new(AtomicBool::new(true));
        let clock = {
            let (m, t) = (metrics.clone(), ticking.clone());
            std::thread::spawn(move || {
                while t.load(Relaxed) {
                    m.played_blocks.fetch_add(1, Release);
                    std::thread::sleep(Duration::from_micros(500)); // a fast output clock
                }
            })
        };
        let dir = std::env::temp_dir().join(format!("chronus-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let block = [0.25f32; 64];
        for i in 0..20 {
            let path = dir.join(format!("take{i}.wav"));
            let file = File::create(&path).unwrap();
            recorder.start(file, &path, WavFormat::F32).unwrap();
            for _ in 0..4 {
                tap.push(&block, 1);
            }
            let report = recorder.stop().unwrap().unwrap();
            assert_eq!(report.samples, 256, "take {i}: every block from the start");
            let (samples, _, _) = crate::wav::read_mono(&path).unwrap();
            assert_eq!(samples, vec![0.25; 256], "take {i}");
        }
        ticking.store(false, Relaxed);
        clock.join().unwrap();
        let _ = recorder.shutdown();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
