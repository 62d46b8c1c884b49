//! The one error type of chronus-dsp.

/// Everything that can go wrong when building, editing or driving a patch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DspError {
    /// A block size outside `MIN_BLOCK..=MAX_BLOCK`.
    #[error("block size {size} is out of range (16..=1024 samples)")]
    BadBlockSize {
        /// The size asked for.
        size: usize,
    },
    /// A sample rate that is not finite or not in 8 kHz..=384 kHz.
    #[error("sample rate {rate} Hz is out of range (8000..=384000)")]
    BadSampleRate {
        /// The rate asked for.
        rate: f64,
    },
    /// No module instance with this name exists in the patch.
    #[error("unknown module '{name}'")]
    UnknownModule {
        /// The name looked up.
        name: String,
    },
    /// A module id that does not (or no longer) name a module.
    #[error("no module with id {id}")]
    BadModuleId {
        /// The id used.
        id: u16,
    },
    /// The module has no parameter with this name or index.
    #[error("module kind '{module}' has no parameter '{param}'")]
    UnknownParam {
        /// The module kind.
        module: &'static str,
        /// The parameter name (or index) asked for.
        param: String,
    },
    /// The module has no parameter with this index (made without allocating: modules answer
    /// it on the audio thread).
    #[error("module kind '{module}' has no parameter number {index}")]
    NoParamIndex {
        /// The module kind.
        module: &'static str,
        /// The index asked for.
        index: crate::ParamId,
    },
    /// The patch already holds as many modules as it may.
    #[error("a patch holds at most {limit} modules (the limit for modules per patch); remove some first")]
    TooManyModules {
        /// The limit.
        limit: usize,
    },
    /// The patch's delay and reverb lines would take more memory than it may hold.
    #[error("a patch holds at most {limit_mib} MiB of delay and reverb lines (the limit for delay memory per patch; this needs {needed_kib} KiB more than is left); remove a delay or reverb first")]
    TooMuchDelayMemory {
        /// The limit, in MiB.
        limit_mib: usize,
        /// What did not fit, in KiB.
        needed_kib: usize,
    },
    /// A module type name that chronus does not know.
    #[error(
        "unknown module type '{name}' (known: osc, adsr, filter, lfo, pan, bus, delay, reverb)"
    )]
    UnknownKind {
        /// The name given.
        name: String,
    },
    /// A connection level (a send) out of range or not finite; nothing was changed.
    #[error("send level {level} is out of range (0..=2); use 1 for as it is, 0.3 for a send")]
    BadLevel {
        /// The level asked for.
        level: f32,
    },
    /// A NaN or infinite parameter value; nothing was changed.
    #[error("value for '{param}' is not finite")]
    NonFinite {
        /// The parameter.
        param: &'static str,
    },
    /// The module does not take a gate.
    #[error("module kind '{module}' has no gate")]
    NotGateable {
        /// The module kind.
        module: &'static str,
    },
    /// A module instance name that is already taken.
    #[error("a module named '{name}' already exists")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A module instance name that is empty or has characters other than `[A-Za-z0-9_-]`.
    #[error("'{name}' is not a valid module name (use letters, digits, '_' or '-')")]
    BadName {
        /// The name.
        name: String,
    },
    /// The edit would create a cycle; nothing was changed.
    #[error("connecting '{from}' to '{to}' would create a cycle")]
    Cycle {
        /// Source module.
        from: String,
        /// Destination module.
        to: String,
    },
    /// Only modulation sources (an `lfo`, an `env`, `velocity`, `key`) modulate parameters.
    #[error(
        "'{name}' cannot modulate that parameter: the sources are an lfo, an env, velocity and \
         key (an osc or a noise drives an oscillator's pm or fm)"
    )]
    NotAModulator {
        /// The module.
        name: String,
    },
    /// An audio-rate parameter (`pm`, `fm`) takes audio, sample by sample.
    #[error(
        "'{name}' cannot drive '{param}', which is modulated sample by sample: route an osc, a \
         noise or an lfo into it"
    )]
    NotAnAudioSource {
        /// The source.
        name: String,
        /// The parameter.
        param: &'static str,
    },
    /// A modulation depth out of range.
    #[error("modulation depth {depth} is out of range (-8..=8; 1: the source as it is)")]
    BadDepth {
        /// The depth.
        depth: f32,
    },
    /// A state that does not fit the module or patch it is restored into.
    #[error("state does not match: {reason}")]
    StateMismatch {
        /// What did not match.
        reason: &'static str,
    },
    /// Notes need a voice template (`sine > adsr …`), and this patch has none.
    #[error(
        "this patch has no voice template: notes need an oscillator feeding an adsr (or make an instrument: /inst/new <name> \"osc > adsr > filter\")"
    )]
    NoVoiceTemplate,
    /// A MIDI note outside 0..=127.
    #[error("note {note} is outside 0..=127")]
    BadNote {
        /// The note.
        note: u8,
    },
    /// A voice count outside 1..=[`crate::MAX_VOICES`].
    #[error("{count} voices is out of range (1..={max})", max = crate::MAX_VOICES)]
    BadVoiceCount {
        /// The count asked for.
        count: usize,
    },
    /// No instrument of that name (or with that head module).
    #[error(
        "no instrument '{name}' (/inst/list names them; /inst/new <name> \"osc > adsr\" makes one)"
    )]
    UnknownInstrument {
        /// The name (or the head module's id) asked for.
        name: String,
    },
    /// No instrument starts at this module (it was removed). Allocates nothing: the audio
    /// thread's error.
    #[error(
        "no instrument starts at module id {id} (it was removed; /inst/list names those there are)"
    )]
    NoInstrumentAt {
        /// The module id.
        id: u16,
    },
    /// An instrument's name is taken, empty, too long or has characters other than letters,
    /// digits, `_` and `-`.
    #[error("'{name}' cannot name an instrument: {reason}")]
    BadInstrumentName {
        /// The name.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// An instrument's chain is not a voice.
    #[error("the chain '{chain}' is not a voice: {reason}")]
    BadChain {
        /// The chain as given.
        chain: String,
        /// What is wrong, and what would do.
        reason: String,
    },
    /// Too many instruments.
    #[error("a patch holds at most {limit} instruments (the default one included: the limit for instruments); /inst/remove one first")]
    TooManyInstruments {
        /// The limit.
        limit: usize,
    },
    /// A sample whose memory does not match its description.
    #[error("sample slot {slot}: {frames} frames of {channels} channels do not fit its {len} values (1 or 2 channels; slot under 256); load the file again")]
    BadSample {
        /// The slot.
        slot: u16,
        /// Frames described.
        frames: u64,
        /// Channels described.
        channels: u16,
        /// Values in the memory.
        len: u64,
    },
    /// No sample in the slot played.
    #[error("no sample is loaded in slot {slot} (/sample/list names those there are)")]
    NoSample {
        /// The slot.
        slot: u16,
    },
}
