//! The tools: JSON arguments in, OSC to the running chronus, JSON answers out.

use crate::remote::{to_json, Outgoing, Remote};
use crate::schema::Layout;
use crate::ToolError;
use rosc::OscType;
use serde_json::{json, Map, Value};

/// A tool's arguments.
pub type Args = Map<String, Value>;

fn s(v: &str) -> OscType {
    OscType::String(v.to_owned())
}

fn bad(tool: &'static str, reason: impl Into<String>) -> ToolError {
    ToolError::BadArguments {
        tool,
        reason: reason.into(),
    }
}

fn text<'a>(tool: &'static str, args: &'a Args, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(tool, format!("'{key}' (a string) is required")))
}

fn number(tool: &'static str, args: &Args, key: &str) -> Result<Option<f32>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| Some(f as f32))
            .ok_or_else(|| bad(tool, format!("'{key}' must be a finite number (got {v})"))),
    }
}

/// A note argument: a MIDI number or a name, as chronus takes it.
fn note(tool: &'static str, v: &Value) -> Result<OscType, ToolError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .filter(|n| (0..=127).contains(n))
            .map(|n| OscType::Int(n as i32))
            .ok_or_else(|| bad(tool, format!("a note number is 0..127 (got {n})"))),
        Value::String(t) => Ok(s(t)),
        other => Err(bad(
            tool,
            format!("a note is a number or a name like C4 (got {other})"),
        )),
    }
}

/// Calls tool `name`. `layout` is the patch the schemas describe.
pub fn call(
    remote: &mut Remote,
    layout: &Layout,
    name: &str,
    args: &Args,
) -> Result<Value, ToolError> {
    match name {
        "status" => status(remote),
        "get_param" => {
            let (m, p) = (
                text("get_param", args, "module")?,
                text("get_param", args, "param")?,
            );
            let r = remote.ask(Outgoing::now("/get", vec![s(m), s(p)]), "/value")?;
            Ok(json!({"module": m, "param": p, "value": r.args.get(2).map(to_json)}))
        }
        "set_param" => set_param(remote, layout, args),
        "gate" => {
            let module = args.get("module").and_then(Value::as_str).unwrap_or("adsr");
            let on = args
                .get("on")
                .and_then(Value::as_bool)
                .ok_or_else(|| bad("gate", "'on' (true or false) is required"))?;
            let state = if on { "on" } else { "off" };
            remote.request(&[Outgoing::now(&format!("/gate/{module}"), vec![s(state)])])?;
            Ok(json!({"module": module, "gate": state}))
        }
        "note_on" => {
            let n = note("note_on", args.get("note").unwrap_or(&Value::Null))?;
            let velocity = number("note_on", args, "velocity")?.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&velocity) {
                return Err(bad("note_on", format!("velocity is 0..1 (got {velocity})")));
            }
            remote.request(&[Outgoing::now(
                "/note/on",
                vec![n.clone(), OscType::Float(velocity)],
            )])?;
            Ok(json!({"note": to_json(&n), "velocity": velocity}))
        }
        "note_off" => {
            let osc_args = match args.get("note") {
                None | Some(Value::Null) => vec![],
                Some(v) => vec![note("note_off", v)?],
            };
            let released = osc_args.first().map_or(json!("every note"), to_json);
            remote.request(&[Outgoing::now("/note/off", osc_args)])?;
            Ok(json!({"released": released}))
        }
        "say" => say(remote, text("say", args, "text")?),
        "patch" => patch(remote, args),
        "sequence" => sequence(remote, args),
        "record" => record(remote, args),
        "render_preview" => crate::preview::render_preview(
            text("render_preview", args, "score")?,
            number("render_preview", args, "seconds")?.map(f64::from),
        ),
        other => Err(ToolError::BadArguments {
            tool: "tools/call",
            reason: format!("no tool named '{other}' (tools/list has them)"),
        }),
    }
}

fn status(remote: &mut Remote) -> Result<Value, ToolError> {
    let r = remote.ask(Outgoing::now("/status", vec![]), "/status.reply")?;
    let mut out = Map::new();
    for pair in r.args.chunks(2) {
        if let [OscType::String(k), v] = pair {
            out.insert(k.clone(), to_json(v));
        }
    }
    Ok(Value::Object(out))
}

fn set_param(remote: &mut Remote, layout: &Layout, args: &Args) -> Result<Value, ToolError> {
    let (m, p) = (
        text("set_param", args, "module")?,
        text("set_param", args, "param")?,
    );
    let value = number("set_param", args, "value")?
        .ok_or_else(|| bad("set_param", "'value' (a number) is required"))?;
    if let Some(kind) = layout.kind_of(m) {
        if kind.param_id(p).is_err() {
            let names: Vec<&str> = kind.params().iter().map(|x| x.name).collect();
            return Err(bad(
                "set_param",
                format!(
                    "{m} ({}) has no parameter '{p}'; it has {}",
                    kind.name(),
                    names.join(", ")
                ),
            ));
        }
    }
    let replies = remote.request(&[Outgoing::now(
        &format!("/mod/{m}/{p}"),
        vec![OscType::Float(value)],
    )])?;
    let clamped = replies.iter().find(|r| r.addr == "/clamped");
    Ok(json!({
        "module": m, "param": p,
        "value": clamped.and_then(|r| r.args.get(2)).map_or(json!(value), to_json),
        "clamped": clamped.is_some(),
    }))
}

fn say(remote: &mut Remote, phrase: &str) -> Result<Value, ToolError> {
    let mut ctx = chronus_nl::Context::default();
    {
        let remote = std::cell::RefCell::new(&mut *remote);
        ctx.refresh(
            |m, p| {
                let r = remote
                    .borrow_mut()
                    .ask(Outgoing::now("/get", vec![s(m), s(p)]), "/value")
                    .ok()?;
                match r.args.get(2) {
                    Some(OscType::Float(v)) => Some(*v),
                    _ => None,
                }
            },
            || {
                crate::layout_of(&mut remote.borrow_mut())
                    .modules
                    .into_iter()
                    .map(|m| m.name)
                    .collect()
            },
        );
    }
    let plan = chronus_nl::plan(phrase, &mut ctx).map_err(|e| ToolError::NotUnderstood {
        reason: e.to_string(),
    })?;
    let out: Vec<Outgoing> = plan
        .messages
        .iter()
        .map(|m| Outgoing {
            message: rosc::OscMessage {
                addr: m.address.clone(),
                args: m
                    .args
                    .iter()
                    .map(|a| match a {
                        chronus_nl::Value::Float(f) => OscType::Float(*f),
                        chronus_nl::Value::Int(i) => OscType::Int(*i),
                        chronus_nl::Value::Str(t) => s(t),
                    })
                    .collect(),
            },
            at_ms: m.at_ms,
        })
        .collect();
    remote.request(&out)?;
    Ok(json!({
        "sent": plan.messages.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        "understood": plan.explanation,
        "answer": plan.answer,
    }))
}

fn patch(remote: &mut Remote, args: &Args) -> Result<Value, ToolError> {
    let edits = args
        .get("edits")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("patch", "'edits' (a list) is required"))?;
    let mut out = Vec::new();
    for (i, e) in edits.iter().enumerate() {
        let field = |k: &str| {
            e.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| bad("patch", format!("edit {i}: '{k}' is required")))
        };
        let (addr, osc_args) = match field("op")? {
            "create" => ("/patch/create", vec![s(field("id")?), s(field("type")?)]),
            "remove" => ("/patch/remove", vec![s(field("id")?)]),
            op @ ("connect" | "disconnect") => (
                if op == "connect" {
                    "/patch/connect"
                } else {
                    "/patch/disconnect"
                },
                {
                    let mut a = vec![s(field("from")?), s(field("to")?)];
                    if let (true, Some(level)) =
                        (op == "connect", e.get("level").and_then(Value::as_f64))
                    {
                        a.push(OscType::Float(level as f32));
                    }
                    a
                },
            ),
            other => {
                return Err(bad(
                    "patch",
                    format!("edit {i}: no op '{other}' (create, connect, disconnect, remove)"),
                ))
            }
        };
        out.push(Outgoing::now(addr, osc_args));
    }
    let commit = args.get("commit").and_then(Value::as_bool).unwrap_or(true);
    if commit {
        out.push(Outgoing::now("/patch/commit", vec![]));
    }
    let replies = match remote.request(&out) {
        Ok(r) => r,
        Err(e) => {
            // Nothing half-way: what was staged before the refusal is dropped.
            let _ = remote.request(&[Outgoing::now("/patch/abort", vec![])]);
            return Err(e);
        }
    };
    let committed = replies
        .iter()
        .find(|r| r.addr == "/patch/committed")
        .and_then(|r| r.args.first())
        .map(to_json);
    Ok(json!({"staged": edits.len(), "committed": committed}))
}

fn sequence(remote: &mut Remote, args: &Args) -> Result<Value, ToolError> {
    let track = match args.get("track") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .filter(|t| (0..=3).contains(t))
            .ok_or_else(|| bad("sequence", format!("track is 0..3 (got {v})")))?,
    } as i32;
    let mut out = Vec::new();
    if let Some(b) = number("sequence", args, "bpm")? {
        out.push(Outgoing::now("/seq/bpm", vec![OscType::Float(b)]));
    }
    if let Some(w) = number("sequence", args, "swing")? {
        out.push(Outgoing::now("/seq/swing", vec![OscType::Float(w)]));
    }
    if let Some(t) = args.get("target").and_then(Value::as_str) {
        out.push(Outgoing::now(
            "/seq/target",
            vec![OscType::Int(track), s(t)],
        ));
    }
    if let Some(p) = args.get("pattern").and_then(Value::as_str) {
        out.push(Outgoing::now(
            "/seq/pattern",
            vec![OscType::Int(track), s(p)],
        ));
    }
    match args.get("action").and_then(Value::as_str) {
        Some("start") => out.push(Outgoing::now("/seq/start", vec![])),
        Some("stop") => out.push(Outgoing::now("/seq/stop", vec![])),
        Some(other) => {
            return Err(bad(
                "sequence",
                format!("action is start or stop (got '{other}')"),
            ))
        }
        None => {}
    }
    if out.is_empty() {
        return Err(bad(
            "sequence",
            "nothing to do: give bpm, swing, pattern, target or action",
        ));
    }
    let sent: Vec<String> = out.iter().map(|o| o.message.addr.clone()).collect();
    remote.request(&out)?;
    Ok(json!({"sent": sent}))
}

fn record(remote: &mut Remote, args: &Args) -> Result<Value, ToolError> {
    match text("record", args, "action")? {
        "start" => {
            let osc_args = args
                .get("name")
                .and_then(Value::as_str)
                .map(s)
                .into_iter()
                .collect();
            let r = remote.ask(Outgoing::now("/record/start", osc_args), "/record/started")?;
            Ok(json!({"recording": r.args.first().map(to_json)}))
        }
        "stop" => {
            let r = remote.ask(Outgoing::now("/record/stop", vec![]), "/record/stopped")?;
            Ok(json!({
                "file": r.args.first().map(to_json),
                "seconds": r.args.get(1).map(to_json),
                "dropped_samples": r.args.get(2).map(to_json),
            }))
        }
        other => Err(bad(
            "record",
            format!("action is start or stop (got '{other}')"),
        )),
    }
}
