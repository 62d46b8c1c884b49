//! Fuzzing on stable (see fuzz/harness.rs): the score parser, patch edits through the
//! validator, and scores through two renderers with a progress oracle. No input may panic; a
//! patch that took edits still renders finite audio; every render returns (within a deadline),
//! its samples are finite, and two renderers fed the same score stay bit-identical.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use chronus_dsp::{ModuleKind, Patch};
use chronus_engine::edit::{apply, validate};
use chronus_engine::{PatchEdit, Renderer, Score};
use std::time::Duration;

#[test]
fn fuzz_the_score_parser() {
    let layout = Patch::default_patch(48_000.0, 64).unwrap();
    harness::fuzz("score", 10.0, 4096, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        if let Ok(score) = Score::parse(&text) {
            let _ = score.duration();
            if let Ok(commands) = score.resolve(&layout) {
                assert!(commands.windows(2).all(|w| w[0].at <= w[1].at) || commands.len() < 2);
            }
        }
    });
}

/// Reads bytes as a program of patch edits: each op byte picks an edit, the next bytes its
/// names (from a small set, so edits meet each other) and kinds.
fn edits(bytes: &[u8]) -> Vec<PatchEdit> {
    const NAMES: [&str; 12] = [
        "sine",
        "adsr",
        "filter",
        "lfo",
        "x",
        "y",
        "out",
        "delay",
        "velocity",
        "key",
        "bass",
        "bass.filter",
    ];
    const CHAINS: [&str; 4] = [
        "osc > adsr > filter",
        "noise > adsr > pan",
        "osc > filter",
        "osc",
    ];
    const PARAMS: [&str; 4] = ["freq", "cutoff", "gain", "nope"];
    let mut it = bytes.iter().copied();
    let mut out = Vec::new();
    let name = |b: Option<u8>| NAMES[usize::from(b.unwrap_or(0)) % NAMES.len()].to_owned();
    while let Some(op) = it.next() {
        let e = match op % 9 {
            0 => PatchEdit::Create {
                name: name(it.next()),
                kind: ModuleKind::ALL[usize::from(it.next().unwrap_or(0)) % ModuleKind::ALL.len()],
            },
            1 => PatchEdit::Connect {
                from: name(it.next()),
                to: name(it.next()),
                level: f32::from(it.next().unwrap_or(0)) / 100.0,
            },
            2 => PatchEdit::Disconnect {
                from: name(it.next()),
                to: name(it.next()),
            },
            3 => PatchEdit::Remove {
                name: name(it.next()),
            },
            4 => PatchEdit::Modulate {
                from: name(it.next()),
                to: name(it.next()),
                param: PARAMS[usize::from(it.next().unwrap_or(0)) % PARAMS.len()].to_owned(),
                // -8..8, and past it now and then (refused).
                depth: (f32::from(it.next().unwrap_or(0)) - 128.0) / 15.0,
            },
            5 => PatchEdit::Unmodulate {
                from: name(it.next()),
                to: name(it.next()),
                param: PARAMS[usize::from(it.next().unwrap_or(0)) % PARAMS.len()].to_owned(),
            },
            6 => PatchEdit::Instrument {
                name: name(it.next()),
                chain: CHAINS[usize::from(it.next().unwrap_or(0)) % CHAINS.len()].to_owned(),
                to: it.next().map(|b| name(Some(b))),
            },
            7 => PatchEdit::RemoveInstrument {
                name: name(it.next()),
            },
            _ => PatchEdit::connection(&name(it.next()), "sine.freq", true),
        };
        out.push(e);
    }
    out
}

#[test]
fn fuzz_patch_edits_through_the_validator() {
    harness::fuzz("patch", 10.0, 256, |bytes| {
        let mut patch = Patch::default_patch(48_000.0, 64).unwrap();
        let program = edits(bytes);
        // Edits in small groups, as /patch/commit sends them: a refused group changes nothing.
        for group in program.chunks(3) {
            let before = patch.describe();
            match validate(&patch, group) {
                Ok(()) => apply(&mut patch, group).expect("validated edits apply"),
                Err(_) => assert_eq!(patch.describe(), before),
            }
        }
        let mut block = [0.0f32; 64];
        for _ in 0..4 {
            patch.process(&mut block);
        }
        assert!(block.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
    });
}

#[test]
fn fuzz_scores_through_two_renderers_that_must_progress() {
    let layout = Patch::default_patch(48_000.0, 64).unwrap();
    harness::fuzz_with_deadline("render", 10.0, 2048, Duration::from_secs(5), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let Ok(commands) = Score::parse(&text).and_then(|s| s.resolve(&layout)) else {
            return;
        };
        let mut a = Renderer::new(Patch::default_patch(48_000.0, 64).unwrap());
        let mut b = Renderer::new(Patch::default_patch(48_000.0, 64).unwrap());
        for c in commands {
            if a.schedule(c).is_err() {
                break;
            }
            b.schedule(c).expect("the same schedule has room in both");
        }
        let (mut x, mut y) = ([0.0f32; 64], [0.0f32; 64]);
        // Half a second: every seed's events fall inside it.
        for _ in 0..375 {
            a.render(&mut x);
            b.render(&mut y);
            assert!(x.iter().all(|s| s.is_finite()), "a sample is not finite");
            assert!(
                x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "two renderers diverged"
            );
        }
        assert_eq!(a.now(), 375 * 64);
    });
}
