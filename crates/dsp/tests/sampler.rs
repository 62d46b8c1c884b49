//! The `sampler` module: pitch by note and by semitones, start offset, reverse, slices, loops
//! without a seam, voices playing it pitched, and a state restored mid-note.

use chronus_dsp::sample::Sample;
use chronus_dsp::{ModuleKind, Patch, PatchState};

const SR: f64 = 48_000.0;

/// A patch of one sampler to the output, holding `data` (mono) in slot 2.
fn patch_with(data: &[f32]) -> Patch {
    let mut p = Patch::new(SR, 64).unwrap();
    let s = p.add("s", ModuleKind::Sampler).unwrap();
    p.connect_out(s, true).unwrap();
    p.put_sample(sample(data));
    p.set("s", "sample", 2.0).unwrap();
    p
}

fn sample(data: &[f32]) -> Sample {
    Sample::in_memory(2, 1, data.to_vec(), &[]).unwrap()
}

/// `n` samples of the patch.
fn render(p: &mut Patch, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    let mut block = [0.0f32; 64];
    while out.len() < n {
        p.process(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(n);
    out
}

/// A ramp whose every frame is its index / 10000 (small: under the limiter's knee).
fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 / 10_000.0).collect()
}

#[test]
fn at_its_root_it_plays_the_frames_as_they_are_an_octave_up_every_other() {
    let data = ramp(3_000);
    let mut p = patch_with(&data);
    let s = p.find("s").unwrap();
    assert_eq!(
        render(&mut p, 64),
        vec![0.0; 64],
        "silent until its gate opens"
    );
    p.gate(s, true).unwrap();
    let out = render(&mut p, 3_200);
    assert_eq!(&out[..3_000], &data[..]);
    assert!(
        out[3_000..].iter().all(|&x| x == 0.0),
        "and silent after its end"
    );
    // An octave up by its note (C5 over its root C4), then by `pitch` instead: every other frame.
    for (freq, pitch) in [
        (chronus_dsp::note_hz(72), 0.0),
        (chronus_dsp::note_hz(60), 12.0),
    ] {
        p.set("s", "freq", freq).unwrap();
        p.set("s", "pitch", pitch).unwrap();
        p.gate(s, true).unwrap();
        let out = render(&mut p, 1_000);
        for (k, &x) in out.iter().enumerate().take(1_000) {
            // The note's frequency is C5's to f32 rounding: the positions, to a few 1e-4 frames.
            assert!(
                (x - data[2 * k]).abs() < 1e-6,
                "{k}: {x} vs {}",
                data[2 * k]
            );
        }
    }
}

#[test]
fn a_start_offset_reverse_and_slices_choose_what_plays() {
    let data = ramp(4_000);
    let mut p = patch_with(&data);
    let s = p.find("s").unwrap();
    p.set("s", "start", 0.5).unwrap();
    p.gate(s, true).unwrap();
    assert_eq!(render(&mut p, 4)[..], data[2_000..2_004]);
    p.set("s", "start", 0.0).unwrap();
    p.set("s", "reverse", 1.0).unwrap();
    p.gate(s, true).unwrap();
    assert_eq!(
        render(&mut p, 3)[..],
        [data[3_999], data[3_998], data[3_997]]
    );
    // Four slices: the root plays slice 1 (`slice`), two semitones up slice 3, and it stops at
    // its slice's end.
    p.set("s", "reverse", 0.0).unwrap();
    p.set("s", "slices", 4.0).unwrap();
    p.set("s", "slice", 1.0).unwrap();
    p.gate(s, true).unwrap();
    let out = render(&mut p, 1_100);
    assert_eq!(&out[..1_000], &data[1_000..2_000]);
    assert!(out[1_000..].iter().all(|&x| x == 0.0));
    p.set("s", "freq", chronus_dsp::note_hz(62)).unwrap();
    p.gate(s, true).unwrap();
    assert_eq!(render(&mut p, 5)[..], data[3_000..3_005]);
}

/// The largest second difference of `x`: a jump shows as a spike over the signal's own
/// curvature.
fn worst_curvature(x: &[f32]) -> f32 {
    x.windows(3)
        .map(|w| (w[0] - 2.0 * w[1] + w[2]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn a_loop_plays_on_without_a_seam_with_its_crossfade_and_shows_one_without() {
    // 1 s of 220 Hz; a loop from 0.3 s to 0.71 s, which is no whole number of periods.
    let data: Vec<f32> = (0..48_000)
        .map(|i| (0.5 * (std::f64::consts::TAU * 220.0 * i as f64 / SR).sin()) as f32)
        .collect();
    let own = worst_curvature(&data);
    let mut p = patch_with(&data);
    let s = p.find("s").unwrap();
    p.set("s", "loop", 1.0).unwrap();
    p.set("s", "loop_start", 0.3).unwrap();
    p.set("s", "loop_end", 0.71).unwrap();
    p.set("s", "xfade", 20.0).unwrap();
    p.gate(s, true).unwrap();
    let out = render(&mut p, 3 * 48_000);
    assert!(
        out[2 * 48_000..].iter().any(|&x| x.abs() > 0.4),
        "it still plays after 2 s"
    );
    let with = worst_curvature(&out);
    p.set("s", "xfade", 0.0).unwrap();
    p.gate(s, true).unwrap();
    let without = worst_curvature(&render(&mut p, 3 * 48_000));
    println!("second difference: the sine's own {own:.5}, looped with a crossfade {with:.5}, without {without:.5}");
    assert!(with < 1.5 * own, "a seam: {with} vs {own}");
    assert!(without > 5.0 * own, "the test would see a seam: {without}");
}

#[test]
fn an_instrument_of_samplers_plays_notes_pitched_and_restores_mid_note() {
    let data: Vec<f32> = (0..96_000)
        .map(|i| (0.3 * (std::f64::consts::TAU * 220.0 * i as f64 / SR).sin()) as f32)
        .collect();
    let mut p = Patch::new(SR, 64).unwrap();
    let head = p.add_instrument("keys", "sampler > adsr", None).unwrap();
    p.put_sample(sample(&data));
    p.set("keys.sampler", "sample", 2.0).unwrap();
    p.note_on_in(Some(head), 72, 1.0).unwrap(); // an octave over C4: 440 Hz
    let out = render(&mut p, 24_000);
    let f = chronus_dsp::analysis::zero_crossing_frequency(&out[4_800..], SR).unwrap();
    println!("a 220 Hz sample played at C5 over its root C4: {f:.2} Hz");
    assert!((f - 440.0).abs() < 0.5, "{f}");
    // A snapshot mid-note, restored with the sample put back: the same next samples.
    let state: PatchState = p.state();
    let mut q = Patch::from_state(&state).unwrap();
    q.put_sample(sample(&data));
    assert_eq!(render(&mut p, 4_800), render(&mut q, 4_800));
}

#[test]
fn slices_at_onsets_start_on_each_hit() {
    // Four hits: a click, then a decaying buzz, at known frames.
    let hits = [2_000usize, 9_000, 15_000, 22_000];
    let mut data = vec![0.0f32; 30_000];
    for &h in &hits {
        for k in 0..4_000 {
            let decay = (-(k as f32) / 800.0).exp();
            data[h + k] = if k == 0 {
                0.8
            } else {
                0.5 * decay * ((k as f32) * 0.3).sin()
            };
        }
    }
    let onsets = chronus_dsp::sample::onset_frames(&data, 1, SR);
    assert_eq!(
        onsets,
        hits.map(|h| h as u32).to_vec(),
        "each hit's first frame"
    );
    let mut p = Patch::new(SR, 64).unwrap();
    let s = p.add("s", ModuleKind::Sampler).unwrap();
    p.connect_out(s, true).unwrap();
    p.put_sample(Sample::in_memory(2, 1, data.clone(), &onsets).unwrap());
    p.set("s", "sample", 2.0).unwrap();
    p.set("s", "cut", 1.0).unwrap();
    // Its root plays the first hit up to the second; two semitones up, the third hit.
    p.gate(s, true).unwrap();
    let out = render(&mut p, 7_100);
    assert_eq!(&out[..7_000], &data[2_000..9_000]);
    assert!(
        out[7_000..].iter().all(|&x| x == 0.0),
        "it stops at the next hit"
    );
    p.set("s", "freq", chronus_dsp::note_hz(62)).unwrap();
    p.gate(s, true).unwrap();
    assert_eq!(render(&mut p, 10)[..], data[15_000..15_010]);
}

/// A looped sample plays on for as long as its gate is open, at its root and transposed
/// (either way up or down), with or without a crossfade at the seam.
#[test]
fn a_loop_plays_on_at_any_pitch() {
    let data: Vec<f32> = (0..48_000)
        .map(|i| (i as f32 * 0.0577).sin() * 0.5)
        .collect();
    for pitch in [0.0, 7.0, -5.0, 12.0] {
        for xfade in [0.0, 10.0] {
            let mut p = patch_with(&data);
            p.set("s", "loop", 1.0).unwrap();
            p.set("s", "xfade", xfade).unwrap();
            p.set("s", "pitch", pitch).unwrap();
            let s = p.find("s").unwrap();
            p.gate(s, true).unwrap();
            let out = render(&mut p, 48_000 * 4);
            let tail = &out[out.len() - 4_800..];
            let peak = tail.iter().fold(0.0f32, |a, b| a.max(b.abs()));
            assert!(
                peak > 0.3,
                "pitch {pitch}, xfade {xfade}: silent after 4 s (peak {peak})"
            );
        }
    }
}

#[test]
fn a_one_shot_plays_to_its_end_and_goes_on_after_a_restore() {
    // An empty patch (nothing to the output) playing a one-shot of a ramp.
    let data = ramp(1_000);
    let mut p = Patch::new(SR, 64).unwrap();
    p.put_sample(sample(&data));
    assert_eq!(
        render(&mut p, 128),
        vec![0.0; 128],
        "silent before the shot"
    );
    p.play_sample(2, 1.0, 1.0).unwrap();
    let out = render(&mut p, 640);
    assert_eq!(&out[..500], &data[..500], "the shot from its first frame");
    // Restored mid-shot, in place and into a new patch: the same next samples.
    let state: PatchState = p.state();
    let mut q = Patch::from_state(&state).unwrap();
    q.put_sample(sample(&data));
    let mut r = Patch::new(SR, 64).unwrap();
    r.put_sample(sample(&data));
    render(&mut r, 64);
    r.restore(&state).unwrap();
    let next = render(&mut p, 640);
    assert_eq!(&next[..360], &data[640..], "the shot to its last frame");
    assert_eq!(next[360..], vec![0.0; 280], "and silence after it");
    assert_eq!(render(&mut q, 640), next);
    assert_eq!(render(&mut r, 640), next);
    assert_eq!(p.samples_playing(), 0);
}
