//! The renderer always progresses: whatever the commands and whenever they come, a render call
//! returns after rendering exactly its block, with finite samples, and two renderers fed the
//! same commands stay bit-identical (lockstep); a renderer restored from a state whose clock
//! jumped on (a restart from a checkpoint) does too. The swing toggle users met, then property
//! tests over random command sequences at random times. (tests/sequencer.rs has the exact
//! samples of the swing and checkpoint cases.)

use chronus_dsp::{ModuleId, Patch};
use chronus_engine::sequencer::{SeqAction, SeqTarget, ACCENT, HIT, NOTE, REST};
use chronus_engine::{Action, Command, Renderer};
use proptest::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// Runs `f` on its own thread and fails the test if it has not returned within `limit`: a
/// renderer that never returns from `render` is the bug these tests look for.
fn must_return<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("a render call did not return within {limit:?}: the renderer hangs")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the rendering thread panicked"),
    }
}

/// The default patch and the ids the commands below name.
struct Ids {
    sine: ModuleId,
    adsr: ModuleId,
    filter: ModuleId,
}

fn patch() -> (Patch, Ids) {
    let p = Patch::default_patch(SR, BLOCK).unwrap();
    let ids = Ids {
        sine: p.find("sine").unwrap(),
        adsr: p.find("adsr").unwrap(),
        filter: p.find("filter").unwrap(),
    };
    (p, ids)
}

/// A note pattern on track 0 (the oscillator's pitch and the envelope), started at `start`.
fn note_pattern(ids: &Ids, start: u64) -> Vec<Command> {
    let mut v = vec![
        Command::new(
            0,
            Action::Seq(SeqAction::Target {
                track: 0,
                target: SeqTarget::Note {
                    osc: ids.sine,
                    gate: ids.adsr,
                },
            }),
        ),
        Command::new(0, Action::Seq(SeqAction::Length { track: 0, len: 8 })),
    ];
    for (i, code) in [
        NOTE + 45,
        REST,
        NOTE + 52,
        HIT,
        NOTE + 57,
        REST,
        ACCENT,
        REST,
    ]
    .into_iter()
    .enumerate()
    {
        v.push(Command::new(
            0,
            Action::Seq(SeqAction::Step {
                track: 0,
                step: i as u8,
                code,
            }),
        ));
    }
    v.push(Command::new(start, Action::Seq(SeqAction::Run(true))));
    v
}

/// Renders `blocks` blocks and returns every sample.
fn render(r: &mut Renderer, blocks: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; blocks * BLOCK];
    for b in out.chunks_mut(BLOCK) {
        r.render(b);
    }
    out
}

/// Blocks (of `BLOCK`) in which the output is not silent.
fn sounding_blocks(out: &[f32]) -> usize {
    out.chunks(BLOCK)
        .filter(|b| b.iter().any(|&x| x.abs() > 1e-4))
        .count()
}

#[test]
fn toggling_swing_while_a_pattern_plays_never_hangs_and_the_pattern_goes_on() {
    let rendered = must_return(Duration::from_secs(60), || {
        let (p, ids) = patch();
        let mut r = Renderer::new(p);
        for c in note_pattern(&ids, 0) {
            r.schedule(c).unwrap();
        }
        // Swing between 0.5 and 0 every 0.1 s for two seconds, on and off the step grid: an odd
        // step that swing 0.5 put after the current block, moved before it by swing 0.
        for i in 0..20u64 {
            let swing = if i % 2 == 0 { 0.5 } else { 0.0 };
            let at = 4_800 * (i + 1) + 37 * i;
            r.schedule(Command::new(at, Action::Seq(SeqAction::Swing(swing))))
                .unwrap();
        }
        let out = render(&mut r, 4 * 48_000 / BLOCK);
        (out, r.now())
    });
    let (out, now) = rendered;
    assert_eq!(now, (4 * 48_000 / BLOCK * BLOCK) as u64);
    assert!(out.iter().all(|x| x.is_finite()));
    // The pattern still plays after the last toggle (at ~2 s): sound in the last two seconds.
    let tail = &out[2 * 48_000 + 4_800..];
    assert!(
        sounding_blocks(tail) > 100,
        "the pattern stopped after the swing toggles ({} sounding blocks)",
        sounding_blocks(tail)
    );
}

/// One random command: every kind, with values in and out of range.
fn any_action(sine: ModuleId, adsr: ModuleId, filter: ModuleId) -> impl Strategy<Value = Action> {
    let module = prop_oneof![Just(sine), Just(adsr), Just(filter), Just(ModuleId(999))];
    let target = prop_oneof![
        Just(SeqTarget::Off),
        Just(SeqTarget::Gate(adsr)),
        Just(SeqTarget::Note {
            osc: sine,
            gate: adsr
        }),
        Just(SeqTarget::Gate(ModuleId(999))),
    ];
    prop_oneof![
        (module.clone(), 0u8..6, -1e6f32..1e6).prop_map(|(module, param, value)| Action::Set {
            module,
            param,
            value
        }),
        (module, any::<bool>()).prop_map(|(module, on)| Action::Gate { module, on }),
        (0u8..=127, 0f32..1.0).prop_map(|(note, velocity)| Action::NoteOn {
            note,
            velocity,
            inst: None
        }),
        prop::option::of(0u8..=127).prop_map(|note| Action::NoteOff { note, inst: None }),
        (0u8..40, any::<bool>()).prop_map(|(count, mono)| Action::Voices {
            count,
            mono,
            inst: None
        }),
        (-10f32..400.0).prop_map(|b| Action::Seq(SeqAction::Bpm(b))),
        (-1f32..1.0).prop_map(|s| Action::Seq(SeqAction::Swing(s))),
        any::<bool>().prop_map(|on| Action::Seq(SeqAction::Run(on))),
        (0u8..5, 0u8..40, any::<u8>())
            .prop_map(|(track, step, code)| Action::Seq(SeqAction::Step { track, step, code })),
        (0u8..5, 0u8..40).prop_map(|(track, len)| Action::Seq(SeqAction::Length { track, len })),
        (0u8..5, target)
            .prop_map(|(track, target)| Action::Seq(SeqAction::Target { track, target })),
    ]
}

/// A program: commands at random samples within 40 blocks, each scheduled before the block it
/// is sent with (so some are late, as over OSC), and a block after which the state is restored
/// on a clock that jumped forward (as after a double fault).
fn program() -> impl Strategy<Value = (Vec<(u64, u64, Action)>, usize, u64)> {
    let (p, ids) = patch();
    drop(p);
    let cmd = (
        0u64..40,
        0u64..(40 * BLOCK as u64),
        any_action(ids.sine, ids.adsr, ids.filter),
    );
    (
        prop::collection::vec(cmd, 0..120),
        0usize..40,
        0u64..500_000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_render_returns_finite_and_two_renderers_agree(
        (cmds, restore_after, jump) in program()
    ) {
        let (outcome, len) = must_return(Duration::from_secs(60), move || {
            let mut a = Renderer::new(patch().0);
            let mut b = Renderer::new(patch().0);
            let mut restored: Option<Renderer> = None;
            let mut block = [[0.0f32; BLOCK]; 3];
            let mut outcome = Ok(());
            for n in 0..40u64 {
                for &(_, at, action) in cmds.iter().filter(|c| c.0 == n) {
                    let c = Command::new(at, action);
                    let _ = a.schedule(c);
                    let _ = b.schedule(c);
                    if let Some(r) = restored.as_mut() {
                        let _ = r.schedule(c);
                    }
                }
                let before = a.now();
                a.render(&mut block[0]);
                b.render(&mut block[1]);
                if a.now() != before + BLOCK as u64 {
                    outcome = Err(format!("block {n}: the clock moved {} samples", a.now() - before));
                    break;
                }
                if block[0].iter().any(|x| !x.is_finite()) {
                    outcome = Err(format!("block {n}: a sample that is not finite"));
                    break;
                }
                if block[0].iter().zip(&block[1]).any(|(x, y)| x.to_bits() != y.to_bits()) {
                    outcome = Err(format!("block {n}: two renderers diverged"));
                    break;
                }
                if let Some(r) = restored.as_mut() {
                    r.render(&mut block[2]);
                    if block[2].iter().any(|x| !x.is_finite()) {
                        outcome = Err(format!("block {n}: the restored renderer made a sample that is not finite"));
                        break;
                    }
                }
                if n as usize == restore_after {
                    let mut s = a.state();
                    s.now += jump;
                    restored = Some(Renderer::from_state(&s).expect("a state restores"));
                }
            }
            (outcome, cmds.len())
        });
        prop_assert!(outcome.is_ok(), "{} commands: {}", len, outcome.unwrap_err());
    }
}
