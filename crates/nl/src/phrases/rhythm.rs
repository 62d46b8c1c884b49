//! Clauses about rhythm: beats on the sequencer, starting and stopping it, tempo.

use super::*;

/// Named beats, start and stop the sequencer, faster and slower. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "four on the floor"
        | "a four on the floor beat"
        | "a beat"
        | "give me a beat"
        | "house beat" => {
            o.push(msg(
                "/seq/target",
                vec![Value::Int(0), Value::Str("adsr".into())],
            ));
            o.push(msg(
                "/seq/pattern",
                vec![Value::Int(0), Value::Str("x...x...x...x...".into())],
            ));
            o.push(msg("/seq/start", vec![]));
            o.say(format!(
                "four on the floor: a hit on every beat at {} BPM, sequencer track 0 on adsr",
                o.ctx.bpm
            ));
            return Ok(Some(true));
        }
        "stop the beat" | "stop the sequencer" | "stop the pattern" | "no beat" => {
            o.push(msg("/seq/stop", vec![]));
            o.say("stop the beat: sequencer stopped");
            return Ok(Some(true));
        }
        "start the beat" | "start the sequencer" | "start the pattern" => {
            o.push(msg("/seq/start", vec![]));
            o.say("start the beat: sequencer started");
            return Ok(Some(true));
        }
        "add swing" | "swing" | "some swing" | "swing it" | "shuffle" | "add shuffle" => {
            let amount = 0.2 * scale;
            o.swing(amount);
            o.say(format!(
                "swing: odd steps {:.0} % of a step late",
                o.ctx.swing * 100.0
            ));
            return Ok(Some(true));
        }
        "more swing" | "more shuffle" => {
            let amount = o.ctx.swing + 0.1 * scale;
            o.swing(amount);
            o.say(format!(
                "more swing: {:.0} % of a step",
                o.ctx.swing * 100.0
            ));
            return Ok(Some(true));
        }
        "less swing" | "less shuffle" => {
            let amount = o.ctx.swing - 0.1 * scale;
            o.swing(amount);
            o.say(format!(
                "less swing: {:.0} % of a step",
                o.ctx.swing * 100.0
            ));
            return Ok(Some(true));
        }
        "no swing" | "straight" | "play it straight" | "no shuffle" | "straight time" => {
            o.swing(0.0);
            o.say("no swing: straight steps");
            return Ok(Some(true));
        }
        "faster tempo" | "speed up" | "slower tempo" | "slow down" => {
            let up = matches!(c, "faster tempo" | "speed up");
            let f = if up { 1.1f32 } else { 1.0 / 1.1 }.powf(scale);
            let bpm = (o.ctx.bpm * f).clamp(20.0, 300.0);
            o.ctx.bpm = bpm;
            o.push(set("/seq/bpm", bpm));
            o.say(format!("tempo: {bpm:.1} BPM"));
            return Ok(Some(true));
        }
        _ => {}
    }
    Ok(None)
}

/// Tempo ("at 175 bpm", "tempo 90"); `None`: not this kind of clause.
pub(super) fn tempo(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Tempo: "at 175 bpm", "175 bpm", "tempo 90".
    let bpm = c
        .strip_prefix("at ")
        .unwrap_or(c)
        .strip_suffix(" bpm")
        .and_then(|n| n.trim().parse::<f32>().ok())
        .or_else(|| number_after(c, "tempo "))
        .filter(|b| b.is_finite());
    if let Some(b) = bpm {
        let b = b.clamp(20.0, 300.0);
        o.ctx.bpm = b;
        o.push(set("/seq/bpm", b));
        o.say(format!("tempo: {b} BPM (from the next step)"));
        return Ok(Some(true));
    }
    Ok(None)
}
