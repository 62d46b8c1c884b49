//! Modulation: any source (an `lfo`, an `env`, a note's velocity and key) into any parameter
//! at a depth, several routes into one parameter adding up; in an instrument's voices each
//! note has its own envelope, velocity and key. Values are checked where they land (the
//! parameter in effect in each voice), and a restored patch continues bit-exactly.

use chronus_dsp::{ModuleKind, Patch, Source};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

fn render(p: &mut Patch, seconds: f64) -> Vec<f32> {
    let n = (seconds * SR) as usize / BLOCK * BLOCK;
    let mut out = vec![0.0f32; n];
    for b in out.chunks_mut(BLOCK) {
        p.process(b);
    }
    out
}

/// The default patch, its filter at 500 Hz, with a modulation envelope `fenv` (100 ms attack,
/// 100 ms decay to 0.5, 100 ms release) routed into the filter's cutoff at depth 0.25: one
/// octave at the envelope's top (the cutoff's modulation unit is four octaves).
fn patch() -> Patch {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("filter", "cutoff", 500.0).unwrap();
    let env = p.add("fenv", ModuleKind::Env).unwrap();
    for (param, v) in [
        ("attack", 100.0),
        ("decay", 100.0),
        ("sustain", 0.5),
        ("release", 100.0),
    ] {
        p.set("fenv", param, v).unwrap();
    }
    let filter = p.find("filter").unwrap();
    p.route(Source::Module(env), filter, 1, 0.25).unwrap();
    p
}

fn cutoff(p: &Patch, note: u8) -> f32 {
    let filter = p.find("filter").unwrap();
    p.voice_effective(None, note, filter, 1).unwrap().unwrap()
}

fn close(a: f32, b: f64) -> bool {
    (f64::from(a) / b - 1.0).abs() < 1e-5
}

#[test]
fn an_envelope_sweeping_the_cutoff_lands_on_its_values_in_each_voice() {
    let mut p = patch();
    p.note_on(60, 1.0).unwrap();
    // The end of the attack (100 ms): the cutoff follows the envelope (an octave per 100 ms)
    // within its 10 ms smoothing and a block (read at each block's start).
    render(&mut p, 0.1);
    let rising = cutoff(&p, 60);
    let behind = 500.0 * 2f64.powf((100.0 - 10.0 - 1000.0 * BLOCK as f64 / SR) / 100.0);
    // The sustain, 0.5: half an octave up.
    render(&mut p, 0.312);
    let sustain = cutoff(&p, 60);
    // A second note starts its own envelope from zero while the first holds its sustain.
    p.note_on(64, 1.0).unwrap();
    render(&mut p, 0.002);
    let (first, second) = (cutoff(&p, 60), cutoff(&p, 64));
    println!(
        "cutoff: {rising:.1} Hz at the attack's end (the envelope's {behind:.1} 11.3 ms \
         before), {sustain:.3} at the sustain; a new note {second:.1} beside {first:.3}"
    );
    assert!(f64::from(rising) >= behind && rising < 1000.0, "{rising}");
    assert!(
        close(sustain, 500.0 * 2f64.sqrt()),
        "half an octave: {sustain}"
    );
    assert!(close(first, 500.0 * 2f64.sqrt()), "{first}");
    assert!(second < 520.0, "its own envelope, just starting: {second}");
    // Released: back down to 500 Hz after the release (100 ms) and the smoothing.
    p.note_off(Some(60)).unwrap();
    render(&mut p, 0.05);
    let releasing = cutoff(&p, 60);
    assert!(releasing < sustain && releasing > 500.0, "{releasing}");
    // The template's own filter, which no note gates, stays at 500 Hz.
    let filter = p.find("filter").unwrap();
    assert!(close(p.effective(filter, 1).unwrap(), 500.0));
}

#[test]
fn velocity_and_key_track_into_a_parameter_and_routes_add_up() {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("filter", "cutoff", 500.0).unwrap();
    let filter = p.find("filter").unwrap();
    // Full key tracking (0.25: an octave per octave) and an octave at full velocity.
    p.route(Source::Key, filter, 1, 0.25).unwrap();
    p.route(Source::Velocity, filter, 1, 0.25).unwrap();
    p.note_on(72, 1.0).unwrap(); // C5, velocity 1: two octaves up
    p.note_on(48, 0.5).unwrap(); // C3, velocity 0.5: an octave down, half an octave up
    render(&mut p, 0.05);
    let (c5, c3) = (cutoff(&p, 72), cutoff(&p, 48));
    println!("key and velocity: C5 at 1.0 {c5:.3} Hz, C3 at 0.5 {c3:.3} Hz");
    assert!(close(c5, 2000.0), "{c5}");
    assert!(close(c3, 250.0 * 2f64.sqrt()), "{c3}");
    // A new depth takes effect on the notes sounding (no voice rebuilt, none cut).
    p.route(Source::Key, filter, 1, 0.0).unwrap();
    render(&mut p, 0.05);
    assert_eq!(p.notes().len(), 2, "both still sound");
    assert!(close(cutoff(&p, 72), 1000.0), "{}", cutoff(&p, 72));
    // Removed: velocity alone is left.
    p.unroute(Source::Velocity, filter, 1).unwrap();
    render(&mut p, 0.05);
    assert!(close(cutoff(&p, 72), 500.0), "{}", cutoff(&p, 72));
    // Out of range, or a module that is no source: refused, nothing changed.
    let before = p.describe();
    assert!(p.route(Source::Key, filter, 1, 9.0).is_err());
    assert!(p.route(Source::Key, filter, 1, f32::NAN).is_err());
    let sine = p.find("sine").unwrap();
    assert!(p.route(Source::Module(sine), filter, 1, 1.0).is_err());
    assert_eq!(p.describe(), before);
}

#[test]
fn an_lfo_routes_at_a_depth() {
    // The same LFO into two oscillators' pitch (no smoothing there), at depth 1 and at depth
    // -0.5: the second moves half as many cents, the other way, on every block.
    let mut p = Patch::new(SR, BLOCK).unwrap();
    let lfo = p.add("lfo", ModuleKind::Lfo).unwrap();
    let a = p.add("a", ModuleKind::Osc).unwrap();
    let b = p.add("b", ModuleKind::Osc).unwrap();
    p.set("lfo", "freq", 3.0).unwrap();
    p.route(Source::Module(lfo), a, 0, 1.0).unwrap();
    p.route(Source::Module(lfo), b, 0, -0.5).unwrap();
    let mut out = [0.0f32; BLOCK];
    let mut moved = 0;
    for _ in 0..200 {
        p.process(&mut out);
        let (x, y) = (p.effective(a, 0).unwrap(), p.effective(b, 0).unwrap());
        let (ox, oy) = ((x / 440.0).log2(), (y / 440.0).log2());
        assert!((oy + 0.5 * ox).abs() < 1e-5, "{ox} {oy}");
        moved += usize::from(ox.abs() > 0.1);
    }
    assert!(moved > 50, "the lfo moves the pitch");
}

#[test]
fn a_restored_patch_continues_bit_exactly_with_voice_modulation() {
    let mut p = patch();
    let filter = p.find("filter").unwrap();
    p.route(Source::Key, filter, 1, 0.1).unwrap();
    p.route(Source::Velocity, p.find("sine").unwrap(), 1, 0.3)
        .unwrap();
    for (n, v) in [(60, 0.9), (64, 0.5), (67, 0.7)] {
        p.note_on(n, v).unwrap();
        render(&mut p, 0.03);
    }
    let mut copy = Patch::from_state(&p.state()).unwrap();
    let (a, b) = (render(&mut p, 0.5), render(&mut copy, 0.5));
    assert!(a.iter().any(|x| x.abs() > 0.05));
    assert!(a == b, "bit-exact after restore");
}

/// The default patch with its `lfo` (2 Hz, depth 1, `retrig` as given) sweeping the filter's
/// cutoff by an octave each way, and a note started after `blocks` blocks; the output from
/// the note's start on, 0.3 s of it.
fn lfo_note(retrig: f32, blocks: usize) -> Vec<f32> {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("filter", "cutoff", 800.0).unwrap();
    p.set("lfo", "freq", 2.0).unwrap();
    p.set("lfo", "depth", 1.0).unwrap();
    p.set("lfo", "retrig", retrig).unwrap();
    let (lfo, filter) = (p.find("lfo").unwrap(), p.find("filter").unwrap());
    p.route(Source::Module(lfo), filter, 1, 0.25).unwrap();
    p.set("sine", "shape", 3.0).unwrap();
    render(&mut p, blocks as f64 * BLOCK as f64 / SR);
    p.note_on(48, 1.0).unwrap();
    render(&mut p, 0.3)
}

#[test]
fn an_lfo_with_retrig_restarts_on_each_note() {
    // A note after 10 blocks and one after 97 (the LFO a third of a turn further): with
    // `retrig` each starts the wobble at phase 0, so the two notes are the same to the bit;
    // without it each hears the LFO where it is, and they differ.
    assert!(
        lfo_note(1.0, 10) == lfo_note(1.0, 97),
        "retrig: each note alike"
    );
    assert!(
        lfo_note(0.0, 10) != lfo_note(0.0, 97),
        "no retrig: the LFO runs on"
    );
}

#[test]
fn without_retrig_every_voice_hears_the_lfo_where_the_module_is() {
    // The LFO's copy in each voice stays in step with the module: the voice's cutoff in effect
    // is the template filter's (the same LFO value), block after block, for a note started
    // mid-cycle and for one started in a route made while it sounds.
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("lfo", "freq", 3.0).unwrap();
    let (lfo, filter) = (p.find("lfo").unwrap(), p.find("filter").unwrap());
    render(&mut p, 0.1);
    p.note_on(60, 1.0).unwrap();
    render(&mut p, 0.05);
    p.route(Source::Module(lfo), filter, 1, 0.5).unwrap();
    p.note_on(64, 1.0).unwrap();
    let mut out = [0.0f32; BLOCK];
    let mut moved = 0;
    for _ in 0..200 {
        p.process(&mut out);
        let global = p.effective(filter, 1).unwrap();
        for note in [60, 64] {
            let voice = p.voice_effective(None, note, filter, 1).unwrap().unwrap();
            assert!(
                close(voice, f64::from(global)),
                "{note}: {voice} vs {global}"
            );
        }
        let base = p.param(filter, 1).unwrap();
        moved += usize::from((global / base - 1.0).abs() > 0.1);
    }
    assert!(moved > 50, "the lfo moves the cutoff");
}

#[test]
fn a_restored_patch_continues_bit_exactly_with_audio_rate_modulation_sync_and_spread() {
    // A stereo patch: an oscillator phase-modulating the voices, hard sync, seven copies
    // spread, an LFO restarted per note: its state restored mid-chord plays on to the bit.
    let mut p = Patch::default_patch_for(SR, BLOCK, true).unwrap();
    let (sine, lfo, filter) = (
        p.find("sine").unwrap(),
        p.find("lfo").unwrap(),
        p.find("filter").unwrap(),
    );
    let op = p.add("op", ModuleKind::Osc).unwrap();
    p.set("op", "freq", 130.0).unwrap();
    p.route(Source::Module(op), sine, 9, 1.2).unwrap();
    p.route(Source::Module(lfo), filter, 1, 0.2).unwrap();
    for (param, v) in [
        ("shape", 3.0),
        ("sync", 5.0),
        ("unison", 7.0),
        ("spread", 1.0),
    ] {
        p.set("sine", param, v).unwrap();
    }
    p.set("lfo", "retrig", 1.0).unwrap();
    let stereo = |p: &mut Patch| {
        let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        let mut out = Vec::new();
        for _ in 0..400 {
            p.process_stereo(&mut l, &mut r);
            out.extend_from_slice(&l);
            out.extend_from_slice(&r);
        }
        out
    };
    for n in [48, 55, 60] {
        p.note_on(n, 0.8).unwrap();
        stereo(&mut p);
    }
    let mut copy = Patch::from_state(&p.state()).unwrap();
    let (a, b) = (stereo(&mut p), stereo(&mut copy));
    assert!(a.iter().any(|x| x.abs() > 0.05));
    assert!(a == b, "bit-exact after restore");
}
