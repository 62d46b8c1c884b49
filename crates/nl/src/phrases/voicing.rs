//! Clauses about how many notes sound at once: polyphony and mono (`/voices`).

use super::*;

/// The most voices `/voices` takes.
const MAX_VOICES: i32 = 128;

fn voices(o: &mut Out<'_>, count: i32, mono: bool) {
    let mode = if mono { "mono" } else { "poly" };
    o.push(msg(
        "/voices",
        vec![Value::Int(count), Value::Str(mode.into())],
    ));
}

/// "polyphonic", "mono", "8 voices"; `None`: not this kind of clause.
pub(super) fn exact(c: &str, _scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "polyphonic" | "poly" | "poly mode" | "polyphony" | "polyphonic mode" => {
            voices(o, 8, false);
            o.say("polyphonic: 8 voices, notes overlap");
            return Ok(Some(true));
        }
        "monophonic" | "mono" | "mono mode" | "monophonic mode" => {
            voices(o, 1, true);
            o.say("mono: one voice, legato (a new note glides from the held one)");
            return Ok(Some(true));
        }
        _ => {}
    }
    // "8 voices", "16 voice polyphony".
    let mut words = c.split_whitespace();
    if let (Some(n), Some("voices" | "voice")) = (words.next(), words.next()) {
        if let Ok(n) = n.parse::<i32>() {
            if (1..=MAX_VOICES).contains(&n) {
                voices(o, n, false);
                o.say(format!("{n} voices, polyphonic"));
                return Ok(Some(true));
            }
        }
    }
    Ok(None)
}
