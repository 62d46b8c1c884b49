//! Voices in lanes: the voice chain notes spend most of their time in — a plain sine at a
//! steady pitch and level, an envelope holding its sustain level or along one of its straight
//! segments (attack, decay, release), a biquad whose coefficients stay put — rendered for
//! [`LANES`] voices at once.
//!
//! Each module of such a voice hands its block's work over as a [`LaneStage`]
//! ([`crate::Module::begin_lane`]) and takes back where it ended
//! ([`crate::Module::end_lane`]), after one block or many (a voice's pool keeps it in its
//! lane while nothing reaches it, and hands the lane back before anything reads or changes
//! its modules); a voice in any other state (a glide, a filter sweep, a richer wave, the block
//! where an envelope's segment ends) renders alone as before. The kernel does, lane by lane,
//! the very operations of the modules' own loops in the same order — no fused multiply-adds,
//! no reassociation — so a voice sounds the same to the bit in a lane or alone, on any
//! machine, whichever instruction set the kernel was compiled for (AVX-512, AVX2 or the
//! baseline, chosen when it first runs). It runs in two passes over the block: the sources
//! (sine, gain, level) into the output, then the biquads over it in place (or, for a group
//! mixed straight away, into the partial mixes: `add_lanes`).

use crate::fastmath::neg_sin_half_turned;
use crate::modules::filter::{Coefs, STEP};

mod sums;
pub(crate) use sums::{add_lanes, sum_lanes, sum_lanes_panned};

/// Voices one kernel call renders together.
pub const LANES: usize = 8;

/// One module's part of a voice's block, when the lane kernel can do it (what it needs is
/// borrowed from the module: copied once, into the lane).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LaneStage<'a> {
    /// A plain sine: its fixed-point phase and increment, its (constant) gain.
    Sine {
        /// Phase at the block's first sample.
        phase: u64,
        /// Phase increment per sample.
        inc: u64,
        /// Gain.
        gain: f32,
    },
    /// A constant gain: an envelope holding its level.
    Gain(f32),
    /// An envelope along a straight segment: sample `i` of the block at
    /// `from + delta·((pos + 1 + i) / len)`, as its own `tick` makes it.
    Segment {
        /// The segment's start level.
        from: f32,
        /// Its end level less its start level.
        delta: f32,
        /// Samples of the segment done before the block.
        pos: u32,
        /// Samples of the segment in all.
        len: u32,
    },
    /// A pan at rest placing a mono block: its gains to the left and the right.
    Pan {
        /// Gain to the left.
        left: f32,
        /// Gain to the right.
        right: f32,
    },
    /// A biquad whose coefficients stay the same this block, and its history.
    Biquad {
        /// The coefficients.
        coefs: &'a Coefs,
        /// `x[n-1]`, `x[n-2]`, `y[n-1]`, `y[n-2]`.
        history: [f64; 4],
    },
}

/// Where a module's block in a lane ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LaneEnd {
    /// The sine's phase after the blocks.
    Phase(u64),
    /// The samples of the blocks (an envelope along a segment moves on by them).
    Samples(u32),
    /// The biquad's history after the blocks: `x[n-1]`, `x[n-2]`, `y[n-1]`, `y[n-2]`.
    History([f64; 4]),
}

/// The chain a lane renders: sine, then gain (steady or along a segment), then biquad. Structure of arrays, one entry a
/// lane; lanes left empty render silence.
#[derive(Debug, Clone, Default)]
pub(crate) struct SineGainBiquad {
    phase: [u64; LANES],
    inc: [u64; LANES],
    /// The sine's gain, negated (the sine is computed negated: the product is the same).
    neg_gain: [f32; LANES],
    level: [f32; LANES],
    /// Lanes whose envelope is on a segment this block (else at `level`).
    on_segment: [bool; LANES],
    /// Each segment's start level, its end less its start, its samples done before the
    /// block, and its length as `f32`.
    segment_from: [f32; LANES],
    segment_delta: [f32; LANES],
    segment_pos: [u32; LANES],
    segment_len: [f32; LANES],
    /// Each segment's length as it is.
    segment_end: [u32; LANES],
    /// Samples each lane has rendered since it was set.
    moved: [u32; LANES],
    b0: [f64; LANES],
    b1: [f64; LANES],
    b2: [f64; LANES],
    a1: [f64; LANES],
    a2: [f64; LANES],
    h: [[f64; LANES]; STEP],
    p: [[f64; LANES]; STEP],
    q: [[f64; LANES]; STEP],
    x1: [f64; LANES],
    x2: [f64; LANES],
    y1: [f64; LANES],
    y2: [f64; LANES],
}

impl SineGainBiquad {
    /// Puts a voice's three stages in `lane` for a block of `samples`; false (and the lane
    /// left as it was) when they are not a sine, an envelope holding its level or along a
    /// segment that goes on past the block, and a biquad. Real-time thread.
    pub(crate) fn set(&mut self, lane: usize, stages: &[LaneStage<'_>; 3], samples: usize) -> bool {
        let (LaneStage::Sine { phase, inc, gain }, LaneStage::Biquad { coefs: c, history }) =
            (stages[0], stages[2])
        else {
            return false;
        };
        match stages[1] {
            LaneStage::Gain(level) => {
                self.level[lane] = level;
                self.on_segment[lane] = false;
            }
            // The segment's last sample is its end level exactly: not in a lane.
            LaneStage::Segment {
                from,
                delta,
                pos,
                len,
            } if (pos as usize).saturating_add(samples) < len as usize => {
                self.on_segment[lane] = true;
                self.segment_from[lane] = from;
                self.segment_delta[lane] = delta;
                self.segment_pos[lane] = pos;
                self.segment_len[lane] = len as f32;
                self.segment_end[lane] = len;
            }
            _ => return false,
        }
        self.moved[lane] = 0;
        self.phase[lane] = phase;
        self.inc[lane] = inc;
        self.neg_gain[lane] = -gain;
        (self.b0[lane], self.b1[lane], self.b2[lane]) = (c.b0, c.b1, c.b2);
        (self.a1[lane], self.a2[lane]) = (c.a1, c.a2);
        for k in 0..STEP {
            self.h[k][lane] = c.h[k];
            self.p[k][lane] = c.p[k];
            self.q[k][lane] = c.q[k];
        }
        [self.x1[lane], self.x2[lane], self.y1[lane], self.y2[lane]] = history;
        true
    }

    /// Makes `lane` silent (nothing in it). Real-time thread.
    pub(crate) fn clear(&mut self, lane: usize) {
        self.phase[lane] = 0;
        self.inc[lane] = 0;
        self.neg_gain[lane] = 0.0;
        self.level[lane] = 0.0;
        self.on_segment[lane] = false;
        self.moved[lane] = 0;
        for a in [
            &mut self.b0,
            &mut self.b1,
            &mut self.b2,
            &mut self.a1,
            &mut self.a2,
            &mut self.x1,
            &mut self.x2,
            &mut self.y1,
            &mut self.y2,
        ] {
            a[lane] = 0.0;
        }
        for k in 0..STEP {
            self.h[k][lane] = 0.0;
            self.p[k][lane] = 0.0;
            self.q[k][lane] = 0.0;
        }
    }

    /// True when `lane`, rendered on from where it is, stays what [`SineGainBiquad::set`]
    /// takes for a block of `samples`: its envelope holds its level, or its segment goes on
    /// past the block. Real-time thread.
    pub(crate) fn still(&self, lane: usize, samples: usize) -> bool {
        !self.on_segment[lane]
            || (self.segment_pos[lane] as usize).saturating_add(samples)
                < self.segment_end[lane] as usize
    }

    /// [`SineGainBiquad::still`] for every lane whose bit is set in `lanes`. Real-time
    /// thread.
    pub(crate) fn all_still(&self, lanes: u8, samples: usize) -> bool {
        (0..LANES).all(|lane| lanes & 1 << lane == 0 || self.still(lane, samples))
    }

    /// Where `lane`'s sine, envelope and biquad are after the blocks rendered since it was
    /// set (the phase, the samples along the segment, the history moved on), for their
    /// modules' [`crate::Module::end_lane`]. Real-time thread.
    pub(crate) fn end(&self, lane: usize) -> [LaneEnd; 3] {
        [
            LaneEnd::Phase(self.phase[lane]),
            LaneEnd::Samples(self.moved[lane]),
            LaneEnd::History([self.x1[lane], self.x2[lane], self.y1[lane], self.y2[lane]]),
        ]
    }

    /// Renders `out.len()` samples of every lane (`out[i][lane]`), moving each lane's phase
    /// and history on. Never allocates. Real-time thread.
    pub(crate) fn render(&mut self, out: &mut [[f32; LANES]]) {
        self.render_sources(out);
        render_biquads(self, out);
    }

    /// [`SineGainBiquad::render`], each lane whose bit is set in `used` then added, times
    /// its gain, into the same lane of `mix` ([`add_lanes`] without a pan) as the biquads
    /// make it; `scratch` is left holding the sources. Never allocates. Real-time thread.
    pub(crate) fn render_into_mix(
        &mut self,
        scratch: &mut [[f32; LANES]],
        mix: &mut [[f32; LANES]],
        gains: &[f32; LANES],
        used: u8,
    ) {
        self.render_sources(scratch);
        render_biquads_into_mix(self, scratch, mix, gains, used);
    }

    /// The sources pass of every lane into `out`. Real-time thread.
    fn render_sources(&mut self, out: &mut [[f32; LANES]]) {
        let samples = out.len() as u32;
        for m in &mut self.moved {
            *m = m.wrapping_add(samples);
        }
        if self.on_segment.contains(&true) {
            render_sources_on_segments(self, out);
        } else {
            render_sources(self, out);
        }
    }
}

/// The sources of every lane: the sine times its gain, times the envelope's level (the
/// modules' own order), into `out`, each lane's phase moved on. Compiled for each instruction
/// set and picked at the first call; not for AVX-512: built for it, the phase's carry below (a
/// compare into a mask register, the mask back into a vector) made this loop five times
/// slower on the VM kind measured, and with the phases added as 64 bits instead it was no
/// faster than AVX2 in the voice benchmark (docs/design.md, "Lanes").
/// The phases are carried as [`Phases`].
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
fn render_sources(s: &mut SineGainBiquad, out: &mut [[f32; LANES]]) {
    let mut phases = Phases::of(s);
    let (neg_gain, level) = (&s.neg_gain, &s.level);
    for o in out.iter_mut() {
        for l in 0..LANES {
            // gain · sin = (-gain) · (-sin), to the bit.
            let sine = neg_gain[l] * neg_sin_half_turned(phases.half_turned_top(l));
            o[l] = sine * level[l];
            phases.advance(l);
        }
    }
    phases.store(s);
}

/// [`render_sources`] with envelopes along segments: each lane's level sample by sample, as
/// the envelope's `tick` makes it (the others at their level). Compiled like
/// [`render_sources`]. Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
fn render_sources_on_segments(s: &mut SineGainBiquad, out: &mut [[f32; LANES]]) {
    let mut phases = Phases::of(s);
    let (neg_gain, level, on_segment) = (&s.neg_gain, &s.level, &s.on_segment);
    let (from, delta, len) = (&s.segment_from, &s.segment_delta, &s.segment_len);
    let mut pos = s.segment_pos;
    for o in out.iter_mut() {
        for l in 0..LANES {
            pos[l] = pos[l].wrapping_add(1);
            let along = from[l] + delta[l] * (pos[l] as f32 / len[l]);
            let level = if on_segment[l] { along } else { level[l] };
            // gain · sin = (-gain) · (-sin), to the bit.
            let sine = neg_gain[l] * neg_sin_half_turned(phases.half_turned_top(l));
            o[l] = sine * level;
            phases.advance(l);
        }
    }
    phases.store(s);
    s.segment_pos = pos;
}

/// The lanes' 64-bit phases as two 32-bit halves each (eight lanes fit one 256-bit register),
/// the top halves carried half a turn on (`neg_sin_half_turned`): the same wrapping sums, and
/// the same top 24 bits read as turns.
struct Phases {
    /// The low halves, their top bits flipped (see [`Phases::advance`]).
    lo: [u32; LANES],
    hi: [u32; LANES],
    inc_lo: [u32; LANES],
    /// The increments' low halves, their top bits flipped.
    inc_lo_flipped: [u32; LANES],
    inc_hi: [u32; LANES],
}

impl Phases {
    /// A 32-bit word's top bit.
    const TOP: u32 = 0x8000_0000;

    /// The phases and increments of `s`'s lanes.
    #[inline(always)]
    fn of(s: &SineGainBiquad) -> Self {
        Phases {
            lo: s.phase.map(|p| p as u32 ^ Self::TOP),
            hi: s.phase.map(|p| (p >> 32) as u32 ^ Self::TOP),
            inc_lo: s.inc.map(|p| p as u32),
            inc_lo_flipped: s.inc.map(|p| p as u32 ^ Self::TOP),
            inc_hi: s.inc.map(|p| (p >> 32) as u32),
        }
    }

    /// Lane `l`'s top half, half a turn on.
    #[inline(always)]
    fn half_turned_top(&self, l: usize) -> u32 {
        self.hi[l]
    }

    /// Lane `l` a sample on. The low half's carry is `sum < inc` unsigned, which is the same
    /// comparison signed with both top bits flipped; the low half is kept flipped (a flip of
    /// the top bit commutes with the wrapping sum), so the carry is one signed comparison (a
    /// vector has no unsigned one before AVX-512).
    #[inline(always)]
    fn advance(&mut self, l: usize) {
        self.lo[l] = self.lo[l].wrapping_add(self.inc_lo[l]);
        let carry = (self.lo[l] as i32) < (self.inc_lo_flipped[l] as i32);
        self.hi[l] = self.hi[l]
            .wrapping_add(self.inc_hi[l])
            .wrapping_add(u32::from(carry));
    }

    /// The phases back into `s`.
    #[inline(always)]
    fn store(&self, s: &mut SineGainBiquad) {
        for l in 0..LANES {
            s.phase[l] =
                u64::from(self.hi[l] ^ Self::TOP) << 32 | u64::from(self.lo[l] ^ Self::TOP);
        }
    }
}

/// The biquad of every lane over `out`, in place (the sources become the output), each
/// lane's history moved on, as `Filter::process` does it. Compiled for each instruction set
/// and picked at the first call (with fused multiply-adds, as the filter's own biquad).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512dq+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "aarch64+neon"
))]
fn render_biquads(s: &mut SineGainBiquad, out: &mut [[f32; LANES]]) {
    biquads(s, out, |_, o, y| *o = y);
}

/// [`render_biquads`] over `sources`, each lane whose bit is set in `used` added, times its
/// gain, into its lane of `mix` (the sums [`add_lanes`] makes) instead of written back.
/// Compiled like [`render_biquads`].
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512dq+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "aarch64+neon"
))]
fn render_biquads_into_mix(
    s: &mut SineGainBiquad,
    sources: &mut [[f32; LANES]],
    mix: &mut [[f32; LANES]],
    gains: &[f32; LANES],
    used: u8,
) {
    let mix = &mut mix[..sources.len()];
    if used == u8::MAX {
        biquads(s, sources, |i, _, y| {
            sums::add_row(&mut mix[i], y, gains, |_| true)
        });
    } else {
        let used: [bool; LANES] = std::array::from_fn(|l| used & 1 << l != 0);
        biquads(s, sources, |i, _, y| {
            sums::add_row(&mut mix[i], y, gains, |l| used[l]);
        });
    }
}

/// The biquads of every lane over `input`, each lane's history moved on; each sample's
/// output handed to `put` (its index, its input's place, the output). A step of
/// [`STEP`] samples at a time, the operations of `filter::biquad_step` in its order (the
/// same sound to the bit as a voice alone), then the rest one by one. Real-time thread.
#[inline(always)]
fn biquads(
    s: &mut SineGainBiquad,
    input: &mut [[f32; LANES]],
    mut put: impl FnMut(usize, &mut [f32; LANES], [f32; LANES]),
) {
    // The constants by reference: copied out, they cost a memmove of 1 KB a group a block.
    let (b0, b1, b2) = (&s.b0, &s.b1, &s.b2);
    let (h, p, q) = (&s.h, &s.p, &s.q);
    let (mut x1, mut x2, mut y1, mut y2) = (s.x1, s.x2, s.y1, s.y2);
    let mut chunks = input.chunks_exact_mut(STEP);
    let mut i = 0;
    for chunk in &mut chunks {
        // The inputs with the two before them: xs[k + 2] is x[k].
        let mut xs = [[0.0f64; LANES]; STEP + 2];
        (xs[0], xs[1]) = (x2, x1);
        for (xj, c) in xs[2..].iter_mut().zip(chunk.iter()) {
            for l in 0..LANES {
                xj[l] = f64::from(c[l]);
            }
        }
        // Written out row by row (a loop over the rows is vectorised along them, with
        // gathers): each statement is one operation on the eight lanes.
        let mut f = [[0.0f64; LANES]; STEP];
        rows!([0 1 2 3 4 5 6 7], |k| {
            let sum = fma(b2, &xs[k], &[0.0; LANES]);
            f[k] = fma(b0, &xs[k + 2], &fma(b1, &xs[k + 1], &sum));
        });
        let mut g = f;
        taps!(g, f, h; 1: 1; 2: 1 2; 3: 1 2 3; 4: 1 2 3 4; 5: 1 2 3 4 5; 6: 1 2 3 4 5 6;
            7: 1 2 3 4 5 6 7);
        let mut y = [[0.0f64; LANES]; STEP];
        rows!([0 1 2 3 4 5 6 7], |k| {
            y[k] = fma(&p[k], &y1, &fma(&q[k], &y2, &g[k]));
        });
        (x2, x1) = (xs[STEP], xs[STEP + 1]);
        (y2, y1) = (y[STEP - 2], y[STEP - 1]);
        for (o, yj) in chunk.iter_mut().zip(&y) {
            put(i, o, yj.map(|v| v as f32));
            i += 1;
        }
    }
    for o in chunks.into_remainder() {
        let x0 = o.map(f64::from);
        let mut y = [0.0f32; LANES];
        for l in 0..LANES {
            let y0 =
                (b0[l] * x0[l] + b1[l] * x1[l] + b2[l] * x2[l] - s.a2[l] * y2[l]) - s.a1[l] * y1[l];
            (x2[l], x1[l], y2[l], y1[l]) = (x1[l], x0[l], y1[l], y0);
            y[l] = y0 as f32;
        }
        put(i, o, y);
        i += 1;
    }
    // Tiny values flushed so a silent tail never reaches denormals (as the filter does).
    for v in y1.iter_mut().chain(y2.iter_mut()) {
        if v.abs() < 1e-30 {
            *v = 0.0;
        }
    }
    (s.x1, s.x2, s.y1, s.y2) = (x1, x2, y1, y2);
}

/// `$body` once for each row `$k` of the list, with `$k` a constant (no loop).
macro_rules! rows {
    ([$($row:literal)*], |$k:ident| $body:block) => {
        $({
            let $k: usize = $row;
            $body
        })*
    };
}
use rows;

/// The taps of a step's impulse response into `$g` from `$f`, row `$k` after row: `$g[k] =
/// fma(h[j], f[k - j], g[k])` for each `j` listed after `k:`, in that order (no loop).
macro_rules! taps {
    ($g:ident, $f:ident, $h:ident; $($k:literal: $($j:literal)*);*) => {
        $($(
            $g[$k] = fma(&$h[$j], &$f[$k - $j], &$g[$k]);
        )*)*
    };
}
use taps;

const _: () = assert!(STEP == 8, "biquads writes a step's eight rows out");

/// `a·b + c` in every lane, fused. Real-time thread.
#[inline(always)]
fn fma(a: &[f64; LANES], b: &[f64; LANES], c: &[f64; LANES]) -> [f64; LANES] {
    std::array::from_fn(|l| a[l].mul_add(b[l], c[l]))
}

#[cfg(test)]
mod tests {
    use crate::modules::{filter::CUTOFF, pan::POS};
    use crate::{Patch, Source, VoiceMode};

    /// A busy performance on the default patch: a chord of twenty notes at different levels,
    /// a filter sweep, a bend, the pedal, a wave change and back, notes stolen, released and
    /// restarted, an LFO on the cutoff (and in stereo on the pan); in stereo the voices spread
    /// apart and the pan moved. Returns the output, the most voices seen in lanes in one
    /// block, and the patch's whole state every 100 blocks (every phase and filter history,
    /// to the bit).
    fn perform(lanes: bool, stereo: bool) -> (Vec<f32>, usize, Vec<crate::PatchState>) {
        let mut p = Patch::default_patch_for(48_000.0, 64, stereo).expect("default patch");
        if stereo {
            // Each voice placed apart (a pan gain of its own to each side).
            p.set("pan", "spread", 0.8).expect("spread");
        }
        p.set_voice_lanes(lanes);
        p.set_voices(32, VoiceMode::Poly).expect("32 voices");
        let (mut left, mut right) = ([0.0f32; 64], [0.0f32; 64]);
        let (mut out, mut most, mut states) = (Vec::new(), 0, Vec::new());
        for b in 0..900u32 {
            match b {
                0 => {
                    for k in 0..20u8 {
                        p.note_on(36 + 3 * k, 0.2 + f32::from(k) * 0.03)
                            .expect("note");
                    }
                }
                150 => _ = p.set("filter", "cutoff", 700.0).expect("cutoff"),
                260 => p.bend_in(None, 2.0).expect("bend"),
                300 => _ = p.set("filter", "q", 4.0).expect("q"),
                340 => p.sustain_in(None, true).expect("pedal"),
                350 => {
                    for k in 0..6u8 {
                        p.note_off(Some(36 + 3 * k)).expect("off");
                    }
                }
                420 => p.sustain_in(None, false).expect("pedal"),
                480 => _ = p.set("sine", "shape", 2.0).expect("shape"),
                520 => _ = p.set("sine", "shape", 0.0).expect("shape"),
                560 => {
                    for k in 0..16u8 {
                        p.note_on(90 - k, 0.9).expect("note");
                    }
                }
                600 => {
                    // The LFO into the cutoff (and, in stereo, the pan's place): a modulation
                    // reaching the voices every block.
                    let (lfo, filter) = (
                        p.lookup("lfo").expect("lfo"),
                        p.lookup("filter").expect("filter"),
                    );
                    p.set("lfo", "depth", 1.0).expect("depth");
                    p.route(Source::Module(lfo), filter, CUTOFF, 0.3)
                        .expect("route");
                    if stereo {
                        let pan = p.lookup("pan").expect("pan");
                        p.route(Source::Module(lfo), pan, POS, 0.5).expect("route");
                    }
                }
                650 => {
                    let (lfo, filter) = (
                        p.lookup("lfo").expect("lfo"),
                        p.lookup("filter").expect("filter"),
                    );
                    p.route(Source::Module(lfo), filter, CUTOFF, 0.0)
                        .expect("route");
                }
                620 if stereo => _ = p.set("pan", "pos", -0.4).expect("pos"),
                700 => p.note_off(None).expect("all off"),
                _ => {}
            }
            if stereo {
                p.process_stereo(&mut left, &mut right);
                out.extend_from_slice(&right);
            } else {
                p.process(&mut left);
            }
            out.extend_from_slice(&left);
            most = most.max(p.laned_voices());
            if b % 100 == 99 {
                states.push(p.state());
            }
        }
        (out, most, states)
    }

    /// Failover's way: a patch restored from the state of one whose voices live in their
    /// lanes (their phases and histories the lanes', not their modules') goes on to the bit.
    #[test]
    fn a_patch_restored_while_voices_live_in_lanes_goes_on_to_the_bit() {
        let mut a = Patch::default_patch_for(48_000.0, 64, false).expect("default patch");
        a.set_voices(32, VoiceMode::Poly).expect("32 voices");
        for k in 0..20u8 {
            a.note_on(40 + 2 * k, 0.3 + f32::from(k) * 0.02)
                .expect("note");
        }
        let mut block = [0.0f32; 64];
        for _ in 0..300 {
            a.process(&mut block);
        }
        assert!(a.laned_voices() >= 16, "in lanes: {}", a.laned_voices());
        let mut b = Patch::from_state(&a.state()).expect("restored");
        let (mut x, mut y) = ([0.0f32; 64], [0.0f32; 64]);
        for n in 0..400 {
            if n == 100 {
                // Releases: envelopes along their segments, in lanes.
                for p in [&mut a, &mut b] {
                    for k in 0..10u8 {
                        p.note_off(Some(40 + 2 * k)).expect("off");
                    }
                }
            }
            a.process(&mut x);
            b.process(&mut y);
            let differs = x
                .iter()
                .zip(&y)
                .position(|(p, q)| p.to_bits() != q.to_bits());
            assert_eq!(differs, None, "block {n}: a sample differs");
        }
        assert!(x.iter().any(|s| s.abs() > 1e-4), "it still sounds");
    }

    #[test]
    fn voices_in_lanes_sound_the_same_to_the_bit_as_alone() {
        for stereo in [false, true] {
            let (alone, none, alone_states) = perform(false, stereo);
            let (laned, most, laned_states) = perform(true, stereo);
            assert_eq!(none, 0, "one by one: no lanes");
            assert!(most >= 16, "most voices in lanes in a block: {most}");
            assert!(alone.iter().any(|s| s.abs() > 0.01), "it sounds");
            if let Some(i) = alone
                .iter()
                .zip(&laned)
                .position(|(a, b)| a.to_bits() != b.to_bits())
            {
                panic!(
                    "stereo {stereo}: sample {i} differs: {} alone, {} in lanes",
                    alone[i], laned[i]
                );
            }
            for (k, (a, b)) in alone_states.iter().zip(&laned_states).enumerate() {
                assert!(
                    a == b,
                    "stereo {stereo}: the states differ after block {}",
                    k * 100 + 99
                );
            }
        }
    }
}
