//! Scores: plain-text files of timed commands.
//!
//! ```text
//! # time (seconds)  address          arguments
//! 0.0               /mod/sine/freq   440
//! 0.0               /gate/adsr       on
//! 1.5               /gate/adsr       off
//! ```
//!
//! Times may carry a unit (`1.5s`, `250ms`); lines may appear in any order (stable by time);
//! `#` starts a comment. An argument with spaces is written in double quotes. Patch edits
//! (`/inst/new bass "osc > adsr > filter"`, `/patch/create`, `/patch/connect`, `/bus/new`, …)
//! are the score's setup: at time 0, made before it plays ([`Score::set_up`]). Sample loads
//! (`/sample/load kick kicks/808.wav`, `/kit/load basic`) are its loads, also at time 0: the
//! host reads the files and loads them before it plays ([`Score::loads`]). Lines under `/midi/`
//! (MIDI settings, which the engine does not hold) are kept for the host, also at time 0
//! ([`Score::host`]). Every error names
//! its line and column.

use crate::control::{self, Arg, Directory};
use crate::{Command, EngineError, PatchEdit};
use chronus_dsp::Patch;

/// A parsed argument, owned.
#[derive(Debug, Clone, PartialEq)]
enum OwnedArg {
    Int(i32),
    Float(f32),
    Str(String),
}

/// One line of a score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreEvent {
    /// Time in seconds from the start.
    pub time: f64,
    /// The control address.
    pub address: String,
    args: Vec<(OwnedArg, usize)>,
    line: usize,
    address_column: usize,
}

impl ScoreEvent {
    /// Its arguments.
    pub fn args(&self) -> Vec<Arg<'_>> {
        self.borrowed_args()
    }

    /// The line it is on.
    pub fn line(&self) -> usize {
        self.line
    }

    fn borrowed_args(&self) -> Vec<Arg<'_>> {
        self.args
            .iter()
            .map(|(a, _)| match a {
                OwnedArg::Int(i) => Arg::Int(*i),
                OwnedArg::Float(f) => Arg::Float(*f),
                OwnedArg::Str(s) => Arg::Str(s),
            })
            .collect()
    }
}

/// A parsed score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Score {
    /// The events, sorted by time (stable).
    pub events: Vec<ScoreEvent>,
    /// The patch edits at time 0, in the score's order: its setup.
    pub setup: Vec<ScoreEvent>,
    /// The sample loads at time 0, in order ([`Score::loads`]).
    pub loads: Vec<Load>,
    /// The lines for the host at time 0 (`/midi/…`), in order ([`Score::host`]).
    pub host: Vec<ScoreEvent>,
}

/// A sample load in a score: what the host reads and loads before it plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// `/sample/load <name> <file>`: a file of the samples folder, under a name.
    Sample {
        /// The sample's name.
        name: String,
        /// The file, relative to the samples folder.
        file: String,
    },
    /// `/kit/load <kit>`: a built-in kit (`basic`).
    Kit {
        /// The kit.
        kit: String,
    },
}

/// Whether `address` is for the host, not the engine: MIDI settings (`/midi/…`).
pub fn is_host(address: &str) -> bool {
    address.starts_with("/midi/")
}

/// Whether `address` loads samples (a score's load, not a command).
pub fn is_load(address: &str) -> bool {
    matches!(address, "/sample/load" | "/kit/load")
}

fn score_err(line: usize, column: usize, reason: impl Into<String>) -> EngineError {
    EngineError::Score {
        line,
        column,
        reason: reason.into(),
    }
}

fn parse_time(token: &str, line: usize, column: usize) -> Result<f64, EngineError> {
    let (number, scale) = if let Some(n) = token.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = token.strip_suffix('s') {
        (n, 1.0)
    } else {
        (token, 1.0)
    };
    let t: f64 = number.parse().map_err(|_| {
        score_err(
            line,
            column,
            format!("'{token}' is not a time (seconds, e.g. 1.5 or 250ms)"),
        )
    })?;
    if !t.is_finite() || t < 0.0 {
        return Err(score_err(
            line,
            column,
            format!("time '{token}' must be a finite number ≥ 0"),
        ));
    }
    if t * scale > 1.0e7 {
        return Err(score_err(
            line,
            column,
            format!("time '{token}' is too far in the future"),
        ));
    }
    Ok(t * scale)
}

fn parse_arg(token: &str) -> OwnedArg {
    if let Ok(i) = token.parse::<i32>() {
        OwnedArg::Int(i)
    } else if let Some(f) = token.parse::<f32>().ok().filter(|f| f.is_finite()) {
        OwnedArg::Float(f)
    } else {
        OwnedArg::Str(token.to_owned())
    }
}

/// One token of a line: its 1-based character column, its text (a quoted one without its
/// quotes), whether it was quoted.
type Token<'a> = (usize, &'a str, bool);

/// Splits a line into tokens with their 1-based character columns; `"…"` is one token, spaces
/// and all. An unclosed quote is an error at its column.
fn tokens(line: &str, number: usize) -> Result<Vec<Token<'_>>, EngineError> {
    let mut out = Vec::new();
    let mut start = None;
    let mut chars = line.char_indices();
    let column = |b: usize| line[..b].chars().count() + 1;
    while let Some((i, c)) = chars.next() {
        match (c, start) {
            ('"', None) => {
                let end = chars.by_ref().find(|&(_, c)| c == '"').map(|(j, _)| j);
                let Some(end) = end else {
                    return Err(score_err(
                        number,
                        column(i),
                        "this quote is never closed: end the argument with '\"'",
                    ));
                };
                out.push((column(i), &line[i + 1..end], true));
            }
            (c, None) if !c.is_whitespace() => start = Some(i),
            (c, Some(s)) if c.is_whitespace() => {
                out.push((column(s), &line[s..i], false));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((column(s), &line[s..], false));
    }
    Ok(out)
}

impl Score {
    /// Parses a score. The first bad line is reported with its line and column.
    pub fn parse(text: &str) -> Result<Score, EngineError> {
        let mut events = Vec::new();
        let mut setup = Vec::new();
        let mut loads = Vec::new();
        let mut host = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let content = raw.split('#').next().unwrap_or("");
            let toks = tokens(content, line)?;
            let Some(&(tcol, time, _)) = toks.first() else {
                continue;
            };
            let time = parse_time(time, line, tcol)?;
            let Some(&(acol, address, _)) = toks.get(1) else {
                return Err(score_err(
                    line,
                    content.chars().count() + 1,
                    "missing address after the time",
                ));
            };
            if !address.starts_with('/') {
                return Err(score_err(
                    line,
                    acol,
                    format!("'{address}' is not an address (it starts with '/')"),
                ));
            }
            let args = toks[2..]
                .iter()
                .map(|&(c, t, quoted)| {
                    let arg = if quoted {
                        OwnedArg::Str(t.to_owned())
                    } else {
                        parse_arg(t)
                    };
                    (arg, c)
                })
                .collect();
            let event = ScoreEvent {
                time,
                address: address.to_owned(),
                args,
                line,
                address_column: acol,
            };
            if is_host(address) {
                if time != 0.0 {
                    return Err(score_err(
                        line,
                        tcol,
                        format!("{address} is a MIDI setting: a score makes it at time 0; move the line to 0"),
                    ));
                }
                host.push(event);
                continue;
            }
            if is_load(address) {
                let word = |i: usize| match event.args.get(i) {
                    Some((OwnedArg::Str(s), _)) => Some(s.clone()),
                    _ => None,
                };
                let load = match (address, word(0), word(1)) {
                    ("/kit/load", Some(kit), None) => Load::Kit { kit },
                    ("/sample/load", Some(name), Some(file)) if event.args.len() == 2 => {
                        Load::Sample { name, file }
                    }
                    _ => {
                        return Err(score_err(
                            line,
                            acol,
                            format!(
                                "{address} takes {}",
                                if address == "/kit/load" {
                                    "a kit's name (basic)"
                                } else {
                                    "a name and a file (/sample/load kick kicks/808.wav)"
                                }
                            ),
                        ))
                    }
                };
                if time != 0.0 {
                    return Err(score_err(
                        line,
                        tcol,
                        format!("{address} loads samples: a score does that at time 0; move the line to 0"),
                    ));
                }
                loads.push(load);
                continue;
            }
            if control::is_edit(address) {
                if time != 0.0 {
                    return Err(score_err(
                        line,
                        tcol,
                        format!(
                            "{address} edits the patch: a score does that at time 0 (its \
                             setup, made before it plays); move the line to 0"
                        ),
                    ));
                }
                setup.push(event);
            } else {
                events.push(event);
            }
        }
        events.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(Score {
            events,
            setup,
            loads,
            host,
        })
    }

    /// Makes the score's setup (its patch edits, in order) in `patch` and returns the edits,
    /// for an engine to make them too before it plays ([`crate::Engine::start_edited`]). Then
    /// [`Score::resolve`] against the edited patch. Errors name the line and column.
    pub fn set_up(&self, patch: &mut Patch) -> Result<Vec<PatchEdit>, EngineError> {
        let mut edits = Vec::with_capacity(self.setup.len());
        for e in &self.setup {
            let args = e.borrowed_args();
            let at_args = e.args.first().map_or(e.address_column, |a| a.1);
            let (edit, _) = control::edit(&Directory::of(patch), &e.address, &args)
                .unwrap_or_else(|| {
                    Err(EngineError::UnknownAddress {
                        address: e.address.clone(),
                    })
                })
                .map_err(|err| score_err(e.line, at_args, err.to_string()))?;
            crate::edit::apply(patch, std::slice::from_ref(&edit))
                .map_err(|err| score_err(e.line, at_args, err.to_string()))?;
            edits.push(edit);
        }
        Ok(edits)
    }

    /// Resolves every event against `patch` into commands stamped in samples. Errors name the
    /// line and column of the offending address or argument.
    pub fn resolve(&self, patch: &Patch) -> Result<Vec<Command>, EngineError> {
        self.resolve_in(&Directory::of(patch))
    }

    /// The sample loads, in the score's order.
    pub fn loads(&self) -> &[Load] {
        &self.loads
    }

    /// The lines for the host (MIDI settings), in the score's order.
    pub fn host(&self) -> &[ScoreEvent] {
        &self.host
    }

    /// [`Score::resolve`] against a directory (one that knows the samples loaded).
    pub fn resolve_in(&self, dir: &Directory) -> Result<Vec<Command>, EngineError> {
        let sr = dir.sample_rate();
        self.events
            .iter()
            .map(|e| {
                let args = e.borrowed_args();
                let actions = control::resolve(dir, &e.address, &args)
                    .map(|r| r.actions)
                    .map_err(|err| {
                        let column = match err {
                            EngineError::BadArguments { .. } => e
                                .args
                                .first()
                                .map_or(e.address_column + e.address.chars().count() + 1, |a| a.1),
                            _ => e.address_column,
                        };
                        score_err(e.line, column, err.to_string())
                    })?;
                let at = (e.time * sr).round() as u64;
                Ok(actions.into_iter().map(move |a| Command::new(at, a)))
            })
            .collect::<Result<Vec<_>, EngineError>>()
            .map(|v| v.into_iter().flatten().collect())
    }

    /// Time of the last event, in seconds (0 for an empty score).
    pub fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_a_score() {
        let text = "# a phrase\n0.0 /mod/sine/freq 440\n\n  0 /gate/adsr on  # start\n1.5s /gate/adsr off\n250ms /engine/amp 0.25\n";
        let score = Score::parse(text).unwrap();
        assert_eq!(score.events.len(), 4);
        assert_eq!(score.events[2].time, 0.25, "sorted by time");
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let cmds = score.resolve(&patch).unwrap();
        assert_eq!(
            cmds.iter().map(|c| c.at).collect::<Vec<_>>(),
            [0, 0, 12_000, 72_000]
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = Score::parse("0 /gate/adsr on\n  x /gate/adsr off")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("score line 2, column 3:"), "{e}");
        let e = Score::parse("1.0").unwrap_err().to_string();
        assert!(
            e.contains("line 1, column 4") && e.contains("missing address"),
            "{e}"
        );
        let e = Score::parse("1.0 mod/sine/freq 3").unwrap_err().to_string();
        assert!(e.contains("column 5"), "{e}");
        let e = Score::parse("-1 /gate/adsr on").unwrap_err().to_string();
        assert!(e.contains("≥ 0"), "{e}");
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let e = Score::parse("0 /mod/sine/freq 1\n0.5  /mod/sine/frq 3")
            .unwrap()
            .resolve(&patch)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("score line 2, column 6:") && e.contains("frq"),
            "{e}"
        );
        let e = Score::parse("0.5 /mod/sine/freq loud")
            .unwrap()
            .resolve(&patch)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("score line 1, column 20:"), "{e}");
    }

    #[test]
    fn a_score_sets_up_an_instrument_and_plays_it() {
        let text = "# a bass beside the default instrument\n\
                    0   /inst/new bass \"osc > adsr > filter\"\n\
                    0   /mod/bass.osc/shape 3\n\
                    0   /patch/connect lfo bass.filter.cutoff\n\
                    0.5 /note/on C2 0.9 bass\n\
                    0.5 /note/on A4\n";
        let score = Score::parse(text).unwrap();
        assert_eq!(score.setup.len(), 2);
        assert_eq!(score.events.len(), 3);
        let mut patch = Patch::default_patch(48_000.0, 64).unwrap();
        let edits = score.set_up(&mut patch).unwrap();
        assert_eq!(
            edits[0],
            PatchEdit::Instrument {
                name: "bass".into(),
                chain: "osc > adsr > filter".into(),
                to: None
            }
        );
        let bass = patch.instrument("bass").unwrap();
        let cmds = score.resolve(&patch).unwrap();
        assert!(cmds.iter().any(|c| c.at == 24_000
            && c.action
                == crate::Action::NoteOn {
                    note: 36,
                    velocity: 0.9,
                    inst: bass
                }));
        // Resolved against a patch without the setup, the instrument's modules are unknown.
        let bare = Patch::default_patch(48_000.0, 64).unwrap();
        let e = score.resolve(&bare).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("'bass.osc'"), "{e}");
    }

    #[test]
    fn quotes_and_setup_errors_name_their_line_and_column() {
        let e = Score::parse("0 /inst/new bass \"osc > adsr")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1, column 18") && e.contains("never closed"),
            "{e}"
        );
        let e = Score::parse("0 /gate/adsr on\n1.5 /inst/new bass \"osc > adsr\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 1") && e.contains("at time 0"),
            "{e}"
        );
        let mut patch = Patch::default_patch(48_000.0, 64).unwrap();
        let e = Score::parse("0 /inst/new bass \"osc > filter\"")
            .unwrap()
            .set_up(&mut patch)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1, column 13") && e.contains("envelope"),
            "{e}"
        );
        // A quoted number is a string.
        let score = Score::parse("0 /note/on \"60\"").unwrap();
        assert_eq!(score.events[0].args[0].0, OwnedArg::Str("60".into()));
    }
}
