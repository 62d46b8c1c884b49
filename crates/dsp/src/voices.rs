//! Polyphonic notes: a pool of voices, each a copy of the patch's voice template.
//!
//! The template is the chain that starts at the oscillator named `sine` and follows single
//! audio connections through envelopes and filters (`sine > adsr > filter` in the default
//! patch); it must hold at least one envelope, which ends a note. Every voice is a private copy
//! of that chain; its output is added to the template's last module's output, so whatever
//! follows the template (effects, the patch output) hears the voices too.
//!
//! All [`MAX_VOICES`] copies are built when the template is (an edit, which may allocate);
//! `count` only limits how many notes sound at once, so changing it, and playing notes, never
//! allocates.

use crate::lanes::{self, LaneStage, SineGainBiquad, LANES};
use crate::module::{AudioMod, Module, ModuleKind, ModuleState, MAX_PARAMS};
use crate::modules::{lfo, osc, pan};
use crate::{DspError, ModuleId, ParamId};

/// Voices built for every template; `count` may use up to this many.
pub const MAX_VOICES: usize = 128;
/// The fewest voices worth a kernel call of their own (it renders [`LANES`] either way).
const MIN_GROUP: usize = 4;
/// The modules of a voice's chain the lane kernel renders (sine, envelope, biquad).
const KERNEL_STAGES: usize = 3;
// A voice a bit of `VoicePool::resident`.
const _: () = assert!(MAX_VOICES <= u128::BITS as usize && MAX_VOICES.is_multiple_of(LANES));
/// Voices that may sound at once, unless told otherwise.
pub const DEFAULT_VOICES: usize = 8;
/// Modulation sources a voice may have of its own (its `env`s).
pub(crate) const MAX_OWN_SOURCES: usize = 8;
/// Notes a mono voice remembers while they are held (for legato back to an earlier note).
const MONO_STACK: usize = 16;

/// How notes are given voices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VoiceMode {
    /// Each note gets a voice of its own; when all are busy, the oldest released voice is
    /// taken, then the oldest held one.
    #[default]
    Poly,
    /// One voice, legato: a note played while another is held changes the pitch (gliding at
    /// the oscillator's `glide_time`) without restarting the envelope; releasing it returns to
    /// the most recent note still held.
    Mono,
}

/// What a voice is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VoicePhase {
    /// Silent and available.
    Free,
    /// Playing a note whose key is down.
    Held,
    /// Playing a released note's envelope tail.
    Released,
}

/// The complete state of one voice.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VoiceState {
    /// The MIDI note it plays (or last played).
    pub note: u8,
    /// Its velocity, 0..1 (a gain on the voice's output).
    pub velocity: f32,
    /// What it is doing.
    pub phase: VoicePhase,
    /// When it was last started or released (a counter of note events, for stealing).
    pub since: u64,
    /// Its key was let go while the sustain pedal was down: it is held until the pedal lifts.
    #[cfg_attr(feature = "serde", serde(default))]
    pub sustained: bool,
    /// Its modules' states, in template order.
    pub modules: Vec<ModuleState>,
}

/// The complete state of the voice pool.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VoicesState {
    /// Voices that may sound at once.
    pub count: u8,
    /// Poly or mono.
    pub mode: VoiceMode,
    /// Note events so far.
    pub serial: u64,
    /// Notes held in mono mode, oldest first.
    pub held: Vec<u8>,
    /// The sustain pedal is down.
    #[cfg_attr(feature = "serde", serde(default))]
    pub sustain: bool,
    /// Pitch bend, in semitones (every voice's pitch moved by it).
    #[cfg_attr(feature = "serde", serde(default))]
    pub bend: f32,
    /// Every voice (empty without a template).
    pub voices: Vec<VoiceState>,
}

struct Voice {
    note: u8,
    velocity: f32,
    phase: VoicePhase,
    since: u64,
    /// Let go while the pedal was down (still `Held` until it lifts).
    sustained: bool,
    modules: Vec<Box<dyn Module>>,
}

/// The widest pitch bend, in semitones either way.
pub const MAX_BEND: f32 = 48.0;

/// The equal-tempered frequency of a MIDI note (A4 = 69 = 440 Hz).
pub fn note_hz(note: u8) -> f32 {
    (440.0 * ((f64::from(note) - 69.0) / 12.0).exp2()) as f32
}

/// Where a voice's own modulation comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum VoiceSource {
    /// The voice's copy of the template module at this position (an `env`).
    Module(usize),
    /// The note's velocity, 0..1.
    Velocity,
    /// The note's distance from C4, in octaves.
    Key,
}

/// A modulation each voice applies with its own source: into parameter `param` of the
/// template's chain module at position `to`, at `depth`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VoiceRoute {
    pub(crate) from: VoiceSource,
    pub(crate) to: usize,
    pub(crate) param: ParamId,
    pub(crate) depth: f32,
}

/// The pool itself; the patch owns one and drives it.
pub(crate) struct VoicePool {
    /// The chain (head first), then the modulation sources each voice has its own copy of.
    template: Vec<ModuleId>,
    kinds: Vec<ModuleKind>,
    /// How many of `template` are the audio chain.
    chain_len: usize,
    /// The modulations each voice applies with its own sources.
    routes: Vec<VoiceRoute>,
    count: usize,
    mode: VoiceMode,
    serial: u64,
    held: [u8; MONO_STACK],
    held_len: usize,
    /// The sustain pedal is down.
    sustain: bool,
    /// Pitch bend in semitones, and the frequency ratio it makes.
    bend: f32,
    bend_ratio: f32,
    voices: Vec<Voice>,
    /// Every voice from here on is free: the per-block loops stop here, so that one note on a
    /// pool of [`MAX_VOICES`] costs a look at one voice, not at all of them.
    span: usize,
    scratch: Vec<f32>,
    /// The right side of a voice that ends in a pan.
    scratch_right: Vec<f32>,
    /// Render voices in lanes where they can be (else one by one).
    lanes: bool,
    /// The lane kernel's groups: voice `i` renders in lane `i % LANES` of group `i / LANES`.
    groups: Vec<SineGainBiquad>,
    /// The voices that live in their lanes (a bit each): their sine's phase, envelope's
    /// place and biquad's history are the lane's, not yet handed back to their modules (see
    /// [`VoicePool::settle`]).
    resident: u128,
    /// Each voice's lane this block, if it has one.
    in_lane: Vec<Option<usize>>,
    /// The kernel's output, a sample of every lane at a time (then the group's blocks, a
    /// column each, on their way into the partial mixes; the right sides in
    /// `lane_tmp_right`).
    lane_tmp: Vec<[f32; LANES]>,
    lane_tmp_right: Vec<[f32; LANES]>,
    /// Each group's pan gains (left, right) a lane, when its voice's pan is at rest.
    lane_pans: Vec<[[f32; LANES]; 2]>,
    /// The voices whose pan gains in [`VoicePool::lane_pans`] are those their pans make (a
    /// bit each), for the routed position in [`VoicePool::pan_routed_at`].
    pans_ready: u128,
    /// The routed pan position each voice's gains in [`VoicePool::lane_pans`] were made for.
    pan_routed_at: Vec<f32>,
    /// Each lane's block out of the kernel (`LANES` blocks).
    lane_out: Vec<f32>,
    /// The voices' partial mixes, a sample of each at a time: voice `i` is added into
    /// partial `i % LANES` (see [`VoicePool::render_into`]); the right side's in
    /// `mix_right`.
    mix: Vec<[f32; LANES]>,
    mix_right: Vec<[f32; LANES]>,
    /// Each voice's routed pan position this block.
    pan_routed: Vec<f32>,
    /// Whether each voice's head spreads across the two sides this block.
    spread: Vec<bool>,
    /// Voices rendered in lanes in the last block.
    laned: usize,
}

impl VoicePool {
    pub(crate) fn new(block: usize) -> Self {
        VoicePool {
            template: Vec::new(),
            kinds: Vec::new(),
            chain_len: 0,
            routes: Vec::new(),
            count: DEFAULT_VOICES,
            mode: VoiceMode::Poly,
            serial: 0,
            held: [0; MONO_STACK],
            held_len: 0,
            sustain: false,
            bend: 0.0,
            bend_ratio: 1.0,
            voices: Vec::new(),
            span: 0,
            scratch: vec![0.0; block],
            scratch_right: vec![0.0; block],
            lanes: true,
            groups: vec![SineGainBiquad::default(); MAX_VOICES / LANES],
            resident: 0,
            in_lane: vec![None; MAX_VOICES],
            lane_tmp: vec![[0.0; LANES]; block],
            lane_tmp_right: vec![[0.0; LANES]; block],
            lane_pans: vec![[[0.0; LANES]; 2]; MAX_VOICES / LANES],
            pans_ready: 0,
            pan_routed_at: vec![0.0; MAX_VOICES],
            lane_out: vec![0.0; LANES * block],
            mix: vec![[0.0; LANES]; block],
            mix_right: vec![[0.0; LANES]; block],
            pan_routed: vec![0.0; MAX_VOICES],
            spread: vec![false; MAX_VOICES],
            laned: 0,
        }
    }

    /// The template's modules: the chain, head first, then the voice's own modulation
    /// sources (empty: no notes can be played).
    pub(crate) fn template(&self) -> &[ModuleId] {
        &self.template
    }

    /// How many of [`VoicePool::template`] are the audio chain.
    pub(crate) fn chain_len(&self) -> usize {
        self.chain_len
    }

    /// The chain's last module, whose output the voices join.
    pub(crate) fn end(&self) -> Option<ModuleId> {
        self.template[..self.chain_len].last().copied()
    }

    /// Position of `id` in the template.
    pub(crate) fn position(&self, id: ModuleId) -> Option<usize> {
        self.template.iter().position(|&t| t == id)
    }

    pub(crate) fn count(&self) -> usize {
        self.count
    }

    pub(crate) fn mode(&self) -> VoiceMode {
        self.mode
    }

    /// Rebuilds every voice for a new template (an edit: allocates). `params` gives each
    /// template module's base parameter values. A template equal to the current one keeps
    /// the voices as they are.
    /// The first `chain_len` modules are the audio chain, the rest the voice's own
    /// modulation sources, which `routes` apply.
    pub(crate) fn set_template(
        &mut self,
        template: Vec<(ModuleId, ModuleKind, Vec<f32>)>,
        chain_len: usize,
        routes: Vec<VoiceRoute>,
        sample_rate: f64,
        block: usize,
    ) -> Result<(), DspError> {
        self.settle();
        let ids: Vec<ModuleId> = template.iter().map(|t| t.0).collect();
        let kinds: Vec<ModuleKind> = template.iter().map(|t| t.1).collect();
        let was = std::mem::replace(&mut self.chain_len, chain_len);
        self.routes = routes;
        if ids == self.template && kinds == self.kinds {
            return Ok(());
        }
        let same_chain = !self.voices.is_empty()
            && chain_len == was
            && ids.get(..chain_len) == self.template.get(..was)
            && kinds.get(..chain_len) == self.kinds.get(..was);
        if same_chain {
            // Only the voice's own sources changed: every voice keeps its chain (and a note
            // sounding plays on), with the sources it had; the new ones are built, an envelope
            // open on a held note.
            let old = &self.template[chain_len..];
            for v in &mut self.voices {
                let mut had: Vec<Option<Box<dyn Module>>> =
                    v.modules.drain(chain_len..).map(Some).collect();
                for (id, kind, params) in &template[chain_len..] {
                    let kept = old.iter().position(|o| o == id).and_then(|i| had[i].take());
                    let m = match kept {
                        Some(m) => m,
                        None => {
                            let mut m = kind.build(sample_rate, block)?;
                            for (p, &x) in params.iter().enumerate() {
                                m.set_param(p as ParamId, x)?;
                            }
                            m.reset();
                            if v.phase == VoicePhase::Held && kind.gateable() {
                                let _ = m.gate(true);
                            }
                            m
                        }
                    };
                    v.modules.push(m);
                }
            }
            self.template = ids;
            self.kinds = kinds;
            return Ok(());
        }
        let mut voices = Vec::new();
        if !template.is_empty() {
            for _ in 0..MAX_VOICES {
                let mut modules = Vec::with_capacity(template.len());
                for (_, kind, params) in &template {
                    let mut m = kind.build(sample_rate, block)?;
                    for (p, &v) in params.iter().enumerate() {
                        m.set_param(p as ParamId, v)?;
                    }
                    m.reset();
                    modules.push(m);
                }
                voices.push(Voice {
                    note: 0,
                    velocity: 0.0,
                    phase: VoicePhase::Free,
                    since: 0,
                    sustained: false,
                    modules,
                });
            }
        }
        self.template = ids;
        self.kinds = kinds;
        self.voices = voices;
        self.span = 0;
        self.held_len = 0;
        Ok(())
    }

    /// Sets how many voices may sound and the mode. Notes sounding beyond a smaller count
    /// finish their release; a mode change releases every note.
    pub(crate) fn configure(&mut self, count: usize, mode: VoiceMode) -> Result<(), DspError> {
        self.settle();
        if !(1..=MAX_VOICES).contains(&count) {
            return Err(DspError::BadVoiceCount { count });
        }
        if mode != self.mode {
            self.note_off(None);
        }
        for v in self.voices.iter_mut().skip(count) {
            release(v, &mut self.serial);
        }
        self.count = count;
        self.mode = mode;
        Ok(())
    }

    /// Applies a template module's parameter change to that module in every voice (the
    /// oscillator's `freq` excepted: each voice plays its note's).
    pub(crate) fn set_param(
        &mut self,
        position: usize,
        kind: ModuleKind,
        param: ParamId,
        value: f32,
    ) {
        self.settle();
        if kind == ModuleKind::Osc && param == osc::FREQ {
            return;
        }
        for v in &mut self.voices {
            if let Some(m) = v.modules.get_mut(position) {
                // The template accepted the value; the copy (same kind) does too.
                let _ = m.set_param(param, value);
            }
        }
    }

    /// Starts `note` at `velocity` (0..1). Returns the voice that (re)started it, or `None`
    /// when a mono voice changed pitch legato (its envelopes and LFOs go on).
    pub(crate) fn note_on(&mut self, note: u8, velocity: f32) -> Result<Option<usize>, DspError> {
        self.settle();
        if self.voices.is_empty() {
            return Err(DspError::NoVoiceTemplate);
        }
        if note > 127 {
            return Err(DspError::BadNote { note });
        }
        if !velocity.is_finite() {
            return Err(DspError::NonFinite { param: "velocity" });
        }
        let velocity = velocity.clamp(0.0, 1.0);
        self.serial += 1;
        let serial = self.serial;
        match self.mode {
            VoiceMode::Poly => {
                let active = &self.voices[..self.count];
                let pick = active
                    .iter()
                    .position(|v| v.phase != VoicePhase::Free && v.note == note)
                    .or_else(|| active.iter().position(|v| v.phase == VoicePhase::Free))
                    .or_else(|| oldest(active, VoicePhase::Released))
                    .or_else(|| oldest(active, VoicePhase::Held))
                    .unwrap_or(0);
                let v = &mut self.voices[pick];
                start(v, note, velocity, serial, false, self.bend_ratio);
                self.span = self.span.max(pick + 1);
                Ok(Some(pick))
            }
            VoiceMode::Mono => {
                // Remember the note (once), dropping the oldest when the stack is full.
                let held = &mut self.held[..self.held_len];
                if let Some(i) = held.iter().position(|&h| h == note) {
                    held.copy_within(i + 1.., i);
                    self.held_len -= 1;
                }
                if self.held_len == MONO_STACK {
                    self.held.copy_within(1.., 0);
                    self.held_len -= 1;
                }
                self.held[self.held_len] = note;
                self.held_len += 1;
                let v = &mut self.voices[0];
                let legato = v.phase == VoicePhase::Held;
                start(v, note, velocity, serial, legato, self.bend_ratio);
                self.span = self.span.max(1);
                Ok((!legato).then_some(0))
            }
        }
    }

    /// Puts voice `voice`'s copies of LFOs in step with their modules (`global` gives a
    /// module's state by id); those with `retrig` 1 are restarted at phase 0 instead when
    /// `note` (a note starts), left alone otherwise (an edit). Never allocates. Real-time
    /// thread.
    pub(crate) fn start_lfos(
        &mut self,
        voice: usize,
        note: bool,
        global: impl Fn(ModuleId) -> Option<ModuleState>,
    ) {
        self.settle();
        let Some(v) = self.voices.get_mut(voice) else {
            return;
        };
        for (j, m) in v.modules.iter_mut().enumerate().skip(self.chain_len) {
            if self.kinds[j] != ModuleKind::Lfo {
                continue;
            }
            if m.param(lfo::RETRIG).unwrap_or(0.0) >= 0.5 {
                if note {
                    m.reset();
                }
            } else if let Some(state) = global(self.template[j]) {
                // Same kind, same sample rate: it fits.
                let _ = m.restore(&state);
            }
        }
    }

    /// The sounding voices, by index (for [`VoicePool::start_lfos`] after an edit).
    pub(crate) fn sounding_voices(&self) -> impl Iterator<Item = usize> + '_ {
        self.voices[..self.span]
            .iter()
            .enumerate()
            .filter(|(_, v)| v.phase != VoicePhase::Free)
            .map(|(i, _)| i)
    }

    /// Tells every voice's modules the tempo. Never allocates. Real-time thread.
    /// Gives every voice's sampler the sample it plays (see `Module::attach_samples`).
    pub(crate) fn attach_samples(&mut self, bank: &crate::sample::SampleBank) {
        self.settle();
        for v in &mut self.voices {
            for m in &mut v.modules {
                m.attach_samples(bank);
            }
        }
    }

    pub(crate) fn set_tempo(&mut self, bpm: f32) {
        self.settle();
        for m in self.voices.iter_mut().flat_map(|v| v.modules.iter_mut()) {
            m.set_tempo(bpm);
        }
    }

    /// Releases `note` (every note for `None`).
    pub(crate) fn note_off(&mut self, note: Option<u8>) {
        self.settle();
        match (self.mode, note) {
            (_, None) => {
                self.held_len = 0;
                for v in &mut self.voices {
                    if v.phase == VoicePhase::Held {
                        release(v, &mut self.serial);
                    }
                }
            }
            (VoiceMode::Poly, Some(n)) => {
                for v in &mut self.voices {
                    if v.phase == VoicePhase::Held && v.note == n {
                        if self.sustain {
                            v.sustained = true;
                        } else {
                            release(v, &mut self.serial);
                        }
                    }
                }
            }
            (VoiceMode::Mono, Some(n)) => {
                let held = &mut self.held[..self.held_len];
                if let Some(i) = held.iter().position(|&h| h == n) {
                    held.copy_within(i + 1.., i);
                    self.held_len -= 1;
                }
                let Some(v) = self.voices.first_mut() else {
                    return;
                };
                if v.phase != VoicePhase::Held || v.note != n {
                    return;
                }
                if self.held_len > 0 {
                    // Back to the most recent note still held, legato.
                    let back = self.held[self.held_len - 1];
                    self.serial += 1;
                    let velocity = v.velocity;
                    start(v, back, velocity, self.serial, true, self.bend_ratio);
                } else if self.sustain {
                    v.sustained = true;
                } else {
                    release(v, &mut self.serial);
                }
            }
        }
    }

    /// The sustain pedal: down, notes let go keep sounding as if held; up, those are
    /// released. Never allocates. Real-time thread.
    pub(crate) fn set_sustain(&mut self, on: bool) {
        self.settle();
        self.sustain = on;
        if on {
            return;
        }
        for v in &mut self.voices {
            if v.sustained {
                v.sustained = false;
                release(v, &mut self.serial);
            }
        }
    }

    /// Bends every voice's pitch by `semitones` (±[`MAX_BEND`]), those sounding at once and
    /// every note played after. Never allocates. Real-time thread.
    pub(crate) fn set_bend(&mut self, semitones: f32) -> Result<(), DspError> {
        self.settle();
        if !semitones.is_finite() {
            return Err(DspError::NonFinite { param: "bend" });
        }
        self.bend = semitones.clamp(-MAX_BEND, MAX_BEND);
        self.bend_ratio = (self.bend / 12.0).exp2();
        for v in self
            .voices
            .iter_mut()
            .filter(|v| v.phase != VoicePhase::Free)
        {
            tune(v, self.bend_ratio);
        }
        Ok(())
    }

    /// The sustain pedal's state and the bend in semitones.
    pub(crate) fn expression(&self) -> (bool, f32) {
        (self.sustain, self.bend)
    }

    /// (held, sounding) voices: sounding counts those in their release too. Never allocates.
    pub(crate) fn counts(&self) -> (usize, usize) {
        self.voices[..self.span]
            .iter()
            .fold((0, 0), |(held, sounding), v| {
                (
                    held + usize::from(v.phase == VoicePhase::Held),
                    sounding + usize::from(v.phase != VoicePhase::Free),
                )
            })
    }

    /// The notes held now and their velocities, in the order they were played.
    pub(crate) fn held(&self) -> Vec<(u8, f32)> {
        let mut held: Vec<&Voice> = self
            .voices
            .iter()
            .filter(|v| v.phase == VoicePhase::Held)
            .collect();
        held.sort_by_key(|v| v.since);
        held.iter().map(|v| (v.note, v.velocity)).collect()
    }

    /// True while some voice sounds (held, or in its release).
    pub(crate) fn sounding(&self) -> bool {
        // Every voice from the span on is free.
        self.span > 0
    }

    /// Renders every sounding voice and adds it to `out` (and `right`: a stereo patch whose
    /// template ends in a pan, which places each voice, spread across the pool by its
    /// `spread`). `amounts[k]` is the template module `k`'s modulation this block (and a mask
    /// of the parameters it touches); `head` the audio-rate modulation of the template's
    /// head (its `pm` and `fm`), the same for every voice.
    ///
    /// Voices whose chain starts with a plain sine, a holding envelope and a still biquad
    /// render those three in lanes ([`crate::lanes`]), the same to the bit as alone; the rest
    /// of their chain, and every other voice, one by one. The mix is the same either way:
    /// voice `i` is added into partial mix `i % LANES` (in voice order), then the partials into
    /// the output, partial 0 first; a lane's block joins its partial without crossing lanes.
    /// With voices 0 to 7 only (the default count) that is the very sum of adding one voice
    /// after another. Never allocates. Real-time thread.
    pub(crate) fn render_into(
        &mut self,
        out: &mut [f32],
        mut right: Option<&mut [f32]>,
        amounts: &[([f32; MAX_PARAMS], u16)],
        head: &AudioMod<'_>,
    ) {
        let plan = self.plan(out.len(), right.is_some(), amounts, head);
        let n = plan.n;
        if plan.partials {
            // They start at -0 (which adds nothing, to any value's bits).
            let sides = if plan.stereo { n } else { 0 };
            for m in self.mix[..n]
                .iter_mut()
                .chain(self.mix_right[..sides].iter_mut())
            {
                *m = [-0.0; LANES];
            }
        }
        // The voices a group's worth at a time, in voice order. A group's voices get their
        // modulation for the block, the kernel renders those it can take together, then each
        // voice of the group finishes its chain and joins the mix, in voice order: a voice's
        // state is touched while it is still in the cache.
        let mut total = 0;
        let span = self.span;
        for start in (0..span).step_by(LANES) {
            let end = Ord::min(start + LANES, span);
            let mut taken = self.take_lanes(&plan, start, end, amounts);
            let laned = taken.used.count_ones() as usize;
            // A few voices cost the kernel as much as a full group: those go one by one (the
            // same sound), their lanes handed back.
            if laned < MIN_GROUP {
                self.give_lanes_back(start, end, taken.used);
                taken.used = 0;
            }
            if taken.used != 0 {
                total += laned;
                if laned == taken.sounding && (plan.ends_in_kernel || taken.pans_at_rest) {
                    self.mix_group(&plan, start, end, &taken, out, right.as_deref_mut());
                    continue;
                }
                // Each lane's block apart, for the rest of its voice's chain.
                let tmp = &mut self.lane_tmp[..n];
                self.groups[start / LANES].render(tmp);
                let block = self.scratch.len();
                for lane in (0..LANES).filter(|l| taken.used & 1 << l != 0) {
                    let dst = &mut self.lane_out[lane * block..][..n];
                    for (d, t) in dst.iter_mut().zip(tmp.iter()) {
                        *d = t[lane];
                    }
                }
            }
            self.finish_one_by_one(&plan, start, end, out, right.as_deref_mut(), head);
        }
        // The partial mixes into the output, partial 0 first.
        if plan.partials {
            lanes::sum_lanes(&mut out[..n], &self.mix[..n], &[1.0; LANES], u8::MAX);
            if let Some(right) = right {
                let mix = &self.mix_right[..n];
                lanes::sum_lanes(&mut right[..n], mix, &[1.0; LANES], u8::MAX);
            }
        }
        self.laned = total;
        self.shrink_span();
    }

    /// What this block is, decided once before the pool's groups: `len` samples asked, two
    /// sides or one, the block's amounts and the head's audio-rate modulation. Real-time
    /// thread.
    fn plan(
        &self,
        len: usize,
        stereo: bool,
        amounts: &[([f32; MAX_PARAMS], u16)],
        head: &AudioMod<'_>,
    ) -> BlockPlan {
        let chain_len = self.chain_len;
        let panned = stereo && self.kinds[..chain_len].last() == Some(&ModuleKind::Pan);
        let lane_template = self.kinds.get(..KERNEL_STAGES)
            == Some(&[ModuleKind::Osc, ModuleKind::Adsr, ModuleKind::Filter])
            && chain_len >= KERNEL_STAGES;
        let sounding = self.counts().1;
        // (Fewer sounding voices than a group is worth: none asked, which would cost each
        // its parameters' aiming twice.)
        let laned_chain = self.lanes && sounding >= MIN_GROUP && head.is_empty() && lane_template;
        let quiet = self.routes.is_empty()
            && self.template.len() == chain_len
            && amounts
                .iter()
                .take(chain_len)
                .all(|&(_, touched)| touched == 0);
        BlockPlan {
            n: len.min(self.scratch.len()),
            stereo,
            panned,
            laned_chain,
            ends_in_kernel: !stereo
                && (chain_len == KERNEL_STAGES
                    || (chain_len == KERNEL_STAGES + 1 && self.kinds[3] == ModuleKind::Pan)),
            pans_after_kernel: panned && chain_len == KERNEL_STAGES + 1,
            quiet,
            // Decided from the pool's settings and its count of sounding voices alone, not
            // from whether lanes are on or where the voices are: a voice sounds the same to
            // the bit in a lane or alone. (A few voices left sounding on a wide span mix as
            // before: the partials would cost more than they save.)
            partials: self.span > LANES
                && sounding > LANES
                && lane_template
                && head.is_empty()
                && quiet
                && osc::set_as_a_plain_sine(&*self.voices[0].modules[0]),
        }
    }

    /// The lanes the voices `start..end` (a group) take this block: each voice's modulation
    /// for the block, then its lane kept, taken or handed back; a pan at rest's gains. A
    /// group whose voices all live in their lanes on a quiet block, every lane going on as
    /// it is and their blocks going straight into the mix, is not looked at voice by voice.
    /// Real-time thread.
    fn take_lanes(
        &mut self,
        plan: &BlockPlan,
        start: usize,
        end: usize,
        amounts: &[([f32; MAX_PARAMS], u16)],
    ) -> Taken {
        let n = plan.n;
        let group = &mut self.groups[start / LANES];
        let full = u8::MAX >> (LANES - (end - start));
        let of_group = |bits: u128| (bits >> start) as u8 & full;
        let stands = plan.quiet
            && plan.laned_chain
            && of_group(self.resident) == full
            && group.all_still(full, n)
            && (plan.ends_in_kernel
                || (plan.pans_after_kernel
                    && of_group(self.pans_ready) == full
                    && self.pan_routed_at[start..end]
                        .iter()
                        .all(|r| r.to_bits() == 0f32.to_bits())));
        if stands {
            return Taken {
                used: full,
                sounding: end - start,
                pans_at_rest: plan.pans_after_kernel,
            };
        }
        let mut taken = Taken {
            used: 0,
            sounding: 0,
            pans_at_rest: plan.pans_after_kernel,
        };
        for (lane, v) in self.voices[start..end].iter_mut().enumerate() {
            let index = start + lane;
            let bit = 1u128 << index;
            self.in_lane[index] = None;
            // A voice living in its lane sounds (its envelope goes on past the block); on a
            // quiet block nothing reaches it (nor does it spread: its head is a plain sine).
            let modulated = if plan.quiet && self.resident & bit != 0 {
                Modulated::NONE
            } else {
                if v.phase == VoicePhase::Free {
                    leave_if_resident(v, group, lane, &mut self.resident, start);
                    continue;
                }
                modulate(
                    v,
                    &mut self.scratch[..n],
                    self.chain_len,
                    &self.routes,
                    amounts,
                    plan.stereo,
                    plan.panned,
                )
            };
            taken.sounding += 1;
            self.pan_routed[index] = modulated.routed;
            self.spread[index] = modulated.spread;
            let takes = plan.laned_chain && !modulated.spread;
            // A voice living in its lane stays there while nothing moved its kernel's modules
            // (their parameters changed only through `settle`) and its envelope stays what the
            // lane takes: the lane goes on where it is.
            let stays = self.resident & bit != 0
                && takes
                && !modulated.kernel_moved()
                && group.still(lane, n);
            if !stays {
                leave_if_resident(v, group, lane, &mut self.resident, start);
                if !takes {
                    continue;
                }
                let [a, b, c, ..] = &mut v.modules[..] else {
                    continue;
                };
                let stages = match (a.begin_lane(), b.begin_lane(), c.begin_lane()) {
                    (Some(a), Some(b), Some(c)) => [a, b, c],
                    _ => continue,
                };
                if !group.set(lane, &stages, n) {
                    continue;
                }
                self.resident |= bit;
            }
            self.in_lane[index] = Some(lane);
            taken.used |= 1 << lane;
            // The pan's gains as they were, while nothing moved it (its parameters change
            // only through `settle`, and the rest of its chain did not run it); else placed
            // as the rest of its chain would place it (and the same again there if the group
            // goes that way).
            let routed = modulated.routed;
            let pan_kept = self.pans_ready & bit != 0
                && !modulated.reached(KERNEL_STAGES)
                && self.pan_routed_at[index].to_bits() == routed.to_bits();
            if taken.pans_at_rest && !pan_kept {
                let m = &mut v.modules[KERNEL_STAGES];
                let spread_by = m.param(pan::SPREAD).unwrap_or(0.0);
                let offset = pan::voice_offset(index, self.count);
                m.set_modulation(pan::POS, routed + spread_by * offset);
                let pans = &mut self.lane_pans[start / LANES];
                match m.begin_lane() {
                    Some(LaneStage::Pan { left, right }) => {
                        pans[0][lane] = left;
                        pans[1][lane] = right;
                        self.pans_ready |= bit;
                        self.pan_routed_at[index] = routed;
                    }
                    _ => {
                        taken.pans_at_rest = false;
                        self.pans_ready &= !bit;
                    }
                }
            }
        }
        taken
    }

    /// Hands the lanes `used` of the group starting at voice `start` back: those voices go
    /// one by one this block. Real-time thread.
    fn give_lanes_back(&mut self, start: usize, end: usize, used: u8) {
        let group = &mut self.groups[start / LANES];
        for (lane, v) in self.voices[start..end].iter_mut().enumerate() {
            if used & 1 << lane != 0 {
                leave_if_resident(v, group, lane, &mut self.resident, start);
                self.in_lane[start + lane] = None;
            }
        }
    }

    /// The group `start..end`, every voice of it in a lane and its chain ending there (or
    /// at a pan at rest): the kernel's blocks straight into the mix (the partial mixes, or
    /// the output lane after lane). Real-time thread.
    fn mix_group(
        &mut self,
        plan: &BlockPlan,
        start: usize,
        end: usize,
        taken: &Taken,
        out: &mut [f32],
        right: Option<&mut [f32]>,
    ) {
        let (n, used) = (plan.n, taken.used);
        let group = &mut self.groups[start / LANES];
        let tmp = &mut self.lane_tmp[..n];
        let mut gains = [0.0f32; LANES];
        for (gain, v) in gains.iter_mut().zip(&self.voices[start..end]) {
            *gain = v.velocity;
        }
        let [left_pans, right_pans] = &self.lane_pans[start / LANES];
        match (plan.partials, right) {
            (true, _) if taken.pans_at_rest => {
                group.render(tmp);
                let (mix, mix_right) = (&mut self.mix[..n], &mut self.mix_right[..n]);
                lanes::add_lanes(mix, tmp, Some(left_pans), &gains, used);
                lanes::add_lanes(mix_right, tmp, Some(right_pans), &gains, used);
            }
            (true, _) => group.render_into_mix(tmp, &mut self.mix[..n], &gains, used),
            (false, Some(right)) if taken.pans_at_rest => {
                group.render(tmp);
                lanes::sum_lanes_panned(&mut out[..n], tmp, left_pans, &gains, used);
                lanes::sum_lanes_panned(&mut right[..n], tmp, right_pans, &gains, used);
            }
            (false, _) => {
                group.render(tmp);
                lanes::sum_lanes(&mut out[..n], tmp, &gains, used);
            }
        }
        for (lane, v) in self.voices[start..end].iter_mut().enumerate() {
            if free_if_done(v) {
                leave_if_resident(v, group, lane, &mut self.resident, start);
            }
        }
    }

    /// Every sounding voice of the group `start..end`, in voice order: the rest of its
    /// chain (from its lane's block, or all of it), then into the output (or, through
    /// partial mixes, into its column of the group's block, the group's columns then added
    /// into their partials side by side). Real-time thread.
    fn finish_one_by_one(
        &mut self,
        plan: &BlockPlan,
        start: usize,
        end: usize,
        out: &mut [f32],
        mut right: Option<&mut [f32]>,
        head: &AudioMod<'_>,
    ) {
        let (n, chain_len, block) = (plan.n, self.chain_len, self.scratch.len());
        let last = chain_len.saturating_sub(1);
        let group = &mut self.groups[start / LANES];
        let scratch_right = &mut self.scratch_right[..n];
        let (mut columns, mut column_gains) = (0u8, [0.0f32; LANES]);
        for (index, v) in self.voices[start..end].iter_mut().enumerate() {
            let index = start + index;
            if v.phase == VoicePhase::Free {
                continue;
            }
            let spread = self.spread[index];
            // Its pan runs (and may move on): its gains are made anew next time.
            self.pans_ready &= !(1u128 << index);
            // A voice out of the kernel goes on from its block there.
            let (scratch, from) = match self.in_lane[index] {
                Some(lane) => (&mut self.lane_out[lane * block..][..n], KERNEL_STAGES),
                None => (&mut self.scratch[..n], 0),
            };
            let place = Place {
                panned: plan.panned,
                routed: self.pan_routed[index],
                offset: pan::voice_offset(index, self.count),
            };
            let chain = &mut v.modules[..chain_len];
            for (k, m) in chain.iter_mut().enumerate().skip(from) {
                if k == 0 {
                    scratch.fill(0.0);
                }
                if place.panned && k == last {
                    // This voice's place: the template's, moved by its share of the spread.
                    let spread_by = m.param(pan::SPREAD).unwrap_or(0.0);
                    m.set_modulation(pan::POS, place.routed + spread_by * place.offset);
                    if !spread {
                        scratch_right.copy_from_slice(scratch);
                    }
                    m.process_stereo(scratch, scratch_right, spread);
                } else if k == 0 && (spread || !head.is_empty()) {
                    m.process_audio(scratch, spread.then_some(&mut *scratch_right), head);
                } else if spread {
                    m.process_stereo(scratch, scratch_right, true);
                } else {
                    m.process(scratch);
                }
            }
            let (g, partial) = (v.velocity, index % LANES);
            let side = if plan.panned || spread {
                &*scratch_right
            } else {
                &*scratch
            };
            if plan.partials {
                for (c, s) in self.lane_tmp[..n].iter_mut().zip(scratch.iter()) {
                    c[partial] = *s;
                }
                if plan.stereo {
                    for (c, s) in self.lane_tmp_right[..n].iter_mut().zip(side) {
                        c[partial] = *s;
                    }
                }
                columns |= 1 << partial;
                column_gains[partial] = g;
            } else {
                for (o, s) in out[..n].iter_mut().zip(scratch.iter()) {
                    *o += g * s;
                }
                if let Some(right) = right.as_deref_mut() {
                    for (o, s) in right[..n].iter_mut().zip(side) {
                        *o += g * s;
                    }
                }
            }
            if free_if_done(v) {
                leave_if_resident(v, group, index - start, &mut self.resident, start);
            }
        }
        if columns != 0 {
            let (mix, tmp) = (&mut self.mix[..n], &self.lane_tmp[..n]);
            lanes::add_lanes(mix, tmp, None, &column_gains, columns);
            if plan.stereo {
                let (mix, tmp) = (&mut self.mix_right[..n], &self.lane_tmp_right[..n]);
                lanes::add_lanes(mix, tmp, None, &column_gains, columns);
            }
        }
    }

    /// Hands every voice living in a lane back to its modules (their phase, envelope and
    /// history as the lane has moved them on): before anything outside
    /// [`VoicePool::render_into`] reads or changes a voice's modules. Never allocates.
    /// Real-time thread.
    fn settle(&mut self) {
        let mut bits = self.resident;
        while bits != 0 {
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            leave_lane(
                &mut self.voices[index],
                &mut self.groups[index / LANES],
                index % LANES,
            );
        }
        self.resident = 0;
        self.pans_ready = 0;
    }

    /// Moves [`VoicePool::span`] down past the free voices at its end. Real-time thread.
    fn shrink_span(&mut self) {
        while self.span > 0 && self.voices[self.span - 1].phase == VoicePhase::Free {
            self.span -= 1;
        }
    }

    /// Renders voices one by one only (`false`), not in lanes: the reference the lanes are
    /// checked against, and the "before" of the voice benchmark. (Voices living in lanes
    /// leave them at the next block.) Never allocates. Real-time thread.
    pub(crate) fn set_lanes(&mut self, on: bool) {
        self.lanes = on;
    }

    /// Voices rendered in lanes in the last block.
    pub(crate) fn laned(&self) -> usize {
        self.laned
    }

    /// The value in effect of `param` of the template module at `position` in the voice
    /// sounding `note` (for tools and tests).
    pub(crate) fn effective(&self, note: u8, position: usize, param: ParamId) -> Option<f32> {
        self.voices
            .iter()
            .find(|v| v.phase != VoicePhase::Free && v.note == note)
            .and_then(|v| v.modules.get(position))
            .and_then(|m| m.effective(param))
    }

    /// The sounding voices' notes and phases, in voice order (allocates; for tools and tests).
    pub(crate) fn notes(&self) -> Vec<(u8, VoicePhase)> {
        self.voices
            .iter()
            .filter(|v| v.phase != VoicePhase::Free)
            .map(|v| (v.note, v.phase))
            .collect()
    }

    pub(crate) fn state(&self) -> VoicesState {
        VoicesState {
            count: self.count as u8,
            mode: self.mode,
            serial: self.serial,
            held: self.held[..self.held_len].to_vec(),
            sustain: self.sustain,
            bend: self.bend,
            voices: self
                .voices
                .iter()
                .enumerate()
                .map(|(index, v)| {
                    let mut modules: Vec<ModuleState> =
                        v.modules.iter().map(|m| m.state()).collect();
                    // A voice living in its lane: its modules as the lane will hand them back.
                    if self.resident & 1 << index != 0 {
                        let ends = self.groups[index / LANES].end(index % LANES);
                        for (m, end) in modules.iter_mut().zip(ends) {
                            m.end_lane(end);
                        }
                    }
                    VoiceState {
                        note: v.note,
                        velocity: v.velocity,
                        phase: v.phase,
                        since: v.since,
                        sustained: v.sustained,
                        modules,
                    }
                })
                .collect(),
        }
    }

    pub(crate) fn restore(&mut self, s: &VoicesState) -> Result<(), DspError> {
        self.settle();
        let mismatch = |reason| Err(DspError::StateMismatch { reason });
        if s.voices.len() != self.voices.len() {
            return mismatch("voice pool differs");
        }
        if s.held.len() > MONO_STACK
            || !(1..=MAX_VOICES).contains(&usize::from(s.count))
            || !(s.bend.is_finite() && s.bend.abs() <= MAX_BEND)
        {
            return mismatch("voice settings out of range");
        }
        for (v, vs) in self.voices.iter().zip(&s.voices) {
            if vs.modules.len() != v.modules.len() {
                return mismatch("voice template differs");
            }
        }
        for (v, vs) in self.voices.iter_mut().zip(&s.voices) {
            for (m, ms) in v.modules.iter_mut().zip(&vs.modules) {
                m.restore(ms)?;
            }
            v.note = vs.note;
            v.velocity = vs.velocity;
            v.phase = vs.phase;
            v.since = vs.since;
            v.sustained = vs.sustained;
        }
        self.sustain = s.sustain;
        self.bend = s.bend;
        self.bend_ratio = (s.bend / 12.0).exp2();
        self.count = usize::from(s.count);
        self.mode = s.mode;
        self.serial = s.serial;
        self.held_len = s.held.len();
        self.held[..self.held_len].copy_from_slice(&s.held);
        self.span = self.voices.len();
        self.shrink_span();
        Ok(())
    }
}

/// The voice in `phase` that has been so the longest.
fn oldest(voices: &[Voice], phase: VoicePhase) -> Option<usize> {
    voices
        .iter()
        .enumerate()
        .filter(|(_, v)| v.phase == phase)
        .min_by_key(|(_, v)| v.since)
        .map(|(i, _)| i)
}

/// Gives `v` the note. A free voice starts clean (fresh phase and filter, no glide); a busy
/// one changes pitch in place; unless `legato`, its envelopes (re)open.
fn start(v: &mut Voice, note: u8, velocity: f32, serial: u64, legato: bool, bend_ratio: f32) {
    let fresh = v.phase == VoicePhase::Free;
    v.note = note;
    tune(v, bend_ratio);
    if fresh {
        for m in &mut v.modules {
            m.reset();
        }
    }
    if !legato {
        for m in &mut v.modules {
            if m.kind().gateable() {
                let _ = m.gate(true);
            }
        }
        v.velocity = velocity;
    }
    v.phase = VoicePhase::Held;
    v.sustained = false;
    v.since = serial;
}

/// Sets the voice's oscillators and samplers to its note, bent by `bend_ratio`.
fn tune(v: &mut Voice, bend_ratio: f32) {
    let hz = note_hz(v.note) * bend_ratio;
    for m in &mut v.modules {
        if matches!(m.kind(), ModuleKind::Osc | ModuleKind::Sampler) {
            // Clamped by the module (a bent note past Nyquist stays below it); the sampler's
            // `freq` is its parameter 0 too.
            let _ = m.set_param(osc::FREQ, hz);
        }
    }
}

fn release(v: &mut Voice, serial: &mut u64) {
    if v.phase != VoicePhase::Held {
        return;
    }
    for m in &mut v.modules {
        if m.kind().gateable() {
            let _ = m.gate(false);
        }
    }
    *serial += 1;
    v.phase = VoicePhase::Released;
    v.since = *serial;
}

/// What a block of the pool is, decided once before its groups
/// ([`VoicePool::render_into`]).
#[derive(Debug, Clone, Copy)]
struct BlockPlan {
    /// Samples this block.
    n: usize,
    /// Two sides.
    stereo: bool,
    /// The chain ends in a pan (two sides).
    panned: bool,
    /// Voices may take lanes this block.
    laned_chain: bool,
    /// The chain ends with the kernel (or with a pan, which leaves a mono block as it is):
    /// a group's blocks can be mixed straight out of the kernel.
    ends_in_kernel: bool,
    /// Two sides, the chain ending with a pan after the kernel: a group's blocks can be
    /// mixed into both sides straight out of the kernel while each pan is at rest.
    pans_after_kernel: bool,
    /// Nothing reaches a voice's modules this block: no routes or sources of the voices'
    /// own, no amounts.
    quiet: bool,
    /// The voices are mixed through partial mixes: there are more of them than lanes and
    /// they may all live in lanes (a plain sine into an envelope into a biquad, nothing
    /// reaching them); else one voice after another straight into the output.
    partials: bool,
}

/// The lanes a group takes this block ([`VoicePool::take_lanes`]).
#[derive(Debug, Clone, Copy)]
struct Taken {
    /// The lanes the kernel renders (a bit each).
    used: u8,
    /// The group's sounding voices.
    sounding: usize,
    /// Every voice in a lane has its pan at rest, its gains in the group's `lane_pans`.
    pans_at_rest: bool,
}

/// Where a voice of a stereo patch goes this block.
struct Place {
    /// The chain ends in a pan.
    panned: bool,
    /// The pan position routed into the template's pan this block.
    routed: f32,
    /// This voice's share of the pan's spread.
    offset: f32,
}

/// Frees a released voice once a module of it has gone quiet (its envelope's release done),
/// after its block; true when it did. Real-time thread.
fn free_if_done(v: &mut Voice) -> bool {
    let done = v.phase == VoicePhase::Released && v.modules.iter().any(|m| m.is_idle());
    if done {
        v.phase = VoicePhase::Free;
    }
    done
}

/// Hands the lane of `v` (voice `start + lane`, in `lane` of `group`) back if it lives
/// there (`resident`: a bit a voice). Real-time thread.
fn leave_if_resident(
    v: &mut Voice,
    group: &mut SineGainBiquad,
    lane: usize,
    resident: &mut u128,
    start: usize,
) {
    let bit = 1u128 << (start + lane);
    if *resident & bit != 0 {
        leave_lane(v, group, lane);
        *resident &= !bit;
    }
}

/// Hands voice `v`'s lane (`lane` of `group`) back to its modules and empties it: their
/// phase, envelope and history as the lane moved them on. Real-time thread.
fn leave_lane(v: &mut Voice, group: &mut SineGainBiquad, lane: usize) {
    for (m, end) in v.modules.iter_mut().zip(group.end(lane)) {
        m.end_lane(end);
    }
    group.clear(lane);
}

/// What [`modulate`] did to a voice this block.
struct Modulated {
    /// The pan position routed into the chain's last module (a panned chain).
    routed: f32,
    /// The head spreads its unison copies across the two sides.
    spread: bool,
    /// The chain's modules a modulation reached (a bit each, head first).
    moved: u32,
}

impl Modulated {
    /// Nothing routed, no spread, no module reached.
    const NONE: Modulated = Modulated {
        routed: 0.0,
        spread: false,
        moved: 0,
    };

    /// A modulation reached a module the lane kernel renders.
    fn kernel_moved(&self) -> bool {
        self.moved & ((1 << KERNEL_STAGES) - 1) != 0
    }

    /// A modulation reached the chain's `k`-th module.
    fn reached(&self, k: usize) -> bool {
        self.moved & 1u32.checked_shl(k as u32).unwrap_or(0) != 0
    }
}

/// No modulation amounts (a module the block's amounts do not reach).
const NO_AMOUNTS: [f32; MAX_PARAMS] = [0.0; MAX_PARAMS];

/// Applies this block's modulation to every module of `v`'s chain (the template's, plus the
/// voice's own sources, which it reads first, rendering them into `scratch` if need be).
/// Returns the pan position routed into the chain's last module (when `panned`), whether the
/// head spreads its unison copies across the two sides (`stereo` only) and whether a
/// modulation reached a module the lane kernel renders. Real-time thread.
fn modulate(
    v: &mut Voice,
    scratch: &mut [f32],
    chain_len: usize,
    routes: &[VoiceRoute],
    amounts: &[([f32; MAX_PARAMS], u16)],
    stereo: bool,
    panned: bool,
) -> Modulated {
    let n = scratch.len();
    // The voice's own sources first (control rate: each block's first sample).
    let mut own = [0.0f32; MAX_OWN_SOURCES];
    let (chain, sources) = v.modules.split_at_mut(chain_len);
    let spread = stereo
        && chain.first().is_some_and(|h| {
            h.kind() == ModuleKind::Osc
                && h.param(osc::SPREAD).unwrap_or(0.0) > 0.0
                && h.param(osc::UNISON).unwrap_or(1.0) > 1.0
        });
    for (value, m) in own.iter_mut().zip(sources.iter_mut()) {
        *value = match m.skip(n) {
            Some(first) => first,
            None => {
                m.process(scratch);
                scratch[0]
            }
        };
    }
    let last = chain_len.saturating_sub(1);
    let mut routed = 0.0;
    let mut moved = 0u32;
    for (k, m) in chain.iter_mut().enumerate() {
        let (given, given_touched) = amounts.get(k).map_or((&NO_AMOUNTS, 0), |(a, t)| (a, *t));
        // The block's amounts as they are, unless a route of the voice's own reaches this
        // module (most modules, most blocks: nothing to copy).
        let with_routes;
        let (a, touched) = if routes.iter().any(|r| r.to == k) {
            let (mut a, mut touched) = (*given, given_touched);
            for r in routes.iter().filter(|r| r.to == k) {
                let x = match r.from {
                    VoiceSource::Module(j) => own.get(j - chain_len).copied().unwrap_or(0.0),
                    VoiceSource::Velocity => v.velocity,
                    VoiceSource::Key => (f32::from(v.note) - 60.0) / 12.0,
                };
                if let Some(slot) = a.get_mut(r.param as usize) {
                    *slot += x * r.depth;
                    touched |= 1 << r.param;
                }
            }
            with_routes = a;
            (&with_routes, touched)
        } else {
            (given, given_touched)
        };
        if touched != 0 {
            moved |= 1u32.checked_shl(k as u32).unwrap_or(0);
        }
        // The parameters touched, in order (a bit each).
        let mut bits = touched;
        while bits != 0 {
            let p = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            m.set_modulation(p as ParamId, a[p]);
        }
        if panned && k == last && touched & (1 << pan::POS) != 0 {
            routed = a[pan::POS as usize];
        }
    }
    Modulated {
        routed,
        spread,
        moved,
    }
}
