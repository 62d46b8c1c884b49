//! End-to-end: `chronus run --session FILE` keeps what is built in a file, and a host killed
//! with SIGKILL comes back as it was (process workers, the null backend, real OSC).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use chronus_dsp::analysis;
use support::{chronus, free_port};

fn scratch(name: &str) -> PathBuf {
    support::scratch("session", name)
}

/// `chronus run --session FILE` on the null backend, on `port`, with `extra` arguments; the
/// child, its start-up line, and how long that line took to come.
fn start(session: &Path, port: u16, extra: &[&str]) -> (Child, String, Duration) {
    let t = Instant::now();
    let (child, line) = support::start_run(
        chronus()
            .args(["run", "--backend", "null", "--session"])
            .arg(session)
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stderr(Stdio::piped()),
    );
    (child, line, t.elapsed())
}

/// `chronus run --backend null --no-osc --seconds 0.2` with `args` (a session, a score): the
/// command, to run.
fn brief_run(args: &[&std::ffi::OsStr]) -> Command {
    let mut cmd = chronus();
    cmd.args(["run", "--backend", "null", "--no-osc", "--seconds", "0.2"])
        .args(args);
    cmd
}

/// `chronus send --port PORT --wait-reply ARGS`: its reply.
fn ask(port: u16, args: &[&str]) -> String {
    let out = support::succeed(
        chronus()
            .args(["send", "--port", &port.to_string(), "--wait-reply"])
            .args(args),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `chronus send --port PORT --wait-reply ARGS` answered with an error: what it printed.
fn ask_refused(port: u16, args: &[&str]) -> String {
    let out = chronus()
        .args(["send", "--port", &port.to_string(), "--wait-reply"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} was taken");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits (at most `limit`) until the session file holds `text`; how long that took.
fn until_saved(session: &Path, text: &str, limit: Duration) -> Duration {
    let t = Instant::now();
    loop {
        if std::fs::read_to_string(session).is_ok_and(|s| s.contains(text)) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < limit,
            "the session never held {text:?}: {:?}",
            std::fs::read_to_string(session)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGKILLs the host and waits until it and its workers are gone.
fn kill_host(mut child: Child, line: &str) {
    let pids = support::worker_pids(line);
    child.kill().unwrap();
    child.wait().unwrap();
    let t = Instant::now();
    while pids
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "workers outlived the host"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_host_killed_with_sigkill_comes_back_as_it_was() {
    let session = scratch("kill.session");
    let port = free_port();
    let (child, line, _) = start(&session, port, &[]);
    // Build: a module, an instrument, values; hold a note; a pattern running on the bass.
    let made = ask(
        port,
        &[
            "/patch/create",
            "op",
            "osc",
            ",",
            "/inst/new",
            "bass",
            "osc > adsr > filter",
            ",",
            "/patch/commit",
        ],
    );
    assert!(made.contains("/inst/created bass"), "{made}");
    ask(
        port,
        &[
            "/mod/filter/cutoff",
            "2500",
            ",",
            "/mod/bass.osc/shape",
            "3",
            ",",
            "/mod/adsr/sustain",
            "1",
            ",",
            "/mod/bass.adsr/sustain",
            "1",
            ",",
            "/inst/voices",
            "bass",
            "4",
            "mono",
            ",",
            "/note/on",
            "E4",
            "0.9",
            ",",
            "/seq/bpm",
            "100",
            ",",
            "/seq/pattern",
            "0",
            "C3",
            ".",
            "C3",
            ".",
            ",",
            "/seq/target",
            "0",
            "bass",
            ",",
            "/seq/start",
            ",",
            "/get",
            "sine",
            "gain",
        ],
    );
    let saved = until_saved(&session, "/seq/start", Duration::from_secs(5));
    println!(
        "the last change was in the file {} ms after its reply",
        saved.as_millis()
    );
    let before = std::fs::read_to_string(&session).unwrap();
    for want in [
        "/note/on 64 0.9",
        "/inst/voices bass 4 mono",
        "/seq/pattern 0 C3 . C3 .",
    ] {
        assert!(before.contains(want), "{want}: {before}");
    }
    kill_host(child, &line);

    // The same command again: the state is back, and so is the sound, by itself.
    let wav = scratch("back.wav");
    let (child, _, up) = start(
        &session,
        port,
        &["--record", wav.to_str().unwrap(), "--seconds", "1.5"],
    );
    println!(
        "restarted with the session in {} ms (to the start-up line)",
        up.as_millis()
    );
    assert!(ask(port, &["/get", "filter", "cutoff"]).contains("2500"));
    assert!(ask(port, &["/get", "bass.osc", "shape"]).contains(" 3"));
    let modules = ask(port, &["/modules"]);
    assert!(
        modules.contains("op") && modules.contains("bass.filter"),
        "{modules}"
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What it keeps now is what it kept before the kill: every part of the state came back.
    assert_eq!(std::fs::read_to_string(&session).unwrap(), before);
    let mid = support::read_mid(&wav);
    let tail = &mid[mid.len() - 48_000..];
    let held = analysis::amplitude_at(tail, 329.628, 48_000.0);
    let bass = analysis::amplitude_at(tail, 130.813, 48_000.0);
    println!("after the restart: the held E4 at {held:.3}, the sequenced C3 at {bass:.3}");
    assert!(held > 0.1, "the held note sounds again: {held}");
    assert!(bass > 0.02, "the pattern runs again: {bass}");
}

#[test]
fn kills_at_any_instant_leave_a_whole_session() {
    // A stream of changes, the host SIGKILLed at a different instant each time: the file is
    // always a whole session that the next start loads.
    let session = scratch("stream.session");
    let port = free_port();
    for round in 0..6u32 {
        let (child, line, _) = start(&session, port, &[]);
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let kill_at = Duration::from_millis(150 + u64::from(round) * 137 % 700);
        let t = Instant::now();
        let mut i = 0u32;
        while t.elapsed() < kill_at {
            i += 1;
            let msg = rosc::OscPacket::Message(rosc::OscMessage {
                addr: "/mod/filter/cutoff".into(),
                args: vec![rosc::OscType::Float(500.0 + (i % 2000) as f32)],
            });
            sock.send_to(&rosc::encoder::encode(&msg).unwrap(), ("127.0.0.1", port))
                .unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        kill_host(child, &line);
        if let Ok(text) = std::fs::read_to_string(&session) {
            chronus_engine::session::parse(&text)
                .unwrap_or_else(|e| panic!("round {round}: a torn session: {e}\n{text}"));
        }
    }
    // And the last one starts.
    support::succeed(&mut brief_run(&["--session".as_ref(), session.as_os_str()]));
}

#[test]
fn a_bad_session_is_refused_and_left_as_it_was() {
    for (name, text, want) in [
        (
            "newer.session",
            "# chronus-session 9\n0 /mod/sine/freq 440\n",
            "line 1",
        ),
        ("foreign.session", "0 /mod/sine/freq 440\n", "line 1"),
        (
            "kind.session",
            "# chronus-session 1\n# a comment\n0 /patch/create x nosuchkind\n# end\n",
            "line 3",
        ),
        (
            "module.session",
            "# chronus-session 1\n0 /mod/nosuch/freq 440\n# end\n",
            "line 2",
        ),
        // Cut short: the last line missing, even between two whole lines, is seen.
        (
            "cut.session",
            "# chronus-session 1\n0 /mod/sine/freq 440\n0 /mod/sine/g",
            "line 3",
        ),
    ] {
        let session = scratch(name);
        std::fs::write(&session, text).unwrap();
        let out = brief_run(&["--session".as_ref(), session.as_os_str()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert_eq!(
            std::fs::read_to_string(&session).unwrap(),
            text,
            "{name}: untouched"
        );
    }
}

#[test]
fn a_render_from_a_saved_session_equals_the_whole_performance_bit_for_bit() {
    // The state a score's first part builds, saved by `chronus run --session`; then `chronus
    // render --session` with the second part equals the render of both parts in one score.
    let first = "0 /patch/create op osc\n0 /patch/connect op sine.pm 1.2\n\
                 0 /inst/new bass \"osc > adsr > filter > pan\"\n0 /mod/op/freq 110\n\
                 0 /mod/bass.osc/shape 3\n0 /mod/bass.pan/pos -0.5\n0 /mod/filter/cutoff 3000\n";
    let second = "0.1 /note/on A4 0.8\n0.1 /note/on C2 1 bass\n0.9 /note/off\n0.9 /note/off bass\n";
    let (a, b, s1) = (
        scratch("whole.score"),
        scratch("second.score"),
        scratch("first.score"),
    );
    std::fs::write(&a, format!("{first}{second}")).unwrap();
    std::fs::write(&b, second).unwrap();
    std::fs::write(&s1, first).unwrap();
    let session = scratch("render.session");
    let _ = std::fs::remove_file(&session);
    support::succeed(&mut brief_run(&[
        "--score".as_ref(),
        s1.as_os_str(),
        "--session".as_ref(),
        session.as_os_str(),
    ]));
    let render = |args: &[&Path], name: &str| {
        let wav = scratch(name);
        let mut cmd = chronus();
        cmd.args(["render", "--seconds", "1.5", "--out"]).arg(&wav);
        for pair in args.chunks(2) {
            cmd.arg(pair[0]).arg(pair[1]);
        }
        support::succeed(&mut cmd);
        std::fs::read(&wav).unwrap()
    };
    let whole = render(&[Path::new("--score"), &a], "whole.wav");
    let resumed = render(
        &[Path::new("--session"), &session, Path::new("--score"), &b],
        "resumed.wav",
    );
    assert!(whole.len() > 100_000);
    assert!(whole == resumed, "the render from the session differs");
}

#[test]
fn sessions_saved_and_loaded_over_osc_bring_back_the_state_and_the_sound() {
    let dir = scratch("sessions");
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let wav = scratch("osc-load.wav");
    let (child, _) = support::start_run(
        chronus()
            .args(["run", "--backend", "null", "--seconds", "2.5", "--sessions"])
            .arg(&dir)
            .args(["--osc", &format!("127.0.0.1:{port}"), "--record"])
            .arg(&wav)
            .stderr(Stdio::piped()),
    );
    // A state: a module, a value, a held note; saved.
    ask(port, &["/patch/create", "op", "osc", ",", "/patch/commit"]);
    ask(
        port,
        &[
            "/mod/filter/cutoff",
            "2500",
            ",",
            "/mod/adsr/sustain",
            "1",
            ",",
            "/note/on",
            "E4",
            "0.9",
            ",",
            "/get",
            "filter",
            "cutoff",
        ],
    );
    let saved = ask(port, &["/state/save", "take1"]);
    assert!(saved.contains("/state/saved take1"), "{saved}");
    assert!(ask(port, &["/state/list"]).contains("take1"));
    // Another state: the note released, the value moved, an instrument made, the module gone.
    ask(
        port,
        &[
            "/note/off",
            ",",
            "/mod/filter/cutoff",
            "800",
            ",",
            "/inst/new",
            "lead",
            "osc > adsr",
        ],
    );
    ask(port, &["/patch/remove", "op", ",", "/patch/commit"]);
    // Back to the saved one, at one block.
    let loaded = ask(port, &["/state/load", "take1"]);
    assert!(loaded.contains("/state/loaded take1"), "{loaded}");
    assert!(ask(port, &["/get", "filter", "cutoff"]).contains("2500"));
    let modules = ask(port, &["/modules"]);
    assert!(
        modules.contains("op") && !modules.contains("lead"),
        "{modules}"
    );
    // Names stay in the folder; a missing one is an error that names it.
    let escape = ask_refused(port, &["/state/save", "../escape"]);
    assert!(escape.contains("not a plain file name"), "{escape}");
    let missing = ask_refused(port, &["/state/load", "nosuch"]);
    assert!(missing.contains("no session"), "{missing}");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The held note sounds again after the load, by itself.
    let mid = support::read_mid(&wav);
    let tail = &mid[mid.len() - 19_200..];
    let held = analysis::amplitude_at(tail, 329.628, 48_000.0);
    println!("after /state/load: the held E4 at {held:.3}");
    assert!(held > 0.1, "the held note sounds again: {held}");
}
