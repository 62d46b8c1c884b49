//! `filter`: an RBJ cookbook biquad (lowpass, highpass, bandpass, notch, peak, shelves).
//!
//! Coefficients and state are `f64` (direct form I), so the filter is stable and
//! accurate for every value in range, down to 20 Hz at 192 kHz. Cutoff and Q are smoothed
//! (10 ms) and the coefficients are recomputed only while a smoothed value is moving; while
//! they stay put the filter computes eight samples a step from the two outputs before them
//! ([`Coefs`]' look-ahead terms), the same sums within a rounding of f64.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::{ms_to_samples, Ramp};
use crate::DspError;

/// Parameter index of `mode`.
pub const MODE: ParamId = 0;
/// Parameter index of `cutoff`.
pub const CUTOFF: ParamId = 1;
/// Parameter index of `q`.
pub const Q: ParamId = 2;
/// Parameter index of `gain` (dB, for peak and shelf modes).
pub const GAIN_DB: ParamId = 3;

/// Filter modes, as numbered by the `mode` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0: 12 dB/octave lowpass.
    Lowpass,
    /// 1: 12 dB/octave highpass.
    Highpass,
    /// 2: bandpass, 0 dB at the centre.
    Bandpass,
    /// 3: notch.
    Notch,
    /// 4: peaking EQ by `gain` dB.
    Peak,
    /// 5: low shelf by `gain` dB.
    LowShelf,
    /// 6: high shelf by `gain` dB.
    HighShelf,
}

impl Mode {
    /// The mode numbered `n` (rounded, clamped).
    pub fn from_number(n: f32) -> Mode {
        match n.round() as i32 {
            i32::MIN..=0 => Mode::Lowpass,
            1 => Mode::Highpass,
            2 => Mode::Bandpass,
            3 => Mode::Notch,
            4 => Mode::Peak,
            5 => Mode::LowShelf,
            _ => Mode::HighShelf,
        }
    }
}

/// Parameters of `filter`.
pub static PARAMS: [ParamSpec; 4] = [
    ParamSpec {
        name: "mode",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(6.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "cutoff",
        unit: Unit::Hz,
        min: 20.0,
        max: Max::RateFraction(0.45),
        default: 1000.0,
        smoothing_ms: 10.0,
        modulation: ModScale::Cents(4800.0),
    },
    ParamSpec {
        name: "q",
        unit: Unit::Ratio,
        min: 0.1,
        max: Max::Fixed(20.0),
        default: std::f32::consts::FRAC_1_SQRT_2,
        smoothing_ms: 10.0,
        modulation: ModScale::Linear(10.0),
    },
    ParamSpec {
        name: "gain",
        unit: Unit::Db,
        min: -24.0,
        max: Max::Fixed(24.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(12.0),
    },
];

/// Samples the steady biquad computes per step ([`Coefs`]' look-ahead terms reach this far).
pub const STEP: usize = 8;

/// Normalised biquad coefficients (a0 = 1), with the look-ahead terms that let the filter
/// compute [`STEP`] samples per step from the two previous outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Coefs {
    /// Feed-forward 0.
    pub b0: f64,
    /// Feed-forward 1.
    pub b1: f64,
    /// Feed-forward 2.
    pub b2: f64,
    /// Feedback 1.
    pub a1: f64,
    /// Feedback 2.
    pub a2: f64,
    /// Impulse response of the feedback part, `h[0..STEP]`.
    pub h: [f64; STEP],
    /// Weight of `y[n-1]` in `y[n+k]`.
    pub p: [f64; STEP],
    /// Weight of `y[n-2]` in `y[n+k]`.
    pub q: [f64; STEP],
}

impl Coefs {
    /// RBJ cookbook coefficients for `mode` at `cutoff` Hz, quality `q`, shelf/peak `gain_db`.
    pub fn rbj(mode: Mode, cutoff: f64, q: f64, gain_db: f64, sample_rate: f64) -> Coefs {
        let w0 = std::f64::consts::TAU * cutoff / sample_rate;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a = 10f64.powf(gain_db / 40.0);
        let (b0, b1, b2, a0, a1, a2) = match mode {
            Mode::Lowpass => {
                let b = (1.0 - cos) / 2.0;
                (b, 1.0 - cos, b, 1.0 + alpha, -2.0 * cos, 1.0 - alpha)
            }
            Mode::Highpass => {
                let b = (1.0 + cos) / 2.0;
                (b, -(1.0 + cos), b, 1.0 + alpha, -2.0 * cos, 1.0 - alpha)
            }
            Mode::Bandpass => (alpha, 0.0, -alpha, 1.0 + alpha, -2.0 * cos, 1.0 - alpha),
            Mode::Notch => (1.0, -2.0 * cos, 1.0, 1.0 + alpha, -2.0 * cos, 1.0 - alpha),
            Mode::Peak => (
                1.0 + alpha * a,
                -2.0 * cos,
                1.0 - alpha * a,
                1.0 + alpha / a,
                -2.0 * cos,
                1.0 - alpha / a,
            ),
            Mode::LowShelf => {
                let s = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) - (a - 1.0) * cos + s),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                    a * ((a + 1.0) - (a - 1.0) * cos - s),
                    (a + 1.0) + (a - 1.0) * cos + s,
                    -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                    (a + 1.0) + (a - 1.0) * cos - s,
                )
            }
            Mode::HighShelf => {
                let s = 2.0 * a.sqrt() * alpha;
                (
                    a * ((a + 1.0) + (a - 1.0) * cos + s),
                    -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                    a * ((a + 1.0) + (a - 1.0) * cos - s),
                    (a + 1.0) - (a - 1.0) * cos + s,
                    2.0 * ((a - 1.0) - (a + 1.0) * cos),
                    (a + 1.0) - (a - 1.0) * cos - s,
                )
            }
        };
        Coefs::new(b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0)
    }

    /// Coefficients from normalised `b0 b1 b2 a1 a2`, with the look-ahead terms derived.
    pub fn new(b0: f64, b1: f64, b2: f64, a1: f64, a2: f64) -> Coefs {
        // y[n] = F[n] - a1·y[n-1] - a2·y[n-2], F = feed-forward part. Unrolled STEP times:
        // y[n+k] = Σ_{j≤k} h[j]·F[n+k-j] + p[k]·y[n-1] + q[k]·y[n-2].
        let mut h = [0.0; STEP];
        let mut p = [0.0; STEP];
        let mut q = [0.0; STEP];
        (h[0], h[1]) = (1.0, -a1);
        (p[0], q[0]) = (-a1, -a2);
        p[1] = -a1 * p[0] - a2;
        q[1] = -a1 * q[0];
        for k in 2..STEP {
            h[k] = -a1 * h[k - 1] - a2 * h[k - 2];
            p[k] = -a1 * p[k - 1] - a2 * p[k - 2];
            q[k] = -a1 * q[k - 1] - a2 * q[k - 2];
        }
        Coefs {
            b0,
            b1,
            b2,
            a1,
            a2,
            h,
            p,
            q,
        }
    }

    /// Magnitude response at `freq` Hz (for tests and displays).
    pub fn magnitude(&self, freq: f64, sample_rate: f64) -> f64 {
        let w = std::f64::consts::TAU * freq / sample_rate;
        let (s1, c1) = w.sin_cos();
        let (s2, c2) = (2.0 * w).sin_cos();
        let nr = self.b0 + self.b1 * c1 + self.b2 * c2;
        let ni = -(self.b1 * s1 + self.b2 * s2);
        let dr = 1.0 + self.a1 * c1 + self.a2 * c2;
        let di = -(self.a1 * s1 + self.a2 * s2);
        ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
    }
}

/// Complete state of a [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FilterState {
    /// Base parameter values, in table order.
    pub params: [f32; 4],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 4],
    /// Cutoff smoother.
    pub cutoff: Ramp,
    /// Q smoother.
    pub q: Ramp,
    /// Coefficients in use.
    pub coefs: Coefs,
    /// Previous input (direct form I).
    pub x1: f64,
    /// Input before that.
    pub x2: f64,
    /// Previous output.
    pub y1: f64,
    /// Output before that.
    pub y2: f64,
    /// The right side's history (x1, x2, y1, y2) in a stereo patch.
    pub right: [f64; 4],
}

impl FilterState {
    /// Takes back where blocks rendered in a lane ended: the biquad's history. Real-time
    /// thread.
    pub(crate) fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        if let crate::lanes::LaneEnd::History(history) = end {
            [self.x1, self.x2, self.y1, self.y2] = history;
        }
    }
}

/// RBJ biquad filter.
#[derive(Debug, Clone)]
pub struct Filter {
    sample_rate: f64,
    s: FilterState,
}

impl Filter {
    /// A fresh filter at the default parameters (lowpass, 1 kHz, Q 0.707).
    pub fn new(sample_rate: f64) -> Self {
        let params = [
            PARAMS[0].default,
            PARAMS[1].default,
            PARAMS[2].default,
            PARAMS[3].default,
        ];
        let mut f = Filter {
            sample_rate,
            s: FilterState {
                params,
                modulation: [0.0; 4],
                cutoff: Ramp::at(params[1]),
                q: Ramp::at(params[2]),
                coefs: Coefs::new(1.0, 0.0, 0.0, 0.0, 0.0),
                x1: 0.0,
                x2: 0.0,
                y1: 0.0,
                y2: 0.0,
                right: [0.0; 4],
            },
        };
        f.s.coefs = f.coefs_now();
        f
    }

    /// The coefficients in use.
    pub fn coefs(&self) -> Coefs {
        self.s.coefs
    }

    fn coefs_now(&self) -> Coefs {
        let p = &self.s.params;
        let (_, max) = PARAMS[CUTOFF as usize].range(self.sample_rate);
        Coefs::rbj(
            Mode::from_number(p[MODE as usize]),
            f64::from(self.s.cutoff.value().clamp(20.0, max)),
            f64::from(self.s.q.value().clamp(0.1, 20.0)),
            f64::from(PARAMS[3].modulate(p[3], self.s.modulation[3], self.sample_rate)),
            self.sample_rate,
        )
    }

    #[inline]
    fn target(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    /// A block's start: the cutoff and Q smoothers aimed at their modulated targets, the
    /// coefficients remade under gain modulation. Real-time thread.
    fn begin_block(&mut self) {
        // The smoothing's length only when a smoother is aimed anew (a rounding is a call).
        let smoothing = || ms_to_samples(PARAMS[CUTOFF as usize].smoothing_ms, self.sample_rate);
        let cutoff = self.target(CUTOFF);
        if cutoff != self.s.cutoff.to {
            let n = smoothing();
            self.s.cutoff.retarget(cutoff, n);
        }
        let q = self.target(Q);
        if q != self.s.q.to {
            let n = smoothing();
            self.s.q.retarget(q, n);
        }
        if self.s.modulation[GAIN_DB as usize] != 0.0 {
            self.s.coefs = self.coefs_now();
        }
    }
}

/// True when [`steady_biquad`] would leave `block` and `history` exactly as they are: silence
/// (every sample +0) into a filter at rest (its history +0) with `b0 > 0` (every mode's):
/// each output's sum starts at +0 (a step's at +0, a sample after the last step's at
/// `b0·x[n]`), and +0 plus ±0 is +0, so every output is +0. An envelope at rest in front of
/// the filter gives it that every block: one look at the block instead of the biquad.
/// Real-time thread.
fn at_rest(block: &[f32], c: &Coefs, history: [f64; 4]) -> bool {
    c.b0 > 0.0
        && history.iter().all(|h| h.to_bits() == 0)
        && block.iter().fold(0u32, |bits, x| bits | x.to_bits()) == 0
}

/// One step of the steady biquad: [`STEP`] outputs from [`STEP`] inputs `x` and the history
/// (`x[n-1]`, `x[n-2]`, `y[n-1]`, `y[n-2]`). The definition every implementation keeps to
/// the bit (the voices' lanes compute the same operations across voices, `crate::lanes`):
///
/// - `f[k] = b0·x[k] + (b1·x[k-1] + (b2·x[k-2] + 0))`, three fused multiply-adds from +0 (a
///   sum that starts at +0 is never -0);
/// - `g[k] = f[k] + h[1]·f[k-1] + … + h[k]·f[0]`, fused multiply-adds in that order (this
///   computes the terms of `f[k-j]`, `j > k`, too, as `h[j]·0`: they leave a sum that is
///   not -0 as it is);
/// - `y[k] = p[k]·y[n-1] + (q[k]·y[n-2] + g[k])`, two fused multiply-adds.
///
/// The serial chain is the last two multiply-adds once a step (the rest is known before the
/// step's history is). Real-time thread.
#[inline(always)]
fn biquad_step(x: &[f64; STEP], c: &Coefs, history: [f64; 4]) -> [f64; STEP] {
    let [x1, x2, y1, y2] = history;
    let f: [f64; STEP] = std::array::from_fn(|k| {
        let back1 = if k >= 1 { x[k.saturating_sub(1)] } else { x1 };
        let back2 = match k {
            0 => x2,
            1 => x1,
            _ => x[k.saturating_sub(2)],
        };
        c.b0.mul_add(x[k], c.b1.mul_add(back1, c.b2.mul_add(back2, 0.0)))
    });
    let mut g = f;
    for j in 1..STEP {
        // f[k - j], +0 before the step.
        let mut back = [0.0f64; STEP];
        back[j..].copy_from_slice(&f[..STEP - j]);
        for k in 0..STEP {
            g[k] = c.h[j].mul_add(back[k], g[k]);
        }
    }
    std::array::from_fn(|k| c.p[k].mul_add(y1, c.q[k].mul_add(y2, g[k])))
}

/// The biquad over `block` with coefficients that stay put, from `history` (`x[n-1]`,
/// `x[n-2]`, `y[n-1]`, `y[n-2]`); returns the history after it. [`STEP`] samples per step
/// ([`biquad_step`]); the samples after the last whole step one by one, in direct form I.
/// Compiled for each instruction set and picked at the first call (the same operations on
/// each, fused multiply-adds included: the same sound to the bit). Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx+fma", "aarch64+neon"))]
fn steady_biquad(block: &mut [f32], c: &Coefs, history: [f64; 4]) -> [f64; 4] {
    let [mut x1, mut x2, mut y1, mut y2] = history;
    let mut chunks = block.chunks_exact_mut(STEP);
    {
        for chunk in &mut chunks {
            let mut x = [0.0f64; STEP];
            let samples: &[f32; STEP] = (&*chunk).try_into().unwrap_or(&[0.0; STEP]);
            for (x, s) in x.iter_mut().zip(samples) {
                *x = f64::from(*s);
            }
            let y = biquad_step(&x, c, [x1, x2, y1, y2]);
            for (out, v) in chunk.iter_mut().zip(y) {
                *out = v as f32;
            }
            (x2, x1, y2, y1) = (x[STEP - 2], x[STEP - 1], y[STEP - 2], y[STEP - 1]);
        }
    }
    for x in chunks.into_remainder() {
        let x0 = f64::from(*x);
        let y0 = (c.b0 * x0 + c.b1 * x1 + c.b2 * x2 - c.a2 * y2) - c.a1 * y1;
        (x2, x1, y2, y1) = (x1, x0, y1, y0);
        *x = y0 as f32;
    }
    [x1, x2, y1, y2]
}

impl Module for Filter {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Filter
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "filter", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        if param == MODE || param == GAIN_DB {
            self.s.coefs = self.coefs_now();
        }
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            CUTOFF => Some(self.s.cutoff.value()),
            Q => Some(self.s.q.value()),
            _ => self.param(param),
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        self.begin_block();
        // Direct form I: the loop-carried dependency is one multiply-add per sample (TDF-II
        // needs two), which matters because a biquad is latency-bound.
        let FilterState {
            mut x1,
            mut x2,
            mut y1,
            mut y2,
            ..
        } = self.s;
        if self.s.cutoff.is_moving() || self.s.q.is_moving() {
            for x in block.iter_mut() {
                self.s.cutoff.tick();
                self.s.q.tick();
                self.s.coefs = self.coefs_now();
                let c = self.s.coefs;
                let x0 = f64::from(*x);
                let y0 = (c.b0 * x0 + c.b1 * x1 + c.b2 * x2 - c.a2 * y2) - c.a1 * y1;
                (x2, x1, y2, y1) = (x1, x0, y1, y0);
                *x = y0 as f32;
            }
        } else if !at_rest(block, &self.s.coefs, [x1, x2, y1, y2]) {
            [x1, x2, y1, y2] = steady_biquad(block, &self.s.coefs, [x1, x2, y1, y2]);
        }
        // Flush tiny values so a silent tail never reaches denormals.
        for v in [&mut y1, &mut y2] {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
        (self.s.x1, self.s.x2, self.s.y1, self.s.y2) = (x1, x2, y1, y2);
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        // The same coefficients (and their glide) on both sides: the left pass moves the
        // smoothers on; the right one replays them from where they started, with its own
        // history.
        let (cutoff, q, coefs) = (self.s.cutoff, self.s.q, self.s.coefs);
        self.process(left);
        let after = (self.s.cutoff, self.s.q, self.s.coefs);
        let [x1, x2, y1, y2] = self.s.right;
        let left_history = [self.s.x1, self.s.x2, self.s.y1, self.s.y2];
        (self.s.cutoff, self.s.q, self.s.coefs) = (cutoff, q, coefs);
        (self.s.x1, self.s.x2, self.s.y1, self.s.y2) = (x1, x2, y1, y2);
        self.process(&mut right[..left.len()]);
        self.s.right = [self.s.x1, self.s.x2, self.s.y1, self.s.y2];
        [self.s.x1, self.s.x2, self.s.y1, self.s.y2] = left_history;
        (self.s.cutoff, self.s.q, self.s.coefs) = after;
    }

    fn begin_lane(&mut self) -> Option<crate::lanes::LaneStage<'_>> {
        // What `process` does before its loop; then, only coefficients that stay put.
        self.begin_block();
        if self.s.cutoff.is_moving() || self.s.q.is_moving() {
            return None;
        }
        Some(crate::lanes::LaneStage::Biquad {
            coefs: &self.s.coefs,
            history: [self.s.x1, self.s.x2, self.s.y1, self.s.y2],
        })
    }

    fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        self.s.end_lane(end);
    }

    super::plain_state!(Filter, "a filter");

    fn reset(&mut self) {
        let params = self.s.params;
        *self = Filter::new(self.sample_rate);
        self.s.params = params;
        self.s.cutoff = Ramp::at(params[CUTOFF as usize]);
        self.s.q = Ramp::at(params[Q as usize]);
        self.s.coefs = self.coefs_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steady biquad as [`biquad_step`] defines it, one sample at a time: the sums
    /// written out in their order (`j ≤ k` only), the samples after the last whole step in
    /// direct form I.
    fn by_definition(block: &mut [f32], c: &Coefs, history: [f64; 4]) -> [f64; 4] {
        let [mut x1, mut x2, mut y1, mut y2] = history;
        let whole = block.len() / STEP * STEP;
        for step in block[..whole].chunks_mut(STEP) {
            let x: Vec<f64> = step.iter().map(|&s| f64::from(s)).collect();
            let at = |i: isize| match i {
                -2 => x2,
                -1 => x1,
                _ => x[i as usize],
            };
            let f: Vec<f64> = (0..STEP as isize)
                .map(|k| {
                    let sum = c.b2.mul_add(at(k - 2), 0.0);
                    c.b0.mul_add(at(k), c.b1.mul_add(at(k - 1), sum))
                })
                .collect();
            let y: Vec<f64> = (0..STEP)
                .map(|k| {
                    let mut g = f[k];
                    for j in 1..=k {
                        g = c.h[j].mul_add(f[k - j], g);
                    }
                    c.p[k].mul_add(y1, c.q[k].mul_add(y2, g))
                })
                .collect();
            for (out, v) in step.iter_mut().zip(&y) {
                *out = *v as f32;
            }
            (x2, x1, y2, y1) = (x[STEP - 2], x[STEP - 1], y[STEP - 2], y[STEP - 1]);
        }
        for x in &mut block[whole..] {
            let x0 = f64::from(*x);
            let y0 = (c.b0 * x0 + c.b1 * x1 + c.b2 * x2 - c.a2 * y2) - c.a1 * y1;
            (x2, x1, y2, y1) = (x1, x0, y1, y0);
            *x = y0 as f32;
        }
        [x1, x2, y1, y2]
    }

    #[test]
    fn the_steady_biquad_is_its_definition_to_the_bit_and_direct_form_i_to_the_float() {
        // Every mode over cutoffs and qualities, blocks of several lengths of noise (with -0,
        // +0 and loud samples among it), from a history left by the block before.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match seed % 16 {
                0 => -0.0,
                1 => 0.0,
                2 => 8.0,
                _ => (seed >> 40) as f32 / (1u64 << 23) as f32 - 1.0,
            }
        };
        let mut checked = 0;
        for mode in 0..7 {
            for cutoff in [20.0, 440.0, 5000.0, 21000.0] {
                for q in [0.1, 0.707, 20.0] {
                    let c = Coefs::rbj(Mode::from_number(mode as f32), cutoff, q, 6.0, 48_000.0);
                    // -0 into a filter at rest (an envelope at rest times a falling sine).
                    let mut fast = [-0.0f32; 64];
                    let mut slow = fast;
                    steady_biquad(&mut fast, &c, [0.0; 4]);
                    by_definition(&mut slow, &c, [0.0; 4]);
                    assert_eq!(fast.map(f32::to_bits), slow.map(f32::to_bits));
                    let mut history = [0.0; 4];
                    let mut direct = [0.0; 4];
                    for len in [64, 63, 8, 9, 3, 64] {
                        let input: Vec<f32> = (0..len).map(|_| noise()).collect();
                        let mut fast = input.clone();
                        let mut slow = input.clone();
                        let after = steady_biquad(&mut fast, &c, history);
                        assert_eq!(after, by_definition(&mut slow, &c, history));
                        let bits = |b: &[f32]| b.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&fast), bits(&slow), "mode {mode} {cutoff} Hz q {q}");
                        // Direct form I, one sample at a time, from its own history.
                        let [mut x1, mut x2, mut y1, mut y2] = direct;
                        for (&x, &fast) in input.iter().zip(&fast) {
                            let x0 = f64::from(x);
                            let y0 = c.b0 * x0 + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
                            (x2, x1, y2, y1) = (x1, x0, y1, y0);
                            let err = (f64::from(fast) - y0).abs();
                            assert!(err <= 1e-5 * (1.0 + y0.abs()), "{fast} vs {y0}");
                        }
                        direct = [x1, x2, y1, y2];
                        history = after;
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 7 * 4 * 3 * 6);
    }

    #[test]
    fn silence_into_a_filter_at_rest_is_what_the_biquad_gives_to_the_bit() {
        // Every mode, over cutoffs, qualities and gains: the biquad itself on +0 samples from
        // a +0 history gives +0 samples and leaves the history at +0, as `at_rest` says.
        let mut checked = 0;
        for mode in 0..7 {
            for cutoff in [20.0, 80.0, 440.0, 1000.0, 5000.0, 15000.0, 23000.0] {
                for q in [0.1, 0.707, 2.0, 20.0] {
                    for gain in [-24.0, 0.0, 24.0] {
                        let m = Mode::from_number(mode as f32);
                        let c = Coefs::rbj(m, cutoff, q, gain, 48_000.0);
                        assert!(c.b0 > 0.0, "{m:?} {cutoff} {q} {gain}: b0 {}", c.b0);
                        for len in [64, 63, 3] {
                            let mut block = vec![0.0f32; len];
                            assert!(at_rest(&block, &c, [0.0; 4]));
                            let after = steady_biquad(&mut block, &c, [0.0; 4]);
                            assert!(block.iter().all(|x| x.to_bits() == 0), "{m:?} {cutoff}");
                            assert!(after.iter().all(|h| h.to_bits() == 0), "{m:?} {cutoff}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 7 * 7 * 4 * 3 * 3);
        // Not at rest: a -0 sample, a history left, a sound.
        let c = Coefs::rbj(Mode::Lowpass, 1000.0, 0.707, 0.0, 48_000.0);
        assert!(!at_rest(&[0.0, -0.0], &c, [0.0; 4]));
        assert!(!at_rest(&[0.0; 4], &c, [0.0, 0.0, 1e-300, 0.0]));
        assert!(!at_rest(&[0.0, 0.5], &c, [0.0; 4]));
    }
}
