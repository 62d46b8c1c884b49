//! A linear parameter ramp with an exact end point, used for smoothing.

/// Moves linearly from `from` to `to` over `len` samples, landing exactly on `to`.
///
/// The value at step `pos` is computed from the end points (not accumulated), so it is
/// deterministic and plain data: copying a `Ramp` and continuing gives bit-identical values.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ramp {
    /// Start value.
    pub from: f32,
    /// Target value.
    pub to: f32,
    /// Samples taken so far.
    pub pos: u32,
    /// Total samples of the ramp (0: already at `to`).
    pub len: u32,
}

impl Ramp {
    /// A ramp resting at `value`.
    pub fn at(value: f32) -> Self {
        Ramp {
            from: value,
            to: value,
            pos: 0,
            len: 0,
        }
    }

    /// Current value.
    #[inline]
    pub fn value(&self) -> f32 {
        if self.pos >= self.len {
            self.to
        } else {
            self.from + (self.to - self.from) * (self.pos as f32 / self.len as f32)
        }
    }

    /// True while the value is still moving.
    #[inline]
    pub fn is_moving(&self) -> bool {
        self.pos < self.len
    }

    /// Starts a new ramp from the current value to `to` over `len` samples.
    pub fn retarget(&mut self, to: f32, len: u32) {
        if to == self.to && !self.is_moving() {
            return;
        }
        let from = self.value();
        *self = Ramp {
            from,
            to,
            pos: 0,
            len,
        };
        if len == 0 {
            self.from = to;
        }
    }

    /// Advances one sample and returns the value for that sample.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        let v = self.value();
        if self.pos < self.len {
            self.pos += 1;
        }
        v
    }
}

/// Number of samples in `ms` milliseconds at `sample_rate` (rounded).
pub(crate) fn ms_to_samples(ms: f32, sample_rate: f64) -> u32 {
    (f64::from(ms) * sample_rate / 1000.0)
        .round()
        .clamp(0.0, u32::MAX as f64) as u32
}
