//! `chronus analyze`: what a WAV file contains — pitch, level, onsets, clipping — and, with
//! `--plot`, a picture of it (waveform and spectrogram), for anyone without speakers.

use anyhow::{bail, Context, Result};
use chronus_dsp::analysis;
use std::path::{Path, PathBuf};

/// Arguments of `chronus analyze`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
EXAMPLES
  chronus analyze take.wav
  chronus analyze take.wav --plot take.png      waveform over a spectrogram (0..8 kHz)
  chronus analyze take.wav --json")]
pub struct AnalyzeArgs {
    /// The WAV file (any sample format; channels are averaged).
    file: PathBuf,
    /// Draw the waveform (top, onsets in red) and a spectrogram (bottom, 0..8 kHz, low at the
    /// bottom) into this PNG file.
    #[arg(long, value_name = "PNG")]
    plot: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// A WAV file as mono f32.
fn read(path: &Path) -> Result<(Vec<f32>, u32, u16)> {
    chronus_engine::wav::read_mono(path)
        .with_context(|| format!("cannot read {} as WAV", path.display()))
}

/// "A4 +3 c" for a frequency.
fn note_of(freq: f64) -> String {
    use chronus_dsp::pitch::{nearest_note, note_name};
    match nearest_note(freq) {
        Some((n, 0)) => note_name(n),
        Some((n, cents)) => format!("{} {cents:+} c", note_name(n)),
        None => "no note".into(),
    }
}

/// What was found.
struct Report {
    seconds: f64,
    rate: u32,
    channels: u16,
    rms_db: f64,
    peak_db: f64,
    clipped: usize,
    /// Pitch of the loudest 100 ms that has one.
    pitch: Option<f64>,
    /// Onset time and the pitch 100 ms after it.
    onsets: Vec<(f64, Option<f64>)>,
}

fn analyse(samples: &[f32], rate: u32, channels: u16) -> Report {
    let sr = f64::from(rate);
    let window = (sr * 0.1) as usize;
    let mut by_level: Vec<(usize, f64)> = samples
        .chunks(window.max(1))
        .enumerate()
        .map(|(i, c)| (i * window, analysis::rms(c)))
        .collect();
    by_level.sort_by(|a, b| b.1.total_cmp(&a.1));
    let pitch_at = |start: usize| {
        let end = (start + window).min(samples.len());
        samples
            .get(start..end)
            .and_then(|s| analysis::fundamental(s, sr))
    };
    let onsets = analysis::onsets(samples, sr)
        .into_iter()
        // The pitch 100 ms in, once the attack (and any glide) has settled.
        .map(|t| (t, pitch_at(((t + 0.1) * sr) as usize)))
        .collect();
    Report {
        seconds: samples.len() as f64 / sr,
        rate,
        channels,
        rms_db: analysis::to_db(analysis::rms(samples)),
        peak_db: analysis::to_db(analysis::peak(samples)),
        clipped: analysis::clipped_samples(samples),
        // The loudest stretch with a steady pitch (a glide or a note change has none).
        pitch: by_level.iter().find_map(|&(start, _)| pitch_at(start)),
        onsets,
    }
}

fn print_text(path: &Path, r: &Report) {
    let hz = |f: Option<f64>| match f {
        Some(f) => format!("{f:.2} Hz ({})", note_of(f)),
        None => "none (silence or noise)".to_owned(),
    };
    println!(
        "{}: {:.3} s, {} Hz, {} channel{}",
        path.display(),
        r.seconds,
        r.rate,
        r.channels,
        if r.channels == 1 { "" } else { "s" }
    );
    println!(
        "level      RMS {:.1} dBFS, peak {:.1} dBFS",
        r.rms_db, r.peak_db
    );
    println!("pitch      {} (the loudest steady 100 ms)", hz(r.pitch));
    println!(
        "clipping   {}",
        if r.clipped == 0 {
            "none".to_owned()
        } else {
            format!("{} samples at full scale: lower the gain", r.clipped)
        }
    );
    println!("onsets     {}", r.onsets.len());
    for (t, f) in &r.onsets {
        println!("  {t:8.3} s  {}", hz(*f));
    }
}

fn print_json(r: &Report) {
    let num = |f: Option<f64>| f.map_or("null".to_owned(), |f| format!("{f:.3}"));
    let onsets: Vec<String> = r
        .onsets
        .iter()
        .map(|(t, f)| format!("{{\"time\":{t:.3},\"pitch_hz\":{}}}", num(*f)))
        .collect();
    println!(
        "{{\"seconds\":{:.3},\"sample_rate\":{},\"channels\":{},\"rms_dbfs\":{:.2},\"peak_dbfs\":{:.2},\
         \"clipped_samples\":{},\"pitch_hz\":{},\"onsets\":[{}]}}",
        r.seconds,
        r.rate,
        r.channels,
        r.rms_db,
        r.peak_db,
        r.clipped,
        num(r.pitch),
        onsets.join(",")
    );
}

/// Runs `chronus analyze`.
pub fn run(args: AnalyzeArgs) -> Result<()> {
    let (samples, rate, channels) = read(&args.file)?;
    if samples.is_empty() {
        bail!("{} holds no audio", args.file.display());
    }
    let report = analyse(&samples, rate, channels);
    if args.json {
        print_json(&report);
    } else {
        print_text(&args.file, &report);
    }
    if let Some(png) = &args.plot {
        let onsets: Vec<f64> = report.onsets.iter().map(|(t, _)| *t).collect();
        super::plot::draw(&samples, rate, &onsets, png)?;
        if !args.json {
            println!(
                "plot       {} (top: waveform, onsets in red; bottom: spectrogram 0..8 kHz)",
                png.display()
            );
        }
    }
    Ok(())
}
