//! Clauses about the sound itself: filter brightness, envelope shape, vibrato, wobble and tremolo, presets, wave shapes.

use super::*;

/// Brighter, darker, warmth, staccato and legato, attack and release, modulation, presets. Exact phrases; `None`: not one of them.
pub(super) fn exact(c: &str, scale: f32, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    match c {
        "brighter" | "more treble" | "open the filter" => {
            let f = 1.0 + 0.5 * scale;
            let cut = o.ctx.cutoff * f;
            o.cutoff(cut);
            o.say(format!("brighter: cutoff ×{f:.2}"));
            return Ok(Some(true));
        }
        "darker" | "duller" | "close the filter" | "less treble" => {
            let f = 1.0 - 0.3 * scale.min(2.0) / if scale > 1.0 { 1.5 } else { 1.0 };
            let cut = o.ctx.cutoff * f;
            o.cutoff(cut);
            o.say(format!("darker: cutoff ×{f:.2}"));
            return Ok(Some(true));
        }
        "add warmth" | "warmer" | "warm" | "warmth" => {
            o.cutoff(800.0);
            o.q(2.0);
            o.say("warmth: cutoff 800 Hz, q 2");
            return Ok(Some(true));
        }
        "smooth" | "smoother" | "mellow" | "soft tone" => {
            o.shape(1);
            o.cutoff(700.0);
            o.q(0.707);
            o.say("mellow: triangle wave, cutoff 700 Hz");
            return Ok(Some(true));
        }
        "harsh" | "harsher" | "aggressive" | "gritty" => {
            o.shape(3);
            let cut = (o.ctx.cutoff * 2.0).max(4000.0);
            o.cutoff(cut);
            o.say("harsh: saw wave, filter opened");
            return Ok(Some(true));
        }
        "staccato" | "short notes" | "shorter notes" | "short" => {
            o.attack(5.0);
            o.release(50.0);
            o.say("staccato: attack 5 ms, release 50 ms");
            return Ok(Some(true));
        }
        "legato" | "long notes" | "longer notes" | "smooth notes" => {
            o.attack(50.0);
            o.release(500.0);
            o.say("legato: attack 50 ms, release 500 ms");
            return Ok(Some(true));
        }
        "faster attack" | "quicker attack" | "sharper attack" => {
            let a = o.ctx.attack * 0.5f32.powf(scale);
            o.attack(a);
            o.say("faster attack: attack halved");
            return Ok(Some(true));
        }
        "slower attack" | "softer attack" => {
            let a = (o.ctx.attack.max(1.0)) * 2f32.powf(scale);
            o.attack(a);
            o.say("slower attack: attack doubled");
            return Ok(Some(true));
        }
        "longer release" | "more release" | "longer tail" => {
            let r = o.ctx.release.max(1.0) * 2f32.powf(scale);
            o.release(r);
            o.say("longer release: release doubled");
            return Ok(Some(true));
        }
        "shorter release" | "less release" | "shorter tail" => {
            let r = o.ctx.release * 0.5f32.powf(scale);
            o.release(r);
            o.say("shorter release: release halved");
            return Ok(Some(true));
        }
        "vibrato" | "add vibrato" | "some vibrato" | "add some vibrato" => {
            o.lfo("sine.freq", 5.0, 0.1 * scale);
            o.say("vibrato: lfo 5 Hz, depth 0.1 on sine.freq");
            return Ok(Some(true));
        }
        "wobble" | "wobble the filter" | "wobble bass" | "add wobble" | "wobbly" => {
            o.lfo("filter.cutoff", 0.5, (0.8 * scale).min(1.0));
            o.say("wobble: lfo 0.5 Hz, depth 0.8 on filter.cutoff");
            return Ok(Some(true));
        }
        "tremolo" | "add tremolo" => {
            o.lfo("sine.gain", 6.0, 0.3 * scale);
            o.say("tremolo: lfo 6 Hz, depth 0.3 on sine.gain");
            return Ok(Some(true));
        }
        "faster vibrato" | "faster wobble" | "faster tremolo" => {
            let r = o.ctx.lfo_rate * 1.5f32.powf(scale);
            let (t, d) = (
                o.ctx
                    .lfo_target
                    .clone()
                    .unwrap_or_else(|| "sine.freq".into()),
                o.ctx.lfo_depth.max(0.1),
            );
            o.lfo(&t, r, d);
            o.say("faster: lfo rate ×1.5");
            return Ok(Some(true));
        }
        "slower vibrato" | "slower wobble" | "slower tremolo" => {
            let r = o.ctx.lfo_rate / 1.5f32.powf(scale);
            let (t, d) = (
                o.ctx
                    .lfo_target
                    .clone()
                    .unwrap_or_else(|| "sine.freq".into()),
                o.ctx.lfo_depth.max(0.1),
            );
            o.lfo(&t, r, d);
            o.say("slower: lfo rate ÷1.5");
            return Ok(Some(true));
        }
        "no vibrato" | "no wobble" | "no tremolo" | "stop the vibrato" | "stop the wobble"
        | "no modulation" => {
            o.lfo_off();
            o.say("no modulation: lfo depth 0, route removed");
            return Ok(Some(true));
        }
        "more resonance" | "add resonance" | "resonant" | "more resonant" | "more q" => {
            let q = o.ctx.q * 1.5f32.powf(scale);
            o.q(q);
            o.say(format!("more resonance: filter q {:.2}", o.ctx.q));
            return Ok(Some(true));
        }
        "less resonance" | "less resonant" | "less q" => {
            let q = o.ctx.q / 1.5f32.powf(scale);
            o.q(q);
            o.say(format!("less resonance: filter q {:.2}", o.ctx.q));
            return Ok(Some(true));
        }
        "no resonance" => {
            o.q(0.707);
            o.say("no resonance: filter q 0.707 (flat)");
            return Ok(Some(true));
        }
        "add glide" | "glide" | "some glide" | "portamento" | "add portamento" => {
            let ms = 200.0 * scale;
            o.glide(ms);
            o.say(format!("glide: {ms:.0} ms between notes"));
            return Ok(Some(true));
        }
        "more glide" | "longer glide" | "slower glide" => {
            let ms = o.ctx.glide.max(100.0) * 2f32.powf(scale);
            o.glide(ms);
            o.say(format!("more glide: {:.0} ms between notes", o.ctx.glide));
            return Ok(Some(true));
        }
        "less glide" | "shorter glide" | "faster glide" => {
            let ms = o.ctx.glide * 0.5f32.powf(scale);
            o.glide(ms);
            o.say(format!("less glide: {:.0} ms between notes", o.ctx.glide));
            return Ok(Some(true));
        }
        "no glide" | "no portamento" => {
            o.glide(0.0);
            o.say("no glide: notes jump");
            return Ok(Some(true));
        }
        "techno bass" => {
            o.shape(3);
            o.note(33, false);
            o.cutoff(400.0);
            o.q(8.0);
            o.attack(2.0);
            o.release(80.0);
            o.push(gate(true));
            o.say("techno bass: saw at A1, resonant low filter, short envelope");
            return Ok(Some(true));
        }
        "flute" => {
            o.shape(0);
            o.attack(80.0);
            o.release(300.0);
            o.cutoff(3000.0);
            o.lfo("sine.freq", 5.0, 0.005);
            o.say("flute: sine, soft attack, light vibrato");
            return Ok(Some(true));
        }
        "pad" | "a pad" => {
            o.shape(1);
            o.attack(800.0);
            o.release(2000.0);
            o.cutoff(1200.0);
            o.say("pad: triangle, slow attack and release");
            return Ok(Some(true));
        }
        "pluck" | "plucked" => {
            o.shape(3);
            o.attack(2.0);
            o.push(set("/mod/adsr/decay", 150.0));
            o.push(set("/mod/adsr/sustain", 0.0));
            o.release(100.0);
            o.cutoff(3000.0);
            o.say("pluck: saw, instant attack, quick decay to silence");
            return Ok(Some(true));
        }
        _ => {}
    }
    Ok(None)
}

/// Wave shapes by name ("square wave"); `None`: not this kind of clause.
pub(super) fn wave_shapes(c: &str, o: &mut Out<'_>) -> Result<Option<bool>, NlError> {
    // Wave shapes by name.
    for (name, s) in [
        ("sine", 0),
        ("triangle", 1),
        ("square", 2),
        ("sawtooth", 3),
        ("saw", 3),
    ] {
        if c == name
            || c == format!("{name} wave")
            || c == format!("a {name} wave")
            || c == format!("{name} shape")
        {
            o.shape(s);
            o.say(format!("{name} wave"));
            return Ok(Some(true));
        }
    }
    Ok(None)
}
