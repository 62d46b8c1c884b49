//! The [`Module`] trait every audio-rate module implements, and its plain-data state.

pub use crate::modules::any::AnyModule;
use crate::modules::{
    adsr::{self, Adsr, AdsrState},
    bus::{self, Bus, BusState},
    env::{self, Env, EnvState},
    filter::{self, Filter, FilterState},
    lfo::{self, Lfo, LfoState},
    noise::{self, Noise, NoiseState},
    osc::{self, Osc, OscState},
    pan::{self, Pan, PanState},
    sampler::{self, Sampler, SamplerState},
};
#[cfg(feature = "effects")]
use crate::modules::{
    delay::{self, Delay, DelayState},
    reverb::{self, Reverb, ReverbState},
};
use crate::{DspError, ParamId, ParamSpec, SetOutcome};

/// Smallest block size a module can be built for.
pub const MIN_BLOCK: usize = 16;
/// Largest block size a module can be built for.
pub const MAX_BLOCK: usize = 1024;
/// The most parameters a kind of module has (modulation keeps one amount for each).
pub const MAX_PARAMS: usize = 16;

/// An audio-rate module: processes one block in place, has typed parameters, and can copy out
/// and restore its complete state.
///
/// Thread contract: every method may be called from the audio thread; none allocates, locks or
/// blocks. `process` takes at most the block size the module was built for.
pub trait Module: Send {
    /// What kind of module this is.
    fn kind(&self) -> ModuleKind;

    /// Sets a parameter's base value, clamped to range. Non-finite values are rejected and
    /// change nothing.
    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError>;

    /// The base value of a parameter (as last set), or `None` for an unknown index.
    fn param(&self, param: ParamId) -> Option<f32>;

    /// The value in effect right now (smoothed and modulated), or `None` for an unknown index.
    fn effective(&self, param: ParamId) -> Option<f32>;

    /// Sets the modulation added to `param` from the next block on, in modulation units
    /// (1.0 = full scale of the parameter's [`crate::ModScale`]). Unknown indexes are ignored.
    fn set_modulation(&mut self, param: ParamId, amount: f32);

    /// Opens (`true`) or closes the module's gate.
    fn gate(&mut self, on: bool) -> Result<(), DspError> {
        let _ = on;
        Err(DspError::NotGateable {
            module: self.kind().name(),
        })
    }

    /// Tells the module the musical tempo in BPM (the sequencer's), for parameters that
    /// follow it (the delay's `sync`). Most modules ignore it.
    fn set_tempo(&mut self, bpm: f32) {
        let _ = bpm;
    }

    /// True while the module is silent until its gate opens again (an envelope at rest), so
    /// a voice holding it has finished. Modules without a gate are never idle.
    fn is_idle(&self) -> bool {
        false
    }

    /// Processes one block in place. Sources overwrite it; processors transform it.
    fn process(&mut self, block: &mut [f32]);

    /// Processes one block like [`Module::process`], with audio-rate modulation: for each
    /// parameter whose [`crate::ModScale`] is `Audio` and that has routes, `audio` holds the
    /// sum of its sources sample by sample (times depth and scale). With `right`, a source
    /// renders two sides (the oscillator places its unison copies by its `spread`). The default
    /// ignores `audio` (no module but the oscillator has such parameters) and gives `right` a
    /// copy. Real-time thread.
    fn process_audio(
        &mut self,
        block: &mut [f32],
        right: Option<&mut [f32]>,
        audio: &AudioMod<'_>,
    ) {
        let _ = audio;
        self.process(block);
        if let Some(right) = right {
            right[..block.len()].copy_from_slice(block);
        }
    }

    /// Processes one stereo block in place (a stereo patch's two-channel modules: see
    /// [`ModuleKind::stereo`]). `input_stereo` tells whether the input was two channels, or
    /// one mono signal copied into both (a pan places the latter, balances the former).
    ///
    /// The default is a mono module's: it renders `left` and copies it into `right`
    /// (sources, which take no input).
    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], input_stereo: bool) {
        let _ = input_stereo;
        self.process(left);
        right[..left.len()].copy_from_slice(left);
    }

    /// Moves on by `samples` samples without rendering them and returns what the first of
    /// them would have been, where the module can do so cheaply and leave exactly the state
    /// `process` would (the LFO, read at control rate). `None`: the caller must `process`.
    fn skip(&mut self, samples: usize) -> Option<f32> {
        let _ = samples;
        None
    }

    /// True when this block's output will not depend on the module's input, whatever
    /// modulation reaches it before it renders (an envelope at rest renders silence): what
    /// feeds only such modules need not render this block ([`Module::pass`]). Asked before
    /// the block. The default: it depends. Real-time thread.
    fn ignores_input(&self) -> bool {
        false
    }

    /// True when [`Module::ignores_input`] can ever be true (an envelope): only modules
    /// heard by such a module are asked to pass. Asked when the graph changes.
    fn can_ignore_input(&self) -> bool {
        false
    }

    /// True when the module is at rest: each block rendered from here (`process_stereo` when
    /// `stereo`, else `process`) would leave its block and its state exactly as they are (a
    /// delay or a reverb with none of its effect in the mix and nothing moving) until one of
    /// its parameters, modulation amounts, the tempo, its sample or its state is set. The
    /// patch then does not render it (its shortcuts on) until one is. Asked after a block it
    /// rendered, of modules that [`Module::may_rest`]. The default: never. Real-time thread.
    fn resting(&self, stereo: bool) -> bool {
        let _ = stereo;
        false
    }

    /// True when [`Module::resting`] can ever be true. Asked when the module is added.
    fn may_rest(&self) -> bool {
        false
    }

    /// Moves on by `samples` samples when nothing reads the module's output at all (not even
    /// its first sample), or only modules that ignore it this block
    /// ([`Module::ignores_input`]), leaving exactly the state `process` would; `false`: it
    /// cannot, and the caller must [`Module::skip`] or `process`. The default cannot.
    /// Real-time thread.
    fn pass(&mut self, samples: usize) -> bool {
        let _ = samples;
        false
    }

    /// This block's work as a stage of the lane kernel ([`crate::lanes`]), when the module is
    /// in a state the kernel covers; `None`: the caller must `process`. Does what `process`
    /// does before its loop (parameters aimed at their targets), so `process` may follow it.
    /// Real-time thread.
    fn begin_lane(&mut self) -> Option<crate::lanes::LaneStage<'_>> {
        None
    }

    /// Takes back where the blocks rendered in a lane since [`Module::begin_lane`] ended (the
    /// sine's phase, the envelope's samples along its segment, the biquad's history): one
    /// block or many (a voice may live in its lane). Real-time thread.
    fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        let _ = end;
    }

    /// A copy of the complete state.
    fn state(&self) -> ModuleState;

    /// Restores a state taken from a module of the same kind and sample rate.
    fn restore(&mut self, state: &ModuleState) -> Result<(), DspError>;

    /// Returns to the state of a freshly built module (parameters keep their values).
    fn reset(&mut self);

    /// Takes from `bank` the sample it plays, if it plays one (the sampler); called by the
    /// patch whenever the bank or the module's choice changes. No allocation (a handle is
    /// cloned).
    fn attach_samples(&mut self, bank: &crate::sample::SampleBank) {
        let _ = bank;
    }

    /// Bytes of audio memory it holds (a delay's or reverb's lines): what a snapshot of it
    /// carries. Most modules hold none.
    fn memory_bytes(&self) -> usize {
        0
    }
}

/// The most parameters of one kind that take audio-rate modulation.
pub const MAX_AUDIO_RATE: usize = 2;

/// One block's audio-rate modulation of a module's parameters ([`Module::process_audio`]):
/// per parameter, the sum of its audio-rate routes, sample by sample.
#[derive(Debug, Clone, Copy, Default)]
pub struct AudioMod<'a> {
    signals: [Option<(ParamId, &'a [f32])>; MAX_AUDIO_RATE],
}

impl<'a> AudioMod<'a> {
    /// Adds `param`'s signal (ignored past [`MAX_AUDIO_RATE`] parameters). Real-time thread.
    pub fn with(mut self, param: ParamId, signal: &'a [f32]) -> Self {
        if let Some(slot) = self.signals.iter_mut().find(|s| s.is_none()) {
            *slot = Some((param, signal));
        }
        self
    }

    /// The signal of `param`, if it has one. Real-time thread.
    pub fn get(&self, param: ParamId) -> Option<&'a [f32]> {
        self.signals
            .iter()
            .flatten()
            .find(|s| s.0 == param)
            .map(|s| s.1)
    }

    /// True when no parameter has a signal.
    pub fn is_empty(&self) -> bool {
        self.signals.iter().all(Option::is_none)
    }
}

/// The kinds of module chronus knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ModuleKind {
    /// Band-limited oscillator (`sine`, `sine2`, …).
    Osc,
    /// Attack-decay-sustain-release envelope applied to its input.
    Adsr,
    /// RBJ cookbook biquad filter.
    Filter,
    /// Low-frequency oscillator for modulation.
    Lfo,
    /// Places a mono signal between the two sides (equal power), balances a stereo one.
    Pan,
    /// A mixer bus: sums what is sent to it (each send at its level), at a gain.
    Bus,
    /// Noise: white, pink or brown.
    Noise,
    /// A modulation envelope: a source routed into parameters.
    Env,
    /// Plays a loaded sample when its gate opens (pitched, looped, sliced).
    Sampler,
    /// Feedback delay (echo).
    #[cfg(feature = "effects")]
    Delay,
    /// Freeverb reverb.
    #[cfg(feature = "effects")]
    Reverb,
}

/// How many channels a kind of module renders in a stereo patch (in a mono patch, one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stereo {
    /// One: a source (its audio is copied into both sides where a stereo module takes it).
    Never,
    /// Two when some input is stereo (envelopes, filters: each side alike).
    FollowsInput,
    /// Always two (pan, delay, reverb, bus).
    Always,
}

/// What chronus knows of a kind of module, in one row: its names, parameter table, whether it
/// takes a gate, how many channels it renders, how to build one (for a stereo patch or not).
struct KindInfo {
    kind: ModuleKind,
    /// The type name first, then the other names `/patch/create` takes.
    names: &'static [&'static str],
    params: &'static [ParamSpec],
    gateable: bool,
    stereo: Stereo,
    /// One in a box of its own size (an instrument's voices hold theirs so).
    build: fn(f64, bool) -> Box<dyn Module>,
    /// One by value (a patch's nodes hold theirs so).
    hold: fn(f64, bool) -> AnyModule,
}

/// Every kind this build has, in [`ModuleKind::ALL`]'s order.
const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: ModuleKind::Osc,
        names: &["osc", "sine", "oscillator"],
        params: &osc::PARAMS,
        gateable: false,
        stereo: Stereo::Never,
        build: |sr, _| Box::new(Osc::new(sr)),
        hold: |sr, _| AnyModule::Osc(Osc::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Adsr,
        names: &["adsr", "envelope"],
        params: &adsr::PARAMS,
        gateable: true,
        stereo: Stereo::FollowsInput,
        build: |sr, _| Box::new(Adsr::new(sr)),
        hold: |sr, _| AnyModule::Adsr(Adsr::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Filter,
        names: &["filter", "biquad"],
        params: &filter::PARAMS,
        gateable: false,
        stereo: Stereo::FollowsInput,
        build: |sr, _| Box::new(Filter::new(sr)),
        hold: |sr, _| AnyModule::Filter(Filter::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Lfo,
        names: &["lfo"],
        params: &lfo::PARAMS,
        gateable: false,
        stereo: Stereo::Never,
        build: |sr, _| Box::new(Lfo::new(sr)),
        hold: |sr, _| AnyModule::Lfo(Lfo::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Pan,
        names: &["pan", "panner"],
        params: &pan::PARAMS,
        gateable: false,
        stereo: Stereo::Always,
        build: |sr, _| Box::new(Pan::new(sr)),
        hold: |sr, _| AnyModule::Pan(Pan::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Bus,
        names: &["bus", "mixer"],
        params: &bus::PARAMS,
        gateable: false,
        stereo: Stereo::Always,
        build: |sr, _| Box::new(Bus::new(sr)),
        hold: |sr, _| AnyModule::Bus(Bus::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Noise,
        names: &["noise"],
        params: &noise::PARAMS,
        gateable: false,
        stereo: Stereo::Never,
        build: |sr, _| Box::new(Noise::new(sr)),
        hold: |sr, _| AnyModule::Noise(Noise::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Env,
        names: &["env", "modenv"],
        params: &env::PARAMS,
        gateable: true,
        stereo: Stereo::Never,
        build: |sr, _| Box::new(Env::new(sr)),
        hold: |sr, _| AnyModule::Env(Env::new(sr)),
    },
    KindInfo {
        kind: ModuleKind::Sampler,
        names: &["sampler"],
        params: &sampler::PARAMS,
        gateable: true,
        stereo: Stereo::Never,
        build: |sr, _| Box::new(Sampler::new(sr)),
        hold: |sr, _| AnyModule::Sampler(Sampler::new(sr)),
    },
    #[cfg(feature = "effects")]
    KindInfo {
        kind: ModuleKind::Delay,
        names: &["delay", "echo"],
        params: &delay::PARAMS,
        gateable: false,
        stereo: Stereo::Always,
        build: |sr, stereo| Box::new(Delay::new_with(sr, stereo)),
        hold: |sr, stereo| AnyModule::Delay(Delay::new_with(sr, stereo)),
    },
    #[cfg(feature = "effects")]
    KindInfo {
        kind: ModuleKind::Reverb,
        names: &["reverb", "freeverb"],
        params: &reverb::PARAMS,
        gateable: false,
        stereo: Stereo::Always,
        build: |sr, stereo| Box::new(Reverb::new_with(sr, stereo)),
        hold: |sr, stereo| AnyModule::Reverb(Reverb::new_with(sr, stereo)),
    },
];

impl ModuleKind {
    /// Every kind this build has.
    pub const ALL: &'static [ModuleKind] = &[
        ModuleKind::Osc,
        ModuleKind::Adsr,
        ModuleKind::Filter,
        ModuleKind::Lfo,
        ModuleKind::Pan,
        ModuleKind::Bus,
        ModuleKind::Noise,
        ModuleKind::Env,
        ModuleKind::Sampler,
        #[cfg(feature = "effects")]
        ModuleKind::Delay,
        #[cfg(feature = "effects")]
        ModuleKind::Reverb,
    ];

    fn info(self) -> &'static KindInfo {
        // Every variant has its row (checked by a test); the index is the variant's place.
        &KINDS[self as usize]
    }

    /// Type name, as used by `/patch/create <id> <type>`.
    pub fn name(self) -> &'static str {
        self.info().names[0]
    }

    /// Parses a type name (`osc` also accepts `sine` and `oscillator`).
    pub fn parse(name: &str) -> Result<Self, DspError> {
        KINDS
            .iter()
            .find(|k| k.names.contains(&name))
            .map(|k| k.kind)
            .ok_or_else(|| DspError::UnknownKind {
                name: name.to_owned(),
            })
    }

    /// The parameter table of this kind.
    pub fn params(self) -> &'static [ParamSpec] {
        self.info().params
    }

    /// Finds a parameter index by name.
    pub fn param_id(self, name: &str) -> Result<ParamId, DspError> {
        crate::param::find(self.params(), name).ok_or_else(|| DspError::UnknownParam {
            module: self.name(),
            param: name.to_owned(),
        })
    }

    /// True for kinds that take a gate.
    pub fn gateable(self) -> bool {
        self.info().gateable
    }

    /// How many channels this kind renders in a stereo patch.
    pub fn stereo(self) -> Stereo {
        self.info().stereo
    }

    /// Builds a fresh module of this kind for a mono patch.
    pub fn build(self, sample_rate: f64, block: usize) -> Result<Box<dyn Module>, DspError> {
        self.build_for(sample_rate, block, false)
    }

    /// Builds a fresh module of this kind, for a stereo patch when `stereo` (a delay or reverb
    /// then holds lines for both sides).
    pub fn build_for(
        self,
        sample_rate: f64,
        block: usize,
        stereo: bool,
    ) -> Result<Box<dyn Module>, DspError> {
        check_config(sample_rate, block)?;
        Ok((self.info().build)(sample_rate, stereo))
    }

    /// [`ModuleKind::build_for`], the module held by value (a patch's nodes hold theirs so).
    pub fn build_held(
        self,
        sample_rate: f64,
        block: usize,
        stereo: bool,
    ) -> Result<AnyModule, DspError> {
        check_config(sample_rate, block)?;
        Ok((self.info().hold)(sample_rate, stereo))
    }
}

/// Checks a sample rate and block size.
pub(crate) fn check_config(sample_rate: f64, block: usize) -> Result<(), DspError> {
    if !(8_000.0..=384_000.0).contains(&sample_rate) {
        return Err(DspError::BadSampleRate { rate: sample_rate });
    }
    if !(MIN_BLOCK..=MAX_BLOCK).contains(&block) {
        return Err(DspError::BadBlockSize { size: block });
    }
    Ok(())
}

/// The complete state of one module, as plain data (the effects' delay lines included).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Plain data, copied whole: an oscillator's state (its minBLEP ring, its unison and sync phases)
// is the largest. Boxing it would allocate where a state is taken or restored on the audio
// thread (an LFO's voice copy put in step at each note).
#[allow(clippy::large_enum_variant)]
pub enum ModuleState {
    /// An oscillator's state.
    Osc(OscState),
    /// An envelope's state.
    Adsr(AdsrState),
    /// A filter's state.
    Filter(FilterState),
    /// An LFO's state.
    Lfo(LfoState),
    /// A pan's state.
    Pan(PanState),
    /// A bus's state.
    Bus(BusState),
    /// A noise source's state.
    Noise(NoiseState),
    /// A modulation envelope's state.
    Env(EnvState),
    /// A sampler's state.
    Sampler(SamplerState),
    /// A delay's state.
    #[cfg(feature = "effects")]
    Delay(DelayState),
    /// A reverb's state.
    #[cfg(feature = "effects")]
    Reverb(ReverbState),
}

impl ModuleState {
    /// The kind of module this state belongs to.
    pub fn kind(&self) -> ModuleKind {
        match self {
            ModuleState::Osc(_) => ModuleKind::Osc,
            ModuleState::Adsr(_) => ModuleKind::Adsr,
            ModuleState::Filter(_) => ModuleKind::Filter,
            ModuleState::Lfo(_) => ModuleKind::Lfo,
            ModuleState::Pan(_) => ModuleKind::Pan,
            ModuleState::Bus(_) => ModuleKind::Bus,
            ModuleState::Noise(_) => ModuleKind::Noise,
            ModuleState::Env(_) => ModuleKind::Env,
            ModuleState::Sampler(_) => ModuleKind::Sampler,
            #[cfg(feature = "effects")]
            ModuleState::Delay(_) => ModuleKind::Delay,
            #[cfg(feature = "effects")]
            ModuleState::Reverb(_) => ModuleKind::Reverb,
        }
    }

    /// What [`Module::end_lane`] does to the module, done to its state: the state of a
    /// module whose voice lives in a lane ([`crate::lanes`]) as it will be once the lane hands
    /// its blocks back.
    pub(crate) fn end_lane(&mut self, end: crate::lanes::LaneEnd) {
        match self {
            ModuleState::Osc(s) => s.end_lane(end),
            ModuleState::Adsr(s) => s.end_lane(end),
            ModuleState::Filter(s) => s.end_lane(end),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_row_in_order() {
        assert_eq!(KINDS.len(), ModuleKind::ALL.len());
        assert!(KINDS.iter().all(|k| k.params.len() <= MAX_PARAMS));
        for (i, &k) in ModuleKind::ALL.iter().enumerate() {
            assert_eq!(k as usize, i);
            assert_eq!(k.info().kind, k);
            assert_eq!(ModuleKind::parse(k.name()).unwrap(), k);
            let built = k.build(48_000.0, 64).unwrap();
            assert_eq!(built.kind(), k);
            assert_eq!(built.state().kind(), k);
        }
        assert_eq!(ModuleKind::parse("envelope").unwrap(), ModuleKind::Adsr);
        assert!(ModuleKind::parse("theremin").is_err());
    }
}
