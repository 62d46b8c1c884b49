//! MIDI in: decoding (complete messages and raw streams with running status, sysex, stray
//! and truncated bytes), the mapper's defaults, maps, learn and channels, and the clock.

use chronus_midi::map::{MAX_MAPS, MOD_WHEEL_TARGET};
use chronus_midi::{
    decode, CcMap, ClockFollower, Control, Curve, Decoded, Mapper, MidiEvent, RawStream, Transport,
};
use proptest::prelude::*;

fn event(bytes: &[u8]) -> MidiEvent {
    match decode(bytes) {
        Decoded::Event(e) => e,
        Decoded::Malformed => panic!("{bytes:02x?} did not decode"),
    }
}

#[test]
fn complete_messages_decode_to_events() {
    assert_eq!(
        event(&[0x90, 60, 100]),
        MidiEvent::NoteOn {
            channel: 1,
            note: 60,
            velocity: 100
        }
    );
    // A note on at velocity 0 is a note off.
    assert_eq!(
        event(&[0x9F, 60, 0]),
        MidiEvent::NoteOff {
            channel: 16,
            note: 60
        }
    );
    assert_eq!(
        event(&[0x81, 61, 64]),
        MidiEvent::NoteOff {
            channel: 2,
            note: 61
        }
    );
    assert_eq!(
        event(&[0xB0, 64, 127]),
        MidiEvent::Control {
            channel: 1,
            cc: 64,
            value: 127
        }
    );
    assert_eq!(
        event(&[0xE0, 0x7F, 0x7F]),
        MidiEvent::PitchBend {
            channel: 1,
            value: 8191
        }
    );
    assert_eq!(
        event(&[0xE0, 0, 0]),
        MidiEvent::PitchBend {
            channel: 1,
            value: -8192
        }
    );
    assert_eq!(event(&[0xF8]), MidiEvent::Clock);
    assert_eq!(event(&[0xFA]), MidiEvent::Start);
    assert_eq!(event(&[0xFB]), MidiEvent::Continue);
    assert_eq!(event(&[0xFC]), MidiEvent::Stop);
    assert_eq!(event(&[0xC0, 5]), MidiEvent::Ignored);
    assert_eq!(event(&[0xF0, 1, 2, 3, 0xF7]), MidiEvent::Ignored);
    // Truncated, stray, empty: malformed, never a panic.
    for bad in [&[0x90, 60][..], &[60, 100], &[], &[0x90, 200, 1]] {
        assert_eq!(decode(bad), Decoded::Malformed, "{bad:02x?}");
    }
}

#[test]
fn a_raw_stream_reads_running_status_realtime_inside_sysex_and_stray_bytes() {
    let mut s = RawStream::new();
    let mut got = Vec::new();
    // Two stray data bytes; a note on, then two more by running status (the second at
    // velocity 0: a note off) with a clock tick in the middle of one; a long sysex; a
    // controller.
    let mut bytes = vec![5, 6, 0x90, 60, 100, 62, 0xF8, 90, 60, 0];
    bytes.push(0xF0);
    bytes.extend(std::iter::repeat_n(0x11, 10_000));
    bytes.push(0xF7);
    bytes.extend([0xB0, 1, 64]);
    // Fed in slices of every size, the events are the same.
    for size in [1, 2, 3, 7, bytes.len()] {
        got.clear();
        s = RawStream::new();
        for chunk in bytes.chunks(size) {
            s.feed(chunk, |e| got.push(e));
        }
        assert_eq!(s.stray_bytes(), 2, "slices of {size}");
        let wanted = [
            MidiEvent::NoteOn {
                channel: 1,
                note: 60,
                velocity: 100,
            },
            MidiEvent::Clock,
            MidiEvent::NoteOn {
                channel: 1,
                note: 62,
                velocity: 90,
            },
            MidiEvent::NoteOff {
                channel: 1,
                note: 60,
            },
            MidiEvent::Ignored,
            MidiEvent::Control {
                channel: 1,
                cc: 1,
                value: 64,
            },
        ];
        assert_eq!(got, wanted, "slices of {size}");
    }
    let _ = s;
}

proptest! {
    #[test]
    fn no_bytes_make_the_decoders_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), cut in 1usize..8) {
        let _ = decode(&bytes);
        let (mut whole, mut parts) = (Vec::new(), Vec::new());
        let mut a = RawStream::new();
        a.feed(&bytes, |e| whole.push(e));
        let mut b = RawStream::new();
        for c in bytes.chunks(cut) {
            b.feed(c, |e| parts.push(e));
        }
        prop_assert_eq!(whole, parts);
        prop_assert_eq!(a.stray_bytes(), b.stray_bytes());
    }
}

fn on(note: u8, velocity: u8, channel: u8) -> MidiEvent {
    MidiEvent::NoteOn {
        channel,
        note,
        velocity,
    }
}

fn cc(cc: u8, value: u8) -> MidiEvent {
    MidiEvent::Control {
        channel: 1,
        cc,
        value,
    }
}

#[test]
fn the_defaults_play_notes_pedal_bend_and_the_mod_wheel() {
    let mut m = Mapper::new();
    assert_eq!(
        m.translate(on(60, 127, 1)),
        Some(Control::NoteOn {
            note: 60,
            velocity: 1.0,
            instrument: None
        })
    );
    assert_eq!(
        m.translate(cc(64, 127)),
        Some(Control::Sustain {
            on: true,
            instrument: None
        })
    );
    assert_eq!(
        m.translate(cc(64, 63)),
        Some(Control::Sustain {
            on: false,
            instrument: None
        })
    );
    // The wheel's ends are ±2 semitones exactly, the middle 0.
    for (value, want) in [(8191, 2.0), (-8192, -2.0), (0, 0.0)] {
        assert_eq!(
            m.translate(MidiEvent::PitchBend { channel: 1, value }),
            Some(Control::Bend {
                semitones: want,
                instrument: None
            })
        );
    }
    match m.translate(cc(1, 127)) {
        Some(Control::Set { map, position }) => {
            assert_eq!((map.target.as_str(), position), (MOD_WHEEL_TARGET, 1.0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        m.translate(cc(123, 0)),
        Some(Control::AllNotesOff { instrument: None })
    );
    assert_eq!(
        m.translate(cc(120, 0)),
        Some(Control::AllNotesOff { instrument: None })
    );
    // An unmapped controller does nothing; nor does a program change.
    assert_eq!(m.translate(cc(74, 10)), None);
    assert_eq!(m.translate(MidiEvent::Ignored), None);
    assert_eq!(
        m.translate(MidiEvent::Start),
        Some(Control::Transport(Transport::Start))
    );
}

#[test]
fn maps_learn_channels_and_the_bend_range_are_kept_in_the_state() {
    let mut m = Mapper::new();
    let cutoff = CcMap::new("filter.cutoff", Some((200.0, 8000.0)), Curve::Exp).unwrap();
    m.map(74, cutoff.clone()).unwrap();
    match m.translate(cc(74, 127)) {
        Some(Control::Set { map, position }) => {
            assert_eq!(map, cutoff);
            assert!((map.value(position, (20.0, 20_000.0)) - 8000.0).abs() < 0.01);
            assert!((map.value(0.5, (20.0, 20_000.0)) - 1264.91).abs() < 0.1);
        }
        other => panic!("{other:?}"),
    }
    // Learn: the next controller moved is bound (not the pedal).
    let gain = CcMap::new("sine.gain", None, Curve::Lin).unwrap();
    m.learn(gain.clone());
    assert!(matches!(
        m.translate(cc(64, 127)),
        Some(Control::Sustain { .. })
    ));
    assert_eq!(
        m.translate(cc(20, 5)),
        Some(Control::Learned {
            cc: 20,
            map: gain.clone()
        })
    );
    assert!(m.learning().is_none());
    // A channel of its own instrument; a wider bend.
    m.set_channel(2, Some("bass")).unwrap();
    m.set_bend_range(12.0).unwrap();
    assert_eq!(
        m.translate(on(36, 64, 2)),
        Some(Control::NoteOn {
            note: 36,
            velocity: 64.0 / 127.0,
            instrument: Some("bass".into())
        })
    );
    let state = m.state().clone();
    let mut n = Mapper::new();
    n.restore(state.clone()).unwrap();
    assert_eq!(n.state(), &state);
    assert_eq!(
        n.translate(MidiEvent::PitchBend {
            channel: 2,
            value: 8191
        }),
        Some(Control::Bend {
            semitones: 12.0,
            instrument: Some("bass".into())
        })
    );
    // Unmapped: nothing.
    n.unmap(74).unwrap();
    assert_eq!(n.translate(cc(74, 1)), None);
}

#[test]
fn bad_settings_are_refused_with_what_to_do() {
    let mut m = Mapper::new();
    let e = CcMap::new("cutoff", None, Curve::Lin)
        .unwrap_err()
        .to_string();
    assert!(e.contains("module.param"), "{e}");
    let e = CcMap::new("filter.cutoff", Some((0.0, 100.0)), Curve::Exp)
        .unwrap_err()
        .to_string();
    assert!(e.contains("above 0"), "{e}");
    assert!(CcMap::new("filter.cutoff", Some((f32::NAN, 1.0)), Curve::Lin).is_err());
    assert!(Curve::parse("cubic")
        .unwrap_err()
        .to_string()
        .contains("lin or exp"));
    let ok = CcMap::new("sine.gain", None, Curve::Lin).unwrap();
    assert!(m
        .map(128, ok.clone())
        .unwrap_err()
        .to_string()
        .contains("0..127"));
    assert!(m.map(-1, ok.clone()).is_err());
    assert!(m
        .set_channel(17, None)
        .unwrap_err()
        .to_string()
        .contains("1..16"));
    assert!(m.set_bend_range(49.0).is_err());
    assert!(m.unmap(9).unwrap_err().to_string().contains("not mapped"));
    // The limit on maps.
    for c in 0..=127 {
        let _ = m.map(c, ok.clone());
    }
    assert_eq!(m.state().maps.len(), MAX_MAPS);
}

#[test]
fn the_clock_gives_the_tempo_and_does_not_wobble_with_jitter() {
    let sr = 48_000.0;
    let mut c = ClockFollower::new(sr);
    // 120 BPM: a tick every 1,000 samples, each off by up to ±48 samples (1 ms) of jitter.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut reported = Vec::new();
    for k in 0..24 * 16u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let jitter = (seed % 97) as i64 - 48;
        if let Some(bpm) = c.tick(100_000 + k * 1000 + (jitter + 48) as u64) {
            reported.push(bpm);
        }
    }
    println!("tempo reports: {reported:?}");
    assert!(!reported.is_empty());
    for bpm in &reported {
        assert!((bpm - 120.0).abs() <= 0.5, "{bpm}");
    }
    assert!(reported.len() <= 4, "the tempo wobbled: {reported:?}");
    // A stopped clock starts over; a new tempo is found.
    let mut at = 10_000_000u64;
    let mut last = None;
    for _ in 0..60 {
        at += 1250; // 96 BPM
        last = c.tick(at).or(last);
    }
    assert_eq!(last, Some(96.0));
}
