//! Processing allocates nothing: the whole patch, with modulation, parameter changes and gates,
//! runs under an allocation trap.

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use std::sync::Mutex;

/// The violation counter is global: the two tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());
use chronus_dsp::{ModuleKind, Patch, Source, VoiceMode};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

#[test]
fn patch_processing_does_not_allocate() {
    exercise(false);
}

#[test]
fn stereo_patch_processing_does_not_allocate() {
    exercise(true);
}

/// The default patch (mono or stereo) through every path: modulation, parameters, gates,
/// notes, effects wet and dry; in stereo also a bus taking a send, pan moves and spread,
/// ping-pong, reverb width, and both outputs (two sides, and the downmix).
fn exercise(stereo: bool) {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut p = Patch::default_patch_for(48_000.0, 64, stereo).unwrap();
    let bus = p.add("verb", ModuleKind::Bus).unwrap();
    let pan = p.find("pan").unwrap();
    p.connect_at(p.find("filter").unwrap(), bus, 0.3).unwrap();
    p.connect_out(bus, true).unwrap();
    p.set("pan", "spread", 1.0).unwrap();
    let (lfo, sine, filter, adsr) = (
        p.find("lfo").unwrap(),
        p.find("sine").unwrap(),
        p.find("filter").unwrap(),
        p.find("adsr").unwrap(),
    );
    p.modulate(lfo, sine, 0).unwrap();
    p.modulate(lfo, filter, 1).unwrap();
    // A second instrument (its own voices, ending in a pan), modulated too.
    let bass = p
        .add_instrument("bass", "osc > adsr > filter > pan", None)
        .unwrap();
    p.set("bass.osc", "shape", 3.0).unwrap();
    p.set("bass.osc", "unison", 7.0).unwrap(); // a supersaw with a sub
    p.set("bass.osc", "sub", 0.5).unwrap();
    p.set("bass.osc", "noise", 0.2).unwrap(); // and a breath
    p.set("lfo", "sync", 0.25).unwrap(); // the lfo on the tempo
    p.modulate(lfo, p.find("bass.filter").unwrap(), 1).unwrap();
    // Each voice's own modulation: an envelope, velocity and key, at depths.
    let fenv = p.add("fenv", ModuleKind::Env).unwrap();
    p.route(Source::Module(fenv), filter, 1, 0.3).unwrap();
    p.route(Source::Key, filter, 1, 0.25).unwrap();
    p.route(Source::Velocity, p.find("bass.osc").unwrap(), 1, -0.2)
        .unwrap();
    p.route(
        Source::Module(fenv),
        p.find("bass.filter").unwrap(),
        1,
        -0.5,
    )
    .unwrap();
    // Audio-rate modulation: an oscillator driving the bass voices' phase and the sine's
    // frequency; hard sync on the sine; the LFO's voice copies restarted at each note.
    let op = p.add("op", ModuleKind::Osc).unwrap();
    p.set("op", "freq", 110.0).unwrap();
    p.route(Source::Module(op), p.find("bass.osc").unwrap(), 9, 1.5)
        .unwrap();
    p.route(Source::Module(op), sine, 10, 0.3).unwrap();
    p.set("sine", "sync", 7.0).unwrap();
    p.set("bass.osc", "spread", 0.8).unwrap(); // its seven copies across the field
    p.set("lfo", "retrig", 1.0).unwrap();
    // The effects wet, and a delay time that glides (the line reads between samples).
    #[cfg(feature = "effects")]
    {
        p.set("delay", "mix", 0.4).unwrap();
        p.set("reverb", "mix", 0.3).unwrap();
    }
    // Samples: a mono one and a stereo one (held here too, so that no handle is the last).
    use chronus_dsp::sample::Sample;
    let sample = |slot: u16, channels: u16, frames: usize| {
        let data: Vec<f32> = (0..frames * usize::from(channels))
            .map(|i| ((i % 101) as f32 / 101.0) - 0.5)
            .collect();
        Sample::in_memory(slot, channels, data, &[]).unwrap()
    };
    let kept = [sample(0, 1, 30_000), sample(5, 2, 20_000)];
    for s in &kept {
        p.put_sample(s.clone());
    }
    // An instrument of samplers, looping with a crossfade, pitched by its notes.
    let keys = p.add_instrument("keys", "sampler > adsr", None).unwrap();
    p.set("keys.sampler", "loop", 1.0).unwrap();
    p.set("keys.sampler", "loop_start", 0.2).unwrap();
    p.set("keys.sampler", "pitch", 0.5).unwrap();
    let (mut out, mut right) = ([0.0f32; 64], [0.0f32; 64]);
    reset_violation_count();
    assert_no_alloc(|| {
        for i in 0..2000u32 {
            match i % 500 {
                0 => p.gate(adsr, true).unwrap(),
                100 => {
                    p.set_param(sine, 0, 220.0 + i as f32).unwrap();
                    p.set_param(pan, 0, -0.7).unwrap();
                    p.set("verb", "gain", 0.5).unwrap();
                }
                200 => {
                    p.set_param(filter, 1, 3000.0).unwrap();
                    p.set("sine", "pw", 0.2 + (i / 500) as f32 * 0.2).unwrap(); // PWM
                }
                300 => {
                    // triangle, square, saw, pulse in turn: their band-limited jumps.
                    p.set_param(sine, 2, ((i / 500 + 1) % 5) as f32).unwrap();
                    p.set_param(pan, 0, 0.4).unwrap();
                    #[cfg(feature = "effects")]
                    {
                        p.set("delay", "time", 100.0 + i as f32).unwrap();
                        p.set("delay", "pingpong", (i / 500 % 2) as f32).unwrap();
                        p.set("reverb", "width", 0.5).unwrap();
                    }
                }
                350 => {
                    #[cfg(feature = "effects")]
                    if i == 850 {
                        // Dry, then wet again: the lines are cleared in place.
                        p.set("reverb", "mix", 0.0).unwrap();
                        p.set("delay", "mix", 0.0).unwrap();
                    } else {
                        p.set("reverb", "mix", 0.5).unwrap();
                        p.set("delay", "mix", 0.5).unwrap();
                    }
                }
                400 => p.gate(adsr, false).unwrap(),
                // Notes: a chord, stealing (more notes than voices), mono legato, all off.
                450 => {
                    for n in 0..12u8 {
                        p.note_on(48 + n * 3, 0.5).unwrap();
                    }
                    p.note_off(Some(51)).unwrap();
                    for n in 0..5u8 {
                        p.note_on_in(Some(bass), 36 + n, 0.5).unwrap();
                    }
                    p.note_off_in(Some(bass), Some(37)).unwrap();
                    // The pedal and the bend (MIDI's): notes let go under the pedal, a bend
                    // of sounding voices, the pedal lifted.
                    p.sustain_in(None, true).unwrap();
                    p.note_off(Some(54)).unwrap();
                    p.bend_in(None, (i % 7) as f32 - 3.0).unwrap();
                    p.bend_in(Some(bass), 1.5).unwrap();
                }
                460 => p.sustain_in(None, false).unwrap(),
                470 => {
                    p.set_tempo(100.0 + (i / 500) as f32); // the voices' tempo-synced LFOs
                    p.set_param(lfo, 6, (i / 500 % 2) as f32).unwrap(); // retrig on, off
                    let mode = if i < 1000 {
                        VoiceMode::Mono
                    } else {
                        VoiceMode::Poly
                    };
                    p.set_voices(4, mode).unwrap();
                    p.note_on(60, 1.0).unwrap();
                    p.note_on(67, 1.0).unwrap();
                    p.note_off(Some(67)).unwrap();
                }
                490 => {
                    p.note_off(None).unwrap();
                    p.set_voices_in(Some(bass), 2, VoiceMode::Poly).unwrap();
                    p.note_off_in(Some(bass), None).unwrap();
                }
                // One-shots: as recorded, slower and faster (interpolated), reversed, more
                // than the pool holds (the oldest replaced), and a slot with no sample.
                60 | 260 => {
                    for k in 0..40u16 {
                        let rate = [1.0, 0.5, -1.3, 2.2][usize::from(k % 4)];
                        p.play_sample(if k % 2 == 0 { 0 } else { 5 }, 0.3, rate)
                            .unwrap();
                    }
                    assert!(p.play_sample(9, 1.0, 1.0).is_err());
                    // The sampler's sample chosen (its handle taken from the bank), notes on it.
                    let slot = if i < 500 { 0.0 } else { 5.0 };
                    p.set("keys.sampler", "sample", slot).unwrap();
                    p.set("keys.sampler", "reverse", (i / 500 % 2) as f32)
                        .unwrap();
                    for n in 0..6u8 {
                        p.note_on_in(Some(keys), 50 + n * 5, 0.4).unwrap();
                    }
                    p.note_off_in(Some(keys), Some(55)).unwrap();
                }
                // Refusals are made without allocating too: a parameter index no module
                // has, a value that is no number.
                495 => {
                    for id in [sine, filter, adsr, lfo] {
                        assert!(p.set_param(id, 200, 1.0).is_err());
                        assert!(p.param(id, 200).is_err());
                        assert!(p.set_param(id, 0, f32::NAN).is_err());
                    }
                    // An instrument that is not there (a removed head).
                    assert!(p.note_on_in(Some(lfo), 60, 1.0).is_err());
                }
                _ => {}
            }
            if stereo && i % 2 == 0 {
                p.process_stereo(&mut out, &mut right);
            } else {
                p.process(&mut out);
            }
        }
    });
    assert_eq!(violation_count(), 0, "allocations while processing");
    assert!(out.iter().all(|x| x.is_finite()));
    drop(kept);
}

/// Notes in lanes (a plain sine, a holding envelope, a still filter: `chronus_dsp::lanes`),
/// with voices entering and leaving them (a filter sweep, a glide of the bend, releases), mono
/// and stereo, under the trap; the lanes were used. The default patch takes its rendering
/// shortcuts here too (`Patch::set_shortcuts`): its LFO, routed nowhere, only moves on; its own
/// oscillator, heard only by its envelope at rest, only moves on; its filter is given silence
/// at rest; its chain renders in one slot.
#[test]
fn voices_in_lanes_do_not_allocate() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for stereo in [false, true] {
        let mut p = Patch::default_patch_for(48_000.0, 64, stereo).unwrap();
        p.set_voices(32, VoiceMode::Poly).unwrap();
        let (mut out, mut right) = ([0.0f32; 64], [0.0f32; 64]);
        let mut most = 0;
        reset_violation_count();
        assert_no_alloc(|| {
            for i in 0..600u32 {
                match i {
                    0 | 300 => {
                        for n in 0..32u8 {
                            p.note_on(30 + n * 2, 0.3).unwrap();
                        }
                    }
                    100 => _ = p.set("filter", "cutoff", 600.0).unwrap(),
                    150 => p.bend_in(None, -1.0).unwrap(),
                    200 => p.note_off(None).unwrap(),
                    // A saw: the voices alone, mixed one after another (no partial mixes).
                    400 => _ = p.set("sine", "shape", 2.0).unwrap(),
                    450 => _ = p.set("sine", "shape", 0.0).unwrap(),
                    _ => {}
                }
                if stereo {
                    p.process_stereo(&mut out, &mut right);
                } else {
                    p.process(&mut out);
                }
                most = most.max(p.laned_voices());
            }
        });
        assert_eq!(violation_count(), 0, "allocations while processing");
        assert_eq!(most, 32, "every voice in a lane at some point");
        assert!(out.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn the_trap_catches_an_allocation() {
    // Proves the trap is armed: an allocation inside it is counted.
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    reset_violation_count();
    assert_no_alloc(|| {
        let v = vec![1u8; 16];
        std::hint::black_box(v);
    });
    assert!(violation_count() > 0);
}
