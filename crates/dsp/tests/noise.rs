//! The noise source's colours, measured: the slope of its spectrum over 50 Hz–10 kHz (a line
//! fitted to sixth-octave band levels of a Welch average) is 0 dB an octave for white, −3.01
//! for pink and −6.02 for brown, within ±0.3, at 44.1 and 48 kHz.

mod common;

use chronus_dsp::modules::noise::{self, Noise};
use chronus_dsp::Module;
use common::render_source;
use rustfft::num_complex::Complex;

/// Segment length of the Welch average.
const SEG: usize = 8_192;

/// Power spectral density (arbitrary units) of `x`: Hann-windowed segments, half overlapping.
fn psd(x: &[f32]) -> Vec<f64> {
    let fft = rustfft::FftPlanner::new().plan_fft_forward(SEG);
    let window: Vec<f64> = (0..SEG)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / SEG as f64).cos())
        .collect();
    let mut sum = vec![0.0; SEG / 2];
    let mut count = 0;
    for start in (0..x.len() - SEG).step_by(SEG / 2) {
        let mut buf: Vec<Complex<f64>> = x[start..start + SEG]
            .iter()
            .zip(&window)
            .map(|(&v, w)| Complex::new(f64::from(v) * w, 0.0))
            .collect();
        fft.process(&mut buf);
        for (s, c) in sum.iter_mut().zip(&buf) {
            *s += c.norm_sqr();
        }
        count += 1;
    }
    sum.iter().map(|s| s / f64::from(count)).collect()
}

/// The slope, in dB an octave, of a line fitted to the band levels of `psd` in sixth-octave
/// bands from 50 Hz to 10 kHz.
fn slope(psd: &[f64], sr: f64) -> f64 {
    let bin = sr / SEG as f64;
    let mut points = Vec::new();
    let mut lo = 50.0f64;
    while lo * 2f64.powf(1.0 / 6.0) <= 10_000.0 {
        let hi = lo * 2f64.powf(1.0 / 6.0);
        let bins: Vec<f64> = ((lo / bin).ceil() as usize..(hi / bin).ceil() as usize)
            .map(|k| psd[k])
            .collect();
        let mean = bins.iter().sum::<f64>() / bins.len() as f64;
        points.push(((lo * hi).sqrt().log2(), 10.0 * mean.log10()));
        lo = hi;
    }
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let num: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let den: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    num / den
}

#[test]
fn white_pink_and_brown_fall_0_3_and_6_db_an_octave() {
    for sr in [44_100.0, 48_000.0] {
        for (color, name, want) in [
            (0.0, "white", 0.0),
            (1.0, "pink", -3.01),
            (2.0, "brown", -6.02),
        ] {
            let mut n = Noise::new(sr);
            n.set_param(noise::COLOR, color).unwrap();
            let out = render_source(&mut n, 10.0, sr, 64);
            let rms =
                (out.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / out.len() as f64).sqrt();
            let s = slope(&psd(&out), sr);
            println!("noise {name:<5} @ {sr:>5} Hz: {s:+.3} dB/octave over 50 Hz-10 kHz (want {want:+.2}), RMS {rms:.3}");
            assert!((s - want).abs() <= 0.3, "{name} at {sr}: {s} dB/octave");
            assert!(out.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
            assert!((0.05..0.7).contains(&rms), "{name}: RMS {rms}");
        }
    }
}

#[test]
fn the_same_noise_in_both_workers() {
    // A fresh source of each colour always makes the same samples (lockstep needs that).
    for color in [0.0, 1.0, 2.0] {
        let render = || {
            let mut n = Noise::new(48_000.0);
            n.set_param(noise::COLOR, color).unwrap();
            render_source(&mut n, 0.5, 48_000.0, 64)
        };
        let (a, b) = (render(), render());
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a.iter().any(|x| *x != 0.0));
    }
}

#[test]
fn an_oscillators_noise_is_white_at_its_level_beside_the_wave() {
    use chronus_dsp::analysis;
    use chronus_dsp::modules::osc::{self, Osc};

    let sr = 48_000.0;
    let render = |noise: f32| {
        let mut o = Osc::new(sr);
        o.set_param(osc::GAIN, 1.0).unwrap();
        o.set_param(osc::FREQ, 220.0).unwrap();
        o.set_param(osc::NOISE, noise).unwrap();
        let mut out = vec![0.0f32; 96_000];
        for b in out.chunks_mut(64) {
            o.process(b);
        }
        out
    };
    let (breathy, clean) = (render(0.5), render(0.0));
    // The wave is the same; what is added is uniform white noise at 0.5: RMS 0.5/√3.
    let added: Vec<f32> = breathy.iter().zip(&clean).map(|(a, b)| a - b).collect();
    let level = analysis::rms(&added[4_800..]);
    println!(
        "osc noise 0.5: added RMS {level:.4} (want {:.4})",
        0.5 / 3f64.sqrt()
    );
    assert!((level / (0.5 / 3f64.sqrt()) - 1.0).abs() < 0.02, "{level}");
    let peak = analysis::peak(&added[4_800..]);
    assert!(peak <= 0.5 + 1e-5, "never past its level: {peak}");
    // White: as much above 6 kHz as below (the halves of the band, equal power within 10 %).
    let low: f64 = (1..40)
        .map(|k| {
            analysis::amplitude_at(&added[4_800..52_800], 500.0 + 100.0 * k as f64, sr).powi(2)
        })
        .sum();
    let high: f64 = (1..40)
        .map(|k| {
            analysis::amplitude_at(&added[4_800..52_800], 12_500.0 + 100.0 * k as f64, sr).powi(2)
        })
        .sum();
    assert!((low / high - 1.0).abs() < 0.35, "flat: {low} {high}");
}
