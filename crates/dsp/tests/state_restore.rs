//! Snapshot/restore is bit-exact: a restored module (or patch) continues exactly like the
//! original, whatever it was doing (gliding, ramping, mid-envelope, modulated).

mod common;

use chronus_dsp::{Module, ModuleKind, Patch};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

fn busy(kind: ModuleKind, stereo: bool) -> Box<dyn Module> {
    let mut m = kind.build_for(SR, BLOCK, stereo).unwrap();
    match kind {
        ModuleKind::Osc => {
            m.set_param(3, 50.0).unwrap(); // glide
            m.set_param(2, 3.0).unwrap(); // saw
            m.set_param(0, 1234.5).unwrap();
            m.set_param(1, 0.9).unwrap();
            m.set_modulation(0, 0.05);
            m.set_param(5, 0.4).unwrap(); // sub, moving
            m.set_param(6, 3.0).unwrap(); // unison
        }
        ModuleKind::Adsr => {
            m.gate(true).unwrap();
        }
        ModuleKind::Filter => {
            m.set_param(2, 5.0).unwrap();
            m.set_param(1, 300.0).unwrap();
            m.set_modulation(1, 0.3);
        }
        ModuleKind::Lfo => {
            m.set_param(0, 7.5).unwrap();
            m.set_param(2, 1.0).unwrap();
        }
        ModuleKind::Pan => {
            m.set_param(0, -0.4).unwrap(); // pos, moving
            m.set_param(1, 0.5).unwrap(); // width
            m.set_modulation(0, 0.2);
        }
        ModuleKind::Bus => {
            m.set_param(0, 0.7).unwrap(); // gain, moving
        }
        ModuleKind::Noise => {
            m.set_param(0, 1.0).unwrap(); // pink: the filters' memories
            m.set_param(1, 0.9).unwrap(); // gain, moving
        }
        ModuleKind::Env => {
            m.set_param(0, 30.0).unwrap(); // attack, mid-way through the test
            m.set_param(4, -0.6).unwrap(); // depth
            m.set_modulation(4, 0.1);
            m.gate(true).unwrap();
        }
        #[cfg(feature = "effects")]
        ModuleKind::Delay => {
            m.set_param(0, 3.3).unwrap(); // a short time, so the echoes come back in the test
            m.set_param(1, 0.8).unwrap(); // feedback
            m.set_param(2, 0.6).unwrap(); // mix
            m.set_param(4, 1.0).unwrap(); // ping-pong (stereo)
            m.set_modulation(0, 0.1);
        }
        ModuleKind::Sampler => {
            m.attach_samples(&bank());
            m.set_param(3, 0.0).unwrap(); // the sample in slot 0
            m.attach_samples(&bank());
            m.set_param(2, 7.3).unwrap(); // pitch: between frames
            m.set_param(5, 1.0).unwrap(); // a loop with a crossfade, passed in the test
            m.set_param(6, 0.2).unwrap();
            m.set_param(7, 0.6).unwrap();
            m.set_param(8, 5.0).unwrap();
            m.set_param(1, 0.8).unwrap(); // gain, moving
            m.gate(true).unwrap();
        }
        #[cfg(feature = "effects")]
        ModuleKind::Reverb => {
            m.set_param(0, 0.7).unwrap(); // mix
            m.set_param(1, 0.9).unwrap(); // size
        }
    }
    m
}

/// A bank with a 5000-frame sample in slot 0 (for the sampler).
fn bank() -> chronus_dsp::sample::SampleBank {
    use chronus_dsp::sample::{Sample, SampleBank};
    let data: Vec<f32> = (0..5_000)
        .map(|i| ((i as f32) * 0.031).sin() * 0.7)
        .collect();
    let mut bank = SampleBank::default();
    bank.put(Sample::in_memory(0, 1, data, &[]).unwrap());
    bank
}

fn input(i: usize) -> [f32; BLOCK] {
    let mut b = [0.0f32; BLOCK];
    for (k, x) in b.iter_mut().enumerate() {
        *x = (((i * BLOCK + k) as f32) * 0.05).sin() * 0.8;
    }
    b
}

/// One block of either side's input (the right side another signal than the left).
fn input_side(i: usize, side: usize) -> [f32; BLOCK] {
    let mut b = input(i);
    if side == 1 {
        b.iter_mut().for_each(|x| *x = -0.5 * *x + 0.1);
    }
    b
}

/// One block through `m`: mono, or both sides (the same stereo input each time).
fn run(m: &mut Box<dyn Module>, i: usize, stereo: bool) -> Vec<f32> {
    let (mut l, mut r) = (input_side(i, 0), input_side(i, 1));
    if stereo {
        m.process_stereo(&mut l, &mut r, true);
        l.iter().chain(&r).copied().collect()
    } else {
        m.process(&mut l);
        l.to_vec()
    }
}

#[test]
fn every_module_restores_bit_exactly_mono_and_stereo() {
    for stereo in [false, true] {
        for &kind in ModuleKind::ALL {
            let mut original = busy(kind, stereo);
            for i in 0..7 {
                run(&mut original, i, stereo);
            }
            let snapshot = original.state();
            let mut copy = kind.build_for(SR, BLOCK, stereo).unwrap();
            copy.restore(&snapshot).unwrap();
            // A sampler's sample is the bank's: the restorer hands it over again.
            copy.attach_samples(&bank());
            for i in 7..200 {
                if i == 50 {
                    // The same command reaches both after the snapshot.
                    for m in [&mut original, &mut copy] {
                        let _ = m.set_param(1, 0.3);
                        let _ = m.gate(false);
                    }
                }
                let (a, b) = (run(&mut original, i, stereo), run(&mut copy, i, stereo));
                let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{kind:?} (stereo {stereo}) diverged at block {i}");
            }
            // A state of another kind is refused.
            let other = ModuleKind::ALL.iter().find(|k| **k != kind).unwrap();
            assert!(copy
                .restore(&other.build(SR, BLOCK).unwrap().state())
                .is_err());
        }
    }
}

#[test]
fn a_whole_patch_restores_bit_exactly() {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    let (lfo, sine, filter) = (
        p.find("lfo").unwrap(),
        p.find("sine").unwrap(),
        p.find("filter").unwrap(),
    );
    p.modulate(lfo, sine, 0).unwrap();
    p.modulate(lfo, filter, 1).unwrap();
    p.set("sine", "glide_time", 80.0).unwrap();
    p.set("lfo", "freq", 3.3).unwrap();
    p.gate(p.find("adsr").unwrap(), true).unwrap();
    let mut out = [0.0f32; BLOCK];
    for i in 0..333 {
        if i == 300 {
            p.set("sine", "freq", 660.0).unwrap();
        }
        p.process(&mut out);
    }
    let state = p.state();
    let mut q = Patch::from_state(&state).unwrap();
    assert_eq!(q.state(), state);
    let (mut a, mut b) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for i in 0..2000 {
        if i == 1000 {
            for patch in [&mut p, &mut q] {
                patch.set("filter", "q", 4.0).unwrap();
                patch.gate(patch.find("adsr").unwrap(), false).unwrap();
            }
        }
        p.process(&mut a);
        q.process(&mut b);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "diverged at {i}"
        );
    }
    // Restoring into a patch of the same layout works too; into another layout it is refused.
    let mut same = Patch::default_patch(SR, BLOCK).unwrap();
    same.modulate(same.find("lfo").unwrap(), same.find("sine").unwrap(), 0)
        .unwrap();
    same.modulate(same.find("lfo").unwrap(), same.find("filter").unwrap(), 1)
        .unwrap();
    same.restore(&state).unwrap();
    let mut plain = Patch::default_patch(SR, BLOCK).unwrap();
    assert!(plain.restore(&state).is_err());
}

/// A dry delay or reverb holds stale lines (cleared when it turns wet again): its state leaves
/// them out (a snapshot of the default patch is then a few bytes, not seconds of audio), and a
/// module restored from it plays on bit-identically to the original once it is wet again,
/// although the original's lines still hold the old echoes.
#[cfg(feature = "effects")]
#[test]
fn a_dry_effect_leaves_its_stale_lines_out_and_restores_bit_exactly() {
    use chronus_dsp::ModuleState;
    for stereo in [false, true] {
        for kind in [ModuleKind::Delay, ModuleKind::Reverb] {
            let mut original = busy(kind, stereo);
            for i in 0..40 {
                run(&mut original, i, stereo);
            }
            let wet_lines = match original.state() {
                ModuleState::Delay(s) => s.line.len() + s.right.len(),
                ModuleState::Reverb(s) => s.lines.len() + s.right_lines.len(),
                other => panic!("{other:?}"),
            };
            assert!(wet_lines > 0, "{kind:?}: a wet effect's lines are kept");
            let mix = kind.param_id("mix").unwrap();
            original.set_param(mix, 0.0).unwrap();
            for i in 40..80 {
                run(&mut original, i, stereo); // the mix glides to 0: dry
            }
            let snapshot = original.state();
            let dry_lines = match &snapshot {
                ModuleState::Delay(s) => (s.idle, s.line.len() + s.right.len()),
                ModuleState::Reverb(s) => (s.idle, s.lines.len() + s.right_lines.len()),
                other => panic!("{other:?}"),
            };
            assert_eq!(dry_lines, (true, 0), "{kind:?} (stereo {stereo})");
            let mut copy = kind.build_for(SR, BLOCK, stereo).unwrap();
            copy.restore(&snapshot).unwrap();
            for i in 80..400 {
                if i == 100 {
                    for m in [&mut original, &mut copy] {
                        m.set_param(mix, 0.8).unwrap();
                    }
                }
                let (a, b) = (run(&mut original, i, stereo), run(&mut copy, i, stereo));
                let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{kind:?} (stereo {stereo}) diverged at block {i}");
            }
        }
    }
}
