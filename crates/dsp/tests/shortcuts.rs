//! Rendering's shortcuts (`Patch::set_shortcuts`: modules rendering in their first input's
//! slot, modules nobody hears only moving on) sound the same to the bit as every module
//! rendering every block in a slot of its own, and leave the same state, whatever the graph:
//! random patches, mono and stereo, with sends at levels, routes, the output taken anywhere,
//! envelopes at rest and gated, notes on the voices, and the graph, levels and gates changed
//! while it plays; effects gone dry (at rest: left out) and wet again.

use chronus_dsp::{ModuleKind, Patch, Source, VoiceMode};
use proptest::prelude::*;

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

/// A graph: its modules' kinds (indices into `ModuleKind::ALL`: a sampler with no sample
/// among them), audio connections (from, to, level: always from an earlier module to a later
/// one), modulation routes (from, to, parameter), what goes to the output.
#[derive(Debug, Clone)]
struct Graph {
    stereo: bool,
    kinds: Vec<usize>,
    wires: Vec<(usize, usize, u8)>,
    routes: Vec<(usize, usize, u8)>,
    outs: Vec<bool>,
    notes: Vec<u8>,
    /// Each envelope's gate at the start, and after the first change.
    gates: Vec<(bool, bool)>,
    /// While it plays: a wire's level changed (no new order), then a wire removed.
    relevel: (usize, u8),
    cut: usize,
}

fn graphs() -> impl Strategy<Value = Graph> {
    (3usize..10).prop_flat_map(|n| {
        (
            any::<bool>(),
            prop::collection::vec(0..ModuleKind::ALL.len(), n),
            prop::collection::vec((0..n, 0..n, 0u8..4), 0..3 * n),
            prop::collection::vec((0..n, 0..n, 0u8..8), 0..n),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(30u8..90, 0..6),
            prop::collection::vec(any::<(bool, bool)>(), n),
            (0..3 * n, 0u8..4),
            0..3 * n,
        )
            .prop_map(
                |(stereo, kinds, wires, routes, outs, notes, gates, relevel, cut)| Graph {
                    stereo,
                    kinds,
                    wires,
                    routes,
                    outs,
                    notes,
                    gates,
                    relevel,
                    cut,
                },
            )
    })
}

const LEVELS: [f32; 4] = [1.0, 0.5, 2.0, 0.0];

/// The graph built, with shortcuts or without; what could not be built (a source given an
/// input, a parameter a kind has not) is left out alike in both.
fn build(g: &Graph, shortcuts: bool) -> Patch {
    let mut p = Patch::with_stereo(SR, BLOCK, g.stereo).unwrap();
    p.set_shortcuts(shortcuts).unwrap();
    let all = ModuleKind::ALL;
    let ids: Vec<_> = g
        .kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| p.add(&format!("m{i}"), all[k]).unwrap())
        .collect();
    for &(a, b, level) in &g.wires {
        if a < b {
            let _ = p.connect_at(ids[a], ids[b], LEVELS[level as usize]);
        }
    }
    for &(a, b, param) in &g.routes {
        if a < b {
            let n = all[g.kinds[b]].params().len() as u8;
            let _ = p.route(Source::Module(ids[a]), ids[b], param % n, 0.5);
        }
    }
    for (i, &out) in g.outs.iter().enumerate() {
        p.connect_out(ids[i], out).unwrap();
    }
    for (i, &k) in g.kinds.iter().enumerate() {
        let name = format!("m{i}");
        // The effects wet, so they render; envelopes quick, so they reach their sustain.
        let _ = p.set(&name, "mix", 0.4);
        let _ = p.set(&name, "attack", 2.0);
        let _ = p.set(&name, "decay", 5.0);
        let _ = p.set(&name, "release", 20.0);
        match all[k] {
            ModuleKind::Adsr | ModuleKind::Env => p.gate(ids[i], g.gates[i].0).unwrap(),
            ModuleKind::Osc => drop(p.set(&name, "freq", 110.0 * (i + 1) as f32).unwrap()),
            _ => {}
        }
    }
    if p.set_voices(4, VoiceMode::Poly).is_ok() {
        for &note in &g.notes {
            let _ = p.note_on(note, 0.8);
        }
    }
    p
}

fn render(p: &mut Patch, blocks: usize, out: &mut Vec<u32>) {
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    for _ in 0..blocks {
        p.process_stereo(&mut l, &mut r);
        out.extend(l.iter().chain(&r).map(|x| x.to_bits()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_shortcuts_sound_as_every_module_in_a_slot_of_its_own(g in graphs()) {
        let mut heard = [Vec::new(), Vec::new()];
        let mut states = Vec::new();
        for (shortcuts, out) in [true, false].into_iter().zip(&mut heard) {
            let mut p = build(&g, shortcuts);
            render(&mut p, 20, out);
            let all = ModuleKind::ALL;
            let wires: Vec<_> = g.wires.iter().filter(|w| w.0 < w.1).collect();
            let ids: Vec<_> = (0..g.kinds.len()).map(|i| p.find(&format!("m{i}")).unwrap()).collect();
            if let Some(&&(a, b, _)) = wires.get(g.relevel.0 % wires.len().max(1)) {
                let _ = p.connect_at(ids[a], ids[b], LEVELS[g.relevel.1 as usize]);
            }
            for (i, &k) in g.kinds.iter().enumerate() {
                if matches!(all[k], ModuleKind::Adsr | ModuleKind::Env) {
                    p.gate(ids[i], g.gates[i].1).unwrap();
                }
            }
            render(&mut p, 10, out);
            if let Some(&&(a, b, _)) = wires.get(g.cut % wires.len().max(1)) {
                p.disconnect(ids[a], ids[b]).unwrap();
            }
            render(&mut p, 10, out);
            // The effects dry, long enough to come to rest (their mix glides 20 ms); the
            // tempo told; the effects wet again: rest and wake.
            let names: Vec<String> = (0..g.kinds.len()).map(|i| format!("m{i}")).collect();
            for name in &names {
                let _ = p.set(name, "mix", 0.0);
            }
            render(&mut p, 30, out);
            p.set_tempo(90.0);
            render(&mut p, 3, out);
            for name in &names {
                let _ = p.set(name, "mix", 0.3);
            }
            render(&mut p, 10, out);
            states.push(p.state());
        }
        prop_assert!(heard[0] == heard[1], "the shortcuts changed the sound");
        prop_assert!(states[0] == states[1], "the shortcuts changed the state");
    }
}

#[test]
fn a_chain_renders_in_one_slot_and_a_fan_out_keeps_its_own() {
    // The default patch's chain sounds the same either way (above); here, what sharing must
    // not do: a module read twice (by two inputs) keeps its slot, so its second reader still
    // hears it after the first has rendered in place.
    let mut heard = Vec::new();
    for shared in [true, false] {
        let mut p = Patch::new(SR, BLOCK).unwrap();
        p.set_shortcuts(shared).unwrap();
        let osc = p.add("osc", ModuleKind::Osc).unwrap();
        let lo = p.add("lo", ModuleKind::Filter).unwrap();
        let hi = p.add("hi", ModuleKind::Filter).unwrap();
        p.set("hi", "mode", 1.0).unwrap();
        p.connect(osc, lo).unwrap();
        p.connect(osc, hi).unwrap();
        p.connect_out(lo, true).unwrap();
        p.connect_out(hi, true).unwrap();
        let mut out = Vec::new();
        render(&mut p, 50, &mut out);
        heard.push(out);
    }
    assert!(heard[0].iter().any(|&x| x != 0), "it sounds");
    assert_eq!(heard[0], heard[1]);
}

#[test]
fn notes_on_the_default_patch_sound_the_same_with_its_template_at_rest_passed() {
    // The default patch playing notes: its own envelope at rest, so its oscillator only moves
    // on (and its filter hears silence). The same sound and state to the bit as rendering it
    // all; and the template gated later starts from where the reference's is.
    let mut heard = Vec::new();
    let mut states = Vec::new();
    for shortcuts in [true, false] {
        let mut p = Patch::default_patch(SR, BLOCK).unwrap();
        p.set_shortcuts(shortcuts).unwrap();
        p.set("lfo", "freq", 3.0).unwrap();
        let (lfo, sine) = (p.find("lfo").unwrap(), p.find("sine").unwrap());
        p.modulate(lfo, sine, 0).unwrap();
        let mut out = Vec::new();
        for (k, note) in [60u8, 64, 67].into_iter().enumerate() {
            p.note_on(note, 0.7).unwrap();
            render(&mut p, 40 + k, &mut out);
        }
        p.note_off(Some(64)).unwrap();
        render(&mut p, 30, &mut out);
        // Gated: through its attack and decay (110 ms) to its sustain.
        p.gate(p.find("adsr").unwrap(), true).unwrap();
        render(&mut p, 150, &mut out);
        states.push(p.state());
        heard.push(out);
    }
    assert!(heard[0].iter().any(|&x| x != 0), "it sounds");
    assert!(heard[0] == heard[1], "the shortcuts changed the sound");
    assert!(states[0] == states[1], "the shortcuts changed the state");
}
