//! Helpers shared by the accuracy suite.
#![allow(dead_code)]

use chronus_dsp::Module;

/// Renders `seconds` of a module that ignores its input (a source), block by block.
pub fn render_source(m: &mut dyn Module, seconds: f64, sr: f64, block: usize) -> Vec<f32> {
    let n = (seconds * sr) as usize;
    let mut out = vec![0.0f32; n.div_ceil(block) * block];
    for chunk in out.chunks_mut(block) {
        m.process(chunk);
    }
    out.truncate(n);
    out
}

/// Passes `input` through a module, block by block.
pub fn run_through(m: &mut dyn Module, input: &[f32], block: usize) -> Vec<f32> {
    let mut out = input.to_vec();
    for chunk in out.chunks_mut(block) {
        m.process(chunk);
    }
    out
}

/// A pure sine of amplitude `amp`.
pub fn sine(freq: f64, amp: f64, sr: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (std::f64::consts::TAU * freq * i as f64 / sr).sin()) as f32)
        .collect()
}

/// Cents between a measured and an expected frequency.
pub fn cents(measured: f64, expected: f64) -> f64 {
    1200.0 * (measured / expected).log2()
}

/// FNV-1a hash of the samples' bits (for golden renders).
pub fn hash(samples: &[f32]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in samples {
        for b in s.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
