//! Instruments: several voice templates in one patch, each with its own voice pool. Two
//! instruments in one render are each heard at their pitch and level (the render is the sum of
//! each alone), each keeps its own voice count and mode, an instrument ending in a pan places
//! its notes, and a restored patch continues bit-exactly mid-chord on both.

use chronus_dsp::analysis::{amplitude_at, fundamental, rms};
use chronus_dsp::{note_hz, ModuleId, Patch, VoiceMode};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// The default patch (mono or stereo) with a `bass` instrument: a saw through its own
/// envelope and filter, to the output.
fn patch(stereo: bool) -> (Patch, ModuleId) {
    let mut p = Patch::default_patch_for(SR, BLOCK, stereo).unwrap();
    p.set("filter", "cutoff", 20_000.0).unwrap();
    p.set("sine", "gain", 0.3).unwrap();
    let bass = p
        .add_instrument("bass", "osc > adsr > filter", None)
        .unwrap();
    p.set("bass.osc", "shape", 3.0).unwrap();
    p.set("bass.osc", "gain", 0.2).unwrap();
    p.set("bass.filter", "cutoff", 20_000.0).unwrap();
    (p, bass)
}

fn render(p: &mut Patch, seconds: f64) -> Vec<f32> {
    let n = (seconds * SR) as usize / BLOCK * BLOCK;
    let mut out = vec![0.0f32; n];
    for b in out.chunks_mut(BLOCK) {
        p.process(b);
    }
    out
}

/// The last `seconds` of a render (the sustain).
fn tail(x: &[f32], seconds: f64) -> &[f32] {
    &x[x.len() - (seconds * SR) as usize..]
}

#[test]
fn two_instruments_in_one_render_are_each_heard_at_their_pitch() {
    let play = |default: bool, bass_on: bool| {
        let (mut p, bass) = patch(false);
        if default {
            p.note_on(69, 1.0).unwrap();
        }
        if bass_on {
            p.note_on_in(Some(bass), 34, 1.0).unwrap();
        }
        render(&mut p, 0.6)
    };
    let both = play(true, true);
    let lead = play(true, false);
    let bass = play(false, true);
    // Each alone, at its pitch.
    let f_lead = fundamental(tail(&lead, 0.4), SR).unwrap();
    let f_bass = fundamental(tail(&bass, 0.4), SR).unwrap();
    let cents = |f: f64, want: f32| 1200.0 * (f / f64::from(want)).log2();
    assert!(
        cents(f_lead, note_hz(69)).abs() < 1.0,
        "lead at {f_lead} Hz"
    );
    assert!(
        cents(f_bass, note_hz(34)).abs() < 1.0,
        "bass at {f_bass} Hz"
    );
    // Together: the sum of each alone (both below the limiter's knee), to the sample.
    let worst = both
        .iter()
        .zip(lead.iter().zip(&bass))
        .map(|(b, (l, s))| (b - (l + s)).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst < 1e-6,
        "the render is each instrument's sum (worst {worst})"
    );
    // And measured in it: the lead's 440 Hz at its level, the bass's 58.3 Hz (no harmonic
    // of it falls on 440 Hz) at its own.
    let (t_both, t_lead, t_bass) = (tail(&both, 0.4), tail(&lead, 0.4), tail(&bass, 0.4));
    for (f, alone) in [(440.0, t_lead), (f64::from(note_hz(34)), t_bass)] {
        let (a, b) = (amplitude_at(t_both, f, SR), amplitude_at(alone, f, SR));
        assert!(b > 0.05, "{f} Hz sounds alone ({b})");
        assert!(
            (a / b - 1.0).abs() < 0.01,
            "{f} Hz: {a} together, {b} alone"
        );
    }
    assert!(rms(t_bass) > 0.05 && rms(t_lead) > 0.05);
}

#[test]
fn each_instrument_has_its_own_voice_pool() {
    let (mut p, bass) = patch(false);
    p.set_voices_in(Some(bass), 1, VoiceMode::Mono).unwrap();
    for n in [36, 40, 43] {
        p.note_on_in(Some(bass), n, 1.0).unwrap();
        p.note_on(n + 24, 1.0).unwrap();
    }
    // Mono legato on the bass: one voice, the last note; the default one plays the chord.
    let bass_notes: Vec<u8> = p
        .notes_in(Some(bass))
        .unwrap()
        .iter()
        .map(|n| n.0)
        .collect();
    let lead_notes: Vec<u8> = p.notes_in(None).unwrap().iter().map(|n| n.0).collect();
    assert_eq!(bass_notes, [43]);
    assert_eq!(lead_notes, [60, 64, 67]);
    assert_eq!(
        p.voices(),
        (8, VoiceMode::Poly),
        "the default one is unchanged"
    );
    // Releasing everything on one leaves the other alone.
    p.note_off_in(Some(bass), None).unwrap();
    let held = |p: &Patch, i| {
        p.notes_in(i)
            .unwrap()
            .iter()
            .filter(|n| n.1 == chronus_dsp::VoicePhase::Held)
            .count()
    };
    assert_eq!((held(&p, Some(bass)), held(&p, None)), (0, 3));
}

#[test]
fn a_template_parameter_reaches_its_own_instruments_voices_only() {
    let lead = |bass_cutoff: Option<f32>| {
        let (mut p, bass) = patch(false);
        p.note_on(69, 1.0).unwrap();
        p.note_on_in(Some(bass), 34, 1.0).unwrap();
        render(&mut p, 0.1);
        if let Some(c) = bass_cutoff {
            p.set("bass.filter", "cutoff", c).unwrap();
        }
        let out = render(&mut p, 0.3);
        (
            amplitude_at(&out, 440.0, SR),
            amplitude_at(&out, 10.0 * f64::from(note_hz(34)), SR),
        )
    };
    let (lead_open, bass_h10_open) = lead(None);
    let (lead_shut, bass_h10_shut) = lead(Some(150.0));
    // (The bass's harmonics leak a little into 440 Hz: within 1 %. Had the lead's filter
    // been shut at 150 Hz, 440 Hz would be down 20 dB.)
    assert!(
        (lead_shut / lead_open - 1.0).abs() < 0.01,
        "the lead is untouched ({lead_open} -> {lead_shut})"
    );
    // The bass's tenth harmonic (583 Hz), two octaves above the new cutoff: -24 dB from a
    // 12 dB/octave low-pass, so well under a tenth.
    assert!(
        bass_h10_shut < bass_h10_open * 0.1,
        "the bass's tenth harmonic is filtered away ({bass_h10_open} -> {bass_h10_shut})"
    );
}

#[test]
fn an_instrument_ending_in_a_pan_places_its_notes() {
    let mut p = Patch::default_patch_for(SR, BLOCK, true).unwrap();
    let keys = p.add_instrument("keys", "osc > adsr > pan", None).unwrap();
    p.set("keys.pan", "pos", -1.0).unwrap();
    p.note_on_in(Some(keys), 69, 1.0).unwrap();
    let n = (0.3 * SR) as usize / BLOCK * BLOCK;
    let (mut left, mut right) = (vec![0.0f32; n], vec![0.0f32; n]);
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        p.process_stereo(l, r);
    }
    let (l, r) = (rms(tail(&left, 0.1)), rms(tail(&right, 0.1)));
    assert!(l > 0.05, "heard on the left ({l})");
    assert!(r < 1e-6, "hard left: nothing on the right ({r})");
}

#[test]
fn a_restored_patch_continues_mid_chord_on_two_instruments_bit_exactly() {
    for stereo in [false, true] {
        let (mut p, bass) = patch(stereo);
        p.set_voices_in(Some(bass), 2, VoiceMode::Poly).unwrap();
        for n in [60, 64, 67] {
            p.note_on(n, 0.7).unwrap();
        }
        for n in [36, 43, 48] {
            p.note_on_in(Some(bass), n, 0.9).unwrap();
        }
        render(&mut p, 0.1);
        p.note_off(Some(64)).unwrap();
        p.note_off_in(Some(bass), Some(43)).unwrap();
        render(&mut p, 0.05);
        let mut copy = Patch::from_state(&p.state()).unwrap();
        assert_eq!(copy.instruments(), p.instruments());
        let (a, b) = (render(&mut p, 0.3), render(&mut copy, 0.3));
        assert!(rms(&a) > 0.01, "it sounds");
        assert!(a == b, "bit-exact after restore (stereo {stereo})");
        // Restoring into a patch without the instrument is refused.
        let mut other = Patch::default_patch_for(SR, BLOCK, stereo).unwrap();
        assert!(other.restore(&p.state()).is_err());
    }
}
