//! `bus`: a mixer bus. Whatever is connected to it is summed (each connection at its send
//! level: `/patch/connect filter verb 0.3`), then scaled by `gain` (smoothed over 20 ms);
//! effects go after it (`verb > reverb > out`). Two channels in a stereo patch: a mono send
//! reaches both sides alike.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::DspError;

/// Parameter index of `gain` (0..2; 1 as summed).
pub const GAIN: ParamId = 0;

/// Parameters of `bus`.
pub static PARAMS: [ParamSpec; 1] = [ParamSpec {
    name: "gain",
    unit: Unit::Ratio,
    min: 0.0,
    max: Max::Fixed(2.0),
    default: 1.0,
    smoothing_ms: 20.0,
    modulation: ModScale::Linear(1.0),
}];

/// Complete state of a [`Bus`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BusState {
    /// Base gain.
    pub gain: f32,
    /// Modulation of the gain.
    pub modulation: f32,
    /// The gain's smoother.
    pub ramp: Ramp,
}

/// A summing bus with a gain.
#[derive(Debug, Clone)]
pub struct Bus {
    sample_rate: f64,
    s: BusState,
}

impl Bus {
    /// A fresh bus at unity gain.
    pub fn new(sample_rate: f64) -> Self {
        Bus {
            sample_rate,
            s: BusState {
                gain: 1.0,
                modulation: 0.0,
                ramp: Ramp::at(1.0),
            },
        }
    }

    fn retarget(&mut self) {
        let to = PARAMS[0].modulate(self.s.gain, self.s.modulation, self.sample_rate);
        PARAMS[0].aim(&mut self.s.ramp, to, self.sample_rate);
    }
}

impl Module for Bus {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Bus
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "bus", param, value, self.sample_rate)?;
        self.s.gain = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        (param == GAIN).then_some(self.s.gain)
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        (param == GAIN).then_some(self.s.ramp.value())
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if param == GAIN {
            self.s.modulation = amount;
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        self.retarget();
        let g = &mut self.s.ramp;
        if g.is_moving() {
            block.iter_mut().for_each(|x| *x *= g.tick());
        } else if g.to != 1.0 {
            let g = g.to;
            block.iter_mut().for_each(|x| *x *= g);
        }
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        self.retarget();
        let g = &mut self.s.ramp;
        let pairs = left.iter_mut().zip(right.iter_mut());
        if g.is_moving() {
            for (l, r) in pairs {
                let k = g.tick();
                (*l, *r) = (*l * k, *r * k);
            }
        } else if g.to != 1.0 {
            let k = g.to;
            for (l, r) in pairs {
                (*l, *r) = (*l * k, *r * k);
            }
        }
    }

    super::plain_state!(Bus, "a bus");

    fn reset(&mut self) {
        self.retarget();
        self.s.ramp = Ramp::at(self.s.ramp.to);
    }
}
