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

/// Carries out one load: decodes the file (converted to the synth's rate) or synthesises the
/// kit, and loads the result. Returns what was loaded, or why not (nothing changed then).
pub fn load<S: Synth + ?Sized>(
    synth: &S,
    files: Option<&SampleFiles>,
    load: &Load,
) -> Result<Vec<SampleInfo>, String> {
    let rate = synth.config().sample_rate;
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
            synth
                .load_samples(&[NewSample {
                    name,
                    source: file,
                    samples: &decoded.samples,
                    channels: decoded.channels,
                }])
                .map_err(|e| e.to_string())
        }
        Load::Kit { kit } => {
            if kit != "basic" {
                return Err(format!("no kit '{kit}' (built in: {})", KITS.join(", ")));
            }
            let sounds = chronus_dsp::sample::basic_kit(rate);
            let source = format!("{KIT_SOURCE}{kit}");
            let batch: Vec<NewSample<'_>> = sounds
                .iter()
                .map(|s| NewSample {
                    name: s.name,
                    source: &source,
                    samples: &s.frames,
                    channels: 1,
                })
                .collect();
            synth.load_samples(&batch).map_err(|e| e.to_string())
        }
    }
}
