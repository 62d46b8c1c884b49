//! Aliasing of the oscillator's saw, square and pulse, measured by FFT: every component below
//! 16 kHz that is not a harmonic of the note must be at least 80 dB under the fundamental, for
//! notes up to 5 kHz at 44.1 and 48 kHz (`make test-audio` prints the table). And the pulse's
//! width is what `pw` says.

mod common;

use chronus_dsp::modules::osc::{self, Osc};
use chronus_dsp::Module;
use common::render_source;
use rustfft::num_complex::Complex;

/// FFT length: 0.73 Hz a bin at 48 kHz.
const N: usize = 65_536;

/// Magnitudes of `x` (its first `N` samples) under a 4-term Blackman-Harris window (side lobes
/// 92 dB down: the measurement's floor, well under the bound).
fn spectrum(x: &[f32]) -> Vec<f64> {
    use std::f64::consts::TAU;
    let a = [0.35875, 0.48829, 0.14128, 0.01168];
    let mut buf: Vec<Complex<f64>> = x[..N]
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let p = TAU * i as f64 / N as f64;
            let w = a[0] - a[1] * p.cos() + a[2] * (2.0 * p).cos() - a[3] * (3.0 * p).cos();
            Complex::new(f64::from(v) * w, 0.0)
        })
        .collect();
    rustfft::FftPlanner::new()
        .plan_fft_forward(N)
        .process(&mut buf);
    buf[..N / 2].iter().map(|c| c.norm()).collect()
}

/// The loudest component below 16 kHz away from every harmonic of `f0` (more than 8 bins: the
/// window's main lobe is 4), in dB under the fundamental.
fn worst_alias_db(shape: f32, pw: f32, f0: f64, sr: f64) -> f64 {
    worst_alias_db_with(f0, sr, &[1.0], |o| {
        o.set_param(osc::SHAPE, shape).unwrap();
        o.set_param(osc::PW, pw).unwrap();
    })
}

/// [`worst_alias_db`] for an oscillator `set` sets up, whose partials are the harmonics of
/// `f0 · r` for each `r` in `bases` (unison copies, a sub at 0.5).
fn worst_alias_db_with(f0: f64, sr: f64, bases: &[f64], set: impl Fn(&mut Osc)) -> f64 {
    alias_levels(f0, sr, bases, set).0
}

/// The loudest alias component below 16 kHz (as [`worst_alias_db_with`]) in dB under the
/// fundamental, and under the loudest partial.
fn alias_levels(f0: f64, sr: f64, bases: &[f64], set: impl Fn(&mut Osc)) -> (f64, f64) {
    let mut o = Osc::new(sr);
    o.set_param(osc::FREQ, f0 as f32).unwrap();
    o.set_param(osc::GAIN, 1.0).unwrap();
    set(&mut o);
    let out = render_source(&mut o, (N as f64 + 4_800.0) / sr, sr, 64);
    let mag = spectrum(&out[4_800..]);
    let bin = sr / N as f64;
    let at = |f: f64| (f / bin).round() as usize;
    let fundamental = mag[at(f0) - 3..=at(f0) + 3]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let worst = (at(20.0)..at(16_000.0))
        .filter(|&k| {
            let f = k as f64 * bin;
            bases.iter().all(|r| {
                let base = f0 * r;
                let nearest = (f / base).round().max(1.0) * base;
                (f - nearest).abs() > 8.0 * bin
            })
        })
        .map(|k| mag[k])
        .fold(0.0, f64::max);
    let loudest = mag[at(20.0)..at(16_000.0)]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    (
        20.0 * (worst / fundamental).log10(),
        20.0 * (worst / loudest).log10(),
    )
}

#[test]
fn saw_square_and_pulse_alias_80_db_under_the_fundamental_below_16_khz() {
    let mut failures = Vec::new();
    for sr in [44_100.0, 48_000.0] {
        for (shape, pw, name) in [
            (3.0, 0.5, "saw"),
            (2.0, 0.5, "square"),
            (4.0, 0.25, "pulse 25 %"),
            (4.0, 0.1, "pulse 10 %"),
        ] {
            for f0 in [220.0, 880.0, 1_760.0, 5_000.0] {
                let db = worst_alias_db(shape, pw, f0, sr);
                println!(
                    "{name:<10} {f0:>6.0} Hz @ {sr:>5} Hz: worst alias below 16 kHz {db:>6.1} dB"
                );
                if db > -80.0 {
                    failures.push(format!("{name} {f0} Hz @ {sr}: {db:.1} dB"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "over -80 dB: {failures:?}");
}

#[test]
fn the_pulse_is_high_for_its_width() {
    let sr = 48_000.0;
    for pw in [0.1f32, 0.25, 0.5, 0.75, 0.9] {
        let mut o = Osc::new(sr);
        o.set_param(osc::FREQ, 100.0).unwrap();
        o.set_param(osc::SHAPE, 4.0).unwrap();
        o.set_param(osc::PW, pw).unwrap();
        let out = render_source(&mut o, 1.1, sr, 64);
        let steady = &out[4_800..4_800 + 48_000];
        let high = steady.iter().filter(|&&x| x > 0.0).count() as f64 / steady.len() as f64;
        println!("pulse pw {pw}: high {:.4} of the time", high);
        assert!(
            (high - f64::from(pw)).abs() < 0.01 * f64::from(pw),
            "pw {pw}: high {high}"
        );
    }
}

#[test]
fn the_sub_and_unison_copies_are_band_limited_too() {
    let mut failures = Vec::new();
    let cents = |c: f64| (c / 1200.0).exp2();
    for sr in [44_100.0, 48_000.0] {
        for f0 in [220.0, 880.0, 1_760.0, 5_000.0] {
            // A saw with its square sub at full level: the sub's partials are odd harmonics
            // of f0 / 2.
            let sub = worst_alias_db_with(f0, sr, &[0.5], |o| {
                o.set_param(osc::SHAPE, 3.0).unwrap();
                o.set_param(osc::SUB, 1.0).unwrap();
            });
            // Three saws 12 cents apart.
            let unison = worst_alias_db_with(f0, sr, &[1.0, cents(12.0), cents(-12.0)], |o| {
                o.set_param(osc::SHAPE, 3.0).unwrap();
                o.set_param(osc::UNISON, 3.0).unwrap();
                o.set_param(osc::DETUNE, 12.0).unwrap();
            });
            println!(
                "saw + sub {f0:>6.0} Hz @ {sr:>5} Hz: {sub:>6.1} dB; 3 saws ±12 cents: \
                 {unison:>6.1} dB"
            );
            for (what, db) in [("sub", sub), ("unison", unison)] {
                if db > -80.0 {
                    failures.push(format!("{what} {f0} Hz @ {sr}: {db:.1} dB"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "over -80 dB: {failures:?}");
}

/// The frequency of the loudest partial within `±width` Hz of `near`, interpolated between
/// bins (parabola through the log magnitudes), and its level (the root of the power in its
/// main lobe: the same wherever it falls between bins).
fn peak_near(mag: &[f64], bin: f64, near: f64, width: f64) -> (f64, f64) {
    let (lo, hi) = (
        ((near - width) / bin) as usize,
        ((near + width) / bin) as usize,
    );
    let k = (lo..=hi)
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap();
    let (a, b, c) = (mag[k - 1].ln(), mag[k].ln(), mag[k + 1].ln());
    let d = 0.5 * (a - c) / (a - 2.0 * b + c);
    let level = mag[k - 5..=k + 5].iter().map(|m| m * m).sum::<f64>().sqrt();
    ((k as f64 + d) * bin, level)
}

#[test]
fn unison_copies_sound_at_their_detune_and_the_sub_an_octave_down() {
    let sr = 48_000.0;
    let bin = sr / N as f64;
    // Three sines 10 cents apart around 2 kHz (11.6 Hz: 16 bins apart), one sine with a sub.
    let render = |set: &dyn Fn(&mut Osc)| {
        let mut o = Osc::new(sr);
        o.set_param(osc::FREQ, 2_000.0).unwrap();
        o.set_param(osc::GAIN, 1.0).unwrap();
        set(&mut o);
        let out = render_source(&mut o, (N as f64 + 4_800.0) / sr, sr, 64);
        spectrum(&out[4_800..])
    };
    let mag = render(&|o| {
        o.set_param(osc::UNISON, 3.0).unwrap();
        o.set_param(osc::DETUNE, 10.0).unwrap();
    });
    let mut levels = Vec::new();
    for c in [-10.0, 0.0, 10.0] {
        let want = 2_000.0 * (c / 1200.0f64).exp2();
        let (f, level) = peak_near(&mag, bin, want, 5.0);
        let off = 1200.0 * (f / 2_000.0).log2();
        println!("unison copy at {c:+} cents: measured {off:+.3} cents");
        assert!((off - c).abs() < 0.1, "{c} cents: {off}");
        levels.push(level);
    }
    let spread = levels.iter().copied().fold(0.0, f64::max)
        / levels.iter().copied().fold(f64::MAX, f64::min);
    assert!(spread < 1.01, "the copies at one level: {levels:?}");
    // The sub: a square an octave down at its level (its fundamental 4/π of it) beside the
    // sine (1: the window's gain cancels in the ratio).
    let mag = render(&|o| o.set_param(osc::SUB, 0.5).map(|_| ()).unwrap());
    let (f_sub, sub) = peak_near(&mag, bin, 1_000.0, 5.0);
    let (_, sine) = peak_near(&mag, bin, 2_000.0, 5.0);
    let ratio = sub / sine;
    println!(
        "sub at {f_sub:.3} Hz, {ratio:.4} of the sine (want {:.4})",
        0.5 * 4.0 / std::f64::consts::PI
    );
    assert!((f_sub - 1_000.0).abs() < 0.01, "{f_sub}");
    assert!(
        (ratio / (0.5 * 4.0 / std::f64::consts::PI) - 1.0).abs() < 0.01,
        "{ratio}"
    );
}

#[test]
fn hard_sync_sounds_at_the_note_and_is_band_limited() {
    // The heard wave 7 and 19 semitones over the note, restarting each period of the note: a
    // tone at the note's pitch (its partials the note's harmonics), the restarts band-limited.
    // Synced far up, the note's own partial is weak (19 semitones: the third harmonic is 48 dB
    // over it), so the bound is under the loudest partial; under the fundamental is printed.
    let mut failures = Vec::new();
    for sr in [44_100.0, 48_000.0] {
        for (shape, name) in [(3.0, "saw"), (2.0, "square")] {
            for over in [7.0, 19.0] {
                for f0 in [220.0, 880.0, 1_760.0] {
                    let (fundamental, loudest) = alias_levels(f0, sr, &[1.0], |o| {
                        o.set_param(osc::SHAPE, shape).unwrap();
                        o.set_param(osc::SYNC, over).unwrap();
                    });
                    println!(
                        "{name:<6} synced +{over:>2} st {f0:>6.0} Hz @ {sr:>5} Hz: worst alias \
                         below 16 kHz {loudest:>6.1} dB under the loudest partial \
                         ({fundamental:>6.1} dB under the fundamental)"
                    );
                    if loudest > -80.0 {
                        failures.push(format!("{name} +{over} {f0} Hz @ {sr}: {loudest:.1} dB"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "over -80 dB: {failures:?}");
}

#[test]
fn hard_sync_restarts_the_wave_each_period_of_the_note() {
    // A synced saw 12 semitones up at 100 Hz is two saw periods per note period: its
    // spectrum's 100 Hz partial is (nearly) gone and the 200 Hz one is the saw's fundamental;
    // at 5 semitones, 100 Hz is back (the restart every 10 ms makes the note's pitch).
    let sr = 48_000.0;
    let level = |over: f32, f: f64| {
        let mut o = Osc::new(sr);
        o.set_param(osc::FREQ, 100.0).unwrap();
        o.set_param(osc::GAIN, 1.0).unwrap();
        o.set_param(osc::SHAPE, 3.0).unwrap();
        o.set_param(osc::SYNC, over).unwrap();
        let out = render_source(&mut o, 1.1, sr, 64);
        chronus_dsp::analysis::amplitude_at(&out[4_800..4_800 + 48_000], f, sr)
    };
    let octave = (level(12.0, 100.0), level(12.0, 200.0));
    let fifth = level(5.0, 100.0);
    println!(
        "sync +12: 100 Hz {:.4}, 200 Hz {:.4}; sync +5: 100 Hz {fifth:.4}",
        octave.0, octave.1
    );
    assert!(octave.0 < 0.01 * octave.1, "{octave:?}");
    assert!(fifth > 0.1, "{fifth}");
}
