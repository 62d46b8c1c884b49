//! Note names: C4, F#3, Bb2, "middle C", "A above middle C".

/// Pitch-class names accepted, sharps and flats.
pub const NOTE_NAMES: [&str; 7] = ["c", "d", "e", "f", "g", "a", "b"];

/// Semitones above C of a note letter (lower case): `c` 0 … `b` 11.
pub(crate) fn pitch_class(letter: char) -> Option<i32> {
    Some(match letter {
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

/// Parses a note name into a MIDI number (C4 = 60, A4 = 69). The octave defaults to 4.
pub fn parse_note(text: &str) -> Option<i32> {
    let t = text.trim().to_lowercase();
    match t.as_str() {
        "middle c" => return Some(60),
        "a above middle c" => return Some(69),
        _ => {}
    }
    let mut chars = t.chars().peekable();
    let base = pitch_class(chars.next()?)?;
    let mut acc = 0;
    while let Some(&c) = chars.peek() {
        match c {
            '#' | '♯' => acc += 1,
            'b' | '♭' => acc -= 1,
            _ => break,
        }
        chars.next();
    }
    let rest: String = chars.collect();
    let octave: i32 = if rest.is_empty() {
        4
    } else {
        let o: i32 = rest.parse().ok()?;
        if !(-1..=9).contains(&o) {
            return None;
        }
        o
    };
    let midi = (octave + 1) * 12 + base + acc;
    (0..=127).contains(&midi).then_some(midi)
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
