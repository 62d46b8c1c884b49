//! `chronus render`: the default patch and an optional score, rendered offline to WAV.

use anyhow::{bail, Context, Result};
use chronus_dsp::{analysis, Patch, VoiceMode};
use chronus_engine::address::Directory;
use chronus_engine::offline::{self, WavFormat};
use chronus_engine::{Action, Command, Score};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `chronus render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
SCORE FORMAT
  One command per line: <time> <address> [arguments], times in seconds (or 250ms, 1.5s):
      0.0  /mod/sine/freq 440
      0.0  /gate/adsr on
      1.5  /gate/adsr off
  Addresses are those of the OSC server: /mod/<module>/<param> <value>, /gate/<module> on|off,
  /engine/freq <hz>, /engine/amp <0..1>. '#' starts a comment.

  Without --score, chronus plays A4 on the default patch and releases it so that the file
  ends in silence.

EXAMPLES
  chronus render --out demo.wav --seconds 5
  chronus render --out phrase.wav --score phrase.score --format s16")]
pub struct RenderArgs {
    /// Where to write the WAV file.
    #[arg(long, short)]
    out: PathBuf,
    /// Length of the render in seconds [default: the score's last event + 2 s, or 4 s].
    #[arg(long, short)]
    seconds: Option<f64>,
    /// A score of timed commands to play.
    #[arg(long)]
    score: Option<PathBuf>,
    /// Start from the state a session file keeps (`chronus run --session`; docs/sessions.md),
    /// then play the score on it: a performance re-rendered exactly.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// The folder a score's `/sample/load <name> <file>` reads from (the built-in kit,
    /// `/kit/load basic`, needs none).
    #[arg(long, default_value = "samples")]
    samples: PathBuf,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 48_000)]
    sample_rate: u32,
    /// Samples per block (16..=1024).
    #[arg(long, default_value_t = 64)]
    block: usize,
    /// Sample format of the file: f32, s24 or s16.
    #[arg(long, default_value = "f32")]
    format: WavFormat,
    /// Channels of the file, 1..=8: 2 (the default) renders the stereo patch (left, right),
    /// more adds silent channels, 1 renders the mono patch (bit-identical to renders from
    /// before stereo), as `chronus run --channels` plays it.
    #[arg(long, default_value_t = 2)]
    channels: usize,
    #[command(flatten)]
    voices: super::voices::VoiceArgs,
}

/// Runs `chronus render`.
pub fn run(args: RenderArgs) -> Result<()> {
    if !(1..=chronus_engine::MAX_CHANNELS).contains(&args.channels) {
        bail!(
            "--channels must be 1..={} (got {}): 1 for mono, 2 for stereo",
            chronus_engine::MAX_CHANNELS,
            args.channels
        );
    }
    let mut patch =
        Patch::default_patch_for(f64::from(args.sample_rate), args.block, args.channels >= 2)
            .context("cannot build the default patch")?;
    if let Some(Action::Voices {
        count,
        mono,
        inst: None,
    }) = args.voices.action()
    {
        let mode = if mono {
            VoiceMode::Mono
        } else {
            VoiceMode::Poly
        };
        patch.set_voices(usize::from(count), mode)?;
    }
    let sr = patch.sample_rate();
    // The samples loaded (a session's, then a score's), by name and slot.
    let mut names: Vec<(String, u16)> = Vec::new();
    let restored = match &args.session {
        Some(path) => {
            if !path.exists() {
                bail!(
                    "there is no session {}: give the file `chronus run --session` wrote",
                    path.display()
                );
            }
            let restored = super::session::load(path, &mut patch)?;
            if restored.loads.is_empty() {
                restored.commands
            } else {
                // Its samples first, then the session against them.
                names = load_samples(&args, &mut patch, &restored.loads, &[])
                    .with_context(|| format!("{}: its samples did not load", path.display()))?;
                let score = chronus_engine::session::parse(&restored.text)?;
                let (_, commands) =
                    chronus_engine::session::restore(&score, &mut patch, names.clone())
                        .with_context(|| format!("{}: fix the session", path.display()))?;
                commands
            }
        }
        None => Vec::new(),
    };
    let (commands, seconds) = match &args.score {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the score {}", path.display()))?;
            let score = Score::parse(&text)
                .with_context(|| format!("{}: fix the score and try again", path.display()))?;
            score
                .set_up(&mut patch)
                .with_context(|| format!("{}: fix the score and try again", path.display()))?;
            let more = load_samples(&args, &mut patch, score.loads(), &names)
                .with_context(|| format!("{}: its samples did not load", path.display()))?;
            names.retain(|(n, _)| !more.iter().any(|(m, _)| m == n));
            names.extend(more);
            let commands = score
                .resolve_in(&Directory::of(&patch).with_samples(names))
                .with_context(|| format!("{}: fix the score and try again", path.display()))?;
            (commands, args.seconds.unwrap_or(score.duration() + 2.0))
        }
        None => {
            let seconds = args.seconds.unwrap_or(4.0);
            let adsr = patch.lookup("adsr")?;
            let release_s = f64::from(patch.param(adsr, 3)?) / 1000.0;
            let off = ((seconds - release_s - 0.05).max(seconds * 0.5) * sr) as u64;
            let gate = |at, on| Command::new(at, Action::Gate { module: adsr, on });
            (vec![gate(0, true), gate(off, false)], seconds)
        }
    };
    let commands: Vec<Command> = restored.into_iter().chain(commands).collect();
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 24.0 * 3600.0 {
        bail!("--seconds must be between 0 and 86400 (got {seconds})");
    }
    let samples = (seconds * sr).round() as u64;

    let bar = indicatif::ProgressBar::new(samples);
    bar.set_style(
        indicatif::ProgressStyle::with_template("rendering {bar:40} {percent:>3}% eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut last_tick = 0;
    offline::render_to_wav(
        patch,
        &commands,
        samples,
        (&args.out, args.format, args.channels),
        |done, _| {
            if done - last_tick >= sr as u64 || done == samples {
                bar.set_position(done);
                last_tick = done;
            }
        },
    )
    .with_context(|| format!("cannot write {}", args.out.display()))?;
    bar.finish_and_clear();
    let took = started.elapsed().as_secs_f64();
    let peak = read_peak(&args.out).unwrap_or(0.0);
    println!(
        "wrote {}: {seconds:.2} s at {} Hz, {}, peak {:.1} dBFS, rendered in {took:.2} s ({:.0}x real time)",
        args.out.display(),
        args.sample_rate,
        args.format,
        analysis::to_db(peak),
        seconds / took.max(1e-9)
    );
    Ok(())
}

/// Reads a score's or a session's sample loads and puts them in the patch, in plain memory
/// (an offline render has no workers to share it with), in the slots after those `taken`;
/// returns their names and slots. A name loaded again replaces the earlier one.
fn load_samples(
    args: &RenderArgs,
    patch: &mut Patch,
    loads: &[chronus_engine::score::Load],
    taken: &[(String, u16)],
) -> Result<Vec<(String, u16)>> {
    if loads.is_empty() {
        return Ok(Vec::new());
    }
    #[cfg(feature = "osc")]
    {
        use chronus_dsp::sample::{onset_frames, Sample, MAX_SAMPLES};
        let files = chronus_osc::SampleFiles {
            folder: chronus_samples::SampleFolder::new(&args.samples),
            limits: chronus_samples::Limits::default(),
        };
        let mut names: Vec<(String, u16)> = Vec::new();
        let mut next = taken.iter().map(|(_, s)| s + 1).max().unwrap_or(0);
        for load in loads {
            for read in chronus_osc::samples::read(Some(&files), load, patch.sample_rate())
                .map_err(anyhow::Error::msg)?
            {
                if usize::from(next) >= MAX_SAMPLES {
                    bail!("more than {MAX_SAMPLES} samples");
                }
                let onsets = onset_frames(&read.samples, read.channels, patch.sample_rate());
                patch.put_sample(Sample::in_memory(
                    next,
                    read.channels,
                    read.samples,
                    &onsets,
                )?);
                names.retain(|(n, _)| *n != read.name);
                names.push((read.name, next));
                next += 1;
            }
        }
        Ok(names)
    }
    #[cfg(not(feature = "osc"))]
    {
        let _ = (args, patch, taken);
        bail!("this chronus was built without samples (the osc feature): it cannot load them")
    }
}

/// Peak level of the written file (read back, so the figure is what the file holds).
fn read_peak(path: &std::path::Path) -> Option<f64> {
    let (mono, _, _) = chronus_engine::wav::read_mono(path).ok()?;
    Some(analysis::peak(&mono))
}
