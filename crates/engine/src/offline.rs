//! The offline output: render a patch and its commands as fast as possible into a buffer or a
//! WAV file.

use crate::wav::WavWriter;
pub use crate::wav::{to_int, WavFormat};
use crate::{Command, EngineError, Renderer};
use chronus_dsp::Patch;
use std::path::Path;

/// Renders `samples` samples of `patch` (one channel: a stereo patch's downmix), applying
/// `commands` at their stamps. `progress` is called after each block with (samples done,
/// samples in all).
pub fn render(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    progress: impl FnMut(u64, u64),
) -> Result<Vec<f32>, EngineError> {
    let mut channels = render_channels(patch, commands, samples, 1, progress)?;
    Ok(channels.pop().unwrap_or_default())
}

/// Renders `samples` frames of `patch` in `channels` channels (as the engine plays them: one
/// is mono or a stereo patch's downmix; two or more are left, right and silence), each
/// channel's samples in one vector.
pub fn render_channels(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    channels: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<Vec<f32>>, EngineError> {
    let channels = channels.clamp(1, crate::MAX_CHANNELS);
    let mut out = vec![Vec::with_capacity(samples as usize); channels];
    render_with(patch, commands, samples, channels, |block, done| {
        let n = block.len() / channels;
        for (side, planar) in out.iter_mut().zip(block.chunks_exact(n.max(1))) {
            side.extend_from_slice(planar);
        }
        progress(done, samples);
        Ok(())
    })?;
    Ok(out)
}

/// Renders into a WAV file of `channels` channels (see [`render_channels`]). Nothing is left
/// behind on error: the file is written to a temporary name next to `path` and renamed when
/// complete.
pub fn render_to_wav(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    (path, format, channels): (&Path, WavFormat, usize),
    mut progress: impl FnMut(u64, u64),
) -> Result<(), EngineError> {
    let channels = channels.clamp(1, crate::MAX_CHANNELS);
    let tmp = path.with_extension("wav.partial");
    let mut writer = WavWriter::create(&tmp, format, channels, patch.sample_rate() as u32)?;
    let result = render_with(patch, commands, samples, channels, |block, done| {
        writer.write_interleaved(crate::wav::interleave(block, channels))?;
        progress(done, samples);
        Ok(())
    })
    .and_then(|()| writer.finalize());
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

/// Renders block by block, handing each planar block (`channels` channels) and the samples
/// done so far to `sink`.
fn render_with(
    patch: Patch,
    commands: &[Command],
    samples: u64,
    channels: usize,
    mut sink: impl FnMut(&[f32], u64) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let block = patch.block_size();
    let mut r = Renderer::new(patch);
    // In time order (equal stamps keep their order), whatever order they came in.
    let mut commands = commands.to_vec();
    commands.sort_by_key(|c| c.at);
    let mut next = 0;
    let mut buf = vec![0.0f32; block * channels];
    while r.now() < samples {
        let n = (samples - r.now()).min(block as u64) as usize;
        let end = r.now() + n as u64;
        // Feed the schedule with everything due in this block.
        while next < commands.len() && commands[next].at < end {
            r.schedule(commands[next])?;
            next += 1;
        }
        r.render_planar(&mut buf[..n * channels], channels);
        sink(&buf[..n * channels], r.now())?;
    }
    Ok(())
}
