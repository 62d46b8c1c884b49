//! Note names, read and written in one place: `C4` = 60, `A4` = 69 (440 Hz), `F#3`, `Bb2`,
//! `C-1` = 0, `G9` = 127. Used by the sequencer's patterns, `/note/on C4`, plain language and
//! `chronus analyze`.

/// Names of the twelve pitch classes, as [`note_name`] writes them (sharps).
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Octaves a note name may have: -1 (`C-1` = MIDI 0) to 9 (`G9` = 127).
pub const OCTAVES: std::ops::RangeInclusive<i32> = -1..=9;

/// Semitones above C of a note letter, either case: `c` 0, `d` 2 … `b` 11.
pub fn pitch_class(letter: char) -> Option<i32> {
    Some(match letter.to_ascii_lowercase() {
        'c' => 0,
        'd' => 2,
        'e' => 4,
        'f' => 5,
        'g' => 7,
        'a' => 9,
        'b' => 11,
        _ => return None,
    })
}

/// Reads the accidentals at the start of `text` (`#`, `♯` up; `b`, `♭` down; up to two):
/// the semitones and what follows them.
pub fn accidentals(text: &str) -> (i32, &str) {
    let mut shift = 0;
    let mut rest = text;
    for _ in 0..2 {
        let mut chars = rest.chars();
        match chars.next() {
            Some('#' | '♯') => shift += 1,
            Some('b' | '♭') => shift -= 1,
            _ => break,
        }
        rest = chars.as_str();
    }
    (shift, rest)
}

/// Reads a note name into a MIDI number: a letter (either case), accidentals, an octave in
/// [`OCTAVES`]. Without an octave the note is in `default_octave`, or no note when that is
/// `None` (a pattern step, `/note/on`, must say its octave).
pub fn parse_note(text: &str, default_octave: Option<i32>) -> Option<u8> {
    let text = text.trim();
    let mut chars = text.chars();
    let base = pitch_class(chars.next()?)?;
    let (shift, octave) = accidentals(chars.as_str());
    let octave = if octave.is_empty() {
        default_octave?
    } else {
        octave.parse::<i32>().ok().filter(|o| OCTAVES.contains(o))?
    };
    u8::try_from((octave + 1) * 12 + base + shift)
        .ok()
        .filter(|m| *m <= 127)
}

/// The name of a MIDI note, with sharps: 60 is `C4`, 61 `C#4`, 0 `C-1`.
pub fn note_name(midi: u8) -> String {
    let class = PITCH_CLASSES[usize::from(midi % 12)];
    format!("{class}{}", i32::from(midi / 12) - 1)
}

/// The nearest note to a frequency and how far from it, in cents (-50..=50): 442 Hz is
/// (`A4`, +8). `None` outside MIDI's range or for a frequency that is no number.
pub fn nearest_note(hz: f64) -> Option<(u8, i32)> {
    let midi = 69.0 + 12.0 * (hz / 440.0).log2();
    let n = midi.round();
    if !(0.0..=127.0).contains(&n) {
        return None;
    }
    Some((n as u8, ((midi - n) * 100.0).round() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_musicians_write_them() {
        for (text, midi) in [
            ("C4", 60),
            ("A4", 69),
            ("F#3", 54),
            ("Bb2", 46),
            ("bb2", 46),
            ("C-1", 0),
            ("G9", 127),
            ("E♭4", 63),
            ("C##4", 62),
            (" D5 ", 74),
        ] {
            assert_eq!(parse_note(text, None), Some(midi), "{text}");
        }
        assert_eq!(parse_note("e", Some(4)), Some(64));
        for bad in [
            "",
            "H4",
            "C",
            "C10",
            "G#9",
            "Cb-1",
            "C3000000000",
            "C#x",
            "4",
        ] {
            assert_eq!(parse_note(bad, None), None, "{bad}");
        }
    }

    #[test]
    fn every_note_name_reads_back_as_its_note() {
        for midi in 0..=127u8 {
            assert_eq!(parse_note(&note_name(midi), None), Some(midi));
        }
        assert_eq!(note_name(61), "C#4");
    }

    #[test]
    fn the_nearest_note_of_a_frequency() {
        assert_eq!(nearest_note(440.0), Some((69, 0)));
        assert_eq!(nearest_note(442.0), Some((69, 8)));
        assert_eq!(nearest_note(261.63), Some((60, 0)));
        assert_eq!(nearest_note(0.0), None);
        assert_eq!(nearest_note(f64::NAN), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_note_or_not_without_panicking(t in "\\PC{0,12}") {
            if let Some(m) = parse_note(&t, Some(4)) {
                proptest::prop_assert!(m <= 127);
            }
        }
    }
}
