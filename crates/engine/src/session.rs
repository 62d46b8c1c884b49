//! Sessions: what a player built, kept as a text file that rebuilds it (docs/sessions.md).
//!
//! A session is a score at time 0 under a header line naming its version:
//!
//! ```text
//! # chronus-session 1
//! 0 /patch/create op osc
//! 0 /inst/new bass "osc > adsr > filter"
//! 0 /patch/connect op sine.pm 1.5
//! 0 /mod/filter/cutoff 2500
//! # end
//! ```
//!
//! Its lines make the default patch into the one saved: modules removed, modules and
//! instruments made, connections and modulation routes changed, every parameter whose value
//! differs from what those edits leave; then what plays (voice counts, the sequencer, the
//! notes held); a last line `# end` (a file without it was cut short). It is readable,
//! diffable, and a score like any other
//! (`chronus render --score` plays it). [`render`] writes one, [`parse`] reads one back
//! (refusing another version), [`write_atomically`] keeps a file whole through a crash.

use crate::sequencer::{self, SeqTarget, Sequencer};
use crate::{EngineError, Score};
use chronus_dsp::{
    ModuleKind, NodeDesc, Patch, Source, Unit, VoiceMode, DEFAULT_INSTRUMENT, DEFAULT_VOICES,
};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The version this chronus writes and reads.
pub const VERSION: u32 = 1;

/// The first line of a session, before its version number.
const HEADER: &str = "# chronus-session ";
/// The last line of a session: a file without it was cut short.
const END: &str = "# end";

/// The session text of `patch`, `seq` and the samples loaded: a header, the samples' loads
/// (by name and file, or the kit they came from: never their data), then the score that makes
/// the default patch (at the same rate, block and channels) and a fresh sequencer into them,
/// and plays again the notes `patch` holds. The same state always gives the same text.
pub fn render(
    patch: &Patch,
    seq: &Sequencer,
    samples: &[crate::samples::SampleInfo],
) -> Result<String, EngineError> {
    let mut sim =
        Patch::default_patch_for(patch.sample_rate(), patch.block_size(), patch.is_stereo())?;
    let mut out = format!("{HEADER}{VERSION}\n# the state of a chronus patch: `chronus run --session FILE` keeps it, docs/sessions.md\n");
    let mut kits: Vec<&str> = Vec::new();
    for s in samples {
        match s.source.strip_prefix(crate::samples::KIT_SOURCE) {
            Some(kit) if !kits.contains(&kit) => {
                kits.push(kit);
                line(&mut out, &["/kit/load", kit]);
            }
            Some(_) => {}
            None => line(&mut out, &["/sample/load", &s.name, &quote(&s.source)]),
        }
    }
    let now = patch.describe();
    let mut structure = String::new();
    // Modules of the default patch that are gone (or of another kind now).
    for d in sim.describe() {
        if !now.iter().any(|n| n.name == d.name && n.kind == d.kind) {
            line(&mut structure, &["/patch/remove", &d.name]);
        }
    }
    // Modules made: plain ones, then instruments (their modules made with them).
    let instruments = patch.instruments();
    let made_by_instrument = |name: &str| {
        name.split_once('.')
            .is_some_and(|(inst, _)| instruments.iter().any(|i| i.name == inst))
    };
    for d in &now {
        if sim.find(&d.name).is_none() && !made_by_instrument(&d.name) {
            line(&mut structure, &["/patch/create", &d.name, d.kind.name()]);
        }
    }
    for inst in instruments.iter().filter(|i| i.name != DEFAULT_INSTRUMENT) {
        let chain: Vec<&str> = inst
            .template
            .iter()
            .filter(|id| {
                patch
                    .name(**id)
                    .is_ok_and(|n| n.starts_with(&format!("{}.", inst.name)))
            })
            .filter_map(|id| patch.kind(*id).ok().map(ModuleKind::name))
            .collect();
        line(
            &mut structure,
            &["/inst/new", &inst.name, &quote(&chain.join(" > "))],
        );
    }
    apply(&mut sim, &structure)?;
    out.push_str(&structure);
    // Wiring: what the edits above leave, changed into what `patch` has.
    let was = sim.describe();
    let mut wiring_off = String::new();
    let mut wiring_on = String::new();
    for d in &now {
        let before = was.iter().find(|w| w.name == d.name);
        wire(patch, &sim, d, before, &mut wiring_off, &mut wiring_on);
    }
    out.push_str(&wiring_off);
    out.push_str(&wiring_on);
    apply(&mut sim, &format!("{wiring_off}{wiring_on}"))?;
    // Parameters that differ from what the edits leave.
    for d in &now {
        let (Some(at), Some(here)) = (sim.find(&d.name), patch.find(&d.name)) else {
            continue;
        };
        for (p, spec) in d.kind.params().iter().enumerate() {
            if spec.unit == Unit::Trigger {
                continue;
            }
            let (Ok(want), Ok(has)) = (patch.param(here, p as u8), sim.param(at, p as u8)) else {
                continue;
            };
            if want.to_bits() != has.to_bits() {
                let address = format!("/mod/{}/{}", d.name, spec.name);
                line(&mut out, &[&address, &want.to_string()]);
            }
        }
    }
    play(patch, seq, samples, &mut out);
    out.push_str(END);
    out.push('\n');
    Ok(out)
}

/// The lines of what plays: voice counts and modes, the sequencer's settings, the notes held,
/// and the sequencer started (from its first step) if it ran.
fn play(patch: &Patch, seq: &Sequencer, samples: &[crate::samples::SampleInfo], out: &mut String) {
    let instruments = patch.instruments();
    let inst_name = |head: Option<chronus_dsp::ModuleId>| {
        instruments
            .iter()
            .find(|i| i.head == head)
            .map_or(DEFAULT_INSTRUMENT, |i| i.name.as_str())
    };
    for inst in &instruments {
        if inst.voices != DEFAULT_VOICES || inst.mode != VoiceMode::Poly {
            let (count, mode) = (inst.voices.to_string(), mode_word(inst.mode));
            match inst.head {
                None => line(out, &["/voices", &count, mode]),
                Some(_) => line(out, &["/inst/voices", &inst.name, &count, mode]),
            }
        }
    }
    let fresh = Sequencer::new(patch.sample_rate());
    if seq.bpm().to_bits() != fresh.bpm().to_bits() {
        line(out, &["/seq/bpm", &seq.bpm().to_string()]);
    }
    if seq.swing() != fresh.swing() {
        line(out, &["/seq/swing", &seq.swing().to_string()]);
    }
    for t in 0..sequencer::TRACKS {
        let track = t.to_string();
        if seq.pattern(t) != fresh.pattern(t) {
            let words: Vec<String> = seq.pattern(t).iter().map(|&c| step_word(c)).collect();
            let mut args = vec!["/seq/pattern", &track];
            args.extend(words.iter().map(String::as_str));
            line(out, &args);
        }
        let target = match seq.target(t) {
            SeqTarget::Off => None,
            SeqTarget::Note { .. } => Some("note".to_owned()),
            SeqTarget::Gate(id) => patch.name(id).ok().map(str::to_owned),
            SeqTarget::Inst(head) => Some(inst_name(head).to_owned()),
            SeqTarget::Sample(slot) => samples
                .iter()
                .find(|s| s.slot == slot)
                .map(|s| format!("sample {}", s.name)),
        };
        if let Some(target) = target {
            line(out, &["/seq/target", &track, &target]);
        }
    }
    for inst in &instruments {
        for (note, velocity) in patch.held_notes_in(inst.head).unwrap_or_default() {
            let (note, velocity) = (note.to_string(), velocity.to_string());
            match inst.head {
                None => line(out, &["/note/on", &note, &velocity]),
                Some(_) => line(out, &["/note/on", &note, &velocity, &inst.name]),
            }
        }
    }
    if seq.running() {
        line(out, &["/seq/start"]);
    }
}

/// `poly` or `mono`.
fn mode_word(mode: VoiceMode) -> &'static str {
    match mode {
        VoiceMode::Mono => "mono",
        VoiceMode::Poly => "poly",
    }
}

/// A pattern step as `/seq/pattern` takes it: `.`, `x`, `X` or a note name.
fn step_word(code: u8) -> String {
    match code {
        sequencer::HIT => "x".to_owned(),
        sequencer::ACCENT => "X".to_owned(),
        c if c >= sequencer::NOTE => chronus_dsp::pitch::note_name(c - sequencer::NOTE),
        _ => ".".to_owned(),
    }
}

/// The connection changes of module `d` of `patch` against what it was in `sim` (`before`):
/// what goes away into `off`, what comes or changes into `on`.
fn wire(
    patch: &Patch,
    sim: &Patch,
    d: &NodeDesc,
    before: Option<&NodeDesc>,
    off: &mut String,
    on: &mut String,
) {
    let name_in = |p: &Patch, id| p.name(id).unwrap_or("?").to_owned();
    let source_in = |p: &Patch, s: Source| match s {
        Source::Module(id) => name_in(p, id),
        Source::Velocity => "velocity".to_owned(),
        Source::Key => "key".to_owned(),
    };
    let params = d.kind.params();
    let empty = NodeDesc {
        id: d.id,
        name: d.name.clone(),
        kind: d.kind,
        inputs: Vec::new(),
        routes: Vec::new(),
        to_out: false,
    };
    let before = before.unwrap_or(&empty);
    // Audio inputs, by the source's name.
    let had: Vec<(String, f32)> = before
        .inputs
        .iter()
        .map(|i| (name_in(sim, i.from), i.level))
        .collect();
    let has: Vec<(String, f32)> = d
        .inputs
        .iter()
        .map(|i| (name_in(patch, i.from), i.level))
        .collect();
    for (from, _) in &had {
        if !has.iter().any(|(f, _)| f == from) {
            line(off, &["/patch/disconnect", from, &d.name]);
        }
    }
    for (from, level) in &has {
        if !had
            .iter()
            .any(|(f, l)| f == from && l.to_bits() == level.to_bits())
        {
            line(on, &["/patch/connect", from, &d.name, &level.to_string()]);
        }
    }
    if before.to_out && !d.to_out {
        line(off, &["/patch/disconnect", &d.name, "out"]);
    }
    if d.to_out && !before.to_out {
        line(on, &["/patch/connect", &d.name, "out"]);
    }
    // Modulation routes, by source and parameter.
    let param = |p: u8| params.get(p as usize).map_or("?", |s| s.name);
    for r in &before.routes {
        let from = source_in(sim, r.from);
        if !d
            .routes
            .iter()
            .any(|n| source_in(patch, n.from) == from && n.param == r.param)
        {
            line(
                off,
                &[
                    "/patch/disconnect",
                    &from,
                    &format!("{}.{}", d.name, param(r.param)),
                ],
            );
        }
    }
    for r in &d.routes {
        let from = source_in(patch, r.from);
        let same = before.routes.iter().any(|b| {
            source_in(sim, b.from) == from
                && b.param == r.param
                && b.depth.to_bits() == r.depth.to_bits()
        });
        if !same {
            let to = format!("{}.{}", d.name, param(r.param));
            line(on, &["/patch/connect", &from, &to, &r.depth.to_string()]);
        }
    }
}

/// Appends one line at time 0: `words` separated by spaces.
fn line(out: &mut String, words: &[&str]) {
    let _ = writeln!(out, "0 {}", words.join(" "));
}

/// `text` in double quotes (an argument with spaces).
fn quote(text: &str) -> String {
    format!("\"{text}\"")
}

/// Makes the edits of `lines` (a score's setup) in `patch`.
fn apply(patch: &mut Patch, lines: &str) -> Result<(), EngineError> {
    Score::parse(lines)?.set_up(patch).map(|_| ())
}

/// A session's text with the host's lines (`0 /midi/…`, each ending in a newline) put in
/// before its last line, where [`parse`] keeps them for the host ([`Score::host`]).
pub fn with_host_lines(text: &str, lines: &str) -> String {
    if lines.is_empty() {
        return text.to_owned();
    }
    match text.rfind(END) {
        Some(at) => format!("{}{lines}{}", &text[..at], &text[at..]),
        None => format!("{text}{lines}"),
    }
}

/// Reads a session: its header (this version or an older one; a newer one is refused), then
/// its score. Errors name the line and say what to do.
pub fn parse(text: &str) -> Result<Score, EngineError> {
    let first = text.lines().next().unwrap_or("");
    let Some(version) = first.strip_prefix(HEADER) else {
        return Err(EngineError::Session {
            line: 1,
            reason: format!(
                "the first line is not `{HEADER}{VERSION}` (this is no session file, or it was \
                 cut short); give another file, or move this one away to start afresh"
            ),
        });
    };
    match version.trim().parse::<u32>() {
        Ok(v) if v <= VERSION => {}
        Ok(v) => {
            return Err(EngineError::Session {
                line: 1,
                reason: format!(
                    "version {v} was written by a newer chronus (this one reads {VERSION}); \
                     run that chronus, or start without --session"
                ),
            })
        }
        Err(_) => {
            return Err(EngineError::Session {
                line: 1,
                reason: format!("'{}' is no version number", version.trim()),
            })
        }
    }
    let (last, n) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last()
        .map_or(("", 1), |(i, l)| (l.trim(), i + 1));
    if last != END {
        return Err(EngineError::Session {
            line: n,
            reason: format!(
                "the file ends here without its last line `{END}`: it was cut short; use a \
                 copy from before, or move it away to start afresh"
            ),
        });
    }
    Score::parse(text)
}

/// Writes `text` to `path` so that a crash at any instant leaves the old file or the new one,
/// never a torn one: a temporary file beside it, flushed to disk, renamed over it, the folder
/// flushed.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("a session is a file, not a folder"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(&dir)?.sync_all()
}

/// Makes the default patch `base` into the session's: its setup's edits made in `base` (and
/// returned, for an engine to make them before it plays), then its commands resolved against
/// the result (for sample 0). All or nothing: an error leaves `base` unusable, never half a
/// session played.
pub fn restore(
    session: &Score,
    base: &mut Patch,
    samples: Vec<(String, u16)>,
) -> Result<(Vec<crate::PatchEdit>, Vec<crate::Command>), EngineError> {
    let edits = session.set_up(base)?;
    let commands =
        session.resolve_in(&crate::control::Directory::of(base).with_samples(samples))?;
    Ok((edits, commands))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default patch with the session `text` loaded: edits made, parameters set.
    fn load(text: &str) -> Patch {
        let mut p = Patch::default_patch_for(48_000.0, 64, true).unwrap();
        let (_, commands) = restore(&parse(text).unwrap(), &mut p, Vec::new()).unwrap();
        for c in commands {
            if let crate::Action::Set {
                module,
                param,
                value,
            } = c.action
            {
                p.set_param(module, param, value).unwrap();
            }
        }
        p
    }

    #[test]
    fn a_session_rebuilds_the_patch_and_saves_again_to_the_same_text() {
        let mut p = Patch::default_patch_for(48_000.0, 64, true).unwrap();
        let setup = "0 /patch/remove lfo\n\
                     0 /patch/create op osc\n\
                     0 /patch/create wob lfo\n\
                     0 /bus/new verb\n\
                     0 /patch/connect verb out\n\
                     0 /inst/new bass \"osc > adsr > filter\" verb\n\
                     0 /patch/connect op sine.pm 1.5\n\
                     0 /patch/connect wob bass.filter.cutoff 0.25\n\
                     0 /patch/connect velocity filter.cutoff 0.1\n\
                     0 /patch/disconnect filter pan\n\
                     0 /patch/connect filter verb 0.5\n\
                     0 /patch/connect op out\n";
        apply(&mut p, setup).unwrap();
        for (m, param, v) in [
            ("filter", "cutoff", 2_500.0),
            ("bass.osc", "shape", 3.0),
            ("op", "freq", 130.5),
            ("sine", "unison", 5.0),
            ("wob", "retrig", 1.0),
        ] {
            p.set(m, param, v).unwrap();
        }
        let seq = Sequencer::new(48_000.0);
        let text = render(&p, &seq, &[]).unwrap();
        println!("{text}");
        let q = load(&text);
        assert_eq!(
            render(&q, &seq, &[]).unwrap(),
            text,
            "save, load, save: the same text"
        );
        // The same modules, wiring and values, by name.
        let names = |p: &Patch| {
            let mut v: Vec<String> = p
                .describe()
                .iter()
                .map(|d| format!("{} {} out={}", d.name, d.kind.name(), d.to_out))
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&p), names(&q));
        for (m, param) in [("filter", "cutoff"), ("op", "freq"), ("bass.osc", "shape")] {
            let (a, b) = (p.lookup(m).unwrap(), q.lookup(m).unwrap());
            let k = p.kind(a).unwrap().param_id(param).unwrap();
            assert_eq!(
                p.param(a, k).unwrap(),
                q.param(b, k).unwrap(),
                "{m}.{param}"
            );
        }
    }

    #[test]
    fn the_default_patch_is_an_empty_session() {
        let p = Patch::default_patch_for(48_000.0, 64, true).unwrap();
        let text = render(&p, &Sequencer::new(48_000.0), &[]).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with('0')).count(),
            0,
            "{text}"
        );
        assert!(parse(&text).unwrap().events.is_empty());
    }

    #[test]
    fn a_newer_or_foreign_file_is_refused_with_its_line() {
        let e = parse("# chronus-session 2\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("newer"), "{e}");
        let e = parse("0 /mod/sine/freq 440\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("no session"), "{e}");
        let e = parse("# chronus-session 1\n0 /mod/sine/freq 440\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("cut short"), "{e}");
        let e = parse("# chronus-session 1\n0 mod/sine/freq 440\n# end\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
