//! Sample loads: a file of the samples folder or a built-in kit, read and decoded here (off the
//! audio path), then handed to the synth, which puts it in memory both workers share. The
//! router's `/sample/load`, `/kit/load` and `/state/load` and the binary's `--session` all load
//! through [`load`].

use crate::Synth;
use chronus_engine::samples::{SampleInfo, KIT_SOURCE};
use chronus_engine::score::Load;
use chronus_engine::NewSample;
use chronus_samples::{Limits, SampleFolder};

/// Where sample files come from and how large they may be.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    /// The samples folder.
    pub folder: SampleFolder,
    /// The limits for one file.
    pub limits: Limits,
}

/// The built-in kits.
pub const KITS: &[&str] = &["basic"];

/// A sample read and ready to load: its name, where it came from, its frames at the rate
/// asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSample {
    /// Its name.
    pub name: String,
    /// The file it came from, or `kit:<kit>`.
    pub source: String,
    /// Interleaved frames.
    pub samples: Vec<f32>,
    /// 1 or 2.
    pub channels: u16,
}

/// Reads what one load names, at `rate` Hz: decodes the file (converted to the rate) or
/// synthesises the kit. Off the audio path: this allocates and may take seconds.
pub fn read(
    files: Option<&SampleFiles>,
    load: &Load,
    rate: f64,
) -> Result<Vec<ReadSample>, String> {
    match load {
        Load::Sample { name, file } => {
            let files = files.ok_or(
                "sample files are off (chronus run --samples DIR names the folder; /kit/load basic needs none)",
            )?;
            let path = files
                .folder
                .resolve(file, files.limits.file_bytes)
                .map_err(|e| e.to_string())?;
            let decoded = chronus_samples::decode(&path, file, rate.round() as u32, files.limits)
                .map_err(|e| e.to_string())?;
            Ok(vec![ReadSample {
                name: name.clone(),
                source: file.clone(),
                samples: decoded.samples,
                channels: decoded.channels,
            }])
        }
        Load::Kit { kit } => {
            if kit != "basic" {
                return Err(format!("no kit '{kit}' (built in: {})", KITS.join(", ")));
            }
            Ok(chronus_dsp::sample::basic_kit(rate)
                .into_iter()
                .map(|s| ReadSample {
                    name: s.name.to_owned(),
                    source: format!("{KIT_SOURCE}{kit}"),
                    samples: s.frames,
                    channels: 1,
                })
                .collect())
        }
    }
}

/// Carries out one load: reads it ([`read`]) at the synth's rate and loads the result.
/// Returns what was loaded, or why not (nothing changed then).
pub fn load<S: Synth + ?Sized>(
    synth: &S,
    files: Option<&SampleFiles>,
    load: &Load,
) -> Result<Vec<SampleInfo>, String> {
    let read = read(files, load, synth.config().sample_rate)?;
    let batch: Vec<NewSample<'_>> = read
        .iter()
        .map(|r| NewSample {
            name: &r.name,
            source: &r.source,
            samples: &r.samples,
            channels: r.channels,
        })
        .collect();
    synth.load_samples(&batch).map_err(|e| e.to_string())
}
