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
    /// Oscillators in the patch: `sine`, then `sine2`, `sine3`, … (chords create them).
    pub oscillators: usize,
    /// The sequencer's tempo, BPM.
    pub bpm: f32,
    /// Oscillators sounding now (a chord's notes; 1 for a single note). `gain` is shared
    /// among them.
    pub voices: usize,
    /// The synth plays notes on a pool of voices (`/note/on`, `/note/off`): chords use them
    /// instead of extra oscillators. False for a patch without a voice template.
    pub notes: bool,
    /// Notes of a chord may be sounding on the voice pool: the next note or chord releases
    /// them first.
    pub chord_notes: bool,
}

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
            oscillators: 1,
            voices: 1,
            bpm: 120.0,
            notes: true,
            chord_notes: false,
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

impl Context {
    /// The frequency of MIDI note `n` at this tuning.
    pub fn note_freq(&self, n: i32) -> f32 {
        self.a4 * 2f32.powf((n - 69) as f32 / 12.0)
    }
}
