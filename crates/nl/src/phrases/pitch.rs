//! Clauses about pitch and harmony: notes by name or frequency, intervals, glides, tuning, chords by name or mood.

use super::*;

/// Chords by mood. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, _scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "a mysterious chord" | "mysterious chord" | "something mysterious" => {
            // A3 C#4 E4, darker, in a room.
            o.chord(&[57, 61, 64]);
            let cut = o.ctx.cutoff * 0.7;
            o.cutoff(cut);
            o.reverb(0.3, 0.7);
            o.say("a mysterious chord: A3 C#4 E4, filter darker, reverb");
            return Ok(Some(true));
        }
        "a happy chord" | "happy chord" | "something happy" => {
            o.chord(&[60, 64, 67]);
            o.say("a happy chord: C4 major (C4 E4 G4)");
            return Ok(Some(true));
        }
        "a sad chord" | "sad chord" | "something sad" => {
            o.chord(&[57, 60, 64]);
            o.say("a sad chord: A3 minor (A3 C4 E4)");
            return Ok(Some(true));
        }
        "a dreamy chord" | "dreamy chord" | "something dreamy" => {
            o.chord(&[60, 64, 67, 71]);
            o.reverb(0.4, 0.85);
            o.say("a dreamy chord: C4 major 7th, big reverb");
            return Ok(Some(true));
        }
        _ => {}
    }
    Ok(None)
}

/// Tuning ("tune to 442"); `None`: not this kind of clause.
pub(super) fn tuning(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Tuning.
    if let Some(a) = number_after(c, "tune to ") {
        o.ctx.a4 = a.clamp(400.0, 480.0);
        let n = o.ctx.last_note.unwrap_or(69);
        o.note(n, false);
        o.say(format!("tuning: A4 = {} Hz", o.ctx.a4));
        return Ok(Some(true));
    }
    Ok(None)
}

/// Glide to a note; `None`: not this kind of clause.
pub(super) fn glide(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Glide.
    if let Some(rest) = c
        .strip_prefix("glide to ")
        .or_else(|| c.strip_prefix("slide to "))
    {
        if let Some(n) = parse_note(rest) {
            if o.ctx.glide == 0.0 {
                o.ctx.glide = 200.0;
                o.push(set("/mod/sine/glide_time", 200.0));
            }
            o.note(n, false);
            o.say(format!(
                "glide to {}: glide 200 ms, then the note",
                note_name(rest)
            ));
            return Ok(Some(true));
        }
    }
    Ok(None)
}

/// Intervals, notes, frequencies and chords by name; `None`: not this kind of clause.
pub(super) fn notes(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Intervals up and down.
    let (dir, rest) = if let Some(r) = c
        .strip_prefix("go up ")
        .or_else(|| c.strip_prefix("up "))
        .or_else(|| c.strip_prefix("raise it "))
    {
        (1, r)
    } else if let Some(r) = c
        .strip_prefix("go down ")
        .or_else(|| c.strip_prefix("down "))
        .or_else(|| c.strip_prefix("lower it "))
    {
        (-1, r)
    } else {
        (0, "")
    };
    if dir != 0 {
        if let Some(n) = interval(rest) {
            let base = o.ctx.last_note.unwrap_or(69);
            o.note(base + dir * n, false);
            o.say(format!(
                "{} {n} semitones",
                if dir > 0 { "up" } else { "down" }
            ));
            return Ok(Some(true));
        }
    }
    // Play a note, a frequency, or an interval above the last note.
    let raw = c.strip_prefix("play ").unwrap_or(c);
    if (c.starts_with("play ") || raw == "middle c") && raw.contains("middle c") {
        if let Some(n) = parse_note(raw) {
            o.note(n, true);
            o.say(format!("play {raw}: {:.2} Hz, gate on", o.ctx.note_freq(n)));
            return Ok(Some(true));
        }
    }
    let target = raw
        .strip_prefix("an ")
        .or_else(|| raw.strip_prefix("a "))
        .unwrap_or(raw);
    if let Some(hz) = target
        .strip_suffix(" hz")
        .or_else(|| target.strip_suffix("hz"))
        .and_then(|n| n.trim().parse::<f32>().ok())
        .filter(|v| v.is_finite())
    {
        o.ctx.last_note = None;
        o.freq(hz);
        o.push(gate(true));
        o.say(format!("play {} Hz", o.ctx.freq));
        return Ok(Some(true));
    }
    if let Some(rel) = target.strip_prefix("the ") {
        let steps = match rel {
            "third" => Some(4),
            "fourth" => Some(5),
            "fifth" => Some(7),
            "octave" => Some(12),
            _ => None,
        };
        if let Some(st) = steps {
            let base = o.ctx.last_note.unwrap_or(69);
            o.note(base + st, true);
            o.say(format!("the {rel}: {st} semitones above the last note"));
            return Ok(Some(true));
        }
    }
    if c.starts_with("play ") || c.split_whitespace().count() == 1 {
        if let Some(n) = parse_note(target) {
            o.note(n, true);
            o.say(format!(
                "play {}: {:.2} Hz, gate on",
                note_name(target),
                o.ctx.note_freq(n)
            ));
            return Ok(Some(true));
        }
    }
    // Chords: "C major chord", "play an Am7", "a G sus4 chord".
    if let Some(chord) = parse_chord(raw).or_else(|| parse_chord(target)) {
        o.chord(&chord.notes);
        let how = if o.ctx.notes {
            "notes"
        } else {
            "oscillators, gate on"
        };
        o.say(format!("{} chord: {} {how}", chord.name, chord.notes.len()));
        return Ok(Some(true));
    }
    Ok(None)
}
