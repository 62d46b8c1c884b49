//! Minimum-phase band-limited steps (minBLEP): how the oscillator takes the aliasing out of
//! the jumps of its saw, square and pulse.
//!
//! A jump of a naive waveform has a spectrum falling only 6 dB an octave, so its partials above
//! Nyquist fold back into the audible band. Replacing each jump by a *band-limited* one — the
//! step response of a lowpass at Nyquist — removes them: the output is then the ideal waveform
//! filtered by that lowpass (its ramps pass a lowpass unchanged), sampled. The lowpass here is a
//! Kaiser-windowed sinc over [`LEN`] samples (β 9: about 90 dB of stopband) with its cutoff at
//! 0.45 of the sample rate: flat to about 0.41 (18 kHz at 44.1 kHz), the stopband reached by
//! Nyquist, so next to nothing folds back at all (and no ringing at Nyquist muddles the wave).
//! It is made minimum-phase, so the band-limited step starts at the jump (no delay: notes keep
//! their exact sample). The table holds its residual (band-limited step minus ideal step) at
//! 256 points a sample; a jump at a fraction of a sample adds the residual, interpolated,
//! to the next [`LEN`] samples (see [`add_step`]).
//!
//! The table (64 KiB) is computed once, the first time an oscillator is made
//! ([`warm`]): never on a real-time thread, which only reads it.

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use std::sync::OnceLock;

/// Samples a band-limited step's residual lasts (the correction ring's length).
pub const LEN: usize = 64;
/// The lowpass's cutoff, as a fraction of the sample rate.
const CUTOFF: f64 = 0.45;
/// Table points per sample.
const PHASES: usize = 256;
/// Table points in all (one more, zero, at the end for the interpolation).
const POINTS: usize = LEN * PHASES;
/// Kaiser window's β.
const BETA: f64 = 9.0;

static TABLE: OnceLock<Box<[f32]>> = OnceLock::new();

/// Computes the table if it is not there yet. Called when an oscillator is made (not on a
/// real-time thread); cheap after the first time.
pub fn warm() {
    table();
}

fn table() -> &'static [f32] {
    TABLE.get_or_init(build)
}

/// The residual of a unit step `x` samples after it (0 ≤ x < [`LEN`]), interpolated.
/// Real-time safe once [`warm`] has run.
#[inline]
fn residual(t: &[f32], x: f32) -> f32 {
    let pos = x * PHASES as f32;
    let i = (pos as usize).min(POINTS - 1);
    let w = pos - i as f32;
    t[i] + (t[i + 1] - t[i]) * w
}

/// Adds a jump of `height` that happened `frac` of a sample (0 ≤ frac < 1) before the sample
/// whose correction is at `ring[pos]`, to that sample and the [`LEN`] − 1 after it (the ring
/// wraps). Called on the audio thread: no allocation, [`LEN`] multiply-adds.
#[inline]
pub fn add_step(ring: &mut [f32; LEN], pos: usize, height: f32, frac: f32) {
    let t = table();
    for j in 0..LEN {
        ring[(pos + j) % LEN] += height * residual(t, j as f32 + frac);
    }
}

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
fn build() -> Box<[f32]> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_residual_starts_at_minus_one_and_dies_away() {
        let t = table();
        // Minimum phase: the band-limited step begins at the jump, from next to nothing.
        assert!(
            (residual(t, 0.0) + 1.0).abs() < 0.01,
            "{}",
            residual(t, 0.0)
        );
        // ... and has settled on the ideal step at the end of the ring.
        assert!(residual(t, (LEN - 1) as f32).abs() < 1e-5);
        // A step and its residual: an overshoot (Gibbs), nothing like a second jump.
        let peak = (0..POINTS).map(|i| t[i].abs()).fold(0.0f32, f32::max);
        assert!(peak <= 1.0 + 1e-3, "{peak}");
    }
}
