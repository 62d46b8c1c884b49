//! Stereo, measured on the audio: the pan law, ping-pong echoes to the sample, the reverb's
//! decorrelated tails, the voice pool's spread, sends to a bus, and the stereo default patch
//! against the mono one.

use chronus_dsp::analysis::{amplitude_at, rms, to_db};
use chronus_dsp::{ModuleKind, Patch};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// Renders `blocks` blocks of both sides.
fn render(p: &mut Patch, blocks: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for _ in 0..blocks {
        p.process_stereo(&mut l, &mut r);
        left.extend_from_slice(&l);
        right.extend_from_slice(&r);
    }
    (left, right)
}

/// `osc > pan > out` in a stereo patch, the pan at `pos`: the steady level of each side (dB).
fn panned_levels(pos: f32) -> (f64, f64) {
    let mut p = Patch::with_stereo(SR, BLOCK, true).unwrap();
    let osc = p.add("osc", ModuleKind::Osc).unwrap();
    let pan = p.add("pan", ModuleKind::Pan).unwrap();
    p.connect(osc, pan).unwrap();
    p.connect_out(pan, true).unwrap();
    p.set("osc", "freq", 1000.0).unwrap();
    p.set("pan", "pos", pos).unwrap();
    render(&mut p, 100); // past the 20 ms glide of pos
    let (l, r) = render(&mut p, 750); // one second
    (to_db(rms(&l)), to_db(rms(&r)))
}

#[test]
fn the_pan_law_is_equal_power_with_the_centre_at_minus_3_db() {
    let (hard, far) = panned_levels(-1.0);
    assert!(far < hard - 90.0, "far side at hard pan: {far:.1} dB");
    for pos in [-1.0f32, -0.5, 0.0, 0.5, 1.0] {
        let (l, r) = panned_levels(pos);
        let theta = (f64::from(pos) + 1.0) * std::f64::consts::FRAC_PI_4;
        let (want_l, want_r) = (to_db(theta.cos()), to_db(theta.sin()));
        println!(
            "pos {pos:+.1}: L {:+.3} dB, R {:+.3} dB",
            l - hard,
            r - hard
        );
        for (side, got, want) in [("left", l - hard, want_l), ("right", r - hard, want_r)] {
            if want > -90.0 {
                assert!(
                    (got - want).abs() < 0.05,
                    "{pos} {side}: {got:.3} dB, want {want:.3}"
                );
            } else {
                assert!(got < -90.0, "{pos} {side}: far side at {got:.1} dB");
            }
        }
    }
    let (l, r) = panned_levels(0.0);
    assert!((l - hard + 3.0103).abs() < 0.05 && (r - l).abs() < 1e-6);
}

#[test]
fn a_stereo_source_is_balanced_and_narrowed() {
    // A bus (two sides) carrying two sines, one per side, into a pan.
    let mut p = Patch::with_stereo(SR, BLOCK, true).unwrap();
    let (a, b) = (
        p.add("a", ModuleKind::Osc).unwrap(),
        p.add("b", ModuleKind::Osc).unwrap(),
    );
    let (pa, pb) = (
        p.add("pa", ModuleKind::Pan).unwrap(),
        p.add("pb", ModuleKind::Pan).unwrap(),
    );
    let bus = p.add("bus", ModuleKind::Bus).unwrap();
    let pan = p.add("pan", ModuleKind::Pan).unwrap();
    for (osc, place, pos, hz) in [(a, pa, -1.0, 500.0), (b, pb, 1.0, 700.0)] {
        p.connect(osc, place).unwrap();
        p.connect(place, bus).unwrap();
        p.set_param(osc, 0, hz).unwrap();
        p.set_param(place, 0, pos).unwrap();
    }
    p.connect(bus, pan).unwrap();
    p.connect_out(pan, true).unwrap();
    // Centred at full width: as it came (500 Hz only left, 700 Hz only right).
    render(&mut p, 100);
    let (l, r) = render(&mut p, 750);
    assert!((amplitude_at(&l, 500.0, SR) - 0.5).abs() < 1e-3);
    assert!(amplitude_at(&r, 500.0, SR) < 1e-4);
    assert!((amplitude_at(&r, 700.0, SR) - 0.5).abs() < 1e-3);
    // Width 0: each sine in both sides at half.
    p.set("pan", "width", 0.0).unwrap();
    render(&mut p, 100);
    let (l, r) = render(&mut p, 750);
    for side in [&l, &r] {
        assert!((amplitude_at(side, 500.0, SR) - 0.25).abs() < 1e-3);
        assert!((amplitude_at(side, 700.0, SR) - 0.25).abs() < 1e-3);
    }
    // Full width, balanced right: the right side as it was, the left faded.
    p.set("pan", "width", 1.0).unwrap();
    p.set("pan", "pos", 0.5).unwrap();
    render(&mut p, 100);
    let (l, r) = render(&mut p, 750);
    assert!((amplitude_at(&r, 700.0, SR) - 0.5).abs() < 1e-3);
    let want = 0.5 * (3.0 * std::f64::consts::FRAC_PI_8).cos() * std::f64::consts::SQRT_2;
    assert!((amplitude_at(&l, 500.0, SR) - want).abs() < 1e-3);
}

#[cfg(feature = "effects")]
#[test]
fn ping_pong_repeats_alternate_sides_exactly_on_the_delay_time() {
    let mut delay = ModuleKind::Delay.build_for(SR, BLOCK, true).unwrap();
    for (param, value) in [(0, 10.0), (1, 0.5), (2, 1.0), (4, 1.0)] {
        delay.set_param(param, value).unwrap();
    }
    delay.reset(); // at the settings now, no glide from the defaults
    let period = 480; // 10 ms at 48 kHz
    let n = 8 * period;
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    (l[0], r[0]) = (1.0, 1.0);
    for (cl, cr) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        delay.process_stereo(cl, cr, true);
    }
    for (k, (&a, &b)) in l.iter().zip(&r).enumerate() {
        let (want_l, want_r) = match (k % period, k / period) {
            (0, m) if m % 2 == 1 => (0.5f32.powi(m as i32 - 1), 0.0),
            (0, m) if m > 0 => (0.0, 0.5f32.powi(m as i32 - 1)),
            _ => (0.0, 0.0),
        };
        assert_eq!((a, b), (want_l, want_r), "sample {k}");
    }
}

#[cfg(feature = "effects")]
#[test]
fn the_stereo_reverb_tail_is_decorrelated_at_full_width() {
    use chronus_dsp::analysis::correlation;
    let tail = |width: f32| {
        let mut reverb = ModuleKind::Reverb.build_for(SR, BLOCK, true).unwrap();
        for (param, value) in [(0, 1.0), (1, 0.8), (3, width)] {
            reverb.set_param(param, value).unwrap();
        }
        reverb.reset();
        let n = (2.0 * SR) as usize;
        let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
        // A short burst of the same noise in both sides.
        let mut seed = 0x2545_f491u32;
        for k in 0..480 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let x = (seed as f32 / u32::MAX as f32) - 0.5;
            (l[k], r[k]) = (x, x);
        }
        for (cl, cr) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            reverb.process_stereo(cl, cr, true);
        }
        let from = (0.1 * SR) as usize;
        (
            correlation(&l[from..], &r[from..]).unwrap(),
            rms(&l[from..]),
        )
    };
    let (wide, level) = tail(1.0);
    let (narrow, _) = tail(0.0);
    println!("tail L/R correlation: {wide:.3} at width 1, {narrow:.3} at width 0");
    assert!(level > 1e-3, "the tail is there: {level}");
    assert!(wide.abs() < 0.3, "width 1: correlation {wide:.3}");
    assert!(narrow > 0.999, "width 0: correlation {narrow:.3}");
}

#[test]
fn the_voice_pool_spreads_notes_across_the_sides() {
    let mut p = Patch::default_patch_for(SR, BLOCK, true).unwrap();
    p.set("pan", "spread", 1.0).unwrap();
    p.set("filter", "cutoff", 20_000.0).unwrap();
    // Voice 0 at the centre, voice 1 at -0.25 (8 voices).
    p.note_on(69, 1.0).unwrap(); // 440 Hz
    p.note_on(76, 1.0).unwrap(); // 659.26 Hz
    render(&mut p, 200);
    let (l, r) = render(&mut p, 750);
    let centre = amplitude_at(&l, 440.0, SR) / amplitude_at(&r, 440.0, SR);
    let side = amplitude_at(&l, 659.255, SR) / amplitude_at(&r, 659.255, SR);
    let theta = (-0.25 + 1.0) * std::f64::consts::FRAC_PI_4;
    println!("L/R: centre note {centre:.4}, second note {side:.4}");
    assert!((centre - 1.0).abs() < 1e-3);
    assert!((side - theta.cos() / theta.sin()).abs() < 2e-3);
}

#[test]
fn a_send_reaches_a_bus_at_its_level() {
    let mut p = Patch::with_stereo(SR, BLOCK, true).unwrap();
    let osc = p.add("osc", ModuleKind::Osc).unwrap();
    let bus = p.add("verb", ModuleKind::Bus).unwrap();
    p.connect_at(osc, bus, 0.3).unwrap();
    p.connect_out(bus, true).unwrap();
    let (l, r) = render(&mut p, 750);
    assert!((amplitude_at(&l, 440.0, SR) - 0.15).abs() < 1e-3);
    assert_eq!(l, r, "a mono send reaches both sides alike");
    // A new level for the same connection, and the bus's gain.
    p.connect_at(osc, bus, 1.0).unwrap();
    p.set("verb", "gain", 0.5).unwrap();
    render(&mut p, 100);
    let (l, _) = render(&mut p, 750);
    assert!((amplitude_at(&l, 440.0, SR) - 0.25).abs() < 1e-3);
    assert!(p.connect_at(osc, bus, 2.5).is_err());
    assert!(p.connect_at(osc, bus, f32::NAN).is_err());
}

#[test]
fn the_stereo_default_patch_is_the_mono_one_at_minus_3_db_a_side() {
    let mut mono = Patch::default_patch(SR, BLOCK).unwrap();
    let mut stereo = Patch::default_patch_for(SR, BLOCK, true).unwrap();
    for p in [&mut mono, &mut stereo] {
        p.note_on(60, 0.8).unwrap();
        p.note_on(64, 0.8).unwrap();
    }
    let mut m = [0.0f32; BLOCK];
    for _ in 0..400 {
        mono.process(&mut m);
        let (l, r) = render(&mut stereo, 1);
        assert_eq!(l, r, "centred");
        for (a, b) in m.iter().zip(&l) {
            let want = a * std::f32::consts::FRAC_1_SQRT_2;
            assert!((want - b).abs() <= 1e-6, "{a} {b}");
        }
    }
}

/// An instrument `osc > adsr > pan` in a stereo patch, three sine copies 20 cents apart,
/// `spread` as given, playing A4: one second of each side, from 0.1 s on.
fn spread_note(spread: f32) -> (Vec<f32>, Vec<f32>) {
    let mut p = Patch::with_stereo(SR, BLOCK, true).unwrap();
    let head = p.add_instrument("wide", "osc > adsr > pan", None).unwrap();
    for (param, v) in [
        ("unison", 3.0),
        ("detune", 20.0),
        ("spread", spread),
        ("gain", 1.0),
    ] {
        p.set("wide.osc", param, v).unwrap();
    }
    p.set("wide.adsr", "sustain", 1.0).unwrap();
    p.note_on_in(Some(head), 69, 1.0).unwrap();
    let (l, r) = render(&mut p, (1.1 * SR) as usize / BLOCK);
    (l[4_800..52_800].to_vec(), r[4_800..52_800].to_vec())
}

#[test]
fn unison_spread_places_the_copies_across_the_field() {
    // At spread 1 the copy 20 cents up is hard right, the one 20 cents down hard left, the
    // note itself in the centre (-3.01 dB a side); at spread 0 both sides hear all three alike.
    let (up, down) = (
        440.0 * (20.0f64 / 1200.0).exp2(),
        440.0 * (-20.0f64 / 1200.0).exp2(),
    );
    let (l, r) = spread_note(1.0);
    let at = |x: &[f32], f: f64| amplitude_at(x, f, SR);
    let (l_up, l_down, l_mid) = (at(&l, up), at(&l, down), at(&l, 440.0));
    let (r_up, r_down, r_mid) = (at(&r, up), at(&r, down), at(&r, 440.0));
    println!(
        "spread 1: left up {:.1} dB down {:.1} dB centre {:.1} dB; right up {:.1} dB down \
         {:.1} dB centre {:.1} dB",
        to_db(l_up),
        to_db(l_down),
        to_db(l_mid),
        to_db(r_up),
        to_db(r_down),
        to_db(r_mid)
    );
    assert!(
        to_db(l_up / l_down) < -60.0,
        "the upper copy is not on the left"
    );
    assert!(
        to_db(r_down / r_up) < -60.0,
        "the lower copy is not on the right"
    );
    assert!((l_mid / r_mid - 1.0).abs() < 0.01, "the note in the centre");
    // Each copy at 1/√3; hard-panned copies at full level on their side, the centre one
    // at -3.01 dB.
    let copy = 1.0 / 3f64.sqrt();
    assert!((l_down / copy - 1.0).abs() < 0.02, "{l_down}");
    assert!(
        (l_mid / (copy * std::f64::consts::FRAC_1_SQRT_2) - 1.0).abs() < 0.02,
        "{l_mid}"
    );
    let (l, r) = spread_note(0.0);
    assert!(l == r, "spread 0: both sides alike");
}
