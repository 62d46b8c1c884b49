//! `delay`: a feedback delay line (echo) with a smoothed, fractional delay time.
//!
//! `out = (1 - mix) · in + mix · d`, where `d` is the line read `time` ms ago (linear
//! interpolation between samples) and `in + feedback · d` is written back. A change of `time`
//! glides over 100 ms (a short pitch bend of the echoes, never a jump); `feedback` and `mix`
//! ramp over 20 ms. At `mix` 0 the module passes its input through untouched and does no work;
//! when it is turned up again the line starts empty. Values below 1e-20 in the loop are flushed
//! to zero, so a long silent tail never turns into slow subnormal arithmetic.
//!
//! In a stereo patch the delay has a line per side: each side echoes itself, or with
//! `pingpong` 1 the repeats alternate sides exactly on the delay time: the input (both sides'
//! mean) is heard first on the left after `time`, then on the right after twice that, then on
//! the left again, each repeat `feedback` times the one before.
//!
//! `sync` ties the time to the tempo ([`Module::set_tempo`], the sequencer's BPM): a note value
//! in whole notes (0.25 = a quarter = one beat, 0.125 an eighth, 0.1875 a dotted eighth); the
//! time is then `sync · 4 · 60000 / bpm` ms, within 1..2000 ms, and follows tempo changes with
//! the same glide. `sync` 0 (the default) leaves `time` in charge.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::DspError;

/// Parameter index of `time` (ms).
pub const TIME: ParamId = 0;
/// Parameter index of `feedback` (0..0.95).
pub const FEEDBACK: ParamId = 1;
/// Parameter index of `mix` (0 dry .. 1 wet).
pub const MIX: ParamId = 2;
/// Parameter index of `sync` (a note value in whole notes; 0 = off).
pub const SYNC: ParamId = 3;
/// Parameter index of `pingpong` (0 off, 1 on; stereo patches).
pub const PINGPONG: ParamId = 4;

/// The tempo a delay assumes until told otherwise (the sequencer's default).
pub const DEFAULT_TEMPO: f32 = 120.0;

/// The longest delay, in milliseconds.
pub const MAX_TIME_MS: f32 = 2000.0;

/// Parameters of `delay`.
pub static PARAMS: [ParamSpec; 5] = [
    ParamSpec {
        name: "time",
        unit: Unit::Ms,
        min: 1.0,
        max: Max::Fixed(MAX_TIME_MS),
        default: 250.0,
        smoothing_ms: 100.0,
        modulation: ModScale::Linear(50.0),
    },
    ParamSpec {
        name: "feedback",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(0.95),
        default: 0.35,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(0.5),
    },
    ParamSpec {
        name: "mix",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.0,
        smoothing_ms: 20.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec::amount("sync"),
    ParamSpec::switch("pingpong"),
];

/// Complete state of a [`Delay`], the line included.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DelayState {
    /// Base parameter values, in table order.
    pub params: [f32; 5],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 5],
    /// The tempo `sync` follows, in BPM.
    pub tempo: f32,
    /// Smoothers of time, feedback and mix.
    pub ramps: [Ramp; 3],
    /// Next write position in the line.
    pub write: u32,
    /// True while bypassed at mix 0 (the line is stale and is cleared on the way back).
    pub idle: bool,
    /// The delay line (the left side's in a stereo patch).
    pub line: Vec<f32>,
    /// The right side's line in a stereo patch (empty in a mono one).
    pub right: Vec<f32>,
}

/// Feedback delay.
#[derive(Debug, Clone)]
pub struct Delay {
    sample_rate: f64,
    s: DelayState,
}

/// Flushes tiny values to zero (keeps feedback loops out of subnormal numbers).
#[inline]
pub(crate) fn flush(x: f32) -> f32 {
    if x.abs() < 1e-20 {
        0.0
    } else {
        x
    }
}

impl Delay {
    /// A fresh delay at the default parameters, its line sized for [`MAX_TIME_MS`].
    pub fn new(sample_rate: f64) -> Self {
        Delay::new_with(sample_rate, false)
    }

    /// A fresh delay for a stereo patch (a line per side) or a mono one.
    pub fn new_with(sample_rate: f64, stereo: bool) -> Self {
        let params = PARAMS.each_ref().map(|p| p.default);
        let len = (f64::from(MAX_TIME_MS) * sample_rate / 1000.0).ceil() as usize + 2;
        Delay {
            sample_rate,
            s: DelayState {
                params,
                modulation: [0.0; 5],
                tempo: DEFAULT_TEMPO,
                ramps: [params[0], params[1], params[2]].map(Ramp::at),
                write: 0,
                idle: true,
                line: vec![0.0; len],
                right: if stereo { vec![0.0; len] } else { Vec::new() },
            },
        }
    }

    fn target(&self, p: ParamId) -> f32 {
        let i = p as usize;
        let sync = self.s.params[SYNC as usize];
        let base = if p == TIME && sync > 0.0 {
            (sync * 4.0 * 60_000.0 / self.s.tempo).clamp(PARAMS[0].min, MAX_TIME_MS)
        } else {
            self.s.params[i]
        };
        PARAMS[i].modulate(base, self.s.modulation[i], self.sample_rate)
    }

    /// The start of every block: the smoothers aimed, and whether there is work. Dry (mix 0,
    /// not moving): nothing to add, nothing to keep, the input passes untouched. Wet again
    /// after that: the lines start empty.
    fn begin_block(&mut self) -> bool {
        self.retarget();
        let mix = &self.s.ramps[MIX as usize];
        if mix.to == 0.0 && !mix.is_moving() {
            self.s.idle = true;
            return false;
        }
        if self.s.idle {
            self.s.line.fill(0.0);
            self.s.right.fill(0.0);
            self.s.idle = false;
        }
        true
    }

    fn retarget(&mut self) {
        for p in [TIME, FEEDBACK, MIX] {
            let to = self.target(p);
            PARAMS[p as usize].aim(&mut self.s.ramps[p as usize], to, self.sample_rate);
        }
    }
}

impl Module for Delay {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Delay
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "delay", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            SYNC | PINGPONG => Some(self.s.params[param as usize]),
            _ => self.s.ramps.get(param as usize).map(Ramp::value),
        }
    }

    fn set_tempo(&mut self, bpm: f32) {
        if bpm.is_finite() && bpm > 0.0 {
            self.s.tempo = bpm;
        }
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
        let [time, feedback, mix] = &mut self.s.ramps;
        let line = &mut self.s.line[..];
        let len = line.len();
        let mut w = self.s.write as usize;
        let per_ms = self.sample_rate / 1000.0;
        for x in block.iter_mut() {
            let d = f64::from(time.tick()) * per_ms;
            let whole = d.floor();
            let frac = (d - whole) as f32;
            // The sample `whole` ago and the one before it.
            let i0 = (w + len - whole as usize) % len;
            let i1 = (i0 + len - 1) % len;
            let wet = line[i0] + (line[i1] - line[i0]) * frac;
            let fb = feedback.tick();
            let m = mix.tick();
            line[w] = flush(*x + fb * wet);
            *x = *x * (1.0 - m) + wet * m;
            w = (w + 1) % len;
        }
        self.s.write = w as u32;
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        if !self.begin_block() {
            return;
        }
        let [time, feedback, mix] = &mut self.s.ramps;
        let pingpong = self.s.params[PINGPONG as usize] >= 0.5;
        let (line_l, line_r) = (&mut self.s.line[..], &mut self.s.right[..]);
        let len = line_l.len();
        if line_r.len() != len {
            return; // built for a mono patch: no right line (the graph never asks this)
        }
        let mut w = self.s.write as usize;
        let per_ms = self.sample_rate / 1000.0;
        for (xl, xr) in left.iter_mut().zip(right.iter_mut()) {
            let d = f64::from(time.tick()) * per_ms;
            let whole = d.floor();
            let frac = (d - whole) as f32;
            let i0 = (w + len - whole as usize) % len;
            let i1 = (i0 + len - 1) % len;
            let wet_l = line_l[i0] + (line_l[i1] - line_l[i0]) * frac;
            let wet_r = line_r[i0] + (line_r[i1] - line_r[i0]) * frac;
            let fb = feedback.tick();
            let m = mix.tick();
            if pingpong {
                line_l[w] = flush((*xl + *xr) * 0.5 + fb * wet_r);
                line_r[w] = flush(fb * wet_l);
            } else {
                line_l[w] = flush(*xl + fb * wet_l);
                line_r[w] = flush(*xr + fb * wet_r);
            }
            *xl = *xl * (1.0 - m) + wet_l * m;
            *xr = *xr * (1.0 - m) + wet_r * m;
            w = (w + 1) % len;
        }
        self.s.write = w as u32;
    }

    /// The state; a dry (idle) delay's lines are stale, cleared when it turns wet again, so
    /// they are left out: the default patch's snapshot is a few bytes, not a second of audio.
    fn state(&self) -> ModuleState {
        let lines = |l: &Vec<f32>| if self.s.idle { Vec::new() } else { l.clone() };
        ModuleState::Delay(DelayState {
            params: self.s.params,
            modulation: self.s.modulation,
            tempo: self.s.tempo,
            ramps: self.s.ramps,
            write: self.s.write,
            idle: self.s.idle,
            line: lines(&self.s.line),
            right: lines(&self.s.right),
        })
    }

    fn restore(&mut self, state: &ModuleState) -> Result<(), DspError> {
        match state {
            ModuleState::Delay(s)
                if (s.idle && s.line.is_empty() && s.right.is_empty())
                    || (s.line.len() == self.s.line.len()
                        && s.right.len() == self.s.right.len()) =>
            {
                self.s.params = s.params;
                self.s.modulation = s.modulation;
                self.s.tempo = s.tempo;
                self.s.ramps = s.ramps;
                self.s.write = s.write;
                self.s.idle = s.idle;
                // An idle state without lines: this delay's own are cleared on the way back.
                if !s.line.is_empty() {
                    self.s.line.copy_from_slice(&s.line);
                    self.s.right.copy_from_slice(&s.right);
                }
                Ok(())
            }
            ModuleState::Delay(_) => Err(DspError::StateMismatch {
                reason: "delay line of another length (another sample rate or channel count)",
            }),
            _ => Err(DspError::StateMismatch {
                reason: "not a delay state",
            }),
        }
    }

    fn memory_bytes(&self) -> usize {
        (self.s.line.len() + self.s.right.len()) * std::mem::size_of::<f32>()
    }

    fn reset(&mut self) {
        self.s.line.fill(0.0);
        self.s.right.fill(0.0);
        self.s.write = 0;
        self.s.idle = true;
        self.s.ramps = [TIME, FEEDBACK, MIX].map(|p| Ramp::at(self.target(p)));
    }
}
