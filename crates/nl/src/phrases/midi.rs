//! Clauses about MIDI: what a controller moves ("map the mod wheel to the filter", "map cc 74
//! to the cutoff", "learn the filter"), and how far the pitch wheel bends ("bend range 12").

use super::*;

/// A parameter a controller moves: `module.param`, the range it sweeps (`None`: the whole
/// range) and the curve.
type Target = (&'static str, Option<(f32, f32)>, &'static str);

/// The parameter a clause names, with the range and curve a controller sweeps it over.
fn target(words: &str) -> Option<Target> {
    let w = words
        .trim()
        .trim_start_matches("the ")
        .trim_end_matches(" please")
        .trim();
    Some(match w {
        "filter" | "cutoff" | "filter cutoff" | "brightness" | "tone" => {
            ("filter.cutoff", Some((200.0, 8000.0)), "exp")
        }
        "resonance" | "filter resonance" | "q" => ("filter.q", None, "lin"),
        "vibrato" | "lfo" | "lfo depth" | "modulation" => ("lfo.depth", None, "lin"),
        "vibrato speed" | "vibrato rate" | "lfo rate" => ("lfo.rate", Some((0.5, 12.0)), "exp"),
        "volume" | "level" | "gain" => ("sine.gain", None, "lin"),
        "reverb" | "reverb mix" => ("reverb.mix", None, "lin"),
        "echo" | "delay" | "delay mix" | "echo mix" => ("delay.mix", None, "lin"),
        "pan" | "panning" => ("pan.pos", None, "lin"),
        _ => return None,
    })
}

/// The controller a clause names: the mod wheel, or a number.
fn controller(words: &str) -> Option<i32> {
    let w = words.trim().trim_start_matches("the ").trim();
    match w {
        "mod wheel" | "modwheel" | "modulation wheel" | "wheel" => Some(1),
        "expression pedal" | "expression" => Some(11),
        "breath" | "breath controller" => Some(2),
        _ => {
            let n = w
                .trim_start_matches("controller ")
                .trim_start_matches("cc ")
                .trim_start_matches("cc")
                .trim_start_matches("knob ")
                .trim();
            n.parse::<i32>().ok().filter(|c| (0..=127).contains(c))
        }
    }
}

fn map_args(cc: Option<i32>, t: Target) -> Vec<Value> {
    let mut args: Vec<Value> = cc.into_iter().map(Value::Int).collect();
    args.push(Value::Str(t.0.into()));
    if let Some((lo, hi)) = t.1 {
        args.push(Value::Float(lo));
        args.push(Value::Float(hi));
        args.push(Value::Str(t.2.into()));
    }
    args
}

/// "map the mod wheel to the filter", "mod wheel controls vibrato", "map cc 74 to the cutoff",
/// "learn the filter" / "midi learn the cutoff", "bend range 12" / "pitch bend range 7".
pub(super) fn mapping(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    let c = c.trim_start_matches("midi ").trim();
    for (lead, sep) in [
        ("map ", " to "),
        ("assign ", " to "),
        ("", " controls "),
        ("", " to "),
    ] {
        let Some(rest) = c.strip_prefix(lead) else {
            continue;
        };
        let Some((from, to)) = rest.split_once(sep) else {
            continue;
        };
        if lead.is_empty()
            && !from.contains("wheel")
            && !from.starts_with("cc")
            && !from.contains("controller")
        {
            continue;
        }
        let (Some(cc), Some(t)) = (controller(from), target(to)) else {
            continue;
        };
        o.push(msg("/midi/map", map_args(Some(cc), t)));
        o.say(format!("MIDI: controller {cc} now moves {}", t.0));
        return Ok(Some(true));
    }
    if let Some(rest) = c.strip_prefix("learn ") {
        if let Some(t) = target(rest) {
            o.push(msg("/midi/learn", map_args(None, t)));
            o.say(format!(
                "MIDI learn: move a controller to bind it to {}",
                t.0
            ));
            return Ok(Some(true));
        }
    }
    for lead in [
        "pitch bend range ",
        "bend range ",
        "set the bend range to ",
        "bend range to ",
    ] {
        if let Some(rest) = c.strip_prefix(lead) {
            let n = rest
                .trim_end_matches(" semitones")
                .trim_end_matches(" semitone")
                .trim();
            if let Ok(v) = n.parse::<f32>() {
                if v.is_finite() && (0.0..=48.0).contains(&v) {
                    o.push(msg("/midi/bend", vec![Value::Float(v)]));
                    o.say(format!("MIDI: the pitch wheel bends {v} semitones"));
                    return Ok(Some(true));
                }
            }
        }
    }
    Ok(None)
}
