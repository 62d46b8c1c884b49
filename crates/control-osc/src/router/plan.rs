//! What a message asks for: the address read into a [`Plan`] (through the engine's one
//! address table for everything that changes the sound), or a [`Failure`] saying why not.

use super::*;

/// A failed message: the reply's address and reason, and a kind for logging.
pub(super) struct Failure {
    pub(super) kind: &'static str,
    pub(super) reason: String,
}

pub(super) fn fail(kind: &'static str, reason: impl Into<String>) -> Failure {
    Failure {
        kind,
        reason: reason.into(),
    }
}

/// What a valid message asks for.
pub(super) enum Plan {
    /// Change the sound.
    Apply {
        actions: Vec<Action>,
        notices: Vec<OscMessage>,
    },
    /// Answer now.
    Reply(Vec<OscMessage>),
    /// Subscribe (true) or unsubscribe.
    Notify(bool),
    /// Answer `/synced id` once earlier commands took effect.
    Sync(OscType),
    /// Stage a patch edit until `/patch/commit`.
    Stage(PatchEdit),
    /// Apply the staged edits atomically.
    Commit,
    /// Apply these edits atomically now (not staged), answering `done`.
    EditNow {
        edits: Vec<PatchEdit>,
        done: OscMessage,
    },
    /// Drop the staged edits.
    Abort,
    /// Apply a preset to an instrument (made from its chain first when `create` and missing),
    /// answering `done`.
    Preset {
        inst: String,
        preset: Preset,
        create: bool,
        done: OscMessage,
    },
    /// Read and load a sample file in the background, answering when it is in.
    Load(chronus_engine::score::Load),
    /// Inject a fault (`/fault/inject <kind> <target>`).
    Fault {
        kind: &'static str,
        target: FaultTarget,
        fault: InjectedFault,
    },
}

pub(super) fn to_arg(t: &OscType) -> Option<Arg<'_>> {
    Some(match t {
        OscType::Float(f) => Arg::Float(*f),
        OscType::Double(d) => Arg::Double(*d),
        OscType::Int(i) => Arg::Int(*i),
        OscType::Long(l) => Arg::Double(*l as f64),
        OscType::String(s) => Arg::Str(s),
        OscType::Bool(b) => Arg::Bool(*b),
        _ => return None,
    })
}

pub(super) fn type_name(t: &OscType) -> &'static str {
    match t {
        OscType::Int(_) => "int",
        OscType::Float(_) => "float",
        OscType::String(_) => "string",
        OscType::Blob(_) => "blob",
        OscType::Time(_) => "timetag",
        OscType::Long(_) => "int64",
        OscType::Double(_) => "double",
        OscType::Char(_) => "char",
        OscType::Color(_) => "color",
        OscType::Midi(_) => "midi",
        OscType::Bool(_) => "bool",
        OscType::Array(_) => "array",
        OscType::Nil => "nil",
        OscType::Inf => "infinitum",
    }
}

pub(super) fn expect_args(args: &[Arg<'_>], n: usize) -> Result<(), Failure> {
    if args.len() == n {
        Ok(())
    } else {
        Err(fail(
            "arguments",
            format!("expects {n} arguments, got {}", args.len()),
        ))
    }
}

/// An edit read from its address: staged (`/patch/...`), or applied now and answered
/// (`/bus/created`, `/inst/created`, `/inst/removed`).
fn plan_edit(read: Result<(PatchEdit, EditTiming), EngineError>) -> Result<Plan, Failure> {
    let (edit, timing) = read.map_err(|e| {
        let kind = if matches!(e, EngineError::Dsp(_)) {
            "patch"
        } else {
            "arguments"
        };
        fail(kind, e.to_string())
    })?;
    if timing == EditTiming::Staged {
        return Ok(Plan::Stage(edit));
    }
    let (addr, name) = match &edit {
        PatchEdit::Instrument { name, .. } => ("/inst/created", name),
        PatchEdit::RemoveInstrument { name } => ("/inst/removed", name),
        PatchEdit::Create { name, .. } => ("/bus/created", name),
        other => {
            return Err(fail(
                "patch",
                format!("{other:?} is staged, not applied at once"),
            ))
        }
    };
    let done = msg(addr, vec![OscType::String(name.clone())]);
    Ok(Plan::EditNow {
        edits: vec![edit],
        done,
    })
}

impl<S: Synth> Router<S> {
    pub(super) fn record(&self, start: bool, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        if !start {
            expect_args(args, 0)?;
            let report = self
                .engine
                .stop_recording()
                .map_err(|e| fail("record", e.to_string()))?
                .ok_or_else(|| fail("record", "nothing is being recorded"))?;
            let sr = self.engine.config().sample_rate;
            return Ok(Plan::Reply(vec![msg(
                "/record/stopped",
                vec![
                    OscType::String(report.path.display().to_string()),
                    OscType::Float((report.samples as f64 / sr) as f32),
                    OscType::Long(report.dropped as i64),
                ],
            )]));
        }
        let dir = self.recordings.as_ref().ok_or_else(|| {
            fail(
                "record",
                "recording over OSC is off (chronus run --recordings DIR turns it on)",
            )
        })?;
        if let Some(p) = self.engine.recording() {
            return Err(fail(
                "record",
                format!("already recording to {}; /record/stop first", p.display()),
            ));
        }
        let (file, path) = match args {
            [] => crate::recordings::create_dated(dir),
            [Arg::Str(name)] => crate::recordings::create(dir, name),
            _ => return Err(fail("arguments", "expects an optional file name")),
        }
        .map_err(|e| fail("record", e))?;
        self.engine
            .start_recording_into(file, &path, chronus_engine::offline::WavFormat::F32)
            .map_err(|e| fail("record", e.to_string()))?;
        Ok(Plan::Reply(vec![msg(
            "/record/started",
            vec![OscType::String(path.display().to_string())],
        )]))
    }

    /// Validates a message and works out what it asks for. Changes nothing.
    pub(super) fn plan(&self, m: &OscMessage) -> Result<Plan, Failure> {
        let parts: Vec<&str> = m.addr.strip_prefix('/').unwrap_or("").split('/').collect();
        let args: Option<Vec<Arg<'_>>> = m.args.iter().map(to_arg).collect();
        let Some(args) = args else {
            let t = m
                .args
                .iter()
                .find(|a| to_arg(a).is_none())
                .map_or("?", type_name);
            return Err(fail(
                "type",
                format!("arguments of type {t} are not understood"),
            ));
        };
        // Edits only: the directory is loaded for them, not for every message.
        if chronus_engine::address::is_edit(&m.addr) {
            if let Some(read) =
                chronus_engine::address::edit(&self.engine.directory(), &m.addr, &args)
            {
                return plan_edit(read);
            }
        }
        match parts.as_slice() {
            ["mod", _, _] | ["gate", _] | ["engine", _] | ["seq", _] | ["note", _] | ["voices"] | ["inst", "voices"] | ["sample", "play"] => {
                self.plan_actions(&m.addr, &args)
            }
            ["midi", verb] => self.plan_midi(verb, &args),
            ["status"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Reply(vec![self.status()]))
            }
            ["meter"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Reply(vec![self.meter()]))
            }
            ["get"] => match args.as_slice() {
                [Arg::Str(module), Arg::Str(param)] => {
                    let v = self.engine.get(module, param).map_err(|e| fail("unknown", e.to_string()))?;
                    Ok(Plan::Reply(vec![msg(
                        "/value",
                        vec![OscType::String((*module).into()), OscType::String((*param).into()), OscType::Float(v)],
                    )]))
                }
                _ => Err(fail("arguments", "expects two strings: <module> <param>")),
            },
            ["modules"] => {
                expect_args(&args, 0)?;
                let mut out = Vec::new();
                for e in self.engine.directory().modules() {
                    out.push(OscType::String(e.name.clone()));
                    out.push(OscType::String(e.kind.name().into()));
                }
                Ok(Plan::Reply(vec![msg("/modules.reply", out)]))
            }
            ["notify"] => match args.as_slice() {
                [a] => a.as_gate().map(Plan::Notify).ok_or_else(|| fail("arguments", "expects 1 or 0")),
                _ => Err(fail("arguments", "expects 1 or 0")),
            },
            ["inst", verb @ ("load" | "preset")] => match args.as_slice() {
                [Arg::Str(inst), Arg::Str(name)] => {
                    let preset = self.find_preset(name)?;
                    Ok(Plan::Preset {
                        inst: (*inst).to_owned(),
                        preset,
                        create: *verb == "load",
                        done: msg("/inst/loaded", vec![OscType::String((*inst).into()), OscType::String((*name).into())]),
                    })
                }
                _ => Err(fail(
                    "arguments",
                    format!("expects <instrument> <preset> (built in: {}; or a file saved with /inst/save)", presets::built_in_names().join(", ")),
                )),
            },
            ["inst", "save"] => match args.as_slice() {
                [Arg::Str(inst), Arg::Str(name)] => self.save_preset(inst, name),
                _ => Err(fail("arguments", "expects <instrument> <preset name>")),
            },
            ["inst", "list"] => {
                expect_args(&args, 0)?;
                let mut out = Vec::new();
                for i in self.engine.directory().instruments() {
                    out.push(OscType::String(i.name.clone()));
                    out.push(OscType::String(i.chain.join(" > ")));
                }
                Ok(Plan::Reply(vec![msg("/inst/list.reply", out)]))
            }
            ["state", verb @ ("save" | "load" | "list")] => self.plan_state(verb, &args),
            ["sample", verb @ ("load" | "free" | "list" | "files")] => self.plan_sample(verb, &args),
            ["kit", "load"] => self.plan_sample("kit", &args),
            ["patch", "commit"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Commit)
            }
            ["patch", "abort"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Abort)
            }
            ["fault", "inject"] => self.plan_fault(&args),
            ["record", "start"] => self.record(true, &args),
            ["record", "stop"] => self.record(false, &args),
            ["sync"] => match m.args.as_slice() {
                [id] => Ok(Plan::Sync(id.clone())),
                _ => Err(fail("arguments", "expects one id")),
            },
            _ => Err(fail(
                "address",
                format!("unknown address '{}' (see docs/osc.md: /mod, /gate, /note, /voices, /inst, /engine, /seq, /sample, /kit, /patch, /bus, /record, /state, /status, /get, /modules, /notify, /sync, /fault)", m.addr),
            )),
        }
    }

    /// A preset by name: a built-in one, else a file in the presets folder.
    pub(super) fn find_preset(&self, name: &str) -> Result<Preset, Failure> {
        if let Some(p) = presets::built_in(name) {
            return Ok(p);
        }
        let dir = self.presets.as_ref().ok_or_else(|| {
            fail(
                "preset",
                format!(
                    "no built-in preset '{name}' ({}), and preset files are off (chronus run --presets DIR turns them on)",
                    presets::built_in_names().join(", ")
                ),
            )
        })?;
        let text = crate::recordings::read_preset(dir, name).map_err(|e| fail("preset", e))?;
        presets::parse(&text).map_err(|e| fail("preset", format!("{name}: {e}")))
    }

    /// `/inst/save <instrument> <name>`: the instrument as it is, into a new preset file.
    pub(super) fn save_preset(&self, inst: &str, name: &str) -> Result<Plan, Failure> {
        let dir = self.presets.as_ref().ok_or_else(|| {
            fail(
                "preset",
                "preset files are off (chronus run --presets DIR turns them on)",
            )
        })?;
        let directory = self.engine.directory();
        let preset = presets::of_instrument(&directory, inst, &self.engine.describe(), |id, p| {
            let e = directory.modules().iter().find(|e| e.id == id)?;
            self.engine
                .get(&e.name, e.kind.params().get(usize::from(p))?.name)
                .ok()
        })
        .map_err(|e| fail("preset", e.to_string()))?;
        let path = crate::recordings::save_preset(dir, name, &presets::render(&preset))
            .map_err(|e| fail("preset", e))?;
        Ok(Plan::Reply(vec![msg(
            "/inst/saved",
            vec![
                OscType::String(inst.into()),
                OscType::String(path.display().to_string()),
            ],
        )]))
    }

    /// `/state/save <name>`, `/state/load <name>`, `/state/list`: sessions in the sessions
    /// folder (`chronus run --sessions DIR`).
    pub(super) fn plan_state(&self, verb: &str, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        let dir = self.sessions.as_ref().ok_or_else(|| {
            fail(
                "session",
                "sessions are off (chronus run --sessions DIR turns them on)",
            )
        })?;
        let reply = |addr: &str, args: Vec<OscType>| Ok(Plan::Reply(vec![msg(addr, args)]));
        match (verb, args) {
            ("list", []) => reply(
                "/state/list.reply",
                crate::recordings::list_sessions(dir)
                    .into_iter()
                    .map(OscType::String)
                    .collect(),
            ),
            ("save", [Arg::Str(name)]) => {
                let text = self
                    .engine
                    .session()
                    .map_err(|e| fail("session", e.to_string()))?;
                // The MIDI settings too (the router holds them, not the engine).
                let text =
                    chronus_engine::session::with_host_lines(&text, &self.midi_session_lines());
                let path = crate::recordings::save_session(dir, name, &text)
                    .map_err(|e| fail("session", e))?;
                reply(
                    "/state/saved",
                    vec![
                        OscType::String((*name).into()),
                        OscType::String(path.display().to_string()),
                    ],
                )
            }
            ("load", [Arg::Str(name)]) => {
                let text =
                    crate::recordings::read_session(dir, name).map_err(|e| fail("session", e))?;
                // Its samples first (read from their files, or made): then its lines resolve.
                let score = chronus_engine::session::parse(&text)
                    .map_err(|e| fail("session", format!("{name}: {e}")))?;
                // Its MIDI settings, checked before anything changes.
                let midi = self
                    .midi_from_lines(score.host())
                    .map_err(|e| fail("session", format!("{name}: {e}")))?;
                for l in score.loads() {
                    crate::samples::load(&*self.engine, self.samples.as_ref(), l)
                        .map_err(|e| fail("session", format!("{name}: {e}")))?;
                }
                self.engine
                    .load_session(&text)
                    .map_err(|e| fail("session", format!("{name}: {e}")))?;
                self.take_midi(midi);
                reply("/state/loaded", vec![OscType::String((*name).into())])
            }
            ("list", _) => Err(fail("arguments", "expects no arguments")),
            _ => Err(fail(
                "arguments",
                "expects <name>: a plain name in the sessions folder",
            )),
        }
    }

    /// `/sample/load|free|list|files` and `/kit/load`. A load reads and decodes here, in the
    /// thread that handles this sender's messages (the audio never waits for it).
    pub(super) fn plan_sample(&self, verb: &str, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        use chronus_engine::score::Load;
        let reply = |addr: &str, args: Vec<OscType>| Ok(Plan::Reply(vec![msg(addr, args)]));
        match (verb, args) {
            ("load", [Arg::Str(name), Arg::Str(file)]) => Ok(Plan::Load(Load::Sample {
                name: (*name).to_owned(),
                file: (*file).to_owned(),
            })),
            ("load", _) => Err(fail(
                "arguments",
                "expects <name> <file>: a name to play it by and a file in the samples folder, e.g. kick kicks/808.wav",
            )),
            ("kit", [Arg::Str(kit)]) => {
                let load = Load::Kit {
                    kit: (*kit).to_owned(),
                };
                let infos = crate::samples::load(&*self.engine, self.samples.as_ref(), &load)
                    .map_err(|e| self.sample_refused(e))?;
                let mut out = vec![OscType::String((*kit).into())];
                out.extend(infos.into_iter().map(|i| OscType::String(i.name)));
                reply("/kit/loaded", out)
            }
            ("kit", _) => Err(fail(
                "arguments",
                format!("expects a kit's name (built in: {})", crate::samples::KITS.join(", ")),
            )),
            ("free", [Arg::Str(name)]) => {
                let info = self
                    .engine
                    .free_sample(name)
                    .map_err(|e| fail("sample", e.to_string()))?;
                reply("/sample/freed", vec![OscType::String(info.name)])
            }
            ("free", _) => Err(fail("arguments", "expects <name> (/sample/list names them)")),
            ("list", []) => {
                let mut out = Vec::new();
                for i in self.engine.samples() {
                    out.push(OscType::String(i.name));
                    out.push(OscType::Int(i.frames.min(i32::MAX as u64) as i32));
                    out.push(OscType::Int(i32::from(i.channels)));
                    out.push(OscType::String(i.source));
                }
                reply("/sample/list.reply", out)
            }
            ("files", []) => {
                let files = self.samples.as_ref().ok_or_else(|| {
                    fail(
                        "sample",
                        "sample files are off (chronus run --samples DIR names the folder)",
                    )
                })?;
                reply(
                    "/sample/files.reply",
                    files
                        .folder
                        .list(MAX_FILES_LISTED)
                        .into_iter()
                        .map(OscType::String)
                        .collect(),
                )
            }
            _ => Err(fail("arguments", "expects no arguments")),
        }
    }

    /// A refused sample load, counted (`samples_refused` in `/status`).
    pub(super) fn sample_refused(&self, reason: String) -> Failure {
        self.stats
            .samples_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        fail("sample", format!("{reason}; nothing was loaded"))
    }

    /// `/fault/inject <kind> <target>`, when fault injection is on.
    pub(super) fn plan_fault(&self, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        if !self.fault_injection {
            return Err(fail(
                "disabled",
                "fault injection is off: start chronus run with --fault-injection (loopback only)",
            ));
        }
        let kinds = || {
            chronus_engine::fault::KINDS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join("|")
        };
        let targets = || {
            FaultTarget::ALL
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join("|")
        };
        let [Arg::Str(kind), Arg::Str(target)] = args else {
            return Err(fail(
                "arguments",
                format!(
                    "expects <kind> <target>: kind {}, target {}",
                    kinds(),
                    targets()
                ),
            ));
        };
        let Some(&(kind, fault)) = chronus_engine::fault::KINDS.iter().find(|(n, _)| n == kind)
        else {
            return Err(fail(
                "arguments",
                format!("no fault kind '{kind}': one of {}", kinds()),
            ));
        };
        let target = FaultTarget::parse(target).ok_or_else(|| {
            fail(
                "arguments",
                format!("no target '{target}': one of {}", targets()),
            )
        })?;
        Ok(Plan::Fault {
            kind,
            target,
            fault,
        })
    }

    /// Everything that changes the sound goes through the engine's one address table.
    pub(super) fn plan_actions(&self, addr: &str, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        let resolved = self.engine.resolve_address(addr, args).map_err(|e| {
            let kind = match &e {
                EngineError::Dsp(
                    DspError::UnknownModule { .. }
                    | DspError::UnknownParam { .. }
                    | DspError::NotGateable { .. },
                ) => "unknown",
                EngineError::Dsp(DspError::NonFinite { .. }) => "value",
                _ => "arguments",
            };
            fail(kind, e.to_string())
        })?;
        let notices = resolved
            .clamped
            .into_iter()
            .map(|c| {
                self.stats.clamped.fetch_add(1, Relaxed);
                msg(
                    "/clamped",
                    vec![
                        OscType::String(c.module),
                        OscType::String(c.param.into()),
                        OscType::Float(c.value),
                    ],
                )
            })
            .collect();
        Ok(Plan::Apply {
            actions: resolved.actions,
            notices,
        })
    }
}

/// The most file names `/sample/files` replies with (one datagram holds them).
const MAX_FILES_LISTED: usize = 200;
