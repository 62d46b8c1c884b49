//! Wave shapes shared by the oscillator and the LFO.

use crate::fastmath::sin_turns;

/// Wave shape numbers, as set through the `shape` parameter.
pub(crate) const SINE: u8 = 0;
pub(crate) const TRIANGLE: u8 = 1;
pub(crate) const SQUARE: u8 = 2;
pub(crate) const SAW: u8 = 3;

/// The PolyBLEP residual of a step of height 2 at phase 0, for phase increment `dt`.
#[inline]
pub(crate) fn poly_blep(t: f32, dt: f32) -> f32 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

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

/// Band-limited wave at phase `t` in `[0, 1)` with phase increment `dt` per sample.
#[inline]
pub(crate) fn band_limited(shape: u8, t: f32, dt: f32) -> f32 {
    match shape {
        SINE => sin_turns(t),
        TRIANGLE => {
            let naive = if t < 0.5 {
                4.0 * t - 1.0
            } else {
                3.0 - 4.0 * t
            };
            naive + 4.0 * dt * (poly_blamp(t, dt) - poly_blamp(wrap(t + 0.5), dt))
        }
        SQUARE => {
            let naive = if t < 0.5 { 1.0 } else { -1.0 };
            naive + poly_blep(t, dt) - poly_blep(wrap(t + 0.5), dt)
        }
        _ => 2.0 * t - 1.0 - poly_blep(t, dt),
    }
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
