//! Clauses about the effects: reverb, echo, dry, echo in time with the tempo.

use super::*;

/// Reverb, echo, dry. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "reverb" | "add reverb" | "some reverb" | "add some reverb" | "with reverb" | "wet" => {
            let mix = (0.3 * scale).min(1.0);
            o.reverb(mix, 0.7);
            o.say(format!("reverb: mix {mix:.2}, size 0.7"));
            return Ok(Some(true));
        }
        "more reverb" | "bigger room" | "more space" | "more ambience" => {
            let mix = o.ctx.reverb_mix + 0.2 * scale;
            let size = o.ctx.reverb_size.max(0.7) + 0.1 * scale;
            o.reverb(mix, size);
            o.say(format!(
                "more reverb: mix {:.2}, size {:.2}",
                o.ctx.reverb_mix, o.ctx.reverb_size
            ));
            return Ok(Some(true));
        }
        "less reverb" | "smaller room" | "less space" => {
            let mix = o.ctx.reverb_mix - 0.15 * scale;
            let size = o.ctx.reverb_size;
            o.reverb(mix, size);
            o.say(format!("less reverb: mix {:.2}", o.ctx.reverb_mix));
            return Ok(Some(true));
        }
        "big hall" | "cathedral" | "huge reverb" | "in a cathedral" | "in a big hall" => {
            o.reverb(0.45, 0.95);
            o.say("big hall: reverb mix 0.45, size 0.95");
            return Ok(Some(true));
        }
        "no reverb" | "remove the reverb" | "stop the reverb" => {
            let size = o.ctx.reverb_size;
            o.reverb(0.0, size);
            o.say("no reverb: reverb mix 0");
            return Ok(Some(true));
        }
        "echo" | "add echo" | "delay" | "add delay" | "some echo" | "add some echo" => {
            let mix = (0.3 * scale).min(1.0);
            o.echo(mix, 0.4);
            o.say(format!("echo: delay mix {mix:.2}, feedback 0.4"));
            return Ok(Some(true));
        }
        "more echo" | "more delay" | "longer echo" => {
            let mix = o.ctx.delay_mix + 0.2 * scale;
            o.echo(mix, 0.6);
            o.say(format!(
                "more echo: delay mix {:.2}, feedback 0.6",
                o.ctx.delay_mix
            ));
            return Ok(Some(true));
        }
        "less echo" | "less delay" => {
            let mix = o.ctx.delay_mix - 0.15 * scale;
            let fb = o.ctx.delay_feedback;
            o.echo(mix, fb);
            o.say(format!("less echo: delay mix {:.2}", o.ctx.delay_mix));
            return Ok(Some(true));
        }
        "no echo" | "no delay" | "stop the echo" | "remove the echo" => {
            let fb = o.ctx.delay_feedback;
            o.echo(0.0, fb);
            o.say("no echo: delay mix 0");
            return Ok(Some(true));
        }
        "dry" | "dry sound" | "no effects" | "bone dry" => {
            let (size, fb) = (o.ctx.reverb_size, o.ctx.delay_feedback);
            o.reverb(0.0, size);
            o.echo(0.0, fb);
            o.say("dry: reverb and delay mix 0");
            return Ok(Some(true));
        }
        _ => {}
    }
    Ok(None)
}

/// Echo in time ("dotted eighth echo", "echo on the beat"); `None`: not this kind of clause.
pub(super) fn echo_in_time(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Echo in time: "dotted eighth echo", "sync the echo to quarters", "echo on the beat".
    if let Some((sync, name)) = echo_sync(c) {
        if sync == 0.0 {
            o.push(set("/mod/delay/sync", 0.0));
            o.say("echo free of the tempo: delay time in ms again");
            return Ok(Some(true));
        }
        o.push(set("/mod/delay/sync", sync));
        if o.ctx.delay_mix == 0.0 {
            let fb = o.ctx.delay_feedback;
            o.echo(0.3, fb);
        }
        let ms = sync * 4.0 * 60_000.0 / o.ctx.bpm;
        o.say(format!(
            "echo on {name}s: {ms:.0} ms at {} BPM, following the tempo",
            o.ctx.bpm
        ));
        return Ok(Some(true));
    }
    Ok(None)
}
