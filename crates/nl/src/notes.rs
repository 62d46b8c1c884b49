//! Note names: C4, F#3, Bb2, "middle C", "A above middle C".

/// Pitch-class names accepted, sharps and flats.
pub const NOTE_NAMES: [&str; 7] = ["c", "d", "e", "f", "g", "a", "b"];

/// Semitones above C of a note letter: `c` 0 … `b` 11.
pub(crate) use chronus_dsp::pitch::pitch_class;

/// Parses a note name into a MIDI number (C4 = 60, A4 = 69) with the one note grammar of
/// chronus ([`chronus_dsp::pitch`]); the octave defaults to 4, and "middle C" is C4.
pub fn parse_note(text: &str) -> Option<i32> {
    let t = text.trim().to_lowercase();
    match t.as_str() {
        "middle c" => return Some(60),
        "a above middle c" => return Some(69),
        _ => {}
    }
    chronus_dsp::pitch::parse_note(&t, Some(4)).map(i32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_note("A4"), Some(69));
        assert_eq!(parse_note("C4"), Some(60));
        assert_eq!(parse_note("F#3"), Some(54));
        assert_eq!(parse_note("Bb2"), Some(46));
        assert_eq!(parse_note("e"), Some(64));
        assert_eq!(parse_note("a above middle c"), Some(69));
        assert_eq!(parse_note("H4"), None);
        assert_eq!(parse_note("C99"), None);
        assert_eq!(parse_note(""), None);
    }
}
