//! Wave shapes shared by the oscillator and the LFO.

use crate::fastmath::sin_turns;

/// Wave shape numbers, as set through the `shape` parameter.
pub(crate) const SINE: u8 = 0;
pub(crate) const TRIANGLE: u8 = 1;
pub(crate) const SQUARE: u8 = 2;
pub(crate) const SAW: u8 = 3;
/// A pulse of the width `pw` (the oscillator only).
pub(crate) const PULSE: u8 = 4;

/// The PolyBLAMP residual (integrated PolyBLEP, peak 1/3) of a corner at phase 0.
#[inline]
pub(crate) fn poly_blamp(t: f32, dt: f32) -> f32 {
    if t < dt {
        let x = 1.0 - t / dt;
        x * x * x / 3.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt + 1.0;
        x * x * x / 3.0
    } else {
        0.0
    }
}

#[inline]
fn wrap(t: f32) -> f32 {
    if t >= 1.0 {
        t - 1.0
    } else {
        t
    }
}

/// A triangle at phase `t` in `[0, 1)` with phase increment `dt` per sample, its corners
/// band-limited (PolyBLAMP: its partials fall 12 dB an octave, so that is enough).
#[inline]
pub(crate) fn triangle(t: f32, dt: f32) -> f32 {
    let naive = if t < 0.5 {
        4.0 * t - 1.0
    } else {
        3.0 - 4.0 * t
    };
    naive + 4.0 * dt * (poly_blamp(t, dt) - poly_blamp(wrap(t + 0.5), dt))
}

/// Naive (not band-limited) wave at phase `t`, for control-rate use.
#[inline]
pub(crate) fn naive(shape: u8, t: f32) -> f32 {
    match shape {
        SINE => sin_turns(t),
        TRIANGLE => {
            if t < 0.5 {
                4.0 * t - 1.0
            } else {
                3.0 - 4.0 * t
            }
        }
        SQUARE => {
            if t < 0.5 {
                1.0
            } else {
                -1.0
            }
        }
        _ => 2.0 * t - 1.0,
    }
}
