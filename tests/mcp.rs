//! `chronus mcp` driven by a real MCP client that chronus did not write (the Python `mcp`
//! SDK's stdio client, which scripts/test.sh installs): the tools and their schemas from the
//! parameter tables, the resources, a note played on a running chronus and found in its
//! recording, chronus's refusals as tool errors, and an offline preview's analysis.

mod support;

use std::process::{Command, Stdio};

/// The Python that has the `mcp` package: $CHRONUS_MCP_PYTHON (scripts/test.sh sets it), or
/// `python3` if it can import it.
fn python() -> String {
    if let Ok(p) = std::env::var("CHRONUS_MCP_PYTHON") {
        return p;
    }
    let ok = Command::new("python3")
        .args(["-c", "import mcp"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the MCP Python SDK is not installed: run `bash scripts/test.sh` (it installs it in a \
         virtual environment) or set CHRONUS_MCP_PYTHON to a python that has `mcp`"
    );
    "python3".into()
}

#[test]
fn a_real_mcp_client_lists_the_tools_plays_a_note_and_hears_it_in_the_recording() {
    let python = python();
    let port = support::free_port();
    let rec = support::scratch("mcp", "take.wav");
    let (mut synth, line) = support::start_run(
        support::chronus()
            .args(["run", "--backend", "null", "--record"])
            .arg(&rec)
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null()),
    );
    assert!(line.contains("pids"), "{line}");
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/mcp/client.py"
        ))
        .arg(env!("CARGO_BIN_EXE_chronus"))
        .arg(port.to_string())
        .output()
        .unwrap();
    // SAFETY: SIGINT to the chronus under test, as Ctrl-C would: it finalises the recording.
    unsafe { libc::kill(synth.id() as i32, libc::SIGINT) };
    let stopped = synth.wait().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the MCP client failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stopped.success());
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    println!("{seen:#}");

    assert_eq!(seen["server"], "chronus");
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    for t in [
        "gate",
        "get_param",
        "note_off",
        "note_on",
        "patch",
        "record",
        "render_preview",
        "say",
        "sequence",
        "set_param",
        "status",
    ] {
        assert!(tools.contains(&t), "no tool {t}: {tools:?}");
    }
    // The schema names the running patch's modules and gives each parameter its range.
    let schema = &seen["set_param_schema"];
    let modules = schema["properties"]["module"]["enum"].as_array().unwrap();
    assert!(modules.iter().any(|m| m == "filter") && modules.iter().any(|m| m == "reverb"));
    let cutoff = schema["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["properties"]["module"]["const"] == "filter"
                && b["properties"]["param"]["const"] == "cutoff"
        })
        .expect("a branch for filter.cutoff");
    assert_eq!(cutoff["properties"]["value"]["minimum"], 20.0);
    assert_eq!(cutoff["properties"]["value"]["maximum"], 21_600.0); // 0.45 x 48 kHz
    assert_eq!(
        seen["resources"],
        serde_json::json!(["chronus://nl", "chronus://osc", "chronus://patch"])
    );
    assert_eq!(seen["osc_doc_has_note_on"], true);
    let patch_modules = seen["patch"]["modules"].as_array().unwrap();
    let sine = patch_modules.iter().find(|m| m["name"] == "sine").unwrap();
    assert_eq!(sine["params"]["freq"]["value"], 440.0);
    assert_eq!(seen["status"]["workers_alive"], 2);

    assert_eq!(seen["note_on"]["error"], false, "{}", seen["note_on"]);
    assert_eq!(seen["note_off_error"], false);
    assert_eq!(seen["clamped"]["clamped"], true);
    assert_eq!(seen["clamped"]["value"], 21_600.0);
    assert_eq!(seen["cutoff"]["value"], 21_600.0);
    assert_eq!(seen["bad_gate"]["error"], true);
    let refusal = seen["bad_gate"]["text"].as_str().unwrap();
    assert!(
        refusal.starts_with("chronus refused /gate/nosuch:") && refusal.contains("nosuch"),
        "{refusal}"
    );
    assert_eq!(seen["say_not_understood"]["error"], true);
    assert_eq!(seen["bus"]["error"], false, "{}", seen["bus"]);
    assert_eq!(seen["bad_level"]["error"], true, "{}", seen["bad_level"]);
    assert!(
        seen["bad_level"]["text"]
            .as_str()
            .unwrap()
            .contains("level"),
        "{}",
        seen["bad_level"]
    );
    let preview = &seen["preview"];
    let pitch = preview["pitch_hz"].as_f64().unwrap();
    assert!((pitch - 330.0).abs() < 1.0, "preview pitch {pitch}");
    let onsets = preview["onsets_seconds"].as_array().unwrap();
    assert!(
        onsets
            .first()
            .and_then(|o| o.as_f64())
            .is_some_and(|t| (t - 0.1).abs() < 0.02),
        "{onsets:?}"
    );
    assert_eq!(preview["silent"], false);

    // The note, in the recording: A4 at the voice's level (gain 0.5 x sustain 0.7, less the
    // 1 kHz lowpass's fraction of a dB; in the centre, × √½ on each side) for about the 0.6 s
    // it was held.
    let (audio, right) = support::read_sides(&rec);
    assert_eq!(audio, right, "centred: both sides the same");
    let frame = 2_400; // 50 ms
    let loud: Vec<usize> = audio
        .chunks(frame)
        .enumerate()
        .filter(|(_, c)| chronus_dsp::analysis::peak(c) > 0.07)
        .map(|(i, _)| i)
        .collect();
    assert!(!loud.is_empty(), "the note is not in the recording");
    let held = (loud.len() * frame) as f64 / 48_000.0;
    assert!((0.55..1.2).contains(&held), "the note sounds {held:.2} s");
    let mid = loud[loud.len() / 2] * frame;
    let steady = &audio[mid - frame..mid + frame];
    let f = chronus_dsp::analysis::zero_crossing_frequency(steady, 48_000.0).unwrap();
    assert!((f - 440.0).abs() < 1.0, "the note plays at {f:.2} Hz");
    let level = chronus_dsp::analysis::amplitude_at(steady, 440.0, 48_000.0);
    assert!(
        (level - 0.35 * std::f64::consts::FRAC_1_SQRT_2).abs() < 0.015,
        "level {level:.4}"
    );
}
