//! `env`: a modulation envelope. The same attack-decay-sustain-release as `adsr` (exact to the
//! sample), but a source: its output is the envelope's level times `depth` (-1..1), for
//! routing into parameters (`/patch/connect env2 filter.cutoff 0.5`). In an instrument's
//! voice, each note has its own, opened and closed with the note. It never ends a note: the
//! voice's `adsr` does.

use super::adsr::{self, Adsr, AdsrState};
use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::DspError;

/// Parameter index of `depth`.
pub const DEPTH: ParamId = 4;

/// Parameters of `env`: `adsr`'s four, then `depth`.
pub static PARAMS: [ParamSpec; 5] = [
    adsr::PARAMS[0],
    adsr::PARAMS[1],
    adsr::PARAMS[2],
    adsr::PARAMS[3],
    ParamSpec {
        name: "depth",
        unit: Unit::Ratio,
        min: -1.0,
        max: Max::Fixed(1.0),
        default: 1.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(1.0),
    },
];

/// Complete state of an [`Env`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EnvState {
    /// The envelope.
    pub adsr: AdsrState,
    /// `depth` as set.
    pub depth: f32,
    /// `depth`'s modulation.
    pub depth_mod: f32,
}

/// A modulation envelope: a source whose output is its level times `depth`.
#[derive(Debug, Clone)]
pub struct Env {
    adsr: Adsr,
    depth: f32,
    depth_mod: f32,
}

impl Env {
    /// A fresh, idle envelope at the default parameters.
    pub fn new(sample_rate: f64) -> Self {
        Env {
            adsr: Adsr::new(sample_rate),
            depth: PARAMS[DEPTH as usize].default,
            depth_mod: 0.0,
        }
    }

    fn depth_now(&self) -> f32 {
        (self.depth + self.depth_mod).clamp(-1.0, 1.0)
    }
}

impl Module for Env {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Env
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        // No parameter of `env` depends on the sample rate.
        let out = crate::param::accept(&PARAMS, "env", param, value, 48_000.0)?;
        if param == DEPTH {
            self.depth = out.value;
            Ok(out)
        } else {
            self.adsr.set_param(param, value)
        }
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        if param == DEPTH {
            Some(self.depth)
        } else {
            self.adsr.param(param)
        }
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        if param == DEPTH {
            Some(self.depth_now())
        } else {
            self.adsr.effective(param)
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if param == DEPTH {
            self.depth_mod = amount;
        } else {
            self.adsr.set_modulation(param, amount);
        }
    }

    fn gate(&mut self, on: bool) -> Result<(), DspError> {
        self.adsr.gate(on)
    }

    fn process(&mut self, block: &mut [f32]) {
        block.fill(self.depth_now());
        self.adsr.process(block);
    }

    fn state(&self) -> ModuleState {
        ModuleState::Env(EnvState {
            adsr: self.adsr.plain(),
            depth: self.depth,
            depth_mod: self.depth_mod,
        })
    }

    fn restore(&mut self, state: &ModuleState) -> Result<(), DspError> {
        match state {
            ModuleState::Env(s) => {
                self.adsr.restore_plain(s.adsr);
                self.depth = s.depth;
                self.depth_mod = s.depth_mod;
                Ok(())
            }
            _ => Err(DspError::StateMismatch {
                reason: "not an env state",
            }),
        }
    }

    fn reset(&mut self) {
        self.adsr.reset();
        self.depth_mod = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_output_is_the_envelope_times_depth_to_the_sample() {
        let mut e = Env::new(48_000.0);
        for (p, v) in [(0, 1.0), (1, 1.0), (2, 0.5), (3, 1.0), (DEPTH, -0.5)] {
            e.set_param(p, v).unwrap();
        }
        e.gate(true).unwrap();
        let mut out = [0.0f32; 144];
        e.process(&mut out);
        // 1 ms attack: 48 samples to the top, 1 ms decay to the sustain 0.5, times -0.5.
        assert_eq!(out[47], -0.5);
        assert_eq!(out[95], -0.25);
        assert_eq!(out[143], -0.25);
        assert!(!e.is_idle(), "a modulation envelope never ends a note");
        e.gate(false).unwrap();
        e.process(&mut out[..48]);
        assert_eq!(out[47], 0.0, "1 ms release: at rest after 48 samples");
        assert!(!e.is_idle());
    }
}
