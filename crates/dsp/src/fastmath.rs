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
    -odd_polynomial(x)
}

/// The odd Taylor polynomial of degree 11 of `sin(x)`, for `x` in `[-π/2, π/2]`.
#[inline(always)]
fn odd_polynomial(x: f32) -> f32 {
    let x2 = x * x;
    let p = 1.0
        + x2 * (-1.0 / 6.0
            + x2 * (1.0 / 120.0
                + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0 + x2 * (-1.0 / 39_916_800.0)))));
    x * p
}

/// `-sin_turns(t)` to the bit, where `t` is the top 24 bits of a fixed-point phase read as
/// turns, given the phase's top 32 bits with the highest flipped (`hi ^ 0x8000_0000`: half a
/// turn on, which keeps its sums the same). The fold onto a quarter wave is done on integers
/// (exact, as the float fold is), which costs fewer floating-point operations in vectors.
#[inline(always)]
pub(crate) fn neg_sin_half_turned(half_turned_hi: u32) -> f32 {
    // y·2^24, y = t - 0.5 in [-0.5, 0.5): the top 24 bits less 2^23.
    let y = (half_turned_hi as i32) >> 8;
    let a = y.abs();
    // `0.5 - a` when `a > 0.25`, else `a`: the smaller of the two.
    let folded = a.min((1 << 23) - a);
    // Exact: scaling by 2^-24 commutes with rounding (no value here is subnormal).
    let magnitude = folded as f32 * (2.0 * PI * (1.0 / 16_777_216.0));
    // The sign of y (y = 0 is +0, as in `copysign`).
    let x = f32::from_bits(magnitude.to_bits() | (y as u32 & 0x8000_0000));
    odd_polynomial(x)
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

    #[test]
    fn the_integer_fold_is_the_float_fold_to_the_bit() {
        // Every top 24 bits of a phase (the rest cannot change the result).
        for top in 0..1u32 << 24 {
            let hi = top << 8 | (top & 0xff);
            let turns = top as i32 as f32 * (1.0 / 16_777_216.0);
            let want = -sin_turns(turns);
            let got = neg_sin_half_turned(hi ^ 0x8000_0000);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "top bits {top:#x}: {got} against {want}"
            );
        }
    }
}
