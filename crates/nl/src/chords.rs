//! Chord names: "C major chord", "Am7", "F#3 minor", "Bb dim chord", "G sus4".

/// Qualities by name, with their intervals above the root in semitones.
const QUALITIES: &[(&[&str], &str, &[i32])] = &[
    (&["", "major", "maj", "major triad"], "major", &[0, 4, 7]),
    (&["m", "min", "minor", "minor triad"], "minor", &[0, 3, 7]),
    (
        &["7", "dom7", "dominant 7", "dominant seventh", "seventh"],
        "dominant 7th",
        &[0, 4, 7, 10],
    ),
    (
        &["maj7", "major 7", "major seventh", "major 7th"],
        "major 7th",
        &[0, 4, 7, 11],
    ),
    (
        &["m7", "min7", "minor 7", "minor seventh", "minor 7th"],
        "minor 7th",
        &[0, 3, 7, 10],
    ),
    (&["dim", "diminished"], "diminished", &[0, 3, 6]),
    (
        &["dim7", "diminished 7", "diminished seventh"],
        "diminished 7th",
        &[0, 3, 6, 9],
    ),
    (&["aug", "augmented", "+"], "augmented", &[0, 4, 8]),
    (&["sus2", "suspended second"], "sus2", &[0, 2, 7]),
    (&["sus4", "sus", "suspended fourth"], "sus4", &[0, 5, 7]),
];

/// A chord: its notes (MIDI numbers, lowest first) and a name to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Chord {
    /// The notes, root first.
    pub notes: Vec<i32>,
    /// "C4 major", "A3 minor 7th".
    pub name: String,
}

/// Parses a chord name (lower or upper case). The root's octave defaults to 4. A bare root
/// ("c") is a note, not a chord: it takes a quality ("c major", "cm") or the word "chord".
pub fn parse_chord(text: &str) -> Option<Chord> {
    let t = text.trim().to_lowercase();
    let (t, said_chord) = match t.strip_suffix(" chord").or_else(|| t.strip_suffix("chord")) {
        Some(r) => (r.trim_end().to_owned(), true),
        None => (t, false),
    };
    let mut letters = t.chars();
    let letter = letters.next()?;
    let base = crate::notes::pitch_class(letter)?;
    let (acc, after) = chronus_dsp::pitch::accidentals(letters.as_str());
    let accidental = if acc < 0 { "b" } else { "#" }.repeat(acc.unsigned_abs() as usize);
    let mut chars = after.char_indices().peekable();
    let mut octave_text = String::new();
    while let Some(&(_, c)) = chars.peek() {
        if !c.is_ascii_digit() || !octave_text.is_empty() {
            break;
        }
        octave_text.push(c);
        chars.next();
    }
    let rest: String = chars.map(|(_, c)| c).collect();
    let mut quality = rest.trim();
    if quality.is_empty() && !said_chord {
        return None;
    }
    // "c7" alone is the note C7; "c7 chord" is C's dominant 7th (in octave 4).
    if quality.is_empty() && octave_text == "7" {
        quality = "7";
        octave_text.clear();
    }
    let (_, quality_name, intervals) = QUALITIES
        .iter()
        .find(|(names, _, _)| names.contains(&quality))?;
    let octave: i32 = if octave_text.is_empty() {
        4
    } else {
        octave_text
            .parse()
            .ok()
            .filter(|o| chronus_dsp::pitch::OCTAVES.contains(o))?
    };
    let root = (octave + 1) * 12 + base + acc;
    let notes: Vec<i32> = intervals.iter().map(|i| root + i).collect();
    if notes.iter().any(|n| !(0..=127).contains(n)) {
        return None;
    }
    let name = format!(
        "{}{accidental}{octave} {quality_name}",
        letter.to_ascii_uppercase()
    );
    Some(Chord { notes, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chord_names() {
        let c = |t: &str| parse_chord(t).map(|c| c.notes);
        assert_eq!(c("C major chord"), Some(vec![60, 64, 67]));
        assert_eq!(c("c major"), Some(vec![60, 64, 67]));
        assert_eq!(c("c chord"), Some(vec![60, 64, 67]));
        assert_eq!(c("Am7"), Some(vec![69, 72, 76, 79]));
        assert_eq!(c("a minor"), Some(vec![69, 72, 76]));
        assert_eq!(c("F#3 minor"), Some(vec![54, 57, 61]));
        assert_eq!(c("Bb dim chord"), Some(vec![70, 73, 76]));
        assert_eq!(c("g sus4"), Some(vec![67, 72, 74]));
        assert_eq!(c("C3 maj7"), Some(vec![48, 52, 55, 59]));
        assert_eq!(c("c"), None, "a note, not a chord");
        assert_eq!(c("c4"), None, "a note, not a chord");
        assert_eq!(c("c7"), None, "the note C7");
        assert_eq!(c("c7 chord"), Some(vec![60, 64, 67, 70]));
        assert_eq!(c("h major"), None);
        assert_eq!(c("c blue"), None);
        assert_eq!(c("chord"), None);
        assert_eq!(c(""), None);
    }
}
