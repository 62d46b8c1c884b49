//! End-to-end: `chronus say "play A4"` against a running `chronus run --backend null --record`
//! yields 440 Hz in the recording.

use std::process::{Command, Stdio};

mod support;

/// Starts `chronus run --backend null --record` for `seconds`, says `phrase` to it, and
/// returns what `say` printed and the recording.
fn say_and_record(phrase: &str, seconds: &str, tag: &str) -> (String, Vec<f32>) {
    let port = support::free_port();
    let wav = support::scratch("say", &format!("{tag}.wav"));
    let (mut run, line) = support::start_run(
        support::chronus()
            .args(["run", "--backend", "null", "--seconds", seconds])
            .args(["--lookahead", "8", "--record"])
            .arg(&wav)
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null()),
    );
    assert!(line.contains("OSC on"), "{line}");
    let said = support::chronus()
        .args(["say", "--port", &port.to_string(), phrase])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&said.stdout).into_owned();
    assert!(
        said.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&said.stderr)
    );
    assert!(run.wait().unwrap().success());
    (text, support::read_mid(&wav))
}

/// One second of the recording, starting 0.1 s after the first sound.
fn first_second(s: &[f32]) -> &[f32] {
    let first = s
        .iter()
        .position(|x| x.abs() > 0.01)
        .expect("the note sounds");
    &s[first + 4_800..first + 52_800]
}

#[test]
fn say_play_a4_is_heard_at_440_hz() {
    let (text, s) = say_and_record("play A4, much brighter", "2.5", "a4");
    assert!(text.contains("/mod/sine/freq 440"), "{text}");
    let f = chronus_dsp::analysis::zero_crossing_frequency(first_second(&s), 48_000.0).unwrap();
    println!("chronus say \"play A4\": {f:.3} Hz in the recording");
    assert!((f - 440.0).abs() < 0.05, "{f}");
}

#[test]
fn say_a_chord_plays_three_notes_and_all_three_sound() {
    let (text, s) = say_and_record("play a C major chord", "3", "chord");
    assert!(text.contains("/note/on 67 0.333"), "{text}");
    let window = first_second(&s);
    let level = |f: f64| chronus_dsp::analysis::amplitude_at(window, f, 48_000.0);
    let (c, e, g, a) = (level(261.626), level(329.628), level(391.995), level(440.0));
    println!("C4 {c:.4}  E4 {e:.4}  G4 {g:.4}  (A4, not played: {a:.5})");
    for (name, l) in [("C4", c), ("E4", e), ("G4", g)] {
        assert!(l > 0.05, "{name} is missing: {l}");
        assert!(l > 20.0 * a, "{name} stands out of the rest: {l} vs {a}");
    }
    // Three voices at velocity 1/3 of the template's gain (0.5) at the envelope's sustain
    // (0.7): 0.117, less what the 1 kHz lowpass takes (under 0.2 dB this far below its
    // cutoff).
    for l in [c, e, g] {
        assert!((l - 0.5 / 3.0 * 0.7).abs() < 0.004, "levels {c} {e} {g}");
    }
}

/// `chronus say --dry-run` reading `input` from a pipe, one phrase a line.
fn say_piped(input: &[u8]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(input)?;
            c.wait_with_output()
        })
        .unwrap()
}

#[test]
fn say_explains_what_it_did_not_understand() {
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run", "brightr"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Explained, and the exit status says so (scripts notice): 1.
    assert!(
        out.status.code() == Some(1) && err.contains("did you mean 'brighter'"),
        "{:?} {err}",
        out.status
    );
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run", "blorp the zoink"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // Ambiguity is said, not guessed: nothing planned, the readings named, exit 1.
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run", "higher"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(1) && err.contains("up an octave") && out.stdout.is_empty(),
        "{out:?}"
    );
    let out = say_piped(b"play C4\nplay the fifth\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("/mod/sine/freq 261.6")
            && text.contains("/mod/sine/freq 391.99"),
        "{:?} {text}",
        out.status
    );
    // From a pipe, a line not understood: the others are played, the status is 1.
    let out = say_piped(b"play C4\nblorp\nplay E4\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(1)
            && text.contains("/mod/sine/freq 261.6")
            && text.contains("/mod/sine/freq 329.6")
            && String::from_utf8_lossy(&out.stderr).contains("1 phrase(s) not understood"),
        "{out:?}"
    );
}

/// What a terminal has shown, read as it comes.
struct Screen<R> {
    out: R,
    seen: String,
    /// Where the next wait starts looking.
    pos: usize,
}

impl<R: std::io::Read> Screen<R> {
    /// Reads until `what` appears after the last match; returns what was shown up to it.
    fn wait_for(&mut self, what: &str) -> String {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(i) = self.seen[self.pos..].find(what) {
                let end = self.pos + i + what.len();
                let shown = self.seen[self.pos..end].to_owned();
                self.pos = end;
                return shown;
            }
            match self.out.read(&mut buf) {
                Ok(0) | Err(_) => {
                    panic!("the terminal closed before showing {what:?}: {}", self.seen)
                }
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    }
}

#[test]
fn the_prompt_edits_lines_and_keeps_a_history() {
    // A real terminal (util-linux `script` gives the prompt a pty). Each line is typed only
    // once the prompt is back, as a person would.
    use std::io::Write;
    let state = support::scratch("say", "state");
    let _ = std::fs::remove_dir_all(&state);
    let mut term = Command::new("script")
        .args([
            "-qec",
            &format!("{} say --dry-run", env!("CARGO_BIN_EXE_chronus")),
            "/dev/null",
        ])
        .env("XDG_STATE_HOME", &state)
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the prompt in a pseudo-terminal");
    let mut input = term.stdin.take().unwrap();
    let mut screen = Screen {
        out: term.stdout.take().unwrap(),
        seen: String::new(),
        pos: 0,
    };
    // A bound, not a clock: if the prompt never comes, the terminal is closed after 30 s and
    // the wait below fails instead of hanging.
    let pid = term.id() as i32;
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        // SAFETY: a signal to the `script` process this test started (harmless if gone).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    screen.wait_for("chronus> ");
    // A typo mended with the line editor: backspace over "x", then the rest.
    input.write_all(b"play C4x\x7f\r").unwrap();
    let shown = screen.wait_for("gate on");
    assert!(shown.contains("/mod/sine/freq 261.626"), "{shown}");
    screen.wait_for("chronus> ");
    input.write_all(b"up a fifth\r").unwrap();
    let shown = screen.wait_for("semitones");
    assert!(shown.contains("/mod/sine/freq 391.995"), "G4: {shown}");
    screen.wait_for("chronus> ");
    // Arrow up recalls "up a fifth": D5 now.
    input.write_all(b"\x1b[A\r").unwrap();
    let shown = screen.wait_for("semitones");
    assert!(shown.contains("/mod/sine/freq 587.33"), "D5: {shown}");
    screen.wait_for("chronus> ");
    input.write_all(b"\x04").unwrap();
    assert!(term.wait().unwrap().success());
    let history = std::fs::read_to_string(state.join("chronus/say_history")).unwrap();
    assert!(
        history.contains("play C4\n") && history.contains("up a fifth"),
        "{history}"
    );
}

/// Plain speech, as people type it, against a running chronus: the note is heard at its
/// pitch, and a question is answered from the server (`/get`), not from what `say` sent.
#[test]
fn say_understands_plain_speech_and_answers_from_the_server() {
    let (text, s) = say_and_record(
        "could you play E flat 4, a bit brighter please",
        "2.5",
        "plain",
    );
    assert!(text.contains("/mod/filter/cutoff"), "{text}");
    let f = chronus_dsp::analysis::zero_crossing_frequency(first_second(&s), 48_000.0).unwrap();
    println!("chronus say \"could you play E flat 4\": {f:.3} Hz in the recording");
    assert!((f - 311.127).abs() < 0.05, "{f}");

    let port = support::free_port();
    let (mut run, line) = support::start_run(
        support::chronus()
            .args(["run", "--backend", "null", "--seconds", "30"])
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null()),
    );
    assert!(line.contains("OSC on"), "{line}");
    let port = port.to_string();
    // Another client sets C5; `say` has sent nothing.
    let sent = support::chronus()
        .args(["send", "--port", &port, "/mod/sine/freq", "523.2511"])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    let asked = support::chronus()
        .args(["say", "--port", &port, "what note is that?"])
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&asked.stdout);
    assert!(asked.status.success(), "{asked:?}");
    println!("chronus say \"what note is that?\": {answer}");
    assert!(answer.contains("C5"), "{answer}");
    let asked = support::chronus()
        .args(["say", "--port", &port, "how loud is it"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&asked.stdout).contains("0.50"),
        "{asked:?}"
    );
    let _ = run.kill();
    let _ = run.wait();
}
