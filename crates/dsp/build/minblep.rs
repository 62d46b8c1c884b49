//! The minBLEP residual table's design (see `src/minblep.rs`): computed by the build script,
//! once, so that no process pays for it when it makes its first oscillator (four FFTs of
//! 131,072 points: about 15 ms, which every replacement worker paid before it could render).

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// Samples a band-limited step's residual lasts (the correction ring's length).
pub const LEN: usize = 64;
/// The lowpass's cutoff, as a fraction of the sample rate.
const CUTOFF: f64 = 0.45;
/// Table points per sample.
pub const PHASES: usize = 256;
/// Table points in all (one more, zero, at the end for the interpolation).
pub const POINTS: usize = LEN * PHASES;
/// Kaiser window's β.
const BETA: f64 = 9.0;

/// The zeroth-order modified Bessel function of the first kind (its power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        k += 1.0;
    }
    sum
}

/// The residual table: the windowed sinc at `PHASES` points a sample, made minimum-phase by
/// its real cepstrum (the log magnitude's causal part, exponentiated), integrated into a step,
/// less the ideal step.
pub fn build() -> Box<[f32]> {
    let n = POINTS;
    let center = (n - 1) as f64 / 2.0;
    let fc = CUTOFF / PHASES as f64; // in cycles per table point
    let i0_beta = bessel_i0(BETA);
    let prototype = (0..n).map(|i| {
        let x = i as f64 - center;
        let sinc = if x == 0.0 {
            2.0 * fc
        } else {
            (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
        };
        let r = x / center;
        let window = bessel_i0(BETA * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
        sinc * window
    });
    let m = 8 * n;
    let mut planner = FftPlanner::<f64>::new();
    let (fft, ifft) = (planner.plan_fft_forward(m), planner.plan_fft_inverse(m));
    let mut spectrum: Vec<Complex<f64>> = prototype
        .map(|v| Complex::new(v, 0.0))
        .chain(std::iter::repeat(Complex::new(0.0, 0.0)))
        .take(m)
        .collect();
    fft.process(&mut spectrum);
    // The real cepstrum of the magnitude, folded onto its causal half.
    let mut cepstrum: Vec<Complex<f64>> = spectrum
        .iter()
        .map(|c| Complex::new(c.norm().max(1e-14).ln(), 0.0))
        .collect();
    ifft.process(&mut cepstrum);
    for (k, c) in cepstrum.iter_mut().enumerate() {
        let scale = match k {
            0 => 1.0,
            k if k < m / 2 => 2.0,
            k if k == m / 2 => 1.0,
            _ => 0.0,
        };
        *c *= scale / m as f64;
    }
    fft.process(&mut cepstrum);
    let mut minimum: Vec<Complex<f64>> = cepstrum.iter().map(|c| c.exp()).collect();
    ifft.process(&mut minimum);
    // Integrated into a step from 0 to 1, less the ideal step (1 from the jump on).
    let impulse: Vec<f64> = minimum[..n].iter().map(|c| c.re / m as f64).collect();
    let total: f64 = impulse.iter().sum();
    let mut acc = 0.0;
    let mut table: Vec<f32> = impulse
        .iter()
        .map(|v| {
            acc += v;
            (acc / total - 1.0) as f32
        })
        .collect();
    table.push(0.0);
    table.into_boxed_slice()
}
