//! Phase and frequency modulation from another oscillator (`/patch/connect osc2 sine.pm`): the
//! sidebands of a sine carrier modulated by a sine lie at the carrier ± k times the modulator,
//! at the Bessel amplitudes J_k(β) of the index β (±0.5 dB), whether the route drives the
//! carrier's phase (`pm`, β the depth in radians) or its frequency (`fm`, β = depth · carrier /
//! modulator); in an instrument's voices too, each voice at its note.

use chronus_dsp::analysis::{amplitude_at, to_db};
use chronus_dsp::modules::{adsr, filter, osc};
use chronus_dsp::{DspError, ModuleKind, Patch, Source};

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;
/// The carrier's level: well under the output limiter's knee.
const LEVEL: f32 = 0.25;

/// J_k(x), the Bessel function of the first kind, by its power series (exact to 1e-12 for the
/// small indexes used here).
fn bessel_j(k: u32, x: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = (x / 2.0).powi(k as i32) / (1..=k).map(f64::from).product::<f64>();
    for m in 0..40u32 {
        sum += term;
        let m1 = f64::from(m + 1);
        term *= -(x / 2.0).powi(2) / (m1 * (m1 + f64::from(k)));
    }
    sum
}

/// A patch with a carrier `car` at `fc` to the output and a modulator `mod` at `fm` (level 1,
/// not heard), routed into the carrier's `param` at `depth`; one second of it.
fn render(fc: f32, fm: f32, param: u8, depth: f32) -> Vec<f32> {
    let mut p = Patch::new(SR, BLOCK).unwrap();
    let modulator = p.add("mod", ModuleKind::Osc).unwrap();
    let carrier = p.add("car", ModuleKind::Osc).unwrap();
    p.set_param(modulator, osc::FREQ, fm).unwrap();
    p.set_param(modulator, osc::GAIN, 1.0).unwrap();
    p.set_param(carrier, osc::FREQ, fc).unwrap();
    p.set_param(carrier, osc::GAIN, LEVEL).unwrap();
    p.connect_out(carrier, true).unwrap();
    p.route(Source::Module(modulator), carrier, param, depth)
        .unwrap();
    let mut out = vec![0.0f32; SR as usize];
    for chunk in out.chunks_mut(BLOCK) {
        p.process(chunk);
    }
    out
}

/// Each sideband's level against J_k(β), in dB off; fails past ±0.5 dB.
fn check_sidebands(out: &[f32], fc: f64, fm: f64, beta: f64, what: &str) {
    for k in 0..=4u32 {
        let expected = bessel_j(k, beta).abs();
        for f in [fc - f64::from(k) * fm, fc + f64::from(k) * fm] {
            let got = amplitude_at(out, f, SR) / f64::from(LEVEL);
            let off = to_db(got) - to_db(expected);
            println!(
                "{what}: {f:6.0} Hz J{k}({beta}) = {expected:.4}, measured {got:.4} ({off:+.2} dB)"
            );
            assert!(
                off.abs() <= 0.5,
                "{what}: the sideband at {f} Hz is {got:.4}, J{k}({beta}) is {expected:.4} ({off:+.2} dB)"
            );
        }
    }
}

#[test]
fn phase_modulation_by_a_sine_gives_the_bessel_sidebands() {
    for beta in [1.0, 2.0] {
        let out = render(1_000.0, 100.0, osc::PM, beta as f32);
        check_sidebands(&out, 1_000.0, 100.0, beta, "pm");
    }
}

#[test]
fn frequency_modulation_by_a_sine_gives_the_bessel_sidebands() {
    // Deviation = depth · carrier: depth 0.2 of 1 kHz is 200 Hz, β = 200 / 100 = 2.
    let out = render(1_000.0, 100.0, osc::FM, 0.2);
    check_sidebands(&out, 1_000.0, 100.0, 2.0, "fm");
}

#[test]
fn without_the_route_the_carrier_is_a_plain_sine_again() {
    // A route taken away leaves no phase offset behind: the carrier alone, no sidebands.
    let mut p = Patch::new(SR, BLOCK).unwrap();
    let modulator = p.add("mod", ModuleKind::Osc).unwrap();
    let carrier = p.add("car", ModuleKind::Osc).unwrap();
    p.set_param(modulator, osc::FREQ, 100.0).unwrap();
    p.set_param(carrier, osc::FREQ, 1_000.0).unwrap();
    p.set_param(carrier, osc::GAIN, LEVEL).unwrap();
    p.connect_out(carrier, true).unwrap();
    p.route(Source::Module(modulator), carrier, osc::PM, 2.0)
        .unwrap();
    let mut out = vec![0.0f32; SR as usize];
    for chunk in out[..4_800].chunks_mut(BLOCK) {
        p.process(chunk);
    }
    p.unroute(Source::Module(modulator), carrier, osc::PM)
        .unwrap();
    for chunk in out.chunks_mut(BLOCK) {
        p.process(chunk);
    }
    let carrier = amplitude_at(&out, 1_000.0, SR) / f64::from(LEVEL);
    let sideband = amplitude_at(&out, 1_100.0, SR) / f64::from(LEVEL);
    assert!((carrier - 1.0).abs() < 0.01, "carrier {carrier}");
    assert!(to_db(sideband) < -80.0, "a sideband is left: {sideband}");
}

#[test]
fn only_audio_sources_drive_pm_and_an_osc_modulates_nothing_else() {
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    let sine = p.find("sine").unwrap();
    let filter = p.find("filter").unwrap();
    let adsr = p.find("adsr").unwrap();
    let osc2 = p.add("osc2", ModuleKind::Osc).unwrap();
    // An osc into a control-rate parameter, an envelope or velocity into pm: refused.
    assert!(matches!(
        p.route(Source::Module(osc2), filter, filter::CUTOFF, 1.0),
        Err(DspError::NotAModulator { .. })
    ));
    assert!(matches!(
        p.route(Source::Module(adsr), sine, osc::PM, 1.0),
        Err(DspError::NotAnAudioSource { .. })
    ));
    assert!(matches!(
        p.route(Source::Velocity, sine, osc::FM, 1.0),
        Err(DspError::NotAnAudioSource { .. })
    ));
    // A modulator fed by its carrier is a cycle.
    p.route(Source::Module(osc2), sine, osc::PM, 1.0).unwrap();
    assert!(matches!(
        p.route(Source::Module(sine), osc2, osc::PM, 1.0),
        Err(DspError::Cycle { .. })
    ));
}

#[test]
fn an_instruments_voices_are_phase_modulated_each_at_its_note() {
    // The default instrument's head (`sine`) driven by a global 100 Hz sine at β 1.5: a note
    // at A4 (440 Hz) has its sidebands at 440 ± k·100.
    let mut p = Patch::default_patch(SR, BLOCK).unwrap();
    let sine = p.find("sine").unwrap();
    let adsr = p.find("adsr").unwrap();
    let filter = p.find("filter").unwrap();
    let modulator = p.add("mod", ModuleKind::Osc).unwrap();
    p.set_param(modulator, osc::FREQ, 100.0).unwrap();
    p.set_param(modulator, osc::GAIN, 1.0).unwrap();
    p.set_param(sine, osc::GAIN, 1.0).unwrap();
    p.set_param(filter, filter::CUTOFF, 20_000.0).unwrap();
    p.set_param(adsr, adsr::ATTACK, 1.0).unwrap();
    p.set_param(adsr, adsr::SUSTAIN, 1.0).unwrap();
    p.route(Source::Module(modulator), sine, osc::PM, 1.5)
        .unwrap();
    p.note_on(69, 1.0).unwrap();
    let mut out = vec![0.0f32; SR as usize + 4_800];
    for chunk in out.chunks_mut(BLOCK) {
        p.process(chunk);
    }
    let out = &out[4_800..];
    let level = f64::from(LEVEL);
    let carrier = amplitude_at(out, 440.0, SR);
    let first = amplitude_at(out, 540.0, SR);
    let ratio = to_db(first / carrier) - to_db(bessel_j(1, 1.5) / bessel_j(0, 1.5));
    println!("voice: J1/J0 off by {ratio:+.2} dB (carrier {carrier:.3}, level {level})");
    assert!(
        ratio.abs() <= 0.5,
        "J1/J0 at 440 Hz is off by {ratio:+.2} dB"
    );
}
