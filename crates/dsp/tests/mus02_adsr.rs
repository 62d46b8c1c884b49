//! MUS-02: envelope segments land on their set times to the sample, and never click.

mod common;

use chronus_dsp::modules::adsr::{self, Adsr, Stage};
use chronus_dsp::Module;

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

fn samples(ms: f32) -> usize {
    (f64::from(ms) * SR / 1000.0).round() as usize
}

fn envelope(a: f32, d: f32, s: f32, r: f32) -> Adsr {
    let mut env = Adsr::new(SR);
    env.set_param(adsr::ATTACK, a).unwrap();
    env.set_param(adsr::DECAY, d).unwrap();
    env.set_param(adsr::SUSTAIN, s).unwrap();
    env.set_param(adsr::RELEASE, r).unwrap();
    env
}

/// Renders the envelope (input of ones) for `n` samples.
fn render(env: &mut Adsr, n: usize) -> Vec<f32> {
    let mut out = vec![1.0f32; n.div_ceil(BLOCK) * BLOCK];
    for c in out.chunks_mut(BLOCK) {
        env.process(c);
    }
    out.truncate(n);
    out
}

#[test]
fn mus02_segments_land_within_one_sample() {
    let settings: [(f32, f32, f32, f32); 6] = [
        (10.0, 100.0, 0.7, 200.0),
        (0.0, 0.0, 0.5, 0.0),
        (0.0, 50.0, 0.3, 10.0),
        (1.0, 1.0, 0.2, 1.0),
        (250.0, 333.3, 0.0, 777.7),
        (10_000.0, 10_000.0, 0.4, 10_000.0),
    ];
    for (a, d, s, r) in settings {
        let mut env = envelope(a, d, s, r);
        env.gate(true).unwrap();
        let (na, nd, nr) = (samples(a), samples(d), samples(r));
        let hold = (na + nd).div_ceil(BLOCK) * BLOCK + BLOCK;
        let on = render(&mut env, hold);
        // Attack: level 1.0 is first reached after `na` samples (index na-1).
        let reach_one = on.iter().position(|&x| x == 1.0).map_or(0, |i| i + 1);
        let attack_err = reach_one as i64 - na as i64;
        // Decay: the sustain level is first held after na + nd samples.
        let reach_sustain = on
            .iter()
            .enumerate()
            .position(|(i, &x)| i + 1 >= reach_one && x == s && on[i..].iter().all(|&y| y == s))
            .map_or(0, |i| i + 1);
        let decay_err = reach_sustain as i64 - (na + nd) as i64;
        assert_eq!(env.stage(), Stage::Sustain);
        env.gate(false).unwrap();
        let off = render(&mut env, nr + 2 * BLOCK);
        let reach_zero = off.iter().position(|&x| x == 0.0).map_or(0, |i| i + 1);
        let release_err = if s == 0.0 {
            0
        } else {
            reach_zero as i64 - nr as i64
        };
        println!(
            "MUS-02 A{a} D{d} S{s} R{r} ms: attack {attack_err:+} smp, decay {decay_err:+} smp, release {release_err:+} smp"
        );
        assert!(attack_err.abs() <= 1, "attack off by {attack_err}");
        assert!(decay_err.abs() <= 1, "decay off by {decay_err}");
        assert!(release_err.abs() <= 1, "release off by {release_err}");
        assert_eq!(env.stage(), Stage::Idle);
    }
}

#[test]
fn mus02_gate_off_mid_attack_releases_without_a_jump() {
    let mut env = envelope(100.0, 100.0, 0.7, 50.0);
    env.gate(true).unwrap();
    let on = render(&mut env, 64 * 37); // ~49 ms: mid-attack
    let level = *on.last().unwrap();
    assert!(level > 0.3 && level < 0.7, "mid-attack level {level}");
    env.gate(false).unwrap();
    let off = render(&mut env, samples(50.0) + 64);
    let step = level / samples(50.0) as f32;
    let first_jump = (level - off[0]).abs();
    let max_jump = off
        .windows(2)
        .map(|w| (w[0] - w[1]).abs())
        .fold(first_jump, f32::max);
    println!("MUS-02 gate-off mid-attack at {level:.4}: largest step {max_jump:.3e}, release step {step:.3e}");
    // One release step, plus the rounding of two f32 levels near `level`.
    let rounding = 2.0 * f32::EPSILON * level;
    assert!(
        max_jump <= step + rounding,
        "jump {max_jump} > release step {step}"
    );
    let zero_at = off.iter().position(|&x| x == 0.0).unwrap() + 1;
    assert!((zero_at as i64 - samples(50.0) as i64).abs() <= 1);
}

#[test]
fn retrigger_from_release_rises_from_the_current_level() {
    let mut env = envelope(20.0, 50.0, 0.5, 500.0);
    env.gate(true).unwrap();
    render(&mut env, samples(200.0));
    env.gate(false).unwrap();
    let rel = render(&mut env, samples(100.0));
    let level = *rel.last().unwrap();
    env.gate(true).unwrap();
    let again = render(&mut env, samples(40.0));
    let attack_step = 1.0 / samples(20.0) as f32;
    let jump = (again[0] - level).abs();
    assert!(
        jump <= attack_step + 2.0 * f32::EPSILON,
        "retrigger jumped {jump}"
    );
    assert!(again.contains(&1.0), "re-attack reaches the top");
}
