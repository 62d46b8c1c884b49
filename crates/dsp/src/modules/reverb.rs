//! `reverb`: Freeverb (Jezar at Dreampoint's public-domain design), mono or stereo.
//!
//! Eight parallel lowpass-feedback comb filters (delays of 1116 … 1617 samples at 44.1 kHz,
//! scaled to the sample rate) summed into four series Schroeder allpasses (556, 441, 341, 225
//! samples, feedback 0.5). `size` sets the combs' feedback (0.7 … 0.98: a longer tail), `damp`
//! the lowpass inside their loops (high frequencies die sooner), `mix` the wet share of the
//! output. At `mix` 0 the module passes its input through untouched and does no work; turned up
//! again, it starts from an empty room. Loop values below 1e-20 are flushed to zero.
//!
//! In a stereo patch a second tank, every line 23 samples (at 44.1 kHz) longer, makes the
//! right side's tail; both hear the mean of the two input sides. `width` mixes the tails: at 1
//! each side hears its own tank (a wide room whose left and right tails are decorrelated); at
//! 0 both hear the same mix of the two (mono).

use super::delay::flush;
use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::DspError;

/// Parameter index of `mix` (0 dry .. 1 wet).
pub const MIX: ParamId = 0;
/// Parameter index of `size` (0..1: the length of the tail).
pub const SIZE: ParamId = 1;
/// Parameter index of `damp` (0..1: how fast high frequencies fade).
pub const DAMP: ParamId = 2;
/// Parameter index of `width` (0..1: how far apart the two sides' tails are; stereo patches).
pub const WIDTH: ParamId = 3;

/// Parameters of `reverb`.
pub static PARAMS: [ParamSpec; 4] = [
    ParamSpec {
        name: "mix",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.0,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "size",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.5,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "damp",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.5,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "width",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 1.0,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(1.0),
    },
];

/// Comb delays at 44.1 kHz (Freeverb's tuning).
const COMBS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
/// Allpass delays at 44.1 kHz.
const ALLPASSES: [usize; 4] = [556, 441, 341, 225];
/// Input gain into the combs.
const INPUT_GAIN: f32 = 0.015;
/// Output gain of the wet signal.
const WET_GAIN: f32 = 3.0;
const ALLPASS_FEEDBACK: f32 = 0.5;
/// How much longer the right tank's lines are, at 44.1 kHz (Freeverb's stereo spread).
const SPREAD: usize = 23;

/// Complete state of a [`Reverb`], its delay lines included.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReverbState {
    /// Base parameter values, in table order.
    pub params: [f32; 4],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 4],
    /// Smoothers of mix, size, damp and width.
    pub ramps: [Ramp; 4],
    /// Each comb's lowpass memory.
    pub comb_lowpass: [f32; 8],
    /// Read/write position of each comb, then of each allpass.
    pub pos: [u32; 12],
    /// True while bypassed at mix 0 (the lines are stale and are cleared on the way back).
    pub idle: bool,
    /// All twelve delay lines, one after the other.
    pub lines: Vec<f32>,
    /// The right tank in a stereo patch: each comb's lowpass memory.
    pub right_lowpass: [f32; 8],
    /// The right tank's positions.
    pub right_pos: [u32; 12],
    /// The right tank's lines (empty in a mono patch).
    pub right_lines: Vec<f32>,
}

/// Freeverb, mono or stereo.
#[derive(Debug, Clone)]
pub struct Reverb {
    sample_rate: f64,
    /// Length of each of the twelve lines (8 combs, 4 allpasses) at this sample rate.
    lens: [usize; 12],
    /// The right tank's (each longer by the spread).
    right_lens: [usize; 12],
    s: ReverbState,
}

/// One tank's lines, as mutable views for one block.
struct Tank<'a> {
    lens: &'a [usize; 12],
    lowpass: &'a mut [f32; 8],
    pos: &'a mut [u32; 12],
    lines: &'a mut [f32],
}

impl Tank<'_> {
    /// One sample of the tank: `input` (already scaled) in, the allpasses' output out.
    #[inline]
    fn tick(&mut self, input: f32, feedback: f32, damp: f32) -> f32 {
        let (lens, lowpass, pos) = (self.lens, &mut *self.lowpass, &mut *self.pos);
        let mut sum = 0.0f32;
        let mut start = 0;
        for c in 0..8 {
            let line = &mut self.lines[start..start + lens[c]];
            let i = pos[c] as usize;
            let y = line[i];
            lowpass[c] = flush(y * (1.0 - damp) + lowpass[c] * damp);
            line[i] = flush(input + lowpass[c] * feedback);
            pos[c] = ((i + 1) % lens[c]) as u32;
            sum += y;
            start += lens[c];
        }
        for a in 8..12 {
            let line = &mut self.lines[start..start + lens[a]];
            let i = pos[a] as usize;
            let buffered = line[i];
            line[i] = flush(sum + buffered * ALLPASS_FEEDBACK);
            sum = buffered - sum;
            pos[a] = ((i + 1) % lens[a]) as u32;
            start += lens[a];
        }
        sum
    }
}

impl Reverb {
    /// A fresh reverb at the default parameters, its lines sized for the sample rate.
    pub fn new(sample_rate: f64) -> Self {
        Reverb::new_with(sample_rate, false)
    }

    /// A fresh reverb for a stereo patch (a second tank) or a mono one.
    pub fn new_with(sample_rate: f64, stereo: bool) -> Self {
        let scale = sample_rate / 44_100.0;
        let mut lens = [0usize; 12];
        let mut right_lens = [0usize; 12];
        for ((l, r), n) in lens
            .iter_mut()
            .zip(right_lens.iter_mut())
            .zip(COMBS.iter().chain(ALLPASSES.iter()))
        {
            *l = ((*n as f64 * scale).round() as usize).max(1);
            *r = (((*n + SPREAD) as f64 * scale).round() as usize).max(1);
        }
        let params = PARAMS.each_ref().map(|p| p.default);
        Reverb {
            sample_rate,
            lens,
            right_lens,
            s: ReverbState {
                params,
                modulation: [0.0; 4],
                ramps: params.map(Ramp::at),
                comb_lowpass: [0.0; 8],
                pos: [0; 12],
                idle: true,
                lines: vec![0.0; lens.iter().sum()],
                right_lowpass: [0.0; 8],
                right_pos: [0; 12],
                right_lines: if stereo {
                    vec![0.0; right_lens.iter().sum()]
                } else {
                    Vec::new()
                },
            },
        }
    }

    /// The start of every block: the smoothers aimed, and whether there is work. Dry (mix 0,
    /// not moving): nothing to do, the input passes untouched. Wet again after that: an empty
    /// room.
    fn begin_block(&mut self) -> bool {
        self.retarget();
        let mix = &self.s.ramps[MIX as usize];
        if mix.to == 0.0 && !mix.is_moving() {
            self.s.idle = true;
            return false;
        }
        if self.s.idle {
            self.clear();
            self.s.idle = false;
        }
        true
    }

    fn retarget(&mut self) {
        for p in [MIX, SIZE, DAMP, WIDTH] {
            let to = self.target(p);
            PARAMS[p as usize].aim(&mut self.s.ramps[p as usize], to, self.sample_rate);
        }
    }

    fn target(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    fn clear(&mut self) {
        self.s.lines.fill(0.0);
        self.s.comb_lowpass = [0.0; 8];
        self.s.pos = [0; 12];
        self.s.right_lines.fill(0.0);
        self.s.right_lowpass = [0.0; 8];
        self.s.right_pos = [0; 12];
    }
}

impl Module for Reverb {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Reverb
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "reverb", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        self.s.ramps.get(param as usize).map(Ramp::value)
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn resting(&self, _stereo: bool) -> bool {
        // Idle (nothing in the mix) with every parameter at its target: the next block's
        // `begin_block` changes nothing and returns before the loop.
        self.s.idle && self.s.ramps.iter().all(|r| !r.is_moving())
    }

    fn may_rest(&self) -> bool {
        true
    }

    fn process(&mut self, block: &mut [f32]) {
        if !self.begin_block() {
            return;
        }
        let ReverbState {
            ramps,
            comb_lowpass,
            pos,
            lines,
            ..
        } = &mut self.s;
        let mut tank = Tank {
            lens: &self.lens,
            lowpass: comb_lowpass,
            pos,
            lines,
        };
        for x in block.iter_mut() {
            let m = ramps[MIX as usize].tick();
            let feedback = ramps[SIZE as usize].tick() * 0.28 + 0.7;
            let damp = ramps[DAMP as usize].tick() * 0.4;
            ramps[WIDTH as usize].tick();
            let sum = tank.tick(*x * INPUT_GAIN, feedback, damp);
            *x = *x * (1.0 - m) + sum * WET_GAIN * m;
        }
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        if self.s.right_lines.is_empty() {
            return; // built for a mono patch (the graph never asks this)
        }
        if !self.begin_block() {
            return;
        }
        let ReverbState {
            ramps,
            comb_lowpass,
            pos,
            lines,
            right_lowpass,
            right_pos,
            right_lines,
            ..
        } = &mut self.s;
        let mut tank_l = Tank {
            lens: &self.lens,
            lowpass: comb_lowpass,
            pos,
            lines,
        };
        let mut tank_r = Tank {
            lens: &self.right_lens,
            lowpass: right_lowpass,
            pos: right_pos,
            lines: right_lines,
        };
        for (xl, xr) in left.iter_mut().zip(right.iter_mut()) {
            let m = ramps[MIX as usize].tick();
            let feedback = ramps[SIZE as usize].tick() * 0.28 + 0.7;
            let damp = ramps[DAMP as usize].tick() * 0.4;
            let width = ramps[WIDTH as usize].tick();
            let input = (*xl + *xr) * 0.5 * INPUT_GAIN;
            let wet_l = tank_l.tick(input, feedback, damp);
            let wet_r = tank_r.tick(input, feedback, damp);
            // Each side its own tank at width 1, the same blend of both at 0.
            let (own, other) = (0.5 + width * 0.5, 0.5 - width * 0.5);
            let (out_l, out_r) = (wet_l * own + wet_r * other, wet_r * own + wet_l * other);
            *xl = *xl * (1.0 - m) + out_l * WET_GAIN * m;
            *xr = *xr * (1.0 - m) + out_r * WET_GAIN * m;
        }
    }

    /// The state; a dry (idle) reverb's lines are stale, cleared when it turns wet again, so
    /// they are left out of it.
    fn state(&self) -> ModuleState {
        let lines = |l: &Vec<f32>| if self.s.idle { Vec::new() } else { l.clone() };
        ModuleState::Reverb(ReverbState {
            params: self.s.params,
            modulation: self.s.modulation,
            ramps: self.s.ramps,
            comb_lowpass: self.s.comb_lowpass,
            pos: self.s.pos,
            idle: self.s.idle,
            lines: lines(&self.s.lines),
            right_lowpass: self.s.right_lowpass,
            right_pos: self.s.right_pos,
            right_lines: lines(&self.s.right_lines),
        })
    }

    fn restore(&mut self, state: &ModuleState) -> Result<(), DspError> {
        match state {
            ModuleState::Reverb(s)
                if (s.idle && s.lines.is_empty() && s.right_lines.is_empty())
                    || (s.lines.len() == self.s.lines.len()
                        && s.right_lines.len() == self.s.right_lines.len()) =>
            {
                self.s.params = s.params;
                self.s.modulation = s.modulation;
                self.s.ramps = s.ramps;
                self.s.comb_lowpass = s.comb_lowpass;
                self.s.pos = s.pos;
                self.s.idle = s.idle;
                self.s.right_lowpass = s.right_lowpass;
                self.s.right_pos = s.right_pos;
                // An idle state without lines: this reverb's own are cleared on the way back.
                if !s.lines.is_empty() {
                    self.s.lines.copy_from_slice(&s.lines);
                    self.s.right_lines.copy_from_slice(&s.right_lines);
                }
                Ok(())
            }
            ModuleState::Reverb(_) => Err(DspError::StateMismatch {
                reason: "reverb lines of another length (another sample rate or channel count)",
            }),
            _ => Err(DspError::StateMismatch {
                reason: "not a reverb state",
            }),
        }
    }

    fn memory_bytes(&self) -> usize {
        (self.s.lines.len() + self.s.right_lines.len()) * std::mem::size_of::<f32>()
    }

    fn reset(&mut self) {
        self.clear();
        self.s.idle = true;
        self.s.ramps = [MIX, SIZE, DAMP, WIDTH].map(|p| Ramp::at(self.target(p)));
    }
}
