//! Patch edits: changes to the graph, staged as a list and applied atomically, by name.

use crate::EngineError;
use chronus_dsp::{ModuleKind, Patch, Source};

/// One change to the patch graph.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PatchEdit {
    /// Add a module instance.
    Create {
        /// Its name.
        name: String,
        /// Its kind.
        kind: ModuleKind,
    },
    /// Audio `from > to` at `level` (1: as it is; less: a send to a bus); `to` may be `out`
    /// (the patch output, at level 1 only).
    Connect {
        /// Source module.
        from: String,
        /// Destination module, or `out`.
        to: String,
        /// The gain of the connection (0..=[`chronus_dsp::MAX_SEND_LEVEL`]).
        level: f32,
    },
    /// `from` (an `lfo` or `env` module, or `velocity` or `key`) modulates `to.param` at
    /// `depth`.
    Modulate {
        /// The source.
        from: String,
        /// The module.
        to: String,
        /// Its parameter.
        param: String,
        /// How much (-8..=8; 1: the source as it is).
        depth: f32,
    },
    /// Removes audio `from > to` (or `from > out`).
    Disconnect {
        /// Source module.
        from: String,
        /// Destination module, or `out`.
        to: String,
    },
    /// Removes the modulation of `to.param` by `from`.
    Unmodulate {
        /// The source.
        from: String,
        /// The module.
        to: String,
        /// Its parameter.
        param: String,
    },
    /// Removes a module and all its connections.
    Remove {
        /// Its name.
        name: String,
    },
    /// Makes an instrument from a chain (`osc > adsr > filter`): its modules are
    /// `<name>.<word>`, its last one goes into `to` (or the output), its voices are built now.
    Instrument {
        /// Its name.
        name: String,
        /// Module kinds joined by `>`.
        chain: String,
        /// The module its voices go into, or `None` for the patch output.
        to: Option<String>,
    },
    /// Removes an instrument and its modules.
    RemoveInstrument {
        /// Its name.
        name: String,
    },
    /// Makes the patch the default one again, every module fresh (a session load starts from
    /// it, as a start does). The samples loaded stay.
    Reset,
    /// Maps a sample's shared memory into its slot (replacing what was there).
    MapSample(chronus_dsp::sample::SampleDesc),
    /// Takes the sample out of a slot (its one-shots stop) and unmaps its memory.
    UnmapSample {
        /// The slot.
        slot: u16,
    },
}

impl PatchEdit {
    /// Reads a connection target: `module`, `out`, or `module.param` (modulation). An
    /// instrument's module (`bass.filter`) reads as `module.param` here and is told apart when
    /// the edit is applied, against the patch's names.
    pub fn connection(from: &str, to: &str, connect: bool) -> PatchEdit {
        let (from, to) = (from.to_owned(), to.to_owned());
        match to.rsplit_once('.') {
            Some((m, p)) if connect => PatchEdit::Modulate {
                from,
                to: m.into(),
                param: p.into(),
                depth: 1.0,
            },
            Some((m, p)) => PatchEdit::Unmodulate {
                from,
                to: m.into(),
                param: p.into(),
            },
            None if connect => PatchEdit::Connect {
                from,
                to,
                level: 1.0,
            },
            None => PatchEdit::Disconnect { from, to },
        }
    }
}

/// Applies `edits` in order to `patch`. On error the patch may be half-edited: callers that
/// need atomicity validate on a copy first ([`validate`]).
pub fn apply(patch: &mut Patch, edits: &[PatchEdit]) -> Result<(), EngineError> {
    let mut rest = edits;
    while let Some(e) = rest.first() {
        // Modules created one after another go in together: the processing order is derived
        // once, not once each (a 200-module edit in one block).
        let creates: Vec<(&str, ModuleKind)> = rest
            .iter()
            .map_while(|e| match e {
                PatchEdit::Create { name, kind } => Some((name.as_str(), *kind)),
                _ => None,
            })
            .collect();
        if creates.is_empty() {
            apply_one(patch, e)?;
            rest = &rest[1..];
        } else {
            patch.add_many(&creates)?;
            rest = &rest[creates.len()..];
        }
    }
    Ok(())
}

fn apply_one(patch: &mut Patch, e: &PatchEdit) -> Result<(), EngineError> {
    match e {
        PatchEdit::Create { name, kind } => {
            patch.add(name, *kind)?;
        }
        PatchEdit::Connect { from, to, level } => {
            let f = patch.lookup(from)?;
            if to == "out" {
                if *level != 1.0 {
                    return Err(EngineError::BadArguments {
                        address: "/patch/connect".into(),
                        reason: format!(
                            "the output takes no send level ({level}); send to a bus instead \
                             (/bus/new <name>, then /patch/connect {from} <name> {level})"
                        ),
                    });
                }
                patch.connect_out(f, true)?;
            } else {
                let t = patch.lookup(to)?;
                patch.connect_at(f, t, *level)?;
            }
        }
        PatchEdit::Disconnect { from, to } => {
            let f = patch.lookup(from)?;
            if to == "out" {
                patch.connect_out(f, false)?;
            } else {
                let t = patch.lookup(to)?;
                patch.disconnect(f, t)?;
            }
        }
        PatchEdit::Modulate {
            from, to, param, ..
        }
        | PatchEdit::Unmodulate { from, to, param }
            if patch.find(&format!("{to}.{param}")).is_some() =>
        {
            // `bass.filter`: an instrument's module, an audio connection.
            let to = format!("{to}.{param}");
            let audio = if matches!(e, PatchEdit::Modulate { .. }) {
                PatchEdit::Connect {
                    from: from.clone(),
                    to,
                    level: 1.0,
                }
            } else {
                PatchEdit::Disconnect {
                    from: from.clone(),
                    to,
                }
            };
            apply_one(patch, &audio)?;
        }
        PatchEdit::Modulate {
            from,
            to,
            param,
            depth,
        } => {
            let f = source(patch, from)?;
            let t = patch.lookup(to)?;
            let p = patch.kind(t)?.param_id(param)?;
            patch.route(f, t, p, *depth)?;
        }
        PatchEdit::Unmodulate { from, to, param } => {
            let f = source(patch, from)?;
            let t = patch.lookup(to)?;
            let p = patch.kind(t)?.param_id(param)?;
            patch.unroute(f, t, p)?;
        }
        PatchEdit::Remove { name } => {
            let id = patch.lookup(name)?;
            patch.remove(id)?;
        }
        PatchEdit::Instrument { name, chain, to } => {
            let to = match to.as_deref() {
                None | Some("out") => None,
                Some(m) => Some(patch.lookup(m)?),
            };
            patch.add_instrument(name, chain, to)?;
        }
        PatchEdit::RemoveInstrument { name } => patch.remove_instrument(name)?,
        PatchEdit::Reset => {
            let samples = patch.take_samples();
            *patch = Patch::default_patch_for(
                patch.sample_rate(),
                patch.block_size(),
                patch.is_stereo(),
            )?;
            patch.set_samples(samples);
        }
        PatchEdit::MapSample(desc) => {
            patch.put_sample(crate::samples::map(desc)?);
        }
        PatchEdit::UnmapSample { slot } => {
            patch.take_sample(*slot);
        }
    }
    Ok(())
}

/// A modulation source by name: a module (an `lfo` or `env`), else `velocity` or `key`.
fn source(patch: &Patch, name: &str) -> Result<Source, EngineError> {
    match (patch.find(name), name) {
        (Some(id), _) => Ok(Source::Module(id)),
        (None, "velocity") => Ok(Source::Velocity),
        (None, "key") => Ok(Source::Key),
        (None, _) => Err(chronus_dsp::DspError::UnknownModule {
            name: name.to_owned(),
        }
        .into()),
    }
}

/// Checks that `edits` apply cleanly to `patch`, on a copy of its layout (no audio memory is
/// copied: this runs under the engine's control lock); `patch` is not changed.
pub fn validate(patch: &Patch, edits: &[PatchEdit]) -> Result<(), EngineError> {
    let mut copy = patch.layout_copy()?;
    apply(&mut copy, edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_build_a_second_voice_and_errors_change_nothing() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let edits = vec![
            PatchEdit::Create {
                name: "sine2".into(),
                kind: ModuleKind::Osc,
            },
            PatchEdit::connection("sine2", "adsr", true),
            PatchEdit::connection("lfo", "sine2.freq", true),
        ];
        validate(&p, &edits).unwrap();
        apply(&mut p, &edits).unwrap();
        let sine2 = p.find("sine2").unwrap();
        let adsr = p.describe().into_iter().find(|d| d.name == "adsr").unwrap();
        assert!(adsr.inputs.iter().any(|i| i.from == sine2));
        let before = p.describe();
        let cycle = vec![PatchEdit::connection("filter", "sine2", true)];
        assert!(validate(&p, &cycle).is_err());
        let unknown = vec![PatchEdit::connection("nope", "adsr", true)];
        assert!(validate(&p, &unknown).is_err());
        assert_eq!(p.describe(), before, "validation never changes the patch");
    }

    #[test]
    fn an_instrument_is_made_wired_and_removed_by_edits() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let edits = vec![
            PatchEdit::Instrument {
                name: "bass".into(),
                chain: "osc > adsr > filter".into(),
                to: Some("pan".into()),
            },
            PatchEdit::connection("lfo", "bass.filter.cutoff", true),
        ];
        validate(&p, &edits).unwrap();
        apply(&mut p, &edits).unwrap();
        let (filter, pan) = (p.find("bass.filter").unwrap(), p.find("pan").unwrap());
        let descs = p.describe();
        let of = |id| descs.iter().find(|d| d.id == id).unwrap();
        assert!(of(pan).inputs.iter().any(|i| i.from == filter));
        assert_eq!(
            of(filter).routes.len(),
            1,
            "the lfo modulates bass.filter's cutoff"
        );
        // An instrument's module is a connection's target like any other.
        let rewire = vec![
            PatchEdit::connection("bass.filter", "pan", false),
            PatchEdit::connection("bass.filter", "out", true),
        ];
        apply(&mut p, &rewire).unwrap();
        assert!(p
            .describe()
            .iter()
            .all(|d| d.inputs.iter().all(|i| i.from != filter)));
        apply(
            &mut p,
            &[PatchEdit::RemoveInstrument {
                name: "bass".into(),
            }],
        )
        .unwrap();
        assert!(p.find("bass.osc").is_none());
        let again = vec![PatchEdit::RemoveInstrument {
            name: "bass".into(),
        }];
        assert!(validate(&p, &again).is_err());
    }
}
