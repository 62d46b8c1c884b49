//! The one WAV writer of chronus (offline renders, the null backend's recording, recordings
//! of what the output plays): a sample format, mono audio copied to every channel, integer
//! formats clipped and rounded without dither.

use crate::EngineError;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Sample format of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// 32-bit float (exact).
    F32,
    /// 24-bit integer.
    S24,
    /// 16-bit integer.
    S16,
}

impl WavFormat {
    /// The WAV header for this format.
    pub fn spec(self, channels: u16, sample_rate: u32) -> hound::WavSpec {
        let (bits, sample_format) = match self {
            WavFormat::F32 => (32, hound::SampleFormat::Float),
            WavFormat::S24 => (24, hound::SampleFormat::Int),
            WavFormat::S16 => (16, hound::SampleFormat::Int),
        };
        hound::WavSpec {
            channels,
            sample_rate,
            bits_per_sample: bits,
            sample_format,
        }
    }
}

impl std::str::FromStr for WavFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "float" => Ok(WavFormat::F32),
            "s24" | "24" => Ok(WavFormat::S24),
            "s16" | "16" => Ok(WavFormat::S16),
            _ => Err(format!("unknown format '{s}' (use f32, s24 or s16)")),
        }
    }
}

impl std::fmt::Display for WavFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WavFormat::F32 => "f32",
            WavFormat::S24 => "s24",
            WavFormat::S16 => "s16",
        })
    }
}

/// Converts a sample in ±1.0 to a signed integer of `bits`, clipping (no dither).
pub fn to_int(x: f32, bits: u32) -> i32 {
    let max = ((1i64 << (bits - 1)) - 1) as f32;
    if x.is_nan() {
        return 0;
    }
    (x * max).round().clamp(-max - 1.0, max) as i32
}

/// The samples of a planar block (`channels` channels of equal length, one after the other)
/// in the order a WAV file holds them: frame by frame, each frame's channels in turn. An
/// iterator over the block itself: no allocation (the recorder's tap uses it on the real-time
/// output thread).
pub fn interleave(planar: &[f32], channels: usize) -> impl Iterator<Item = f32> + '_ {
    let channels = channels.max(1);
    let n = planar.len() / channels;
    (0..n).flat_map(move |i| (0..channels).map(move |c| planar[c * n + i]))
}

/// A WAV file being written.
pub struct WavWriter {
    inner: hound::WavWriter<BufWriter<File>>,
    format: WavFormat,
    channels: usize,
    path: PathBuf,
    frames: u64,
    /// Samples written by [`WavWriter::write_interleaved`] (frames times channels, plus a
    /// partly written frame).
    written: u64,
}

impl std::fmt::Debug for WavWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("channels", &self.channels)
            .field("frames", &self.frames)
            .finish()
    }
}

impl WavWriter {
    /// Creates (or replaces) the file at `path`.
    pub fn create(
        path: &Path,
        format: WavFormat,
        channels: usize,
        sample_rate: u32,
    ) -> Result<WavWriter, EngineError> {
        let file = File::create(path).map_err(|source| EngineError::Io {
            path: path.to_owned(),
            source,
        })?;
        WavWriter::new(file, path, format, channels, sample_rate)
    }

    /// Writes into `file`, already opened by the caller (who decides where files may go);
    /// `path` names it in errors.
    pub fn new(
        file: File,
        path: &Path,
        format: WavFormat,
        channels: usize,
        sample_rate: u32,
    ) -> Result<WavWriter, EngineError> {
        let spec = format.spec(channels.clamp(1, usize::from(u16::MAX)) as u16, sample_rate);
        let inner = hound::WavWriter::new(BufWriter::new(file), spec).map_err(|source| {
            EngineError::Wav {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(WavWriter {
            inner,
            format,
            channels: channels.max(1),
            path: path.to_owned(),
            frames: 0,
            written: 0,
        })
    }

    fn err(&self, source: hound::Error) -> EngineError {
        EngineError::Wav {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends mono samples, each copied to every channel.
    pub fn write_mono(
        &mut self,
        samples: impl IntoIterator<Item = f32>,
    ) -> Result<(), EngineError> {
        for x in samples {
            for _ in 0..self.channels {
                let r = match self.format {
                    WavFormat::F32 => self.inner.write_sample(x),
                    WavFormat::S24 => self.inner.write_sample(to_int(x, 24)),
                    WavFormat::S16 => self.inner.write_sample(to_int(x, 16) as i16),
                };
                r.map_err(|e| self.err(e))?;
            }
            self.frames += 1;
        }
        Ok(())
    }

    /// Appends interleaved samples (one per channel, frame after frame), each written once.
    pub fn write_interleaved(
        &mut self,
        samples: impl IntoIterator<Item = f32>,
    ) -> Result<(), EngineError> {
        for x in samples {
            let r = match self.format {
                WavFormat::F32 => self.inner.write_sample(x),
                WavFormat::S24 => self.inner.write_sample(to_int(x, 24)),
                WavFormat::S16 => self.inner.write_sample(to_int(x, 16) as i16),
            };
            r.map_err(|e| self.err(e))?;
            self.written += 1;
            if self.written.is_multiple_of(self.channels as u64) {
                self.frames += 1;
            }
        }
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Brings the header up to date with what is written (a file cut short later still
    /// plays up to here).
    pub fn flush(&mut self) -> Result<(), EngineError> {
        self.inner.flush().map_err(|e| self.err(e))
    }

    /// Finishes the file.
    pub fn finalize(self) -> Result<(), EngineError> {
        let path = self.path;
        self.inner
            .finalize()
            .map_err(|source| EngineError::Wav { path, source })
    }
}

/// A WAV file read back as mono (channels averaged), in ±1.0 whatever its sample format:
/// the samples, the sample rate and the channel count it had.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32, u16), EngineError> {
    let (channels, rate) = read_channels(path)?;
    let count = channels.len().max(1);
    let n = channels.first().map_or(0, Vec::len);
    let mono = (0..n)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() / count as f32)
        .collect();
    Ok((mono, rate, count as u16))
}

/// A WAV file read back channel by channel, in ±1.0 whatever its sample format: the
/// channels (each the same length) and the sample rate.
pub fn read_channels(path: &Path) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
    let err = |source| EngineError::Wav {
        path: path.to_owned(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(err)?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(err)?;
    let channels = usize::from(spec.channels.max(1));
    let mut out = vec![Vec::with_capacity(samples.len() / channels); channels];
    for frame in samples.chunks_exact(channels) {
        for (side, &x) in out.iter_mut().zip(frame) {
            side.push(x);
        }
    }
    Ok((out, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_conversion_clips_without_wrapping() {
        assert_eq!(to_int(1.0, 16), 32767);
        assert_eq!(to_int(-1.0, 16), -32767);
        assert_eq!(to_int(2.0, 16), 32767);
        assert_eq!(to_int(-2.0, 16), -32768);
        assert_eq!(to_int(0.5, 24), 4_194_304);
        assert_eq!(to_int(f32::NAN, 16), 0);
    }

    #[test]
    fn mono_is_copied_to_every_channel_in_every_format() {
        let dir = std::env::temp_dir().join(format!("chronus-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in [WavFormat::F32, WavFormat::S24, WavFormat::S16] {
            let path = dir.join(format!("{format}.wav"));
            let mut w = WavWriter::create(&path, format, 2, 48_000).unwrap();
            w.write_mono([0.5, -0.25, 2.0]).unwrap();
            assert_eq!(w.frames(), 3);
            w.finalize().unwrap();
            let mut r = hound::WavReader::open(&path).unwrap();
            assert_eq!(r.spec().channels, 2);
            let got: Vec<f64> = match format {
                WavFormat::F32 => r.samples::<f32>().map(|s| f64::from(s.unwrap())).collect(),
                WavFormat::S24 => r
                    .samples::<i32>()
                    .map(|s| f64::from(s.unwrap()) / 8_388_607.0)
                    .collect(),
                WavFormat::S16 => r
                    .samples::<i32>()
                    .map(|s| f64::from(s.unwrap()) / 32_767.0)
                    .collect(),
            };
            let want = [0.5, 0.5, -0.25, -0.25];
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-4, "{format}: {got:?}");
            }
            // Clipped, not wrapped.
            assert!(got[4] > 0.999 && got[5] > 0.999, "{format}: {got:?}");
            let (mono, rate, channels) = read_mono(&path).unwrap();
            assert_eq!((mono.len(), rate, channels), (3, 48_000, 2));
            assert!((mono[1] + 0.25).abs() < 1e-4, "{format}: {mono:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
