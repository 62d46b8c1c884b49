//! The step sequencer on the sample clock: 120 BPM sixteenths open the gate every 6000 samples
//! at 48 kHz, exactly, for ten minutes; a tempo change lands on the next step; note patterns
//! play their pitches; a renderer restored from a snapshot mid-pattern goes on identically.

use chronus_dsp::{analysis, Patch};
use chronus_engine::{Renderer, Score};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// The default patch with the envelope straight to the output (no filter ringing), instant
/// attack and release: the output is non-zero exactly while the gate is open.
fn gate_probe() -> Patch {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    let adsr = p.find("adsr").unwrap();
    for id in p.describe().iter().filter(|d| d.to_out).map(|d| d.id) {
        p.connect_out(id, false).unwrap();
    }
    p.connect_out(adsr, true).unwrap();
    for (param, v) in [
        ("attack", 0.0),
        ("decay", 0.0),
        ("sustain", 1.0),
        ("release", 0.0),
    ] {
        p.set("adsr", param, v).unwrap();
    }
    // A pitch whose phase is never exactly 0 on a step (440 Hz is, every 6000 samples: its
    // sine would be silent on the very sample the gate opens).
    p.set("sine", "freq", 441.3).unwrap();
    p
}

fn renderer(score: &str) -> Renderer {
    let patch = gate_probe();
    let mut r = Renderer::new(patch);
    let cmds = Score::parse(score).unwrap().resolve(r.patch()).unwrap();
    for c in cmds {
        r.schedule(c).unwrap();
    }
    r
}

/// Samples where the output turns on after at least `gap` samples of exact silence.
fn onsets(r: &mut Renderer, samples: usize, gap: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut silent = gap;
    let mut block = [0.0f32; BLOCK];
    for b in 0..samples / BLOCK {
        r.render(&mut block);
        for (i, &x) in block.iter().enumerate() {
            if x == 0.0 {
                silent += 1;
            } else {
                if silent >= gap {
                    out.push((b * BLOCK + i) as u64);
                }
                silent = 0;
            }
        }
    }
    out
}

const STEADY: &str =
    "0 /seq/target 0 adsr\n0 /seq/pattern 0 xxxxxxxxxxxxxxxx\n0 /seq/bpm 120\n0.5 /seq/start\n";

#[test]
fn sixteenths_at_120_bpm_are_6000_samples_apart_for_ten_minutes() {
    let mut r = renderer(STEADY);
    let seconds = 600;
    let on = onsets(&mut r, seconds * 48_000, 100);
    // From 0.5 s to the end: every step whose sample falls inside the ten minutes.
    let expected: Vec<u64> = (0..)
        .map(|k| 24_000 + k * 6_000)
        .take_while(|&t| t < seconds as u64 * 48_000)
        .collect();
    assert_eq!(on.len(), expected.len(), "steps in ten minutes");
    let wrong = on.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(wrong, None, "first step off its sample");
    println!(
        "{} onsets, every 6000 samples from sample 24000; the last at {}",
        on.len(),
        on.last().unwrap()
    );
}

#[test]
fn a_tempo_change_lands_on_the_next_step_and_swing_delays_odd_steps() {
    // At 1.0 s (step 4 at 120 BPM sits at 0.5 + 4 x 0.125 = 1.0 s) the tempo becomes 150:
    // steps of 4800 samples from the step after.
    let score = format!("{STEADY}1.01 /seq/bpm 150\n");
    let mut r = renderer(&score);
    let on = onsets(&mut r, 3 * 48_000, 100);
    assert_eq!(
        &on[..9],
        [24_000, 30_000, 36_000, 42_000, 48_000, 54_000, 58_800, 63_600, 68_400]
    );
    let score = format!("{STEADY}0 /seq/swing 0.25\n");
    let mut r = renderer(&score);
    let on = onsets(&mut r, 2 * 48_000, 100);
    assert_eq!(&on[..4], [24_000, 31_500, 36_000, 43_500]);
}

#[test]
fn a_step_that_swing_moves_into_the_past_plays_at_once() {
    // Swing 0.5 puts step 1 at 33,000 (30,000 + half a step); at 31,200 the swing goes to 0,
    // so step 1 (now at 30,000) is already past: it plays at 31,200, and step 2 at 36,000 as
    // ever. (This used to hang both workers: the step was never fired, nor the loop left.)
    let score = format!("{STEADY}0 /seq/swing 0.5\n0.65 /seq/swing 0\n");
    let mut r = renderer(&score);
    let on = onsets(&mut r, 2 * 48_000, 100);
    assert_eq!(&on[..5], [24_000, 31_200, 36_000, 42_000, 48_000]);
    // And back to swing 0.5 just after an odd step's straight time: it waits for its swung time.
    let score = format!("{STEADY}0.63 /seq/swing 0.5\n");
    let mut r = renderer(&score);
    let on = onsets(&mut r, 2 * 48_000, 100);
    assert_eq!(&on[..4], [24_000, 30_000, 36_000, 45_000]);
}

#[test]
fn a_restart_from_a_checkpoint_taken_mid_pattern_plays_on_in_phase() {
    // What the supervisor does after both workers died: the last checkpoint, its clock moved
    // on to the block the output needs next. The sequencer's next step (step 1, at 30,000) is
    // then far in the past: it plays at once, on the restart's first sample, and the steps go
    // on on their old grid (24,000 + 6,000 k). (This used to hang both restarted workers.)
    let mut a = renderer(STEADY);
    let mut block = [0.0f32; BLOCK];
    for _ in 0..(27_100 / BLOCK) {
        a.render(&mut block);
    }
    let mut state = a.state();
    let restart = state.now + 100_032;
    state.now = restart;
    let mut b = Renderer::from_state(&state).unwrap();
    let on: Vec<u64> = onsets(&mut b, 48_000, 100)
        .into_iter()
        .map(|t| t + restart)
        .collect();
    assert_eq!(restart, 127_104);
    assert_eq!(&on[..4], [127_104, 132_000, 138_000, 144_000]);
}

#[test]
fn a_note_pattern_plays_its_pitches() {
    let score = "0 /seq/target 0 note\n0 /seq/pattern 0 A3 . E4 . A4 . . .\n0 /seq/start\n";
    let mut r = renderer(score);
    let mut out = vec![0.0f32; 48_000];
    for chunk in out.chunks_mut(BLOCK) {
        r.render(chunk);
    }
    // Each note sounds for half a step (3000 samples) from its step.
    for (step, hz) in [(0usize, 220.0), (2, 329.628), (4, 440.0)] {
        let at = step * 6_000 + 200;
        let f = analysis::zero_crossing_frequency(&out[at..at + 2_600], SR).unwrap();
        assert!((f - hz).abs() < 0.5, "step {step}: {f} Hz, want {hz}");
    }
    assert!(
        out[6 * 6_000 + 100..8 * 6_000].iter().all(|&x| x == 0.0),
        "rests"
    );
}

#[test]
fn a_restored_renderer_goes_on_identically_mid_pattern() {
    let mut a = renderer(STEADY);
    let mut block = [0.0f32; BLOCK];
    for _ in 0..(27_100 / BLOCK) {
        a.render(&mut block);
    }
    let state = a.state();
    let bytes = state.to_bytes().unwrap();
    let mut b =
        Renderer::from_state(&chronus_engine::RendererState::from_bytes(&bytes).unwrap()).unwrap();
    let (mut x, mut y) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for i in 0..5_000 {
        a.render(&mut x);
        b.render(&mut y);
        assert!(
            x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "diverged at block {i}"
        );
    }
    assert!(b.sequencer().running());
}

#[test]
fn a_note_pattern_plays_on_an_instrument_on_its_exact_steps() {
    // The default patch silent; a `bass` instrument made by the score's setup, straight to the
    // output with an instant envelope: the output is non-zero exactly while a note sounds.
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    for id in p.describe().iter().filter(|d| d.to_out).map(|d| d.id) {
        p.connect_out(id, false).unwrap();
    }
    let score = Score::parse(
        "0 /inst/new bass \"osc > adsr\"\n\
         0 /mod/bass.osc/shape 3\n\
         0 /mod/bass.adsr/attack 0\n0 /mod/bass.adsr/decay 0\n\
         0 /mod/bass.adsr/sustain 1\n0 /mod/bass.adsr/release 0\n\
         0 /seq/target 1 bass\n\
         0 /seq/pattern 1 C3 . E3 . G3 . x .\n\
         0.5 /seq/start\n",
    )
    .unwrap();
    score.set_up(&mut p).unwrap();
    let mut r = Renderer::new(p);
    for c in score.resolve(r.patch()).unwrap() {
        r.schedule(c).unwrap();
    }
    // Render 2 s, keeping the audio to measure each note's pitch.
    let mut audio = vec![0.0f32; 96_000];
    for b in audio.chunks_mut(BLOCK) {
        r.render(b);
    }
    let mut on = Vec::new();
    let mut silent = 100;
    for (i, &x) in audio.iter().enumerate() {
        if x == 0.0 {
            silent += 1;
        } else {
            if silent >= 100 {
                on.push(i);
            }
            silent = 0;
        }
    }
    // Steps every 6000 samples from 0.5 s; notes on the even ones, the pattern 8 steps long.
    let expected: Vec<usize> = (0..6).map(|k| 24_000 + k * 12_000).collect();
    assert_eq!(on, expected, "each note on its step's sample");
    // C3, E3, G3, then the hit plays the track's last note (G3) again; then C3, E3.
    let want = [130.81, 164.81, 196.0, 196.0, 130.81, 164.81];
    for (&at, &hz) in on.iter().zip(&want) {
        let f = analysis::zero_crossing_frequency(&audio[at + 200..at + 2_800], SR).unwrap();
        assert!(
            (f / hz - 1.0).abs() < 0.003,
            "the note at {at}: {f} Hz, want {hz}"
        );
        // Half a step long (3000 samples), then released: silence.
        assert!(audio[at + 3_000 + 10..at + 5_900].iter().all(|&x| x == 0.0));
    }
}
