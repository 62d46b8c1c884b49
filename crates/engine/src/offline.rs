//! The offline output: render a patch and its commands as fast as possible into a buffer or a
//! WAV file.

use crate::wav::WavWriter;
pub use crate::wav::{to_int, WavFormat};
use crate::{Command, EngineError, Renderer};
use chronus_dsp::Patch;
use std::path::Path;

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
    let tmp = path.with_extension("wav.partial");
    let mut writer = WavWriter::create(&tmp, format, 1, patch.sample_rate() as u32)?;
    let result = render_with(patch, commands, samples, |block, done| {
        writer.write_mono(block.iter().copied())?;
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
