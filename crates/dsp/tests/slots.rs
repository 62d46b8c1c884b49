//! Modules rendering in their first input's slot (`Patch::set_shared_slots`) sound the same
//! to the bit as each in a slot of its own, whatever the graph: random patches, mono and
//! stereo, with sends at levels, routes, the output taken anywhere, notes on the voices, and
//! the graph and levels changed while it plays.

use chronus_dsp::{ModuleKind, Patch, Source, VoiceMode};
use proptest::prelude::*;

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;

fn kinds() -> Vec<ModuleKind> {
    let mut k = vec![
        ModuleKind::Osc,
        ModuleKind::Adsr,
        ModuleKind::Filter,
        ModuleKind::Lfo,
        ModuleKind::Pan,
        ModuleKind::Bus,
        ModuleKind::Noise,
        ModuleKind::Env,
    ];
    if cfg!(feature = "effects") {
        k.extend(["delay", "reverb"].map(|n| ModuleKind::parse(n).unwrap()));
    }
    k
}

/// A graph: its modules' kinds, audio connections (from, to, level: always from an earlier
/// module to a later one), modulation routes (from, to, parameter), what goes to the output.
#[derive(Debug, Clone)]
struct Graph {
    stereo: bool,
    kinds: Vec<usize>,
    wires: Vec<(usize, usize, u8)>,
    routes: Vec<(usize, usize, u8)>,
    outs: Vec<bool>,
    notes: Vec<u8>,
    /// While it plays: a wire's level changed (no new order), then a wire removed.
    relevel: (usize, u8),
    cut: usize,
}

fn graphs() -> impl Strategy<Value = Graph> {
    (3usize..10).prop_flat_map(|n| {
        (
            any::<bool>(),
            prop::collection::vec(0..kinds().len(), n),
            prop::collection::vec((0..n, 0..n, 0u8..4), 0..3 * n),
            prop::collection::vec((0..n, 0..n, 0u8..8), 0..n),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(30u8..90, 0..6),
            (0..3 * n, 0u8..4),
            0..3 * n,
        )
            .prop_map(
                |(stereo, kinds, wires, routes, outs, notes, relevel, cut)| Graph {
                    stereo,
                    kinds,
                    wires,
                    routes,
                    outs,
                    notes,
                    relevel,
                    cut,
                },
            )
    })
}

const LEVELS: [f32; 4] = [1.0, 0.5, 2.0, 0.0];

/// The graph built, slots shared or not; what could not be built (a source given an input,
/// a parameter a kind has not) is left out alike in both.
fn build(g: &Graph, shared: bool) -> Patch {
    let mut p = Patch::with_stereo(SR, BLOCK, g.stereo).unwrap();
    p.set_shared_slots(shared).unwrap();
    let all = kinds();
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
        match all[k] {
            ModuleKind::Adsr | ModuleKind::Env => p.gate(ids[i], true).unwrap(),
            ModuleKind::Osc => drop(p.set(&name, "freq", 110.0 * (i + 1) as f32).unwrap()),
            _ => {}
        }
        // The effects wet, so they render.
        let _ = p.set(&name, "mix", 0.4);
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
    fn shared_slots_sound_as_a_slot_each(g in graphs()) {
        let mut heard = [Vec::new(), Vec::new()];
        for (shared, out) in [true, false].into_iter().zip(&mut heard) {
            let mut p = build(&g, shared);
            render(&mut p, 20, out);
            let wires: Vec<_> = g.wires.iter().filter(|w| w.0 < w.1).collect();
            let ids: Vec<_> = (0..g.kinds.len()).map(|i| p.find(&format!("m{i}")).unwrap()).collect();
            if let Some(&&(a, b, _)) = wires.get(g.relevel.0 % wires.len().max(1)) {
                let _ = p.connect_at(ids[a], ids[b], LEVELS[g.relevel.1 as usize]);
            }
            render(&mut p, 10, out);
            if let Some(&&(a, b, _)) = wires.get(g.cut % wires.len().max(1)) {
                p.disconnect(ids[a], ids[b]).unwrap();
            }
            render(&mut p, 10, out);
        }
        prop_assert!(heard[0] == heard[1], "shared slots changed the sound");
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
        p.set_shared_slots(shared).unwrap();
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
