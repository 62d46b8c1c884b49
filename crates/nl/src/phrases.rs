//! The phrases chronus understands, and what each one sends.

use crate::chords::parse_chord;
use crate::context::{oscillator_name, MAX_CHORD_NOTES};
use crate::context::{Earlier, HISTORY};
use crate::intent::{self, Reading};
use crate::notes::parse_note;
use crate::words::{normalize, strip_politeness};
use crate::{ask, Context, Message, NlError, Plan, Value};

mod dynamics;
mod effects;
mod midi;
mod pitch;
mod rhythm;
mod space;
mod timbre;

pub use timbre::{Preset, PRESETS};
mod undo;
mod voicing;

/// Phrases offered as suggestions when nothing matched.
const KNOWN: &[&str] = &[
    "play a4",
    "play a note",
    "map the mod wheel to the filter",
    "stop",
    "louder",
    "quieter",
    "brighter",
    "darker",
    "add warmth",
    "mellow",
    "harsh",
    "square wave",
    "saw wave",
    "triangle wave",
    "sine wave",
    "staccato",
    "legato",
    "faster attack",
    "longer release",
    "add vibrato",
    "no vibrato",
    "faster vibrato",
    "slower vibrato",
    "wobble",
    "wobble the filter",
    "tremolo",
    "fade out",
    "fade in",
    "crescendo",
    "diminuendo",
    "go up a fifth",
    "down an octave",
    "up 3 semitones",
    "glide to e3",
    "tune to 432",
    "volume 7",
    "play 220 hz",
    "techno bass",
    "flute",
    "pad",
    "a warm pad",
    "pluck",
    "supersaw",
    "pwm",
    "brass",
    "add some noise",
    "no noise",
    "add reverb",
    "more reverb",
    "no reverb",
    "add echo",
    "more echo",
    "no echo",
    "dry",
    "c major chord",
    "a minor chord",
    "a mysterious chord",
    "four on the floor",
    "at 120 bpm",
    "stop the beat",
    "dotted eighth echo",
    "echo on the beat",
    "more resonance",
    "less resonance",
    "add glide",
    "no glide",
    "add swing",
    "no swing",
];

fn set(addr: &str, v: f32) -> Message {
    Message {
        at_ms: 0,
        address: addr.into(),
        args: vec![Value::Float(v)],
    }
}

fn msg(addr: &str, args: Vec<Value>) -> Message {
    Message {
        at_ms: 0,
        address: addr.into(),
        args,
    }
}

fn gate(on: bool) -> Message {
    msg(
        "/gate/adsr",
        vec![Value::Str(if on { "on" } else { "off" }.into())],
    )
}

/// Safety limits applied before anything is sent.
fn clamp_freq(f: f32) -> f32 {
    f.clamp(20.0, 20_000.0)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn suggest(text: &str) -> Option<String> {
    let t: String = text.trim().to_lowercase().chars().take(64).collect();
    if t.chars().count() < 3 {
        return None;
    }
    KNOWN
        .iter()
        .map(|k| (levenshtein(&t, k), *k))
        .min()
        .filter(|(d, k)| *d <= k.len() / 3 + 1)
        .map(|(_, k)| k.to_owned())
}

/// A note name as musicians write it: `Bb2`, `F#3`.
fn note_name(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Splits a phrase into clauses: commas, "and", "then", "with".
fn clauses(text: &str) -> Vec<String> {
    // A full stop separates, a decimal point does not.
    let lower: Vec<char> = text.to_lowercase().chars().collect();
    let mut t = String::from(" ");
    for (i, &ch) in lower.iter().enumerate() {
        let decimal = ch == '.'
            && i > 0
            && lower[i - 1].is_ascii_digit()
            && lower.get(i + 1).is_some_and(|c| c.is_ascii_digit());
        t.push(if ch == '.' && !decimal { ',' } else { ch });
    }
    t.push(' ');
    for sep in [
        ",",
        ";",
        "!",
        " and then ",
        " then ",
        " and ",
        " with ",
        " plus ",
        " at ",
    ] {
        t = t.replace(sep, " | ");
    }
    t.split('|')
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|c| !c.is_empty())
        .collect()
}

/// "a bit"/"slightly" halve a change, "much"/"a lot" double it.
fn strip_amount(clause: &str) -> (f32, String) {
    let mut scale = 1.0;
    let mut words = Vec::new();
    let mut rest = clause;
    for (prefix, s) in [
        ("a little bit ", 0.5),
        ("a little ", 0.5),
        ("a bit ", 0.5),
        ("slightly ", 0.5),
        ("a lot ", 2.0),
        ("much ", 2.0),
        ("way ", 2.0),
        ("very ", 2.0),
        ("even ", 1.0),
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            scale = s;
            rest = r;
        }
    }
    let rest = rest.strip_prefix("of ").unwrap_or(rest);
    for w in rest.split_whitespace() {
        match w {
            "bit" | "little" | "slightly" => scale = 0.5,
            "much" | "lot" => scale = 2.0,
            _ => words.push(w),
        }
    }
    let mut s = words.join(" ");
    for suffix in [" a bit", " a little", " slightly", " a lot", " please"] {
        if let Some(r) = s.strip_suffix(suffix) {
            s = r.to_owned();
        }
    }
    (scale, s)
}

fn interval(text: &str) -> Option<i32> {
    let t = text.trim();
    let named = [
        ("a semitone", 1),
        ("one semitone", 1),
        ("a half step", 1),
        ("a tone", 2),
        ("a whole step", 2),
        ("a minor third", 3),
        ("a third", 4),
        ("a major third", 4),
        ("a fourth", 5),
        ("a tritone", 6),
        ("a fifth", 7),
        ("a sixth", 9),
        ("a seventh", 11),
        ("an octave", 12),
        ("two octaves", 24),
    ];
    if let Some((_, n)) = named.iter().find(|(name, _)| *name == t) {
        return Some(*n);
    }
    let mut w = t.split_whitespace();
    let n: i32 = w.next()?.parse().ok()?;
    matches!(w.next(), Some("semitone" | "semitones" | "half" | "steps"))
        .then_some(n.clamp(-48, 48))
}

struct Out<'a> {
    ctx: &'a mut Context,
    plan: &'a mut Plan,
}

impl Out<'_> {
    fn say(&mut self, line: impl Into<String>) {
        self.plan.explanation.push(line.into());
    }
    fn push(&mut self, m: Message) {
        self.plan.messages.push(m);
    }
    /// One pitch on `sine` (after a chord, the other oscillators fall silent first).
    fn freq(&mut self, f: f32) {
        self.single_voice();
        let f = clamp_freq(f);
        self.ctx.freq = f;
        self.push(set("/mod/sine/freq", f));
    }
    fn note(&mut self, midi: i32, then_gate: bool) {
        self.release_notes();
        let f = self.ctx.note_freq(midi);
        self.ctx.last_note = Some(midi);
        self.freq(f);
        if then_gate {
            self.push(gate(true));
        }
    }
    /// Sets the overall gain, shared among the sounding oscillators.
    fn gain(&mut self, g: f32) {
        self.ctx.gain = g.clamp(0.0, 1.0);
        let per = self.ctx.gain / self.ctx.voices as f32;
        for i in 0..self.ctx.voices {
            self.push(set(&format!("/mod/{}/gain", oscillator_name(i)), per));
        }
    }
    /// After a chord: silences the other oscillators, `sine` alone takes the whole gain.
    fn single_voice(&mut self) {
        if self.ctx.voices <= 1 {
            return;
        }
        for i in 1..self.ctx.voices {
            self.push(set(&format!("/mod/{}/gain", oscillator_name(i)), 0.0));
        }
        self.ctx.voices = 1;
        let g = self.ctx.gain;
        self.push(set("/mod/sine/gain", g));
    }
    /// Releases every note playing on the voice pool (a chord), when the synth has one.
    fn release_notes(&mut self) {
        if self.ctx.notes && self.ctx.chord_notes {
            self.push(msg("/note/off", vec![]));
            self.ctx.chord_notes = false;
        }
    }
    /// Plays `notes` together: on the voice pool when the synth has one (each note at
    /// velocity 1/n, so the chord is as loud as one note; A4 = 440 Hz), else one oscillator each (created
    /// and wired into `adsr` when the patch has too few) sharing the gain, then the gate.
    fn chord(&mut self, notes: &[i32]) {
        // Voices play equal temperament at A4 = 440 Hz; another tuning needs oscillators.
        if self.ctx.notes && self.ctx.a4 == 440.0 {
            // The single voice and any earlier chord make way.
            self.push(gate(false));
            self.release_notes();
            let n = notes.len().clamp(1, MAX_CHORD_NOTES);
            let velocity = 1.0 / n as f32;
            for &note in notes.iter().take(n) {
                let note = note.clamp(0, 127);
                self.push(msg(
                    "/note/on",
                    vec![Value::Int(note), Value::Float(velocity)],
                ));
            }
            self.ctx.last_note = notes.first().copied();
            self.ctx.chord_notes = true;
            return;
        }
        let n = notes.len().clamp(1, MAX_CHORD_NOTES);
        if self.ctx.oscillators < n {
            for i in self.ctx.oscillators..n {
                let name = oscillator_name(i);
                self.push(msg(
                    "/patch/create",
                    vec![Value::Str(name.clone()), Value::Str("osc".into())],
                ));
                self.push(msg(
                    "/patch/connect",
                    vec![Value::Str(name), Value::Str("adsr".into())],
                ));
            }
            self.push(msg("/patch/commit", vec![]));
            self.ctx.oscillators = n;
        }
        // Levels first (a new oscillator starts at gain 0.5), then the pitches.
        let old = self.ctx.voices;
        self.ctx.voices = n;
        for i in n..old {
            self.push(set(&format!("/mod/{}/gain", oscillator_name(i)), 0.0));
        }
        let g = self.ctx.gain;
        self.gain(g);
        for (i, &note) in notes.iter().take(n).enumerate() {
            let name = oscillator_name(i);
            let f = clamp_freq(self.ctx.note_freq(note));
            if i == 0 {
                self.ctx.freq = f;
            } else {
                self.push(msg(
                    &format!("/mod/{name}/shape"),
                    vec![Value::Int(self.ctx.shape)],
                ));
            }
            self.push(set(&format!("/mod/{name}/freq"), f));
        }
        self.ctx.last_note = notes.first().copied();
        self.push(gate(true));
    }
    fn reverb(&mut self, mix: f32, size: f32) {
        self.ctx.reverb_mix = mix.clamp(0.0, 1.0);
        self.ctx.reverb_size = size.clamp(0.0, 1.0);
        let (m, z) = (self.ctx.reverb_mix, self.ctx.reverb_size);
        self.push(set("/mod/reverb/mix", m));
        self.push(set("/mod/reverb/size", z));
    }
    fn echo(&mut self, mix: f32, feedback: f32) {
        self.ctx.delay_mix = mix.clamp(0.0, 1.0);
        self.ctx.delay_feedback = feedback.clamp(0.0, 0.95);
        let (m, f) = (self.ctx.delay_mix, self.ctx.delay_feedback);
        self.push(set("/mod/delay/mix", m));
        self.push(set("/mod/delay/feedback", f));
    }
    fn cutoff(&mut self, c: f32) {
        self.ctx.cutoff = c.clamp(20.0, 20_000.0);
        let c = self.ctx.cutoff;
        self.push(set("/mod/filter/cutoff", c));
    }
    fn q(&mut self, q: f32) {
        self.ctx.q = q.clamp(0.1, 20.0);
        let q = self.ctx.q;
        self.push(set("/mod/filter/q", q));
    }
    fn glide(&mut self, ms: f32) {
        self.ctx.glide = ms.clamp(0.0, 5_000.0);
        let g = self.ctx.glide;
        self.push(set("/mod/sine/glide_time", g));
    }
    fn pan(&mut self, pos: f32) {
        self.ctx.pan = pos.clamp(-1.0, 1.0);
        let p = self.ctx.pan;
        self.push(set("/mod/pan/pos", p));
    }
    fn spread(&mut self, amount: f32) {
        self.ctx.spread = amount.clamp(0.0, 1.0);
        let s = self.ctx.spread;
        self.push(set("/mod/pan/spread", s));
    }
    fn reverb_width(&mut self, width: f32) {
        self.ctx.reverb_width = width.clamp(0.0, 1.0);
        let w = self.ctx.reverb_width;
        self.push(set("/mod/reverb/width", w));
    }
    fn pingpong(&mut self, on: bool) {
        self.ctx.pingpong = on;
        self.push(set("/mod/delay/pingpong", if on { 1.0 } else { 0.0 }));
    }
    fn swing(&mut self, amount: f32) {
        self.ctx.swing = amount.clamp(0.0, 0.5);
        let s = self.ctx.swing;
        self.push(set("/seq/swing", s));
    }
    fn shape(&mut self, s: i32) {
        self.ctx.shape = s;
        for i in 0..self.ctx.voices {
            self.push(msg(
                &format!("/mod/{}/shape", oscillator_name(i)),
                vec![Value::Int(s)],
            ));
        }
    }
    fn attack(&mut self, ms: f32) {
        self.ctx.attack = ms.clamp(0.0, 10_000.0);
        let a = self.ctx.attack;
        self.push(set("/mod/adsr/attack", a));
    }
    fn release(&mut self, ms: f32) {
        self.ctx.release = ms.clamp(0.0, 20_000.0);
        let r = self.ctx.release;
        self.push(set("/mod/adsr/release", r));
    }
    /// Routes the LFO to `target` (replacing any other route) with rate and depth.
    fn lfo(&mut self, target: &str, rate: f32, depth: f32) {
        if self.ctx.lfo_target.as_deref() != Some(target) {
            if let Some(old) = self.ctx.lfo_target.take() {
                self.push(msg(
                    "/patch/disconnect",
                    vec![Value::Str("lfo".into()), Value::Str(old)],
                ));
            }
            self.push(msg(
                "/patch/connect",
                vec![Value::Str("lfo".into()), Value::Str(target.into())],
            ));
            self.push(msg("/patch/commit", vec![]));
            self.ctx.lfo_target = Some(target.into());
        }
        self.ctx.lfo_rate = rate.clamp(0.01, 20.0);
        self.ctx.lfo_depth = depth.clamp(0.0, 1.0);
        let (r, d) = (self.ctx.lfo_rate, self.ctx.lfo_depth);
        self.push(set("/mod/lfo/freq", r));
        self.push(set("/mod/lfo/depth", d));
    }
    /// Loads a built-in preset on the default instrument and keeps its values in the context.
    fn preset(&mut self, p: &timbre::Preset) {
        if let Some((target, _, _)) = p.lfo {
            // The preset routes the LFO itself: any other route goes first.
            if let Some(old) = self.ctx.lfo_target.take().filter(|t| t != target) {
                self.push(msg(
                    "/patch/disconnect",
                    vec![Value::Str("lfo".into()), Value::Str(old)],
                ));
                self.push(msg("/patch/commit", vec![]));
            }
        }
        self.push(msg(
            "/inst/load",
            vec![Value::Str("default".into()), Value::Str(p.name.into())],
        ));
        self.ctx.shape = p.shape;
        self.ctx.gain = p.gain;
        self.ctx.cutoff = p.cutoff;
        self.ctx.q = p.q;
        self.ctx.attack = p.attack;
        self.ctx.release = p.release;
        if let Some(s) = p.spread {
            self.ctx.spread = s;
        }
        if let Some((target, rate, depth)) = p.lfo {
            self.ctx.lfo_target = Some(target.into());
            self.ctx.lfo_rate = rate;
            self.ctx.lfo_depth = depth;
        }
    }
    /// White noise in every note (`sine.noise`), 0..1.
    fn noise(&mut self, level: f32) {
        self.ctx.noise = level.clamp(0.0, 1.0);
        let n = self.ctx.noise;
        self.push(set("/mod/sine/noise", n));
    }
    fn lfo_off(&mut self) {
        self.ctx.lfo_depth = 0.0;
        self.push(set("/mod/lfo/depth", 0.0));
        if let Some(old) = self.ctx.lfo_target.take() {
            self.push(msg(
                "/patch/disconnect",
                vec![Value::Str("lfo".into()), Value::Str(old)],
            ));
            self.push(msg("/patch/commit", vec![]));
        }
    }
    /// A gradual gain change: ten steps over `ms` (each sounding oscillator its share).
    fn gain_ramp(&mut self, to: f32, ms: u32) {
        let from = self.ctx.gain;
        let to = to.clamp(0.0, 1.0);
        let voices = self.ctx.voices;
        for i in 1..=10u32 {
            let g = from + (to - from) * i as f32 / 10.0;
            for v in 0..voices {
                self.plan.messages.push(Message {
                    at_ms: ms * i / 10,
                    address: format!("/mod/{}/gain", oscillator_name(v)),
                    args: vec![Value::Float(g / voices as f32)],
                });
            }
        }
        self.ctx.gain = to;
    }
}

/// A clause that ties the echo to the tempo: the note value in whole notes and its name
/// (0 to untie it).
fn echo_sync(c: &str) -> Option<(f32, &'static str)> {
    let about_echo = c.contains("echo") || c.contains("delay");
    if !about_echo {
        return None;
    }
    if ["unsync", "free echo", "free delay", "echo free", "no sync"]
        .iter()
        .any(|w| c.contains(w))
    {
        return Some((0.0, "free"));
    }
    let values: [(&str, f32, &str); 6] = [
        ("sixteenth", 0.0625, "sixteenth"),
        ("1/16", 0.0625, "sixteenth"),
        ("eighth", 0.125, "eighth"),
        ("1/8", 0.125, "eighth"),
        ("quarter", 0.25, "quarter"),
        ("beat", 0.25, "quarter"),
    ];
    let (mut v, mut name) = values
        .iter()
        .find(|(w, _, _)| c.contains(w))
        .map(|&(_, v, n)| (v, n))?;
    if c.contains("dotted") {
        v *= 1.5;
        name = match name {
            "eighth" => "dotted eighth",
            "quarter" => "dotted quarter",
            _ => "dotted sixteenth",
        };
    } else if c.contains("triplet") {
        v *= 2.0 / 3.0;
        name = match name {
            "eighth" => "eighth triplet",
            "quarter" => "quarter triplet",
            _ => "sixteenth triplet",
        };
    }
    Some((v, name))
}

fn number_after(text: &str, word: &str) -> Option<f32> {
    let rest = text.split(word).nth(1)?;
    rest.split_whitespace()
        .next()?
        .trim_end_matches("hz")
        .parse()
        .ok()
        .filter(|v: &f32| v.is_finite())
}

fn over_ms(text: &str) -> u32 {
    // "over 4 seconds", "over 500 ms"
    let Some(rest) = text.split("over ").nth(1) else {
        return 3_000;
    };
    let mut w = rest.split_whitespace();
    let n: f32 = w
        .next()
        .and_then(|n| n.parse().ok())
        .filter(|v: &f32| v.is_finite())
        .unwrap_or(3.0);
    let ms = match w.next() {
        Some(u) if u.starts_with("ms") || u.starts_with("milli") => n,
        _ => n * 1000.0,
    };
    ms.clamp(100.0, 60_000.0) as u32
}

/// Applies one clause; false when it is not understood. Exact phrases first (each topic's
/// list), then the clauses read by shape, in this order.
fn clause(c: &str, scale: f32, o: &mut Out<'_>) -> Result<bool, NlError> {
    for exact in [
        dynamics::exact,
        timbre::exact,
        effects::exact,
        rhythm::exact,
        voicing::exact,
        space::exact,
        pitch::exact,
    ] {
        if let Some(done) = exact(c, scale, o)? {
            return Ok(done);
        }
    }
    for by_shape in [
        midi::mapping,
        dynamics::over_time,
        rhythm::tempo,
        effects::echo_in_time,
        dynamics::volume,
        pitch::tuning,
        timbre::wave_shapes,
        pitch::glide,
        pitch::notes,
    ] {
        if let Some(done) = by_shape(c, o)? {
            return Ok(done);
        }
    }
    Ok(false)
}

/// Turns a phrase into a plan, updating `ctx` as the plan would leave the synth.
///
/// The phrase is first brought to one spelling (numbers, notes and units in words,
/// politeness), then read clause by clause: the exact phrases and forms of the grammar first,
/// then by the roles of its words (`intent`). Text that is not understood at all gives
/// [`NlError::NotUnderstood`] (nothing to send), with the closest known phrase; a phrase that
/// reads more than one way gives [`NlError::Ambiguous`]. In a compound phrase, the parts
/// understood are planned and the others named in the explanation. "undo" and questions
/// ("what note is that?") are whole phrases.
pub fn plan(text: &str, ctx: &mut Context) -> Result<Plan, NlError> {
    let normal = normalize(text);
    let mut plan = Plan::default();
    let whole = strip_politeness(&normal);
    let whole = whole.trim_end_matches(" ?").trim_end_matches('?').trim();
    if let Some(answer) = ask::answer(&normal, ctx) {
        plan.explanation.push(answer.clone());
        plan.answer = Some(answer);
        return Ok(plan);
    }
    if matches!(
        whole,
        "undo"
            | "undo that"
            | "undo it"
            | "undo the last change"
            | "revert"
            | "revert that"
            | "back"
            | "oops"
            | "take it back"
    ) {
        return undo_last(ctx);
    }
    let mut work = ctx.clone();
    let mut missed = Vec::new();
    let mut ambiguous: Vec<(String, Vec<String>)> = Vec::new();
    let mut understood = 0;
    for c in clauses(&normal).into_iter().take(64) {
        let c = strip_politeness(&c).to_owned();
        let lead = c
            .strip_prefix("make it ")
            .or_else(|| c.strip_prefix("make "))
            .unwrap_or(&c);
        let lead = lead.strip_prefix("and ").unwrap_or(lead);
        let (scale, bare) = strip_amount(lead);
        let mut out = Out {
            ctx: &mut work,
            plan: &mut plan,
        };
        if clause(&bare, scale, &mut out)? {
            understood += 1;
            continue;
        }
        match intent::read(&bare) {
            Some(Reading::Phrase(canonical, k)) if clause(&canonical, scale * k, &mut out)? => {
                understood += 1;
                out.say(format!("(read '{c}' as '{canonical}')"));
            }
            Some(Reading::Ambiguous(readings)) => ambiguous.push((c, readings)),
            _ => missed.push(c),
        }
    }
    if understood == 0 {
        let text: String = text.trim().chars().take(200).collect();
        if let Some((_, readings)) = ambiguous.into_iter().next() {
            return Err(NlError::Ambiguous { text, readings });
        }
        let probe = missed.first().cloned().unwrap_or_else(|| text.clone());
        return Err(NlError::NotUnderstood {
            suggestion: suggest(&probe),
            text,
        });
    }
    for (c, readings) in ambiguous {
        plan.explanation.push(format!(
            "'{c}' could mean {}: skipped, say which",
            readings.join(" or ")
        ));
    }
    for m in missed {
        let hint = suggest(&m)
            .map(|s| format!(" (did you mean '{s}'?)"))
            .unwrap_or_default();
        plan.explanation
            .push(format!("did not understand '{m}'{hint}; skipped"));
    }
    // What "undo" goes back to.
    let mut earlier = ctx.clone();
    earlier.history.clear();
    work.history.push(Earlier {
        phrase: text.trim().chars().take(200).collect(),
        state: earlier,
    });
    if work.history.len() > HISTORY {
        work.history.remove(0);
    }
    *ctx = work;
    Ok(plan)
}

/// "undo": back to the state before the latest phrase (settings only).
fn undo_last(ctx: &mut Context) -> Result<Plan, NlError> {
    let mut plan = Plan::default();
    let mut work = ctx.clone();
    let Some(earlier) = work.history.pop() else {
        return Err(NlError::NothingToUndo);
    };
    let mut out = Out {
        ctx: &mut work,
        plan: &mut plan,
    };
    undo::restore(&mut out, &earlier.state);
    out.say(format!(
        "undo: the settings as they were before '{}'",
        earlier.phrase
    ));
    *ctx = work;
    Ok(plan)
}
