//! MUS-01: the oscillator plays the frequency asked for, within ±0.1 cent.

mod common;

use chronus_dsp::modules::osc::{self, Osc};
use chronus_dsp::{analysis, Module};
use common::{cents, render_source};

const FREQS: [f64; 6] = [27.5, 110.0, 440.0, 1000.0, 4186.0, 12000.0];
const RATES: [f64; 2] = [44_100.0, 48_000.0];

fn measure(shape: f32, freq: f64, sr: f64) -> f64 {
    let mut o = Osc::new(sr);
    o.set_param(osc::FREQ, freq as f32).unwrap();
    o.set_param(osc::SHAPE, shape).unwrap();
    let out = render_source(&mut o, 4.0, sr, 64);
    analysis::zero_crossing_frequency(&out, sr).expect("a periodic signal")
}

#[test]
fn mus01_sine_frequency_within_a_tenth_of_a_cent() {
    let mut worst: f64 = 0.0;
    for sr in RATES {
        for f in FREQS {
            let measured = measure(0.0, f, sr);
            let err = cents(measured, f);
            println!("MUS-01 sine {f:>8.1} Hz @ {sr:>5} Hz: measured {measured:.5} Hz, error {err:+.5} cent");
            assert!(err.abs() <= 0.1, "{f} Hz at {sr}: {err} cents");
            worst = worst.max(err.abs());
        }
    }
    println!("MUS-01 worst error {worst:.5} cent (bound ±0.1)");
}

#[test]
fn mus01_other_shapes_frequency_within_a_tenth_of_a_cent() {
    for (shape, name) in [(1.0, "triangle"), (2.0, "square"), (3.0, "saw")] {
        for f in [110.0, 440.0, 4186.0] {
            let measured = measure(shape, f, 48_000.0);
            let err = cents(measured, f);
            println!("MUS-01 {name:>8} {f:>8.1} Hz @ 48000 Hz: error {err:+.5} cent");
            assert!(err.abs() <= 0.1, "{name} {f} Hz: {err} cents");
        }
    }
}

#[test]
fn pitch_does_not_drift_over_an_hour() {
    // Phase after an hour of 440 Hz at 48 kHz, advanced block by block, equals the exact phase.
    let sr = 48_000.0;
    let mut o = Osc::new(sr);
    let mut block = [0.0f32; 1024];
    let blocks = (3600.0 * sr / 1024.0) as u64;
    for _ in 0..blocks {
        o.process(&mut block);
    }
    let chronus_dsp::ModuleState::Osc(s) = o.state() else {
        panic!("osc state")
    };
    let exact = (blocks as f64 * 1024.0 * 440.0 / sr).fract();
    let phase = s.phase as f64 / 2f64.powi(64);
    let err = (phase - exact).abs().min(1.0 - (phase - exact).abs());
    println!("phase error after one hour: {err:.3e} turns");
    assert!(err < 1e-6, "phase drifted by {err} turns");
}

#[test]
fn band_limited_shapes_alias_less_than_naive_ones() {
    // A 4.5 kHz saw and square at 48 kHz: harmonics above Nyquist fold back between the true
    // harmonics. Energy at non-harmonic frequencies must be far below a naive waveform's.
    let (sr, f) = (48_000.0, 4_500.0);
    for (shape, name) in [(1.0f32, "triangle"), (2.0, "square"), (3.0, "saw")] {
        let mut o = Osc::new(sr);
        o.set_param(osc::FREQ, f as f32).unwrap();
        o.set_param(osc::SHAPE, shape).unwrap();
        let out = render_source(&mut o, 1.0, sr, 64);
        let naive: Vec<f32> = (0..out.len())
            .map(|i| {
                let t = (i as f64 * f / sr).fract() as f32;
                let wave = match shape as u8 {
                    1 if t < 0.5 => 4.0 * t - 1.0,
                    1 => 3.0 - 4.0 * t,
                    2 if t < 0.5 => 1.0,
                    2 => -1.0,
                    _ => 2.0 * t - 1.0,
                };
                wave * 0.5
            })
            .collect();
        // Alias bins: multiples of 500 Hz that are not harmonics of 4.5 kHz.
        let alias_energy = |x: &[f32]| -> f64 {
            (1..48)
                .map(|k| k as f64 * 500.0)
                .filter(|fr| (fr / f).fract().abs() > 1e-9)
                .map(|fr| analysis::amplitude_at(x, fr, sr).powi(2))
                .sum::<f64>()
        };
        let (bl, nv) = (alias_energy(&out), alias_energy(&naive));
        let gain_db = 10.0 * (nv / bl).log10();
        println!("{name}: aliasing {gain_db:.1} dB below naive");
        assert!(
            bl < nv / 4.0,
            "{name}: band-limited alias energy {bl} vs naive {nv}"
        );
    }
}
