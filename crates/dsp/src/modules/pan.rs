//! `pan`: a place between the two sides.
//!
//! A mono signal is placed with the equal-power law: at `pos` p the angle is
//! θ = (p + 1) · π/4, the left side gets cos θ and the right sin θ, so the power
//! (L² + R²) is the same everywhere and the centre is -3.01 dB on each side of a hard-panned
//! level; at -1 or 1 the far side is silent. A stereo signal is first narrowed by `width`
//! (1 keeps it, 0 folds it to mono: the side signal (L - R)/2 is scaled by it) and then
//! balanced: the side `pos` leans away from fades along the same curve (√2 · cos θ, at most
//! 1) while the near side stays as it is.
//!
//! `spread` places the notes of the voice pool when `pan` ends the voice template (`sine >
//! adsr > filter > pan`): voice 0 sits at `pos`, the next ones alternate left and right of it,
//! each 2/count further out (for 8 voices: 0, -0.25, +0.25, -0.5, … of `spread`), clamped to
//! -1..1. In a mono patch the module passes its input through untouched.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::DspError;

/// Parameter index of `pos` (-1 left .. 1 right).
pub const POS: ParamId = 0;
/// Parameter index of `width` (0 mono .. 1 as it came; stereo input only).
pub const WIDTH: ParamId = 1;
/// Parameter index of `spread` (0..1: how far apart the voice pool's notes are placed).
pub const SPREAD: ParamId = 2;

/// Parameters of `pan`.
pub static PARAMS: [ParamSpec; 3] = [
    ParamSpec {
        name: "pos",
        unit: Unit::Ratio,
        min: -1.0,
        max: Max::Fixed(1.0),
        default: 0.0,
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
    ParamSpec::amount("spread"),
];

/// Complete state of a [`Pan`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PanState {
    /// Base parameter values, in table order.
    pub params: [f32; 3],
    /// Modulation amounts, in table order.
    pub modulation: [f32; 3],
    /// Smoothers of pos and width.
    pub ramps: [Ramp; 2],
}

/// Equal-power panner and stereo balance.
#[derive(Debug, Clone)]
pub struct Pan {
    sample_rate: f64,
    s: PanState,
    /// The mono gains at rest last worked out, with their place's bits: [`gains`] depends on
    /// the place alone, so a place seen again takes them to the bit without the sine and
    /// cosine. Not state.
    rest_gains: Option<(u32, (f32, f32))>,
}

/// The equal-power gains (left, right) of a mono signal at `pos` (-1..1).
pub fn gains(pos: f32) -> (f32, f32) {
    let (l, r) = angle_gains(pos);
    (l as f32, r as f32)
}

/// The balance gains (left, right) of a stereo signal at `pos`: the far side along the
/// equal-power curve, relative to the centre; the near side at 1.
pub fn balance(pos: f32) -> (f32, f32) {
    let (l, r) = angle_gains(pos);
    let k = std::f64::consts::SQRT_2;
    ((l * k).min(1.0) as f32, (r * k).min(1.0) as f32)
}

fn angle_gains(pos: f32) -> (f64, f64) {
    let theta = (f64::from(pos.clamp(-1.0, 1.0)) + 1.0) * std::f64::consts::FRAC_PI_4;
    (theta.cos(), theta.sin())
}

/// Where voice `index` of a pool of `count` sits, relative to `pos`, at `spread` 1: voice 0 at
/// 0, then alternately left and right, 2/count further out each pair.
pub fn voice_offset(index: usize, count: usize) -> f32 {
    if count < 2 || index == 0 {
        return 0.0;
    }
    let step = 2.0 / count as f32;
    let out = index.div_ceil(2) as f32 * step;
    if index % 2 == 1 {
        -out
    } else {
        out
    }
}

impl Pan {
    /// A fresh pan at the centre, full width.
    pub fn new(sample_rate: f64) -> Self {
        let params = [PARAMS[0].default, PARAMS[1].default, PARAMS[2].default];
        Pan {
            sample_rate,
            s: PanState {
                params,
                modulation: [0.0; 3],
                ramps: [Ramp::at(params[0]), Ramp::at(params[1])],
            },
            rest_gains: None,
        }
    }

    /// [`gains`] at `pos`, worked out again only for a place not seen last. Real-time thread.
    fn gains_at_rest(&mut self, pos: f32) -> (f32, f32) {
        match self.rest_gains {
            Some((bits, g)) if bits == pos.to_bits() => g,
            _ => {
                let g = gains(pos);
                self.rest_gains = Some((pos.to_bits(), g));
                g
            }
        }
    }

    fn target(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    fn retarget(&mut self) {
        for p in [POS, WIDTH] {
            let to = self.target(p);
            PARAMS[p as usize].aim(&mut self.s.ramps[p as usize], to, self.sample_rate);
        }
    }
}

impl Module for Pan {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Pan
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "pan", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            SPREAD => Some(self.s.params[SPREAD as usize]),
            _ => self.s.ramps.get(param as usize).map(Ramp::value),
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    /// A mono patch has no sides: the input passes untouched.
    fn process(&mut self, block: &mut [f32]) {
        let _ = block;
    }

    fn resting(&self, stereo: bool) -> bool {
        // One channel: it leaves it as it is.
        !stereo
    }

    fn may_rest(&self) -> bool {
        true
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], input_stereo: bool) {
        self.retarget();
        let [pos, width] = self.s.ramps;
        let at_rest = if pos.is_moving() || width.is_moving() || input_stereo {
            (1.0, 1.0)
        } else {
            self.gains_at_rest(pos.to)
        };
        let [pos, width] = &mut self.s.ramps;
        let right = &mut right[..left.len()];
        let pairs = left.iter_mut().zip(right.iter_mut());
        match (pos.is_moving() || width.is_moving(), input_stereo) {
            (true, false) => {
                for (l, r) in pairs {
                    let (gl, gr) = gains(pos.tick());
                    width.tick();
                    let x = *l;
                    (*l, *r) = (x * gl, x * gr);
                }
            }
            (true, true) => {
                for (l, r) in pairs {
                    let (gl, gr) = balance(pos.tick());
                    let w = width.tick();
                    let (mid, side) = ((*l + *r) * 0.5, (*l - *r) * 0.5 * w);
                    (*l, *r) = ((mid + side) * gl, (mid - side) * gr);
                }
            }
            (false, false) => {
                let (gl, gr) = at_rest;
                for (l, r) in pairs {
                    let x = *l;
                    (*l, *r) = (x * gl, x * gr);
                }
            }
            (false, true) => {
                let (gl, gr) = balance(pos.to);
                let w = width.to;
                if w == 1.0 && gl == 1.0 && gr == 1.0 {
                    return; // centred at full width: as it came
                }
                for (l, r) in pairs {
                    let (mid, side) = ((*l + *r) * 0.5, (*l - *r) * 0.5 * w);
                    (*l, *r) = ((mid + side) * gl, (mid - side) * gr);
                }
            }
        }
    }

    /// At rest (neither place nor width moving), for a mono block in: its two gains, after
    /// what `process_stereo` does before its loop (its targets aimed). Real-time thread.
    fn begin_lane(&mut self) -> Option<crate::lanes::LaneStage<'_>> {
        self.retarget();
        let [pos, width] = self.s.ramps;
        if pos.is_moving() || width.is_moving() {
            return None;
        }
        let (left, right) = self.gains_at_rest(pos.to);
        Some(crate::lanes::LaneStage::Pan { left, right })
    }

    super::plain_state!(Pan, "a pan");

    fn reset(&mut self) {
        self.s.ramps = [Ramp::at(self.target(POS)), Ramp::at(self.target(WIDTH))];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gains_kept_at_rest_are_the_gains_of_the_place() {
        // Places seen again, in turn, and new ones: each time what `gains` gives, to the bit.
        let mut pan = Pan::new(48_000.0);
        for pos in [0.3f32, 0.3, -0.7, 0.3, 0.0, -0.0, 1.0, 1.0, -1.0, 0.3] {
            let (l, r) = pan.gains_at_rest(pos);
            let (gl, gr) = gains(pos);
            assert_eq!(
                (l.to_bits(), r.to_bits()),
                (gl.to_bits(), gr.to_bits()),
                "{pos}"
            );
        }
    }

    #[test]
    fn equal_power_everywhere_and_exact_at_the_ends() {
        for p in [-1.0f32, -0.5, 0.0, 0.3, 1.0] {
            let (l, r) = gains(p);
            assert!((l * l + r * r - 1.0).abs() < 1e-6, "{p}");
        }
        assert_eq!(gains(-1.0), (1.0, 0.0));
        assert!(gains(1.0).0 < 1e-7 && gains(1.0).1 == 1.0);
        assert_eq!(balance(0.0), (1.0, 1.0));
        assert_eq!(balance(1.0).1, 1.0);
    }

    #[test]
    fn voices_alternate_around_the_centre() {
        let offsets: Vec<f32> = (0..8).map(|i| voice_offset(i, 8)).collect();
        assert_eq!(offsets, [0.0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75, -1.0]);
        assert_eq!(voice_offset(3, 1), 0.0);
    }
}
