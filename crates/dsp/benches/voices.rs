//! Voice throughput: voice-seconds rendered per CPU-second for `sine > adsr > filter` at 48 kHz,
//! block 64, for 1, 16 and 256 voices, beside the same chain built with fundsp in the same run:
//! bare modules, whole default patches (one voice each), and notes on the patch's voice pool
//! (`/note/on`; 128 notes per patch at most), mono and stereo (the cost of stereo per voice:
//! target at most 1.3x mono), and notes whose envelopes move all along (a 60 s attack:
//! "rising", in lanes beside one by one; on the rows whose measurement lasts less than that).
//!
//! Run with `cargo bench -p chronus-dsp` (or `make bench`). Reference figures measured on this
//! kind of machine: the seed system (Python) 19 voice-s/CPU-s, fundsp ~3,300, scsynth ~5,500;
//! the target is ≥ 1.5× fundsp on every row.

use chronus_dsp::modules::{adsr::Adsr, filter::Filter, osc::Osc};
use chronus_dsp::{Module, Patch};
use cpu_time::ThreadTime;
use fundsp::prelude32::*;

const SR: f64 = 48_000.0;
const BLOCK: usize = 64;
/// Voice-seconds rendered per measurement (split over the voices).
const VOICE_SECONDS: f64 = 400.0;
const REPEATS: usize = 3;

/// One chronus voice: the three modules chained directly.
struct ChronusVoice {
    osc: Osc,
    adsr: Adsr,
    filter: Filter,
}

impl ChronusVoice {
    fn new(i: usize) -> Self {
        let mut osc = Osc::new(SR);
        osc.set_param(0, 220.0 + i as f32)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut adsr = Adsr::new(SR);
        adsr.gate(true).unwrap_or_else(|e| panic!("{e}"));
        ChronusVoice {
            osc,
            adsr,
            filter: Filter::new(SR),
        }
    }

    #[inline]
    fn process(&mut self, block: &mut [f32]) {
        self.osc.process(block);
        self.adsr.process(block);
        self.filter.process(block);
    }
}

/// Measures voice-seconds per CPU-second of `render_block` (which renders one block of every
/// voice), best of `REPEATS`.
fn measure(voices: usize, mut render_block: impl FnMut()) -> f64 {
    let blocks = (VOICE_SECONDS * SR / BLOCK as f64 / voices as f64).ceil() as usize;
    // Warm up (and get past the attack and decay).
    for _ in 0..Ord::min(blocks, 2000) / 4 + 10 {
        render_block();
    }
    let mut best = 0.0f64;
    for _ in 0..REPEATS {
        let start = ThreadTime::now();
        for _ in 0..blocks {
            render_block();
        }
        let cpu = start.elapsed().as_secs_f64();
        let rendered = (blocks * BLOCK * voices) as f64 / SR;
        best = best.max(rendered / cpu);
    }
    best
}

fn chronus_voices(n: usize) -> f64 {
    let mut voices: Vec<ChronusVoice> = (0..n).map(ChronusVoice::new).collect();
    let mut buf = [0.0f32; BLOCK];
    let mut sink = 0.0f32;
    let r = measure(n, || {
        for v in voices.iter_mut() {
            v.process(&mut buf);
            sink += buf[BLOCK - 1];
        }
    });
    std::hint::black_box(sink);
    r
}

/// Voice-seconds per CPU-second of `patches` sounding `n` voices in all (both sides of a
/// stereo patch).
fn measure_patches(n: usize, mut patches: Vec<Patch>) -> f64 {
    let (mut buf, mut right) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let mut sink = 0.0f32;
    let r = measure(n, || {
        for p in patches.iter_mut() {
            if p.is_stereo() {
                p.process_stereo(&mut buf, &mut right);
                sink += right[BLOCK - 1];
            } else {
                p.process(&mut buf);
            }
            sink += buf[BLOCK - 1];
        }
    });
    std::hint::black_box(sink);
    r
}

fn chronus_patches(n: usize) -> f64 {
    let patches: Vec<Patch> = (0..n)
        .map(|i| {
            let mut p = Patch::default_patch(SR, BLOCK).unwrap_or_else(|e| panic!("{e}"));
            p.set("sine", "freq", 220.0 + i as f32)
                .unwrap_or_else(|e| panic!("{e}"));
            let adsr = p.find("adsr").unwrap_or_else(|| panic!("adsr"));
            p.gate(adsr, true).unwrap_or_else(|e| panic!("{e}"));
            p
        })
        .collect();
    measure_patches(n, patches)
}

/// How the notes' envelopes are while measured.
#[derive(Clone, Copy, PartialEq)]
enum Envelopes {
    /// Holding their sustain level.
    Holding,
    /// Rising all along: an attack ([`RISING_MS`]) longer than the measurement.
    Rising,
}

/// The attack of the rising notes: the longest an envelope takes.
const RISING_MS: f32 = 60_000.0;

/// True when `voices` notes can rise all along the measurement: it renders [`VOICE_SECONDS`]
/// split over them [`REPEATS`] times, after at most 2,000 blocks of warm-up.
fn rises_all_along(voices: usize) -> bool {
    let warm_up = (2000 / 4 + 10) as f64 * BLOCK as f64 / SR;
    warm_up + REPEATS as f64 * VOICE_SECONDS / (voices as f64) < f64::from(RISING_MS) / 1000.0
}

/// Notes on the default patch's voice pool, mono or stereo (each note panned, spread across
/// the pool).
fn chronus_notes(n: usize, stereo: bool, lanes: bool, envelopes: Envelopes) -> f64 {
    let mut patches = Vec::new();
    let mut left = n;
    while left > 0 {
        let here = Ord::min(left, chronus_dsp::MAX_VOICES);
        let mut p = Patch::default_patch_for(SR, BLOCK, stereo).unwrap_or_else(|e| panic!("{e}"));
        p.set("pan", "spread", 1.0)
            .unwrap_or_else(|e| panic!("{e}"));
        p.set_voice_lanes(lanes);
        if envelopes == Envelopes::Rising {
            p.set("adsr", "attack", RISING_MS)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        p.set_voices(here, chronus_dsp::VoiceMode::Poly)
            .unwrap_or_else(|e| panic!("{e}"));
        // A key each (a key played again restarts its voice: it would not be another note).
        let first = if here <= 88 { 40 } else { 0 };
        for i in 0..here {
            p.note_on((first + i) as u8, 0.1)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let sounding = p.note_counts().1;
        assert_eq!(sounding, here, "every note its own voice");
        patches.push(p);
        left -= here;
    }
    measure_patches(n, patches)
}

fn fundsp_voices(n: usize) -> f64 {
    let mut voices: Vec<_> = (0..n)
        .map(|i| {
            let mut v = (sine_hz(220.0 + i as f32)
                * (constant(1.0) >> adsr_live(0.01, 0.1, 0.7, 0.2)))
                >> butterpass_hz(1000.0);
            v.set_sample_rate(SR);
            v
        })
        .collect();
    let mut buf = BufferArray::<U1>::new();
    let mut sink = 0.0f32;
    let r = measure(n, || {
        for v in voices.iter_mut() {
            v.process(BLOCK, &BufferRef::empty(), &mut buf.buffer_mut());
            sink += buf.at_f32(0, BLOCK - 1);
        }
    });
    std::hint::black_box(sink);
    r
}

/// Parameters set beside the shape: (index, value).
type Extra<'a> = &'a [(u8, f32)];

/// Oscillator-seconds per CPU-second of one `osc` of `shape` at `freq` (the sources' cost),
/// with `extra` parameters set (a sub, unison).
fn osc_alone(shape: f32, freq: f32, extra: &[(u8, f32)]) -> f64 {
    use chronus_dsp::modules::osc::{self, Osc};
    use chronus_dsp::Module;
    let mut o = Osc::new(SR);
    o.set_param(osc::FREQ, freq).unwrap();
    o.set_param(osc::SHAPE, shape).unwrap();
    o.set_param(osc::PW, 0.3).unwrap();
    for &(p, v) in extra {
        o.set_param(p, v).unwrap();
    }
    let mut buf = [0.0f32; BLOCK];
    let mut sink = 0.0f32;
    let r = measure(1, || {
        o.process(&mut buf);
        sink += buf[BLOCK - 1];
    });
    std::hint::black_box(sink);
    r
}

/// Seconds per CPU-second of a patch of one module to the output: a sine, or a sampler looping
/// a second of sound (a crossfade of 10 ms at the seam) at `pitch` semitones.
fn one_module_patch(sampler: Option<f32>) -> f64 {
    use chronus_dsp::ModuleKind;
    let mut p = Patch::new(SR, BLOCK).unwrap();
    let m = match sampler {
        Some(pitch) => {
            let data: Vec<f32> = (0..SR as usize)
                .map(|i| (i as f32 * 0.0577).sin() * 0.5)
                .collect();
            p.put_sample(chronus_dsp::sample::Sample::in_memory(2, 1, data, &[]).unwrap());
            let s = p.add("s", ModuleKind::Sampler).unwrap();
            p.set("s", "sample", 2.0).unwrap();
            p.set("s", "loop", 1.0).unwrap();
            p.set("s", "xfade", 10.0).unwrap();
            p.set("s", "pitch", pitch).unwrap();
            p.gate(s, true).unwrap();
            s
        }
        None => p.add("o", ModuleKind::Osc).unwrap(),
    };
    p.connect_out(m, true).unwrap();
    let mut buf = [0.0f32; BLOCK];
    let mut sink = 0.0f32;
    let r = measure(1, || {
        p.process(&mut buf);
        sink += buf[BLOCK - 1];
    });
    std::hint::black_box(sink);
    r
}

/// Oscillator-seconds per CPU-second of a sine at `freq` phase-modulated sample by sample (a
/// 110 Hz sine at index 2, as `/patch/connect osc2 sine.pm 2` drives it), or of a 7-copy saw
/// spread across both sides (`wide`).
fn osc_driven(freq: f32, wide: bool) -> f64 {
    use chronus_dsp::modules::osc::{self, Osc};
    use chronus_dsp::{AudioMod, Module};
    let mut o = Osc::new(SR);
    o.set_param(osc::FREQ, freq).unwrap();
    let mut modulator: Vec<f32> = (0..BLOCK)
        .map(|i| 2.0 * (std::f64::consts::TAU * 110.0 * i as f64 / SR).sin() as f32)
        .collect();
    if wide {
        o.set_param(osc::SHAPE, 3.0).unwrap();
        o.set_param(osc::UNISON, 7.0).unwrap();
        o.set_param(osc::SPREAD, 1.0).unwrap();
        modulator.clear();
    }
    let (mut buf, mut right) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let mut sink = 0.0f32;
    let r = measure(1, || {
        if wide {
            o.process_stereo(&mut buf, &mut right, false);
        } else {
            let audio = AudioMod::default().with(osc::PM, &modulator);
            o.process_audio(&mut buf, None, &audio);
        }
        sink += buf[BLOCK - 1] + right[BLOCK - 1];
    });
    std::hint::black_box(sink);
    r
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a quick check.
    let quick = !std::env::args().any(|a| a == "--bench");
    println!("voice throughput, sine > adsr > filter, {SR} Hz, block {BLOCK} (voice-seconds per CPU-second, best of {REPEATS})");
    // `cargo bench -p chronus-dsp -- notes`: the voice rows only.
    if !std::env::args().any(|a| a == "notes") {
        sources_alone();
    }
    println!();
    println!("reference: seed (Python) 19, fundsp ~3,300, scsynth ~5,500");
    println!(
        "targets (#24): notes at 256 voices >= 20,000 and >= 3.8x fundsp; patches >= 2x fundsp"
    );
    println!("notes: on the default patch's voice pool, voices in lanes where they can be (chronus_dsp::lanes); notes alone: every voice one by one (the same sound to the bit: the \"before\")");
    println!("stereo notes: the default patch in stereo (each note panned); target: a stereo voice costs at most 1.3x a mono one (mono/stereo cost <= 1.3)");
    println!("rising: notes whose envelopes move all along (a 60 s attack), in lanes where they can be and one by one (- : the row's measurement lasts longer than the attack)\n");
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "voices",
        "chronus",
        "patch",
        "notes",
        "alone",
        "stereo",
        "rising",
        "rising",
        "fundsp",
        "ratio",
        "patch",
        "notes",
        "lanes",
        "stereo"
    );
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "", "modules", "", "", "notes", "notes", "notes", "alone", "", "", "ratio", "ratio", "gain",
        "cost"
    );
    // `cargo bench -p chronus-dsp -- 256`: that row only.
    let asked: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let rows: &[usize] = if quick {
        &[1]
    } else if !asked.is_empty() {
        &asked
    } else {
        &[1, 16, 256]
    };
    for &n in rows {
        let ours = chronus_voices(n);
        let patch = chronus_patches(n);
        let notes = chronus_notes(n, false, true, Envelopes::Holding);
        let alone = chronus_notes(n, false, false, Envelopes::Holding);
        let stereo = chronus_notes(n, true, true, Envelopes::Holding);
        let (rising, rising_alone) = if rises_all_along(n) {
            (
                format!("{:.0}", chronus_notes(n, false, true, Envelopes::Rising)),
                format!("{:.0}", chronus_notes(n, false, false, Envelopes::Rising)),
            )
        } else {
            ("-".to_string(), "-".to_string())
        };
        let theirs = fundsp_voices(n);
        println!(
            "{n:>7} {ours:>10.0} {patch:>10.0} {notes:>10.0} {alone:>10.0} {stereo:>10.0} {rising:>10} {rising_alone:>10} {theirs:>10.0} {:>7.2}x {:>7.2}x {:>7.2}x {:>7.2}x {:>7.2}x",
            ours / theirs,
            patch / theirs,
            notes / theirs,
            notes / alone,
            notes / stereo
        );
    }
}

/// One oscillator (and noise) of each kind alone, beside the sine.
fn sources_alone() {
    // The sources alone: the band-limited jumps (minBLEP) beside the sine, at two pitches (the
    // cost of a jump is paid once a period: a higher note has more of them).
    println!(
        "one osc alone (oscillator-seconds per CPU-second; cost: the sine's rate / this one's)"
    );
    use chronus_dsp::modules::osc::{SUB, SYNC, UNISON};
    for freq in [220.0, 2_000.0] {
        let sine = osc_alone(0.0, freq, &[]);
        let sources: [(f32, Extra, &str); 9] = [
            (0.0, &[], "sine"),
            (1.0, &[], "triangle"),
            (2.0, &[], "square"),
            (3.0, &[], "saw"),
            (4.0, &[], "pulse"),
            (3.0, &[(SUB, 0.5)], "saw+sub"),
            (3.0, &[(UNISON, 3.0)], "saw x3"),
            (3.0, &[(UNISON, 7.0)], "saw x7"),
            (3.0, &[(SYNC, 7.0)], "saw sync"),
        ];
        for (shape, extra, name) in sources {
            let rate = osc_alone(shape, freq, extra);
            println!(
                "  {name:<9} {freq:>6.0} Hz {rate:>12.0}   cost {:>5.2}x the sine",
                sine / rate
            );
        }
        for (wide, name) in [(false, "sine pm"), (true, "saw x7 LR")] {
            let rate = osc_driven(freq, wide);
            println!(
                "  {name:<9} {freq:>6.0} Hz {rate:>12.0}   cost {:>5.2}x the sine",
                sine / rate
            );
        }
    }
    {
        // The sampler, in a patch of its own beside a sine in one (the patch's own cost is
        // in both).
        let sine = one_module_patch(None);
        for (pitch, name) in [
            (0.0, "sampler looped, at its root"),
            (7.0, "sampler looped, +7 st"),
        ] {
            let rate = one_module_patch(Some(pitch));
            println!(
                "  {name:<28} {rate:>8.0}   cost {:>5.2}x a sine (each in a patch)",
                sine / rate
            );
        }
    }
    {
        use chronus_dsp::modules::noise::Noise;
        use chronus_dsp::Module;
        for (color, name) in [(0.0, "white"), (1.0, "pink"), (2.0, "brown")] {
            let mut n = Noise::new(SR);
            n.set_param(0, color).unwrap();
            let mut buf = [0.0f32; BLOCK];
            let mut sink = 0.0f32;
            let rate = measure(1, || {
                n.process(&mut buf);
                sink += buf[BLOCK - 1];
            });
            std::hint::black_box(sink);
            let sine = osc_alone(0.0, 220.0, &[]);
            println!(
                "  noise {name:<5}           {rate:>12.0}   cost {:>5.2}x the sine",
                sine / rate
            );
        }
    }
}
