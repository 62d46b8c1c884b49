//! The one address table: a control address with its arguments (`/mod/filter/cutoff 800`)
//! becomes typed [`Action`]s, here and nowhere else, for OSC, scores, `chronus say` and MCP.
//!
//! | address | arguments | action |
//! |---|---|---|
//! | `/mod/<module>/<param>` | number, or a note value (`1/8.`) | set a parameter |
//! | `/gate/<module>` | `on`/`off`/`1`/`0`/`true`/`false` or a number or bool | open/close a gate |
//! | `/engine/freq` | number (Hz) | `sine.freq` (seed compatibility) |
//! | `/engine/amp` | number 0..1 | `sine.gain` (seed compatibility) |
//! | `/note/on` | note (0..127 or a name like `C4`), velocity 0..1 (default 1), instrument (default: the default one) | play a note |
//! | `/note/off` | note, or nothing for every note; then an instrument | release |
//! | `/note/sustain` | `on`/`off` (or 1/0), then an instrument | the sustain pedal |
//! | `/note/bend` | semitones −48..48, then an instrument | pitch bend |
//! | `/voices` | count 1..128, then optionally `poly` or `mono` | the default instrument's voice pool |
//! | `/inst/voices` | instrument, count 1..128, then optionally `poly` or `mono` | an instrument's voice pool |
//! | `/seq/bpm`, `/seq/swing`, `/seq/start`, `/seq/stop`, `/seq/pattern`, `/seq/target` | see docs/osc.md | the sequencer |
//!
//! Module and parameter names in `/mod` and `/gate` may be OSC patterns (`/mod/s*/gain`):
//! they stand for every module and parameter they match.

use super::{pattern, Arg, Directory};
use crate::{Action, EngineError};
use chronus_dsp::{ModuleId, ParamSpec};

/// What an address stands for: the actions (taken together, at one sample) and the values
/// that were outside their parameter's range (the modules clamp them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolved {
    /// The actions, in order.
    pub actions: Vec<Action>,
    /// The values that will be clamped.
    pub clamped: Vec<Clamped>,
}

/// A value outside its parameter's range, and what it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Clamped {
    /// The module's name.
    pub module: String,
    /// The parameter's name.
    pub param: &'static str,
    /// The value the module will use.
    pub value: f32,
}

/// Resolves `address` with `args` against the patch's names.
pub fn resolve(dir: &Directory, address: &str, args: &[Arg<'_>]) -> Result<Resolved, EngineError> {
    let parts: Vec<&str> = address.strip_prefix('/').unwrap_or("").split('/').collect();
    match parts.as_slice() {
        ["mod", module, param] => resolve_set_all(dir, module, param, address, args),
        ["gate", module] => Ok(Resolved {
            actions: resolve_gate(dir, module, address, args)?,
            clamped: Vec::new(),
        }),
        _ => Ok(Resolved {
            actions: resolve_other(dir, address, args)?,
            clamped: Vec::new(),
        }),
    }
}

/// The modules a `/mod` or `/gate` names: one by its name, or those an OSC pattern matches.
fn modules<'d>(
    dir: &'d Directory,
    module: &str,
    address: &str,
) -> Result<Vec<&'d super::Entry>, EngineError> {
    if !pattern::is_pattern(module) {
        return Ok(vec![dir.lookup(module)?]);
    }
    let found: Vec<_> = dir
        .modules()
        .iter()
        .filter(|e| pattern::matches(module, &e.name))
        .collect();
    if found.is_empty() {
        return Err(bad(address, format!("no module matches '{module}'")));
    }
    Ok(found)
}

fn resolve_set_all(
    dir: &Directory,
    module: &str,
    param: &str,
    address: &str,
    args: &[Arg<'_>],
) -> Result<Resolved, EngineError> {
    // A sampler's sample by its name: `/mod/keys.sampler/sample amen`.
    let value = match args {
        [Arg::Str(name)] if param == "sample" => match dir.sample(name) {
            Some(slot) => f32::from(slot),
            None if *name == "none" => -1.0,
            None => {
                return Err(EngineError::NoSuchSample {
                    name: (*name).to_owned(),
                })
            }
        },
        _ => one_number(address, args)?,
    };
    let mut out = Resolved::default();
    let exact = !pattern::is_pattern(module) && !pattern::is_pattern(param);
    for e in modules(dir, module, address)? {
        if exact {
            // One module, one parameter: an unknown one is named with the module's list.
            e.kind.param_id(param)?;
        }
        for (p, spec) in e.kind.params().iter().enumerate() {
            if !pattern::matches(param, spec.name) {
                continue;
            }
            let outcome = ParamSpec::accept(spec, value, dir.sample_rate())?;
            if outcome.clamped {
                out.clamped.push(Clamped {
                    module: e.name.clone(),
                    param: spec.name,
                    value: outcome.value,
                });
            }
            out.actions.push(Action::Set {
                module: e.id,
                param: p as u8,
                value,
            });
        }
    }
    if out.actions.is_empty() {
        return Err(bad(
            address,
            format!("no parameter matches '{param}' on '{module}'"),
        ));
    }
    Ok(out)
}

/// `/engine/freq` and `/engine/amp`: one parameter of the `sine` module.
fn resolve_set(
    dir: &Directory,
    module: &str,
    param: &str,
    address: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Action>, EngineError> {
    let e = dir.lookup(module)?;
    Ok(vec![Action::Set {
        module: e.id,
        param: e.kind.param_id(param)?,
        value: one_number(address, args)?,
    }])
}

fn resolve_gate(
    dir: &Directory,
    module: &str,
    address: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Action>, EngineError> {
    let on = match args {
        [a] => a
            .as_gate()
            .ok_or_else(|| bad(address, "expects on|off|1|0|true|false"))?,
        _ => {
            return Err(bad(
                address,
                format!("expects 1 argument, got {}", args.len()),
            ))
        }
    };
    let found = modules(dir, module, address)?;
    if let [e] = found.as_slice() {
        if !e.kind.gateable() && !pattern::is_pattern(module) {
            return Err(chronus_dsp::DspError::NotGateable {
                module: e.kind.name(),
            }
            .into());
        }
    }
    let actions: Vec<Action> = found
        .into_iter()
        .filter(|e| e.kind.gateable())
        .map(|e| Action::Gate { module: e.id, on })
        .collect();
    if actions.is_empty() {
        return Err(bad(
            address,
            format!("'{module}' has no gate (gates: adsr modules)"),
        ));
    }
    Ok(actions)
}

fn bad(address: &str, reason: impl Into<String>) -> EngineError {
    EngineError::BadArguments {
        address: address.to_owned(),
        reason: reason.into(),
    }
}

fn one_number(address: &str, args: &[Arg<'_>]) -> Result<f32, EngineError> {
    match args {
        [a] => {
            let v = a
                .as_value()
                .ok_or_else(|| bad(address, "expects a number (or a note value like 1/8.)"))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad(address, "value is not finite"))
            }
        }
        _ => Err(bad(
            address,
            format!("expects 1 number, got {} arguments", args.len()),
        )),
    }
}

/// `/seq`, `/note`, `/voices` and `/engine`.
fn resolve_other(
    dir: &Directory,
    address: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Action>, EngineError> {
    use crate::sequencer::{self, SeqAction, SeqTarget};
    let parts: Vec<&str> = address.strip_prefix('/').unwrap_or("").split('/').collect();
    let seq = |a: SeqAction| Ok(vec![Action::Seq(a)]);
    let track = |a: Option<&Arg<'_>>| -> Result<u8, EngineError> {
        a.and_then(Arg::as_f32)
            .filter(|t| t.fract() == 0.0 && (0.0..sequencer::TRACKS as f32).contains(t))
            .map(|t| t as u8)
            .ok_or_else(|| {
                bad(
                    address,
                    format!(
                        "the first argument is a track, 0..{}",
                        sequencer::TRACKS - 1
                    ),
                )
            })
    };
    match parts.as_slice() {
        ["seq", "bpm"] => {
            let b = one_number(address, args)?;
            if !(20.0..=300.0).contains(&b) {
                return Err(bad(address, format!("{b} BPM is outside 20..300")));
            }
            seq(SeqAction::Bpm(b))
        }
        ["seq", "swing"] => {
            let s = one_number(address, args)?;
            if !(0.0..=0.5).contains(&s) {
                return Err(bad(address, format!("swing {s} is outside 0..0.5")));
            }
            seq(SeqAction::Swing(s))
        }
        ["seq", "start"] => seq(SeqAction::Run(true)),
        ["seq", "stop"] => seq(SeqAction::Run(false)),
        ["seq", "pattern"] => {
            let t = track(args.first())?;
            let text = match args.get(1..) {
                Some(rest) if !rest.is_empty() => rest
                    .iter()
                    .map(|a| match a {
                        Arg::Str(s) => (*s).to_owned(),
                        Arg::Int(i) => i.to_string(),
                        Arg::Float(f) => f.to_string(),
                        Arg::Double(d) => d.to_string(),
                        Arg::Bool(b) => b.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => return Err(bad(address, "expects <track> <pattern>, e.g. 0 x.x.x.x.")),
            };
            let steps = sequencer::parse_pattern(&text).map_err(|e| bad(address, e))?;
            sequencer::pattern_actions(t, &steps)
        }
        ["seq", "target"] => {
            let t = track(args.first())?;
            let target = match args.get(1) {
                Some(Arg::Str("note")) => SeqTarget::Note {
                    osc: dir.lookup("sine")?.id,
                    gate: dir.lookup("adsr")?.id,
                },
                Some(Arg::Str("off")) => SeqTarget::Off,
                Some(Arg::Str("sample")) => match args.get(2) {
                    Some(Arg::Str(name)) => {
                        SeqTarget::Sample(dir.sample(name).ok_or_else(|| {
                            EngineError::NoSuchSample {
                                name: (*name).to_owned(),
                            }
                        })?)
                    }
                    _ => {
                        return Err(bad(
                            address,
                            "expects <track> sample <name>, e.g. 0 sample kick",
                        ))
                    }
                },
                Some(Arg::Str(name)) => match (dir.lookup(name), dir.instrument(name)) {
                    (Ok(e), _) if e.kind.gateable() => SeqTarget::Gate(e.id),
                    (Ok(_), Err(_)) => {
                        return Err(bad(address, format!("'{name}' has no gate")));
                    }
                    (_, Ok(_)) => SeqTarget::Inst(playable(dir, Some(name))?),
                    (Err(_), Err(_)) => {
                        return Err(bad(
                            address,
                            format!(
                                "'{name}' is neither a module with a gate nor an instrument \
                                 (/modules and /inst/list name them)"
                            ),
                        ))
                    }
                },
                _ => {
                    return Err(bad(
                        address,
                        "expects <track> note|off|<gate module>|<instrument>",
                    ))
                }
            };
            seq(SeqAction::Target { track: t, target })
        }
        ["sample", "play"] => {
            let usage = "expects <sample> [gain] [rate], e.g. kick, kick 0.8 or kick 1 0.5 (rate: 2 an octave up, -1 reversed)";
            let name = match args.first() {
                Some(Arg::Str(n)) => *n,
                _ => return Err(bad(address, usage)),
            };
            let slot = dir.sample(name).ok_or_else(|| EngineError::NoSuchSample {
                name: name.to_owned(),
            })?;
            let number =
                |i: usize, what: &str, range: std::ops::RangeInclusive<f32>| match args.get(i) {
                    None => Ok(None),
                    Some(a) => a
                        .as_f32()
                        .filter(|v| v.is_finite() && range.contains(&v.abs()))
                        .map(Some)
                        .ok_or_else(|| {
                            bad(
                                address,
                                format!(
                                    "{what} must be a number of size {}..{}",
                                    range.start(),
                                    range.end()
                                ),
                            )
                        }),
                };
            if args.len() > 3 {
                return Err(bad(address, usage));
            }
            let gain = number(1, "gain", 0.0..=4.0)?.unwrap_or(1.0);
            if gain < 0.0 {
                return Err(bad(address, "gain must be 0..4"));
            }
            let rate = number(2, "rate", 0.25..=4.0)?.unwrap_or(1.0);
            Ok(vec![Action::PlaySample { slot, gain, rate }])
        }
        ["note", "on"] => {
            let usage = "expects <note> [velocity] [instrument], e.g. 60 0.8, C4 or C4 0.8 bass";
            let (note, velocity, inst) = match args {
                [n] => (note_arg(address, n)?, 1.0, None),
                [n, Arg::Str(i)] => (note_arg(address, n)?, 1.0, Some(*i)),
                [n, v] | [n, v, Arg::Str(_)] => {
                    let v = v
                        .as_f32()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| bad(address, "velocity must be a number 0..1"))?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(bad(address, format!("velocity {v} is outside 0..1")));
                    }
                    let inst = match args.get(2) {
                        Some(Arg::Str(i)) => Some(*i),
                        _ => None,
                    };
                    (note_arg(address, n)?, v, inst)
                }
                _ => return Err(bad(address, usage)),
            };
            let inst = playable(dir, inst)?;
            Ok(vec![Action::NoteOn {
                note,
                velocity,
                inst,
            }])
        }
        ["note", "off"] => {
            let usage = "expects [note] [instrument]: a note, or nothing for every note";
            let (note, inst) = match args {
                [] => (None, None),
                // A lone name: an instrument's (every note of it), else a note's.
                [Arg::Str(i)] if dir.instrument(i).is_ok() => (None, Some(*i)),
                [n] => (Some(note_arg(address, n)?), None),
                [n, Arg::Str(i)] => (Some(note_arg(address, n)?), Some(*i)),
                _ => return Err(bad(address, usage)),
            };
            let inst = playable(dir, inst)?;
            Ok(vec![Action::NoteOff { note, inst }])
        }
        ["note", "sustain"] => {
            let usage = "expects on|off (or 1|0) [instrument]: the sustain pedal";
            let (on, inst) = match args {
                [v] => (v.as_gate(), None),
                [v, Arg::Str(i)] => (v.as_gate(), Some(*i)),
                _ => return Err(bad(address, usage)),
            };
            let on = on.ok_or_else(|| bad(address, usage))?;
            let inst = playable(dir, inst)?;
            Ok(vec![Action::Sustain { on, inst }])
        }
        ["note", "bend"] => {
            let usage = "expects <semitones -48..48> [instrument]: the pitch bend (0: none)";
            let (v, inst) = match args {
                [v] => (v, None),
                [v, Arg::Str(i)] => (v, Some(*i)),
                _ => return Err(bad(address, usage)),
            };
            let max = chronus_dsp::MAX_BEND;
            let semitones = v
                .as_f32()
                .filter(|x| x.is_finite() && x.abs() <= max)
                .ok_or_else(|| bad(address, usage))?;
            let inst = playable(dir, inst)?;
            Ok(vec![Action::Bend { semitones, inst }])
        }
        ["voices"] => {
            let (count, mono) = voice_args(address, args)?;
            Ok(vec![Action::Voices {
                count,
                mono,
                inst: None,
            }])
        }
        ["inst", "voices"] => {
            let Some((Arg::Str(name), rest)) = args.split_first() else {
                return Err(bad(
                    address,
                    "expects <instrument> <count 1..128> [poly|mono]",
                ));
            };
            let inst = dir.instrument(name)?.head;
            let (count, mono) = voice_args(address, rest)?;
            Ok(vec![Action::Voices { count, mono, inst }])
        }
        ["engine", "freq"] => resolve_set(dir, "sine", "freq", address, args),
        ["engine", "amp"] => resolve_set(dir, "sine", "gain", address, args),
        _ => Err(EngineError::UnknownAddress {
            address: address.to_owned(),
        }),
    }
}

/// The instrument a note goes to, by name (`None`: the default one), as its head module; it
/// must have a voice template.
fn playable(dir: &Directory, name: Option<&str>) -> Result<Option<ModuleId>, EngineError> {
    let inst = match name {
        None => dir.instruments().first(),
        Some(n) => Some(dir.instrument(n)?),
    };
    match inst {
        Some(i) if !i.chain.is_empty() => Ok(i.head),
        _ => Err(chronus_dsp::DspError::NoVoiceTemplate.into()),
    }
}

/// `<count 1..128> [poly|mono]`, for `/voices` and `/inst/voices`.
fn voice_args(address: &str, args: &[Arg<'_>]) -> Result<(u8, bool), EngineError> {
    let usage = "expects <count 1..128> [poly|mono]";
    let count = args
        .first()
        .and_then(Arg::as_f32)
        .filter(|c| c.fract() == 0.0 && (1.0..=chronus_dsp::MAX_VOICES as f32).contains(c))
        .ok_or_else(|| bad(address, usage))? as u8;
    let mono = match args.get(1..) {
        Some([]) | None => false,
        Some([Arg::Str("poly")]) => false,
        Some([Arg::Str("mono" | "legato")]) => true,
        _ => return Err(bad(address, usage)),
    };
    Ok((count, mono))
}

/// A note argument: a MIDI number 0..=127 or a name (`C4`, `F#3`, `Bb2`).
fn note_arg(address: &str, arg: &Arg<'_>) -> Result<u8, EngineError> {
    let note = match *arg {
        Arg::Str(s) => crate::sequencer::parse_note(s),
        other => other
            .as_f32()
            .filter(|n| n.fract() == 0.0 && (0.0..=127.0).contains(n))
            .map(|n| n as u8),
    };
    note.ok_or_else(|| {
        bad(
            address,
            "a note is a MIDI number 0..127 or a name like C4, F#3, Bb2",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chronus_dsp::Patch;

    fn parse(p: &Patch, a: &str, args: &[Arg<'_>]) -> Result<Action, EngineError> {
        crate::control::parse(p, a, args)
    }

    fn parse_all(p: &Patch, a: &str, args: &[Arg<'_>]) -> Result<Vec<Action>, EngineError> {
        crate::control::parse_all(p, a, args)
    }

    #[test]
    fn parses_the_seed_addresses() {
        let p = Patch::default_patch(48_000.0, 64).unwrap();
        let sine = p.find("sine").unwrap();
        let adsr = p.find("adsr").unwrap();
        assert_eq!(
            parse(&p, "/mod/sine/freq", &[Arg::Int(440)]).unwrap(),
            Action::Set {
                module: sine,
                param: 0,
                value: 440.0
            }
        );
        assert_eq!(
            parse(&p, "/engine/amp", &[Arg::Float(0.25)]).unwrap(),
            Action::Set {
                module: sine,
                param: 1,
                value: 0.25
            }
        );
        for (arg, on) in [
            (Arg::Str("on"), true),
            (Arg::Str("OFF"), false),
            (Arg::Int(1), true),
            (Arg::Bool(false), false),
        ] {
            assert_eq!(
                parse(&p, "/gate/adsr", &[arg]).unwrap(),
                Action::Gate { module: adsr, on }
            );
        }
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        let p = Patch::default_patch(48_000.0, 64).unwrap();
        let err = |a: &str, args: &[Arg<'_>]| parse(&p, a, args).unwrap_err().to_string();
        assert!(err("/mod/nope/freq", &[Arg::Int(1)]).contains("unknown module 'nope'"));
        assert!(err("/mod/sine/nope", &[Arg::Int(1)]).contains("no parameter 'nope'"));
        assert!(err("/mod/sine/freq", &[]).contains("expects 1 number"));
        assert!(err("/mod/sine/freq", &[Arg::Str("x")]).contains("expects a number"));
        assert!(err("/mod/sine/freq", &[Arg::Float(f32::NAN)]).contains("not finite"));
        assert!(err("/gate/adsr", &[Arg::Str("maybe")]).contains("on|off"));
        assert!(err("/gate/sine", &[Arg::Int(1)]).contains("no gate"));
        assert!(err("/what", &[]).contains("unknown address"));
        assert!(err("", &[]).contains("unknown address"));
    }

    #[test]
    fn note_values_read_as_fractions_of_a_whole_note() {
        assert_eq!(super::super::note_value("1/4"), Some(0.25));
        assert_eq!(super::super::note_value("1/8."), Some(0.1875));
        assert_eq!(super::super::note_value("3/16"), Some(0.1875));
        assert_eq!(super::super::note_value("1/8t"), Some(1.0 / 12.0));
        assert_eq!(super::super::note_value("off"), Some(0.0));
        for bad in ["", "1/0", "0/4", "x/4", "1/", "quarter"] {
            assert_eq!(super::super::note_value(bad), None, "{bad}");
        }
        // The delay exists with the effects only.
        #[cfg(feature = "effects")]
        {
            let p = Patch::default_patch(48_000.0, 64).unwrap();
            let delay = p.find("delay").unwrap();
            assert_eq!(
                parse(&p, "/mod/delay/sync", &[Arg::Str("1/8.")]).unwrap(),
                Action::Set {
                    module: delay,
                    param: 3,
                    value: 0.1875
                }
            );
        }
    }

    #[test]
    fn parses_notes_and_voices() {
        let p = Patch::default_patch(48_000.0, 64).unwrap();
        let all = |a: &str, args: &[Arg<'_>]| parse_all(&p, a, args);
        assert_eq!(
            all("/note/on", &[Arg::Int(60)]).unwrap(),
            [Action::NoteOn {
                note: 60,
                velocity: 1.0,
                inst: None
            }]
        );
        assert_eq!(
            all("/note/on", &[Arg::Str("A4"), Arg::Float(0.5)]).unwrap(),
            [Action::NoteOn {
                note: 69,
                velocity: 0.5,
                inst: None
            }]
        );
        assert_eq!(
            all("/note/off", &[Arg::Str("C#4")]).unwrap(),
            [Action::NoteOff {
                note: Some(61),
                inst: None
            }]
        );
        assert_eq!(
            all("/note/off", &[]).unwrap(),
            [Action::NoteOff {
                note: None,
                inst: None
            }]
        );
        assert_eq!(
            all("/voices", &[Arg::Int(1), Arg::Str("mono")]).unwrap(),
            [Action::Voices {
                count: 1,
                mono: true,
                inst: None
            }]
        );
        let err = |a: &str, args: &[Arg<'_>]| all(a, args).unwrap_err().to_string();
        assert!(err("/note/on", &[Arg::Int(128)]).contains("MIDI number 0..127"));
        assert!(err("/note/on", &[Arg::Float(60.5)]).contains("MIDI number"));
        assert!(err("/note/on", &[Arg::Str("H2")]).contains("MIDI number"));
        assert!(err("/note/on", &[Arg::Int(60), Arg::Float(1.5)]).contains("outside 0..1"));
        assert!(err("/note/on", &[Arg::Int(60), Arg::Float(f32::NAN)]).contains("velocity"));
        assert!(err("/note/on", &[]).contains("expects <note>"));
        assert!(err("/voices", &[Arg::Int(0)]).contains("1..128"));
        assert!(err("/voices", &[Arg::Int(4), Arg::Str("duo")]).contains("poly|mono"));
        let mut bare = Patch::new(48_000.0, 64).unwrap();
        bare.add("sine", chronus_dsp::ModuleKind::Osc).unwrap();
        assert!(parse_all(&bare, "/note/on", &[Arg::Int(60)])
            .unwrap_err()
            .to_string()
            .contains("no voice template"));
    }

    #[test]
    fn notes_and_voices_go_to_a_named_instrument() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let bass = Some(p.add_instrument("bass", "osc > adsr", None).unwrap());
        let all = |a: &str, args: &[Arg<'_>]| parse_all(&p, a, args);
        let on = |note, velocity, inst| Action::NoteOn {
            note,
            velocity,
            inst,
        };
        assert_eq!(
            all(
                "/note/on",
                &[Arg::Int(36), Arg::Float(0.5), Arg::Str("bass")]
            )
            .unwrap(),
            [on(36, 0.5, bass)]
        );
        assert_eq!(
            all("/note/on", &[Arg::Str("C2"), Arg::Str("bass")]).unwrap(),
            [on(36, 1.0, bass)]
        );
        assert_eq!(
            all(
                "/note/on",
                &[Arg::Int(60), Arg::Float(1.0), Arg::Str("default")]
            )
            .unwrap(),
            [on(60, 1.0, None)]
        );
        assert_eq!(
            all("/note/off", &[Arg::Str("bass")]).unwrap(),
            [Action::NoteOff {
                note: None,
                inst: bass
            }]
        );
        assert_eq!(
            all("/note/off", &[Arg::Str("C2"), Arg::Str("bass")]).unwrap(),
            [Action::NoteOff {
                note: Some(36),
                inst: bass
            }]
        );
        assert_eq!(
            all(
                "/inst/voices",
                &[Arg::Str("bass"), Arg::Int(1), Arg::Str("mono")]
            )
            .unwrap(),
            [Action::Voices {
                count: 1,
                mono: true,
                inst: bass
            }]
        );
        let err = |a: &str, args: &[Arg<'_>]| all(a, args).unwrap_err().to_string();
        assert!(
            err("/note/on", &[Arg::Int(60), Arg::Str("drums")]).contains("no instrument 'drums'")
        );
        assert!(err("/inst/voices", &[Arg::Str("drums"), Arg::Int(2)]).contains("no instrument"));
        assert!(err("/inst/voices", &[Arg::Str("bass"), Arg::Int(129)]).contains("1..128"));
        assert!(err("/inst/voices", &[]).contains("expects <instrument>"));
    }

    #[test]
    fn patterns_stand_for_every_match_and_out_of_range_values_are_reported() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        p.add("sine2", chronus_dsp::ModuleKind::Osc).unwrap();
        let dir = Directory::of(&p);
        let r = resolve(&dir, "/mod/sine*/gain", &[Arg::Float(2.0)]).unwrap();
        let modules: Vec<_> = r
            .actions
            .iter()
            .map(|a| match a {
                Action::Set { module, .. } => *module,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(modules, [p.find("sine").unwrap(), p.find("sine2").unwrap()]);
        assert_eq!(r.clamped.len(), 2, "gain 2 is above 1 on both: {r:?}");
        assert_eq!(
            (r.clamped[1].module.as_str(), r.clamped[1].param),
            ("sine2", "gain")
        );
        assert_eq!(r.clamped[1].value, 1.0);
        // The exact address is the same table, with nothing clamped.
        let r = resolve(&dir, "/mod/sine/gain", &[Arg::Float(0.5)]).unwrap();
        assert_eq!(r.actions.len(), 1);
        assert!(r.clamped.is_empty());
        let err = |a: &str| resolve(&dir, a, &[Arg::Int(1)]).unwrap_err().to_string();
        assert!(err("/mod/nomatch*/freq").contains("no module matches 'nomatch*'"));
        assert!(err("/mod/sine/fr?x").contains("no parameter matches 'fr?x'"));
        assert!(err("/gate/sine*").contains("has no gate"));
        // One action was asked for, a pattern gives two.
        assert!(parse(&p, "/mod/sine*/gain", &[Arg::Float(0.5)])
            .unwrap_err()
            .to_string()
            .contains("stands for 2 actions"));
    }
}
