//! `osc`: a band-limited oscillator (sine, triangle, square, saw, pulse with a width) with gain
//! and glide, a square sub-oscillator an octave down (`sub`), and unison: up to 7 copies of the
//! wave detuned around the note (`unison`, `detune` in cents), and white noise mixed in
//! (`noise`). The jumps of the saw, square,
//! pulse and sub are minBLEPs ([`crate::minblep`]): every alias component below 16 kHz at least
//! 80 dB under the fundamental up to a 5 kHz note at 44.1 and 48 kHz.
//!
//! Phase and frequency modulation (`pm` in radians, `fm` a ratio of the note's frequency) take
//! audio-rate routes from another module ([`Module::process_audio`]); hard sync (`sync`, the
//! heard wave's pitch above the note in semitones) restarts each copy of the wave at each
//! period of its note, the restart a band-limited jump too.

use super::waves::{self, PULSE, SAW, SINE, SQUARE, TRIANGLE};
use crate::minblep::{self, LEN};
use crate::module::{AudioMod, Module, ModuleKind, ModuleState};
use crate::param::{Max, ModScale, ParamId, ParamSpec, SetOutcome, Unit};
use crate::ramp::{ms_to_samples, Ramp};
use crate::DspError;

/// Parameter index of `freq`.
pub const FREQ: ParamId = 0;
/// Parameter index of `gain`.
pub const GAIN: ParamId = 1;
/// Parameter index of `shape`.
pub const SHAPE: ParamId = 2;
/// Parameter index of `glide_time`.
pub const GLIDE_TIME: ParamId = 3;
/// Parameter index of `pw`, the pulse's width.
pub const PW: ParamId = 4;
/// Parameter index of `sub`, the sub-oscillator's level.
pub const SUB: ParamId = 5;
/// Parameter index of `unison`, how many copies of the wave sound.
pub const UNISON: ParamId = 6;
/// Parameter index of `detune`, the unison's spread in cents.
pub const DETUNE: ParamId = 7;
/// Parameter index of `noise`, white noise mixed in (a breath).
pub const NOISE: ParamId = 8;
/// Parameter index of `pm`: phase modulation, in radians (audio-rate routes add to it).
pub const PM: ParamId = 9;
/// Parameter index of `fm`: linear frequency modulation, as a ratio of the note's frequency
/// (audio-rate routes add to it).
pub const FM: ParamId = 10;
/// Parameter index of `sync`: hard sync, the heard wave's pitch above the note in semitones (0:
/// off).
pub const SYNC: ParamId = 11;
/// Parameter index of `spread`: the unison copies placed across the stereo field (0..1).
pub const SPREAD: ParamId = 12;
/// How many parameters an `osc` has.
const N: usize = 13;
/// The most copies of the wave unison plays.
pub const MAX_UNISON: usize = 7;

/// Parameters of `osc`.
pub static PARAMS: [ParamSpec; N] = [
    ParamSpec {
        name: "freq",
        unit: Unit::Hz,
        min: 0.1,
        max: Max::NyquistMinus(10.0),
        default: 440.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Cents(1200.0),
    },
    ParamSpec {
        name: "gain",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.5,
        smoothing_ms: 5.0,
        modulation: ModScale::Linear(1.0),
    },
    ParamSpec {
        name: "shape",
        unit: Unit::Choice,
        min: 0.0,
        max: Max::Fixed(4.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "glide_time",
        unit: Unit::Ms,
        min: 0.0,
        max: Max::Fixed(10_000.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "pw",
        unit: Unit::Ratio,
        min: 0.01,
        max: Max::Fixed(0.99),
        default: 0.5,
        smoothing_ms: 5.0,
        modulation: ModScale::Linear(0.49),
    },
    level("sub"),
    ParamSpec {
        name: "unison",
        unit: Unit::Choice,
        min: 1.0,
        max: Max::Fixed(MAX_UNISON as f32),
        default: 1.0,
        smoothing_ms: 0.0,
        modulation: ModScale::None,
    },
    ParamSpec {
        name: "detune",
        unit: Unit::Cents,
        min: 0.0,
        max: Max::Fixed(100.0),
        default: 15.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(100.0),
    },
    level("noise"),
    ParamSpec {
        name: "pm",
        unit: Unit::Ratio,
        min: -std::f32::consts::PI,
        max: Max::Fixed(std::f32::consts::PI),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Audio(1.0),
    },
    ParamSpec {
        name: "fm",
        unit: Unit::Ratio,
        min: -1.0,
        max: Max::Fixed(1.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Audio(1.0),
    },
    ParamSpec {
        name: "sync",
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(48.0),
        default: 0.0,
        smoothing_ms: 0.0,
        modulation: ModScale::Linear(12.0),
    },
    ParamSpec::amount("spread"),
];

/// A level 0..1 mixed into the wave (off by default, smoothed 5 ms, modulatable).
const fn level(name: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        unit: Unit::Ratio,
        min: 0.0,
        max: Max::Fixed(1.0),
        default: 0.0,
        smoothing_ms: 5.0,
        modulation: ModScale::Linear(1.0),
    }
}

/// Complete state of an [`Osc`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OscState {
    /// Base parameter values, in table order.
    pub params: [f32; N],
    /// Modulation amounts, in table order.
    pub modulation: [f32; N],
    /// Phase as a 64-bit fixed-point fraction of a turn (wraps naturally).
    pub phase: u64,
    /// Glide start, in log2(Hz).
    pub glide_from: f64,
    /// Glide target, in log2(Hz).
    pub glide_to: f64,
    /// Samples of the glide done.
    pub glide_pos: u32,
    /// Samples of the glide in all.
    pub glide_len: u32,
    /// Gain smoother.
    pub gain: Ramp,
    /// Pulse width smoother.
    pub pw: Ramp,
    /// The band-limited jumps' corrections still to add, one per coming sample (a ring of
    /// [`LEN`], in two halves).
    pub blep: [[f32; LEN / 2]; 2],
    /// Where the next sample's correction is in `blep`.
    pub blep_pos: u8,
    /// Samples until `blep` is all zero again.
    pub blep_pending: u8,
    /// Sub-oscillator level smoother.
    pub sub: Ramp,
    /// The sub-oscillator is high (it flips each time the wave's phase wraps).
    pub sub_high: bool,
    /// The phases of unison copies 2..=7 (the first copy is `phase`).
    pub unison: [u64; MAX_UNISON - 1],
    /// Noise level smoother.
    pub noise: Ramp,
    /// The noise generator's state (the noise module's xorshift64*; the same sequence in every
    /// worker).
    pub noise_seed: u64,
    /// The phase modulation of the last sample, in radians (it moves the phase from the next
    /// sample on: `pm` acts one sample late, so that each step of it is known in full).
    pub pm_prev: f32,
    /// With `sync`: the phases of the note (the master) each copy restarts on, copy by copy.
    pub masters: [u64; MAX_UNISON],
    /// The right side's band-limited jumps (with `spread`, each side hears the copies at its
    /// own levels; `blep` is then the left side's).
    pub blep_right: [[f32; LEN / 2]; 2],
}

/// True when `m` is an oscillator whose parameters make a plain sine: one copy, no sub, noise,
/// sync or modulation at audio rate — what [`Module::begin_lane`] asks of them (its state may
/// still keep it from a lane for a while: a glide, a level moving). For the voice pool, which
/// decides how to mix its voices by their settings alone.
pub(crate) fn set_as_a_plain_sine(m: &dyn Module) -> bool {
    let p = |id| m.param(id).unwrap_or(0.0);
    m.kind() == ModuleKind::Osc
        && p(SHAPE) as u8 == SINE
        && p(UNISON) <= 1.0
        && p(SUB) <= 0.0
        && p(NOISE) <= 0.0
        && p(PM) == 0.0
        && p(FM) == 0.0
        && p(SYNC) <= 0.0
}

impl OscState {
    /// Takes back where blocks rendered in a lane ended: the sine's phase. Real-time thread.
    pub(crate) fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        if let crate::lanes::LaneEnd::Phase(phase) = end {
            self.phase = phase;
        }
    }

    /// Frequency before modulation (gliding), in Hz. Real-time safe.
    #[inline]
    fn glided_freq(&self) -> f64 {
        if self.glide_pos >= self.glide_len {
            f64::from(self.params[FREQ as usize])
        } else {
            let k = f64::from(self.glide_pos) / f64::from(self.glide_len);
            (self.glide_from + (self.glide_to - self.glide_from) * k).exp2()
        }
    }
}

/// A band-limited jumps' ring kept in two halves ([`OscState::blep`]), whole. Real-time safe.
#[inline]
fn whole(halves: &[[f32; LEN / 2]; 2]) -> [f32; LEN] {
    let mut ring = [0.0f32; LEN];
    ring[..LEN / 2].copy_from_slice(&halves[0]);
    ring[LEN / 2..].copy_from_slice(&halves[1]);
    ring
}

/// Keeps `ring` in its two halves. Real-time safe.
#[inline]
fn keep(ring: &[f32; LEN], halves: &mut [[f32; LEN / 2]; 2]) {
    halves[0].copy_from_slice(&ring[..LEN / 2]);
    halves[1].copy_from_slice(&ring[LEN / 2..]);
}

/// Band-limited oscillator. Phase is a 64-bit fixed-point accumulator (a turn is 2^64), so the
/// pitch is exact to about 1e-16 and does not drift over hours.
#[derive(Debug, Clone)]
pub struct Osc {
    sample_rate: f64,
    s: OscState,
    /// The phase increment of a steady pitch, and the pitch (its bits) it was worked out
    /// from: worked out again only when the pitch moves (a division and a conversion).
    inc: (u64, u64),
}

impl Osc {
    /// A fresh oscillator at the default parameters.
    pub fn new(sample_rate: f64) -> Self {
        let params = PARAMS.each_ref().map(|p| p.default);
        let f = f64::from(params[0]).log2();
        Osc {
            sample_rate,
            s: OscState {
                params,
                modulation: [0.0; N],
                phase: 0,
                glide_from: f,
                glide_to: f,
                glide_pos: 0,
                glide_len: 0,
                gain: Ramp::at(params[GAIN as usize]),
                pw: Ramp::at(params[PW as usize]),
                blep: [[0.0; LEN / 2]; 2],
                blep_pos: 0,
                blep_pending: 0,
                sub: Ramp::at(params[SUB as usize]),
                sub_high: true,
                unison: UNISON_PHASES,
                noise: Ramp::at(params[NOISE as usize]),
                noise_seed: NOISE_SEED,
                pm_prev: 0.0,
                masters: [0; MAX_UNISON],
                blep_right: [[0.0; LEN / 2]; 2],
            },
            // u64::MAX is a NaN's bits, whose increment is 0.
            inc: (u64::MAX, 0),
        }
    }

    /// The phase increment of a steady pitch at `hz`: `turns_to_fixed(hz / sample_rate)`,
    /// kept from the block before while the pitch stays put. Real-time thread.
    fn steady_increment(&mut self, hz: f64) -> u64 {
        if hz.to_bits() != self.inc.0 {
            self.inc = (hz.to_bits(), turns_to_fixed(hz / self.sample_rate));
        }
        self.inc.1
    }

    /// Frequency before modulation (gliding), in Hz.
    fn glided_freq(&self) -> f64 {
        self.s.glided_freq()
    }

    fn mod_factor(&self) -> f64 {
        let m = self.s.modulation[FREQ as usize];
        if m == 0.0 {
            1.0
        } else {
            (f64::from(m)).exp2() // one unit = 1200 cents = one octave
        }
    }

    /// A parameter's base value with its modulation, clamped to range.
    #[inline]
    fn target(&self, p: ParamId) -> f32 {
        let i = p as usize;
        PARAMS[i].modulate(self.s.params[i], self.s.modulation[i], self.sample_rate)
    }

    fn nyquist_limit(&self) -> f64 {
        self.sample_rate * 0.5 - 10.0
    }
}

/// The noise generator's first state (never 0).
const NOISE_SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// Where the unison copies 2..=7 start (turns apart by the golden ratio: never in phase, the
/// same in every worker).
const UNISON_PHASES: [u64; MAX_UNISON - 1] = {
    let mut p = [0u64; MAX_UNISON - 1];
    let mut i = 0;
    while i < MAX_UNISON - 1 {
        // 0.6180339887… of a turn, times i + 1.
        p[i] = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
        i += 1;
    }
    p
};

/// The detune of unison copy `k` (0: the note itself) of `n`, as a fraction of `detune`: the
/// others in pairs above and below, the outermost at ±1 (`n` even: one more above).
fn unison_offset(k: usize, n: usize) -> f64 {
    if k == 0 || n < 2 {
        return 0.0;
    }
    let pairs = (n / 2) as f64; // the extra copies, in pairs (one left alone when n is even)
    let rank = ((k - 1) / 2 + 1) as f64;
    let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
    sign * (rank / pairs).min(1.0)
}

/// One block's audio-rate modulation of an oscillator: the `pm` and `fm` of each sample.
#[derive(Debug, Clone, Copy, Default)]
struct Drive<'a> {
    pm: Option<&'a [f32]>,
    fm: Option<&'a [f32]>,
}

impl Drive<'_> {
    /// Sample `i`'s value of `signal` added to `base`.
    #[inline]
    fn at(signal: Option<&[f32]>, base: f32, i: usize) -> f32 {
        base + signal.and_then(|s| s.get(i)).copied().unwrap_or(0.0)
    }
}

/// A phase step in radians as a signed 64-bit fixed-point fraction of a turn.
#[inline]
fn radians_to_fixed(r: f32) -> i64 {
    (f64::from(r) / std::f64::consts::TAU * 18_446_744_073_709_551_616.0) as i64
}

impl Osc {
    /// The oscillator with more than one plain wave: unison copies (each at its own detuned
    /// phase), a sub (a square flipping at the wave's wraps), noise, phase and frequency
    /// modulation (`drive`, sample by sample), hard sync (each copy's wave restarting where
    /// its note's phase wraps). Every jump is a minBLEP in the one ring (they add up), while the
    /// phase moves forward (through-zero FM or PM steps larger than the note's own leave the
    /// naive wave). Called on the audio thread: no allocation.
    fn process_rich(
        &mut self,
        block: &mut [f32],
        mut right: Option<&mut [f32]>,
        shape: u8,
        drive: Drive<'_>,
    ) {
        let sr = self.sample_rate;
        let n = (self.s.params[UNISON as usize] as usize).clamp(1, MAX_UNISON);
        let detune = f64::from(PARAMS[DETUNE as usize].modulate(
            self.s.params[DETUNE as usize],
            self.s.modulation[DETUNE as usize],
            sr,
        ));
        let factor = self.mod_factor();
        let limit = self.nyquist_limit();
        let (pm_base, fm_base) = (self.s.params[PM as usize], self.s.params[FM as usize]);
        let sync = self.target(SYNC);
        // The heard wave's pitch over the note's (the master's), with hard sync.
        let over = if sync > 0.0 {
            Some((f64::from(sync) / 12.0).exp2())
        } else {
            None
        };
        let fm_on = drive.fm.is_some() || fm_base != 0.0;
        // Each copy's pitch factor, and the copies' level: their sum stays near one wave's.
        let mut ratio = [1.0f64; MAX_UNISON];
        for (k, r) in ratio.iter_mut().enumerate().take(n) {
            *r = (unison_offset(k, n) * detune / 1200.0).exp2();
        }
        let norm = 1.0 / (n as f32).sqrt();
        // Two sides: each copy placed by `spread` (equal power, the outermost at the edges),
        // what is centred (the sub, the noise) at -3 dB a side, as a pan places it.
        let wide = right.is_some();
        let mut gains = [(1.0f32, 1.0f32); MAX_UNISON];
        let centre = if wide {
            let spread = self.s.params[SPREAD as usize];
            for (k, g) in gains.iter_mut().enumerate().take(n) {
                *g = super::pan::gains(spread * unison_offset(k, n) as f32);
            }
            std::f32::consts::FRAC_1_SQRT_2
        } else {
            1.0
        };
        // Each copy's step (the heard wave's) and its note's (the master's, with sync).
        let incs = |base: f64, inc: &mut [u64; MAX_UNISON], master: &mut [u64; MAX_UNISON]| {
            for k in 0..n {
                let f = (base * ratio[k]).max(0.0);
                master[k] = turns_to_fixed(f.min(limit) / sr);
                inc[k] = match over {
                    Some(o) => turns_to_fixed((f * o).min(limit) / sr),
                    None => master[k],
                };
            }
        };
        let (mut inc, mut master) = ([0u64; MAX_UNISON], [0u64; MAX_UNISON]);
        let mut base = self.s.glided_freq() * factor;
        incs(base, &mut inc, &mut master);
        let s = &mut self.s;
        let mut phases = [0u64; MAX_UNISON];
        phases[0] = s.phase;
        phases[1..].copy_from_slice(&s.unison);
        let mut rings = [
            whole(&s.blep),
            if wide {
                whole(&s.blep_right)
            } else {
                [0.0; LEN]
            },
        ];
        let mut pos = usize::from(s.blep_pos);
        let mut w_prev = width(shape, s.pw.value());
        for (i, out) in block.iter_mut().enumerate() {
            if s.glide_pos < s.glide_len {
                base = s.glided_freq() * factor;
                if !fm_on {
                    incs(base, &mut inc, &mut master);
                }
                s.glide_pos += 1;
            }
            if fm_on {
                let fm = Drive::at(drive.fm, fm_base, i);
                incs(base * (1.0 + f64::from(fm)), &mut inc, &mut master);
            }
            let g = s.gain.tick();
            let w = width(shape, s.pw.tick());
            let sub = s.sub.tick();
            let noise = s.noise.tick();
            let (mut naive, mut naive_r) = (0.0f32, 0.0f32);
            for k in 0..n {
                let phase = phases[k];
                let flip =
                    |ring: &mut [f32; LEN], scale| pwm_flip(ring, pos, phase, w_prev, w, scale);
                if sides(&mut rings, wide, scaled(gains[k], norm), flip) {
                    s.blep_pending = LEN as u8;
                }
                let x = naive_wave(shape, phase, w, inc[k]);
                naive += x * gains[k].0;
                naive_r += x * gains[k].1;
            }
            w_prev = w;
            let naive_sub = if s.sub_high { sub } else { -sub };
            let correction = std::mem::take(&mut rings[0][pos]);
            let correction_r = std::mem::take(&mut rings[1][pos]);
            pos = (pos + 1) % LEN;
            s.blep_pending = s.blep_pending.saturating_sub(1);
            let breath = if noise > 0.0 {
                noise * super::noise::white(&mut s.noise_seed)
            } else {
                0.0
            };
            let (sub_c, breath_c) = (naive_sub * centre, breath * centre);
            *out = g * (naive * norm + sub_c + correction + breath_c);
            if let Some(right) = right.as_deref_mut() {
                right[i] = g * (naive_r * norm + sub_c + correction_r + breath_c);
            }
            // Phase modulation moves every copy's phase by its change since the last sample.
            let bend = if drive.pm.is_some() || pm_base != 0.0 || s.pm_prev != 0.0 {
                let pm = Drive::at(drive.pm, pm_base, i);
                let step = radians_to_fixed(pm - s.pm_prev);
                s.pm_prev = pm;
                step
            } else {
                0
            };
            for k in 0..n {
                let step = inc[k].wrapping_add(bend as u64);
                let forward = (step as i64) > 0;
                let from = phases[k];
                let mut next = from.wrapping_add(step);
                let mut wrap = forward && next < from;
                let mut since = next; // how far past the wrap, in phase
                let mut wrap_inc = step;
                let jumps = |rings: &mut [[f32; LEN]; 2], a: u64, b: u64, late: f32| {
                    forward
                        && sides(rings, wide, scaled(gains[k], norm), |ring, scale| {
                            add_jumps(ring, pos, shape, w, a, b, step, scale, late)
                        })
                };
                if over.is_some() {
                    // The note's phase; where it wraps, the heard wave starts again.
                    let m_from = s.masters[k];
                    let m_next = m_from.wrapping_add(master[k]);
                    s.masters[k] = m_next;
                    wrap = m_next < m_from && master[k] > 0;
                    since = m_next;
                    wrap_inc = master[k];
                    if wrap {
                        let late = (m_next as f64 / master[k] as f64) as f32;
                        let reached =
                            from.wrapping_add((step as f64 * (1.0 - f64::from(late))) as u64);
                        jumps(&mut rings, from, reached, late);
                        let height =
                            naive_wave(shape, 0, w, step) - naive_wave(shape, reached, w, step);
                        sides(&mut rings, wide, scaled(gains[k], norm), |ring, scale| {
                            minblep::add_step(ring, pos, height * scale, late);
                            true
                        });
                        next = (step as f64 * f64::from(late)) as u64;
                        jumps(&mut rings, 0, next, 0.0);
                        s.blep_pending = LEN as u8;
                    } else if jumps(&mut rings, from, next, 0.0) {
                        s.blep_pending = LEN as u8;
                    }
                } else if jumps(&mut rings, from, next, 0.0) {
                    s.blep_pending = LEN as u8;
                }
                if k == 0 && wrap {
                    // The sub flips where the note wraps, band-limited like the wave's jumps.
                    s.sub_high = !s.sub_high;
                    if sub > 0.0 {
                        let frac = (since as f64 / wrap_inc as f64) as f32;
                        let height = if s.sub_high { 2.0 * sub } else { -2.0 * sub };
                        sides(&mut rings, wide, (centre, centre), |ring, scale| {
                            minblep::add_step(ring, pos, height * scale, frac);
                            true
                        });
                        s.blep_pending = LEN as u8;
                    }
                }
                phases[k] = next;
            }
        }
        s.phase = phases[0];
        s.unison.copy_from_slice(&phases[1..]);
        s.blep_pos = pos as u8;
        keep(&rings[0], &mut s.blep);
        if wide {
            keep(&rings[1], &mut s.blep_right);
        }
    }
}

/// A copy's side gains times the copies' level. Called on the audio thread.
#[inline]
fn scaled((left, right): (f32, f32), norm: f32) -> (f32, f32) {
    (norm * left, norm * right)
}

/// Adds jumps to each side's ring at its gain (`add(ring, gain)`; the right side only when
/// `wide`). True if the left side had one. Called on the audio thread.
#[inline]
fn sides(
    rings: &mut [[f32; LEN]; 2],
    wide: bool,
    (left, right): (f32, f32),
    mut add: impl FnMut(&mut [f32; LEN], f32) -> bool,
) -> bool {
    let hit = add(&mut rings[0], left);
    if wide {
        add(&mut rings[1], right);
    }
    hit
}

/// A sine at a steady pitch and gain from `phase` on (`gain · sin`), each sample's phase
/// moved on by `inc`; returns the phase after the block. Compiled for each instruction set and
/// picked at the first call (the same operations on each: the same sound to the bit).
/// Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
fn steady_sine(block: &mut [f32], mut phase: u64, inc: u64, gain: f32) -> u64 {
    // Eight samples a step, their phases as 32-bit halves (eight in a 256-bit register):
    // `gain · sin` is `(-gain) · (-sin)` to the bit, and the negated sine is taken from the
    // phase's top half turned half a turn (`fastmath::neg_sin_half_turned`, the float fold's
    // result to the bit on integers).
    const TOP: u32 = 0x8000_0000;
    let neg_gain = -gain;
    let mut chunks = block.chunks_exact_mut(8);
    if chunks.len() > 0 {
        let start: [u64; 8] =
            std::array::from_fn(|k| phase.wrapping_add(inc.wrapping_mul(k as u64)));
        let step = inc.wrapping_mul(8);
        // The low halves kept with their top bit flipped: the carry out of a low half is then
        // one signed comparison.
        let mut lo = start.map(|p| p as u32 ^ TOP);
        let mut hi = start.map(|p| (p >> 32) as u32 ^ TOP);
        let (step_lo, step_hi) = (step as u32, (step >> 32) as u32);
        let step_lo_flipped = step_lo ^ TOP;
        for chunk in &mut chunks {
            for k in 0..8 {
                chunk[k] = neg_gain * crate::fastmath::neg_sin_half_turned(hi[k]);
                lo[k] = lo[k].wrapping_add(step_lo);
                let carry = (lo[k] as i32) < (step_lo_flipped as i32);
                hi[k] = hi[k].wrapping_add(step_hi).wrapping_add(u32::from(carry));
            }
        }
        phase = u64::from(hi[0] ^ TOP) << 32 | u64::from(lo[0] ^ TOP);
    }
    for out in chunks.into_remainder() {
        *out = gain * crate::fastmath::sin_turns(fixed_to_turns(phase));
        phase = phase.wrapping_add(inc);
    }
    phase
}

/// A phase increment in turns (0 ≤ t < 1) as 64-bit fixed point.
#[inline]
pub(crate) fn turns_to_fixed(t: f64) -> u64 {
    (t * 18_446_744_073_709_551_616.0) as u64
}

/// The top 24 bits of a fixed-point phase as turns in `[0, 1)`, exact in `f32`.
#[inline]
pub(crate) fn fixed_to_turns(phase: u64) -> f32 {
    // Through i32 (the value fits in 24 bits), which converts to f32 in one SIMD instruction.
    (phase >> 40) as i32 as f32 * (1.0 / 16_777_216.0)
}

/// Where the pulse (or square) of `shape` falls from high to low, as a fixed-point phase; past
/// every phase for the shapes without that jump.
#[inline]
fn width(shape: u8, pw: f32) -> u64 {
    match shape {
        SQUARE => 1 << 63,
        PULSE => turns_to_fixed(f64::from(pw)),
        _ => u64::MAX,
    }
}

/// The wave of `shape` at `phase` before band-limiting (the triangle's corners smoothed over
/// `inc`; a square or pulse high below `width`). Called on the audio thread.
#[inline]
fn naive_wave(shape: u8, phase: u64, width: u64, inc: u64) -> f32 {
    let t = fixed_to_turns(phase);
    match shape {
        SINE => crate::fastmath::sin_turns(t),
        TRIANGLE => waves::triangle(t, fixed_to_turns(inc)),
        SAW => 2.0 * t - 1.0,
        _ if phase < width => 1.0,
        _ => -1.0,
    }
}

/// A width that moves over the phase (PWM) flips the pulse: a jump too, added to `ring` at
/// `scale`. True if there was one. Called on the audio thread.
#[inline]
fn pwm_flip(
    ring: &mut [f32; LEN],
    pos: usize,
    phase: u64,
    was: u64,
    width: u64,
    scale: f32,
) -> bool {
    if (phase < was) == (phase < width) {
        return false;
    }
    let height = if phase < width { 2.0 } else { -2.0 };
    minblep::add_step(ring, pos, height * scale, 0.0);
    true
}

/// The jumps of a naive saw, square or pulse while the phase moves from `from` to `to` (`inc`
/// a sample; it may wrap; `to` is reached `late` samples before the next sample), added to
/// `ring` as band-limited steps for the sample at `pos` on. True if there was one. Called on
/// the audio thread.
#[inline]
#[allow(clippy::too_many_arguments)]
fn add_jumps(
    ring: &mut [f32; LEN],
    pos: usize,
    shape: u8,
    width: u64,
    from: u64,
    to: u64,
    inc: u64,
    scale: f32,
    late: f32,
) -> bool {
    // How long before the next sample a jump happened, in samples (0 ≤ frac < 1).
    let frac = |since: u64| (since as f64 / inc as f64) as f32 + late;
    let wrapped = to < from;
    match shape {
        SAW if wrapped => {
            minblep::add_step(ring, pos, -2.0 * scale, frac(to));
            true
        }
        SQUARE | PULSE if wrapped => {
            if from < width {
                minblep::add_step(ring, pos, -2.0 * scale, frac(to.wrapping_sub(width)));
            }
            minblep::add_step(ring, pos, 2.0 * scale, frac(to));
            if to >= width {
                minblep::add_step(ring, pos, -2.0 * scale, frac(to - width));
            }
            true
        }
        SQUARE | PULSE if from < width && to >= width => {
            minblep::add_step(ring, pos, -2.0 * scale, frac(to - width));
            true
        }
        _ => false,
    }
}

impl Module for Osc {
    fn kind(&self) -> ModuleKind {
        ModuleKind::Osc
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        let out = crate::param::accept(&PARAMS, "osc", param, value, self.sample_rate)?;
        if param == FREQ {
            let from = self.glided_freq().log2();
            let to = f64::from(out.value).log2();
            let len = ms_to_samples(self.s.params[GLIDE_TIME as usize], self.sample_rate);
            self.s.glide_from = from;
            self.s.glide_to = to;
            self.s.glide_pos = 0;
            self.s.glide_len = len;
        }
        self.s.params[param as usize] = out.value;
        Ok(out)
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        self.s.params.get(param as usize).copied()
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        match param {
            FREQ => Some((self.glided_freq() * self.mod_factor()).min(self.nyquist_limit()) as f32),
            GAIN => Some(self.s.gain.value()),
            PW => Some(self.s.pw.value()),
            SUB => Some(self.s.sub.value()),
            NOISE => Some(self.s.noise.value()),
            _ => self.param(param),
        }
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        if let Some(m) = self.s.modulation.get_mut(param as usize) {
            *m = amount;
        }
    }

    fn process(&mut self, block: &mut [f32]) {
        self.process_driven(block, None, Drive::default());
    }

    fn pass(&mut self, samples: usize) -> bool {
        // A plain sine at a steady pitch and level moves only its phase: as a lane of
        // `samples` samples (what `process` would do before its loop, then the phase).
        match self.begin_lane() {
            Some(crate::lanes::LaneStage::Sine { phase, inc, .. }) => {
                self.s.phase = phase.wrapping_add(inc.wrapping_mul(samples as u64));
                true
            }
            _ => false,
        }
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], _input_stereo: bool) {
        self.process_driven(left, Some(right), Drive::default());
    }

    fn process_audio(
        &mut self,
        block: &mut [f32],
        right: Option<&mut [f32]>,
        audio: &AudioMod<'_>,
    ) {
        let drive = Drive {
            pm: audio.get(PM),
            fm: audio.get(FM),
        };
        self.process_driven(block, right, drive);
    }

    fn begin_lane(&mut self) -> Option<crate::lanes::LaneStage<'_>> {
        // What `process` does before its loop; then, only the common case of
        // `process_plain`: a plain sine at a steady pitch and level.
        self.aim_smoothers();
        let s = &self.s;
        // (Its parameters' part is `set_as_a_plain_sine`'s too: keep the two in step.)
        let plain = s.params[SHAPE as usize] as u8 == SINE
            && s.params[UNISON as usize] <= 1.0
            && !(s.sub.to > 0.0 || s.sub.is_moving() || s.noise.to > 0.0 || s.noise.is_moving())
            && s.pm_prev == 0.0
            && s.params[PM as usize] == 0.0
            && s.params[FM as usize] == 0.0
            && self.target(SYNC) <= 0.0
            && s.glide_pos >= s.glide_len
            && !s.gain.is_moving()
            && s.blep_pending == 0;
        if !plain {
            return None;
        }
        let inc = self
            .steady_increment((self.glided_freq() * self.mod_factor()).min(self.nyquist_limit()));
        Some(crate::lanes::LaneStage::Sine {
            phase: self.s.phase,
            inc,
            gain: self.s.gain.to,
        })
    }

    fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        self.s.end_lane(end);
    }

    super::plain_state!(Osc, "an osc");

    fn reset(&mut self) {
        let (params, seed) = (self.s.params, self.s.noise_seed);
        *self = Osc::new(self.sample_rate);
        self.s.params = params;
        // The noise goes on where it was: a voice's next note breathes other noise.
        self.s.noise_seed = seed;
        let f = f64::from(params[FREQ as usize]).log2();
        self.s.glide_from = f;
        self.s.glide_to = f;
        self.s.gain = Ramp::at(params[GAIN as usize]);
        self.s.sub = Ramp::at(params[SUB as usize]);
        self.s.noise = Ramp::at(params[NOISE as usize]);
    }
}

impl Osc {
    /// Renders one block, driven by audio-rate modulation where routed; with `right`, both
    /// sides (the unison copies placed by `spread`; without it the same in both). Called on the
    /// audio thread: no allocation.
    fn process_driven(&mut self, block: &mut [f32], right: Option<&mut [f32]>, drive: Drive<'_>) {
        self.aim_smoothers();
        let shape = self.s.params[SHAPE as usize] as u8;
        let extras = self.s.sub.to > 0.0
            || self.s.sub.is_moving()
            || self.s.noise.to > 0.0
            || self.s.noise.is_moving();
        let driven = drive.pm.is_some()
            || drive.fm.is_some()
            || self.s.pm_prev != 0.0
            || self.s.params[PM as usize] != 0.0
            || self.s.params[FM as usize] != 0.0
            || self.target(SYNC) > 0.0;
        let spread = right.is_some()
            && self.s.params[SPREAD as usize] > 0.0
            && self.s.params[UNISON as usize] > 1.0;
        if spread {
            self.process_rich(block, right, shape, drive);
            return;
        }
        if self.s.params[UNISON as usize] > 1.0 || extras || driven {
            self.process_rich(block, None, shape, drive);
        } else {
            self.process_plain(block, shape);
        }
        if let Some(right) = right {
            right[..block.len()].copy_from_slice(block);
        }
    }

    /// A block's start: each smoothed parameter aimed at its modulated value. Called on the
    /// audio thread: no allocation.
    fn aim_smoothers(&mut self) {
        let sr = self.sample_rate;
        let targets = [GAIN, PW, SUB, NOISE].map(|p| self.target(p));
        let s = &mut self.s;
        for (ramp, (p, to)) in [&mut s.gain, &mut s.pw, &mut s.sub, &mut s.noise]
            .into_iter()
            .zip([GAIN, PW, SUB, NOISE].into_iter().zip(targets))
        {
            PARAMS[p as usize].aim(ramp, to, sr);
        }
    }

    /// One plain wave (no copies, sub, noise or modulation at audio rate). Called on the audio
    /// thread: no allocation.
    fn process_plain(&mut self, block: &mut [f32], shape: u8) {
        let sr = self.sample_rate;
        let factor = self.mod_factor();
        let limit = self.nyquist_limit();
        let gliding = self.s.glide_pos < self.s.glide_len;
        let mut phase = self.s.phase;
        let mut inc = self.steady_increment((self.glided_freq() * factor).min(limit));

        if !gliding && !self.s.gain.is_moving() && shape == SINE && self.s.blep_pending == 0 {
            // The common case: constant pitch and level.
            phase = steady_sine(block, phase, inc, self.s.gain.to);
        } else {
            let s = &mut self.s;
            let mut ring = whole(&s.blep);
            let mut pos = usize::from(s.blep_pos);
            let mut w_prev = width(shape, s.pw.value());
            for out in block.iter_mut() {
                if s.glide_pos < s.glide_len {
                    inc = turns_to_fixed((s.glided_freq() * factor).min(limit) / sr);
                    s.glide_pos += 1;
                }
                let g = s.gain.tick();
                let w = width(shape, s.pw.tick());
                if pwm_flip(&mut ring, pos, phase, w_prev, w, 1.0) {
                    s.blep_pending = LEN as u8;
                }
                w_prev = w;
                let naive = naive_wave(shape, phase, w, inc);
                let correction = std::mem::take(&mut ring[pos]);
                pos = (pos + 1) % LEN;
                s.blep_pending = s.blep_pending.saturating_sub(1);
                *out = g * (naive + correction);
                let next = phase.wrapping_add(inc);
                if add_jumps(&mut ring, pos, shape, w, phase, next, inc, 1.0, 0.0) {
                    s.blep_pending = LEN as u8;
                }
                phase = next;
            }
            s.blep_pos = pos as u8;
            keep(&ring, &mut s.blep);
        }
        self.s.phase = phase;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steady_sine_is_the_sine_of_each_samples_phase_to_the_bit() {
        // Steps of eight on 32-bit halves against one sample at a time on the 64-bit phase:
        // phases near a wrap of the low half and of the whole, slow and fast increments (one
        // past half a turn too), blocks of every remainder, gains of both signs.
        let one = |phase: u64, gain: f32| gain * crate::fastmath::sin_turns(fixed_to_turns(phase));
        let mut checked = 0;
        for phase in [
            0u64,
            0xffff_fff0,
            0x7fff_ffff_ffff_fff0,
            u64::MAX - 40,
            0x1234_5678_9abc_def0,
        ] {
            for inc in [
                1u64,
                0x1_0000_0001,
                turns_to_fixed(440.0 / 48_000.0),
                (1 << 63) + 12345,
                u64::MAX,
            ] {
                for len in [64usize, 63, 17, 8, 7, 0] {
                    for gain in [0.5f32, -1.0] {
                        let mut block = vec![0.0f32; len];
                        let after = steady_sine(&mut block, phase, inc, gain);
                        let mut p = phase;
                        for (k, &s) in block.iter().enumerate() {
                            assert_eq!(s.to_bits(), one(p, gain).to_bits(), "{phase} {inc} {k}");
                            p = p.wrapping_add(inc);
                        }
                        assert_eq!(after, p, "the phase after {len}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 5 * 6 * 2);
    }
}
