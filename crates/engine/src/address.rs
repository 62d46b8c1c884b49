//! Parses textual control addresses (the OSC address space) into typed [`Action`]s, once,
//! at the edge.
//!
//! | address | arguments | action |
//! |---|---|---|
//! | `/mod/<module>/<param>` | number | set a parameter |
//! | `/gate/<module>` | `on`/`off`/`1`/`0`/`true`/`false` or a number or bool | open/close a gate |
//! | `/engine/freq` | number (Hz) | `sine.freq` (seed compatibility) |
//! | `/engine/amp` | number 0..1 | `sine.gain` (seed compatibility) |

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

fn bad(address: &str, reason: impl Into<String>) -> EngineError {
    EngineError::BadArguments {
        address: address.to_owned(),
        reason: reason.into(),
    }
}

fn one_number(address: &str, args: &[Arg<'_>]) -> Result<f32, EngineError> {
    match args {
        [a] => {
            let v = a.as_f32().ok_or_else(|| bad(address, "expects a number"))?;
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
        _ => parse(patch, address, args).map(|a| vec![a]),
    }
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
}
