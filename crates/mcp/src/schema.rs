//! The tools chronus offers, with JSON schemas generated from chronus-dsp's module and
//! parameter tables (names, ranges, defaults, units) for the modules of the patch that plays.

use chronus_dsp::{ModuleKind, Unit};
use serde_json::{json, Map, Value};

/// A module of the running patch: its name and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleInfo {
    /// Its name (`sine`, `filter`, …).
    pub name: String,
    /// Its kind.
    pub kind: ModuleKind,
}

/// What the schemas are generated for: the patch's modules and the sample rate (some ranges
/// end at the Nyquist frequency).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The modules.
    pub modules: Vec<ModuleInfo>,
    /// Hz.
    pub sample_rate: f64,
}

impl Layout {
    /// The default patch at 48 kHz (what `chronus run` starts with).
    pub fn default_patch() -> Self {
        let modules = chronus_dsp::Patch::default_patch(48_000.0, 64)
            .map(|p| {
                p.describe()
                    .into_iter()
                    .map(|d| ModuleInfo {
                        name: d.name,
                        kind: d.kind,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Layout {
            modules,
            sample_rate: 48_000.0,
        }
    }

    /// The kind of the module named `name`.
    pub fn kind_of(&self, name: &str) -> Option<ModuleKind> {
        self.modules.iter().find(|m| m.name == name).map(|m| m.kind)
    }
}

/// A unit's name for people.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Hz => "Hz",
        Unit::Ms => "ms",
        Unit::Ratio => "ratio",
        Unit::Db => "dB",
        Unit::Cents => "cents",
        Unit::Choice => "choice",
        Unit::Trigger => "trigger",
    }
}

/// One parameter of every module: its name, range, default and unit.
fn param_table(layout: &Layout) -> Vec<Value> {
    let mut out = Vec::new();
    for m in &layout.modules {
        for p in m.kind.params() {
            let (min, max) = p.range(layout.sample_rate);
            out.push(json!({
                "module": m.name, "param": p.name, "unit": unit_name(p.unit),
                "min": min, "max": max, "default": p.default,
            }));
        }
    }
    out
}

fn object(properties: Value, required: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), properties);
    m.insert("required".into(), json!(required));
    m.insert("additionalProperties".into(), json!(false));
    m
}

/// A tool: name, description and input schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: &'static str,
    /// What it does, for the assistant.
    pub description: String,
    /// Its arguments (a JSON Schema object).
    pub input_schema: Map<String, Value>,
}

/// Every tool, for this layout.
pub fn tools(layout: &Layout) -> Vec<ToolSpec> {
    let names: Vec<&str> = layout.modules.iter().map(|m| m.name.as_str()).collect();
    let gates: Vec<&str> = layout
        .modules
        .iter()
        .filter(|m| m.kind.gateable())
        .map(|m| m.name.as_str())
        .collect();
    let mut params: Vec<&str> = layout
        .modules
        .iter()
        .flat_map(|m| m.kind.params().iter().map(|p| p.name))
        .collect();
    params.sort_unstable();
    params.dedup();
    // One branch per module and parameter, with its range: a client that validates sees the
    // bounds; chronus clamps anyway (and says so).
    let ranges: Vec<Value> = layout
        .modules
        .iter()
        .flat_map(|m| {
            m.kind.params().iter().map(move |p| {
                let (min, max) = p.range(layout.sample_rate);
                json!({"properties": {
                    "module": {"const": m.name},
                    "param": {"const": p.name},
                    "value": {"minimum": min, "maximum": max,
                              "description": format!("{} {}, default {}", p.name, unit_name(p.unit), p.default)},
                }})
            })
        })
        .collect();
    let table: Vec<String> = param_table(layout)
        .iter()
        .map(|p| {
            format!(
                "{}.{} {}..{} {} (default {})",
                p["module"].as_str().unwrap_or(""),
                p["param"].as_str().unwrap_or(""),
                p["min"],
                p["max"],
                p["unit"].as_str().unwrap_or(""),
                p["default"]
            )
        })
        .collect();
    let module = json!({"type": "string", "enum": names, "description": "a module of the patch"});
    let param =
        json!({"type": "string", "enum": params, "description": "one of the module's parameters"});
    let note = json!({
        "description": "a MIDI note number 0..127 or a name: C4 (60), A4 (69), F#3, Bb2",
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": 127}, {"type": "string"}],
    });
    let mut set_param = object(
        json!({"module": module, "param": param, "value": {"type": "number"}}),
        &["module", "param", "value"],
    );
    set_param.insert("anyOf".into(), Value::Array(ranges));
    vec![
        ToolSpec {
            name: "status",
            description: "The running synth's status: workers, underruns, failovers, messages; \
                          what chronus counts (every key of /status)."
                .into(),
            input_schema: object(json!({}), &[]),
        },
        ToolSpec {
            name: "get_param",
            description: "A parameter's value (as last set, after clamping).".into(),
            input_schema: object(
                json!({"module": module, "param": param}),
                &["module", "param"],
            ),
        },
        ToolSpec {
            name: "set_param",
            description: format!(
                "Set a parameter; a value out of range is clamped (and the answer says so). \
                 Parameters: {}.",
                table.join("; ")
            ),
            input_schema: set_param,
        },
        ToolSpec {
            name: "gate",
            description: "Open (on: true) or close an envelope's gate: the patch's own single \
                          voice (adsr in the default patch)."
                .into(),
            input_schema: object(
                json!({"module": {"type": "string", "enum": gates, "default": "adsr"},
                       "on": {"type": "boolean"}}),
                &["on"],
            ),
        },
        ToolSpec {
            name: "note_on",
            description: "Play a note on the pool of voices (sine > adsr > filter > pan copies)."
                .into(),
            input_schema: object(
                json!({"note": note, "velocity": {"type": "number", "minimum": 0, "maximum": 1, "default": 1}}),
                &["note"],
            ),
        },
        ToolSpec {
            name: "note_off",
            description: "Release a note, or every note when none is given.".into(),
            input_schema: object(json!({"note": note}), &[]),
        },
        ToolSpec {
            name: "say",
            description: "Plain language, as `chronus say` takes it (\"play C4, a bit brighter, \
                          with vibrato\", \"C major chord\", \"add reverb\"). Returns the OSC \
                          messages it sent and what it understood."
                .into(),
            input_schema: object(json!({"text": {"type": "string"}}), &["text"]),
        },
        ToolSpec {
            name: "patch",
            description: "Edit the patch: staged edits applied together at one block boundary \
                          (or none: a cycle, an unknown module or type is refused whole)."
                .into(),
            input_schema: object(
                json!({
                    "edits": {"type": "array", "items": {"type": "object", "properties": {
                        "op": {"type": "string", "enum": ["create", "connect", "disconnect", "remove"]},
                        "id": {"type": "string", "description": "create/remove: the module's name"},
                        "type": {"type": "string", "enum": ModuleKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
                                 "description": "create: the module's kind"},
                        "from": {"type": "string", "description": "connect/disconnect: the source module"},
                        "to": {"type": "string", "description": "connect/disconnect: a module, `out`, or `module.param` (modulation)"},
                        "level": {"type": "number", "minimum": 0, "maximum": 2, "default": 1,
                                  "description": "connect: the connection's gain (a send to a bus: 0.3)"},
                    }, "required": ["op"]}},
                    "commit": {"type": "boolean", "default": true, "description": "apply the staged edits now"},
                }),
                &["edits"],
            ),
        },
        ToolSpec {
            name: "sequence",
            description: "The step sequencer (sixteenths on the sample clock): tempo, swing, a \
                          track's pattern and target, start/stop."
                .into(),
            input_schema: object(
                json!({
                    "bpm": {"type": "number", "minimum": 20, "maximum": 300},
                    "swing": {"type": "number", "minimum": 0, "maximum": 0.5},
                    "track": {"type": "integer", "minimum": 0, "maximum": 3, "default": 0},
                    "pattern": {"type": "string", "description": "steps `x.x.X...` (x hit, X accent, . rest) or notes `C3 . E3 . G3 . C4 .`"},
                    "target": {"type": "string", "description": "`note` (pitch and gate), `off`, or a gate module"},
                    "action": {"type": "string", "enum": ["start", "stop"]},
                }),
                &[],
            ),
        },
        ToolSpec {
            name: "record",
            description: "Start or stop a recording (a WAV of what the output plays, in \
                          chronus's recordings folder)."
                .into(),
            input_schema: object(
                json!({"action": {"type": "string", "enum": ["start", "stop"]},
                       "name": {"type": "string", "description": "start: a plain file name (`.wav` added)"}}),
                &["action"],
            ),
        },
        ToolSpec {
            name: "render_preview",
            description: "Render a score offline on the default patch (nothing plays) and analyse \
                          it: pitch, level, onsets, clipping — to hear what you wrote without \
                          speakers. A score is lines of `<seconds> <address> <args>`, e.g. \
                          `0 /gate/adsr on` then `1 /gate/adsr off`."
                .into(),
            input_schema: object(
                json!({"score": {"type": "string"},
                       "seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                                   "description": "how long to render (default: the score's length + 0.5 s)"}}),
                &["score"],
            ),
        },
    ]
}

/// The parameter table as JSON (for the patch resource).
pub fn params_json(layout: &Layout) -> Value {
    Value::Array(param_table(layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_param_has_a_range_for_every_parameter_of_every_module() {
        let layout = Layout::default_patch();
        let tools = tools(&layout);
        let set = tools.iter().find(|t| t.name == "set_param").unwrap();
        let branches = set.input_schema["anyOf"].as_array().unwrap();
        let expected: usize = layout.modules.iter().map(|m| m.kind.params().len()).sum();
        assert_eq!(branches.len(), expected);
        let freq = branches
            .iter()
            .find(|b| {
                b["properties"]["module"]["const"] == "sine"
                    && b["properties"]["param"]["const"] == "freq"
            })
            .unwrap();
        // 0.1 Hz to Nyquist - 10 at 48 kHz.
        assert_eq!(freq["properties"]["value"]["maximum"], 23_990.0);
        for t in &tools {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
        }
    }

    #[test]
    fn ranges_follow_the_sample_rate() {
        let mut layout = Layout::default_patch();
        layout.sample_rate = 96_000.0;
        let tools = tools(&layout);
        let set = tools.iter().find(|t| t.name == "set_param").unwrap();
        let text = set.input_schema.get("anyOf").unwrap().to_string();
        assert!(text.contains("47990"), "{text:.300}");
    }
}
