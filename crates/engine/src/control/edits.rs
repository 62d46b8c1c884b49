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
        ("/patch/connect", [Arg::Str(from), Arg::Str(to), depth]) => {
            // `lfo filter.cutoff 0.5`: a modulation at a depth.
            let Some((module, param)) = to.rsplit_once('.') else {
                return Some(Err(bad("expects <src> <dst> [level]".into())));
            };
            depth
                .as_f32()
                .filter(|d| d.is_finite() && d.abs() <= chronus_dsp::MAX_DEPTH)
                .map(|depth| {
                    (
                        PatchEdit::Modulate {
                            from: s(from),
                            to: module.to_owned(),
                            param: param.to_owned(),
                            depth,
                        },
                        Staged,
                    )
                })
                .ok_or_else(|| {
                    bad("a modulation's depth is a number -8..8 (1: the source as it is)".into())
                })
        }
        ("/patch/connect" | "/patch/disconnect", _) => Err(bad(
            "expects <src> <dst> [level|depth] (dst: a module, out, or module.param; level 0..2, \
             a send; depth -8..8, a modulation's)"
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

#[cfg(test)]
mod tests {
    use super::*;
    use chronus_dsp::{Patch, Source};

    fn read(p: &Patch, address: &str, args: &[Arg<'_>]) -> Result<PatchEdit, EngineError> {
        edit(&Directory::of(p), address, args)
            .expect("an edit address")
            .map(|(e, _)| e)
    }

    #[test]
    fn modulation_depths_and_sources_are_read_and_applied() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        p.add_instrument("bass", "osc > adsr > filter", None)
            .unwrap();
        p.add("fenv", ModuleKind::Env).unwrap();
        let s = Arg::Str;
        let edits = [
            read(
                &p,
                "/patch/connect",
                &[s("fenv"), s("filter.cutoff"), Arg::Float(0.5)],
            ),
            read(
                &p,
                "/patch/connect",
                &[s("velocity"), s("bass.filter.cutoff"), Arg::Float(0.25)],
            ),
            read(&p, "/patch/connect", &[s("key"), s("bass.filter.cutoff")]),
            // An instrument's module with a send level: audio, not a modulation.
            read(
                &p,
                "/patch/connect",
                &[s("sine"), s("bass.filter"), Arg::Float(0.3)],
            ),
        ]
        .map(Result::unwrap);
        assert_eq!(
            edits[0],
            PatchEdit::Modulate {
                from: "fenv".into(),
                to: "filter".into(),
                param: "cutoff".into(),
                depth: 0.5
            }
        );
        assert!(
            matches!(&edits[3], PatchEdit::Connect { to, level, .. } if to == "bass.filter" && *level == 0.3)
        );
        crate::edit::apply(&mut p, &edits).unwrap();
        let routes = |name: &str| {
            let id = p.find(name).unwrap();
            p.describe()
                .into_iter()
                .find(|d| d.id == id)
                .unwrap()
                .routes
        };
        assert_eq!(
            routes("filter")[0].from,
            Source::Module(p.find("fenv").unwrap())
        );
        assert_eq!(routes("filter")[0].depth, 0.5);
        let bass: Vec<_> = routes("bass.filter")
            .iter()
            .map(|r| (r.from, r.depth))
            .collect();
        assert_eq!(bass, [(Source::Velocity, 0.25), (Source::Key, 1.0)]);
        // Refused: a depth out of range, a source that is none.
        for args in [
            [s("fenv"), s("filter.cutoff"), Arg::Float(9.0)],
            [s("fenv"), s("filter.cutoff"), s("lots")],
        ] {
            assert!(read(&p, "/patch/connect", &args).is_err());
        }
        let bad = read(&p, "/patch/connect", &[s("speed"), s("filter.cutoff")]).unwrap();
        assert!(crate::edit::validate(&p, &[bad]).is_err());
        let sine = read(
            &p,
            "/patch/connect",
            &[s("sine"), s("filter.q"), Arg::Float(1.0)],
        )
        .unwrap();
        let e = crate::edit::validate(&p, &[sine]).unwrap_err().to_string();
        assert!(e.contains("cannot modulate"), "{e}");
    }
}
