//! The output stage's soft limiter: transparent below the knee, never beyond ±1.0.

/// Level below which the limiter does nothing.
pub const KNEE: f32 = 0.9;

/// Soft-limits one sample: identity for `|x| <= KNEE`, a tanh curve above it that approaches
/// but never exceeds 1.0. NaN passes through so the engine can see a faulty block.
#[inline]
pub fn soft_limit(x: f32) -> f32 {
    let a = x.abs();
    if a <= KNEE || a.is_nan() {
        x
    } else {
        let room = 1.0 - KNEE;
        (KNEE + room * ((a - KNEE) / room).tanh())
            .min(1.0)
            .copysign(x)
    }
}

/// Soft-limits a block in place. A block entirely below the knee (the usual case) is found
/// with one vectorised pass and left untouched.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
pub fn soft_limit_block(block: &mut [f32]) {
    // Branch-free so it vectorises; NaN compares false and passes through untouched anyway.
    let over = block
        .iter()
        .fold(0u32, |o, x| o | u32::from(x.abs() > KNEE));
    if over == 0 {
        return;
    }
    for x in block.iter_mut() {
        *x = soft_limit(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_below_knee_and_bounded_above() {
        for i in -900..=900 {
            let x = i as f32 / 1000.0;
            assert_eq!(soft_limit(x), x);
        }
        for x in [0.95f32, 1.0, 2.0, 10.0, 1e30, f32::MAX, f32::INFINITY] {
            let y = soft_limit(x);
            assert!(y > KNEE && y <= 1.0, "{x} -> {y}");
            assert_eq!(soft_limit(-x), -y);
        }
        assert!(soft_limit(f32::NAN).is_nan());
        // Monotonic above the knee.
        let mut last = 0.0;
        for i in 0..2000 {
            let y = soft_limit(0.9 + i as f32 / 1000.0);
            assert!(y >= last);
            last = y;
        }
    }
}
