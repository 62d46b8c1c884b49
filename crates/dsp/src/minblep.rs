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
//! The table (64 KiB) is computed by the build script (`build/minblep.rs`, which designs it)
//! and compiled in: a process makes its first oscillator without computing anything.

// `LEN`, `PHASES`, `POINTS` and `TABLE`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/minblep_table.rs"));

/// The residual of a unit step `x` samples after it (0 ≤ x < [`LEN`]), interpolated.
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
    let t = &TABLE;
    for j in 0..LEN {
        ring[(pos + j) % LEN] += height * residual(t, j as f32 + frac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::minblep_design as design;

    #[test]
    fn the_compiled_table_is_the_design_bit_for_bit() {
        let designed = design::build();
        assert_eq!(designed.len(), TABLE.len());
        assert_eq!((design::LEN, design::PHASES), (LEN, PHASES));
        for (i, (a, b)) in designed.iter().zip(TABLE.iter()).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "point {i}: {a} designed, {b} compiled in"
            );
        }
    }

    #[test]
    fn the_residual_starts_at_minus_one_and_dies_away() {
        let t = &TABLE;
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
