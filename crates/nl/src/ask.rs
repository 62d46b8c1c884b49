//! Questions about what is playing ("what note is that?", "how loud is it?"), answered from
//! the [`Context`]; `chronus say` refreshes the context from the server (`/get`) before it
//! answers, so the answer is the synth's, not a memory of what was asked for.

use crate::Context;

/// What a question is about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Subject {
    Note,
    Level,
    Tempo,
    Cutoff,
    Reverb,
    Echo,
    Shape,
    Tuning,
    Modulation,
}

fn subject(word: &str) -> Option<Option<Subject>> {
    use Subject::*;
    Some(Some(match word {
        "note" | "pitch" | "frequency" | "freq" | "hz" | "playing" | "high" | "key" => Note,
        "loud" | "volume" | "level" | "gain" | "loudness" | "quiet" => Level,
        "tempo" | "bpm" | "fast" | "speed" => Tempo,
        "cutoff" | "filter" | "bright" | "dark" | "brightness" => Cutoff,
        "reverb" | "room" => Reverb,
        "echo" | "delay" => Echo,
        "wave" | "waveform" | "shape" | "oscillator" => Shape,
        "tuning" | "tuned" | "tune" => Tuning,
        "vibrato" | "wobble" | "tremolo" | "lfo" | "modulation" => Modulation,
        "what" | "how" | "which" | "tell" | "me" | "is" | "are" | "the" | "it" | "that"
        | "this" | "you" | "now" | "right" | "currently" | "current" | "does" | "do" | "at"
        | "to" | "a" | "an" | "of" | "its" | "much" | "set" | "sound" | "sounding" | "there"
        | "kind" | "sort" | "type" | "value" | "?" | "we" | "am" | "i" | "hearing" | "hear"
        | "on" | "in" | "please" | "can" | "could" | "any" | "some" | "many" | "has" | "have"
        | "got" | "going" | "being" | "played" => return Some(None),
        _ => return None,
    }))
}

/// Whether `text` asks a question (rather than asking for a change): `chronus say` then
/// refreshes its context from the server before planning.
pub fn asks(text: &str) -> bool {
    is_question(&crate::words::normalize(text))
}

/// Whether a phrase already brought to one spelling is a question.
fn is_question(normal: &str) -> bool {
    let first = normal.split_whitespace().next().unwrap_or("");
    matches!(
        first,
        "what" | "how" | "which" | "tell" | "is" | "are" | "does"
    ) || normal.ends_with('?')
}

/// The answer to a question, from the context; `None`: not a question, or one about
/// something chronus cannot say (not understood).
pub(crate) fn answer(normal: &str, ctx: &Context) -> Option<String> {
    if !is_question(normal) {
        return None;
    }
    let mut about = None;
    for w in normal.split_whitespace() {
        if let Some(s) = subject(w)? {
            // The first subject named is the one asked about ("what note is playing").
            about.get_or_insert(s);
        }
    }
    Some(match about? {
        Subject::Note => match ctx.last_note.filter(|_| ctx.voices == 1) {
            Some(n) if (ctx.note_freq(n) - ctx.freq).abs() < 0.01 => format!(
                "that is {} ({:.2} Hz)",
                chronus_dsp::pitch::note_name(n.clamp(0, 127) as u8),
                ctx.freq
            ),
            _ => match chronus_dsp::pitch::nearest_note(f64::from(ctx.freq)) {
                // Set some other way (another client, a frequency): named when it is a note.
                Some((n, 0)) => format!(
                    "that is {} ({:.2} Hz)",
                    chronus_dsp::pitch::note_name(n),
                    ctx.freq
                ),
                Some((n, cents)) => format!(
                    "that is {:.2} Hz ({}, {cents:+} cents)",
                    ctx.freq,
                    chronus_dsp::pitch::note_name(n)
                ),
                None => format!("that is {:.2} Hz", ctx.freq),
            },
        },
        Subject::Level => format!("the level is {:.2} (of 1)", ctx.gain),
        Subject::Tempo => format!("the tempo is {} BPM", ctx.bpm),
        Subject::Cutoff => format!(
            "the filter's cutoff is {:.0} Hz (q {:.2})",
            ctx.cutoff, ctx.q
        ),
        Subject::Reverb => format!(
            "reverb mix {:.2}, size {:.2}{}",
            ctx.reverb_mix,
            ctx.reverb_size,
            if ctx.reverb_mix == 0.0 { " (dry)" } else { "" }
        ),
        Subject::Echo => format!(
            "echo (delay) mix {:.2}, feedback {:.2}{}",
            ctx.delay_mix,
            ctx.delay_feedback,
            if ctx.delay_mix == 0.0 { " (dry)" } else { "" }
        ),
        Subject::Shape => format!(
            "a {} wave",
            ["sine", "triangle", "square", "saw"]
                .get(ctx.shape.clamp(0, 3) as usize)
                .copied()
                .unwrap_or("sine")
        ),
        Subject::Tuning => format!("A4 = {} Hz", ctx.a4),
        Subject::Modulation => match &ctx.lfo_target {
            Some(t) if ctx.lfo_depth > 0.0 => format!(
                "the LFO moves {t} at {:.2} Hz, depth {:.2}",
                ctx.lfo_rate, ctx.lfo_depth
            ),
            _ => "no modulation".to_owned(),
        },
    })
}
