//! The phrases chronus understands, and what each one sends.

use crate::chords::parse_chord;
use crate::context::{oscillator_name, MAX_CHORD_NOTES};
use crate::notes::parse_note;
use crate::{Context, Message, NlError, Plan, Value};

/// Phrases offered as suggestions when nothing matched.
const KNOWN: &[&str] = &[
    "play a4",
    "play a note",
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
    "pluck",
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

/// Applies one clause; false when it is not understood.
fn clause(c: &str, scale: f32, o: &mut Out<'_>) -> Result<bool, NlError> {
    let ctx_gain = o.ctx.gain;
    let words: Vec<&str> = c.split_whitespace().collect();
    let first = words.first().copied().unwrap_or("");
    match c {
        "stop" | "silence" | "stop playing" | "note off" | "quiet" | "shh" | "stop the note" => {
            o.push(gate(false));
            let chord = o.ctx.chord_notes;
            o.release_notes();
            o.say(if chord {
                "stop: gate off, every note released"
            } else {
                "stop: gate off"
            });
            return Ok(true);
        }
        "play" | "play a note" | "note on" | "start" | "go" | "play something" => {
            o.push(gate(true));
            o.say("play: gate on");
            return Ok(true);
        }
        "louder" | "more volume" | "up the volume" => {
            let g = ctx_gain * (1.0 + 0.2 * scale);
            o.gain(g);
            o.say(format!("louder: gain ×{:.2}", 1.0 + 0.2 * scale));
            return Ok(true);
        }
        "quieter" | "softer" | "less volume" => {
            let g = ctx_gain / (1.0 + 0.2 * scale);
            o.gain(g);
            o.say(format!("quieter: gain ÷{:.2}", 1.0 + 0.2 * scale));
            return Ok(true);
        }
        "pp" | "pianissimo" | "p" | "piano" | "mp" | "mezzo piano" | "mf" | "mezzo forte" | "f"
        | "forte" | "ff" | "fortissimo" => {
            let g = match c {
                "pp" | "pianissimo" => 0.2,
                "p" | "piano" => 0.3,
                "mp" | "mezzo piano" => 0.45,
                "mf" | "mezzo forte" => 0.6,
                "f" | "forte" => 0.75,
                _ => 0.9,
            };
            o.gain(g);
            o.say(format!("{c}: gain {g}"));
            return Ok(true);
        }
        "brighter" | "more treble" | "open the filter" => {
            let f = 1.0 + 0.5 * scale;
            let cut = o.ctx.cutoff * f;
            o.cutoff(cut);
            o.say(format!("brighter: cutoff ×{f:.2}"));
            return Ok(true);
        }
        "darker" | "duller" | "close the filter" | "less treble" => {
            let f = 1.0 - 0.3 * scale.min(2.0) / if scale > 1.0 { 1.5 } else { 1.0 };
            let cut = o.ctx.cutoff * f;
            o.cutoff(cut);
            o.say(format!("darker: cutoff ×{f:.2}"));
            return Ok(true);
        }
        "add warmth" | "warmer" | "warm" | "warmth" => {
            o.cutoff(800.0);
            o.q(2.0);
            o.say("warmth: cutoff 800 Hz, q 2");
            return Ok(true);
        }
        "smooth" | "smoother" | "mellow" | "soft tone" => {
            o.shape(1);
            o.cutoff(700.0);
            o.q(0.707);
            o.say("mellow: triangle wave, cutoff 700 Hz");
            return Ok(true);
        }
        "harsh" | "harsher" | "aggressive" | "gritty" => {
            o.shape(3);
            let cut = (o.ctx.cutoff * 2.0).max(4000.0);
            o.cutoff(cut);
            o.say("harsh: saw wave, filter opened");
            return Ok(true);
        }
        "staccato" | "short notes" | "shorter notes" | "short" => {
            o.attack(5.0);
            o.release(50.0);
            o.say("staccato: attack 5 ms, release 50 ms");
            return Ok(true);
        }
        "legato" | "long notes" | "longer notes" | "smooth notes" => {
            o.attack(50.0);
            o.release(500.0);
            o.say("legato: attack 50 ms, release 500 ms");
            return Ok(true);
        }
        "faster attack" | "quicker attack" | "sharper attack" => {
            let a = o.ctx.attack * 0.5f32.powf(scale);
            o.attack(a);
            o.say("faster attack: attack halved");
            return Ok(true);
        }
        "slower attack" | "softer attack" => {
            let a = (o.ctx.attack.max(1.0)) * 2f32.powf(scale);
            o.attack(a);
            o.say("slower attack: attack doubled");
            return Ok(true);
        }
        "longer release" | "more release" | "longer tail" => {
            let r = o.ctx.release.max(1.0) * 2f32.powf(scale);
            o.release(r);
            o.say("longer release: release doubled");
            return Ok(true);
        }
        "shorter release" | "less release" | "shorter tail" => {
            let r = o.ctx.release * 0.5f32.powf(scale);
            o.release(r);
            o.say("shorter release: release halved");
            return Ok(true);
        }
        "vibrato" | "add vibrato" | "some vibrato" | "add some vibrato" => {
            o.lfo("sine.freq", 5.0, 0.1 * scale);
            o.say("vibrato: lfo 5 Hz, depth 0.1 on sine.freq");
            return Ok(true);
        }
        "wobble" | "wobble the filter" | "wobble bass" | "add wobble" | "wobbly" => {
            o.lfo("filter.cutoff", 0.5, (0.8 * scale).min(1.0));
            o.say("wobble: lfo 0.5 Hz, depth 0.8 on filter.cutoff");
            return Ok(true);
        }
        "tremolo" | "add tremolo" => {
            o.lfo("sine.gain", 6.0, 0.3 * scale);
            o.say("tremolo: lfo 6 Hz, depth 0.3 on sine.gain");
            return Ok(true);
        }
        "faster vibrato" | "faster wobble" | "faster tremolo" => {
            let r = o.ctx.lfo_rate * 1.5f32.powf(scale);
            let (t, d) = (
                o.ctx
                    .lfo_target
                    .clone()
                    .unwrap_or_else(|| "sine.freq".into()),
                o.ctx.lfo_depth.max(0.1),
            );
            o.lfo(&t, r, d);
            o.say("faster: lfo rate ×1.5");
            return Ok(true);
        }
        "slower vibrato" | "slower wobble" | "slower tremolo" => {
            let r = o.ctx.lfo_rate / 1.5f32.powf(scale);
            let (t, d) = (
                o.ctx
                    .lfo_target
                    .clone()
                    .unwrap_or_else(|| "sine.freq".into()),
                o.ctx.lfo_depth.max(0.1),
            );
            o.lfo(&t, r, d);
            o.say("slower: lfo rate ÷1.5");
            return Ok(true);
        }
        "no vibrato" | "no wobble" | "no tremolo" | "stop the vibrato" | "stop the wobble"
        | "no modulation" => {
            o.lfo_off();
            o.say("no modulation: lfo depth 0, route removed");
            return Ok(true);
        }
        "fade out" | "fade away" => {
            o.release(2000.0);
            o.push(gate(false));
            o.say("fade out: release 2 s, gate off");
            return Ok(true);
        }
        "fade in" => {
            o.attack(2000.0);
            o.push(gate(true));
            o.say("fade in: attack 2 s, gate on");
            return Ok(true);
        }
        "techno bass" => {
            o.shape(3);
            o.note(33, false);
            o.cutoff(400.0);
            o.q(8.0);
            o.attack(2.0);
            o.release(80.0);
            o.push(gate(true));
            o.say("techno bass: saw at A1, resonant low filter, short envelope");
            return Ok(true);
        }
        "flute" => {
            o.shape(0);
            o.attack(80.0);
            o.release(300.0);
            o.cutoff(3000.0);
            o.lfo("sine.freq", 5.0, 0.005);
            o.say("flute: sine, soft attack, light vibrato");
            return Ok(true);
        }
        "pad" | "a pad" => {
            o.shape(1);
            o.attack(800.0);
            o.release(2000.0);
            o.cutoff(1200.0);
            o.say("pad: triangle, slow attack and release");
            return Ok(true);
        }
        "pluck" | "plucked" => {
            o.shape(3);
            o.attack(2.0);
            o.push(set("/mod/adsr/decay", 150.0));
            o.push(set("/mod/adsr/sustain", 0.0));
            o.release(100.0);
            o.cutoff(3000.0);
            o.say("pluck: saw, instant attack, quick decay to silence");
            return Ok(true);
        }
        "reverb" | "add reverb" | "some reverb" | "add some reverb" | "with reverb" | "wet" => {
            let mix = (0.3 * scale).min(1.0);
            o.reverb(mix, 0.7);
            o.say(format!("reverb: mix {mix:.2}, size 0.7"));
            return Ok(true);
        }
        "more reverb" | "bigger room" | "more space" | "more ambience" => {
            let mix = o.ctx.reverb_mix + 0.2 * scale;
            let size = o.ctx.reverb_size.max(0.7) + 0.1 * scale;
            o.reverb(mix, size);
            o.say(format!(
                "more reverb: mix {:.2}, size {:.2}",
                o.ctx.reverb_mix, o.ctx.reverb_size
            ));
            return Ok(true);
        }
        "less reverb" | "smaller room" | "less space" => {
            let mix = o.ctx.reverb_mix - 0.15 * scale;
            let size = o.ctx.reverb_size;
            o.reverb(mix, size);
            o.say(format!("less reverb: mix {:.2}", o.ctx.reverb_mix));
            return Ok(true);
        }
        "big hall" | "cathedral" | "huge reverb" | "in a cathedral" | "in a big hall" => {
            o.reverb(0.45, 0.95);
            o.say("big hall: reverb mix 0.45, size 0.95");
            return Ok(true);
        }
        "no reverb" | "remove the reverb" | "stop the reverb" => {
            let size = o.ctx.reverb_size;
            o.reverb(0.0, size);
            o.say("no reverb: reverb mix 0");
            return Ok(true);
        }
        "echo" | "add echo" | "delay" | "add delay" | "some echo" | "add some echo" => {
            let mix = (0.3 * scale).min(1.0);
            o.echo(mix, 0.4);
            o.say(format!("echo: delay mix {mix:.2}, feedback 0.4"));
            return Ok(true);
        }
        "more echo" | "more delay" | "longer echo" => {
            let mix = o.ctx.delay_mix + 0.2 * scale;
            o.echo(mix, 0.6);
            o.say(format!(
                "more echo: delay mix {:.2}, feedback 0.6",
                o.ctx.delay_mix
            ));
            return Ok(true);
        }
        "less echo" | "less delay" => {
            let mix = o.ctx.delay_mix - 0.15 * scale;
            let fb = o.ctx.delay_feedback;
            o.echo(mix, fb);
            o.say(format!("less echo: delay mix {:.2}", o.ctx.delay_mix));
            return Ok(true);
        }
        "no echo" | "no delay" | "stop the echo" | "remove the echo" => {
            let fb = o.ctx.delay_feedback;
            o.echo(0.0, fb);
            o.say("no echo: delay mix 0");
            return Ok(true);
        }
        "dry" | "dry sound" | "no effects" | "bone dry" => {
            let (size, fb) = (o.ctx.reverb_size, o.ctx.delay_feedback);
            o.reverb(0.0, size);
            o.echo(0.0, fb);
            o.say("dry: reverb and delay mix 0");
            return Ok(true);
        }
        "four on the floor"
        | "a four on the floor beat"
        | "a beat"
        | "give me a beat"
        | "house beat" => {
            o.push(msg(
                "/seq/target",
                vec![Value::Int(0), Value::Str("adsr".into())],
            ));
            o.push(msg(
                "/seq/pattern",
                vec![Value::Int(0), Value::Str("x...x...x...x...".into())],
            ));
            o.push(msg("/seq/start", vec![]));
            o.say(format!(
                "four on the floor: a hit on every beat at {} BPM, sequencer track 0 on adsr",
                o.ctx.bpm
            ));
            return Ok(true);
        }
        "stop the beat" | "stop the sequencer" | "stop the pattern" | "no beat" => {
            o.push(msg("/seq/stop", vec![]));
            o.say("stop the beat: sequencer stopped");
            return Ok(true);
        }
        "start the beat" | "start the sequencer" | "start the pattern" => {
            o.push(msg("/seq/start", vec![]));
            o.say("start the beat: sequencer started");
            return Ok(true);
        }
        "faster tempo" | "speed up" | "slower tempo" | "slow down" => {
            let up = matches!(c, "faster tempo" | "speed up");
            let f = if up { 1.1f32 } else { 1.0 / 1.1 }.powf(scale);
            let bpm = (o.ctx.bpm * f).clamp(20.0, 300.0);
            o.ctx.bpm = bpm;
            o.push(set("/seq/bpm", bpm));
            o.say(format!("tempo: {bpm:.1} BPM"));
            return Ok(true);
        }
        "a mysterious chord" | "mysterious chord" | "something mysterious" => {
            // A3 C#4 E4, darker, in a room.
            o.chord(&[57, 61, 64]);
            let cut = o.ctx.cutoff * 0.7;
            o.cutoff(cut);
            o.reverb(0.3, 0.7);
            o.say("a mysterious chord: A3 C#4 E4, filter darker, reverb");
            return Ok(true);
        }
        "a happy chord" | "happy chord" | "something happy" => {
            o.chord(&[60, 64, 67]);
            o.say("a happy chord: C4 major (C4 E4 G4)");
            return Ok(true);
        }
        "a sad chord" | "sad chord" | "something sad" => {
            o.chord(&[57, 60, 64]);
            o.say("a sad chord: A3 minor (A3 C4 E4)");
            return Ok(true);
        }
        "a dreamy chord" | "dreamy chord" | "something dreamy" => {
            o.chord(&[60, 64, 67, 71]);
            o.reverb(0.4, 0.85);
            o.say("a dreamy chord: C4 major 7th, big reverb");
            return Ok(true);
        }
        _ => {}
    }
    // Dynamics over time.
    if first == "crescendo" || first == "diminuendo" || first == "decrescendo" {
        let ms = over_ms(c);
        let to = if first == "crescendo" {
            (ctx_gain * 2.0).max(0.1)
        } else {
            ctx_gain / 2.0
        };
        o.gain_ramp(to, ms);
        o.say(format!(
            "{first}: gain to {to:.2} over {:.1} s",
            ms as f32 / 1000.0
        ));
        return Ok(true);
    }
    // Tempo: "at 175 bpm", "175 bpm", "tempo 90".
    let bpm = c
        .strip_prefix("at ")
        .unwrap_or(c)
        .strip_suffix(" bpm")
        .and_then(|n| n.trim().parse::<f32>().ok())
        .or_else(|| number_after(c, "tempo "))
        .filter(|b| b.is_finite());
    if let Some(b) = bpm {
        let b = b.clamp(20.0, 300.0);
        o.ctx.bpm = b;
        o.push(set("/seq/bpm", b));
        o.say(format!("tempo: {b} BPM (from the next step)"));
        return Ok(true);
    }
    // Echo in time: "dotted eighth echo", "sync the echo to quarters", "echo on the beat".
    if let Some((sync, name)) = echo_sync(c) {
        if sync == 0.0 {
            o.push(set("/mod/delay/sync", 0.0));
            o.say("echo free of the tempo: delay time in ms again");
            return Ok(true);
        }
        o.push(set("/mod/delay/sync", sync));
        if o.ctx.delay_mix == 0.0 {
            let fb = o.ctx.delay_feedback;
            o.echo(0.3, fb);
        }
        let ms = sync * 4.0 * 60_000.0 / o.ctx.bpm;
        o.say(format!(
            "echo on {name}s: {ms:.0} ms at {} BPM, following the tempo",
            o.ctx.bpm
        ));
        return Ok(true);
    }
    // Volume N (0..10, or 0..1).
    if let Some(v) = number_after(c, "volume ") {
        let g = if v > 1.0 { v / 10.0 } else { v };
        o.gain(g);
        o.say(format!("volume: gain {:.2}", o.ctx.gain));
        return Ok(true);
    }
    // Tuning.
    if let Some(a) = number_after(c, "tune to ") {
        o.ctx.a4 = a.clamp(400.0, 480.0);
        let n = o.ctx.last_note.unwrap_or(69);
        o.note(n, false);
        o.say(format!("tuning: A4 = {} Hz", o.ctx.a4));
        return Ok(true);
    }
    // Wave shapes by name.
    for (name, s) in [
        ("sine", 0),
        ("triangle", 1),
        ("square", 2),
        ("sawtooth", 3),
        ("saw", 3),
    ] {
        if c == name
            || c == format!("{name} wave")
            || c == format!("a {name} wave")
            || c == format!("{name} shape")
        {
            o.shape(s);
            o.say(format!("{name} wave"));
            return Ok(true);
        }
    }
    // Glide.
    if let Some(rest) = c
        .strip_prefix("glide to ")
        .or_else(|| c.strip_prefix("slide to "))
    {
        if let Some(n) = parse_note(rest) {
            if o.ctx.glide == 0.0 {
                o.ctx.glide = 200.0;
                o.push(set("/mod/sine/glide_time", 200.0));
            }
            o.note(n, false);
            o.say(format!(
                "glide to {}: glide 200 ms, then the note",
                note_name(rest)
            ));
            return Ok(true);
        }
    }
    // Intervals up and down.
    let (dir, rest) = if let Some(r) = c
        .strip_prefix("go up ")
        .or_else(|| c.strip_prefix("up "))
        .or_else(|| c.strip_prefix("raise it "))
    {
        (1, r)
    } else if let Some(r) = c
        .strip_prefix("go down ")
        .or_else(|| c.strip_prefix("down "))
        .or_else(|| c.strip_prefix("lower it "))
    {
        (-1, r)
    } else {
        (0, "")
    };
    if dir != 0 {
        if let Some(n) = interval(rest) {
            let base = o.ctx.last_note.unwrap_or(69);
            o.note(base + dir * n, false);
            o.say(format!(
                "{} {n} semitones",
                if dir > 0 { "up" } else { "down" }
            ));
            return Ok(true);
        }
    }
    // Play a note, a frequency, or an interval above the last note.
    let raw = c.strip_prefix("play ").unwrap_or(c);
    if (c.starts_with("play ") || raw == "middle c") && raw.contains("middle c") {
        if let Some(n) = parse_note(raw) {
            o.note(n, true);
            o.say(format!("play {raw}: {:.2} Hz, gate on", o.ctx.note_freq(n)));
            return Ok(true);
        }
    }
    let target = raw
        .strip_prefix("an ")
        .or_else(|| raw.strip_prefix("a "))
        .unwrap_or(raw);
    if let Some(hz) = target
        .strip_suffix(" hz")
        .or_else(|| target.strip_suffix("hz"))
        .and_then(|n| n.trim().parse::<f32>().ok())
        .filter(|v| v.is_finite())
    {
        o.ctx.last_note = None;
        o.freq(hz);
        o.push(gate(true));
        o.say(format!("play {} Hz", o.ctx.freq));
        return Ok(true);
    }
    if let Some(rel) = target.strip_prefix("the ") {
        let steps = match rel {
            "third" => Some(4),
            "fourth" => Some(5),
            "fifth" => Some(7),
            "octave" => Some(12),
            _ => None,
        };
        if let Some(st) = steps {
            let base = o.ctx.last_note.unwrap_or(69);
            o.note(base + st, true);
            o.say(format!("the {rel}: {st} semitones above the last note"));
            return Ok(true);
        }
    }
    if c.starts_with("play ") || c.split_whitespace().count() == 1 {
        if let Some(n) = parse_note(target) {
            o.note(n, true);
            o.say(format!(
                "play {}: {:.2} Hz, gate on",
                note_name(target),
                o.ctx.note_freq(n)
            ));
            return Ok(true);
        }
    }
    // Chords: "C major chord", "play an Am7", "a G sus4 chord".
    if let Some(chord) = parse_chord(raw).or_else(|| parse_chord(target)) {
        o.chord(&chord.notes);
        let how = if o.ctx.notes {
            "notes"
        } else {
            "oscillators, gate on"
        };
        o.say(format!("{} chord: {} {how}", chord.name, chord.notes.len()));
        return Ok(true);
    }
    Ok(false)
}

/// Turns a phrase into a plan, updating `ctx` as the plan would leave the synth.
///
/// Text that is not understood at all gives [`NlError::NotUnderstood`] (nothing to send), with
/// the closest known phrase. In a compound phrase, the parts understood are planned and the
/// others named in the explanation.
pub fn plan(text: &str, ctx: &mut Context) -> Result<Plan, NlError> {
    let mut plan = Plan::default();
    let mut work = ctx.clone();
    let mut missed = Vec::new();
    let mut understood = 0;
    for c in clauses(text).into_iter().take(64) {
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
        } else {
            missed.push(c);
        }
    }
    if understood == 0 {
        let text: String = text.trim().chars().take(200).collect();
        let probe = missed.first().cloned().unwrap_or_else(|| text.clone());
        return Err(NlError::NotUnderstood {
            suggestion: suggest(&probe),
            text,
        });
    }
    for m in missed {
        let hint = suggest(&m)
            .map(|s| format!(" (did you mean '{s}'?)"))
            .unwrap_or_default();
        plan.explanation
            .push(format!("did not understand '{m}'{hint}; skipped"));
    }
    *ctx = work;
    Ok(plan)
}
