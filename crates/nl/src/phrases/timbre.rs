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
        "add some noise" | "add noise" | "some noise" | "noise" | "breathy" | "more breath"
        | "add breath" | "breath" => {
            let level = (0.15 * scale).clamp(0.0, 1.0);
            o.noise(level);
            o.say(format!(
                "noise: {level:.2} white noise in every note (sine.noise)"
            ));
            return Ok(Some(true));
        }
        "more noise" | "noisier" => {
            let level = (o.ctx.noise.max(0.1) * 2f32.powf(scale)).clamp(0.0, 1.0);
            o.noise(level);
            o.say(format!("more noise: sine.noise {level:.2}"));
            return Ok(Some(true));
        }
        "less noise" => {
            let level = o.ctx.noise * 0.5f32.powf(scale);
            o.noise(level);
            o.say(format!("less noise: sine.noise {level:.2}"));
            return Ok(Some(true));
        }
        "no noise" | "clean" | "cleaner" => {
            o.noise(0.0);
            o.say("no noise: sine.noise 0");
            return Ok(Some(true));
        }
        _ => {}
    }
    if let Some(p) = PRESETS.iter().find(|p| p.phrases.contains(&c)) {
        o.preset(p);
        o.say(format!("{}: the {} preset ({})", c, p.name, p.what));
        return Ok(Some(true));
    }
    Ok(None)
}

/// A built-in instrument preset (`/inst/load default <name>`), with the values it sets that
/// the context keeps (so "brighter" after "a warm pad" starts from the pad's cutoff). The
/// engine's presets (`chronus_engine::address::presets`) are the same; a test of the `chronus`
/// crate checks that they agree.
pub struct Preset {
    /// Its name, as `/inst/load` takes it.
    pub name: &'static str,
    /// The phrases that ask for it.
    pub phrases: &'static [&'static str],
    /// What it is, in a few words.
    pub what: &'static str,
    /// `osc.shape`.
    pub shape: i32,
    /// `osc.gain`.
    pub gain: f32,
    /// `filter.cutoff`, Hz.
    pub cutoff: f32,
    /// `filter.q`.
    pub q: f32,
    /// `adsr.attack`, ms.
    pub attack: f32,
    /// `adsr.release`, ms.
    pub release: f32,
    /// `pan.spread`, when it sets it.
    pub spread: Option<f32>,
    /// The LFO's route, rate and depth, when it uses it.
    pub lfo: Option<(&'static str, f32, f32)>,
}

/// The built-in presets `chronus say` knows.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "pad",
        phrases: &[
            "pad",
            "a pad",
            "warm pad",
            "a warm pad",
            "warm pads",
            "a soft pad",
        ],
        what: "five detuned saws, slow attack and release",
        shape: 3,
        gain: 0.35,
        cutoff: 1400.0,
        q: 0.8,
        attack: 600.0,
        release: 1500.0,
        spread: Some(0.6),
        lfo: None,
    },
    Preset {
        name: "pluck",
        phrases: &["pluck", "plucked", "a pluck", "plucky", "pluck sound"],
        what: "a saw, instant attack, quick decay to silence, brighter up high",
        shape: 3,
        gain: 0.5,
        cutoff: 1800.0,
        q: 1.5,
        attack: 1.0,
        release: 300.0,
        spread: None,
        lfo: None,
    },
    Preset {
        name: "supersaw",
        phrases: &[
            "supersaw",
            "a supersaw",
            "super saw",
            "super-saw",
            "supersaws",
        ],
        what: "seven saws 30 cents wide, spread across the stereo field",
        shape: 3,
        gain: 0.4,
        cutoff: 6000.0,
        q: 0.7,
        attack: 10.0,
        release: 400.0,
        spread: Some(0.8),
        lfo: None,
    },
    Preset {
        name: "pwm",
        phrases: &["pwm", "pulse width modulation", "a pwm sound", "pwm pad"],
        what: "a pulse whose width the lfo sweeps",
        shape: 4,
        gain: 0.45,
        cutoff: 3000.0,
        q: 0.707,
        attack: 20.0,
        release: 400.0,
        spread: None,
        lfo: Some(("sine.pw", 0.7, 1.0)),
    },
    Preset {
        name: "brass",
        phrases: &["brass", "brassy", "a brass sound", "horns", "brass section"],
        what: "two saws, a quick swell, brighter when played harder",
        shape: 3,
        gain: 0.45,
        cutoff: 900.0,
        q: 1.2,
        attack: 60.0,
        release: 200.0,
        spread: None,
        lfo: None,
    },
];

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
