//! Clauses about where the sound is (stereo): pan it left or right, centre it, wider or
//! narrower, ping-pong echoes.

use super::*;

/// Words a placement clause may hold besides its side ("a bit more to the left").
const PLACE_WORDS: &[&str] = &[
    "pan",
    "panned",
    "panning",
    "it",
    "the",
    "to",
    "a",
    "bit",
    "little",
    "more",
    "further",
    "farther",
    "hard",
    "fully",
    "all",
    "way",
    "slightly",
    "tad",
    "touch",
    "smidge",
    "over",
    "move",
    "put",
    "place",
    "sound",
    "of",
    "toward",
    "towards",
    "side",
    "in",
    "back",
    "on",
    "notes",
    "everything",
    "make",
    "go",
    "just",
    "bring",
    "shift",
    "nudge",
    "keep",
    "now",
    "and",
    "only",
    "completely",
    "extreme",
    "far",
    "left",
    "right",
    "centre",
    "center",
    "middle",
    "centred",
    "centered",
];

/// How far one step of "a bit more to the left" moves the pan.
const STEP: f32 = 0.25;

/// "pan left", "a bit to the right", "hard left", "centre it", "pan -0.3". `scale` is the
/// clause's amount ("a bit": 0.5, a step from where it is; "way": 2, all the way). `None`:
/// not a placement (a word outside its vocabulary, or no side named).
fn placement(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    let words: Vec<&str> = c.split_whitespace().collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    // "pan 0.3", "pan to -0.5": a position in numbers.
    if let ["pan", rest @ ..] = words.as_slice() {
        let number = match rest {
            [n] | ["to", n] => n.parse::<f32>().ok(),
            _ => None,
        };
        if let Some(v) = number.filter(|v| v.is_finite()) {
            o.pan(v);
            o.say(format!("pan: pos {:.2}", o.ctx.pan));
            return Ok(Some(true));
        }
    }
    if !words.iter().all(|w| PLACE_WORDS.contains(w)) {
        return Ok(None);
    }
    let side = match (has(&["left"]), has(&["right"])) {
        (true, false) => -1.0,
        (false, true) => 1.0,
        (true, true) => return Ok(None),
        (false, false) => {
            if has(&["centre", "center", "middle", "centred", "centered"]) {
                o.pan(0.0);
                o.say("centred: pan pos 0");
                return Ok(Some(true));
            }
            return Ok(None);
        }
    };
    let name = if side < 0.0 { "left" } else { "right" };
    let pos = if scale > 1.0 || has(&["hard", "fully", "all", "completely", "extreme", "far"]) {
        side
    } else if scale < 1.0
        || has(&[
            "bit", "little", "slightly", "tad", "touch", "smidge", "more", "further", "farther",
        ])
    {
        o.ctx.pan + side * STEP
    } else {
        side * 0.5
    };
    o.pan(pos);
    o.say(format!("to the {name}: pan pos {:.2}", o.ctx.pan));
    Ok(Some(true))
}

/// Wider, narrower, ping-pong. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "wider"
        | "wide"
        | "make it wider"
        | "wider stereo"
        | "more stereo"
        | "widen"
        | "widen it"
        | "widen the stereo"
        | "spread the notes"
        | "spread the notes out"
        | "spread out"
        | "spread it out"
        | "spread the voices"
        | "spread the voices out"
        | "more width"
        | "stereo"
        | "make it stereo" => {
            let spread = o.ctx.spread + 0.5 * scale;
            o.spread(spread);
            o.reverb_width(1.0);
            o.say(format!(
                "wider: notes spread {:.2} across the sides, reverb width 1",
                o.ctx.spread
            ));
            return Ok(Some(true));
        }
        "narrower" | "narrow" | "make it narrower" | "less wide" | "less stereo" | "narrow it"
        | "less width" | "tighter" => {
            let spread = o.ctx.spread - 0.5 * scale;
            let width = o.ctx.reverb_width - 0.5 * scale;
            o.spread(spread);
            o.reverb_width(width);
            o.say(format!(
                "narrower: notes spread {:.2}, reverb width {:.2}",
                o.ctx.spread, o.ctx.reverb_width
            ));
            return Ok(Some(true));
        }
        _ => {}
    }
    if let Some(done) = placement(c, scale, o)? {
        return Ok(Some(done));
    }
    let pingpong = [
        "ping pong",
        "ping-pong",
        "pingpong",
        "bounce",
        "bouncing",
        "bouncy",
    ]
    .iter()
    .any(|w| c.contains(w));
    if !pingpong {
        return Ok(None);
    }
    let words: Vec<&str> = c.split_whitespace().collect();
    if words
        .iter()
        .any(|w| ["no", "stop", "without", "off", "remove", "disable"].contains(w))
    {
        o.pingpong(false);
        o.say("no ping-pong: the echoes stay on their side");
        return Ok(Some(true));
    }
    o.pingpong(true);
    if o.ctx.delay_mix == 0.0 {
        // An echo to hear it on.
        let fb = o.ctx.delay_feedback.max(0.4);
        o.echo(0.3, fb);
    }
    o.say(format!(
        "ping-pong echo: repeats alternate left and right (delay mix {:.2})",
        o.ctx.delay_mix
    ));
    Ok(Some(true))
}
