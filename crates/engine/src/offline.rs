//! The offline output: render a patch and its commands as fast as possible into a buffer or a
//! WAV file.

use crate::{Command, EngineError, Renderer};
use chronus_dsp::Patch;
use std::path::Path;

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

/// Renders `samples` samples of `patch`, applying `commands` at their stamps. `progress` is
/// called after each block with (samples done, samples in all).
pub fn render(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<f32>, EngineError> {
    let mut out = Vec::with_capacity(samples as usize);
    render_with(patch, commands, samples, |block, done| {
        out.extend_from_slice(block);
        progress(done, samples);
        Ok(())
    })?;
    Ok(out)
}

/// Renders into a WAV file (mono). Nothing is left behind on error: the file is written to a
/// temporary name next to `path` and renamed when complete.
pub fn render_to_wav(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    path: &Path,
    format: WavFormat,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), EngineError> {
    let spec = format.spec(1, patch.sample_rate() as u32);
    let tmp = path.with_extension("wav.partial");
    let wav_err = |source| EngineError::Wav {
        path: path.to_owned(),
        source,
    };
    let mut writer = hound::WavWriter::create(&tmp, spec).map_err(wav_err)?;
    let result = render_with(patch, commands, samples, |block, done| {
        for &x in block {
            match format {
                WavFormat::F32 => writer.write_sample(x),
                WavFormat::S24 => writer.write_sample(to_int(x, 24)),
                WavFormat::S16 => writer.write_sample(to_int(x, 16) as i16),
            }
            .map_err(wav_err)?;
        }
        progress(done, samples);
        Ok(())
    })
    .and_then(|()| writer.finalize().map_err(wav_err));
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|source| EngineError::Io {
            path: path.to_owned(),
            source,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn render_with(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    mut sink: impl FnMut(&[f32], u64) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let block = patch.block_size();
    let mut r = Renderer::new(patch);
    // In time order (equal stamps keep their order), whatever order they came in.
    let mut commands = commands.to_vec();
    commands.sort_by_key(|c| c.at);
    let mut next = 0;
    let mut buf = vec![0.0f32; block];
    while r.now() < samples {
        let n = (samples - r.now()).min(block as u64) as usize;
        let end = r.now() + n as u64;
        // Feed the schedule with everything due in this block.
        while next < commands.len() && commands[next].at < end {
            r.schedule(commands[next])?;
            next += 1;
        }
        r.render(&mut buf[..n]);
        sink(&buf[..n], r.now())?;
    }
    Ok(())
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
}
