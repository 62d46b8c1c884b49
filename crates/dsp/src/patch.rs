//! The [`Patch`]: named module instances wired as a graph and rendered block by block. This
//! file holds the types and the names; the rest is by topic: `graph` edits, `params`, the
//! voice `template`, `render`, `state`.

mod graph;
mod instruments;
mod params;
mod render;
mod samples;
mod state;
mod template;

use crate::limiter::{copy_soft_limited, soft_limit_block};
use crate::module::{check_config, AnyModule, Module, ModuleKind, ModuleState, Stereo};
use crate::voices::{VoiceMode, VoicePhase, VoicePool, VoicesState};
use crate::{DspError, ParamId, SetOutcome};
use smallvec::SmallVec;

/// The most modules a patch holds in itself (their nodes, order, slots and inputs, with no
/// allocation of their own: next to each other in memory, a few pages for a patch where one
/// list each would be as many allocations anywhere in the heap); a larger patch keeps them on
/// the heap.
const INLINE: usize = 8;

/// The most modules a patch may hold (each is also copied into every voice when it is part of
/// the voice template, and a delay holds two seconds of memory).
pub const MAX_MODULES: usize = 256;
/// Bytes of delay and reverb lines a patch may hold (32 two-second delays at 48 kHz): so that
/// a snapshot of the whole patch, which a failover's resync carries, always fits.
pub const MAX_DELAY_MEMORY: usize = 12 << 20;
/// The longest voice template (oscillator, envelopes, filters).
const MAX_TEMPLATE: usize = 8;
/// The most instruments a patch may hold, the default one included. Each holds
/// [`crate::MAX_VOICES`] voices, built when it is made: at most 1,024 voices in all.
pub const MAX_INSTRUMENTS: usize = 8;
/// The name of the default instrument (the template found by the patch's shape).
pub const DEFAULT_INSTRUMENT: &str = "default";

pub use instruments::{InstrumentInfo, InstrumentState};

/// Identifies a module instance within one patch. Ids are stable: removing a module never
/// changes the ids of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModuleId(pub u16);

/// Where a modulation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Source {
    /// A module's output (an `lfo`: -1..1; an `env`: 0..1 times its depth), read once a block.
    Module(ModuleId),
    /// A note's velocity, 0..1 (in an instrument's voices; 0 elsewhere).
    Velocity,
    /// A note's distance from C4 in octaves (C5: 1, C3: -1; in an instrument's voices; 0
    /// elsewhere).
    Key,
}

impl Source {
    /// The module, for a module's output.
    pub fn module(self) -> Option<ModuleId> {
        match self {
            Source::Module(id) => Some(id),
            _ => None,
        }
    }
}

/// The most a modulation's depth may be, either way.
pub const MAX_DEPTH: f32 = 8.0;

/// A modulation route into a parameter: `from` drives `param` of the module holding it, at
/// `depth` (1: the source as it is, in the parameter's modulation units). Routes into one
/// parameter add up.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Route {
    /// The source.
    pub from: Source,
    /// The parameter of the destination.
    pub param: ParamId,
    /// How much of the source (-[`MAX_DEPTH`]..=[`MAX_DEPTH`]).
    pub depth: f32,
}

/// An audio connection into a module: whose audio, at what level (a send: 1 as it is).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Input {
    /// The module whose audio is taken.
    pub from: ModuleId,
    /// The gain it is taken at (0..=[`MAX_SEND_LEVEL`]).
    pub level: f32,
}

/// The highest level of a connection (a send): +6 dB.
pub const MAX_SEND_LEVEL: f32 = 2.0;

/// The description of one instance: what it is and how it is wired.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeDesc {
    /// Its id.
    pub id: ModuleId,
    /// Its name (`sine`, `filter`, …).
    pub name: String,
    /// Its kind.
    pub kind: ModuleKind,
    /// Modules whose audio is summed into its input, each at its level.
    pub inputs: Vec<Input>,
    /// Modulation sources driving its parameters.
    pub routes: Vec<Route>,
    /// Whether its output goes to the patch output.
    pub to_out: bool,
}

/// A patch's complete state: its layout and every module's state.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatchState {
    /// Sample rate the patch runs at.
    pub sample_rate: f64,
    /// Block size.
    pub block: usize,
    /// Two channels (left, right) or one.
    pub stereo: bool,
    /// Each instance (in id order) with its state.
    pub nodes: Vec<(NodeDesc, ModuleState)>,
    /// The instruments (the default one first), with the voices playing their notes.
    pub instruments: Vec<InstrumentState>,
    /// The samples held (descriptions only: their memory is mapped again by whoever restores).
    #[cfg_attr(feature = "serde", serde(default))]
    pub samples: Vec<crate::sample::SampleDesc>,
    /// The one-shot sample players.
    #[cfg_attr(feature = "serde", serde(default))]
    pub players: crate::sample::SamplePlayers,
}

struct Node {
    /// What it is and how it is wired, out of line: rendering reads the flags below (a node's
    /// own fields are 24 bytes beside its module).
    desc: Box<NodeDesc>,
    /// Some route drives one of its parameters (`desc.routes` is not empty; set by every
    /// rebuild of the graph, which every change of the routes makes).
    routed: bool,
    /// Its module, held here by value: a patch's modules are in its own memory.
    module: AnyModule,
    /// True when some module or the output reads this one's audio (not only its first
    /// sample, as modulation does).
    audio_used: bool,
    /// True when anything reads this one's output: its audio, or its first sample (a
    /// modulation route from it). An LFO nothing reads only moves on ([`Module::pass`]).
    read: bool,
    /// The one module that takes this one's audio as an input, when nothing else reads it
    /// (no route, not the output), no audio-rate route drives it and that module can ignore
    /// its input ([`Module::can_ignore_input`]): when that module ignores
    /// its input this block ([`Module::ignores_input`]), this one only moves on
    /// ([`Module::pass`]). `None` with the shortcuts off ([`Patch::set_shortcuts`]).
    heard_only_by: Option<u16>,
    /// True when it renders two channels (a stereo patch's pan, delay, reverb, bus, and what
    /// follows them).
    wide: bool,
    /// True when some input renders two channels.
    input_wide: bool,
    /// The module may rest ([`Module::may_rest`]).
    may_rest: bool,
    /// The module rests ([`Module::resting`], asked after the last block it rendered) and
    /// nothing has set it since: rendering leaves it out. Cleared by every change reaching it
    /// ([`Patch::node_mut`], the tempo, the samples, a rebuild of the graph).
    resting: bool,
    /// Its one input is at level 1 and in its own slot (each side): with the module at rest,
    /// its block is already what it would render.
    in_place: bool,
    /// Its inputs as rendering reads them: `Patch::feeds[start..end]` (at most
    /// [`MAX_MODULES`] modules, each taking another once: fewer than 2^16 in all).
    feeds: (u16, u16),
}

impl Node {
    /// A module as an instance of the graph, before the graph says how it renders.
    fn new(desc: NodeDesc, module: AnyModule) -> Self {
        Node {
            routed: !desc.routes.is_empty(),
            desc: Box::new(desc),
            may_rest: module.may_rest(),
            module,
            resting: false,
            in_place: false,
            audio_used: false,
            read: false,
            heard_only_by: None,
            wide: false,
            input_wide: false,
            feeds: (0, 0),
        }
    }
}

/// One audio input of a module as rendering reads it (`Patch::feeds`): where the source's
/// audio is in the buffers and at what level, worked out when the graph is rebuilt, so that
/// a block reads one short array of the patch's instead of each module's list of inputs and
/// each source's slot and width.
#[derive(Debug, Clone, Copy)]
struct Feed {
    /// Where the source's audio for each side of its reader starts in `Patch::buffers` (a
    /// one-channel source feeds both sides alike).
    at: [u32; 2],
    /// The connection's level.
    level: f32,
}

/// Named module instances wired as a graph, rendered one block at a time into a mono or a
/// stereo output with a final soft limiter.
///
/// A stereo patch gives each module one or two channels by its kind ([`crate::Stereo`]):
/// oscillators and LFOs one, pan, delay, reverb and buses two, envelopes and filters as many
/// as their input. A one-channel signal meets a two-channel module in both sides alike. A mono
/// patch is one channel throughout (pan passes through), exactly as before stereo.
///
/// Editing (add, remove, connect, …) allocates and must happen between blocks; [`Patch::process`]
/// and the parameter and gate setters never allocate.
pub struct Patch {
    sample_rate: f64,
    block: usize,
    stereo: bool,
    nodes: SmallVec<[Option<Node>; INLINE]>,
    order: SmallVec<[usize; INLINE]>,
    /// Each module's audio, a block per channel, at its slot ([`Patch::slots`]).
    buffers: Vec<f32>,
    /// Where each module's audio is in `buffers`, by id (a slot is `channels` blocks): a
    /// module that is the one reader of its first input (read by nothing else: no other
    /// input, no route, not the output) renders in that input's slot, in place, instead of
    /// copying it into a slot of its own. Unused ids' slots stay untouched.
    slots: SmallVec<[usize; INLINE]>,
    /// Every module's inputs, module after module (each module's range is its `Node::feeds`),
    /// in the order of its list of inputs.
    feeds: SmallVec<[Feed; INLINE]>,
    /// The modules routed to the output, in id order, as the output reads them (a level of
    /// 1), worked out with [`Patch::feeds`].
    outs: SmallVec<[Feed; 2]>,
    /// Whether rendering takes its shortcuts: modules sharing slots, modules nobody hears
    /// only moving on (else every module renders every block in its own slot: the same
    /// sound, the reference).
    shortcuts: bool,
    /// The right side of the output, for a stereo patch asked for one channel.
    spare: Vec<f32>,
    /// One block's audio-rate modulation of a module, parameter by parameter
    /// ([`crate::MAX_AUDIO_RATE`] blocks).
    drive: Vec<f32>,
    /// The default instrument first (its template found by the patch's shape), then the
    /// named ones (`/inst/new`), each with its voice pool.
    instruments: SmallVec<[instruments::Instrument; 1]>,
    /// The samples it can play, by slot.
    samples: crate::sample::SampleBank,
    /// The one-shot players.
    players: crate::sample::SamplePlayers,
    /// One block of the players' output, both sides (written by `render`, read by `mix_out`).
    played: Vec<f32>,
    /// Whether `played` holds sound this block.
    playing: bool,
    /// No player was playing at the last look, and none has started since: the block need
    /// not look at the players again (one flag a block instead of a count of them).
    players_idle: bool,
    /// Voices rendered in lanes where they can be (else one by one: the same sound).
    voice_lanes: bool,
}

impl std::fmt::Debug for Patch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patch")
            .field("sample_rate", &self.sample_rate)
            .field("block", &self.block)
            .field("stereo", &self.stereo)
            .field("nodes", &self.describe())
            .finish()
    }
}

impl Patch {
    /// An empty mono patch (renders silence).
    pub fn new(sample_rate: f64, block: usize) -> Result<Self, DspError> {
        Patch::with_stereo(sample_rate, block, false)
    }

    /// An empty patch, stereo or mono (renders silence).
    pub fn with_stereo(sample_rate: f64, block: usize, stereo: bool) -> Result<Self, DspError> {
        check_config(sample_rate, block)?;
        Ok(Patch {
            sample_rate,
            block,
            stereo,
            nodes: SmallVec::new(),
            order: SmallVec::new(),
            buffers: Vec::new(),
            slots: SmallVec::new(),
            feeds: SmallVec::new(),
            outs: SmallVec::new(),
            shortcuts: true,
            spare: vec![0.0; if stereo { block } else { 0 }],
            drive: vec![0.0; crate::MAX_AUDIO_RATE * block],
            instruments: smallvec::smallvec![instruments::Instrument::default_one(block)],
            samples: crate::sample::SampleBank::default(),
            players: crate::sample::SamplePlayers::default(),
            played: vec![0.0; 2 * block],
            playing: false,
            players_idle: true,
            voice_lanes: true,
        })
    }

    /// The seed chain, mono: `sine > adsr > filter > pan > out`, with an unrouted `lfo`; with
    /// the `effects` feature, `pan > delay > reverb > out`, both dry (mix 0) until turned up.
    pub fn default_patch(sample_rate: f64, block: usize) -> Result<Self, DspError> {
        Patch::default_patch_for(sample_rate, block, false)
    }

    /// The seed chain (see [`Patch::default_patch`]), stereo or mono. In stereo, `pan` places
    /// the notes (centre: -3.01 dB on each side); in mono it passes them through.
    pub fn default_patch_for(
        sample_rate: f64,
        block: usize,
        stereo: bool,
    ) -> Result<Self, DspError> {
        let mut p = Patch::with_stereo(sample_rate, block, stereo)?;
        let sine = p.add("sine", ModuleKind::Osc)?;
        let adsr = p.add("adsr", ModuleKind::Adsr)?;
        let filter = p.add("filter", ModuleKind::Filter)?;
        p.add("lfo", ModuleKind::Lfo)?;
        let pan = p.add("pan", ModuleKind::Pan)?;
        p.connect(sine, adsr)?;
        p.connect(adsr, filter)?;
        p.connect(filter, pan)?;
        #[cfg(feature = "effects")]
        let pan = {
            let delay = p.add("delay", ModuleKind::Delay)?;
            let reverb = p.add("reverb", ModuleKind::Reverb)?;
            p.connect(pan, delay)?;
            p.connect(delay, reverb)?;
            reverb
        };
        p.connect_out(pan, true)?;
        Ok(p)
    }

    /// True for a stereo patch (two output channels).
    pub fn is_stereo(&self) -> bool {
        self.stereo
    }

    /// Output channels: 2 for a stereo patch, 1 for a mono one.
    pub fn channels(&self) -> usize {
        if self.stereo {
            2
        } else {
            1
        }
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Samples per block.
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// The id of the instance named `name`.
    pub fn find(&self, name: &str) -> Option<ModuleId> {
        self.nodes
            .iter()
            .flatten()
            .find(|n| n.desc.name == name)
            .map(|n| n.desc.id)
    }

    /// The id of the instance named `name`, or an error naming it.
    pub fn lookup(&self, name: &str) -> Result<ModuleId, DspError> {
        self.find(name).ok_or_else(|| DspError::UnknownModule {
            name: name.to_owned(),
        })
    }

    /// The kind of an instance.
    pub fn kind(&self, id: ModuleId) -> Result<ModuleKind, DspError> {
        Ok(self.node(id)?.desc.kind)
    }

    /// The name of an instance.
    pub fn name(&self, id: ModuleId) -> Result<&str, DspError> {
        Ok(&self.node(id)?.desc.name)
    }

    /// Every instance, in id order.
    pub fn describe(&self) -> Vec<NodeDesc> {
        self.nodes
            .iter()
            .flatten()
            .map(|n| NodeDesc::clone(&n.desc))
            .collect()
    }

    fn node(&self, id: ModuleId) -> Result<&Node, DspError> {
        self.nodes
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(DspError::BadModuleId { id: id.0 })
    }

    fn node_mut(&mut self, id: ModuleId) -> Result<&mut Node, DspError> {
        let node = self
            .nodes
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(DspError::BadModuleId { id: id.0 })?;
        // Whatever is done to it may wake it.
        node.resting = false;
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_rejected_and_change_nothing() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let before = p.describe();
        let (sine, filter) = (p.find("sine").unwrap(), p.find("filter").unwrap());
        assert!(matches!(
            p.connect(filter, sine),
            Err(DspError::Cycle { .. })
        ));
        assert_eq!(p.describe(), before);
    }

    #[test]
    fn names_are_checked() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        assert!(matches!(
            p.add("sine", ModuleKind::Osc),
            Err(DspError::DuplicateName { .. })
        ));
        assert!(matches!(
            p.add("a b", ModuleKind::Osc),
            Err(DspError::BadName { .. })
        ));
        assert!(matches!(
            p.set("nope", "freq", 1.0),
            Err(DspError::UnknownModule { .. })
        ));
        assert!(matches!(
            p.set("sine", "nope", 1.0),
            Err(DspError::UnknownParam { .. })
        ));
        assert!(matches!(
            p.set("sine", "freq", f32::NAN),
            Err(DspError::NonFinite { .. })
        ));
        let clamped = p.set("sine", "freq", 1e9).unwrap();
        assert!(clamped.clamped && clamped.value == 23_990.0);
    }

    #[test]
    fn removing_keeps_other_ids() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let lfo = p.find("lfo").unwrap();
        let sine = p.find("sine").unwrap();
        p.modulate(lfo, sine, 0).unwrap();
        p.remove(lfo).unwrap();
        assert_eq!(p.find("sine"), Some(sine));
        assert!(p.describe().iter().all(|d| d.routes.is_empty()));
        let again = p.add("lfo2", ModuleKind::Lfo).unwrap();
        assert_eq!(again, lfo, "free slot reused");
    }

    #[test]
    fn the_voice_template_is_found_by_its_shape_not_by_a_name() {
        // No `sine` at all: an oscillator called `lead` feeding an envelope plays notes.
        let mut p = Patch::new(48_000.0, 64).unwrap();
        let lead = p.add("lead", ModuleKind::Osc).unwrap();
        let env = p.add("env", ModuleKind::Adsr).unwrap();
        p.connect(lead, env).unwrap();
        p.connect_out(env, true).unwrap();
        assert_eq!(p.voice_template(), [lead, env]);
        p.note_on(69, 1.0).unwrap();
        let mut out = [0.0f32; 64];
        let mut peak = 0.0f32;
        for _ in 0..40 {
            p.process(&mut out);
            peak = out.iter().fold(peak, |m, x| m.max(x.abs()));
        }
        assert!(peak > 0.1, "the note sounds: {peak}");
        // A `sine` with no envelope after it does not stand in the way.
        let sine = p.add("sine", ModuleKind::Osc).unwrap();
        p.connect_out(sine, true).unwrap();
        assert_eq!(p.voice_template(), [lead, env]);
        // With an envelope after it, it is a voice too, but the first one found stays: the
        // name `sine` counts for nothing.
        let env2 = p.add("env2", ModuleKind::Adsr).unwrap();
        p.connect_out(sine, false).unwrap();
        p.connect(sine, env2).unwrap();
        p.connect_out(env2, true).unwrap();
        assert_eq!(p.voice_template(), [lead, env]);
        // Take the first one's envelope away: the next oscillator with one is the voice.
        p.remove(env).unwrap();
        assert_eq!(p.voice_template(), [sine, env2]);
    }

    #[test]
    fn an_instrument_is_made_from_a_chain_and_plays_beside_the_default_one() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let default_template = p.voice_template().to_vec();
        let bass = p
            .add_instrument("bass", "osc > adsr > filter", None)
            .unwrap();
        assert_eq!(p.name(bass).unwrap(), "bass.osc");
        assert_eq!(
            p.voice_template(),
            default_template,
            "the default one is unchanged"
        );
        let list = p.instruments();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].name, "bass");
        let names: Vec<&str> = list[1]
            .template
            .iter()
            .map(|&id| p.name(id).unwrap())
            .collect();
        assert_eq!(names, ["bass.osc", "bass.adsr", "bass.filter"]);
        assert_eq!(p.instrument("bass").unwrap(), Some(bass));
        assert_eq!(p.instrument(DEFAULT_INSTRUMENT).unwrap(), None);

        p.note_on_in(Some(bass), 36, 1.0).unwrap();
        p.note_on(69, 1.0).unwrap();
        assert_eq!(p.notes_in(Some(bass)).unwrap().len(), 1);
        assert_eq!(p.notes_in(None).unwrap().len(), 1);
        assert_eq!(p.note_counts(), (2, 2));
        // A snapshot carries both, and a patch built from it renders the same.
        let mut out = [0.0f32; 64];
        p.process(&mut out);
        let mut copy = Patch::from_state(&p.state()).unwrap();
        let (mut a, mut b) = ([0.0f32; 64], [0.0f32; 64]);
        for _ in 0..20 {
            p.process(&mut a);
            copy.process(&mut b);
            assert_eq!(a, b);
        }
        // Errors: names, chains, limits.
        for (name, chain) in [
            ("bass", "osc > adsr"),
            ("default", "osc > adsr"),
            ("a b", "osc > adsr"),
            ("pad", "osc > filter"),
            ("pad", "adsr > osc"),
            ("pad", "osc > pan > adsr"),
            ("pad", "osc >> adsr"),
            ("pad", "osc > delay > adsr"),
        ] {
            let before = p.describe();
            assert!(
                p.add_instrument(name, chain, None).is_err(),
                "{name} {chain}"
            );
            assert_eq!(p.describe(), before, "{name} {chain}: nothing changed");
        }
        for i in 0..MAX_INSTRUMENTS - 2 {
            p.add_instrument(&format!("i{i}"), "noise > adsr", None)
                .unwrap();
        }
        assert!(matches!(
            p.add_instrument("one-more", "osc > adsr", None),
            Err(DspError::TooManyInstruments { .. })
        ));
        // Removing takes its modules and voices; its head no longer plays.
        p.remove_instrument("bass").unwrap();
        assert!(p.find("bass.osc").is_none() && p.find("bass.filter").is_none());
        assert!(matches!(
            p.note_on_in(Some(bass), 36, 1.0),
            Err(DspError::NoInstrumentAt { .. })
        ));
        assert!(p.instruments().iter().all(|i| i.name != "bass"));
        assert!(p.remove_instrument(DEFAULT_INSTRUMENT).is_err());
    }
}
