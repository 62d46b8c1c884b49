//! `sampler`: plays a loaded sample when its gate opens — pitched by its `freq` against its
//! `root` note (a voice sets `freq` to its note, as it does an oscillator's) and by `pitch` in
//! semitones, from a `start` offset, forwards or in `reverse`, once or looping between
//! `loop_start` and `loop_end` with a crossfade of `xfade` ms, or one of `slices` equal slices
//! or (`cut` 1) of the slices its onsets make (the note chooses the slice: `root` plays
//! `slice`, each semitone up the next).
//!
//! The sample's memory is not the module's: the patch hands it the sample its `sample`
//! parameter names ([`Module::attach_samples`]). At rate 1 the frames come out as they are;
//! between frames a four-point cubic interpolates. A stereo sample plays as its mid,
//! (L + R)·√½.

use crate::module::{Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::Ramp;
use crate::sample::{Sample, SampleBank};
use crate::DspError;

/// Parameter index of `freq` (the note played, in Hz: a voice sets it).
pub const FREQ: ParamId = 0;
/// Parameter index of `gain`.
pub const GAIN: ParamId = 1;
/// Parameter index of `pitch` (semitones).
pub const PITCH: ParamId = 2;
/// Parameter index of `sample` (a bank slot; -1: none).
pub const SAMPLE: ParamId = 3;
/// Parameter index of `start` (0..1 of the region).
pub const START: ParamId = 4;
/// Parameter index of `loop` (0 or 1).
pub const LOOP: ParamId = 5;
/// Parameter index of `loop_start` (0..1 of the region).
pub const LOOP_START: ParamId = 6;
/// Parameter index of `loop_end` (0..1 of the region).
pub const LOOP_END: ParamId = 7;
/// Parameter index of `xfade` (ms).
pub const XFADE: ParamId = 8;
/// Parameter index of `reverse` (0 or 1).
pub const REVERSE: ParamId = 9;
/// Parameter index of `slices` (0: the whole sample).
pub const SLICES: ParamId = 10;
/// Parameter index of `slice` (the slice `root` plays).
pub const SLICE: ParamId = 11;
/// Parameter index of `root` (the MIDI note at which the sample plays as recorded).
pub const ROOT: ParamId = 12;
/// Parameter index of `cut` (0: `slices` equal slices; 1: a slice at each onset).
pub const CUT: ParamId = 13;

const N: usize = 14;

/// Middle C, in Hz: the default `freq` (at the default `root`, the sample as recorded).
const C4_HZ: f32 = 261.625_58;

/// Parameters of `sampler`.
pub static PARAMS: [ParamSpec; N] = [
    ParamSpec {
        name: "freq",
        unit: Unit::Hz,
        min: 1.0,
        max: Max::Fixed(20_000.0),
        default: C4_HZ,
        smoothing_ms: 0.0,
        modulation: ModScale::Cents(1200.0),
    },
    ParamSpec {
        name: "gain",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(4.0),
        default: 1.0,
        smoothing_ms: 5.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "pitch",
        unit: Unit::Ratio,
        min: -48.0,
        max: Max::Fixed(48.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(12.0),
    },
    ParamSpec {
        name: "sample",
        unit: Unit::Choice,
        min: -1.0,
        max: Max::Fixed(crate::sample::MAX_SAMPLES as f32 - 1.0),
        default: -1.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec::amount("start"),
    ParamSpec::switch("loop"),
    ParamSpec::amount("loop_start"),
    ParamSpec {
        default: 1.0,
        ..ParamSpec::amount("loop_end")
    },
    ParamSpec {
        name: "xfade",
        unit: Unit::Ms,
        min: 0.0,
        max: Max::Fixed(1000.0),
        default: 10.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec::switch("reverse"),
    ParamSpec {
        name: "slices",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(64.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "slice",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(63.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "root",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(127.0),
        default: 60.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec::switch("cut"),
];

/// Complete state of a [`Sampler`]: plain data (the sample itself is the bank's).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SamplerState {
    /// Base parameter values, in table order.
    pub params: [f32; N],
    /// Modulation amounts, in table order.
    pub modulation: [f32; N],
    /// Playing (its gate opened, and it has not run off its region).
    pub playing: bool,
    /// Position in frames.
    pub pos: f64,
    /// Gain smoother.
    pub gain: Ramp,
}

/// Plays a sample of the patch's bank.
#[derive(Debug, Clone)]
pub struct Sampler {
    sample_rate: f64,
    s: SamplerState,
    /// The sample its `sample` parameter names, as the patch last attached it.
    sample: Option<Sample>,
}

/// Where a sampler plays, in frames, worked out from its parameters and its sample's length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Region {
    /// First frame.
    from: f64,
    /// One past the last frame.
    to: f64,
    /// Frames per output sample (negative: reversed).
    rate: f64,
    /// The loop, if it loops: first frame, one past its last, crossfade length.
    looping: Option<(f64, f64, f64)>,
}

impl Sampler {
    /// A sampler with no sample yet.
    pub fn new(sample_rate: f64) -> Self {
        let params = PARAMS.each_ref().map(|p| p.default);
        Sampler {
            sample_rate,
            s: SamplerState {
                params,
                modulation: [0.0; N],
                playing: false,
                pos: 0.0,
                gain: Ramp::at(params[GAIN as usize]),
            },
            sample: None,
        }
    }

    fn value(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    /// The MIDI note its `freq` is; a note's own frequency counts as its whole number (so the
    /// root plays the frames as they are, an octave up every other one, exactly).
    fn note(&self) -> f64 {
        let note = 69.0 + 12.0 * (f64::from(self.value(FREQ)) / 440.0).log2();
        if (note - note.round()).abs() < 1e-3 {
            note.round()
        } else {
            note
        }
    }

    /// Where and how it plays now, in `sample`.
    fn region(&self, sample: &Sample) -> Region {
        let frames = sample.desc().frames as f64;
        let at_onsets = self.s.params[CUT as usize] >= 0.5 && sample.onsets() > 0;
        let slices = if at_onsets {
            sample.onsets() as i32
        } else {
            self.s.params[SLICES as usize] as i32
        };
        let root = self.s.params[ROOT as usize];
        let semis = f64::from(self.value(PITCH));
        let note = self.note();
        let (from, to, rate) = if slices > 0 {
            // The note picks the slice; its pitch is only `pitch`.
            let k = (self.s.params[SLICE as usize] as i32 + note.round() as i32 - root as i32)
                .rem_euclid(slices);
            let (from, to) = if at_onsets {
                let k = k as usize;
                (
                    sample.onset(k).unwrap_or(0) as f64,
                    sample.onset(k + 1).map_or(frames, |f| f as f64),
                )
            } else {
                let w = frames / f64::from(slices);
                ((w * f64::from(k)).floor(), (w * f64::from(k + 1)).floor())
            };
            (from, to, (semis / 12.0).exp2())
        } else {
            // Semitones over the root.
            (
                0.0,
                frames,
                ((note - f64::from(root) + semis) / 12.0).exp2(),
            )
        };
        let len = to - from;
        let reverse = self.s.params[REVERSE as usize] >= 0.5;
        let looping = (self.s.params[LOOP as usize] >= 0.5).then(|| {
            let a = from + (f64::from(self.s.params[LOOP_START as usize]) * len).floor();
            let b = from + (f64::from(self.s.params[LOOP_END as usize]) * len).floor();
            let xf = f64::from(self.s.params[XFADE as usize]) * self.sample_rate / 1000.0;
            // The crossfade reads before the loop's start: no further than the region allows.
            let xf = xf.min((b - a) / 2.0).min(a - from).max(0.0).floor();
            (a, b, xf)
        });
        Region {
            from,
            to,
            rate: if reverse { -rate } else { rate },
            looping: looping.filter(|(a, b, _)| b - a >= 2.0),
        }
    }

    /// Channel-mixed frame at fractional position `pos` (see [`Sample::read`]).
    #[inline]
    fn frame(sample: &Sample, pos: f64) -> f32 {
        if sample.desc().channels == 2 {
            (sample.read(pos, 0) + sample.read(pos, 1)) * std::f32::consts::FRAC_1_SQRT_2
        } else {
            sample.read(pos, 0)
        }
    }
}

impl Module for Sampler {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Sampler
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "sampler", param, value, self.sample_rate)?;
        self.s.params[param as usize] = out.value;
        if param == SAMPLE {
            // Another sample: what played of the last one stops (the patch attaches it).
            self.s.playing = false;
        }
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            GAIN => Some(self.s.gain.value()),
            p if usize::from(p) < N => Some(self.value(p)),
            _ => None,
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn gate(&mut self, on: bool) -> Result<(), DspError> {
        if on {
            if let Some(sample) = &self.sample {
                let r = self.region(sample);
                let offset = (f64::from(self.s.params[START as usize]) * (r.to - r.from)).floor();
                self.s.pos = if r.rate < 0.0 {
                    r.to - 1.0 - offset
                } else {
                    r.from + offset
                };
                self.s.playing = r.to > r.from;
            }
        }
        Ok(())
    }

    fn is_idle(&self) -> bool {
        !self.s.playing
    }

    fn attach_samples(&mut self, bank: &SampleBank) {
        let slot = self.s.params[SAMPLE as usize];
        let want = (slot >= 0.0).then(|| bank.get(slot as u16)).flatten();
        let same = match (&self.sample, want) {
            (Some(a), Some(b)) => a.same_memory(b),
            (None, None) => true,
            _ => false,
        };
        // Where it plays is kept: a restored sampler gets its sample back this way and plays
        // on from the same frame (a new choice of sample stops it in `set_param`).
        if !same {
            self.sample = want.cloned();
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        let target = self.value(GAIN);
        PARAMS[GAIN as usize].aim(&mut self.s.gain, target, self.sample_rate);
        let Some(sample) = self.sample.as_ref().filter(|_| self.s.playing) else {
            block.fill(0.0);
            self.s.gain = Ramp::at(target);
            return;
        };
        let r = self.region(sample);
        for out in block.iter_mut() {
            if !self.s.playing {
                *out = 0.0;
                continue;
            }
            let pos = self.s.pos;
            let mut y = Self::frame(sample, pos);
            if let Some((a, b, _)) = r.looping {
                // Between the loop's last frame and its end, the next frame is its first.
                if pos > b - 1.0 {
                    let t = (pos - (b - 1.0)) as f32;
                    y = Self::frame(sample, b - 1.0) * (1.0 - t) + Self::frame(sample, a) * t;
                }
            }
            if let Some((a, b, xf)) = r.looping {
                // Forwards, the loop's last `xf` frames fade into those before its start.
                if r.rate > 0.0 && xf > 0.0 && pos >= b - xf && pos < b {
                    let t = ((pos - (b - xf)) / xf) as f32;
                    y = y * (1.0 - t) + Self::frame(sample, pos - (b - a)) * t;
                }
            }
            *out = y * self.s.gain.tick();
            let mut next = pos + r.rate;
            match r.looping {
                Some((a, b, _)) if r.rate > 0.0 && next >= b => next -= b - a,
                Some((a, b, _)) if r.rate < 0.0 && next < a => next += b - a,
                _ => {}
            }
            // Once is over past the region's last frame; a loop goes on (it wrapped above,
            // and may sit between its last frame and its end).
            if r.looping.is_none() && (next < r.from || next > r.to - 1.0) {
                self.s.playing = false;
            }
            self.s.pos = next;
        }
    }

    super::plain_state!(Sampler, "a sampler");

    fn reset(&mut self) {
        self.s.playing = false;
        self.s.pos = 0.0;
        self.s.gain = Ramp::at(self.value(GAIN));
    }
}
