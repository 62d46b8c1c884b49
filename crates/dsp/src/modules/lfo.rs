//! `lfo`: a low-frequency oscillator whose output modulates parameters of other modules.
//!
//! Output is `offset + depth · wave(phase)`, written to its block at audio rate. The patch reads
//! the first sample of each block as the control value for the routed parameters, which smooth
//! it themselves where their table says so.
//!
//! Routed into a module of an instrument's voices, each voice plays a copy of it: in step with
//! the module (`retrig` 0, the default: every voice hears the same wave), or restarted at phase
//! 0 on each of its notes (`retrig` 1: each note's wobble starts alike).
//!
//! `sync` ties the rate to the tempo ([`Module::set_tempo`], the sequencer's BPM), like the
//! delay's: a cycle lasts `sync` whole notes (0.25 a beat, 1 a bar of 4/4), so its rate is
//! `bpm / (240 · sync)` Hz, following tempo changes; `sync` 0 (the default) leaves `freq` in
//! charge.

use super::osc::{fixed_to_turns, turns_to_fixed};
use super::waves;
use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::DspError;

/// Parameter index of `freq`.
pub const FREQ: ParamId = 0;
/// Parameter index of `depth`.
pub const DEPTH: ParamId = 1;
/// Parameter index of `shape`.
pub const SHAPE: ParamId = 2;
/// Parameter index of `offset`.
pub const OFFSET: ParamId = 3;
/// Parameter index of `reset` (any value puts the phase back to 0).
pub const RESET: ParamId = 4;
/// Parameter index of `sync` (a cycle's length in whole notes; 0 = off).
pub const SYNC: ParamId = 5;
/// Parameter index of `retrig`: 1 restarts an instrument's copy at each note, 0 (the default)
/// keeps it in step with the module.
pub const RETRIG: ParamId = 6;
/// How many parameters an `lfo` has.
const N: usize = 7;
/// The tempo an LFO assumes until told otherwise (the sequencer's default).
const DEFAULT_TEMPO: f32 = 120.0;

/// Parameters of `lfo`.
pub static PARAMS: [ParamSpec; N] = [
    ParamSpec {
        name: "freq",
        unit: Unit::Hz,
        min: 0.01,
        max: Max::Fixed(20.0),
        default: 1.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "depth",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.5,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
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
        name: "offset",
        unit: Unit::Ratio,
        min: -1.0,
        max: Max::Fixed(1.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "reset",
        unit: Unit::Trigger,
        min: f32::MIN,
        max: Max::Fixed(f32::MAX),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "sync",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(16.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec::switch("retrig"),
];

/// Complete state of an [`Lfo`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LfoState {
    /// Base parameter values, in table order.
    pub params: [f32; N],
    /// Phase as a 64-bit fixed-point fraction of a turn.
    pub phase: u64,
    /// The tempo `sync` follows, in BPM.
    pub tempo: f32,
}

/// Low-frequency oscillator.
#[derive(Debug, Clone)]
pub struct Lfo {
    sample_rate: f64,
    s: LfoState,
    /// The phase increment, and the settings it was worked out from (`freq`, `sync`, the
    /// tempo): worked out again only when they change (a division and a conversion a block).
    inc: ([f32; 3], u64),
}

impl Lfo {
    /// A fresh LFO at the default parameters.
    pub fn new(sample_rate: f64) -> Self {
        let mut params = [0.0; N];
        for (p, spec) in params.iter_mut().zip(PARAMS.iter()) {
            *p = spec.default;
        }
        Lfo {
            sample_rate,
            s: LfoState {
                params,
                phase: 0,
                tempo: DEFAULT_TEMPO,
            },
            inc: ([f32::NAN; 3], 0),
        }
    }

    /// The rate in Hz: `freq`, or the tempo's when `sync` is set.
    pub fn rate(&self) -> f64 {
        let sync = self.s.params[SYNC as usize];
        if sync > 0.0 {
            f64::from(self.s.tempo) / (240.0 * f64::from(sync))
        } else {
            f64::from(self.s.params[FREQ as usize])
        }
    }

    fn increment(&mut self) -> u64 {
        let p = &self.s.params;
        let key = [p[FREQ as usize], p[SYNC as usize], self.s.tempo];
        // Compared as bits (the cache starts at NaN, which no setting is).
        if key.map(f32::to_bits) != self.inc.0.map(f32::to_bits) {
            self.inc = (key, turns_to_fixed(self.rate() / self.sample_rate));
        }
        self.inc.1
    }

    /// The output value at the current phase.
    pub fn value(&self) -> f32 {
        let p = &self.s.params;
        p[OFFSET as usize]
            + p[DEPTH as usize]
                * waves::naive(p[SHAPE as usize] as u8, fixed_to_turns(self.s.phase))
    }
}

impl Module for Lfo {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Lfo
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "lfo", param, value, self.sample_rate)?;
        if param == RESET {
            self.s.phase = 0;
        }
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            FREQ => Some(self.rate() as f32),
            _ => self.param(param),
        }
    }

    fn set_modulation(&mut self, _param: ParamId, _amount: f32) {}

    fn set_tempo(&mut self, bpm: f32) {
        if bpm.is_finite() && bpm > 0.0 {
            self.s.tempo = bpm;
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        let inc = self.increment();
        for x in block.iter_mut() {
            *x = self.value();
            self.s.phase = self.s.phase.wrapping_add(inc);
        }
    }

    super::plain_state!(Lfo, "an lfo");

    fn skip(&mut self, samples: usize) -> Option<f32> {
        let first = self.value();
        self.pass(samples);
        Some(first)
    }

    fn pass(&mut self, samples: usize) -> bool {
        let inc = self.increment();
        self.s.phase = self.s.phase.wrapping_add(inc.wrapping_mul(samples as u64));
        true
    }

    fn reset(&mut self) {
        self.s.phase = 0;
    }
}
