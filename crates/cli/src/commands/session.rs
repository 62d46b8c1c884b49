//! `--session FILE`: the state read from a session file at start, and kept in it while chronus
//! runs (docs/sessions.md). The format and the atomic write are `chronus_engine::session`'s.

use anyhow::{Context, Result};
use chronus_dsp::Patch;
use chronus_engine::{session, Command, Engine, PatchEdit};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the state is compared with the file (a change is written within this, well
/// inside the second the docs promise).
const EVERY: Duration = Duration::from_millis(250);

/// The session read at start.
pub struct Restored {
    /// The edits that rebuild it in the default patch.
    pub edits: Vec<PatchEdit>,
    /// The commands that set it going (at sample 0).
    pub commands: Vec<Command>,
    /// The file's text.
    pub text: String,
    /// Its sample loads: when there are any, `edits` and `commands` are empty and the whole
    /// session is loaded once the engine runs and its samples are in ([`Restored::loads`]).
    pub loads: Vec<chronus_engine::score::Load>,
    /// Its MIDI settings (`0 /midi/…`), for the router once it runs.
    pub host: Vec<chronus_engine::score::ScoreEvent>,
}

/// The session read at start: the edits and the commands that rebuild it in `layout` (the
/// default patch, edited here as the engine will be), and the file's text. A missing file is
/// an empty session (it is written at the first save); a bad one is an error that names its
/// line, and the file is left as it was. A session that loads samples is only checked here:
/// its samples need the engine running, so it loads in one block right after the start.
pub fn load(path: &Path, layout: &mut Patch) -> Result<Restored> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Restored {
                edits: Vec::new(),
                commands: Vec::new(),
                text: String::new(),
                loads: Vec::new(),
                host: Vec::new(),
            })
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the session {}", path.display()))
        }
    };
    let context = || {
        format!(
            "{}: the session was not loaded and the file is untouched; fix it, or start \
             without --session",
            path.display()
        )
    };
    let score = session::parse(&text).with_context(context)?;
    if !score.loads().is_empty() {
        return Ok(Restored {
            edits: Vec::new(),
            commands: Vec::new(),
            loads: score.loads().to_vec(),
            host: score.host().to_vec(),
            text,
        });
    }
    let (edits, commands) = session::restore(&score, layout, Vec::new()).with_context(context)?;
    Ok(Restored {
        edits,
        commands,
        text,
        loads: Vec::new(),
        host: score.host().to_vec(),
    })
}

/// Keeps a session file current: [`Keeper::tick`] writes the state when it changed (at most
/// every [`EVERY`]), [`Keeper::save`] now.
pub struct Keeper {
    path: PathBuf,
    last: String,
    next: Instant,
    warned: bool,
}

impl Keeper {
    /// A keeper of `path`, whose text is `last` now.
    pub fn new(path: PathBuf, last: String) -> Self {
        Keeper {
            path,
            last,
            next: Instant::now(),
            warned: false,
        }
    }

    /// Saves if the last look is [`EVERY`] ago; `host` gives the host's lines (MIDI settings).
    pub fn tick(&mut self, engine: &Engine, host: impl Fn() -> String) {
        if Instant::now() >= self.next {
            self.next = Instant::now() + EVERY;
            self.save(engine, &host());
        }
    }

    /// Writes the state, with the host's lines `host` (MIDI settings), if it differs from the
    /// file's (atomically: the old file or the new one, whatever happens). A failure is logged
    /// once and tried again at the next change.
    pub fn save(&mut self, engine: &Engine, host: &str) {
        let text = match engine.session() {
            Ok(t) => session::with_host_lines(&t, host),
            Err(e) => {
                tracing::error!("the session could not be rendered: {e}");
                return;
            }
        };
        if text == self.last {
            return;
        }
        match session::write_atomically(&self.path, &text) {
            Ok(()) => {
                self.last = text;
                self.warned = false;
            }
            Err(e) if !self.warned => {
                self.warned = true;
                tracing::error!(
                    "cannot write the session {}: {e} (chronus plays on; it tries again at the \
                     next change)",
                    self.path.display()
                );
            }
            Err(_) => {}
        }
    }
}
