//! Patch edits by address: `/patch/create`, `/patch/connect`, `/patch/disconnect`,
//! `/patch/remove`, `/bus/new`, `/inst/new` and `/inst/remove` read into [`PatchEdit`]s, here
//! and nowhere else, for OSC and scores.

use super::{Arg, Directory};
use crate::{EngineError, PatchEdit};
use chronus_dsp::ModuleKind;

/// How an edit address takes effect over OSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditTiming {
    /// Staged per sender until `/patch/commit` (the `/patch/...` addresses).
    Staged,
    /// Applied at once, atomically (`/bus/new`, `/inst/new`, `/inst/remove`).
    Now,
}

/// Whether `address` is a patch edit's.
pub fn is_edit(address: &str) -> bool {
    matches!(
        address,
        "/patch/create"
            | "/patch/connect"
            | "/patch/disconnect"
            | "/patch/remove"
            | "/bus/new"
            | "/inst/new"
            | "/inst/remove"
    )
}

/// Reads an edit address with its arguments (`None`: not an edit's address; see
/// [`is_edit`]). `dir` tells an instrument's module (`bass.filter`) from a parameter.
pub fn edit(
    dir: &Directory,
    address: &str,
    args: &[Arg<'_>],
) -> Option<Result<(PatchEdit, EditTiming), EngineError>> {
    use EditTiming::*;
    let bad = |reason: String| EngineError::BadArguments {
        address: address.to_owned(),
        reason,
    };
    let s = |a: &&str| (*a).to_owned();
    Some(match (address, args) {
        ("/patch/create", [Arg::Str(name), Arg::Str(kind)]) => ModuleKind::parse(kind)
            .map(|kind| {
                (
                    PatchEdit::Create {
                        name: s(name),
                        kind,
                    },
                    Staged,
                )
            })
            .map_err(EngineError::from),
        ("/patch/create", _) => Err(bad(format!(
            "expects <id> <type> (types: {})",
            ModuleKind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        ("/patch/connect" | "/patch/disconnect", [Arg::Str(from), Arg::Str(to)]) => Ok((
            PatchEdit::connection(from, to, address == "/patch/connect"),
            Staged,
        )),
        ("/patch/connect", [Arg::Str(from), Arg::Str(to), level])
            if !to.contains('.') || dir.lookup(to).is_ok() =>
        {
            level
                .as_f32()
                .filter(|l| (0.0..=chronus_dsp::MAX_SEND_LEVEL).contains(l))
                .map(|level| {
                    (
                        PatchEdit::Connect {
                            from: s(from),
                            to: s(to),
                            level,
                        },
                        Staged,
                    )
                })
                .ok_or_else(|| bad("the send level is a number 0..2 (1: as it is)".into()))
        }
        ("/patch/connect" | "/patch/disconnect", _) => Err(bad(
            "expects <src> <dst> [level] (dst: a module, out, or module.param; level 0..2, a send)"
                .into(),
        )),
        ("/patch/remove", [Arg::Str(name)]) => Ok((PatchEdit::Remove { name: s(name) }, Staged)),
        ("/patch/remove", _) => Err(bad("expects <id>".into())),
        ("/bus/new", [Arg::Str(name)]) => Ok((
            PatchEdit::Create {
                name: s(name),
                kind: ModuleKind::Bus,
            },
            Now,
        )),
        ("/bus/new", _) => Err(bad(
            "expects <name> (then /patch/connect <module> <name> <level>)".into(),
        )),
        ("/inst/new", [Arg::Str(name), Arg::Str(chain), rest @ ..])
            if matches!(rest, [] | [Arg::Str(_)]) =>
        {
            let to = match rest {
                [Arg::Str(to)] => Some(s(to)),
                _ => None,
            };
            Ok((
                PatchEdit::Instrument {
                    name: s(name),
                    chain: s(chain),
                    to,
                },
                Now,
            ))
        }
        ("/inst/new", _) => Err(bad(
            "expects <name> \"<chain>\" [into], e.g. bass \"osc > adsr > filter\" (into: a \
             module its voices go into, default out)"
                .into(),
        )),
        ("/inst/remove", [Arg::Str(name)]) => {
            Ok((PatchEdit::RemoveInstrument { name: s(name) }, Now))
        }
        ("/inst/remove", _) => Err(bad("expects <name>".into())),
        _ => return None,
    })
}
