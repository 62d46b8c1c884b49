//! Typed parameters: name, unit, range, default, smoothing and modulation scale.

use crate::ramp::{ms_to_samples, Ramp};
use crate::DspError;

/// Index of a parameter within its module's [`ParamSpec`] table.
pub type ParamId = u8;

/// The unit a parameter is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Hertz.
    Hz,
    /// Milliseconds.
    Ms,
    /// A plain ratio or level, usually 0..1.
    Ratio,
    /// Decibels.
    Db,
    /// Cents (a hundredth of a semitone).
    Cents,
    /// A choice among numbered options (rounded to the nearest integer).
    Choice,
    /// A trigger: any value fires it.
    Trigger,
}

/// How an LFO's output (one unit = full depth) is added to a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModScale {
    /// The parameter cannot be modulated.
    None,
    /// Multiplicative: one unit of modulation moves the value by this many cents.
    Cents(f32),
    /// Additive: one unit of modulation adds this much to the value.
    Linear(f32),
    /// Audio rate: the sources' every sample (an `osc`, a `noise`, an `lfo`), times the
    /// route's depth and this, is added to the parameter sample by sample (an oscillator's
    /// phase or frequency: `pm`, `fm`). Never applied at control rate.
    Audio(f32),
}

/// The upper bound of a parameter's range, which may depend on the sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Max {
    /// A fixed value.
    Fixed(f32),
    /// The Nyquist frequency minus this many hertz.
    NyquistMinus(f32),
    /// This fraction of the sample rate.
    RateFraction(f32),
}

/// Description of one parameter. Modules keep a static table of these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Public name (the `<param>` of `/mod/<module>/<param>`).
    pub name: &'static str,
    /// Unit.
    pub unit: Unit,
    /// Lowest value.
    pub min: f32,
    /// Highest value.
    pub max: Max,
    /// Value of a fresh module.
    pub default: f32,
    /// Length of the linear ramp to a new value, in milliseconds (0: jumps).
    pub smoothing_ms: f32,
    /// How modulation adds to it.
    pub modulation: ModScale,
}

/// What happened to a value handed to [`ParamSpec::accept`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetOutcome {
    /// The value applied (after clamping and, for choices, rounding).
    pub value: f32,
    /// True when the value given was outside the range and was clamped.
    pub clamped: bool,
}

impl ParamSpec {
    /// An amount 0..1, 0 at first, taken as it is (no smoothing, no modulation): a spread, a
    /// fraction.
    pub const fn amount(name: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            unit: Unit::Ratio,
            min: 0.0,
            max: Max::Fixed(1.0),
            default: 0.0,
            smoothing_ms: 0.0,
            modulation: ModScale::None,
        }
    }

    /// A switch: 0 (off, at first) or 1.
    pub const fn switch(name: &'static str) -> ParamSpec {
        ParamSpec {
            unit: Unit::Choice,
            ..ParamSpec::amount(name)
        }
    }

    /// The `(min, max)` range at a sample rate.
    pub fn range(&self, sample_rate: f64) -> (f32, f32) {
        let max = match self.max {
            Max::Fixed(v) => v,
            Max::NyquistMinus(hz) => (sample_rate * 0.5) as f32 - hz,
            Max::RateFraction(f) => (sample_rate as f32) * f,
        };
        (self.min, max)
    }

    /// Clamps `value` into range (rounding choices); rejects NaN and infinities.
    pub fn accept(&self, value: f32, sample_rate: f64) -> Result<SetOutcome, DspError> {
        if !value.is_finite() {
            return Err(DspError::NonFinite { param: self.name });
        }
        let (lo, hi) = self.range(sample_rate);
        let mut v = value.clamp(lo, hi);
        let clamped = v != value;
        if self.unit == Unit::Choice {
            v = v.round();
        }
        Ok(SetOutcome { value: v, clamped })
    }

    /// Aims `ramp` at `target` over this parameter's smoothing time, unless it is aimed there
    /// already (a smoother keeps gliding to an unchanged target). Called on the audio thread
    /// at the start of a block: no allocation.
    #[inline]
    pub(crate) fn aim(&self, ramp: &mut Ramp, target: f32, sample_rate: f64) {
        if target != ramp.to {
            ramp.retarget(target, ms_to_samples(self.smoothing_ms, sample_rate));
        }
    }

    /// True when routes into it are audio-rate ([`ModScale::Audio`]).
    pub const fn is_audio_rate(&self) -> bool {
        matches!(self.modulation, ModScale::Audio(_))
    }

    /// Applies a modulation amount (already scaled by [`ModScale`] units of depth) to `base`,
    /// clamped to range.
    #[inline]
    pub fn modulate(&self, base: f32, amount: f32, sample_rate: f64) -> f32 {
        if amount == 0.0 {
            return base;
        }
        self.modulated(base, amount, sample_rate)
    }

    /// [`ParamSpec::modulate`] with an amount: out of line (most blocks have none).
    #[inline(never)]
    fn modulated(&self, base: f32, amount: f32, sample_rate: f64) -> f32 {
        let v = match self.modulation {
            ModScale::None | ModScale::Audio(_) => base,
            ModScale::Cents(c) => base * (amount * c / 1200.0).exp2(),
            ModScale::Linear(k) => base + amount * k,
        };
        let (lo, hi) = self.range(sample_rate);
        if v.is_finite() {
            v.clamp(lo, hi)
        } else {
            base
        }
    }
}

/// The one parameter check every module's `set_param` starts with: the spec of index `param`
/// in `table` accepts `value` (clamped, rounded for choices; NaN and infinities refused).
/// Never allocates: called on the audio thread.
pub(crate) fn accept(
    table: &'static [ParamSpec],
    module: &'static str,
    param: ParamId,
    value: f32,
    sample_rate: f64,
) -> Result<SetOutcome, DspError> {
    table
        .get(usize::from(param))
        .ok_or(DspError::NoParamIndex {
            module,
            index: param,
        })?
        .accept(value, sample_rate)
}

/// Finds a parameter by name in a table.
pub(crate) fn find(table: &[ParamSpec], name: &str) -> Option<ParamId> {
    table
        .iter()
        .position(|p| p.name == name)
        .map(|i| i as ParamId)
}
