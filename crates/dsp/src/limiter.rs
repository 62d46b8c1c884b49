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

/// The bits of a sample's magnitude: ordered as the magnitudes are (a NaN above them all).
#[inline(always)]
fn magnitude_bits(x: f32) -> u32 {
    x.to_bits() & 0x7fff_ffff
}

/// Soft-limits a block in place. A block entirely below the knee (the usual case) is found
/// with one vectorised pass (the largest magnitude's bits) and left untouched. Real-time
/// thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
pub fn soft_limit_block(block: &mut [f32]) {
    let loudest = block.iter().fold(0u32, |m, &x| m.max(magnitude_bits(x)));
    if loudest > KNEE.to_bits() {
        block.iter_mut().for_each(|x| *x = soft_limit(*x));
    }
}

/// `src` into `out` (of the same length), soft-limited: [`soft_limit_block`] with the look
/// for a sample over the knee made as the block is copied. Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
pub fn copy_soft_limited(out: &mut [f32], src: &[f32]) {
    let mut loudest = 0u32;
    for (o, &s) in out.iter_mut().zip(src) {
        *o = s;
        loudest = loudest.max(magnitude_bits(s));
    }
    if loudest > KNEE.to_bits() {
        out.iter_mut().for_each(|x| *x = soft_limit(*x));
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
        // The block forms (the look for a sample over the knee on the magnitudes' bits, with
        // the copy or in place) give what the sample form gives, to the bit.
        let loud = [
            0.5f32,
            -0.95,
            0.9,
            -0.9,
            2.0,
            f32::NAN,
            -0.0,
            1e-40,
            f32::INFINITY,
        ];
        let quiet = [0.5f32, -0.9, 0.9, -0.0, 1e-40, 0.0, 0.899];
        for src in [&loud[..], &quiet[..], &[f32::NAN, 0.1][..], &[][..]] {
            let bits = |b: &[f32]| b.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let want: Vec<f32> = src.iter().map(|&x| soft_limit(x)).collect();
            let mut in_place = src.to_vec();
            soft_limit_block(&mut in_place);
            assert_eq!(bits(&in_place), bits(&want));
            let mut copied = vec![7.0; src.len()];
            copy_soft_limited(&mut copied, src);
            assert_eq!(bits(&copied), bits(&want));
        }
        // Monotonic above the knee.
        let mut last = 0.0;
        for i in 0..2000 {
            let y = soft_limit(0.9 + i as f32 / 1000.0);
            assert!(y >= last);
            last = y;
        }
    }
}
