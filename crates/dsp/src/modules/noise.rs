//! `noise`: a noise source in three colours — white (flat), pink (−3.01 dB an octave: equal
//! energy per octave) and brown (−6.02 dB an octave) — at a gain. The random numbers come from
//! a small generator kept in the state (xorshift64*), so both workers make the same noise and
//! a snapshot continues it exactly. Pink is white through a cascade of first-order shelves, a
//! pole every octave from 10 Hz up and a zero half an octave above each (an average of −3.01 dB
//! an octave, at any sample rate), as loud as white at 1 kHz; brown is white integrated, with a
//! leak below 10 Hz so it cannot wander off, as loud as white at 200 Hz.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::DspError;

/// Parameter index of `color` (0 white, 1 pink, 2 brown).
pub const COLOR: ParamId = 0;
/// Parameter index of `gain`.
pub const GAIN: ParamId = 1;

/// White, pink and brown, as `color` takes them.
const WHITE: u8 = 0;
const PINK: u8 = 1;

/// Parameters of `noise`.
pub static PARAMS: [ParamSpec; 2] = [
    ParamSpec {
        name: "color",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(2.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
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
];

/// First-order sections of the pink filter (an octave each: 10 Hz to 20 kHz).
const SECTIONS: usize = 12;
/// The lowest pole of the pink filter, and the brown leak, in Hz.
const LOWEST_HZ: f64 = 10.0;
/// Pink's gain: √(1 kHz / 10 Hz).
const PINK_GAIN: f32 = 10.0;
/// Brown's gain: its level meets white's at 200 Hz (20 × 10 Hz).
const BROWN_GAIN: f32 = 20.0;

/// Flushes tiny values to zero (no subnormal numbers in the filters' memories).
#[inline]
fn flush(x: f32) -> f32 {
    if x.abs() < 1e-20 {
        0.0
    } else {
        x
    }
}

/// Complete state of a [`Noise`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NoiseState {
    /// Base parameter values, in table order.
    pub params: [f32; 2],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 2],
    /// The generator's state (never 0).
    pub rng: u64,
    /// Each pink section's memory (its last input and output).
    pub pink: [[f32; 2]; SECTIONS],
    /// The brown integrator.
    pub brown: f32,
    /// Gain smoother.
    pub gain: Ramp,
}

/// A first-order section `y = b0·x + b1·x[n-1] − a1·y[n-1]`.
#[derive(Debug, Clone, Copy)]
struct Section {
    b0: f32,
    b1: f32,
    a1: f32,
}

/// Noise in three colours.
#[derive(Debug, Clone)]
pub struct Noise {
    sample_rate: f64,
    sections: [Section; SECTIONS],
    /// The brown leak's pole.
    leak: f32,
    s: NoiseState,
}

/// A pole at `pole_hz` and a zero at `zero_hz` (bilinear, both pre-warped), unity gain at DC.
fn shelf(pole_hz: f64, zero_hz: f64, sample_rate: f64) -> Section {
    let warp = |f: f64| (std::f64::consts::PI * f / sample_rate).tan();
    let (p, z) = (warp(pole_hz), warp(zero_hz));
    // H(s) = (1 + s/z) / (1 + s/p), s = (1 - q) / (1 + q) with tangent pre-warping.
    let (b0, b1) = ((1.0 + 1.0 / z), (1.0 - 1.0 / z));
    let (a0, a1) = ((1.0 + 1.0 / p), (1.0 - 1.0 / p));
    Section {
        b0: (b0 / a0) as f32,
        b1: (b1 / a0) as f32,
        a1: (a1 / a0) as f32,
    }
}

impl Noise {
    /// A fresh noise source at the default parameters (white, gain 0.5).
    pub fn new(sample_rate: f64) -> Self {
        // A pole every octave, its zero half an octave above: each octave falls 3.01 dB.
        let sections = std::array::from_fn(|k| {
            let pole = LOWEST_HZ * 2f64.powi(k as i32);
            let nyquist = sample_rate * 0.49;
            shelf(
                pole.min(nyquist),
                (pole * std::f64::consts::SQRT_2).min(nyquist),
                sample_rate,
            )
        });
        let leak = (-std::f64::consts::TAU * LOWEST_HZ / sample_rate).exp() as f32;
        let params = PARAMS.each_ref().map(|p| p.default);
        Noise {
            sample_rate,
            sections,
            leak,
            s: NoiseState {
                params,
                modulation: [0.0; 2],
                rng: 0x9E37_79B9_7F4A_7C15,
                pink: [[0.0; 2]; SECTIONS],
                brown: 0.0,
                gain: Ramp::at(params[GAIN as usize]),
            },
        }
    }

    /// The next white sample, uniform in [−1, 1). Real-time safe.
    #[inline]
    fn white(&mut self) -> f32 {
        white(&mut self.s.rng)
    }
}

/// The next sample of white noise from the generator state `rng` (xorshift64*, never 0),
/// uniform in [−1, 1) with 24 bits. The same sequence in every worker. Real-time safe.
#[inline]
pub(crate) fn white(rng: &mut u64) -> f32 {
    let mut x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 bits
    bits as f32 * (2.0 / 16_777_216.0) - 1.0
}

impl Module for Noise {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Noise
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "noise", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
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
        let target = PARAMS[GAIN as usize].modulate(
            self.s.params[GAIN as usize],
            self.s.modulation[GAIN as usize],
            sr,
        );
        PARAMS[GAIN as usize].aim(&mut self.s.gain, target, sr);
        let color = self.s.params[COLOR as usize] as u8;
        for out in block.iter_mut() {
            let w = self.white();
            let x = match color {
                WHITE => w,
                PINK => {
                    let mut x = w;
                    for (sec, mem) in self.sections.iter().zip(self.s.pink.iter_mut()) {
                        let y = sec.b0 * x + sec.b1 * mem[0] - sec.a1 * mem[1];
                        *mem = [x, flush(y)];
                        x = mem[1];
                    }
                    // As loud as white at 1 kHz (6.6 octaves of 3.01 dB under it): × 10.
                    x * PINK_GAIN
                }
                _ => {
                    // Integrated (−6 dB an octave), leaking below 10 Hz.
                    self.s.brown = flush(self.leak * self.s.brown + w * (1.0 - self.leak));
                    self.s.brown * BROWN_GAIN
                }
            };
            *out = self.s.gain.tick() * x;
        }
    }

    super::plain_state!(Noise, "a noise");

    fn reset(&mut self) {
        let params = self.s.params;
        *self = Noise::new(self.sample_rate);
        self.s.params = params;
        self.s.gain = Ramp::at(params[GAIN as usize]);
    }
}
