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

/// The correlation of two channels (Pearson's, -1..1): 1 when they move together (mono),
/// near 0 when unrelated (a wide reverb's tails), -1 when opposite. `None` when either is
/// silent (or constant) or they differ in length.
pub fn correlation(left: &[f32], right: &[f32]) -> Option<f64> {
    if left.len() != right.len() || left.is_empty() {
        return None;
    }
    let n = left.len() as f64;
    let mean = |s: &[f32]| s.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (ml, mr) = (mean(left), mean(right));
    let (mut lr, mut ll, mut rr) = (0.0, 0.0, 0.0);
    for (&l, &r) in left.iter().zip(right) {
        let (a, b) = (f64::from(l) - ml, f64::from(r) - mr);
        lr += a * b;
        ll += a * a;
        rr += b * b;
    }
    (ll > 0.0 && rr > 0.0).then(|| lr / (ll * rr).sqrt())
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

/// Fundamental frequency of a stretch of audio, by the YIN method (de Cheveigné and Kawahara,
/// 2002): the smallest lag whose cumulative-mean-normalised difference dips under 0.15,
/// refined by parabolic interpolation. Finds the pitch of a saw or a square as well as of a
/// sine, within 5 cents; searches 30 Hz … 5 kHz. `None` for silence or noise.
pub fn fundamental(samples: &[f32], sample_rate: f64) -> Option<f64> {
    let min_lag = (sample_rate / 5_000.0).floor().max(2.0) as usize;
    let max_lag = (sample_rate / 30.0).ceil() as usize;
    // Up to 100 ms of audio, twice the longest lag at least.
    let n = samples
        .len()
        .min((sample_rate * 0.1) as usize + 2 * max_lag);
    if n < 2 * max_lag + 2 || rms(&samples[..n]) < 1e-4 {
        return None;
    }
    let w = n - max_lag;
    let x: Vec<f64> = samples[..n].iter().map(|&v| f64::from(v)).collect();
    let mut d = vec![0.0f64; max_lag + 1];
    for (lag, slot) in d.iter_mut().enumerate().skip(1) {
        *slot = (0..w).map(|i| (x[i] - x[i + lag]).powi(2)).sum();
    }
    // Cumulative mean normalised difference.
    let mut cmnd = vec![1.0f64; max_lag + 1];
    let mut running = 0.0;
    for lag in 1..=max_lag {
        running += d[lag];
        cmnd[lag] = if running > 0.0 {
            d[lag] * lag as f64 / running
        } else {
            1.0
        };
    }
    let mut lag = (min_lag..max_lag).find(|&l| cmnd[l] < 0.15)?;
    while lag + 1 < max_lag && cmnd[lag + 1] < cmnd[lag] {
        lag += 1;
    }
    let (a, b, c) = (cmnd[lag - 1], cmnd[lag], cmnd[lag + 1]);
    let denom = a - 2.0 * b + c;
    let shift = if denom.abs() > 1e-12 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(sample_rate / (lag as f64 + shift))
}

/// Onsets: times (seconds) where a note starts — the level over 10 ms frames jumps by more
/// than 9 dB above the previous frames and reaches at least −40 dBFS. Onsets closer than
/// 50 ms to the previous one are merged into it.
pub fn onsets(samples: &[f32], sample_rate: f64) -> Vec<f64> {
    let frame = ((sample_rate * 0.01) as usize).max(1);
    let levels: Vec<f64> = samples.chunks(frame).map(rms).collect();
    let mut out: Vec<f64> = Vec::new();
    let mut floor = 0.0f64;
    for (i, &l) in levels.iter().enumerate() {
        let t = (i * frame) as f64 / sample_rate;
        let rise = l > 1e-2 && l > floor * 2.8; // 9 dB
        if rise && out.last().is_none_or(|&last| t - last >= 0.05) {
            out.push(t);
        }
        // The reference follows falls at once and rises slowly, so a held note is not re-counted.
        floor = if l < floor {
            l
        } else {
            floor + (l - floor) * 0.5
        };
    }
    out
}

/// Samples at or beyond full scale (|x| ≥ 0.999): clipping if the output is integer.
pub fn clipped_samples(samples: &[f32]) -> usize {
    samples.iter().filter(|x| x.abs() >= 0.999).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fundamental_of_rich_and_plain_waves() {
        let sr = 48_000.0;
        for f in [55.0, 110.0, 440.0, 1234.5, 3000.0] {
            let s = sine(f, 0.5, sr, 9_600);
            let got = fundamental(&s, sr).unwrap();
            assert!((got / f - 1.0).abs() < 3e-3, "sine {f}: {got}"); // 5 cents
                                                                      // A saw: every harmonic present, the pitch is still the fundamental.
            let saw: Vec<f32> = (0..9_600)
                .map(|i| ((i as f64 * f / sr).fract() * 2.0 - 1.0) as f32 * 0.5)
                .collect();
            let got = fundamental(&saw, sr).unwrap();
            assert!((got / f - 1.0).abs() < 3e-3, "saw {f}: {got}");
        }
        assert_eq!(fundamental(&[0.0; 9_600], sr), None);
    }

    #[test]
    fn onsets_of_separate_notes() {
        let sr = 48_000.0;
        let mut s = vec![0.0f32; 48_000 * 2];
        for start in [0.25, 0.75, 1.5] {
            let at = (start * sr) as usize;
            for (k, x) in s[at..at + 12_000].iter_mut().enumerate() {
                *x = (0.5 * (std::f64::consts::TAU * 440.0 * k as f64 / sr).sin()) as f32;
            }
        }
        let o = onsets(&s, sr);
        assert_eq!(o.len(), 3, "{o:?}");
        for (got, want) in o.iter().zip([0.25, 0.75, 1.5]) {
            assert!((got - want).abs() <= 0.011, "{got} vs {want}");
        }
        assert_eq!(clipped_samples(&s), 0);
    }

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
