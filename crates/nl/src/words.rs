//! Words as people type them, brought to one spelling before any phrase is read: contractions
//! ("what's"), numbers in words ("a hundred and twenty"), notes spelled out ("E flat 4", "the A
//! above middle C", "a low E"), units ("hertz", "beats per minute", "%"), and the politeness
//! around a request ("can you …, please").

mod numbers;

pub(crate) use numbers::numbers;

/// Brings a whole phrase to one spelling (before it is split into clauses: "a hundred and
/// twenty" and "an octave and a fifth" are one thing each, not two clauses).
pub(crate) fn normalize(text: &str) -> String {
    let mut t = text.to_lowercase().replace(['’', '`'], "'");
    for (from, to) in [
        ("%", " percent"),
        ("?", " ? "),
        (",", " , "),
        (";", " ; "),
        ("!", " ! "),
        ("\"", " "),
        ("(", " "),
        (")", " "),
    ] {
        t = t.replace(from, to);
    }
    let mut tokens: Vec<String> = Vec::new();
    for word in t.split_whitespace() {
        // A full stop ends a sentence; a decimal point is part of a number.
        let (word, stop) = match word.strip_suffix('.') {
            Some(w) if !w.is_empty() => (w, true),
            _ => (word, false),
        };
        // Hyphenated number words ("twenty-five") are two words; other hyphens stay.
        if word.contains('-') && word.split('-').all(numbers::is_number_word) {
            tokens.extend(word.split('-').map(str::to_owned));
            if stop {
                tokens.push(".".to_owned());
            }
            continue;
        }
        match contraction(word) {
            Some(parts) => tokens.extend(parts.iter().map(|p| (*p).to_owned())),
            None => tokens.push(word.to_owned()),
        }
        if stop {
            tokens.push(".".to_owned());
        }
    }
    let tokens = numbers(&tokens);
    let tokens = units(&tokens);
    let tokens = notes(&tokens);
    let mut out = format!(" {} ", tokens.join(" "));
    for (from, to) in [
        // An interval of two parts is one interval: "an octave and a fifth".
        (" octave and a ", " octave a "),
        (" octaves and a ", " octaves a "),
        (" octave and an ", " octave an "),
        // Words that mean one thing together.
        (" high end ", " treble "),
        (" top end ", " treble "),
        (" get rid of ", " remove "),
        (" no more ", " no "),
        (" turn off ", " remove "),
        (" switch off ", " remove "),
        (" go back ", " undo "),
        (" shut up ", " stop "),
        (" be quiet ", " stop "),
        (" roll off ", " cut "),
        (" take that back ", " undo "),
        (" never mind ", " undo "),
    ] {
        out = out.replace(from, to);
    }
    out.trim().to_owned()
}

fn contraction(word: &str) -> Option<&'static [&'static str]> {
    Some(match word {
        "what's" | "whats" => &["what", "is"],
        "how's" => &["how", "is"],
        "it's" => &["it", "is"],
        "that's" => &["that", "is"],
        "let's" | "lets" => &["let", "us"],
        "i'd" => &["i", "would"],
        "i'm" => &["i", "am"],
        "don't" | "dont" => &["do", "not"],
        "can't" | "cant" => &["can", "not"],
        "isn't" => &["is", "not"],
        "you're" => &["you", "are"],
        "gimme" => &["give", "me"],
        "wanna" => &["want", "to"],
        _ => return None,
    })
}

/// Units to their short names: "hertz" → "hz", "beats per minute" → "bpm", "per cent" →
/// "percent"; a number glued to its unit ("440hz") stays as chronus always read it.
fn units(tokens: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let rest: Vec<&str> = tokens[i..].iter().take(3).map(String::as_str).collect();
        let (unit, used) = match rest.as_slice() {
            ["beats", "per", "minute", ..] | ["beats", "a", "minute", ..] => ("bpm", 3),
            ["cycles", "per", "second", ..] => ("hz", 3),
            ["per", "cent", ..] => ("percent", 2),
            ["hertz" | "herz" | "hertzes", ..] => ("hz", 1),
            ["pct", ..] => ("percent", 1),
            [w, ..] => {
                out.push((*w).to_owned());
                i += 1;
                continue;
            }
            [] => break,
        };
        out.push(unit.to_owned());
        i += used;
    }
    out
}

/// A single note letter (what "flat", "low", "above middle C" may follow).
fn letter(word: &str) -> Option<char> {
    let mut c = word.chars();
    let l = c.next().filter(|l| ('a'..='g').contains(l))?;
    c.next().is_none().then_some(l)
}

/// A note without its octave: a letter and its accidentals (`e`, `eb`, `f#`).
fn pitch_without_octave(word: &str) -> bool {
    let mut c = word.chars();
    c.next().is_some_and(|l| ('a'..='g').contains(&l))
        && matches!(c.as_str(), "" | "b" | "#" | "bb" | "##")
}

/// Notes spelled out, to the one note grammar: "e flat 4" → `eb4`, "f sharp" → `f#`, "middle
/// c" → `c4`, "the a above middle c" → `a4`, "the c below middle c" → `c3`, "a low e" → `a
/// e2`, "high c" → `c5`.
fn notes(tokens: &[String]) -> Vec<String> {
    // Accidentals spelled out, and an octave that follows them.
    let mut spelled: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].as_str();
        if let (Some(l), Some(acc)) = (letter(word), tokens.get(i + 1)) {
            let sign = match acc.as_str() {
                "flat" => Some("b"),
                "sharp" => Some("#"),
                "natural" => Some(""),
                _ => None,
            };
            if let Some(sign) = sign {
                let mut note = format!("{l}{sign}");
                i += 2;
                if let Some(oct) = tokens
                    .get(i)
                    .filter(|o| o.len() == 1 && o.chars().all(|c| c.is_ascii_digit()))
                {
                    note.push_str(oct);
                    i += 1;
                }
                spelled.push(note);
                continue;
            }
        }
        spelled.push(word.to_owned());
        i += 1;
    }
    // Notes placed by words.
    let mut out: Vec<String> = Vec::with_capacity(spelled.len());
    let mut i = 0;
    while i < spelled.len() {
        let w: Vec<&str> = spelled[i..].iter().take(5).map(String::as_str).collect();
        match w.as_slice() {
            ["middle", "c", ..] => {
                out.push("c4".into());
                i += 2;
            }
            ["the", n, way @ ("above" | "below"), "middle", "c", ..] if pitch_without_octave(n) => {
                out.push(placed(n, way));
                i += 5;
            }
            [n, way @ ("above" | "below"), "middle", "c", ..] if pitch_without_octave(n) => {
                out.push(placed(n, way));
                i += 4;
            }
            // "f 3": a note and its octave ("a 3" is too easily something else).
            [n, octave, ..]
                if pitch_without_octave(n)
                    && *n != "a"
                    && octave.len() == 1
                    && octave.chars().all(|c| ('0'..='8').contains(&c)) =>
            {
                out.push(format!("{n}{octave}"));
                i += 2;
            }
            [height @ ("low" | "high"), n, ..] if pitch_without_octave(n) => {
                let octave = if *height == "low" { 2 } else { 5 };
                out.push(format!("{n}{octave}"));
                i += 2;
            }
            [word, ..] => {
                out.push((*word).to_owned());
                i += 1;
            }
            [] => break,
        }
    }
    out
}

/// The note `n` (no octave) just above or below middle C.
fn placed(n: &str, way: &str) -> String {
    let is_c = n.starts_with('c') && !n.ends_with('b');
    let octave = match (way, is_c) {
        ("above", true) => 5,
        ("above", false) => 4,
        _ => 3,
    };
    format!("{n}{octave}")
}

/// Politeness and framing around a request, taken off its ends: "can you …", "… please".
pub(crate) fn strip_politeness(clause: &str) -> &str {
    const LEADING: &[&str] = &[
        "can you ",
        "could you ",
        "would you ",
        "will you ",
        "can we ",
        "could we ",
        "please ",
        "pls ",
        "just ",
        "now ",
        "ok ",
        "okay ",
        "hey ",
        "so ",
        "and ",
        "then ",
        "go ahead and ",
        "i would like to hear ",
        "i want to hear ",
        "i would like ",
        "i want ",
        "i need ",
        "let us have ",
        "let us ",
        "give me ",
        "try ",
        "maybe ",
        "kindly ",
    ];
    const TRAILING: &[&str] = &[
        " please",
        " pls",
        " now",
        " for me",
        " thanks",
        " thank you",
        " if you can",
        " ok",
        " ?",
    ];
    let mut c = clause.trim();
    loop {
        let before = c;
        for p in LEADING {
            c = c.strip_prefix(p).unwrap_or(c);
        }
        for s in TRAILING {
            c = c.strip_suffix(s).unwrap_or(c);
        }
        c = c.trim();
        if c == before {
            return c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for (text, want) in [
            ("play E flat 4", "play eb4"),
            ("F sharp", "f#"),
            ("play the A above middle C", "play a4"),
            ("the C above middle C", "c5"),
            ("the B below middle c", "b3"),
            ("play a low E", "play a e2"),
            ("high C", "c5"),
            ("play two hundred hertz", "play 200 hz"),
            ("a hundred and twenty beats per minute", "120 bpm"),
            ("what's the tempo?", "what is the tempo ?"),
            ("thirty-five %", "35 percent"),
            ("up an octave and a fifth", "up an octave a fifth"),
            ("more high end", "more treble"),
        ] {
            assert_eq!(normalize(text), want, "{text}");
        }
    }

    #[test]
    fn politeness() {
        assert_eq!(strip_politeness("can you just play c4 please"), "play c4");
        assert_eq!(strip_politeness("please"), "please");
    }
}
