//! End-to-end: `chronus render` writes a WAV whose pitch and envelope are measured from the
//! file itself; bad input is refused with a clear error and no file.

use chronus_dsp::analysis;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn chronus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chronus"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chronus-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let full = (1u32 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / full)
                .collect()
        }
    };
    (spec, samples)
}

/// `chronus render <args> --score <score>` into the scratch file `out`; the samples it wrote
/// (interleaved). Fails the test, with chronus's error, when the render does.
fn render_score(score: &Path, out: &str, args: &[&str]) -> Vec<f32> {
    let out = scratch(out);
    support::succeed(
        chronus()
            .arg("render")
            .args(args)
            .arg("--score")
            .arg(score)
            .arg("--out")
            .arg(&out),
    );
    read_wav(&out).1
}

#[test]
fn render_a_score_and_measure_the_file() {
    let score = scratch("phrase.score");
    std::fs::write(
        &score,
        "# two notes\n0.0 /mod/filter/cutoff 8000\n0.0 /mod/sine/freq 440\n0.0 /gate/adsr on\n\
         1.0 /engine/freq 660\n2.0 /gate/adsr off\n",
    )
    .unwrap();
    let out = scratch("phrase.wav");
    let run = chronus()
        .args(["render", "--out"])
        .arg(&out)
        .args(["--seconds", "3", "--score"])
        .arg(&score)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (spec, both) = read_wav(&out);
    // Stereo by default; the patch plays in the centre: both sides the same.
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (48_000, 2, 32)
    );
    let (s, right) = support::split_sides(&both);
    assert_eq!(s.len(), 144_000);
    assert_eq!(s, right, "centred: the sides are identical");
    let sr = 48_000.0;
    // Pitch of each note, measured away from the transitions.
    let f1 = analysis::zero_crossing_frequency(&s[4_800..43_200], sr).unwrap();
    let f2 = analysis::zero_crossing_frequency(&s[52_800..91_200], sr).unwrap();
    println!("render: note 1 {f1:.3} Hz, note 2 {f2:.3} Hz");
    assert!(
        (f1 - 440.0).abs() < 0.05 && (f2 - 660.0).abs() < 0.05,
        "{f1} {f2}"
    );
    // Envelope: silent before the score starts it? It starts at 0: the first 10 ms rise
    // (attack), then settle at sustain 0.7 × gain 0.5 = 0.35 peak, each side of the centre
    // -3.01 dB of that (equal power: 0.35 × √½ = 0.2475).
    let first = s.iter().position(|&x| x.abs() > 1e-6).unwrap();
    assert!(first < 48, "sound starts at once, first sample {first}");
    let sustain_peak = analysis::peak(&s[24_000..43_200]);
    assert!(
        (sustain_peak - 0.35 * std::f64::consts::FRAC_1_SQRT_2).abs() < 0.005,
        "sustain peak {sustain_peak}"
    );
    let attack_peak = analysis::peak(&s[..240]);
    assert!(
        attack_peak < 0.2,
        "5 ms into a 10 ms attack the level is still rising: {attack_peak}"
    );
    // Release: 200 ms after the gate-off at 2.0 s, silence.
    let tail = analysis::peak(&s[96_000 + 9_700..]);
    let releasing = analysis::peak(&s[96_000 + 2_400..96_000 + 4_800]);
    assert!(
        releasing > 0.07 && tail < 1e-6,
        "releasing {releasing}, tail {tail} (want below -120 dBFS)"
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("wrote"));
}

#[test]
fn render_without_a_score_plays_a4_and_ends_silent() {
    let out = scratch("default.wav");
    let run = chronus()
        .args(["render", "--format", "s16", "--seconds", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (spec, both) = read_wav(&out);
    assert_eq!((spec.bits_per_sample, spec.channels), (16, 2));
    let (s, _) = support::split_sides(&both);
    let f = analysis::zero_crossing_frequency(&s[4_800..48_000], 48_000.0).unwrap();
    assert!((f - 440.0).abs() < 0.05, "{f}");
    assert!(
        analysis::peak(&s[s.len() - 100..]) < 1e-4,
        "ends in silence"
    );
}

#[test]
fn a_bad_score_names_line_and_column_and_writes_nothing() {
    let score = scratch("bad.score");
    std::fs::write(&score, "0.0 /gate/adsr on\n1.0 /mod/sine/frequency 3\n").unwrap();
    let out = scratch("bad.wav");
    let run = chronus()
        .args(["render", "--out"])
        .arg(&out)
        .arg("--score")
        .arg(&score)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        err.contains("score line 2, column 5") && err.contains("frequency"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(!err.contains("panicked"));
}

#[test]
fn impossible_settings_are_refused_clearly() {
    let out = scratch("never.wav");
    for args in [
        ["--block", "7"],
        ["--seconds", "-1"],
        ["--sample-rate", "12"],
        ["--format", "s8"],
    ] {
        let run = chronus()
            .args(["render", "--out"])
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        assert!(err.contains("error"), "{args:?}: {err}");
    }
    assert!(!out.exists());
}

/// FNV-1a (64 bits) of a file's bytes: header and samples.
#[cfg(feature = "effects")]
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `--channels 1` keeps the mono sound: the fuzz-corpus scores (sine only) render to the very
/// bytes the binary from before the stereo work wrote for them (8 s each, f32; the hashes
/// taken from that binary's files, the default build, effects included). The two examples play
/// a saw and a square too, whose jumps became minBLEPs after that (an on-purpose change of
/// their sound: the aliasing 80 dB down); their hashes are this oscillator's, so any other
/// change to the mono sound shows here.
#[cfg(feature = "effects")]
#[test]
fn channels_1_renders_the_old_scores_byte_identical() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (score, want) in [
        // The demo before it had a second instrument.
        (
            "fuzz/corpus/render/demo-v1.score",
            0x18c5_efee_ea53_e12a_u64,
        ),
        ("examples/phrase.score", 0x40fe_cc42_cf2e_fdbc),
        ("fuzz/corpus/render/notes.score", 0xbaba_8ba7_17dd_eb1d),
        (
            "fuzz/corpus/render/swing-toggle.score",
            0xc75a_0f5e_64fe_4dcc,
        ),
        (
            "fuzz/corpus/render/tempo-start-stop.score",
            0x7fc7_3d1c_a9ae_6d56,
        ),
    ] {
        let out = scratch("golden.wav");
        support::succeed(
            chronus()
                .args(["render", "--channels", "1", "--seconds", "8", "--score"])
                .arg(root.join(score))
                .arg("--out")
                .arg(&out),
        );
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            bytes.len(),
            1_536_068,
            "{score}: 8 s of mono f32 and a header"
        );
        assert_eq!(fnv1a(&bytes), want, "{score}: the mono render changed");
    }
}

#[test]
fn a_score_phase_modulates_a_note_from_another_oscillator() {
    // `op` (110 Hz, level 1) drives the default instrument's oscillator's phase at index 2:
    // an A5 (880 Hz) has its sidebands at 880 ± k·110 Hz, at the Bessel amplitudes
    // (J1/J0 = 2.576, J2/J0 = 1.576 at index 2; ±0.5 dB).
    let score = scratch("pm.score");
    std::fs::write(
        &score,
        "0   /patch/create op osc\n\
         0   /patch/connect op sine.pm 2\n\
         0   /mod/op/freq 110\n\
         0   /mod/op/gain 1\n\
         0   /mod/filter/cutoff 20000\n\
         0   /mod/adsr/sustain 1\n\
         0.1 /note/on A5 1\n\
         1.5 /note/off\n",
    )
    .unwrap();
    let (left, _) = support::split_sides(&render_score(&score, "pm.wav", &["--seconds", "1.6"]));
    let sr = 48_000.0;
    let x = &left[14_400..62_400];
    let j0 = analysis::amplitude_at(x, 880.0, sr);
    for (k, want) in [(1.0, 2.576), (2.0, 1.576)] {
        for f in [880.0 - k * 110.0, 880.0 + k * 110.0] {
            let ratio = analysis::amplitude_at(x, f, sr) / j0;
            let off = analysis::to_db(ratio) - analysis::to_db(want);
            println!("{f} Hz: {ratio:.3} of the carrier (want {want}, {off:+.2} dB)");
            assert!(off.abs() <= 0.5, "{f} Hz: {ratio} (want {want})");
        }
    }
}

#[test]
fn a_score_sets_up_a_second_instrument_and_both_are_heard() {
    // The bass is made by the score's setup (a quoted chain), plays alone for half a second,
    // then the default instrument's A4 joins it; the bass sits hard left (its own pan).
    let score = scratch("instruments.score");
    std::fs::write(
        &score,
        "0   /inst/new bass \"osc > adsr > filter > pan\"\n\
         0   /mod/bass.osc/shape 3\n\
         0   /mod/bass.osc/gain 0.3\n\
         0   /mod/bass.filter/cutoff 8000\n\
         0   /mod/bass.pan/pos -1\n\
         0.1 /note/on Bb1 1 bass\n\
         0.6 /note/on A4\n\
         1.2 /note/off\n\
         1.2 /note/off bass\n",
    )
    .unwrap();
    let both = render_score(&score, "instruments.wav", &["--seconds", "1.8"]);
    let (left, right) = support::split_sides(&both);
    let sr = 48_000.0;
    let bass_hz = 440.0 * 2f64.powf((34.0 - 69.0) / 12.0);
    // 0.2..0.55 s: the bass alone, on the left only.
    let f = analysis::fundamental(&left[9_600..26_400], sr).unwrap();
    let right_alone = analysis::peak(&right[9_600..26_400]);
    // 0.7..1.15 s: both; the A4 in the centre, on both sides.
    let a4_left = analysis::amplitude_at(&left[33_600..55_200], 440.0, sr);
    let a4_right = analysis::amplitude_at(&right[33_600..55_200], 440.0, sr);
    let bass_alone = analysis::amplitude_at(&left[9_600..26_400], bass_hz, sr);
    let bass_with = analysis::amplitude_at(&left[33_600..55_200], bass_hz, sr);
    println!(
        "bass {f:.3} Hz (want {bass_hz:.3}), right side while it plays alone {right_alone:.2e}; \
         A4 left {a4_left:.4} right {a4_right:.4}; bass fundamental alone {bass_alone:.4}, \
         with the A4 {bass_with:.4}"
    );
    assert!(
        (1200.0 * (f / bass_hz).log2()).abs() < 1.0,
        "bass at {f} Hz"
    );
    assert!(right_alone < 1e-6, "the bass is hard left: {right_alone}");
    assert!(
        a4_left > 0.1 && (a4_left / a4_right - 1.0).abs() < 0.01,
        "A4 centred"
    );
    assert!(
        (bass_with / bass_alone - 1.0).abs() < 0.02,
        "the bass plays on"
    );
    // And the end: both released at 1.2 s (200 ms releases), silence from 1.55 s.
    assert!(analysis::peak(&left[74_400..]) < 1e-6 && analysis::peak(&right[74_400..]) < 1e-6);
}

#[test]
fn a_modulation_envelope_in_a_score_opens_the_filter_for_each_note() {
    // A saw through a 300 Hz low-pass; a modulation envelope (5 ms up, 300 ms down to 0) opens
    // it three octaves (depth 0.75 of the cutoff's four) on each note. The 12th harmonic of
    // 110 Hz (1320 Hz) is loud while the envelope is up and gone once it is down, and the same
    // score without the route keeps it down throughout.
    let render = |route: bool| {
        let score = scratch(&format!("fenv-{route}.score"));
        let text = format!(
            "0 /patch/create fenv env\n\
             {}\
             0 /mod/fenv/attack 5\n0 /mod/fenv/decay 300\n0 /mod/fenv/sustain 0\n\
             0 /mod/sine/shape 3\n0 /mod/filter/cutoff 300\n\
             0.1 /note/on A2\n1.1 /note/off A2\n",
            if route {
                "0 /patch/connect fenv filter.cutoff 0.75\n"
            } else {
                ""
            }
        );
        std::fs::write(&score, text).unwrap();
        render_score(
            &score,
            &format!("fenv-{route}.wav"),
            &["--channels", "1", "--seconds", "1.2"],
        )
    };
    let (with, without) = (render(true), render(false));
    let h12 = |x: &[f32], from: f64, to: f64| {
        let sr = 48_000.0;
        analysis::amplitude_at(&x[(from * sr) as usize..(to * sr) as usize], 1320.0, sr)
    };
    let (up, down) = (h12(&with, 0.11, 0.16), h12(&with, 0.7, 1.0));
    let (plain_early, plain_late) = (h12(&without, 0.11, 0.16), h12(&without, 0.7, 1.0));
    println!(
        "1320 Hz with the envelope: {up:.4} while up, {down:.5} once down; without: \
         {plain_early:.5}, {plain_late:.5}"
    );
    // Open, 1320 Hz passes; closed at 300 Hz, a 12 dB/octave low-pass takes it ~25 dB down.
    assert!(up > 10.0 * down, "the filter opens and closes: {up} {down}");
    assert!(
        up > 10.0 * plain_early,
        "the route does it: {up} {plain_early}"
    );
    assert!(
        (down / plain_late - 1.0).abs() < 0.1,
        "closed again: {down} {plain_late}"
    );
}

/// The demo's chords are its second instrument's: the demo without the pad's notes renders
/// the same to the sample until the chords come in at 2 s, and the pad is what differs after.
#[cfg(feature = "effects")]
#[test]
fn the_demo_plays_its_chords_on_a_second_instrument() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let demo = std::fs::read_to_string(root.join("examples/demo.score")).unwrap();
    let without: String = demo
        .lines()
        .filter(|l| !(l.contains("/note/") && l.trim_end().ends_with(" pad")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        without.lines().count() + 10 < demo.lines().count(),
        "the pad's notes are out"
    );
    let bare = scratch("demo-without-pad.score");
    std::fs::write(&bare, without).unwrap();
    let render = |score: &Path, name: &str| {
        support::split_sides(&render_score(score, name, &["--seconds", "4"]))
    };
    let (l, r) = render(&root.join("examples/demo.score"), "demo-with-pad.wav");
    let (l0, r0) = render(&bare, "demo-without-pad.wav");
    let at = 2 * 48_000;
    assert_eq!(
        (&l[..at], &r[..at]),
        (&l0[..at], &r0[..at]),
        "the same until the chords"
    );
    let pad: Vec<f32> = r[at..].iter().zip(&r0[at..]).map(|(a, b)| a - b).collect();
    let pad_left: Vec<f32> = l[at..].iter().zip(&l0[at..]).map(|(a, b)| a - b).collect();
    let (right_rms, left_rms) = (analysis::rms(&pad), analysis::rms(&pad_left));
    println!("demo: the pad adds RMS {right_rms:.4} on the right, {left_rms:.4} on the left");
    assert!(right_rms > 0.01, "the pad is heard: {right_rms}");
    assert!(
        right_rms > 1.1 * left_rms,
        "right of centre: {right_rms} {left_rms}"
    );
}

/// The demo's beat is the built-in kit's: without its drum lines the demo renders the same to
/// the sample until the first hat, on the third sixteenth (0.25 s at 120 BPM), and from there
/// it differs by the hats' noise. A score's `/kit/load` needs no file.
#[cfg(feature = "effects")]
#[test]
fn the_demo_plays_a_beat_on_the_built_in_kit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let demo = std::fs::read_to_string(root.join("examples/demo.score")).unwrap();
    let without: String = demo
        .lines()
        .filter(|l| !(l.contains("/kit/") || l.contains(" 1 ") || l.contains(" 2 ")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        demo.lines().count() - without.lines().count(),
        5,
        "the drum lines are out"
    );
    let bare = scratch("demo-without-drums.score");
    std::fs::write(&bare, without).unwrap();
    let args = ["--seconds", "3", "--channels", "1"];
    let with = render_score(&root.join("examples/demo.score"), "demo-drums.wav", &args);
    let plain = render_score(&bare, "demo-no-drums.wav", &args);
    let first = with
        .iter()
        .zip(&plain)
        .position(|(a, b)| a.to_bits() != b.to_bits())
        .expect("the drums are heard");
    println!("the first hat at sample {first}");
    assert_eq!(first, 12_000, "the hat lands on its step");
    let hat: Vec<f32> = with[first..first + 3_840]
        .iter()
        .zip(&plain[first..])
        .map(|(a, b)| a - b)
        .collect();
    assert!(analysis::rms(&hat) > 0.02, "{}", analysis::rms(&hat));
}
