//! `adsr`: an attack-decay-sustain-release envelope that multiplies its input.
//!
//! Segments are linear and exact to the sample: with attack `A` ms at rate `fs`, the level
//! reaches 1.0 after `round(A·fs/1000)` samples from silence. A gate-on during any stage
//! re-attacks from the current level at the attack's rate (no click); a gate-off releases from
//! the current level to 0 in exactly the release time.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::ms_to_samples;
use crate::DspError;

/// Parameter index of `attack`.
pub const ATTACK: ParamId = 0;
/// Parameter index of `decay`.
pub const DECAY: ParamId = 1;
/// Parameter index of `sustain`.
pub const SUSTAIN: ParamId = 2;
/// Parameter index of `release`.
pub const RELEASE: ParamId = 3;

const fn time(name: &'static str, default: f32) -> ParamSpec {
    ParamSpec {
        name,
        unit: Unit::Ms,
        min: 0.0,
        max: Max::Fixed(60_000.0),
        default,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(1000.0),
    }
}

/// Parameters of `adsr`.
pub static PARAMS: [ParamSpec; 4] = [
    time("attack", 10.0),
    time("decay", 100.0),
    ParamSpec {
        name: "sustain",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.7,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(1.0),
    },
    time("release", 200.0),
];

/// Envelope stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Stage {
    /// Silent, waiting for a gate.
    Idle,
    /// Rising to 1.0.
    Attack,
    /// Falling to the sustain level.
    Decay,
    /// Holding the sustain level while the gate is open.
    Sustain,
    /// Falling to 0 after the gate closed.
    Release,
}

/// Complete state of an [`Adsr`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AdsrState {
    /// Base parameter values, in table order.
    pub params: [f32; 4],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 4],
    /// Current stage.
    pub stage: Stage,
    /// Level at the start of the current segment.
    pub from: f32,
    /// Level at the end of the current segment.
    pub to: f32,
    /// Samples of the segment done.
    pub pos: u32,
    /// Samples of the segment in all.
    pub len: u32,
    /// The level of the last sample produced.
    pub level: f32,
}

impl AdsrState {
    /// The level `pos` samples along the current segment (before its end, which is `to`
    /// exactly). The lane kernel makes the same product (`lanes`). Real-time thread.
    #[inline]
    fn along(&self) -> f32 {
        self.from + (self.to - self.from) * (self.pos as f32 / self.len as f32)
    }

    /// Takes back where blocks rendered in a lane ended: along a segment, moved on by their
    /// samples, at the level of the last one (as `tick` leaves it; the segment goes on past
    /// them). Real-time thread.
    pub(crate) fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        if let crate::lanes::LaneEnd::Samples(samples) = end {
            if self.stage != Stage::Sustain && self.pos < self.len {
                self.pos += samples;
                self.level = self.along();
            }
        }
    }
}

/// ADSR envelope; multiplies the block passing through it.
#[derive(Debug, Clone)]
pub struct Adsr {
    sample_rate: f64,
    s: AdsrState,
}

impl Adsr {
    /// A fresh, idle envelope at the default parameters.
    pub fn new(sample_rate: f64) -> Self {
        Adsr {
            sample_rate,
            s: AdsrState {
                params: [
                    PARAMS[0].default,
                    PARAMS[1].default,
                    PARAMS[2].default,
                    PARAMS[3].default,
                ],
                modulation: [0.0; 4],
                stage: Stage::Idle,
                from: 0.0,
                to: 0.0,
                pos: 0,
                len: 0,
                level: 0.0,
            },
        }
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.s.stage
    }

    /// The current level, 0..1.
    pub fn level(&self) -> f32 {
        self.s.level
    }

    /// Its complete state (for a module built on it).
    pub(crate) fn plain(&self) -> AdsrState {
        self.s
    }

    /// Restores a state taken with [`Adsr::plain`].
    pub(crate) fn restore_plain(&mut self, s: AdsrState) {
        self.s = s;
    }

    fn value(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    fn samples(&self, p: ParamId) -> u32 {
        ms_to_samples(self.value(p), self.sample_rate)
    }

    fn enter(&mut self, stage: Stage) {
        let level = self.s.level;
        let (to, len) = match stage {
            Stage::Idle => (0.0, 0),
            Stage::Attack => {
                let full = self.samples(ATTACK) as f32;
                (1.0, ((1.0 - level).max(0.0) * full).round() as u32)
            }
            Stage::Decay => (self.value(SUSTAIN), self.samples(DECAY)),
            Stage::Sustain => (self.value(SUSTAIN), 0),
            Stage::Release => (0.0, self.samples(RELEASE)),
        };
        self.s.stage = stage;
        self.s.from = level;
        self.s.to = to;
        self.s.pos = 0;
        self.s.len = len;
        if len == 0 {
            self.s.level = to;
            self.finish_segment();
        }
    }

    /// Moves to the next stage when the current segment is complete.
    fn finish_segment(&mut self) {
        match self.s.stage {
            Stage::Attack => self.enter(Stage::Decay),
            Stage::Decay => {
                self.s.stage = Stage::Sustain;
                self.s.from = self.s.level;
                self.s.to = self.s.level;
                self.s.pos = 0;
                self.s.len = 0;
            }
            Stage::Release => {
                self.s.stage = Stage::Idle;
                self.s.level = 0.0;
            }
            Stage::Sustain | Stage::Idle => {}
        }
    }

    // Always: left a call, each sample waits on the level's store and load (rising notes one
    // by one at half speed when `process` was compiled inside `AnyModule`'s).
    #[inline(always)]
    fn tick(&mut self) -> f32 {
        let s = &mut self.s;
        if s.pos < s.len {
            s.pos += 1;
            s.level = if s.pos == s.len { s.to } else { s.along() };
            let level = s.level;
            if self.s.pos == self.s.len {
                self.finish_segment();
            }
            level
        } else {
            s.level
        }
    }
}

impl Module for Adsr {
    fn is_idle(&self) -> bool {
        self.s.stage == Stage::Idle
    }

    fn kind(&self) -> ModuleKind {
        ModuleKind::Adsr
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "adsr", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        if param == SUSTAIN && self.s.stage == Stage::Sustain {
            // Glide to the new sustain level over the decay time instead of jumping.
            self.enter(Stage::Decay);
        }
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        ((param as usize) < PARAMS.len()).then(|| self.value(param))
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn gate(&mut self, on: bool) -> Result<(), DspError> {
        if on {
            self.enter(Stage::Attack);
        } else if self.s.stage != Stage::Idle {
            self.enter(Stage::Release);
        }
        Ok(())
    }

    fn can_ignore_input(&self) -> bool {
        true
    }

    fn ignores_input(&self) -> bool {
        // At rest it renders silence; only a gate (between blocks) wakes it.
        self.s.stage == Stage::Idle
    }

    fn process(&mut self, block: &mut [f32]) {
        match self.s.stage {
            Stage::Idle => block.fill(0.0),
            Stage::Sustain => {
                let l = self.s.level;
                block.iter_mut().for_each(|x| *x *= l);
            }
            _ => {
                for x in block.iter_mut() {
                    *x *= self.tick();
                }
            }
        }
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        let right = &mut right[..left.len()];
        match self.s.stage {
            Stage::Idle => {
                left.fill(0.0);
                right.fill(0.0);
            }
            Stage::Sustain => {
                let l = self.s.level;
                left.iter_mut().for_each(|x| *x *= l);
                right.iter_mut().for_each(|x| *x *= l);
            }
            _ => {
                // One envelope, both sides.
                for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                    let g = self.tick();
                    (*l, *r) = (*l * g, *r * g);
                }
            }
        }
    }

    fn begin_lane(&mut self) -> Option<crate::lanes::LaneStage<'_>> {
        // Holding its level, the envelope is a constant gain (and `process` changes nothing);
        // along a segment, the segment (the lane takes it only if it goes on past the block).
        let s = &self.s;
        match s.stage {
            Stage::Sustain => Some(crate::lanes::LaneStage::Gain(s.level)),
            Stage::Attack | Stage::Decay | Stage::Release if s.pos < s.len => {
                Some(crate::lanes::LaneStage::Segment {
                    from: s.from,
                    delta: s.to - s.from,
                    pos: s.pos,
                    len: s.len,
                })
            }
            _ => None,
        }
    }

    fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        self.s.end_lane(end);
    }

    super::plain_state!(Adsr, "an adsr");

    fn reset(&mut self) {
        let params = self.s.params;
        *self = Adsr::new(self.sample_rate);
        self.s.params = params;
    }
}
