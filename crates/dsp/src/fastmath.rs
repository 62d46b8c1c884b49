//! Small, deterministic approximations used in the audio path.

use std::f32::consts::PI;

/// `sin(2π·phase)` for `phase` in `[0, 1)`, with an absolute error below 1e-6.
///
/// Folds the phase onto a quarter wave and evaluates an odd Taylor polynomial of degree 11
/// (truncation error at π/2 is about 6e-8); no table, no libm call, no branches on data.
#[inline]
pub(crate) fn sin_turns(phase: f32) -> f32 {
    // y in [-0.5, 0.5): sin(2π·phase) = -sin(2π·y).
    let y = phase - 0.5;
    // Fold onto [-0.25, 0.25]: sin(2π(0.5 - y)) = sin(2πy).
    let a = y.abs();
    let folded = if a > 0.25 { 0.5 - a } else { a };
    let x = (folded * (2.0 * PI)).copysign(y);
    let x2 = x * x;
    let p = 1.0
        + x2 * (-1.0 / 6.0
            + x2 * (1.0 / 120.0
                + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0 + x2 * (-1.0 / 39_916_800.0)))));
    -(x * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_sine_to_1e6() {
        let mut worst = 0.0f64;
        for i in 0..100_000 {
            let phase = i as f32 / 100_000.0;
            let exact = (f64::from(phase) * std::f64::consts::TAU).sin();
            worst = worst.max((f64::from(sin_turns(phase)) - exact).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
    }
}
