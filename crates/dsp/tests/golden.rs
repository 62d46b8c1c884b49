//! A golden render: the default patch playing a short scripted phrase, summarised and
//! snapshotted. Any change to the sound of the seed chain shows up here.

mod common;

use chronus_dsp::{analysis, Patch};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// (block index, module, param, value); `gate` as param means a gate (value > 0 = on).
const PHRASE: &[(usize, &str, &str, f32)] = &[
    (0, "sine", "freq", 440.0),
    (0, "adsr", "gate", 1.0),
    (375, "sine", "glide_time", 120.0),
    (375, "sine", "freq", 660.0),
    (750, "filter", "cutoff", 2500.0),
    (750, "sine", "shape", 3.0),
    (1125, "adsr", "gate", 0.0),
    (1300, "sine", "freq", 330.0),
    (1300, "adsr", "gate", 1.0),
    (1700, "adsr", "gate", 0.0),
];

fn render() -> Vec<f32> {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    let mut out = vec![0.0f32; 2000 * BLOCK];
    for (i, block) in out.chunks_mut(BLOCK).enumerate() {
        for &(at, module, param, value) in PHRASE.iter().filter(|e| e.0 == i) {
            if param == "gate" {
                p.gate(p.find(module).unwrap(), value > 0.0).unwrap();
            } else {
                p.set(module, param, value).unwrap();
            }
            let _ = at;
        }
        p.process(block);
    }
    out
}

#[test]
fn golden_phrase() {
    let out = render();
    let summary = format!(
        "samples: {}\nrms: {:.6}\npeak: {:.6}\nrising zero crossings: {}\nhash: {}",
        out.len(),
        analysis::rms(&out),
        analysis::peak(&out),
        analysis::rising_crossings(&out).len(),
        common::hash(&out)
    );
    insta::assert_snapshot!(summary);
    assert_eq!(render(), out, "rendering is deterministic");
}
