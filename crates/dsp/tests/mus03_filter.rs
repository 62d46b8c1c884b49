//! MUS-03: the biquad's measured magnitude response matches the RBJ design.

mod common;

use chronus_dsp::modules::filter::{self, Coefs, Filter, Mode};
use chronus_dsp::{analysis, Module};
use common::{run_through, sine};

const SR: f64 = 48_000.0;

/// Measured gain in dB of the filter at `freq` (steady state, RMS ratio).
fn measure_db(mode: f32, cutoff: f32, q: f32, freq: f64) -> f64 {
    let mut f = Filter::new(SR);
    f.set_param(filter::MODE, mode).unwrap();
    f.set_param(filter::CUTOFF, cutoff).unwrap();
    f.set_param(filter::Q, q).unwrap();
    // Let the 10 ms smoothing settle before measuring.
    run_through(&mut f, &vec![0.0; 4800], 64);
    let input = sine(freq, 0.5, SR, 96_000);
    let out = run_through(&mut f, &input, 64);
    let skip = 24_000; // transient
    analysis::to_db(analysis::rms(&out[skip..]) / analysis::rms(&input[skip..]))
}

#[test]
fn mus03_minus_3db_at_cutoff() {
    for (mode, name) in [(0.0, "lowpass"), (1.0, "highpass")] {
        for fc in [100.0f32, 1000.0, 10_000.0] {
            let db = measure_db(mode, fc, std::f32::consts::FRAC_1_SQRT_2, f64::from(fc));
            println!("MUS-03 {name} fc {fc:>6} Hz: {db:+.3} dB at cutoff (want -3.01 ±0.1)");
            assert!((db + 3.0103).abs() <= 0.1, "{name} {fc}: {db} dB");
        }
    }
}

#[test]
fn mus03_twelve_db_per_octave() {
    for (mode, name) in [(0.0, "lowpass"), (1.0, "highpass")] {
        for fc in [100.0f32, 1000.0, 10_000.0] {
            // An octave into the stop band.
            let probe = if mode == 0.0 {
                f64::from(fc) * 2.0
            } else {
                f64::from(fc) / 2.0
            };
            let db = measure_db(mode, fc, std::f32::consts::FRAC_1_SQRT_2, probe);
            let design = Coefs::rbj(
                Mode::from_number(mode),
                f64::from(fc),
                std::f64::consts::FRAC_1_SQRT_2,
                0.0,
                SR,
            )
            .magnitude(probe, SR);
            let design_db = analysis::to_db(design);
            println!(
                "MUS-03 {name} fc {fc:>6} Hz: {db:+.2} dB an octave out (design {design_db:+.2} dB)"
            );
            assert!(
                (db - design_db).abs() <= 0.1,
                "measured {db} vs design {design_db}"
            );
            if fc <= 1000.0 {
                // Far from Nyquist the bilinear transform keeps the analog -12 dB/octave.
                assert!(
                    (db + 12.0).abs() <= 1.0,
                    "{name} {fc}: {db} dB an octave out"
                );
            }
        }
    }
}

#[test]
fn mus03_bandpass_peaks_at_centre() {
    let centre = 2000.0f32;
    let at_centre = measure_db(2.0, centre, 2.0, f64::from(centre));
    let mut best = (f64::MIN, 0.0);
    for k in -12..=12 {
        let f = f64::from(centre) * 2f64.powf(f64::from(k) / 12.0);
        let db = measure_db(2.0, centre, 2.0, f);
        if db > best.0 {
            best = (db, f);
        }
    }
    println!(
        "MUS-03 bandpass centre {centre} Hz: {at_centre:+.3} dB; peak of sweep at {:.1} Hz",
        best.1
    );
    assert!(
        at_centre.abs() <= 0.1,
        "bandpass gain at centre {at_centre}"
    );
    assert!(
        (best.1 - f64::from(centre)).abs() < 1.0,
        "peak at {}",
        best.1
    );
}

#[test]
fn stable_over_the_whole_range() {
    for mode in 0..=6 {
        for fc in [20.0f32, 200.0, 5000.0, 21_600.0] {
            for q in [0.1f32, 0.707, 5.0, 20.0] {
                let mut f = Filter::new(SR);
                f.set_param(filter::MODE, mode as f32).unwrap();
                f.set_param(filter::CUTOFF, fc).unwrap();
                f.set_param(filter::Q, q).unwrap();
                f.set_param(filter::GAIN_DB, 12.0).unwrap();
                let noise: Vec<f32> = (0..48_000u32)
                    .map(|i| ((i.wrapping_mul(2_654_435_761) >> 8) as f32 / 8.4e6) - 1.0)
                    .collect();
                let out = run_through(&mut f, &noise, 64);
                // The most resonant setting (20 Hz, Q 20) rings with a 0.32 s time constant.
                let silence = run_through(&mut f, &vec![0.0; 480_000], 64);
                assert!(
                    out.iter().all(|x| x.is_finite()),
                    "mode {mode} fc {fc} q {q}"
                );
                assert!(
                    analysis::peak(&silence[432_000..]) < 1e-6,
                    "rings on: mode {mode} fc {fc} q {q}"
                );
            }
        }
    }
}
