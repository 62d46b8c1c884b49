//! Clauses about loudness: play and stop, louder and softer, dynamics marks, fades, crescendos, "volume N".

use super::*;

/// Play, stop, louder, quieter, pp..ff, fades. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    let ctx_gain = o.ctx.gain;
    match c {
        "stop" | "silence" | "stop playing" | "note off" | "quiet" | "shh" | "stop the note" => {
            o.push(gate(false));
            let chord = o.ctx.chord_notes;
            o.release_notes();
            o.say(if chord {
                "stop: gate off, every note released"
            } else {
                "stop: gate off"
            });
            return Ok(Some(true));
        }
        "play" | "play a note" | "note on" | "start" | "go" | "play something" => {
            o.push(gate(true));
            o.say("play: gate on");
            return Ok(Some(true));
        }
        "louder" | "more volume" | "up the volume" => {
            let g = ctx_gain * (1.0 + 0.2 * scale);
            o.gain(g);
            o.say(format!("louder: gain ×{:.2}", 1.0 + 0.2 * scale));
            return Ok(Some(true));
        }
        "quieter" | "softer" | "less volume" => {
            let g = ctx_gain / (1.0 + 0.2 * scale);
            o.gain(g);
            o.say(format!("quieter: gain ÷{:.2}", 1.0 + 0.2 * scale));
            return Ok(Some(true));
        }
        "pp" | "pianissimo" | "p" | "piano" | "mp" | "mezzo piano" | "mf" | "mezzo forte" | "f"
        | "forte" | "ff" | "fortissimo" => {
            let g = match c {
                "pp" | "pianissimo" => 0.2,
                "p" | "piano" => 0.3,
                "mp" | "mezzo piano" => 0.45,
                "mf" | "mezzo forte" => 0.6,
                "f" | "forte" => 0.75,
                _ => 0.9,
            };
            o.gain(g);
            o.say(format!("{c}: gain {g}"));
            return Ok(Some(true));
        }
        "fade out" | "fade away" => {
            o.release(2000.0);
            o.push(gate(false));
            o.say("fade out: release 2 s, gate off");
            return Ok(Some(true));
        }
        "fade in" => {
            o.attack(2000.0);
            o.push(gate(true));
            o.say("fade in: attack 2 s, gate on");
            return Ok(Some(true));
        }
        _ => {}
    }
    Ok(None)
}

/// Crescendo and diminuendo "over N seconds"; `None`: not this kind of clause.
pub(super) fn over_time(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    let first = c.split_whitespace().next().unwrap_or("");
    let ctx_gain = o.ctx.gain;
    // Dynamics over time.
    if first == "crescendo" || first == "diminuendo" || first == "decrescendo" {
        let ms = over_ms(c);
        let to = if first == "crescendo" {
            (ctx_gain * 2.0).max(0.1)
        } else {
            ctx_gain / 2.0
        };
        o.gain_ramp(to, ms);
        o.say(format!(
            "{first}: gain to {to:.2} over {:.1} s",
            ms as f32 / 1000.0
        ));
        return Ok(Some(true));
    }
    Ok(None)
}

/// "volume N" (0..10, or 0..1); `None`: not this kind of clause.
pub(super) fn volume(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Volume N (0..10, or 0..1).
    if let Some(v) = number_after(c, "volume ") {
        let g = if v > 1.0 { v / 10.0 } else { v };
        o.gain(g);
        o.say(format!("volume: gain {:.2}", o.ctx.gain));
        return Ok(Some(true));
    }
    Ok(None)
}
