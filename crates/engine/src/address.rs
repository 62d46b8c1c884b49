//! Parses textual control addresses (the OSC address space) into typed [`Action`]s, once,
//! at the edge.
//!
//! | address | arguments | action |
//! |---|---|---|
//! | `/mod/<module>/<param>` | number | set a parameter |
//! | `/gate/<module>` | `on`/`off`/`1`/`0`/`true`/`false` or a number or bool | open/close a gate |
//! | `/engine/freq` | number (Hz) | `sine.freq` (seed compatibility) |
//! | `/engine/amp` | number 0..1 | `sine.gain` (seed compatibility) |
//! | `/note/on` | note (0..127 or a name like `C4`), velocity 0..1 (default 1) | play a note |
//! | `/note/off` | note, or nothing for every note | release |
//! | `/voices` | count 1..32, then optionally `poly` or `mono` | the voice pool |

use crate::{Action, EngineError};
use chronus_dsp::Patch;

/// One argument of a control message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// A 32-bit float.
    Float(f32),
    /// A 32-bit integer.
    Int(i32),
    /// A 64-bit float.
    Double(f64),
    /// A string.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
}

impl Arg<'_> {
    /// The argument as a number, if it is one.
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Arg::Float(v) => Some(v),
            Arg::Int(v) => Some(v as f32),
            Arg::Double(v) => Some(v as f32),
            Arg::Str(_) | Arg::Bool(_) => None,
        }
    }

    /// The argument as a parameter value: a number, or a note value as text for tempo-synced
    /// parameters: `1/4`, `1/8`, `3/16`, with `.` for dotted (`1/8.` = 3/16) and `t` for a
    /// triplet (`1/8t` = 1/12); `off` is 0.
    pub fn as_value(&self) -> Option<f32> {
        match *self {
            Arg::Str(s) => note_value(s),
            other => other.as_f32(),
        }
    }

    /// The argument as a gate state, if it reads as one.
    pub fn as_gate(&self) -> Option<bool> {
        match *self {
            Arg::Bool(b) => Some(b),
            Arg::Str(s) => match s.to_ascii_lowercase().as_str() {
                "on" | "1" | "true" | "yes" => Some(true),
                "off" | "0" | "false" | "no" => Some(false),
                _ => None,
            },
            other => other.as_f32().filter(|v| v.is_finite()).map(|v| v > 0.0),
        }
    }
}

/// A note value in whole notes: `1/4` = 0.25, `1/8.` = 0.1875, `1/8t` = 1/12, `off` = 0.
pub fn note_value(text: &str) -> Option<f32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("off") {
        return Some(0.0);
    }
    let (t, factor) = match (t.strip_suffix('.'), t.strip_suffix('t')) {
        (Some(rest), _) => (rest, 1.5),
        (_, Some(rest)) => (rest, 2.0 / 3.0),
        _ => (t, 1.0),
    };
    let (a, b) = t.split_once('/')?;
    let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a > 0 && b > 0).then(|| a as f32 / b as f32 * factor)
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

/// Parses `address` with `args` into the actions it stands for: one for `/mod`, `/gate` and
/// `/engine`, several for `/seq/pattern` (the pattern's length, then each step).
pub fn parse_all(
    patch: &Patch,
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
                    osc: patch.lookup("sine")?,
                    gate: patch.lookup("adsr")?,
                },
                Some(Arg::Str("off")) => SeqTarget::Off,
                Some(Arg::Str(module)) => {
                    let id = patch.lookup(module)?;
                    if !patch.kind(id)?.gateable() {
                        return Err(bad(address, format!("'{module}' has no gate")));
                    }
                    SeqTarget::Gate(id)
                }
                _ => return Err(bad(address, "expects <track> note|off|<gate module>")),
            };
            seq(SeqAction::Target { track: t, target })
        }
        ["note", "on"] => {
            let (note, velocity) = match args {
                [n] => (note_arg(address, n)?, 1.0),
                [n, v] => {
                    let v = v
                        .as_f32()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| bad(address, "velocity must be a number 0..1"))?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(bad(address, format!("velocity {v} is outside 0..1")));
                    }
                    (note_arg(address, n)?, v)
                }
                _ => return Err(bad(address, "expects <note> [velocity], e.g. 60 0.8 or C4")),
            };
            if patch.voice_template().is_empty() {
                return Err(chronus_dsp::DspError::NoVoiceTemplate.into());
            }
            Ok(vec![Action::NoteOn { note, velocity }])
        }
        ["note", "off"] => {
            let note = match args {
                [] => None,
                [n] => Some(note_arg(address, n)?),
                _ => return Err(bad(address, "expects <note>, or nothing for every note")),
            };
            if patch.voice_template().is_empty() {
                return Err(chronus_dsp::DspError::NoVoiceTemplate.into());
            }
            Ok(vec![Action::NoteOff { note }])
        }
        ["voices"] => {
            let usage = "expects <count 1..32> [poly|mono]";
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
            Ok(vec![Action::Voices { count, mono }])
        }
        _ => parse(patch, address, args).map(|a| vec![a]),
    }
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

/// Parses `address` with `args` into an action on `patch` (names resolved to ids).
pub fn parse(patch: &Patch, address: &str, args: &[Arg<'_>]) -> Result<Action, EngineError> {
    let parts: Vec<&str> = address.strip_prefix('/').unwrap_or("").split('/').collect();
    match parts.as_slice() {
        ["mod", module, param] => {
            let id = patch.lookup(module)?;
            let p = patch.kind(id)?.param_id(param)?;
            Ok(Action::Set {
                module: id,
                param: p,
                value: one_number(address, args)?,
            })
        }
        ["gate", module] => {
            let id = patch.lookup(module)?;
            if !patch.kind(id)?.gateable() {
                return Err(chronus_dsp::DspError::NotGateable {
                    module: patch.kind(id)?.name(),
                }
                .into());
            }
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
            Ok(Action::Gate { module: id, on })
        }
        ["engine", "freq"] => parse(patch, "/mod/sine/freq", args).map_err(|e| rename(e, address)),
        ["engine", "amp"] => parse(patch, "/mod/sine/gain", args).map_err(|e| rename(e, address)),
        _ => Err(EngineError::UnknownAddress {
            address: address.to_owned(),
        }),
    }
}

fn rename(e: EngineError, address: &str) -> EngineError {
    match e {
        EngineError::BadArguments { reason, .. } => bad(address, reason),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(note_value("1/4"), Some(0.25));
        assert_eq!(note_value("1/8."), Some(0.1875));
        assert_eq!(note_value("3/16"), Some(0.1875));
        assert_eq!(note_value("1/8t"), Some(1.0 / 12.0));
        assert_eq!(note_value("off"), Some(0.0));
        for bad in ["", "1/0", "0/4", "x/4", "1/", "quarter"] {
            assert_eq!(note_value(bad), None, "{bad}");
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
                velocity: 1.0
            }]
        );
        assert_eq!(
            all("/note/on", &[Arg::Str("A4"), Arg::Float(0.5)]).unwrap(),
            [Action::NoteOn {
                note: 69,
                velocity: 0.5
            }]
        );
        assert_eq!(
            all("/note/off", &[Arg::Str("C#4")]).unwrap(),
            [Action::NoteOff { note: Some(61) }]
        );
        assert_eq!(
            all("/note/off", &[]).unwrap(),
            [Action::NoteOff { note: None }]
        );
        assert_eq!(
            all("/voices", &[Arg::Int(1), Arg::Str("mono")]).unwrap(),
            [Action::Voices {
                count: 1,
                mono: true
            }]
        );
        let err = |a: &str, args: &[Arg<'_>]| all(a, args).unwrap_err().to_string();
        assert!(err("/note/on", &[Arg::Int(128)]).contains("MIDI number 0..127"));
        assert!(err("/note/on", &[Arg::Float(60.5)]).contains("MIDI number"));
        assert!(err("/note/on", &[Arg::Str("H2")]).contains("MIDI number"));
        assert!(err("/note/on", &[Arg::Int(60), Arg::Float(1.5)]).contains("outside 0..1"));
        assert!(err("/note/on", &[Arg::Int(60), Arg::Float(f32::NAN)]).contains("velocity"));
        assert!(err("/note/on", &[]).contains("expects <note>"));
        assert!(err("/voices", &[Arg::Int(0)]).contains("1..32"));
        assert!(err("/voices", &[Arg::Int(4), Arg::Str("duo")]).contains("poly|mono"));
        let mut bare = Patch::new(48_000.0, 64).unwrap();
        bare.add("sine", chronus_dsp::ModuleKind::Osc).unwrap();
        assert!(parse_all(&bare, "/note/on", &[Arg::Int(60)])
            .unwrap_err()
            .to_string()
            .contains("no voice template"));
    }
}
