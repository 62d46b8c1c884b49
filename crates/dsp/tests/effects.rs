//! The effects measured: delay time to the sample, feedback decay per repeat, a glide instead
//! of a jump when the time changes, reverb tail (RT60) rising with `size`, a long silent tail
//! with no NaN and no subnormal numbers, and the dry setting passing the input untouched.
#![cfg(feature = "effects")]

use chronus_dsp::modules::{delay, reverb};
use chronus_dsp::{Module, ModuleKind, Patch};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// Runs `module` over `input` block by block.
fn run(module: &mut dyn Module, input: &[f32]) -> Vec<f32> {
    let mut out = input.to_vec();
    for chunk in out.chunks_mut(BLOCK) {
        module.process(chunk);
    }
    out
}

/// A module of `kind` with its parameters set, after 200 ms of silence (the ramps have landed).
fn settled(kind: ModuleKind, params: &[(u8, f32)]) -> Box<dyn Module> {
    let mut m = kind.build(SR, BLOCK).unwrap();
    for &(p, v) in params {
        m.set_param(p, v).unwrap();
    }
    run(m.as_mut(), &vec![0.0; 9_600]);
    m
}

fn impulse(len: usize) -> Vec<f32> {
    let mut v = vec![0.0; len];
    v[0] = 1.0;
    v
}

#[test]
fn delay_time_is_exact_to_the_sample() {
    for ms in [1.0f32, 250.0, 1000.0 / 3.0, 2000.0] {
        let mut d = settled(
            ModuleKind::Delay,
            &[(delay::TIME, ms), (delay::FEEDBACK, 0.0), (delay::MIX, 1.0)],
        );
        let out = run(d.as_mut(), &impulse(100_000));
        let first = out.iter().position(|x| x.abs() > 1e-6).unwrap();
        let want = (f64::from(ms) * SR / 1000.0).floor() as usize;
        println!("delay {ms} ms: first echo at sample {first} (want {want})");
        assert_eq!(first, want, "{ms} ms");
        if (f64::from(ms) * SR / 1000.0).fract() == 0.0 {
            assert_eq!(out[first], 1.0, "an integer delay is a plain copy");
        }
    }
}

#[test]
fn a_synced_delay_follows_the_tempo() {
    // (bpm, note value in whole notes, expected delay in samples)
    for (bpm, sync, want) in [
        (120.0f32, 0.25f32, 24_000usize), // a quarter at 120: 500 ms
        (150.0, 0.1875, 14_400),          // a dotted eighth at 150: 300 ms
        (175.0, 0.125, 8_228),            // an eighth at 175: 171.43 ms
        (20.0, 1.0, 96_000),              // a whole note at 20 BPM: 12 s, held at 2000 ms
    ] {
        let mut d = ModuleKind::Delay.build(SR, BLOCK).unwrap();
        d.set_tempo(bpm);
        for (p, v) in [
            (delay::SYNC, sync),
            (delay::FEEDBACK, 0.0),
            (delay::MIX, 1.0),
        ] {
            d.set_param(p, v).unwrap();
        }
        run(d.as_mut(), &vec![0.0; 9_600]);
        let out = run(d.as_mut(), &impulse(100_000));
        let first = out.iter().position(|x| x.abs() > 1e-6).unwrap();
        println!("sync {sync} at {bpm} BPM: first echo at sample {first} (want {want})");
        assert_eq!(first, want, "sync {sync} at {bpm} BPM");
    }
    // A tempo change moves a synced delay (gliding there); `time` is ignored while synced.
    let mut d = ModuleKind::Delay.build(SR, BLOCK).unwrap();
    d.set_param(delay::SYNC, 0.25).unwrap();
    d.set_param(delay::TIME, 10.0).unwrap();
    d.set_param(delay::MIX, 1.0).unwrap();
    run(d.as_mut(), &vec![0.0; 9_600]);
    assert_eq!(d.effective(delay::TIME), Some(500.0));
    d.set_tempo(100.0);
    run(d.as_mut(), &vec![0.0; 9_600]);
    assert_eq!(d.effective(delay::TIME), Some(600.0));
    d.set_param(delay::SYNC, 0.0).unwrap();
    run(d.as_mut(), &vec![0.0; 9_600]);
    assert_eq!(d.effective(delay::TIME), Some(10.0));
}

#[test]
fn feedback_decays_by_its_value_each_repeat() {
    for fb in [0.25f32, 0.5, 0.95] {
        let mut d = settled(
            ModuleKind::Delay,
            &[
                (delay::TIME, 100.0),
                (delay::FEEDBACK, fb),
                (delay::MIX, 1.0),
            ],
        );
        let out = run(d.as_mut(), &impulse(48_000));
        let repeats: Vec<f32> = (1..=9).map(|k| out[k * 4_800]).collect();
        for pair in repeats.windows(2) {
            let ratio = pair[1] / pair[0];
            assert!((ratio - fb).abs() < 1e-5, "feedback {fb}: ratio {ratio}");
        }
        // Nothing but the repeats.
        let between: f32 = out
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 4_800 != 0)
            .map(|(_, x)| x.abs())
            .sum();
        assert_eq!(between, 0.0);
        println!("feedback {fb}: repeats {:?}", &repeats[..4]);
    }
}

#[test]
fn a_new_delay_time_glides_instead_of_jumping() {
    // A 100 Hz sine through a fully wet delay; the time moves from 100 to 300 ms. A jump of the
    // read position would show as a step far larger than the sine's own steepest step.
    let mut d = settled(
        ModuleKind::Delay,
        &[
            (delay::TIME, 100.0),
            (delay::FEEDBACK, 0.0),
            (delay::MIX, 1.0),
        ],
    );
    let sine: Vec<f32> = (0..96_000)
        .map(|n| (2.0 * std::f64::consts::PI * 100.0 * n as f64 / SR).sin() as f32 * 0.5)
        .collect();
    let mut out = run(d.as_mut(), &sine[..24_000]);
    d.set_param(delay::TIME, 300.0).unwrap();
    out.extend(run(d.as_mut(), &sine[24_000..]));
    let steepest_input = 0.5 * 2.0 * std::f64::consts::PI * 100.0 / SR;
    let steepest = out[4_800..]
        .windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max);
    println!("steepest step {steepest:.5}, the sine's own {steepest_input:.5}");
    // The glide reads up to 2 samples per sample slower (200 ms over a 100 ms glide): the
    // pitch bends, the waveform stays continuous.
    assert!(steepest < steepest_input * 1.05, "{steepest}");
}

/// RT60 of the reverb's impulse response: the time for its energy envelope (Schroeder backward
/// integral) to fall by 60 dB, extrapolated from the −5 … −35 dB stretch.
fn rt60(out: &[f32]) -> f64 {
    let mut energy = vec![0.0f64; out.len() + 1];
    for i in (0..out.len()).rev() {
        energy[i] = energy[i + 1] + f64::from(out[i]) * f64::from(out[i]);
    }
    let db = |i: usize| 10.0 * (energy[i] / energy[0]).log10();
    let t5 = (0..out.len()).find(|&i| db(i) <= -5.0).unwrap();
    let t35 = (0..out.len()).find(|&i| db(i) <= -35.0).unwrap();
    (t35 - t5) as f64 / SR * 2.0
}

#[test]
fn reverb_tail_grows_with_size() {
    let mut last = 0.0;
    for size in [0.0f32, 0.3, 0.6, 0.9, 1.0] {
        let mut r = settled(
            ModuleKind::Reverb,
            &[
                (reverb::MIX, 1.0),
                (reverb::SIZE, size),
                (reverb::DAMP, 0.5),
            ],
        );
        let out = run(r.as_mut(), &impulse(20 * 48_000));
        let t = rt60(&out);
        println!("reverb size {size}: RT60 {t:.2} s");
        assert!(t > last * 1.2, "size {size}: RT60 {t} s after {last} s");
        last = t;
    }
    assert!(last > 3.0, "the largest room rings for seconds ({last} s)");
}

fn no_subnormal(xs: &[f32]) -> bool {
    xs.iter().all(|x| x.is_finite() && !x.is_subnormal())
}

#[test]
fn a_long_silent_tail_stays_clean() {
    // The largest room, no damping, and the longest echo at top feedback: 5 minutes of
    // silence after a loud burst. The loops decay into zero, never into subnormal numbers
    // (which make a CPU crawl) or NaN.
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("reverb", "mix", 1.0).unwrap();
    p.set("reverb", "size", 1.0).unwrap();
    p.set("reverb", "damp", 0.0).unwrap();
    p.set("delay", "mix", 1.0).unwrap();
    p.set("delay", "feedback", 0.95).unwrap();
    p.set("delay", "time", 2000.0).unwrap();
    p.gate(p.find("adsr").unwrap(), true).unwrap();
    let mut out = [0.0f32; BLOCK];
    for _ in 0..750 {
        p.process(&mut out);
    }
    p.gate(p.find("adsr").unwrap(), false).unwrap();
    let mut heard = 0.0f32;
    let mut bad = 0usize;
    for _ in 0..(300 * 48_000 / BLOCK) {
        p.process(&mut out);
        heard = heard.max(out.iter().fold(0.0, |m, x| m.max(x.abs())));
        bad += usize::from(!no_subnormal(&out));
    }
    assert!(heard > 0.0);
    assert_eq!(bad, 0, "blocks with NaN or subnormal samples");
    for (desc, state) in p.state().nodes {
        let clean = match state {
            chronus_dsp::ModuleState::Delay(s) => no_subnormal(&s.line),
            chronus_dsp::ModuleState::Reverb(s) => {
                no_subnormal(&s.lines) && no_subnormal(&s.comb_lowpass)
            }
            _ => true,
        };
        assert!(clean, "{}: subnormal numbers left in its state", desc.name);
    }
}

#[test]
fn dry_effects_pass_the_input_untouched() {
    let input: Vec<f32> = (0..9_600).map(|n| ((n as f32) * 0.013).sin()).collect();
    for kind in [ModuleKind::Delay, ModuleKind::Reverb] {
        let mut m = kind.build(SR, BLOCK).unwrap();
        let out = run(m.as_mut(), &input);
        assert!(
            out.iter()
                .zip(&input)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{kind:?} at mix 0"
        );
    }
}

#[test]
fn wet_again_after_dry_starts_from_silence() {
    // Turned dry mid-echo and wet again later: the old echoes are gone, not frozen and replayed.
    let mut d = settled(
        ModuleKind::Delay,
        &[
            (delay::TIME, 100.0),
            (delay::FEEDBACK, 0.9),
            (delay::MIX, 1.0),
        ],
    );
    run(d.as_mut(), &impulse(2_000));
    d.set_param(delay::MIX, 0.0).unwrap();
    run(d.as_mut(), &vec![0.0; 4_800]);
    d.set_param(delay::MIX, 1.0).unwrap();
    let out = run(d.as_mut(), &vec![0.0; 48_000]);
    assert!(out.iter().all(|&x| x == 0.0));
}
