//! The mapping contract, as a golden table: each phrase and the exact OSC plan it makes from
//! the default context. Review changes to the snapshot like changes to docs/nl.md.

use chronus_nl::{plan, Context, NlError};
use proptest::prelude::*;

const PHRASES: &[&str] = &[
    // 1. pitch
    "play C4",
    "play A4",
    "play a4",
    "play A above middle C",
    "play middle C",
    "play F#3",
    "play Bb2",
    "play E5",
    "play G#6",
    "play C8",
    "play 220 hz",
    "play 440hz",
    "play 1000 Hz",
    "play 5 hz",
    "play 99999 hz",
    "go up a fifth",
    "go down an octave",
    "up 3 semitones",
    "down 2 semitones",
    "up an octave",
    "down a fourth",
    "up a third",
    "up a semitone",
    "down a tone",
    "go up a minor third",
    "up two octaves",
    "glide to E3",
    "glide to C5",
    "slide to A2",
    "tune to 432",
    "tune to 415",
    "play the fifth",
    "play the third",
    "play the octave",
    "play the fourth",
    "C4",
    "A",
    "f#",
    // 2. dynamics
    "louder",
    "quieter",
    "a bit louder",
    "much louder",
    "slightly quieter",
    "much quieter",
    "softer",
    "volume 7",
    "volume 10",
    "volume 0",
    "volume 0.25",
    "pp",
    "p",
    "mp",
    "mf",
    "f",
    "ff",
    "pianissimo",
    "fortissimo",
    "fade out",
    "fade in",
    "crescendo",
    "crescendo over 4 seconds",
    "diminuendo",
    "diminuendo over 2 seconds",
    "decrescendo over 500 ms",
    // 3. timbre
    "brighter",
    "darker",
    "a bit brighter",
    "much brighter",
    "slightly darker",
    "much darker",
    "add warmth",
    "warmer",
    "smooth",
    "mellow",
    "harsh",
    "square wave",
    "saw wave",
    "sawtooth",
    "triangle wave",
    "sine wave",
    "a square wave",
    "open the filter",
    "close the filter",
    // 4. envelope and articulation
    "short notes",
    "staccato",
    "legato",
    "long notes",
    "faster attack",
    "slower attack",
    "longer release",
    "shorter release",
    "a bit faster attack",
    "much longer release",
    "play a note",
    "play",
    "stop",
    "silence",
    "note on",
    "note off",
    // 5. modulation
    "add vibrato",
    "vibrato",
    "a bit of vibrato",
    "wobble the filter",
    "wobble bass",
    "wobble",
    "tremolo",
    "add tremolo",
    "faster vibrato",
    "slower vibrato",
    "no vibrato",
    "no wobble",
    "stop the wobble",
    "no modulation",
    "more resonance",
    "less resonance",
    "add glide",
    "no glide",
    // 6. effects
    "add reverb",
    "a bit of reverb",
    "more reverb",
    "less reverb",
    "no reverb",
    "cathedral",
    "add echo",
    "more echo",
    "much more echo",
    "less echo",
    "no echo",
    "dry",
    // 7. chords
    "C major chord",
    "play a C major chord",
    "Am7",
    "play an Am7",
    "F#3 minor",
    "a Bb dim chord",
    "G sus4",
    "C7 chord",
    "Dmaj7",
    "E augmented chord",
    "a mysterious chord",
    "a happy chord",
    "a sad chord",
    "a dreamy chord",
    "play a C major chord with reverb",
    // 7b. rhythm
    "at 175 BPM",
    "120 bpm",
    "tempo 90",
    "four on the floor",
    "four on the floor at 128 bpm",
    "dotted eighth echo",
    "sync the echo to quarters",
    "echo on the beat",
    "echo in eighth triplets",
    "sixteenth note delay",
    "unsync the echo",
    "play a C major chord then play A4",
    "C major chord, then stop",
    "stop the beat",
    "start the beat",
    "speed up",
    "a bit slower tempo",
    "add swing",
    "no swing",
    // 8. presets
    "techno bass",
    "flute",
    "pad",
    "pluck",
    "a warm pad",
    "supersaw",
    "PWM",
    "brass",
    "add some noise",
    "a lot more noise",
    "no noise",
    "vibrato, then PWM",
    // 9. compound sentences and amounts
    "play A4, a bit brighter, with vibrato",
    "play C4 and make it louder",
    "play E4 then stop",
    "staccato, harsh, play A2",
    "play G3, darker, with tremolo",
    "legato and mellow and play D4",
    "play C4, much brighter",
    "louder, brighter, faster attack",
    "play F4 with vibrato and then fade out",
    "square wave, play A1, wobble the filter",
    "play B3; a little darker; slower vibrato",
    "pad, play C3",
    "pluck, play E5",
    "flute, play G5",
    "techno bass, wobble",
    "make it brighter",
    "make it a bit darker",
    "make it louder",
    "play a4 please",
    "brighter please",
    "PLAY A4",
    "Play C4, Brighter",
    "  play   a4  ",
    "play A4!",
    "play A4.",
    "volume 5, play C4",
    "up a fifth, louder",
    "down an octave and darker",
    "glide to E3 and louder",
    "tune to 432, play A4",
    "play 220 hz with vibrato",
    "harsh and much brighter",
    "mellow, slightly quieter",
    "fade in, play C4",
    "crescendo over 1 seconds and brighter",
    "no vibrato, stop",
    "play C4 and play the fifth",
    "play A4, up an octave",
    "staccato and play C5",
    "square wave and techno bass",
    "add warmth, play D3",
    "short notes, louder",
    "pp, legato, play E4",
    "ff, harsh",
    "mf and brighter",
    "legato with vibrato",
    "play the octave and stop",
    "play A4 and quieter and darker",
    "wobble bass, play A1",
    "tremolo and louder",
    "sine wave, play C6",
    "triangle wave and play G2",
    "up 7 semitones",
    "down 12 semitones",
    "up 24 semitones",
    "down 49 semitones",
    "play C-1",
    "play G9",
];

const NOT_UNDERSTOOD: &[&str] = &[
    "",
    "   ",
    "bananas",
    "play the kazoo",
    "brightr",
    "make it sound like a cat",
    "wobbel",
    "lauder",
    "😀",
    "play H4",
    "volume",
    "up a lot of things",
];

fn show(p: &chronus_nl::Plan) -> String {
    let mut s = String::new();
    for m in &p.messages {
        s.push_str(&format!("    {m}\n"));
    }
    for e in &p.explanation {
        s.push_str(&format!("    # {e}\n"));
    }
    s
}

#[test]
fn golden_phrases() {
    assert!(PHRASES.len() >= 150, "{} phrases", PHRASES.len());
    let mut out = String::new();
    let mut failed = Vec::new();
    for phrase in PHRASES {
        let mut ctx = Context::default();
        match plan(phrase, &mut ctx) {
            Ok(p)
                if !p
                    .explanation
                    .iter()
                    .any(|e| e.starts_with("did not understand")) =>
            {
                out.push_str(&format!("{phrase:?}\n{}", show(&p)))
            }
            Ok(p) => failed.push(format!("{phrase:?}: {:?}", p.explanation)),
            Err(e) => failed.push(format!("{phrase:?}: {e}")),
        }
    }
    assert!(
        failed.is_empty(),
        "not (fully) understood:\n{}",
        failed.join("\n")
    );
    insta::assert_snapshot!(out);
}

#[test]
fn nonsense_sends_nothing_and_suggests() {
    let mut out = String::new();
    for phrase in NOT_UNDERSTOOD {
        let mut ctx = Context::default();
        let before = ctx.clone();
        match plan(phrase, &mut ctx) {
            Ok(p) => panic!("{phrase:?} made a plan: {p:?}"),
            Err(e @ NlError::NotUnderstood { .. }) => out.push_str(&format!("{phrase:?} -> {e}\n")),
            Err(e) => panic!("{e}"),
        }
        assert_eq!(ctx, before, "a failed phrase changes no context");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn context_carries_from_phrase_to_phrase() {
    let mut ctx = Context::default();
    plan("play C4", &mut ctx).unwrap();
    let p = plan("play the fifth", &mut ctx).unwrap();
    assert!(
        p.messages[0]
            .to_string()
            .starts_with("/mod/sine/freq 391.99"),
        "G4: {}",
        p.messages[0]
    );
    plan("play C4", &mut ctx).unwrap();
    let p = plan("up an octave", &mut ctx).unwrap();
    assert!(
        p.messages[0]
            .to_string()
            .starts_with("/mod/sine/freq 523.25"),
        "C5: {}",
        p.messages[0]
    );
    let g0 = ctx.gain;
    plan("louder", &mut ctx).unwrap();
    plan("louder", &mut ctx).unwrap();
    assert!((ctx.gain - g0 * 1.44).abs() < 1e-5);
    for _ in 0..20 {
        plan("much louder", &mut ctx).unwrap();
    }
    assert_eq!(ctx.gain, 1.0, "safety limit");
    plan("tune to 432", &mut ctx).unwrap();
    let p = plan("play A4", &mut ctx).unwrap();
    assert_eq!(p.messages[0].to_string(), "/mod/sine/freq 432");
    plan("add vibrato", &mut ctx).unwrap();
    let p = plan("wobble the filter", &mut ctx).unwrap();
    assert_eq!(
        p.messages[0].to_string(),
        "/patch/disconnect lfo sine.freq",
        "the old route goes first"
    );
}

#[test]
fn chords_play_notes_on_the_voice_pool_and_a_single_note_releases_them() {
    let mut ctx = Context::default();
    let p = plan("play a C major chord", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        text,
        [
            "/gate/adsr off",
            "/note/on 60 0.333",
            "/note/on 64 0.333",
            "/note/on 67 0.333"
        ]
    );
    assert!(ctx.chord_notes);
    assert_eq!(
        (ctx.oscillators, ctx.voices),
        (1, 1),
        "no extra oscillators"
    );
    // The next chord releases this one first.
    let p = plan("Am7", &mut ctx).unwrap();
    assert_eq!(p.messages[1].to_string(), "/note/off");
    assert_eq!(p.messages.len(), 6);
    // So does a single note, once; then notes go on as before.
    let p = plan("play A4", &mut ctx).unwrap();
    assert_eq!(p.messages[0].to_string(), "/note/off");
    let p = plan("play C4", &mut ctx).unwrap();
    assert!(p.messages[0]
        .to_string()
        .starts_with("/mod/sine/freq 261.6"));
    // "stop" releases a chord too.
    plan("G7 chord", &mut ctx).unwrap();
    let p = plan("stop", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    assert_eq!(text, ["/gate/adsr off", "/note/off"]);
}

#[test]
fn echo_follows_the_tempo_in_note_values() {
    let mut ctx = Context::default();
    plan("at 150 bpm", &mut ctx).unwrap();
    let p = plan("dotted eighth echo", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    assert_eq!(p.messages[0].address, "/mod/delay/sync");
    assert_eq!(p.messages[0].args, [chronus_nl::Value::Float(0.1875)]);
    assert!(
        text.contains(&"/mod/delay/mix 0.3".to_string()),
        "dry echo turned up: {text:?}"
    );
    assert!(
        p.explanation[0].contains("300 ms at 150 BPM"),
        "{:?}",
        p.explanation
    );
    let p = plan("unsync the echo", &mut ctx).unwrap();
    assert_eq!(p.messages[0].to_string(), "/mod/delay/sync 0");
    // Not about the echo: not a sync.
    assert!(plan("stop the beat", &mut ctx).unwrap().messages[0].address == "/seq/stop");
}

#[test]
fn chords_create_oscillators_once_and_notes_return_to_one() {
    // A synth without a voice pool: one oscillator per note.
    let mut ctx = Context {
        notes: false,
        ..Context::default()
    };
    let p = plan("play a C major chord", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        &text[..5],
        [
            "/patch/create sine2 osc",
            "/patch/connect sine2 adsr",
            "/patch/create sine3 osc",
            "/patch/connect sine3 adsr",
            "/patch/commit"
        ]
    );
    assert!(
        text.contains(&"/mod/sine3/freq 391.995".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"/mod/sine2/gain 0.167".to_string()),
        "{text:?}"
    );
    assert_eq!(text.last().unwrap(), "/gate/adsr on");
    assert_eq!((ctx.oscillators, ctx.voices), (3, 3));
    // A second chord reuses them; a four-note one adds one more.
    let p = plan("Am7", &mut ctx).unwrap();
    let creates = |p: &chronus_nl::Plan| {
        p.messages
            .iter()
            .filter(|m| m.address == "/patch/create")
            .count()
    };
    assert_eq!(creates(&p), 1);
    assert_eq!((ctx.oscillators, ctx.voices), (4, 4));
    // "louder" shares the gain among the four.
    plan("louder", &mut ctx).unwrap();
    // A single note silences the others.
    let p = plan("play A4", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    for name in ["sine2", "sine3", "sine4"] {
        assert!(text.contains(&format!("/mod/{name}/gain 0")), "{text:?}");
    }
    assert_eq!(ctx.voices, 1);
    assert!((ctx.gain - 0.6).abs() < 1e-6);
    // Then "up a fifth" builds on the single note, and the chord's oscillators stay silent.
    let p = plan("up a fifth", &mut ctx).unwrap();
    assert_eq!(p.messages.len(), 1, "{:?}", p.messages);
}

#[test]
fn effects_follow_the_context() {
    let mut ctx = Context::default();
    plan("add reverb", &mut ctx).unwrap();
    assert_eq!((ctx.reverb_mix, ctx.reverb_size), (0.3, 0.7));
    plan("more reverb", &mut ctx).unwrap();
    assert!((ctx.reverb_mix - 0.5).abs() < 1e-6);
    for _ in 0..10 {
        plan("much more reverb", &mut ctx).unwrap();
    }
    assert_eq!((ctx.reverb_mix, ctx.reverb_size), (1.0, 1.0), "limits");
    plan("more echo", &mut ctx).unwrap();
    assert_eq!((ctx.delay_mix, ctx.delay_feedback), (0.2, 0.6));
    let p = plan("dry", &mut ctx).unwrap();
    let text: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
    assert!(text.contains(&"/mod/reverb/mix 0".to_string()));
    assert!(text.contains(&"/mod/delay/mix 0".to_string()));
    assert_eq!((ctx.reverb_mix, ctx.delay_mix), (0.0, 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_never_panics(text in "\\PC{0,400}") {
        let mut ctx = Context::default();
        let _ = plan(&text, &mut ctx);
    }

    #[test]
    fn any_words_never_panic_and_stay_in_limits(words in prop::collection::vec(
        prop::sample::select(vec!["play", "up", "down", "louder", "brighter", "much", "a", "bit", "c4",
            "99999", "hz", "octave", "volume", "fifth", "crescendo", "over", "-5", "vibrato", "and", ",",
            "semitones", "1e9", "tune", "to", "glide", "nan", "inf"]), 0..30)) {
        let mut ctx = Context::default();
        let text = words.join(" ");
        for _ in 0..3 {
            let _ = plan(&text, &mut ctx);
        }
        prop_assert!((20.0..=20_000.0).contains(&ctx.freq) && ctx.freq.is_finite());
        prop_assert!((0.0..=1.0).contains(&ctx.gain));
        prop_assert!((0.1..=20.0).contains(&ctx.q));
        prop_assert!((0.01..=20.0).contains(&ctx.lfo_rate));
    }

    /// Words that mean nothing to a synth, among the filler words people use around a
    /// request: never a change, whatever the mix.
    #[test]
    fn nonsense_of_random_words_is_refused(
        nonsense in prop::collection::vec(prop::sample::select(vec!["banana", "table", "river",
            "green", "computer", "yesterday", "walk", "cat", "window", "apple", "idea", "paper",
            "blorp", "zoink", "car", "pizza", "email", "garden", "tax", "spoon", "dog", "cloud",
            "ladder", "weather", "homework", "trumpet"]), 1..4),
        fillers in prop::collection::vec(prop::sample::select(vec!["the", "a", "it", "make",
            "please", "can", "you", "some", "very", "more", "up", "sound", "of", "just", "less",
            "too", "my", "our"]), 0..5),
    ) {
        let mut words = Vec::new();
        for i in 0..nonsense.len().max(fillers.len()) {
            if let Some(f) = fillers.get(i) { words.push(*f); }
            if let Some(n) = nonsense.get(i) { words.push(*n); }
        }
        let text = words.join(" ");
        let mut ctx = Context::default();
        let before = ctx.clone();
        let result = plan(&text, &mut ctx);
        prop_assert!(
            matches!(result, Err(NlError::NotUnderstood { .. })),
            "{text:?} made {result:?}"
        );
        prop_assert_eq!(ctx, before);
    }
}

#[test]
fn midi_mapping_phrases() {
    for (phrase, want) in [
        (
            "map the mod wheel to the filter",
            "/midi/map 1 filter.cutoff 200 8000 exp",
        ),
        ("mod wheel controls vibrato", "/midi/map 1 lfo.depth"),
        (
            "map cc 74 to the cutoff",
            "/midi/map 74 filter.cutoff 200 8000 exp",
        ),
        ("learn the filter", "/midi/learn filter.cutoff 200 8000 exp"),
        ("set the bend range to 12 semitones", "/midi/bend 12"),
    ] {
        let mut ctx = Context::default();
        let p = plan(phrase, &mut ctx).unwrap_or_else(|e| panic!("{phrase}: {e}"));
        let got: Vec<String> = p.messages.iter().map(|m| m.to_string()).collect();
        assert_eq!(got, [want], "{phrase}: {}", show(&p));
    }
    // Not a controller or not a parameter: not taken for a mapping.
    let mut ctx = Context::default();
    assert!(plan("map cc 300 to the filter", &mut ctx).is_err());
}
