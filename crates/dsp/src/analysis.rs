//! Measurements on rendered audio: frequency, level, magnitude at a frequency.
//!
//! Used by the accuracy suite and by tools that report what a render contains. All functions
//! are pure and work on `f32` samples at a given sample rate.

/// Frequency estimated from rising zero crossings (linearly interpolated) over the whole buffer.
///
/// Accurate to far better than 0.01 cent on a clean periodic signal a few seconds long.
/// Returns `None` when there are fewer than two rising crossings.
pub fn zero_crossing_frequency(samples: &[f32], sample_rate: f64) -> Option<f64> {
    let crossings = rising_crossings(samples);
    let (first, last) = (*crossings.first()?, *crossings.last()?);
    if crossings.len() < 2 || last <= first {
        return None;
    }
    Some((crossings.len() - 1) as f64 * sample_rate / (last - first))
}

/// Positions (in fractional samples) where the signal crosses zero going up.
pub fn rising_crossings(samples: &[f32]) -> Vec<f64> {
    let mut out = Vec::new();
    for (i, w) in samples.windows(2).enumerate() {
        let (a, b) = (f64::from(w[0]), f64::from(w[1]));
        if a < 0.0 && b >= 0.0 {
            out.push(i as f64 + a / (a - b));
        }
    }
    out
}

/// Root-mean-square level.
pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Largest absolute sample value.
pub fn peak(samples: &[f32]) -> f64 {
    samples
        .iter()
        .fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
}

/// A linear level in decibels (20·log10).
pub fn to_db(level: f64) -> f64 {
    20.0 * level.log10()
}

/// Amplitude of the component at `freq` Hz (Goertzel over the whole buffer, Hann window).
///
/// For a pure sine of amplitude `a` at `freq`, returns `a` to within 0.1 % when the buffer
/// holds many periods.
pub fn amplitude_at(samples: &[f32], freq: f64, sample_rate: f64) -> f64 {
    let n = samples.len();
    if n < 2 {
        return 0.0;
    }
    let w = std::f64::consts::TAU * freq / sample_rate;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut window_sum = 0.0;
    for (i, &x) in samples.iter().enumerate() {
        let hann = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos();
        window_sum += hann;
        let s0 = f64::from(x) * hann + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / window_sum
}

/// Number of rising zero crossings per second.
pub fn zero_crossing_rate(samples: &[f32], sample_rate: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    rising_crossings(samples).len() as f64 * sample_rate / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, amp: f64, sr: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (amp * (std::f64::consts::TAU * freq * i as f64 / sr).sin()) as f32)
            .collect()
    }

    #[test]
    fn measures_a_reference_sine() {
        let s = sine(1000.0, 0.5, 48_000.0, 48_000);
        let f = zero_crossing_frequency(&s, 48_000.0).unwrap();
        assert!((f - 1000.0).abs() < 1e-3, "{f}");
        assert!((amplitude_at(&s, 1000.0, 48_000.0) - 0.5).abs() < 5e-4);
        assert!(amplitude_at(&s, 3000.0, 48_000.0) < 1e-4);
        assert!((rms(&s) - 0.5 / 2f64.sqrt()).abs() < 1e-4);
        assert!((peak(&s) - 0.5).abs() < 1e-3);
    }

    #[test]
    fn silence_has_no_frequency() {
        assert_eq!(zero_crossing_frequency(&[0.0; 100], 48_000.0), None);
        assert_eq!(zero_crossing_frequency(&[], 48_000.0), None);
    }
}
