//! Decoding a sample file and converting it to the engine's rate (off the audio path: this
//! allocates and takes milliseconds to seconds).

use crate::SampleError;
use std::num::NonZeroU32;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// How large a sample may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file on disk.
    pub file_bytes: u64,
    /// Bytes of one sample once decoded (32-bit frames at the engine's rate).
    pub decoded_bytes: u64,
}

impl Default for Limits {
    /// 256 MB on disk, 512 MB decoded (about 23 minutes of stereo at 48 kHz).
    fn default() -> Self {
        Limits {
            file_bytes: 256 << 20,
            decoded_bytes: 512 << 20,
        }
    }
}

/// A decoded sample at the engine's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Interleaved frames.
    pub samples: Vec<f32>,
    /// 1 or 2.
    pub channels: u16,
    /// The file's own rate.
    pub file_rate: u32,
}

impl Decoded {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// Decodes `path` (`name` is what the user called it, for messages) and converts it to `rate`
/// Hz with a band-limited (sinc) resampler when its own rate differs. Refuses more than two
/// channels, an empty file, and audio over `limits.decoded_bytes`.
pub fn decode(path: &Path, name: &str, rate: u32, limits: Limits) -> Result<Decoded, SampleError> {
    let unreadable = |reason: String| SampleError::Unreadable {
        name: name.to_owned(),
        reason,
    };
    // No link followed at the last step either (the folder checked every part; this closes
    // the gap between that check and the open).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| SampleError::Io {
            name: name.to_owned(),
            source: e,
        })?;
    let mut hint = symphonium::symphonia::core::formats::probe::Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonium::probe_from_source(Box::new(file), Some(hint), None)
        .map_err(|e| unreadable(e.to_string()))?;
    let channels = probed.num_channels().get();
    if channels > 2 {
        return Err(SampleError::TooManyChannels {
            name: name.to_owned(),
            channels,
        });
    }
    let target = NonZeroU32::new(rate).ok_or_else(|| unreadable("no engine rate".into()))?;
    let config = symphonium::DecodeConfig {
        max_bytes: usize::try_from(limits.decoded_bytes).unwrap_or(usize::MAX),
        ..Default::default()
    };
    let decoded =
        symphonium::decode_f32(probed, &config, Some(target), None, None).map_err(|e| match e {
            symphonium::error::LoadError::FileTooLarge(_) => SampleError::DecodedTooLarge {
                name: name.to_owned(),
                limit: limits.decoded_bytes,
            },
            e => unreadable(e.to_string()),
        })?;
    let frames = decoded.data.first().map_or(0, Vec::len);
    if frames == 0 {
        return Err(SampleError::Empty {
            name: name.to_owned(),
        });
    }
    if (frames * channels * 4) as u64 > limits.decoded_bytes {
        return Err(SampleError::DecodedTooLarge {
            name: name.to_owned(),
            limit: limits.decoded_bytes,
        });
    }
    let mut samples = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        for ch in &decoded.data {
            samples.push(ch.get(i).copied().unwrap_or(0.0));
        }
    }
    Ok(Decoded {
        samples,
        channels: channels as u16,
        file_rate: decoded.original_sample_rate.get(),
    })
}
