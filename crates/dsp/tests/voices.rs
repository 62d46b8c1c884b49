//! Notes on a pool of voices: each note sounds at its pitch and level, stealing takes the
//! oldest released voice and then the oldest held one, mono mode is legato, the template's
//! parameters reach every voice, and a restored patch continues bit-exactly mid-chord.

use chronus_dsp::analysis::{amplitude_at, fundamental, rms};
use chronus_dsp::{note_hz, DspError, ModuleKind, Patch, VoiceMode, VoicePhase};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

fn patch() -> Patch {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    // Short release so tests can wait for voices to end; the filter open.
    p.set("adsr", "release", 20.0).unwrap();
    p.set("filter", "cutoff", 20_000.0).unwrap();
    p
}

fn render(p: &mut Patch, seconds: f64) -> Vec<f32> {
    let n = (seconds * SR) as usize / BLOCK * BLOCK;
    let mut out = vec![0.0f32; n];
    for b in out.chunks_mut(BLOCK) {
        p.process(b);
    }
    out
}

#[test]
fn default_patch_has_the_seed_chain_as_template() {
    let p = patch();
    let names: Vec<&str> = p
        .voice_template()
        .iter()
        .map(|&id| p.name(id).unwrap())
        .collect();
    assert_eq!(names, ["sine", "adsr", "filter", "pan"]);
    assert_eq!(p.voices(), (8, VoiceMode::Poly));
}

#[test]
fn a_chord_sounds_every_note_at_its_level() {
    let mut p = patch();
    // Template gain 0.5, sustain 0.7: each voice at velocity v sustains at 0.35·v.
    for (note, vel) in [(60, 1.0), (64, 0.5), (67, 0.25)] {
        p.note_on(note, vel).unwrap();
    }
    render(&mut p, 0.2);
    let sustain = render(&mut p, 0.5);
    for (note, vel) in [(60u8, 1.0f64), (64, 0.5), (67, 0.25)] {
        let a = amplitude_at(&sustain, f64::from(note_hz(note)), SR);
        let want = 0.35 * vel;
        println!("note {note}: amplitude {a:.4} (want {want:.4})");
        assert!((a - want).abs() < 0.01 * want + 0.002, "note {note}: {a}");
    }
    // A note that is not played is not there.
    assert!(amplitude_at(&sustain, f64::from(note_hz(62)), SR) < 0.005);
    // The template itself stays silent: no gate was opened on `adsr`.
    p.note_off(None).unwrap();
    render(&mut p, 0.1);
    assert_eq!(p.notes(), []);
    assert!(rms(&render(&mut p, 0.1)) == 0.0);
}

#[test]
fn stealing_takes_the_oldest_released_then_the_oldest_held() {
    let mut p = patch();
    p.set("adsr", "release", 2000.0).unwrap(); // released voices keep sounding
    p.set_voices(2, VoiceMode::Poly).unwrap();
    p.note_on(60, 1.0).unwrap();
    p.note_on(62, 1.0).unwrap();
    p.note_off(Some(60)).unwrap();
    render(&mut p, 0.05);
    // 60 is released (still sounding), 62 held: 64 takes 60's voice.
    p.note_on(64, 1.0).unwrap();
    assert_eq!(p.notes(), [(64, VoicePhase::Held), (62, VoicePhase::Held)]);
    // Both held: 65 takes the oldest held, 62.
    p.note_on(65, 1.0).unwrap();
    assert_eq!(p.notes(), [(64, VoicePhase::Held), (65, VoicePhase::Held)]);
    render(&mut p, 0.3);
    let audio = render(&mut p, 0.5);
    let level = |n: u8| amplitude_at(&audio, f64::from(note_hz(n)), SR);
    assert!(
        level(64) > 0.3 && level(65) > 0.3,
        "{} {}",
        level(64),
        level(65)
    );
    assert!(
        level(60) < 0.005 && level(62) < 0.005,
        "{} {}",
        level(60),
        level(62)
    );
    // Released voices free themselves when their envelope ends; the same note again reuses
    // its voice instead of doubling it.
    p.note_on(64, 1.0).unwrap();
    assert_eq!(p.notes().len(), 2);
}

#[test]
fn mono_mode_is_legato_and_returns_to_the_held_note() {
    let mut p = patch();
    p.set_voices(1, VoiceMode::Mono).unwrap();
    p.note_on(57, 1.0).unwrap(); // A3
    render(&mut p, 0.3);
    p.note_on(64, 1.0).unwrap(); // E4 while A3 is held: pitch changes, envelope goes on
    let legato = render(&mut p, 0.3);
    let f = fundamental(&legato[4800..], SR).unwrap();
    assert!((f - f64::from(note_hz(64))).abs() < 0.5, "{f}");
    // No re-attack: the level stays at sustain (0.35) from the first block on.
    let first = rms(&legato[..480]) * std::f64::consts::SQRT_2;
    assert!((first - 0.35).abs() < 0.01, "level at the change {first}");
    p.note_off(Some(64)).unwrap(); // back to A3, still legato
    let back = render(&mut p, 0.3);
    let f = fundamental(&back[4800..], SR).unwrap();
    assert!((f - 220.0).abs() < 0.5, "{f}");
    assert_eq!(p.notes(), [(57, VoicePhase::Held)]);
    p.note_off(Some(57)).unwrap();
    assert_eq!(p.notes(), [(57, VoicePhase::Released)]);
    render(&mut p, 0.1);
    assert_eq!(p.notes(), []);
}

#[test]
fn template_parameters_reach_every_voice() {
    let mut p = patch();
    p.note_on(69, 1.0).unwrap();
    p.note_on(76, 1.0).unwrap();
    render(&mut p, 0.2);
    let open = rms(&render(&mut p, 0.3));
    // A low cutoff on the template's filter darkens the voices too.
    p.set("filter", "cutoff", 100.0).unwrap();
    render(&mut p, 0.1);
    let closed = rms(&render(&mut p, 0.3));
    assert!(closed < open * 0.1, "open {open}, closed {closed}");
    // The template's gain too; its freq is not the voices' (each plays its note).
    p.set("filter", "cutoff", 20_000.0).unwrap();
    p.set("sine", "freq", 1000.0).unwrap();
    p.set("sine", "gain", 0.25).unwrap();
    render(&mut p, 0.1);
    let half = render(&mut p, 0.3);
    let a = amplitude_at(&half, 440.0, SR);
    assert!((a - 0.175).abs() < 0.003, "{a}");
    assert!(amplitude_at(&half, 1000.0, SR) < 0.002);
}

#[test]
fn an_lfo_on_the_template_modulates_the_voices() {
    let mut p = patch();
    let (lfo, sine) = (p.find("lfo").unwrap(), p.find("sine").unwrap());
    p.set("lfo", "freq", 5.0).unwrap();
    p.set("lfo", "depth", 1.0).unwrap();
    p.modulate(lfo, sine, 0).unwrap(); // vibrato on freq
    p.note_on(69, 1.0).unwrap();
    render(&mut p, 0.1);
    let audio = render(&mut p, 1.0);
    // Vibrato of up to an octave: a steady 440 Hz line is gone.
    assert!(amplitude_at(&audio, 440.0, SR) < 0.2);
}

#[test]
fn a_restored_patch_continues_bit_exactly_mid_chord() {
    let mut a = patch();
    a.set_voices(3, VoiceMode::Poly).unwrap();
    a.set("sine", "glide_time", 30.0).unwrap();
    for n in [48, 55, 64, 67] {
        a.note_on(n, 0.6).unwrap();
        render(&mut a, 0.01);
    }
    a.note_off(Some(64)).unwrap();
    render(&mut a, 0.005);
    let state = a.state();
    let mut b = Patch::from_state(&state).unwrap();
    assert_eq!(b.notes(), a.notes());
    for round in 0..3 {
        let (x, y) = (render(&mut a, 0.1), render(&mut b, 0.1));
        assert!(
            x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "round {round}"
        );
        a.note_on(70 + round, 1.0).unwrap();
        b.note_on(70 + round, 1.0).unwrap();
    }
    // Restoring into a patch of the same layout works too.
    let mut c = patch();
    c.restore(&a.state()).unwrap();
    let (x, y) = (render(&mut a, 0.05), render(&mut c, 0.05));
    assert_eq!(x, y);
}

#[test]
fn bad_notes_and_patches_without_a_template_are_errors() {
    let mut p = patch();
    assert_eq!(p.note_on(128, 1.0), Err(DspError::BadNote { note: 128 }));
    assert!(matches!(
        p.note_on(60, f32::NAN),
        Err(DspError::NonFinite { .. })
    ));
    assert_eq!(
        p.set_voices(0, VoiceMode::Poly),
        Err(DspError::BadVoiceCount { count: 0 })
    );
    assert_eq!(
        p.set_voices(129, VoiceMode::Poly),
        Err(DspError::BadVoiceCount { count: 129 })
    );
    // Velocity is clamped, not refused.
    p.note_on(60, 7.0).unwrap();
    // Without an envelope after `sine` there is no template.
    let mut bare = Patch::new(SR, BLOCK).unwrap();
    let sine = bare.add("sine", ModuleKind::Osc).unwrap();
    bare.connect_out(sine, true).unwrap();
    assert!(bare.voice_template().is_empty());
    assert_eq!(bare.note_on(60, 1.0), Err(DspError::NoVoiceTemplate));
    assert_eq!(bare.note_off(None), Err(DspError::NoVoiceTemplate));
    // Adding an envelope makes one.
    let env = bare.add("adsr", ModuleKind::Adsr).unwrap();
    bare.connect_out(sine, false).unwrap();
    bare.connect(sine, env).unwrap();
    bare.connect_out(env, true).unwrap();
    assert_eq!(bare.voice_template(), [sine, env]);
    bare.note_on(60, 1.0).unwrap();
    let mut out = [0.0f32; BLOCK];
    bare.process(&mut out);
    bare.process(&mut out);
    assert!(out.iter().any(|&s| s != 0.0));
}

#[test]
fn the_sustain_pedal_holds_notes_let_go_until_it_lifts() {
    let mut p = patch();
    p.note_on(60, 1.0).unwrap();
    p.sustain_in(None, true).unwrap();
    p.note_off(Some(60)).unwrap();
    // Let go under the pedal: still held, still sounding at its level after the release time.
    render(&mut p, 0.3);
    assert_eq!(p.notes(), [(60, VoicePhase::Held)]);
    let held = render(&mut p, 0.3);
    let a = amplitude_at(&held, f64::from(note_hz(60)), SR);
    assert!((a - 0.35).abs() < 0.01, "amplitude {a} under the pedal");
    // A note played and let go under the pedal is held too; one still down is not touched
    // when the pedal lifts.
    p.note_on(64, 1.0).unwrap();
    p.note_on(67, 1.0).unwrap();
    p.note_off(Some(64)).unwrap();
    assert_eq!(p.expression_in(None).unwrap(), (true, 0.0));
    p.sustain_in(None, false).unwrap();
    render(&mut p, 0.1);
    assert_eq!(p.notes(), [(67, VoicePhase::Held)]);
    // Without the pedal, letting go releases at once.
    p.note_off(Some(67)).unwrap();
    render(&mut p, 0.1);
    assert_eq!(p.notes(), []);
}

#[test]
fn pitch_bend_moves_sounding_and_later_notes() {
    let mut p = patch();
    p.note_on(69, 1.0).unwrap();
    render(&mut p, 0.1);
    p.bend_in(None, 2.0).unwrap();
    let bent = render(&mut p, 0.5);
    let f = fundamental(&bent[4_800..], SR).unwrap();
    let want = 440.0 * 2f64.powf(2.0 / 12.0);
    println!("A4 bent +2: {f:.2} Hz (want {want:.2})");
    assert!((f - want).abs() < 0.2, "{f}");
    // A note played while bent is bent too; back to 0, both at pitch.
    p.note_off(None).unwrap();
    render(&mut p, 0.1);
    p.note_on(57, 1.0).unwrap();
    let f = fundamental(&render(&mut p, 0.5)[4_800..], SR).unwrap();
    assert!((f - 220.0 * 2f64.powf(2.0 / 12.0)).abs() < 0.2, "{f}");
    p.bend_in(None, 0.0).unwrap();
    let f = fundamental(&render(&mut p, 0.5)[4_800..], SR).unwrap();
    assert!((f - 220.0).abs() < 0.2, "{f}");
    // Out of range is clamped; not finite is refused.
    p.bend_in(None, 100.0).unwrap();
    assert_eq!(p.expression_in(None).unwrap().1, chronus_dsp::MAX_BEND);
    assert!(p.bend_in(None, f32::NAN).is_err());
}

#[test]
fn a_restored_patch_keeps_the_pedal_the_bend_and_the_notes_it_holds() {
    let mut a = patch();
    a.note_on(60, 0.8).unwrap();
    a.sustain_in(None, true).unwrap();
    a.note_off(Some(60)).unwrap();
    a.bend_in(None, -1.5).unwrap();
    render(&mut a, 0.05);
    let mut b = Patch::from_state(&a.state()).unwrap();
    assert_eq!(b.expression_in(None).unwrap(), (true, -1.5));
    let (x, y) = (render(&mut a, 0.1), render(&mut b, 0.1));
    assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));
    // The pedal lifts in both: the sustained note is released in both.
    a.sustain_in(None, false).unwrap();
    b.sustain_in(None, false).unwrap();
    let (x, y) = (render(&mut a, 0.2), render(&mut b, 0.2));
    assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));
    assert_eq!(b.notes(), []);
}

#[test]
fn the_last_voice_of_a_full_pool_sounds_alone_and_after_a_restore() {
    use chronus_dsp::MAX_VOICES;
    let mut a = patch();
    a.set_voices(MAX_VOICES, VoiceMode::Poly).unwrap();
    // Every voice of the pool, a note each (the last note, 127, on the last voice).
    let notes: Vec<u8> = (128 - MAX_VOICES as u16..128).map(|n| n as u8).collect();
    for &n in &notes {
        a.note_on(n, 0.8).unwrap();
    }
    render(&mut a, 0.02);
    assert_eq!(a.notes().len(), MAX_VOICES, "every voice sounds");
    // All but the last let go: once their release is over, the last voice sounds alone.
    for &n in &notes[..MAX_VOICES - 1] {
        a.note_off(Some(n)).unwrap();
    }
    render(&mut a, 0.2);
    assert_eq!(a.notes().len(), 1);
    let alone = render(&mut a, 0.1);
    let level = amplitude_at(&alone, f64::from(note_hz(127)), SR);
    assert!(level > 0.1, "the last voice plays its note: {level}");
    // Restored, it goes on to the bit.
    let mut b = Patch::from_state(&a.state()).unwrap();
    let (x, y) = (render(&mut a, 0.1), render(&mut b, 0.1));
    assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));
    // Let go too: silence; then a new note takes the first voice and sounds.
    for p in [&mut a, &mut b] {
        p.note_off(Some(127)).unwrap();
        render(p, 0.2);
        assert!(p.notes().is_empty());
        assert!(
            rms(&render(p, 0.05)) < 1e-6,
            "silent once every voice is free"
        );
        p.note_on(69, 0.8).unwrap();
        let x = render(p, 0.2);
        let f = fundamental(&x[4_800..], SR).unwrap();
        assert!((f - 440.0).abs() < 1.0, "{f} Hz");
    }
}
