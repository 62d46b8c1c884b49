//! What is playing now, as far as the phrases are concerned.

/// The synth's state that relative phrases build on. Start from [`Context::default`] (the
/// default patch) or refresh it from the server's `/get` replies.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// `sine.freq`, Hz.
    pub freq: f32,
    /// `sine.gain`, 0..1.
    pub gain: f32,
    /// `sine.shape`.
    pub shape: i32,
    /// `filter.cutoff`, Hz.
    pub cutoff: f32,
    /// `filter.q`.
    pub q: f32,
    /// `adsr.attack`, ms.
    pub attack: f32,
    /// `adsr.release`, ms.
    pub release: f32,
    /// `sine.glide_time`, ms.
    pub glide: f32,
    /// `lfo.freq`, Hz.
    pub lfo_rate: f32,
    /// `lfo.depth`.
    pub lfo_depth: f32,
    /// Where the LFO is routed (`sine.freq`…), if anywhere.
    pub lfo_target: Option<String>,
    /// Reference pitch of A4, Hz.
    pub a4: f32,
    /// The last note played, as a MIDI number (for "the fifth").
    pub last_note: Option<i32>,
    /// `reverb.mix`, 0..1.
    pub reverb_mix: f32,
    /// `reverb.size`, 0..1.
    pub reverb_size: f32,
    /// `delay.mix`, 0..1.
    pub delay_mix: f32,
    /// `delay.feedback`, 0..0.95.
    pub delay_feedback: f32,
    /// `delay.pingpong`: the repeats alternate sides (stereo).
    pub pingpong: bool,
    /// `pan.pos`, -1 left .. 1 right.
    pub pan: f32,
    /// `pan.spread`, 0..1: how far apart the voice pool's notes are placed.
    pub spread: f32,
    /// `sine.noise`, 0..1: white noise in every note.
    pub noise: f32,
    /// `reverb.width`, 0..1.
    pub reverb_width: f32,
    /// Oscillators in the patch: `sine`, then `sine2`, `sine3`, … (chords create them).
    pub oscillators: usize,
    /// The sequencer's tempo, BPM.
    pub bpm: f32,
    /// The sequencer's swing, 0..0.5 (`/seq/swing`).
    pub swing: f32,
    /// Oscillators sounding now (a chord's notes; 1 for a single note). `gain` is shared
    /// among them.
    pub voices: usize,
    /// The synth plays notes on a pool of voices (`/note/on`, `/note/off`): chords use them
    /// instead of extra oscillators. False for a patch without a voice template.
    pub notes: bool,
    /// Notes of a chord may be sounding on the voice pool: the next note or chord releases
    /// them first.
    pub chord_notes: bool,
    /// The states before the latest phrases, oldest first (at most [`HISTORY`]): what "undo"
    /// goes back to.
    pub history: Vec<Earlier>,
}

/// A state the context was in before a phrase changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    /// The phrase that changed it.
    pub phrase: String,
    /// The state before that phrase (with no history of its own).
    pub state: Context,
}

/// How many phrases "undo" can take back.
pub const HISTORY: usize = 32;

impl Default for Context {
    fn default() -> Self {
        Context {
            freq: 440.0,
            gain: 0.5,
            shape: 0,
            cutoff: 1000.0,
            q: 0.707,
            attack: 10.0,
            release: 200.0,
            glide: 0.0,
            lfo_rate: 1.0,
            lfo_depth: 0.5,
            lfo_target: None,
            a4: 440.0,
            last_note: Some(69),
            reverb_mix: 0.0,
            reverb_size: 0.5,
            delay_mix: 0.0,
            delay_feedback: 0.35,
            pingpong: false,
            pan: 0.0,
            spread: 0.0,
            noise: 0.0,
            reverb_width: 1.0,
            oscillators: 1,
            voices: 1,
            bpm: 120.0,
            swing: 0.0,
            notes: true,
            chord_notes: false,
            history: Vec::new(),
        }
    }
}

/// The name of oscillator `i` (0-based): `sine`, `sine2`, `sine3`, …
pub fn oscillator_name(i: usize) -> String {
    if i == 0 {
        "sine".to_owned()
    } else {
        format!("sine{}", i + 1)
    }
}

/// Most notes a chord may have (oscillators `sine` … `sine6`).
pub const MAX_CHORD_NOTES: usize = 6;

/// Where a server's `/get <module> <param>` reply goes in the [`Context`].
pub type Field = (&'static str, &'static str, fn(&mut Context, f32));

/// The parameters a [`Context`] follows, in the order [`Context::refresh`] asks for them
/// (`sine.freq` first: no answer to it means no server, or no `sine`).
pub const SERVER_FIELDS: [Field; 15] = [
    ("sine", "freq", |c, v| c.freq = v),
    ("sine", "gain", |c, v| c.gain = v),
    ("filter", "cutoff", |c, v| c.cutoff = v),
    ("filter", "q", |c, v| c.q = v),
    ("adsr", "attack", |c, v| c.attack = v),
    ("adsr", "release", |c, v| c.release = v),
    ("lfo", "freq", |c, v| c.lfo_rate = v),
    ("reverb", "mix", |c, v| c.reverb_mix = v),
    ("reverb", "size", |c, v| c.reverb_size = v),
    ("delay", "mix", |c, v| c.delay_mix = v),
    ("delay", "feedback", |c, v| c.delay_feedback = v),
    ("delay", "pingpong", |c, v| c.pingpong = v >= 0.5),
    ("pan", "pos", |c, v| c.pan = v),
    ("pan", "spread", |c, v| c.spread = v),
    ("reverb", "width", |c, v| c.reverb_width = v),
];

impl Context {
    /// Brings the context up to date with a running synth: `get(module, param)` is its
    /// `/get` (`None`: no answer), `modules()` the names of its patch's modules (`/modules`).
    /// Best effort: what does not answer keeps its value. Pure: the caller does the asking.
    pub fn refresh(
        &mut self,
        mut get: impl FnMut(&str, &str) -> Option<f32>,
        modules: impl FnOnce() -> Vec<String>,
    ) {
        for (i, (module, param, apply)) in SERVER_FIELDS.into_iter().enumerate() {
            match get(module, param) {
                Some(v) => apply(self, v),
                // No sine.freq: no server answering (or a patch without `sine`); ask no more.
                None if i == 0 => return,
                None => {}
            }
        }
        // The chord oscillators already in the patch (sine2, sine3, ...), and how many sound.
        let modules = modules();
        let mut gains = Vec::new();
        for i in 1..MAX_CHORD_NOTES {
            let name = oscillator_name(i);
            if !modules.contains(&name) {
                break;
            }
            gains.push(get(&name, "gain").unwrap_or(0.0));
        }
        self.oscillators = 1 + gains.len();
        // Notes need the voice template's oscillator and envelope.
        self.notes = ["sine", "adsr"]
            .iter()
            .all(|m| modules.iter().any(|n| n == m));
        // Whether a chord is still sounding is not something the server says: assume it may
        // be, so the next note or chord releases it (a release of nothing is harmless).
        self.chord_notes = self.notes;
        let sounding = 1 + gains.iter().take_while(|g| **g > 0.0).count();
        if sounding > 1 {
            self.voices = sounding;
            self.gain = (self.gain * sounding as f32).min(1.0);
        }
    }

    /// The frequency of MIDI note `n` at this tuning.
    pub fn note_freq(&self, n: i32) -> f32 {
        self.a4 * 2f32.powf((n - 69) as f32 / 12.0)
    }
}
