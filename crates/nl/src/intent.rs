//! Intent: what a clause asks for when it is not one of the exact phrases. Every word of the
//! clause must be known (a topic, an operation, an amount, a direction, a number, a note, or a
//! filler word such as "the", "it", "make", "sound"); a clause with a word outside this
//! vocabulary is not understood, so nonsense is never turned into some change. The words'
//! roles then pick one intent, which is carried out as the canonical phrase of the grammar
//! (`docs/nl.md`): "make the sound a little more muffled" is read as "darker", at half the
//! change.

/// What a word contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// Carries no meaning here ("the", "it", "sound").
    Filler,
    /// Scales a change: 0.5 ("a touch"), 2 ("a lot").
    Amount(f32),
    /// Up (+1) or down (-1): pitch, level, tempo, by what else the clause says.
    Dir(i32),
    More,
    Less,
    Add,
    Remove,
    Start,
    Stop,
    Faster,
    Slower,
    Longer,
    Shorter,
    Open,
    Close,
    /// Turns an adjective around: "too bright", "less muffled", "not so loud".
    Invert,
    /// No effects at all.
    Dry,
    /// A level named in words: "half" 0.5, "full" 1.
    Level(f32),
    /// One note at a time.
    Mono,
    Topic(Topic),
    /// A word that is a topic and a direction at once: "louder", "muffled".
    Adjective(Topic, i32),
    Shape(i32),
    /// An interval in semitones ("fifth" 7); a number before it multiplies ("2 octaves").
    Interval(i32),
    Number(f32),
    Hz,
    Percent,
    Note(i32),
    Play,
    Glide,
    Tune,
}

/// What a clause is about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Topic {
    Volume,
    Tone,
    Pitch,
    Reverb,
    Echo,
    Vibrato,
    Wobble,
    Tremolo,
    Attack,
    Release,
    Tempo,
    Beat,
    Resonance,
    Swing,
    Voices,
}

fn role(word: &str) -> Option<Role> {
    use self::Topic::*;
    use Role::*;
    if let Ok(v) = word.parse::<f32>() {
        return v.is_finite().then_some(Number(v));
    }
    Some(match word {
        "a" | "an" | "the" | "it" | "its" | "this" | "that" | "me" | "us" | "i" | "you" | "we"
        | "can" | "could" | "would" | "will" | "please" | "just" | "make" | "let" | "sound"
        | "sounds" | "sounding" | "is" | "be" | "to" | "of" | "on" | "in" | "for" | "by"
        | "now" | "right" | "so" | "ok" | "okay" | "hey" | "want" | "like" | "need" | "give"
        | "put" | "set" | "get" | "go" | "turn" | "do" | "thing" | "stuff" | "synth" | "again"
        | "instead" | "back" | "change" | "switch" | "use" | "bring" | "take" | "move"
        | "shift" | "transpose" | "into" | "some" | "bit" | "rid" | "there" | "kinda" | "sort"
        | "kind" | "pretty" | "quite" | "rather" | "overall" | "all" | "everything" | "keep"
        | "have" | "add" | "out" | "off" | "up" | "down" | "crank" | "cranked" | "bump"
        | "pump" | "half" | "whole" | "minor" | "major" | "am" | "are" | "little" | "perfect"
        | "any" | "as" | "at" | "roll" | "with" => return role_of_small_word(word),
        "touch" | "tad" | "hair" | "smidge" | "slightly" | "somewhat" | "gently" | "subtle"
        | "subtly" => Amount(0.5),
        "lot" | "lots" | "much" | "way" | "very" | "really" | "super" | "far" | "loads"
        | "tons" | "heaps" | "massively" | "seriously" => Amount(2.0),
        "higher" | "raise" | "raised" | "sharpen" => Dir(1),
        "lower" | "drop" | "flatten" => Dir(-1),
        "more" | "increase" | "extra" | "bigger" | "drown" | "boost" | "plenty" => More,
        "less" | "reduce" | "decrease" | "fewer" | "smaller" | "lessen" => Less,
        "no" | "without" | "remove" | "kill" | "lose" | "disable" | "cut" | "ditch" | "none"
        | "mute" | "dump" | "nix" | "zero" => Remove,
        "start" | "begin" | "resume" | "enable" => Start,
        "stop" | "halt" | "end" | "silence" | "silent" | "hush" | "shush" | "shh" | "enough"
        | "pause" => Stop,
        "faster" | "quicker" | "quick" | "fast" | "snappier" | "snappy" | "speed" | "hurry" => {
            Faster
        }
        "slower" | "slow" | "lazier" => Slower,
        "longer" | "long" | "lengthen" | "extend" => Longer,
        "shorter" | "short" | "shorten" => Shorter,
        "too" | "not" | "overly" => Invert,
        "dry" | "drier" | "dryer" => Dry,
        "full" | "max" | "maximum" => Level(1.0),
        "open" | "opened" | "opening" => Open,
        "close" | "closed" | "closing" | "shut" => Close,
        "volume" | "level" | "gain" | "loudness" => Topic(Volume),
        "treble" | "filter" | "cutoff" | "brightness" | "highs" | "top" => Topic(Tone),
        "pitch" | "key" | "note" | "notes" | "tuning" => Topic(Pitch),
        "reverb" | "verb" | "reverberation" | "room" | "hall" | "space" | "ambience"
        | "ambiance" => Topic(Reverb),
        "echo" | "echoes" | "echos" | "delay" | "repeats" => Topic(Echo),
        "vibrato" | "vib" => Topic(Vibrato),
        "wobble" | "wobbles" | "wobbly" | "wub" => Topic(Wobble),
        "tremolo" | "trem" => Topic(Tremolo),
        "attack" | "onset" => Topic(Attack),
        "release" | "tail" | "decay" => Topic(Release),
        "tempo" | "bpm" | "pace" => Topic(Tempo),
        "resonance" | "resonant" | "q" | "squelch" | "squelchy" => Topic(Resonance),
        "swing" | "shuffle" | "swung" | "groovy" => Topic(Swing),
        "straight" => Remove,
        "voices" | "voice" | "polyphony" | "polyphonic" | "poly" => Topic(Voices),
        "mono" | "monophonic" => Role::Mono,
        "beat" | "beats" | "drums" | "drum" | "pattern" | "sequencer" | "groove" | "rhythm"
        | "loop" => Topic(Beat),
        "louder" | "loud" | "loudly" | "boomier" => Adjective(Volume, 1),
        "quieter" | "softer" | "softly" | "quietly" | "soft" | "gentler" | "quiet" => {
            Adjective(Volume, -1)
        }
        "brighter" | "bright" | "crisper" | "crisp" | "clearer" | "airier" | "airy" | "shinier"
        | "shiny" | "sharper" | "brilliant" | "thinner" | "buzzier" => Adjective(Tone, 1),
        "darker" | "dark" | "duller" | "dull" | "muffled" | "muffle" | "murkier" | "murky"
        | "muted" | "rounder" | "mellower" | "deeper" | "thicker" | "muddier" | "warmer"
        | "warm" => Adjective(Tone, -1),
        "sine" | "sin" | "pure" => Shape(0),
        "triangle" | "tri" => Shape(1),
        "square" => Shape(2),
        "saw" | "sawtooth" | "ramp" => Shape(3),
        "wave" | "waves" | "waveform" | "shape" | "oscillator" | "osc" => Filler,
        "semitone" | "semitones" | "halfstep" => Interval(1),
        "tone" | "tones" | "step" | "steps" | "second" => Interval(2),
        "third" | "thirds" => Interval(4),
        "fourth" | "fourths" => Interval(5),
        "tritone" => Interval(6),
        "fifth" | "fifths" => Interval(7),
        "sixth" => Interval(9),
        "seventh" => Interval(11),
        "octave" | "octaves" => Interval(12),
        "hz" | "khz" => Hz,
        "percent" => Percent,
        "play" | "playing" | "hit" | "hear" => Play,
        "glide" | "slide" | "portamento" | "bend" => Glide,
        "tune" | "tuned" | "retune" => Tune,
        _ => return note(word),
    })
}

/// Small words with a meaning of their own in some clauses ("up", "off") and none in others.
fn role_of_small_word(word: &str) -> Option<Role> {
    Some(match word {
        "up" => Role::Dir(1),
        "down" => Role::Dir(-1),
        "off" | "out" | "rid" => Role::Remove,
        "add" | "some" | "give" | "put" | "on" => Role::Add,
        "bit" | "little" => Role::Amount(0.5),
        "half" => Role::Level(0.5),
        _ => Role::Filler,
    })
}

fn note(word: &str) -> Option<Role> {
    // "a" is an article; a note A is "a4", or "a" where nothing else can be meant (the
    // exact phrases read "play a" before this).
    if word == "a" {
        return None;
    }
    chronus_dsp::pitch::parse_note(word, Some(4)).map(|n| Role::Note(i32::from(n)))
}

/// What a clause is read as.
#[derive(Debug, PartialEq)]
pub(crate) enum Reading {
    /// A canonical phrase of the grammar, and the scale of its change.
    Phrase(String, f32),
    /// More than one meaning: the phrases it could be, none chosen.
    Ambiguous(Vec<String>),
}

/// Reads a clause (already normalised) by the roles of its words; `None`: a word outside the
/// vocabulary, or no intent the roles make up.
pub(crate) fn read(clause: &str) -> Option<Reading> {
    let roles: Vec<Role> = clause
        .split_whitespace()
        .filter(|w| *w != "?")
        .map(role)
        .collect::<Option<_>>()?;
    if roles.iter().all(|r| matches!(r, Role::Filler)) {
        return None;
    }
    let mut scale = 1.0;
    for r in &roles {
        if let Role::Amount(a) = r {
            scale = *a;
        }
    }
    let has = |want: Role| roles.contains(&want);
    let topic = |t: Topic| {
        roles
            .iter()
            .any(|r| matches!(r, Role::Topic(x) | Role::Adjective(x, _) if *x == t))
    };
    let dir: i32 = roles
        .iter()
        .map(|r| match r {
            Role::Dir(d) => *d,
            _ => 0,
        })
        .sum::<i32>()
        .signum();
    // "too bright", "less muffled": the adjective says what there is too much of.
    let invert = has(Role::Invert) || has(Role::Less);
    let adjective = |t: Topic| {
        roles.iter().find_map(|r| match r {
            Role::Adjective(x, d) if *x == t => Some(if invert { -*d } else { *d }),
            _ => None,
        })
    };
    let number = roles.iter().find_map(|r| match r {
        Role::Number(v) => Some(*v),
        _ => None,
    });
    let note = roles.iter().find_map(|r| match r {
        Role::Note(n) => Some(*n),
        _ => None,
    });
    let shape = roles.iter().find_map(|r| match r {
        Role::Shape(s) => Some(*s),
        _ => None,
    });
    // Intervals add up ("an octave a fifth"); a number multiplies the one after it.
    let mut semitones = 0;
    let mut minor = false;
    let words: Vec<&str> = clause.split_whitespace().filter(|w| *w != "?").collect();
    for (i, r) in roles.iter().enumerate() {
        if let Role::Interval(n) = r {
            // "the tone" is the sound's colour unless the clause moves the pitch.
            if matches!(words[i], "tone" | "tones") && dir == 0 {
                continue;
            }
            let times = match i.checked_sub(1).map(|p| roles[p]) {
                Some(Role::Number(v)) if v.fract() == 0.0 && v.abs() <= 48.0 => v as i32,
                _ => 1,
            };
            semitones += n * times;
        }
    }
    if words.contains(&"minor") {
        minor = true;
    }
    if words.contains(&"half") && semitones == 2 {
        semitones = 1;
    }
    if minor && matches!(semitones, 4 | 9 | 11) {
        semitones -= 1;
    }
    let phrase = |p: &str| Some(Reading::Phrase(p.to_owned(), scale));

    // Glide to a note, and how much glide.
    if has(Role::Glide) {
        let Some(n) = note else {
            return Some(Reading::Phrase(
                format!("{} glide", op_word(&roles, dir)),
                scale,
            ));
        };
        return phrase(&format!("glide to {}", name(n)));
    }
    if has(Role::Tune) {
        return phrase(&format!("tune to {}", number?));
    }
    // A note or a frequency to play.
    if let Some(n) = note {
        return phrase(&format!("play {}", name(n)));
    }
    if has(Role::Dry) && !topic(Topic::Reverb) && !topic(Topic::Echo) {
        return phrase("dry");
    }
    if let Some(v) = number {
        if has(Role::Hz) {
            let hz = if words.contains(&"khz") {
                v * 1000.0
            } else {
                v
            };
            return phrase(&format!("play {hz} hz"));
        }
        if topic(Topic::Tempo) {
            return phrase(&format!("at {v} bpm"));
        }
        if has(Role::Percent) || topic(Topic::Volume) {
            let g = if has(Role::Percent) { v / 100.0 } else { v };
            return phrase(&format!("volume {g}"));
        }
    }
    // Intervals up and down.
    if semitones != 0 {
        return match dir {
            1 => phrase(&format!("up {semitones} semitones")),
            -1 => phrase(&format!("down {semitones} semitones")),
            _ => Some(Reading::Ambiguous(vec![
                format!("up {semitones} semitones"),
                format!("down {semitones} semitones"),
            ])),
        };
    }
    // Effects and modulation.
    let op = op_word(&roles, dir);
    for (t, name) in [(Topic::Reverb, "reverb"), (Topic::Echo, "echo")] {
        if topic(t) {
            return phrase(&format!("{op} {name}"));
        }
    }
    for (t, name) in [
        (Topic::Vibrato, "vibrato"),
        (Topic::Wobble, "wobble"),
        (Topic::Tremolo, "tremolo"),
    ] {
        if topic(t) {
            return match op {
                "no" => phrase(&format!("no {name}")),
                _ if has(Role::Faster) => phrase(&format!("faster {name}")),
                _ if has(Role::Slower) => phrase(&format!("slower {name}")),
                "more" => Some(Reading::Phrase(format!("add {name}"), scale * 2.0)),
                "less" => Some(Reading::Phrase(format!("add {name}"), scale * 0.5)),
                _ => phrase(&format!("add {name}")),
            };
        }
    }
    // Polyphony: "make it polyphonic", "switch to mono", "give me 16 voices".
    if has(Role::Mono) {
        return phrase("mono");
    }
    if topic(Topic::Voices) {
        return match number {
            Some(n) => phrase(&format!("{n} voices")),
            None => phrase("polyphonic"),
        };
    }
    for (t, name) in [(Topic::Resonance, "resonance"), (Topic::Swing, "swing")] {
        if topic(t) {
            return phrase(&format!("{} {name}", op_word(&roles, dir)));
        }
    }
    // The envelope.
    if topic(Topic::Attack) {
        let quicker = has(Role::Faster) || has(Role::Shorter) || has(Role::Less) || dir < 0;
        let gentler = has(Role::Slower) || has(Role::Longer) || has(Role::More) || dir > 0;
        return match (quicker, gentler || adjective(Topic::Volume) == Some(-1)) {
            (true, false) => phrase("faster attack"),
            (false, true) => phrase("slower attack"),
            _ => None,
        };
    }
    if topic(Topic::Release) {
        let longer = has(Role::Longer) || has(Role::More) || has(Role::Slower) || dir > 0;
        let shorter = has(Role::Shorter) || has(Role::Less) || has(Role::Faster) || dir < 0;
        return match (longer, shorter) {
            (true, false) => phrase("longer release"),
            (false, true) => phrase("shorter release"),
            _ => None,
        };
    }
    // Tempo and the beat.
    if topic(Topic::Tempo) {
        let up = has(Role::Faster) || has(Role::More) || dir > 0;
        let down = has(Role::Slower) || has(Role::Less) || dir < 0;
        return match (up, down) {
            (true, false) => phrase("faster tempo"),
            (false, true) => phrase("slower tempo"),
            _ => None,
        };
    }
    if topic(Topic::Beat) {
        return if has(Role::Stop) || has(Role::Remove) {
            phrase("stop the beat")
        } else if has(Role::Start) || has(Role::Play) {
            phrase("start the beat")
        } else if has(Role::Faster) {
            phrase("faster tempo")
        } else if has(Role::Slower) {
            phrase("slower tempo")
        } else {
            phrase("four on the floor")
        };
    }
    // Brightness.
    if topic(Topic::Tone) {
        let up = adjective(Topic::Tone) == Some(1)
            || has(Role::Open)
            || (!topic_word_is_adjective(&roles) && (has(Role::More) || dir > 0));
        let down = adjective(Topic::Tone) == Some(-1)
            || has(Role::Close)
            || (!topic_word_is_adjective(&roles)
                && (has(Role::Less) || has(Role::Remove) || dir < 0));
        return match (up, down) {
            (true, false) => phrase("brighter"),
            (false, true) => phrase("darker"),
            _ => None,
        };
    }
    if let Some(s) = shape {
        let name = ["sine", "triangle", "square", "saw"][s as usize];
        return phrase(&format!("{name} wave"));
    }
    // Loudness: "louder", "turn it up", "bump up the volume".
    let turned = words
        .iter()
        .any(|w| matches!(*w, "turn" | "crank" | "bump" | "pump" | "cranked"));
    if let Some(d) = adjective(Topic::Volume) {
        return phrase(if d > 0 { "louder" } else { "quieter" });
    }
    let level = roles.iter().find_map(|r| match r {
        Role::Level(v) => Some(*v),
        _ => None,
    });
    if let (Some(v), true) = (level, topic(Topic::Volume)) {
        return phrase(&format!("volume {v}"));
    }
    if topic(Topic::Volume) || turned {
        let up = has(Role::More) || dir > 0;
        let down = has(Role::Less) || dir < 0;
        match (up, down) {
            (true, false) => return phrase("louder"),
            (false, true) => return phrase("quieter"),
            _ => {}
        }
    }
    // The note itself.
    if has(Role::Stop) || (has(Role::Remove) && roles.len() <= 3) {
        return phrase("stop");
    }
    if has(Role::Play) || has(Role::Start) {
        return phrase("play");
    }
    // Said without saying of what: not guessed.
    if has(Role::Faster) || has(Role::Slower) {
        let w = if has(Role::Faster) {
            "faster"
        } else {
            "slower"
        };
        return Some(Reading::Ambiguous(vec![
            format!("{w} tempo"),
            format!("{w} vibrato"),
            format!("{w} attack"),
        ]));
    }
    if dir != 0 && !has(Role::More) && !has(Role::Less) {
        let (a, b) = if dir > 0 {
            ("up a semitone", "up an octave")
        } else {
            ("down a semitone", "down an octave")
        };
        let loud = if dir > 0 { "louder" } else { "quieter" };
        return Some(Reading::Ambiguous(vec![a.into(), b.into(), loud.into()]));
    }
    None
}

/// The operation a clause asks of a topic, as the canonical phrases say it: "no", "less",
/// "more" or "add".
fn op_word(roles: &[Role], dir: i32) -> &'static str {
    if roles.contains(&Role::Remove) || roles.contains(&Role::Stop) {
        "no"
    } else if roles.contains(&Role::Less) || dir < 0 {
        "less"
    } else if roles.contains(&Role::More) || dir > 0 {
        "more"
    } else {
        "add"
    }
}

/// Whether the clause names its tone by an adjective ("more muffled": the adjective says
/// which way, "more" only how much).
fn topic_word_is_adjective(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::Adjective(Topic::Tone, _)))
}

fn name(midi: i32) -> String {
    chronus_dsp::pitch::note_name(midi.clamp(0, 127) as u8).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Option<Reading> {
        read(&crate::words::normalize(text))
    }

    #[test]
    fn readings() {
        let phrase = |s: &str, k: f32| Some(Reading::Phrase(s.into(), k));
        assert_eq!(
            p("make the sound a little more muffled"),
            phrase("darker", 0.5)
        );
        assert_eq!(p("take it up an octave"), phrase("up 12 semitones", 1.0));
        assert_eq!(
            p("shift it up an octave and a fifth"),
            phrase("up 19 semitones", 1.0)
        );
        assert_eq!(p("go up a minor third"), phrase("up 3 semitones", 1.0));
        assert_eq!(p("raise it a half step"), phrase("up 1 semitones", 1.0));
        assert_eq!(p("give it some vibrato"), phrase("add vibrato", 1.0));
        assert_eq!(p("turn off the reverb"), phrase("no reverb", 1.0));
        assert_eq!(p("no more echo"), phrase("no echo", 1.0));
        assert_eq!(p("use a square wave"), phrase("square wave", 1.0));
        assert_eq!(p("set the volume to 30 percent"), phrase("volume 0.3", 1.0));
        assert_eq!(p("crank it up"), phrase("louder", 1.0));
        assert_eq!(p("play a low E"), phrase("play e2", 1.0));
        assert!(matches!(p("higher"), Some(Reading::Ambiguous(_))));
        assert!(matches!(p("faster"), Some(Reading::Ambiguous(_))));
        assert_eq!(p("blorp the zoink"), None);
        assert_eq!(p("the quick brown fox"), None);
        assert_eq!(p("make me a sandwich"), None);
    }
}
