//! `osc`: a band-limited oscillator (sine, triangle, square, saw) with gain and glide.

use super::waves::{self, SAW, SINE};
use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::{ms_to_samples, Ramp};
use crate::DspError;

/// Parameter index of `freq`.
pub const FREQ: ParamId = 0;
/// Parameter index of `gain`.
pub const GAIN: ParamId = 1;
/// Parameter index of `shape`.
pub const SHAPE: ParamId = 2;
/// Parameter index of `glide_time`.
pub const GLIDE_TIME: ParamId = 3;

/// Parameters of `osc`.
pub static PARAMS: [ParamSpec; 4] = [
    ParamSpec {
        name: "freq",
        unit: Unit::Hz,
        min: 0.1,
        max: Max::NyquistMinus(10.0),
        default: 440.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Cents(1200.0),
    },
    ParamSpec {
        name: "gain",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.5,
        smoothing_ms: 5.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "shape",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(3.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "glide_time",
        unit: Unit::Ms,
        min: 0.0,
        max: Max::Fixed(10_000.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
];

/// Complete state of an [`Osc`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OscState {
    /// Base parameter values, in table order.
    pub params: [f32; 4],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 4],
    /// Phase as a 64-bit fixed-point fraction of a turn (wraps naturally).
    pub phase: u64,
    /// Glide start, in log2(Hz).
    pub glide_from: f64,
    /// Glide target, in log2(Hz).
    pub glide_to: f64,
    /// Samples of the glide done.
    pub glide_pos: u32,
    /// Samples of the glide in all.
    pub glide_len: u32,
    /// Gain smoother.
    pub gain: Ramp,
}

/// Band-limited oscillator. Phase is a 64-bit fixed-point accumulator (a turn is 2^64), so the
/// pitch is exact to about 1e-16 and does not drift over hours.
#[derive(Debug, Clone)]
pub struct Osc {
    sample_rate: f64,
    s: OscState,
}

impl Osc {
    /// A fresh oscillator at the default parameters.
    pub fn new(sample_rate: f64) -> Self {
        let params = [
            PARAMS[0].default,
            PARAMS[1].default,
            PARAMS[2].default,
            PARAMS[3].default,
        ];
        let f = f64::from(params[0]).log2();
        Osc {
            sample_rate,
            s: OscState {
                params,
                modulation: [0.0; 4],
                phase: 0,
                glide_from: f,
                glide_to: f,
                glide_pos: 0,
                glide_len: 0,
                gain: Ramp::at(params[1]),
            },
        }
    }

    /// Frequency before modulation (gliding), in Hz.
    fn glided_freq(&self) -> f64 {
        let s = &self.s;
        if s.glide_pos >= s.glide_len {
            f64::from(s.params[FREQ as usize])
        } else {
            let k = f64::from(s.glide_pos) / f64::from(s.glide_len);
            (s.glide_from + (s.glide_to - s.glide_from) * k).exp2()
        }
    }

    fn mod_factor(&self) -> f64 {
        let m = self.s.modulation[FREQ as usize];
        if m == 0.0 {
            1.0
        } else {
            (f64::from(m)).exp2() // one unit = 1200 cents = one octave
        }
    }

    fn nyquist_limit(&self) -> f64 {
        self.sample_rate * 0.5 - 10.0
    }
}

/// A phase increment in turns (0 ≤ t < 1) as 64-bit fixed point.
#[inline]
pub(crate) fn turns_to_fixed(t: f64) -> u64 {
    (t * 18_446_744_073_709_551_616.0) as u64
}

/// The top 24 bits of a fixed-point phase as turns in `[0, 1)`, exact in `f32`.
#[inline]
pub(crate) fn fixed_to_turns(phase: u64) -> f32 {
    // Through i32 (the value fits in 24 bits), which converts to f32 in one SIMD instruction.
    (phase >> 40) as i32 as f32 * (1.0 / 16_777_216.0)
}

impl Module for Osc {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Osc
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "osc", param, value, self.sample_rate)?;
        if param == FREQ {
            let from = self.glided_freq().log2();
            let to = f64::from(out.value).log2();
            let len = ms_to_samples(self.s.params[GLIDE_TIME as usize], self.sample_rate);
            self.s.glide_from = from;
            self.s.glide_to = to;
            self.s.glide_pos = 0;
            self.s.glide_len = len;
        }
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            FREQ => Some((self.glided_freq() * self.mod_factor()).min(self.nyquist_limit()) as f32),
            GAIN => Some(self.s.gain.value()),
            _ => self.param(param),
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        let sr = self.sample_rate;
        let gain_target = PARAMS[GAIN as usize].modulate(
            self.s.params[GAIN as usize],
            self.s.modulation[GAIN as usize],
            sr,
        );
        if gain_target != self.s.gain.to {
            self.s
                .gain
                .retarget(gain_target, ms_to_samples(PARAMS[1].smoothing_ms, sr));
        }
        let shape = self.s.params[SHAPE as usize] as u8;
        let factor = self.mod_factor();
        let limit = self.nyquist_limit();
        let gliding = self.s.glide_pos < self.s.glide_len;
        let mut phase = self.s.phase;
        let mut inc = turns_to_fixed((self.glided_freq() * factor).min(limit) / sr);

        if !gliding && !self.s.gain.is_moving() && shape == SINE {
            // The common case: constant pitch and level.
            let g = self.s.gain.to;
            for out in block.iter_mut() {
                *out = g * crate::fastmath::sin_turns(fixed_to_turns(phase));
                phase = phase.wrapping_add(inc);
            }
        } else {
            for out in block.iter_mut() {
                if self.s.glide_pos < self.s.glide_len {
                    inc = turns_to_fixed((self.glided_freq() * factor).min(limit) / sr);
                    self.s.glide_pos += 1;
                }
                let g = self.s.gain.tick();
                let wave = if shape <= SAW {
                    waves::band_limited(shape, fixed_to_turns(phase), fixed_to_turns(inc))
                } else {
                    0.0
                };
                *out = g * wave;
                phase = phase.wrapping_add(inc);
            }
        }
        self.s.phase = phase;
    }

    super::plain_state!(Osc, "an osc");

    fn reset(&mut self) {
        let params = self.s.params;
        *self = Osc::new(self.sample_rate);
        self.s.params = params;
        let f = f64::from(params[FREQ as usize]).log2();
        self.s.glide_from = f;
        self.s.glide_to = f;
        self.s.gain = Ramp::at(params[GAIN as usize]);
    }
}
