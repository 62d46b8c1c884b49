//! `chronus analyze`: the figures and the picture of a render match what the score played.

use std::path::Path;

mod support;

/// Renders examples/phrase.score with `--channels channels` (2 is the default).
fn render_phrase(out: &Path, channels: &str) {
    let r = support::chronus()
        .args([
            "render",
            "--channels",
            channels,
            "--seconds",
            "4",
            "--score",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/phrase.score"))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

/// The number after `"key":` in a flat JSON text, in order of appearance.
fn numbers(json: &str, key: &str) -> Vec<f64> {
    json.split(&format!("\"{key}\":"))
        .skip(1)
        .filter_map(|rest| {
            rest.split([',', '}', ']'])
                .next()
                .and_then(|n| n.trim().parse().ok())
        })
        .collect()
}

#[test]
fn figures_match_the_score() {
    let wav = support::scratch("analyze", "phrase.wav");
    render_phrase(&wav, "2");
    let out = support::chronus()
        .args(["analyze", "--json"])
        .arg(&wav)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{json}");
    println!("{json}");
    // The score: A3 at 0 s (gliding on later), C4 square at 2.4 s after a silence.
    let times = numbers(&json, "time");
    let pitches = numbers(&json, "pitch_hz");
    assert_eq!(times.len(), 2, "{json}");
    assert!(
        (times[0] - 0.0).abs() < 0.011 && (times[1] - 2.4).abs() < 0.011,
        "{times:?}"
    );
    // pitch_hz: the whole file's first, then each onset's.
    assert_eq!(pitches.len(), 3, "{json}");
    assert!((pitches[1] - 220.0).abs() < 0.1, "{pitches:?}");
    assert!((pitches[2] - 261.63).abs() < 0.1, "{pitches:?}");
    assert_eq!(numbers(&json, "clipped_samples"), vec![0.0]);
    let peak = numbers(&json, "peak_dbfs")[0];
    assert!((-12.0..0.0).contains(&peak), "{peak}");
}

#[test]
fn the_plot_shows_the_notes_where_they_are() {
    let wav = support::scratch("analyze", "plot.wav");
    let png_path = support::scratch("analyze", "plot.png");
    // One lane: the mono layout (a stereo file's two lanes have a test of their own below).
    render_phrase(&wav, "1");
    let out = support::chronus()
        .arg("analyze")
        .arg(&wav)
        .arg("--plot")
        .arg(&png_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).unwrap();
    assert_eq!((info.width, info.height), (1200, 600));
    let at = |x: usize, y: usize| {
        let i = (y * 1200 + x) * 3;
        [px[i], px[i + 1], px[i + 2]]
    };
    let brightness = |p: [u8; 3]| u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]);
    // In the spectrogram (rows 200..600, 0..8 kHz from the bottom), each note's column is
    // brightest on its fundamental's row.
    for (seconds, hz) in [(0.25, 220.0), (3.0, 261.63)] {
        let x = (seconds / 4.0 * 1200.0) as usize;
        let brightest = (200..600).max_by_key(|&y| brightness(at(x, y))).unwrap();
        let want = 200.0 + (1.0 - hz / 8000.0) * 400.0;
        println!("{seconds} s: brightest row {brightest}, {hz} Hz is row {want:.1}");
        assert!(
            (brightest as f64 - want).abs() <= 1.5,
            "{brightest} vs {want}"
        );
    }
    // The waveform is drawn where there is sound and not in the silence at 2.2..2.4 s.
    let drawn = |x: usize| (0..200).filter(|&y| at(x, y) == [120, 200, 255]).count();
    assert!(drawn(300) > 40, "{}", drawn(300));
    assert!(
        drawn((2.3 / 4.0 * 1200.0) as usize) <= 1,
        "silence is a flat line"
    );
    // The onset at 2.4 s is marked in red.
    assert_eq!(at(720, 0), [230, 50, 50]);
}

#[test]
fn a_stereo_file_is_measured_per_channel_and_plotted_side_by_side() {
    // Hard left for the first second, then hard right: a level on each side, the balance
    // leaning left (the first second is louder: the note's attack), unrelated sides.
    let score = support::scratch("analyze", "pan.score");
    std::fs::write(
        &score,
        "0.0 /mod/pan/pos -1\n0.0 /gate/adsr on\n1.0 /mod/pan/pos 1\n",
    )
    .unwrap();
    let wav = support::scratch("analyze", "stereo.wav");
    let png_path = support::scratch("analyze", "stereo.png");
    let r = support::chronus()
        .args(["render", "--channels", "2", "--seconds", "2", "--score"])
        .arg(&score)
        .arg("--out")
        .arg(&wav)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = support::chronus()
        .args(["analyze", "--json"])
        .arg(&wav)
        .arg("--plot")
        .arg(&png_path)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{json}");
    println!("{json}");
    assert_eq!(numbers(&json, "channels"), [2.0]);
    let rms = numbers(&json, "rms_dbfs");
    assert_eq!(rms.len(), 3, "the whole file, then each channel: {rms:?}");
    assert!(
        (rms[1] - rms[2]).abs() < 1.0,
        "a second on each side: {rms:?}"
    );
    let balance = numbers(&json, "balance_db")[0];
    assert!((balance - (rms[2] - rms[1])).abs() < 0.01, "{balance}");
    let correlation = numbers(&json, "correlation")[0];
    assert!(
        correlation.abs() < 0.1,
        "one side sounds at a time: {correlation}"
    );
    // The plot: the left lane (top) drawn in the first half only, the right lane in the second.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).unwrap();
    assert_eq!((info.width, info.height), (1200, 600));
    let lit = |x: usize, rows: std::ops::Range<usize>| {
        rows.filter(|&y| {
            let i = (y * 1200 + x) * 3;
            px[i] > 100 || px[i + 2] > 100
        })
        .count()
    };
    for (x, left, right) in [(300, true, false), (900, false, true)] {
        let (l, r) = (lit(x, 0..100), lit(x, 100..200));
        println!("column {x}: left lane {l} px, right lane {r} px");
        assert_eq!((l > 20, r > 20), (left, right), "column {x}");
    }
}

#[test]
fn clipping_and_integer_files_are_reported() {
    let wav = support::scratch("analyze", "clipped.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for i in 0..44_100 {
        // A 1 kHz square at full scale: every sample clips.
        let v = if (i * 2_000 / 44_100) % 2 == 0 {
            i16::MAX
        } else {
            i16::MIN
        };
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let out = support::chronus()
        .arg("analyze")
        .arg(&wav)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("2 channels") && text.contains("44100 Hz"),
        "{text}"
    );
    assert!(text.contains("44100 samples at full scale"), "{text}");
    assert!(text.contains("1000.00 Hz") || text.contains("B5"), "{text}");
}

#[test]
fn a_file_that_is_not_wav_is_a_clear_error() {
    let bad = support::scratch("analyze", "not.wav");
    std::fs::write(&bad, b"hello").unwrap();
    let out = support::chronus()
        .arg("analyze")
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot read") && !err.contains("panicked"),
        "{err}"
    );
}

/// The demo uses the delay and the reverb: built with the `effects` feature only.
#[cfg(feature = "effects")]
#[test]
fn the_demo_score_renders_clean_and_busy() {
    let wav = support::scratch("analyze", "demo.wav");
    let r = support::chronus()
        .args(["render", "--seconds", "16", "--score"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.score"))
        .arg("--out")
        .arg(&wav)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = support::chronus()
        .args(["analyze", "--json"])
        .arg(&wav)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(numbers(&json, "clipped_samples"), vec![0.0], "{json}");
    // Stereo: each side of the centre is 3.01 dB below the mono level (equal power).
    let peak = numbers(&json, "peak_dbfs")[0];
    assert!((-9.0..-0.5).contains(&peak), "{peak}");
    // The sequencer's notes: dozens of onsets in the first ten seconds.
    let onsets = numbers(&json, "time");
    assert!(
        onsets.iter().filter(|t| **t < 10.0).count() >= 30,
        "{onsets:?}"
    );
    // The bass line is in A: the loudest steady pitch is A2.
    let pitch = numbers(&json, "pitch_hz")[0];
    assert!((pitch - 110.0).abs() < 0.5, "{pitch}");
}
