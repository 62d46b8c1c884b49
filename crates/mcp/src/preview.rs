//! `render_preview`: a score rendered offline on the default patch and analysed, so an
//! assistant hears what it wrote without speakers.

use crate::ToolError;
use chronus_dsp::{analysis, Patch};
use chronus_engine::Score;
use serde_json::{json, Value};

/// Longest preview, in seconds.
pub const MAX_SECONDS: f64 = 60.0;
const RATE: f64 = 48_000.0;

/// Renders `score` for `seconds` (default: its length + 0.5 s) and returns the analysis:
/// level (RMS and peak, dBFS), the fundamental, onsets, clipped samples.
pub fn render_preview(score: &str, seconds: Option<f64>) -> Result<Value, ToolError> {
    let bad = |reason: String| ToolError::BadArguments {
        tool: "render_preview",
        reason,
    };
    let score = Score::parse(score).map_err(|e| ToolError::Score {
        reason: e.to_string(),
    })?;
    let seconds = seconds.unwrap_or(score.duration() + 0.5);
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(bad(format!(
            "seconds must be over 0 and at most {MAX_SECONDS} (got {seconds})"
        )));
    }
    let mut patch = Patch::default_patch(RATE, 64).map_err(|e| bad(e.to_string()))?;
    let commands = score
        .set_up(&mut patch)
        .and_then(|_| score.resolve(&patch))
        .map_err(|e| ToolError::Score {
            reason: e.to_string(),
        })?;
    let samples = (seconds * RATE).round() as u64;
    let audio =
        chronus_engine::offline::render(patch, &commands, samples, |_, _| {}).map_err(|e| {
            ToolError::Score {
                reason: e.to_string(),
            }
        })?;
    let number = |x: f64| {
        serde_json::Number::from_f64((x * 1000.0).round() / 1000.0)
            .map_or(Value::Null, Value::Number)
    };
    let onsets: Vec<Value> = analysis::onsets(&audio, RATE)
        .into_iter()
        .map(number)
        .collect();
    // The pitch where the sound is steady: the loudest half second.
    let window = (RATE * 0.5) as usize;
    let loudest = audio
        .chunks(window)
        .enumerate()
        .max_by(|a, b| analysis::rms(a.1).total_cmp(&analysis::rms(b.1)))
        .map(|(i, _)| i * window);
    let pitch = loudest.and_then(|start| {
        let part = &audio[start..(start + window).min(audio.len())];
        (analysis::rms(part) > 1e-3)
            .then(|| analysis::fundamental(part, RATE))
            .flatten()
    });
    Ok(json!({
        "seconds": number(seconds),
        "sample_rate": RATE,
        "rms_dbfs": number(analysis::to_db(analysis::rms(&audio))),
        "peak_dbfs": number(analysis::to_db(analysis::peak(&audio))),
        "pitch_hz": pitch.map(number),
        "pitch_at_seconds": loudest.map(|s| number(s as f64 / RATE)),
        "onsets_seconds": onsets,
        "clipped_samples": analysis::clipped_samples(&audio),
        "silent": analysis::peak(&audio) < 1e-4,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_hears_the_pitch_and_the_onset() {
        let v = render_preview(
            "0 /mod/sine/freq 220\n0.25 /gate/adsr on\n1 /gate/adsr off\n",
            None,
        )
        .unwrap();
        let pitch = v["pitch_hz"].as_f64().unwrap();
        assert!((pitch - 220.0).abs() < 0.5, "{v}");
        let onset = v["onsets_seconds"][0].as_f64().unwrap();
        assert!((onset - 0.25).abs() < 0.015, "{v}");
        assert_eq!(v["silent"], false);
    }

    #[test]
    fn bad_scores_and_lengths_are_refused_with_the_reason() {
        let e = render_preview("0 /nosuch 1\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("the score does not render"), "{e}");
        let e = render_preview("0 /gate/adsr on\n", Some(600.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 60"), "{e}");
        let v = render_preview("", Some(0.5)).unwrap();
        assert_eq!(v["silent"], true);
    }
}
