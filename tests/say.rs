//! End-to-end: `chronus say "play A4"` against a running `chronus run --backend null --record`
//! yields 440 Hz in the recording.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn say_play_a4_is_heard_at_440_hz() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let wav = std::env::temp_dir().join(format!("chronus-say-{}.wav", std::process::id()));
    let mut run = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args([
            "run",
            "--backend",
            "null",
            "--seconds",
            "2.5",
            "--lookahead",
            "8",
            "--record",
        ])
        .arg(&wav)
        .args(["--osc", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(run.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("OSC on"), "{line}");
    let said = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--port", &port.to_string(), "play A4, much brighter"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&said.stdout);
    assert!(
        said.status.success() && text.contains("/mod/sine/freq 440"),
        "{text}"
    );
    assert!(run.wait().unwrap().success());
    let s: Vec<f32> = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect();
    let first = s
        .iter()
        .position(|x| x.abs() > 0.01)
        .expect("the note sounds");
    let f =
        chronus_dsp::analysis::zero_crossing_frequency(&s[first + 4_800..first + 52_800], 48_000.0)
            .unwrap();
    println!("chronus say \"play A4\": {f:.3} Hz in the recording");
    assert!((f - 440.0).abs() < 0.05, "{f}");
}

#[test]
fn say_explains_what_it_did_not_understand() {
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run", "brightr"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("did you mean 'brighter'"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["say", "--dry-run"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"play C4\nplay the fifth\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/mod/sine/freq 261.6") && text.contains("/mod/sine/freq 391.99"),
        "{text}"
    );
}
