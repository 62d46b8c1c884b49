//! Instrument presets: a voice chain and its settings, built in (`pad`, `pluck`, `supersaw`,
//! `pwm`, `brass`) or kept as text files (`/inst/save`, `/inst/load`). A preset names modules by
//! kind (`osc`, `adsr`, `filter`, `pan`, `noise`: the instrument's first module of that kind), so
//! one preset fits the default instrument (`sine > adsr > filter > pan`) and any instrument
//! with those kinds; a word that is no kind names a module of the patch (`lfo`).
//!
//! ```text
//! # chronus preset
//! chain osc > adsr > filter > pan
//! osc shape 3
//! adsr attack 600
//! route velocity filter.cutoff 0.1
//! ```

use super::Directory;
use crate::{Action, EngineError, PatchEdit};
use chronus_dsp::{ModuleId, ModuleKind, NodeDesc, Source};

/// A preset: the chain an instrument made from it has, its settings and its routes.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Module kinds joined by `>` (`osc > adsr > filter`).
    pub chain: String,
    /// (module kind or name, parameter, value), in order.
    pub settings: Vec<(String, String, f32)>,
    /// (source, module kind or name, parameter, depth): `velocity`, `key` or a module.
    pub routes: Vec<(String, String, String, f32)>,
}

/// The built-in presets: their names, the words that find them, and their text.
const BUILT_IN: &[(&str, &[&str], &str)] = &[
    (
        "pad",
        &["pad", "warm-pad", "warm pad"],
        "chain osc > adsr > filter > pan\n\
         osc shape 3\nosc unison 5\nosc detune 12\nosc spread 0.7\nosc gain 0.35\n\
         adsr attack 600\nadsr decay 400\nadsr sustain 0.8\nadsr release 1500\n\
         filter mode 0\nfilter cutoff 1400\nfilter q 0.8\npan spread 0.6\n\
         route velocity filter.cutoff 0.1\n",
    ),
    (
        "pluck",
        &["pluck", "plucked"],
        "chain osc > adsr > filter > pan\n\
         osc shape 3\nosc unison 1\nosc gain 0.5\n\
         adsr attack 1\nadsr decay 300\nadsr sustain 0\nadsr release 300\n\
         filter mode 0\nfilter cutoff 1800\nfilter q 1.5\n\
         route key filter.cutoff 0.25\nroute velocity filter.cutoff 0.2\n",
    ),
    (
        "supersaw",
        &["supersaw", "super-saw", "super saw"],
        "chain osc > adsr > filter > pan\n\
         osc shape 3\nosc unison 7\nosc detune 30\nosc spread 1\nosc gain 0.4\n\
         adsr attack 10\nadsr decay 200\nadsr sustain 0.8\nadsr release 400\n\
         filter mode 0\nfilter cutoff 6000\nfilter q 0.7\npan spread 0.8\n",
    ),
    (
        "pwm",
        &["pwm", "pulse-width", "pulse width"],
        "chain osc > adsr > filter > pan\n\
         osc shape 4\nosc pw 0.5\nosc unison 1\nosc gain 0.45\n\
         adsr attack 20\nadsr decay 200\nadsr sustain 0.7\nadsr release 400\n\
         filter mode 0\nfilter cutoff 3000\nlfo freq 0.7\nlfo depth 1\n\
         route lfo osc.pw 0.8\n",
    ),
    (
        "brass",
        &["brass", "brassy"],
        "chain osc > adsr > filter > pan\n\
         osc shape 3\nosc unison 2\nosc detune 8\nosc gain 0.45\n\
         adsr attack 60\nadsr decay 150\nadsr sustain 0.75\nadsr release 200\n\
         filter mode 0\nfilter cutoff 900\nfilter q 1.2\n\
         route velocity filter.cutoff 0.4\nroute key filter.cutoff 0.15\n",
    ),
];

/// The built-in presets' names.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|b| b.0).collect()
}

/// The built-in preset a name or one of its words finds (`warm pad`, `super-saw`).
pub fn built_in(name: &str) -> Option<Preset> {
    let name = name.trim().to_ascii_lowercase();
    BUILT_IN
        .iter()
        .find(|b| b.1.contains(&name.as_str()))
        .and_then(|b| parse(b.2).ok())
}

fn bad(line: usize, reason: impl Into<String>) -> EngineError {
    EngineError::BadArguments {
        address: format!("preset line {line}"),
        reason: reason.into(),
    }
}

/// Reads a preset's text. Errors name the line.
pub fn parse(text: &str) -> Result<Preset, EngineError> {
    let mut chain = None;
    let mut settings = Vec::new();
    let mut routes = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |w: &str| {
            w.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(n, format!("'{w}' is not a number")))
        };
        match words.as_slice() {
            ["chain", rest @ ..] if !rest.is_empty() => chain = Some(rest.join(" ")),
            ["route", from, to, depth] => {
                let (module, param) = to
                    .rsplit_once('.')
                    .ok_or_else(|| bad(n, format!("'{to}' is not <module>.<param>")))?;
                routes.push((
                    (*from).to_owned(),
                    module.to_owned(),
                    param.to_owned(),
                    number(depth)?,
                ));
            }
            [module, param, value] => {
                settings.push(((*module).to_owned(), (*param).to_owned(), number(value)?));
            }
            _ => {
                return Err(bad(
                    n,
                    format!(
                        "'{line}' is not a preset line: chain <kinds>, <module> <param> <value>, \
                         or route <source> <module>.<param> <depth>"
                    ),
                ))
            }
        }
    }
    let chain = chain.ok_or_else(|| bad(1, "a preset starts with its chain: chain osc > adsr"))?;
    Ok(Preset {
        chain,
        settings,
        routes,
    })
}

/// A preset's text, as [`parse`] reads it.
pub fn render(p: &Preset) -> String {
    let mut out = format!("# chronus preset\nchain {}\n", p.chain);
    for (m, param, v) in &p.settings {
        out.push_str(&format!("{m} {param} {v}\n"));
    }
    for (from, m, param, d) in &p.routes {
        out.push_str(&format!("route {from} {m}.{param} {d}\n"));
    }
    out
}

/// The module a preset's word names on instrument `inst`: its first template module of that
/// kind, or else a module of the patch of that name.
fn module_of<'d>(
    dir: &'d Directory,
    inst: &super::Instrument,
    word: &str,
) -> Result<&'d super::Entry, EngineError> {
    if let Ok(kind) = ModuleKind::parse(word) {
        if let Some(e) = inst
            .chain
            .iter()
            .filter_map(|name| dir.lookup(name).ok())
            .find(|e| e.kind == kind)
        {
            return Ok(e);
        }
    }
    dir.lookup(word).map_err(|_| EngineError::BadArguments {
        address: "preset".into(),
        reason: format!(
            "instrument '{}' has no {word} (its voice: {}); pick a preset for its kinds",
            inst.name,
            inst.chain.join(" > ")
        ),
    })
}

/// What applying `preset` to instrument `name` takes: the routes (patch edits, applied first)
/// and the settings (actions, after them). `dir` must already hold the instrument.
pub fn apply(
    dir: &Directory,
    name: &str,
    preset: &Preset,
) -> Result<(Vec<PatchEdit>, Vec<Action>), EngineError> {
    let inst = dir.instrument(name)?;
    let mut edits = Vec::new();
    for (from, word, param, depth) in &preset.routes {
        let to = module_of(dir, inst, word)?;
        to.kind.param_id(param)?;
        edits.push(PatchEdit::Modulate {
            from: from.clone(),
            to: to.name.clone(),
            param: param.clone(),
            depth: *depth,
        });
    }
    let mut actions = Vec::new();
    for (word, param, value) in &preset.settings {
        let e = module_of(dir, inst, word)?;
        let p = e.kind.param_id(param)?;
        actions.push(Action::Set {
            module: e.id,
            param: p,
            value: *value,
        });
    }
    Ok((edits, actions))
}

/// The preset of instrument `inst` as it is: its chain's kinds, every parameter of its voice's
/// modules (`value(id, param)`), and the routes into them from velocity, key and modules
/// outside the instrument. `nodes`: the patch's modules.
pub fn of_instrument(
    dir: &Directory,
    inst: &str,
    nodes: &[NodeDesc],
    value: impl Fn(ModuleId, u8) -> Option<f32>,
) -> Result<Preset, EngineError> {
    let inst = dir.instrument(inst)?;
    if inst.chain.is_empty() {
        return Err(chronus_dsp::DspError::NoVoiceTemplate.into());
    }
    let entries: Vec<&super::Entry> = inst
        .chain
        .iter()
        .filter_map(|n| dir.lookup(n).ok())
        .collect();
    let chain = entries
        .iter()
        .map(|e| e.kind.name())
        .collect::<Vec<_>>()
        .join(" > ");
    let mut settings = Vec::new();
    let mut routes = Vec::new();
    let mut seen = Vec::new();
    for e in &entries {
        // A kind's first module only: that is the one a preset's word names.
        if seen.contains(&e.kind) {
            continue;
        }
        seen.push(e.kind);
        for (p, spec) in e.kind.params().iter().enumerate() {
            if spec.unit == chronus_dsp::Unit::Trigger || (e.kind == ModuleKind::Osc && p == 0) {
                continue; // a trigger; the oscillator's pitch (each note sets its own)
            }
            if let Some(v) = value(e.id, p as u8) {
                settings.push((e.kind.name().to_owned(), spec.name.to_owned(), v));
            }
        }
        if let Some(desc) = nodes.iter().find(|d| d.id == e.id) {
            for r in &desc.routes {
                let from = match r.from {
                    Source::Velocity => "velocity".to_owned(),
                    Source::Key => "key".to_owned(),
                    Source::Module(id) => match nodes.iter().find(|d| d.id == id) {
                        Some(src) => src.name.clone(),
                        None => continue,
                    },
                };
                let param = e.kind.params()[r.param as usize].name;
                routes.push((from, e.kind.name().to_owned(), param.to_owned(), r.depth));
            }
        }
    }
    Ok(Preset {
        chain,
        settings,
        routes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chronus_dsp::Patch;

    #[test]
    fn every_built_in_preset_reads_and_fits_the_default_instrument() {
        let p = Patch::default_patch(48_000.0, 64).unwrap();
        let dir = Directory::of(&p);
        for name in built_in_names() {
            let preset = built_in(name).unwrap();
            let (edits, actions) = apply(&dir, "default", &preset).unwrap();
            crate::edit::validate(&p, &edits).unwrap();
            assert_eq!(actions.len(), preset.settings.len(), "{name}");
        }
        assert_eq!(
            built_in("Warm Pad").unwrap().chain,
            "osc > adsr > filter > pan"
        );
        assert!(built_in("kazoo").is_none());
    }

    #[test]
    fn a_preset_survives_its_text_and_errors_name_the_line() {
        let p = built_in("brass").unwrap();
        assert_eq!(parse(&render(&p)).unwrap(), p);
        let e = parse("chain osc > adsr\nosc shape loud\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("'loud'"), "{e}");
        let e = parse("osc shape 3\n").unwrap_err().to_string();
        assert!(e.contains("starts with its chain"), "{e}");
        // A preset for kinds the instrument lacks is refused, naming them.
        let mut patch = Patch::default_patch(48_000.0, 64).unwrap();
        patch.add_instrument("hiss", "noise > adsr", None).unwrap();
        let e = apply(&Directory::of(&patch), "hiss", &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no osc"), "{e}");
    }
}
