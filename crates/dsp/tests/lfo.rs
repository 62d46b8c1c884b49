//! The LFO: its rate and depth measured on the parameter it modulates, and its shapes.

mod common;

use chronus_dsp::modules::{lfo, osc};
use chronus_dsp::{analysis, Module, Patch};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// Routes the default patch's LFO to `module.param`, renders `seconds`, and returns the
/// parameter's effective value after each block.
fn modulated(
    module: &str,
    param: &str,
    rate: f32,
    depth: f32,
    shape: f32,
    seconds: f64,
) -> Vec<f32> {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    p.set("lfo", "freq", rate).unwrap();
    p.set("lfo", "depth", depth).unwrap();
    p.set("lfo", "shape", shape).unwrap();
    let (l, m) = (p.find("lfo").unwrap(), p.find(module).unwrap());
    let pid = p.kind(m).unwrap().param_id(param).unwrap();
    p.modulate(l, m, pid).unwrap();
    p.gate(p.find("adsr").unwrap(), true).unwrap();
    let mut block = [0.0f32; BLOCK];
    let blocks = (seconds * SR / BLOCK as f64) as usize;
    (0..blocks)
        .map(|_| {
            p.process(&mut block);
            p.effective(m, pid).unwrap()
        })
        .collect()
}

#[test]
fn vibrato_rate_and_depth_on_sine_freq() {
    // depth 0.1 on freq = ±0.1 octave = ±120 cents around 440 Hz.
    let trace = modulated("sine", "freq", 5.0, 0.1, 0.0, 4.0);
    let cents: Vec<f32> = trace.iter().map(|&f| 1200.0 * (f / 440.0).log2()).collect();
    let block_rate = SR / BLOCK as f64;
    let rate = analysis::zero_crossing_frequency(&cents, block_rate).unwrap();
    let (lo, hi) = cents
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &c| (a.min(c), b.max(c)));
    println!("LFO→sine.freq: rate {rate:.4} Hz (set 5), swing {lo:+.2}..{hi:+.2} cents (set ±120)");
    assert!((rate - 5.0).abs() < 0.01, "rate {rate}");
    assert!(
        (hi - 120.0).abs() < 1.0 && (lo + 120.0).abs() < 1.0,
        "{lo}..{hi}"
    );
}

#[test]
fn wobble_on_filter_cutoff_and_tremolo_on_gain() {
    // depth 0.5 on cutoff = ±0.5·4800 cents = ±2 octaves around 1 kHz (smoothed over 10 ms).
    let cutoff = modulated("filter", "cutoff", 0.5, 0.5, 0.0, 6.0);
    let (lo, hi) = cutoff
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &c| (a.min(c), b.max(c)));
    println!("LFO→filter.cutoff: {lo:.1}..{hi:.1} Hz (set 250..4000)");
    assert!(
        (hi / 4000.0 - 1.0).abs() < 0.01 && (lo / 250.0 - 1.0).abs() < 0.01,
        "{lo}..{hi}"
    );
    let centred: Vec<f32> = cutoff.iter().map(|c| (c / 1000.0).log2()).collect();
    let rate = analysis::zero_crossing_frequency(&centred, SR / BLOCK as f64).unwrap();
    assert!((rate - 0.5).abs() < 0.01, "cutoff wobble rate {rate}");

    // depth 0.2 on gain = 0.5 ± 0.2.
    let gain = modulated("sine", "gain", 4.0, 0.2, 1.0, 2.0);
    let (lo, hi) = gain
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &c| (a.min(c), b.max(c)));
    println!("LFO→sine.gain: {lo:.4}..{hi:.4} (set 0.3..0.7)");
    assert!(
        (hi - 0.7).abs() < 0.01 && (lo - 0.3).abs() < 0.01,
        "{lo}..{hi}"
    );
}

#[test]
fn shapes_offset_and_reset() {
    let at = |shape: f32, phase_samples: usize| -> f32 {
        let mut l = lfo::Lfo::new(SR);
        l.set_param(lfo::FREQ, 1.0).unwrap();
        l.set_param(lfo::DEPTH, 1.0).unwrap();
        l.set_param(lfo::SHAPE, shape).unwrap();
        let mut buf = vec![0.0; phase_samples + 1];
        l.process(&mut buf);
        buf[phase_samples]
    };
    let q = 12_000; // a quarter turn at 1 Hz
    let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
    // sine: 0, 1, 0, -1
    assert!(close(at(0.0, 0), 0.0) && close(at(0.0, q), 1.0) && close(at(0.0, 3 * q), -1.0));
    // triangle: -1 at 0, 0 at a quarter, 1 at a half
    assert!(close(at(1.0, 0), -1.0) && close(at(1.0, q), 0.0) && close(at(1.0, 2 * q), 1.0));
    // square: 1 in the first half, -1 in the second
    assert!(close(at(2.0, q), 1.0) && close(at(2.0, 3 * q), -1.0));
    // saw: -1 → 1 over a turn
    assert!(close(at(3.0, 0), -1.0) && close(at(3.0, 2 * q), 0.0) && close(at(3.0, 3 * q), 0.5));

    let mut l = lfo::Lfo::new(SR);
    l.set_param(lfo::OFFSET, 0.25).unwrap();
    l.set_param(lfo::DEPTH, 0.5).unwrap();
    let mut buf = vec![0.0; q + 1];
    l.process(&mut buf);
    assert!(
        close(buf[q], 0.75),
        "offset + depth at the crest: {}",
        buf[q]
    );
    l.set_param(lfo::RESET, 1.0).unwrap();
    let mut one = [0.0f32; 16];
    l.process(&mut one);
    assert!(close(one[0], 0.25), "reset puts the phase back to 0");
}

#[test]
fn glide_moves_pitch_over_the_glide_time() {
    let mut o = osc::Osc::new(SR);
    o.set_param(osc::GLIDE_TIME, 100.0).unwrap();
    o.set_param(osc::FREQ, 880.0).unwrap();
    let mut buf = [0.0f32; 64];
    let mut trace = Vec::new();
    for _ in 0..100 {
        o.process(&mut buf);
        trace.push(o.effective(osc::FREQ).unwrap());
    }
    let halfway = trace[37]; // 38 blocks ≈ 50.7 ms
    assert!(
        halfway > 600.0 && halfway < 640.0,
        "glide halfway at {halfway} Hz (log-linear)"
    );
    assert_eq!(trace[76], 880.0, "glide lands on the target after 100 ms");
}

#[test]
fn a_synced_lfo_cycles_on_the_tempo() {
    use chronus_dsp::modules::lfo::{self, Lfo};
    use chronus_dsp::Module;
    let sr = 48_000.0;
    let mut l = Lfo::new(sr);
    l.set_param(lfo::SYNC, 0.25).unwrap(); // a beat
    l.set_param(lfo::SHAPE, 3.0).unwrap(); // a ramp: one jump a cycle
    l.set_tempo(120.0);
    assert_eq!(l.effective(lfo::FREQ), Some(2.0), "a beat at 120 BPM: 2 Hz");
    // The ramp falls once a cycle: at 120 BPM every 24,000 samples, exactly (the first one
    // sample late: the phase increment is rounded down to 2^-64 of a turn).
    let mut out = vec![0.0f32; 96_000];
    for b in out.chunks_mut(64) {
        l.process(b);
    }
    let falls: Vec<usize> = (1..out.len())
        .filter(|&i| out[i] < out[i - 1] - 0.5)
        .collect();
    assert_eq!(falls, [24_001, 48_001, 72_001]);
    // The tempo moves, the rate follows: a bar (sync 1) at 90 BPM is 0.375 Hz.
    l.set_param(lfo::SYNC, 1.0).unwrap();
    l.set_tempo(90.0);
    assert_eq!(l.effective(lfo::FREQ), Some(0.375));
    // Off: `freq` again.
    l.set_param(lfo::SYNC, 0.0).unwrap();
    assert_eq!(l.effective(lfo::FREQ), l.param(lfo::FREQ));
}

#[test]
fn an_lfo_nothing_reads_moves_on_as_if_it_were_read() {
    // Two default patches, the same changes to each: `read`'s LFO modulates the cutoff, `idle`'s
    // is routed nowhere (it only moves on) while its rate, sync and tempo move. Its state stays
    // the read one's to the bit, block after block.
    let patch = || {
        let mut p = Patch::default_patch(SR, BLOCK).unwrap();
        p.set("lfo", "freq", 7.3).unwrap();
        p.set("lfo", "depth", 0.5).unwrap();
        p.gate(p.find("adsr").unwrap(), true).unwrap();
        p
    };
    let (mut read, mut idle) = (patch(), patch());
    let (l, f) = (read.find("lfo").unwrap(), read.find("filter").unwrap());
    let cutoff = read.kind(f).unwrap().param_id("cutoff").unwrap();
    read.modulate(l, f, cutoff).unwrap();
    let lfo = |p: &Patch| {
        let state = p.state();
        state.nodes.into_iter().find(|(d, _)| d.id == l).unwrap().1
    };
    let mut block = [0.0f32; BLOCK];
    let mut states = Vec::new();
    for b in 0..600 {
        for p in [&mut read, &mut idle] {
            match b {
                100 => drop(p.set("lfo", "freq", 0.77).unwrap()),
                200 => drop(p.set("lfo", "sync", 0.25).unwrap()),
                300 => p.set_tempo(97.0),
                400 => drop(p.set("lfo", "sync", 0.0).unwrap()),
                _ => {}
            }
        }
        // What an LFO made anew from this block's start (nothing kept but the state) renders.
        let mut anew = chronus_dsp::modules::lfo::Lfo::new(SR);
        anew.restore(&lfo(&idle)).unwrap();
        anew.process(&mut [0.0; BLOCK]);
        read.process(&mut block);
        idle.process(&mut block);
        assert_eq!(lfo(&read), lfo(&idle), "block {b}");
        assert_eq!(anew.state(), lfo(&idle), "block {b}");
        states.push(lfo(&idle));
    }
    states.dedup();
    assert_eq!(states.len(), 600, "the LFO moves on every block");
    // Routed now, it modulates from where it is: the cutoff as the read one's (once the
    // cutoff's smoothing has caught up from where the idle patch's stood).
    idle.modulate(l, f, cutoff).unwrap();
    let mut trace = |p: &mut Patch| {
        p.process(&mut block);
        p.effective(f, cutoff).unwrap()
    };
    let a: Vec<f32> = (0..400).map(|_| trace(&mut read)).collect();
    let b: Vec<f32> = (0..400).map(|_| trace(&mut idle)).collect();
    assert!(
        (a[399] - b[399]).abs() <= a[399] * 1e-4,
        "{} against {}",
        a[399],
        b[399]
    );
}
