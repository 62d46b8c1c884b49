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
    /// The WAV file (any sample format). Pitch and onsets are found in the channels' mean;
    /// levels are given for each channel too, and for two or more, the balance and the
    /// correlation of the first two (left, right).
    file: PathBuf,
    /// Draw the waveform of each channel (top, left first, onsets in red) and a spectrogram
    /// of their mean (bottom, 0..8 kHz, low at the bottom) into this PNG file.
    #[arg(long, value_name = "PNG")]
    plot: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// A WAV file as f32: each channel, and their mean.
fn read(path: &Path) -> Result<(Vec<Vec<f32>>, Vec<f32>, u32)> {
    let (channels, rate) = chronus_engine::wav::read_channels(path)
        .with_context(|| format!("cannot read {} as WAV", path.display()))?;
    let n = channels.first().map_or(0, Vec::len);
    let scale = 1.0 / channels.len().max(1) as f32;
    let mix = (0..n)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() * scale)
        .collect();
    Ok((channels, mix, rate))
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
    /// Each channel's RMS and peak, dBFS.
    per_channel: Vec<(f64, f64)>,
    /// With two channels or more: right minus left RMS level, dB (positive: to the right).
    balance_db: Option<f64>,
    /// With two channels or more: the correlation of left and right (1: mono, near 0: wide,
    /// -1: opposite); `None` when a side is silent.
    correlation: Option<f64>,
}

fn analyse(samples: &[f32], rate: u32, sides: &[Vec<f32>]) -> Report {
    let channels = sides.len() as u16;
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
        per_channel: sides
            .iter()
            .map(|c| {
                (
                    analysis::to_db(analysis::rms(c)),
                    analysis::to_db(analysis::peak(c)),
                )
            })
            .collect(),
        balance_db: match sides {
            [l, r, ..] => Some(
                analysis::to_db(analysis::rms(r).max(1e-12))
                    - analysis::to_db(analysis::rms(l).max(1e-12)),
            ),
            _ => None,
        },
        correlation: match sides {
            [l, r, ..] => analysis::correlation(l, r),
            _ => None,
        },
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
    if r.per_channel.len() > 1 {
        for (c, (rms, peak)) in r.per_channel.iter().enumerate() {
            let name = match c {
                0 => "left".to_owned(),
                1 => "right".to_owned(),
                _ => format!("channel {}", c + 1),
            };
            println!("  {name:<8} RMS {rms:.1} dBFS, peak {peak:.1} dBFS");
        }
    }
    if let Some(b) = r.balance_db {
        let side = if b.abs() < 0.05 {
            "centred".to_owned()
        } else if b > 0.0 {
            format!("{b:.1} dB to the right")
        } else {
            format!("{:.1} dB to the left", -b)
        };
        println!("balance    {side}");
    }
    if r.per_channel.len() > 1 {
        match r.correlation {
            Some(c) => println!(
                "L/R        correlation {c:.2} ({})",
                if c > 0.95 {
                    "mono"
                } else if c > 0.5 {
                    "narrow"
                } else if c > -0.2 {
                    "wide"
                } else {
                    "out of phase"
                }
            ),
            None => println!("L/R        correlation: a side is silent"),
        }
    }
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
    let per_channel: Vec<String> = r
        .per_channel
        .iter()
        .map(|(rms, peak)| format!("{{\"rms_dbfs\":{rms:.2},\"peak_dbfs\":{peak:.2}}}"))
        .collect();
    println!(
        "{{\"seconds\":{:.3},\"sample_rate\":{},\"channels\":{},\"rms_dbfs\":{:.2},\"peak_dbfs\":{:.2},\
         \"clipped_samples\":{},\"pitch_hz\":{},\"onsets\":[{}],\"per_channel\":[{}],\
         \"balance_db\":{},\"correlation\":{}}}",
        r.seconds,
        r.rate,
        r.channels,
        r.rms_db,
        r.peak_db,
        r.clipped,
        num(r.pitch),
        onsets.join(","),
        per_channel.join(","),
        num(r.balance_db),
        num(r.correlation)
    );
}

/// Runs `chronus analyze`.
pub fn run(args: AnalyzeArgs) -> Result<()> {
    let (sides, samples, rate) = read(&args.file)?;
    if samples.is_empty() {
        bail!("{} holds no audio", args.file.display());
    }
    let report = analyse(&samples, rate, &sides);
    if args.json {
        print_json(&report);
    } else {
        print_text(&args.file, &report);
    }
    if let Some(png) = &args.plot {
        let onsets: Vec<f64> = report.onsets.iter().map(|(t, _)| *t).collect();
        super::plot::draw(&sides, &samples, rate, &onsets, png)?;
        if !args.json {
            println!(
                "plot       {} (top: waveform{}, onsets in red; bottom: spectrogram 0..8 kHz)",
                png.display(),
                if sides.len() > 1 {
                    " of each channel, left first"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
